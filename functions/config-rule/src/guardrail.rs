//! The scheduled run's account evaluation (`GuardrailCoverage`): whether the SCPs in force on the
//! account stop sharing outside the organization, reported to Config as one `AWS::::Account`
//! evaluation beside the shares'.

use std::time::Duration;

use aws_smithy_types::DateTime;
use ramguard_aws::config as config_api;
use ramguard_aws::scps::ScpReader;
use ramguard_core::guardrail::{coverage, outsider, AccountCoverage};
use ramguard_core::{OrgSnapshot, Parameters};
use tracing::{info, warn};

use crate::error::RuleError;

/// What the account evaluation needs: the function's Organizations client and what it has read.
pub(crate) struct GuardrailCheck<'a> {
    pub(crate) organizations: &'a aws_sdk_organizations::Client,
    pub(crate) scps: &'a ScpReader,
    pub(crate) config: &'a aws_sdk_config::Client,
    pub(crate) token: &'a str,
    pub(crate) region: &'a str,
}

impl GuardrailCheck<'_> {
    /// Judges the account's coverage and reports it; returns it with the PutEvaluations calls
    /// made. An unreadable SCP fails the invocation (`GuardrailUnreadable`) after the shares'
    /// evaluations went out: the account's earlier evaluation is never left looking current.
    pub(crate) async fn report(
        &self,
        account: &str,
        org: &OrgSnapshot,
        params: &Parameters,
        ordering: DateTime,
    ) -> Result<(AccountCoverage, usize), RuleError> {
        let ttl = Duration::from_secs(params.org_cache_ttl_seconds);
        let scps = self
            .scps
            .for_account(self.organizations, account, ttl)
            .await
            .map_err(|source| RuleError::Guardrail {
                account: account.to_string(),
                source,
            })?;
        let judged = coverage(
            account,
            org,
            scps.scps_enabled,
            &scps.path,
            self.region,
            &outsider(org, &params.trusted_account_ids),
        );
        let annotation = judged.annotation();
        let compliance = judged.state.compliance();
        if compliance == ramguard_core::Compliance::NonCompliant {
            warn!(account = %account, coverage = judged.state.as_str(), annotation = %annotation, "the account's SCPs do not stop sharing outside the organization");
        } else {
            info!(account = %account, coverage = judged.state.as_str(), annotation = %annotation, "guardrail coverage judged");
        }
        for policy in &judged.unreadable_policies {
            warn!(account = %account, policy_id = %policy, "an SCP on the account's path is not a policy ramguard can read; it is taken to deny nothing");
        }
        let calls = config_api::put_account_evaluation(
            self.config,
            self.token,
            account,
            compliance,
            &annotation,
            ordering,
        )
        .await?;
        Ok((judged, calls))
    }
}
