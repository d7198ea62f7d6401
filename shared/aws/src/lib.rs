//! ramguard's AWS edge: thin adapters that turn SDK calls into the core's plain types
//! (`ramguard-core`), credentials for member accounts, call counting, the classes of AWS errors,
//! metrics and logs.

pub mod baseline;
pub mod calls;
pub mod config;
pub mod credentials;
pub mod failure;
pub mod logging;
pub mod metrics;
pub mod organizations;
pub mod ram;
pub mod scps;
pub mod securityhub;
pub mod sqs;

use aws_sdk_ram::error::ProvideErrorMetadata;
use aws_smithy_types::error::display::DisplayErrorContext;

/// A failed AWS call, with the operation and the service's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation} failed{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    pub fn from_sdk<E>(operation: &'static str, err: E) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // the service's own message; without one (a dispatch or timeout failure), the error chain
        // as text, never the SDK's debug dump; bounded either way
        let message = match err.message() {
            Some(m) => m.to_string(),
            None => DisplayErrorContext(&err).to_string(),
        };
        let message = ramguard_core::bounded(&message, 300);
        AwsError {
            operation,
            code: err.code().map(str::to_string),
            message,
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Collects a paginator's items, failing with the operation's name.
macro_rules! collect_pages {
    ($op:expr, $paginator:expr, $field:ident) => {{
        let mut stream = $paginator.send();
        let mut items = Vec::new();
        while let Some(page) = stream.next().await {
            let page = page.map_err(|e| $crate::AwsError::from_sdk($op, e))?;
            items.extend(page.$field.unwrap_or_default());
        }
        Ok::<_, $crate::AwsError>(items)
    }};
}
pub(crate) use collect_pages;

/// The retry policy of every ramguard client: more patient than the SDK's default
/// (Organizations and RAM throttle without published quotas): six attempts, backoff up to eight
/// seconds, in the adaptive mode, where a throttled client also slows its own rate of calls
/// (what a sweep with several calls in flight needs).
pub fn retry_config() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::adaptive()
        .with_max_attempts(6)
        .with_max_backoff(std::time::Duration::from_secs(8))
}

/// The SDK configuration every ramguard function starts from: the Lambda environment's
/// credentials and Region, and [`retry_config`].
pub async fn lambda_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await
}

/// An environment variable's value, when set and not blank.
pub fn env_text(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// The function's own account: `RAMGUARD_ACCOUNT_ID` when set, else the invoked function ARN's.
pub fn own_account(invoked_function_arn: &str) -> String {
    env_text("RAMGUARD_ACCOUNT_ID").unwrap_or_else(|| {
        invoked_function_arn
            .split(':')
            .nth(4)
            .unwrap_or_default()
            .to_string()
    })
}

/// `shared/iam-actions.json`: the AWS actions each function's code calls, the one list the
/// functions' tests and the template's least-privilege test check against.
pub const IAM_ACTIONS_JSON: &str = include_str!("../../iam-actions.json");

/// The IAM actions (`service:Operation`) the code of `function` calls.
pub fn iam_actions(function: &str) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(IAM_ACTIONS_JSON).expect("iam-actions.json is JSON");
    doc["functions"][function]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
