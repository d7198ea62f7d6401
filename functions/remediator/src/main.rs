//! Lambda entry point: wires clients once and hands the remediator to the runtime.

use std::sync::Arc;

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use ramguard_remediator::{Remediator, Settings};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    ramguard::logging::init();
    let settings = Settings::from_env().map_err(|e| format!("configuration: {e}"))?;
    tracing::info!(
        mode = settings.mode.as_str(),
        max_principals_per_run = settings.max_principals_per_run,
        restrict_share = settings.restrict_share,
        "remediator configured"
    );
    let config = ramguard::aws::lambda_sdk_config().await;
    let remediator = Arc::new(Remediator::new(config, settings));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let remediator = remediator.clone();
        async move {
            let account = ramguard::aws::own_account(&event.context.invoked_function_arn);
            let started = std::time::Instant::now();
            let calls_before = ramguard::aws::calls::counts();
            match remediator.handle(event.payload, &account).await {
                Ok(report) => {
                    ramguard_remediator::metrics(&report, started.elapsed().as_millis() as u64)
                        .aws_calls_since(calls_before)
                        .emit();
                    Ok(serde_json::to_value(report).map_err(|e| Diagnostic {
                        error_type: "Internal".into(),
                        error_message: format!("the result could not be serialized: {e}"),
                    })?)
                }
                Err(err) => {
                    let (error_type, error_message) =
                        ramguard::failure::report("remediator", err.error_type(), &err.to_string());
                    Err(Diagnostic {
                        error_type,
                        error_message,
                    })
                }
            }
        }
    }))
    .await
}
