//! Lambda entry point: wires clients once and hands the handler to the runtime.

use std::sync::Arc;

use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use ramguard::Parameters;
use ramguard_config_rule::RuleHandler;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    ramguard::logging::init();
    let env_parameters = Parameters::from_env().map_err(|e| format!("configuration: {e}"))?;
    let config = ramguard::aws::lambda_sdk_config().await;
    let sweep_concurrency = ramguard_config_rule::sweep_concurrency(
        ramguard::aws::env_text("SWEEP_CONCURRENCY").as_deref(),
    )
    .map_err(|e| format!("configuration: {e}"))?;
    let mut handler = RuleHandler::new(
        config,
        ramguard::aws::env_text("CONFIG_RULE_NAME"),
        env_parameters,
    );
    handler.sweep_concurrency = sweep_concurrency;
    handler.deferral.queue_url = ramguard::aws::env_text("DEFERRED_EVALUATIONS_QUEUE_URL");
    handler.deferral.window_seconds = ramguard::deferral::window_seconds(
        ramguard::aws::env_text("DEFERRED_EVALUATION_SECONDS").as_deref(),
    )
    .map_err(|e| format!("configuration: {e}"))?;
    let handler = Arc::new(handler);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            let account = ramguard::aws::own_account(&event.context.invoked_function_arn);
            let started = std::time::Instant::now();
            let calls_before = ramguard::aws::calls::counts();
            match handler.handle(event.payload, &account).await {
                Ok(outcome) => {
                    ramguard_config_rule::metrics(&outcome, started.elapsed().as_millis() as u64)
                        .aws_calls_since(calls_before)
                        .emit();
                    Ok(serde_json::to_value(outcome).map_err(|e| Diagnostic {
                        error_type: "Internal".into(),
                        error_message: format!("the result could not be serialized: {e}"),
                    })?)
                }
                Err(err) => {
                    let (error_type, error_message) = ramguard::failure::report(
                        "config-rule",
                        err.error_type(),
                        &err.to_string(),
                    );
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
