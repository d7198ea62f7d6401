//! Lambda entry point: wires clients once and hands the importer to the runtime.

use std::sync::Arc;

use lambda_runtime::{service_fn, Error, LambdaEvent};
use ramguard::Parameters;
use ramguard_findings_importer::Importer;
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    ramguard::logging::init();
    let parameters = Parameters::from_env().map_err(|e| format!("configuration: {e}"))?;
    let config = ramguard::aws::lambda_sdk_config().await;
    let importer = Arc::new(Importer::new(
        config,
        ramguard::aws::env_text("CONFIG_RULE_NAME"),
        parameters,
    ));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let importer = importer.clone();
        async move {
            let account = ramguard::aws::own_account(&event.context.invoked_function_arn);
            match importer.handle(event.payload, &account).await {
                Ok(outcome) => Ok(serde_json::to_value(outcome)?),
                Err(err) => {
                    tracing::error!(error = %err, "invocation failed; EventBridge retries it, then the dead-letter queue keeps it");
                    Err(Error::from(err.to_string()))
                }
            }
        }
    }))
    .await
}
