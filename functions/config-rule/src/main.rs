//! Lambda entry point: wires clients once and hands the handler to the runtime.

use std::sync::Arc;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::BehaviorVersion;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use ramguard::Parameters;
use ramguard_config_rule::RuleHandler;
use serde_json::Value;

/// The account of the invoked function (from its ARN), unless RAMGUARD_ACCOUNT_ID says otherwise.
fn own_account(ctx: &lambda_runtime::Context) -> String {
    std::env::var("RAMGUARD_ACCOUNT_ID")
        .ok()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| {
            ctx.invoked_function_arn
                .split(':')
                .nth(4)
                .unwrap_or_default()
                .to_string()
        })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    ramguard::logging::init();
    let env_parameters = Parameters::from_env().map_err(|e| format!("configuration: {e}"))?;
    // Organizations throttles hard: more attempts, longer backoff than the SDK's default.
    let config = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(6)
                .with_max_backoff(Duration::from_secs(8)),
        )
        .load()
        .await;
    let handler = Arc::new(RuleHandler::new(
        config,
        std::env::var("CONFIG_RULE_NAME")
            .ok()
            .filter(|n| !n.is_empty()),
        env_parameters,
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        async move {
            let account = own_account(&event.context);
            match handler.handle(event.payload, &account).await {
                Ok(outcome) => Ok(serde_json::to_value(outcome)?),
                Err(err) => {
                    tracing::error!(error = %err, "invocation failed; nothing was reported to AWS Config");
                    Err(Error::from(err.to_string()))
                }
            }
        }
    }))
    .await
}
