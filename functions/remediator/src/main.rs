//! Lambda entry point: the remediator, built once from the environment, run by ramguard's one
//! entry point.

use std::sync::Arc;

use ramguard_remediator::Remediator;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ramguard_lambda::Error> {
    ramguard_aws::logging::init();
    let remediator = Arc::new(Remediator::from_env(
        ramguard_aws::lambda_sdk_config().await,
    )?);
    ramguard_lambda::run("remediator", move |event, account| {
        let remediator = remediator.clone();
        async move { remediator.handle(event, &account).await }
    })
    .await
}
