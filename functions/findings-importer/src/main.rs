//! Lambda entry point: the importer, built once from the environment, run by ramguard's one
//! entry point.

use std::sync::Arc;

use ramguard_findings_importer::Importer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), ramguard_lambda::Error> {
    ramguard_aws::logging::init();
    let importer = Arc::new(Importer::from_env(ramguard_aws::lambda_sdk_config().await)?);
    ramguard_lambda::run("findings-importer", move |event, account| {
        let importer = importer.clone();
        async move { importer.handle(event, &account).await }
    })
    .await
}
