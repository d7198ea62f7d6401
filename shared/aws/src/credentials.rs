//! Org-wide mode: acting in a member account through a role assumed there.

use aws_config::SdkConfig;

use ramguard_core::OrgSnapshot;

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

/// Why ramguard cannot act in an account an event names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountAccess {
    #[error(transparent)]
    NoExecutionRole(#[from] NoExecutionRole),
    /// The account is not a member of the organization: nothing is assumed or reported for it.
    #[error("account {account} is not a member of organization {org_id}; nothing was done for it")]
    NotAMember { account: String, org_id: String },
    /// STS refused the member role: the account is outside the member stack's target OUs, or the
    /// StackSet has not reached it yet. Retrying does not help; the next scheduled run will.
    #[error("member role {role_arn} cannot be assumed ({message}); the account is outside the member stack's organizational units or the StackSet has not reached it yet")]
    MemberRoleUnavailable {
        account: String,
        role_arn: String,
        message: String,
    },
    /// Getting the member role's credentials failed for another reason (throttling, network):
    /// worth retrying.
    #[error("assuming member role {role_arn} failed: {message}")]
    AssumeRoleFailed { role_arn: String, message: String },
}

/// Whether an error text from STS says the role cannot be assumed (AccessDenied: the role does
/// not exist or does not trust the caller). STS answers `AccessDenied` for both
/// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, Errors).
fn is_access_denied(text: &str) -> bool {
    text.contains("AccessDenied") || text.contains("not authorized to perform: sts:AssumeRole")
}

/// The most (account, Region) configurations an instance keeps. An organization rule hands one
/// instance invocations for thousands of member accounts; each kept configuration holds its
/// role's credentials provider and STS client, so an unbounded cache would grow with the
/// organization. Past this many, the oldest is dropped (and its role assumed again if needed).
pub const MAX_CACHED_ACCOUNTS: usize = 32;

type AccountKey = (String, String);

#[derive(Default)]
struct ConfigCache {
    configs: std::collections::HashMap<AccountKey, SdkConfig>,
    order: std::collections::VecDeque<AccountKey>,
}

impl ConfigCache {
    fn insert(&mut self, key: AccountKey, cfg: SdkConfig) {
        if self.configs.insert(key.clone(), cfg).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > MAX_CACHED_ACCOUNTS {
            if let Some(oldest) = self.order.pop_front() {
                self.configs.remove(&oldest);
            }
        }
    }
}

/// SDK configurations per (account, Region): the function's own for its account, an assumed
/// member role's for any other, built once per warm instance (the role provider refreshes its
/// credentials) and kept for the [`MAX_CACHED_ACCOUNTS`] most recently added.
pub struct AccountConfigs {
    base: SdkConfig,
    session_name: &'static str,
    cache: std::sync::Mutex<ConfigCache>,
}

impl AccountConfigs {
    pub fn new(base: SdkConfig, session_name: &'static str) -> AccountConfigs {
        AccountConfigs {
            base,
            session_name,
            cache: Default::default(),
        }
    }

    /// How many configurations are kept.
    pub fn cached(&self) -> usize {
        self.cache.lock().expect("account configs").configs.len()
    }

    /// The configuration acting in `account` and `region` (None: the function's own Region).
    /// Another account must be a member of `org`; its member role is assumed once here, so a
    /// missing role is known before any call is made with it.
    pub async fn for_account(
        &self,
        account: &str,
        own_account: &str,
        org: &OrgSnapshot,
        role_name: Option<&str>,
        region: Option<&str>,
    ) -> Result<SdkConfig, AccountAccess> {
        let region = region
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .or_else(|| self.base.region().map(|r| r.to_string()))
            .unwrap_or_default();
        if account != own_account && !org.is_member(account) {
            return Err(AccountAccess::NotAMember {
                account: account.to_string(),
                org_id: org.org_id.clone(),
            });
        }
        let key = (account.to_string(), region.clone());
        if let Some(cfg) = self
            .cache
            .lock()
            .expect("account configs")
            .configs
            .get(&key)
        {
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
            let arn = member_role_arn(org.partition(), account, role);
            let cfg = in_region(assume_role(&self.base, &arn, self.session_name).await);
            let cfg = check_credentials(cfg, account, &arn).await?;
            tracing::info!(account = %account, role = %arn, "acting in member account through its role");
            cfg
        };
        self.cache
            .lock()
            .expect("account configs")
            .insert(key, cfg.clone());
        Ok(cfg)
    }
}

/// Loads the configuration's credentials once, turning STS's refusal into
/// [`AccountAccess::MemberRoleUnavailable`]; the configuration returned hands those credentials
/// to its first use, so the check costs no second AssumeRole.
async fn check_credentials(
    cfg: SdkConfig,
    account: &str,
    role_arn: &str,
) -> Result<SdkConfig, AccountAccess> {
    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
    let Some(provider) = cfg.credentials_provider() else {
        return Ok(cfg);
    };
    match provider.provide_credentials().await {
        Ok(first) => Ok(cfg
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(Primed {
                first: std::sync::Mutex::new(Some(first)),
                inner: provider,
            }))
            .build()),
        Err(e) => {
            let text = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
            let message: String = text.chars().take(300).collect();
            if is_access_denied(&text) {
                Err(AccountAccess::MemberRoleUnavailable {
                    account: account.to_string(),
                    role_arn: role_arn.to_string(),
                    message,
                })
            } else {
                Err(AccountAccess::AssumeRoleFailed {
                    role_arn: role_arn.to_string(),
                    message,
                })
            }
        }
    }
}

/// A provider that answers once with credentials already fetched, then asks `inner` (the
/// SDK's identity cache keeps them until they near expiry).
#[derive(Debug)]
struct Primed {
    first: std::sync::Mutex<Option<aws_credential_types::Credentials>>,
    inner: aws_credential_types::provider::SharedCredentialsProvider,
}

impl aws_credential_types::provider::ProvideCredentials for Primed {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        if let Some(first) = self.first.lock().expect("primed credentials").take() {
            return aws_credential_types::provider::future::ProvideCredentials::ready(Ok(first));
        }
        self.inner.provide_credentials()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_most_recent_accounts_only() {
        let mut cache = ConfigCache::default();
        for i in 0..(MAX_CACHED_ACCOUNTS + 10) {
            cache.insert(
                (format!("{i:012}"), "us-east-1".into()),
                SdkConfig::builder().build(),
            );
        }
        // the same key again neither grows the cache nor evicts anything
        let last = (
            format!("{:012}", MAX_CACHED_ACCOUNTS + 9),
            "us-east-1".to_string(),
        );
        cache.insert(last.clone(), SdkConfig::builder().build());
        assert_eq!(cache.configs.len(), MAX_CACHED_ACCOUNTS);
        assert_eq!(cache.order.len(), MAX_CACHED_ACCOUNTS);
        assert!(cache.configs.contains_key(&last));
        assert!(!cache
            .configs
            .contains_key(&(format!("{:012}", 9), "us-east-1".into())));
        assert!(cache
            .configs
            .contains_key(&(format!("{:012}", 10), "us-east-1".into())));
    }

    #[test]
    fn access_denied_is_told_apart_from_other_failures() {
        assert!(is_access_denied(
            "service error: AccessDenied: User: arn:aws:sts::1:assumed-role/x/y is not authorized"
        ));
        assert!(!is_access_denied("dispatch failure: connection refused"));
        assert!(!is_access_denied("Throttling: Rate exceeded"));
    }
}
