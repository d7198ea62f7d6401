//! Lambda entry point: the rule's handler, built once from the environment, run by ramguard's
//! one entry point.

use std::sync::Arc;

use ramguard_config_rule::RuleHandler;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ramguard_lambda::Error> {
    ramguard_aws::logging::init();
    let handler = Arc::new(RuleHandler::from_env(
        ramguard_aws::lambda_sdk_config().await,
    )?);
    ramguard_lambda::run("config-rule", move |event, account| {
        let handler = handler.clone();
        async move { handler.handle(event, &account).await }
    })
    .await
}
