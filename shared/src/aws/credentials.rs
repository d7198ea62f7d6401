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

/// A member account ramguard cannot act in: the event names another account and no member role
/// is configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("account {account} is not this function's account and ExecutionRoleName is not set")]
pub struct NoExecutionRole {
    pub account: String,
}

/// SDK configurations per (account, Region): the function's own for its account, an assumed
/// member role's for any other, built once per warm instance (the role provider refreshes its
/// credentials).
pub struct AccountConfigs {
    base: SdkConfig,
    session_name: &'static str,
    cache: std::sync::Mutex<std::collections::HashMap<(String, String), SdkConfig>>,
}

impl AccountConfigs {
    pub fn new(base: SdkConfig, session_name: &'static str) -> AccountConfigs {
        AccountConfigs {
            base,
            session_name,
            cache: Default::default(),
        }
    }

    /// The configuration acting in `account` and `region` (None: the function's own Region).
    pub async fn for_account(
        &self,
        account: &str,
        own_account: &str,
        partition: &str,
        role_name: Option<&str>,
        region: Option<&str>,
    ) -> Result<SdkConfig, NoExecutionRole> {
        let region = region
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .or_else(|| self.base.region().map(|r| r.to_string()))
            .unwrap_or_default();
        let key = (account.to_string(), region.clone());
        if let Some(cfg) = self.cache.lock().expect("account configs").get(&key) {
            return Ok(cfg.clone());
        }
        let in_region = |cfg: SdkConfig| {
            cfg.to_builder()
                .region(aws_config::Region::new(region.clone()))
                .build()
        };
        let cfg = if account == own_account {
            in_region(self.base.clone())
        } else {
            let role = role_name.ok_or_else(|| NoExecutionRole {
                account: account.to_string(),
            })?;
            let arn = member_role_arn(partition, account, role);
            tracing::info!(account = %account, role = %arn, "acting in member account through its role");
            in_region(assume_role(&self.base, &arn, self.session_name).await)
        };
        self.cache
            .lock()
            .expect("account configs")
            .insert(key, cfg.clone());
        Ok(cfg)
    }
}
