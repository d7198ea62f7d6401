//! An account's own evaluation (guardrail coverage) → its Security Hub finding: re-judge the
//! account from the SCPs in force now, then import the finding its coverage calls for or resolve
//! the earlier one.

use std::time::Duration;

use ramguard_aws::organizations::ram_sharing_enabled;
use ramguard_aws::securityhub as hub;
use ramguard_core::events::{ComplianceChange, ReportedCompliance};
use ramguard_core::finding::{self, FindingContext};
use ramguard_core::guardrail::{
    coverage, guardrail_finding, guardrail_resolution, outsider, AccountCoverage,
};
use tracing::{info, warn};

use crate::{now_millis, ImportError, ImportOutcome, Importer};

impl Importer {
    /// Reconciles an account's guardrail finding with its live coverage.
    pub(crate) async fn reconcile_account(
        &self,
        change: &ComplianceChange,
        own_account: &str,
    ) -> Result<ImportOutcome, ImportError> {
        let org = self.org().await?;
        let target = match self.target(change, own_account, &org).await? {
            Ok(target) => target,
            Err(skipped) => return Ok(skipped),
        };
        let live = self.coverage_now(change, &org).await?;
        // informative only: an unreadable answer leaves it out of the finding, said in the log
        let org_sharing = match ram_sharing_enabled(&self.organizations).await {
            Ok(enabled) => Some(enabled),
            Err(e) => {
                warn!(account = %change.account, error = %e, "whether RAM shares with the organization is unknown");
                None
            }
        };
        let ctx = FindingContext {
            partition: org.partition().to_string(),
            region: change.region.clone(),
            account: change.account.clone(),
            now: finding::format_millis(now_millis()),
        };
        let desired: Vec<_> = guardrail_finding(&live, &ctx, org_sharing)
            .into_iter()
            .collect();
        let securityhub = ramguard_aws::calls::securityhub(&target);
        let existing_sdk = Box::pin(hub::account_findings(&securityhub, &change.account)).await?;
        let existing: Vec<_> = existing_sdk.iter().map(hub::existing).collect();
        let plan = finding::reconcile(desired, &existing, &ctx.now);
        let mut outcome = ImportOutcome {
            account: change.account.clone(),
            event_compliance: Some(change.compliance),
            live_compliance: Some(live.state.compliance()),
            coverage: Some(live.state),
            ..Default::default()
        };
        let mut batch = Vec::new();
        for f in &plan.import {
            info!(account = %change.account, finding_id = %f.id, coverage = live.state.as_str(),
                severity = f.finding_provider_fields.severity.label.as_str(), "guardrail finding open");
            outcome.imported.push(f.id.clone());
            batch.push(hub::to_sdk(f));
        }
        for (id, updated_at) in &plan.resolve {
            let Some(prev) = existing.iter().find(|f| &f.id == id) else {
                continue;
            };
            info!(account = %change.account, finding_id = %id, "guardrail finding resolved: the account's SCPs stop sharing outside the organization");
            outcome.resolved.push(id.clone());
            batch.push(hub::to_sdk(&guardrail_resolution(
                prev,
                &change.account,
                &ctx,
                updated_at,
            )));
        }
        if batch.is_empty() {
            info!(account = %change.account, coverage = live.state.as_str(), "nothing to import");
            return Ok(outcome);
        }
        let report = Box::pin(hub::import(&securityhub, batch)).await?;
        outcome.batch_import_calls = report.calls;
        if !report.failed.is_empty() {
            return Err(ImportError::FailedFindings {
                resource: format!("account {}", change.account),
                failed: report.failed,
            });
        }
        Ok(outcome)
    }

    /// The account's coverage as the SCPs in force now give it (the live state wins over the
    /// event, as for shares).
    async fn coverage_now(
        &self,
        change: &ComplianceChange,
        org: &ramguard_core::OrgSnapshot,
    ) -> Result<AccountCoverage, ImportError> {
        let ttl = Duration::from_secs(self.params.org_cache_ttl_seconds);
        let scps = self
            .scps
            .for_account(&self.organizations, &change.account, ttl)
            .await
            .map_err(|source| ImportError::Guardrail {
                account: change.account.clone(),
                source,
            })?;
        let live = coverage(
            &change.account,
            org,
            scps.scps_enabled,
            &scps.path,
            &change.region,
            &outsider(org, &self.params.trusted_account_ids),
        );
        if ReportedCompliance::from(live.state.compliance()) != change.compliance {
            info!(account = %change.account, event_compliance = %change.compliance,
                live_compliance = live.state.compliance().as_str(),
                "the event and the live coverage disagree; the finding follows the live coverage");
        }
        Ok(live)
    }
}
