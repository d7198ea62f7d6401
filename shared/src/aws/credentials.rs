//! Org-wide mode: acting in a member account through a role assumed there.

use aws_config::SdkConfig;

/// The ARN of the member-account role ramguard assumes.
pub fn member_role_arn(partition: &str, account: &str, role_name: &str) -> String {
    format!("arn:{partition}:iam::{account}:role/{role_name}")
}

/// SDK configuration acting as `role_arn`, built on the function's own configuration.
pub async fn assume_role(base: &SdkConfig, role_arn: &str, session_name: &str) -> SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name(session_name)
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(provider),
        )
        .build()
}
