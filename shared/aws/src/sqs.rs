//! SQS: deferred evaluations onto their FIFO queue (see [`ramguard_core::deferral`]).

use crate::AwsError;
use ramguard_core::deferral::DeferredEvaluation;

/// Sends a deferred evaluation. A second one for the same group and window within SQS's
/// five-minute deduplication interval is accepted and not delivered.
pub async fn defer(
    client: &aws_sdk_sqs::Client,
    queue_url: &str,
    deferred: &DeferredEvaluation,
    now_secs: i64,
    window_secs: u64,
) -> Result<(), AwsError> {
    let body = serde_json::to_string(deferred).map_err(|e| AwsError {
        operation: "SendMessage",
        code: None,
        message: e.to_string(),
    })?;
    client
        .send_message()
        .queue_url(queue_url)
        .message_body(body)
        .message_group_id(deferred.group_id())
        .message_deduplication_id(deferred.deduplication_id(now_secs, window_secs))
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("SendMessage", e))?;
    Ok(())
}
