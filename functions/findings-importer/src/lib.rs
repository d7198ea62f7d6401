//! The ramguard findings importer: on each compliance change of the ramguard rule, it re-reads the
//! share, keeps one Security Hub finding per principal outside the organization, and resolves the
//! findings that no longer apply.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use ramguard_aws::credentials::{AccountAccess, AccountConfigs};
use ramguard_aws::failure::{self, ErrorType};
use ramguard_aws::organizations::OrgCache;
use ramguard_aws::securityhub::{self as hub, FailedFinding};
use ramguard_aws::{ram as ram_api, AwsError};
use ramguard_core::bounded;
use ramguard_core::events::ReportedCompliance;
use ramguard_core::events::{self, ComplianceChange, EventError, Incoming};
use ramguard_core::finding::{self, FindingContext};
use ramguard_core::{evaluate, Compliance, Parameters};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

mod baseline;
mod guardrail;

/// Why an invocation failed. EventBridge retries a failed invocation, then the dead-letter queue
/// keeps the event.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("cannot read the organization, so the share cannot be judged: {0}")]
    OrgSnapshot(AwsError),
    #[error(transparent)]
    Access(#[from] AccountAccess),
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("the sharing baseline cannot be used, so only the outside-the-organization findings were reconciled: {}", bounded(.0, 600))]
    BadBaseline(String),
    #[error("cannot read the SCPs in force on account {account}, so its guardrail finding cannot be judged: {source}")]
    Guardrail { account: String, source: AwsError },
    #[error("Security Hub did not take {} finding(s) of {resource}: {}", failed.len(), describe(failed))]
    FailedFindings {
        /// The share's ARN, or the account.
        resource: String,
        failed: Vec<FailedFinding>,
    },
}

impl ImportError {
    /// The failure class Lambda reports as `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            ImportError::BadEvent(_) => ErrorType::BadEvent,
            ImportError::OrgSnapshot(_) => ErrorType::OrganizationUnreadable,
            ImportError::Access(a) => failure::of_access(a),
            ImportError::Aws(e) => failure::of_aws(e),
            ImportError::FailedFindings { .. } => ErrorType::FindingsNotImported,
            ImportError::Guardrail { .. } => ErrorType::GuardrailUnreadable,
            ImportError::BadBaseline(_) => ErrorType::BadBaseline,
        }
    }
}

/// Each finding Security Hub did not take, with its reason: BatchImportFindings reports a
/// finding it refuses on its own (FailedFindings: ErrorCode and ErrorMessage, e.g. InvalidAccess
/// where Security Hub is not enabled), while a finding for another account than the caller's
/// fails the whole call (AccessDeniedException, an error of the invocation)
/// (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html).
fn describe(failed: &[FailedFinding]) -> String {
    failed
        .iter()
        .map(|f| format!("{} ({}: {})", f.id, f.code, bounded(&f.message, 120)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What an invocation did, returned as the Lambda's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportOutcome {
    /// Why the event was ignored, when it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub share_arn: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub account: String,
    /// The compliance the event reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_compliance: Option<ReportedCompliance>,
    /// The compliance of the share as read now (what the findings follow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_compliance: Option<Compliance>,
    /// Findings created or updated (open).
    pub imported: Vec<String>,
    /// Findings resolved (PASSED, ARCHIVED).
    pub resolved: Vec<String>,
    /// An account's guardrail coverage, for an account's own evaluation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage: Option<ramguard_core::guardrail::CoverageState>,
    pub batch_import_calls: usize,
    /// The account's member role could not be assumed (counted in `MemberRoleUnavailable`).
    #[serde(skip)]
    pub member_role_unavailable: bool,
}

/// The invocation's metrics: findings imported (open) and resolved.
pub fn metrics(outcome: &ImportOutcome, millis: u64) -> ramguard_aws::metrics::Invocation {
    ramguard_aws::metrics::Invocation::new("findings-importer")
        .property("account", &outcome.account)
        .property("share_arn", &outcome.share_arn)
        .count("FindingsImported", outcome.imported.len() as u64)
        .count("FindingsResolved", outcome.resolved.len() as u64)
        .count(
            "BatchImportFindingsCalls",
            outcome.batch_import_calls as u64,
        )
        .count(
            "MemberRoleUnavailable",
            u64::from(outcome.member_role_unavailable),
        )
        .millis("DurationMs", millis)
}

/// The importer's long-lived state: clients and caches built once per Lambda instance.
pub struct Importer {
    accounts: AccountConfigs,
    organizations: aws_sdk_organizations::Client,
    org_cache: OrgCache,
    scps: ramguard_aws::scps::ScpReader,
    baseline: ramguard_aws::baseline::BaselineReader,
    rule_name: Option<String>,
    params: Parameters,
}

fn now_millis() -> i64 {
    DateTime::from(std::time::SystemTime::now())
        .to_millis()
        .unwrap_or_default()
}

impl Importer {
    pub fn new(base: SdkConfig, rule_name: Option<String>, params: Parameters) -> Importer {
        Importer {
            organizations: ramguard_aws::calls::organizations(&base),
            org_cache: OrgCache::new(),
            scps: ramguard_aws::scps::ScpReader::new(),
            baseline: ramguard_aws::baseline::BaselineReader::new(
                ramguard_aws::baseline::BaselineStore::new(None, Duration::ZERO),
                &base,
            ),
            accounts: AccountConfigs::new(base, "ramguard-findings-importer"),
            rule_name,
            params,
        }
    }

    /// Handles one EventBridge event. `own_account` is the function's account: a share of
    /// another account is handled through the member role (org-wide mode).
    pub async fn handle(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<ImportOutcome, ImportError> {
        let ignored = |why: String| {
            info!(reason = %why, "event ignored");
            Ok(ImportOutcome {
                ignored: Some(why),
                ..Default::default()
            })
        };
        let change = match events::parse(&event)? {
            Incoming::ComplianceChange(c) => c,
            Incoming::CustomAction(_) => {
                return ignored("a Security Hub custom action is the remediator's event".into())
            }
            Incoming::Other {
                detail_type,
                source,
            } => {
                return ignored(format!(
                    "{detail_type:?} from {source:?} is not a compliance change"
                ))
            }
        };
        if !events::is_our_rule(&change.rule_name, self.rule_name.as_deref()) {
            return ignored(format!("rule {} is not ramguard's", change.rule_name));
        }
        if change.is_account() {
            return Box::pin(self.reconcile_account(&change, own_account)).await;
        }
        if !change.is_share() {
            return ignored(format!(
                "resource type {} is not a RAM share",
                change.resource_type
            ));
        }
        Box::pin(self.reconcile(&change, own_account)).await
    }

    /// Reconciles a share's findings with its live verdict: judge the share as it is now, read
    /// the findings Security Hub holds for it, import what is called for and resolve the rest.
    async fn reconcile(
        &self,
        change: &ComplianceChange,
        own_account: &str,
    ) -> Result<ImportOutcome, ImportError> {
        let org = self.org().await?;
        let target = match self.target(change, own_account, &org).await? {
            Ok(target) => target,
            Err(skipped) => return Ok(skipped),
        };
        let ram = ramguard_aws::calls::ram(&target);
        let securityhub = ramguard_aws::calls::securityhub(&target);
        let ctx = FindingContext {
            partition: change
                .share_arn
                .split(':')
                .nth(1)
                .unwrap_or("aws")
                .to_string(),
            region: change.region.clone(),
            account: change.account.clone(),
            now: finding::format_millis(now_millis()),
        };
        let state = self
            .baseline
            .state(
                &self.organizations,
                Duration::from_secs(self.params.org_cache_ttl_seconds),
            )
            .await;
        let (share, desired, live) = self.judge_live(&ram, change, &org, &ctx, &state).await?;
        let existing_sdk = Box::pin(hub::share_findings(&securityhub, &change.share_arn)).await?;
        let existing: Vec<_> = existing_sdk.iter().map(hub::existing).collect();
        let mut plan = finding::reconcile(desired, &existing, &ctx.now);
        let broken = match &state {
            ramguard_aws::baseline::BaselineState::Broken(why) => Some(why.clone()),
            _ => None,
        };
        if broken.is_some() {
            // what the baseline cannot judge now is not resolved
            plan.resolve
                .retain(|(id, _)| !baseline::is_baseline_finding(id));
        }
        let mut outcome = ImportOutcome {
            share_arn: change.share_arn.clone(),
            account: change.account.clone(),
            event_compliance: Some(change.compliance),
            live_compliance: Some(live),
            ..Default::default()
        };
        let name = share.as_ref().map(|s| s.name.as_str());
        let batch = batch_of(&plan, &existing, change, name, &ctx, &mut outcome);
        let result = if batch.is_empty() {
            info!(share_arn = %change.share_arn, already_resolved = plan.already_resolved, "nothing to import");
            Ok(outcome)
        } else {
            let report = Box::pin(hub::import(&securityhub, batch)).await?;
            imported(report, change, outcome)
        };
        match broken {
            Some(why) => result.and(Err(ImportError::BadBaseline(why))),
            None => result,
        }
    }

    /// The share as RAM holds it now, the findings its verdict calls for, and that verdict
    /// (NOT_APPLICABLE when the share is gone): the live share wins over the event.
    async fn judge_live(
        &self,
        ram: &aws_sdk_ram::Client,
        change: &ComplianceChange,
        org: &ramguard_core::OrgSnapshot,
        ctx: &FindingContext,
        state: &ramguard_aws::baseline::BaselineState,
    ) -> Result<
        (
            Option<ramguard_core::ResourceShare>,
            Vec<finding::Finding>,
            Compliance,
        ),
        ImportError,
    > {
        let share = Box::pin(ram_api::share(ram, &change.share_arn)).await?;
        let (desired, live) = match &share {
            None => (Vec::new(), Compliance::NotApplicable),
            Some(share) => {
                let now = now_millis() / 1000;
                let verdict = evaluate(share, org, &self.params, now);
                let (verdict, of_baseline) =
                    baseline::judged(state, ram, share, verdict, (org, &self.params), ctx, now)
                        .await?;
                let exposure = if verdict.compliance == Compliance::NonCompliant
                    && verdict.reason != ramguard_core::VerdictReason::Baseline
                {
                    Box::pin(ram_api::exposure(ram, &share.arn)).await?
                } else {
                    ramguard_core::Exposure::default()
                };
                let mut desired = finding::findings_for(share, &verdict, ctx, &exposure);
                desired.extend(of_baseline);
                (desired, verdict.compliance)
            }
        };
        if ReportedCompliance::from(live) != change.compliance {
            info!(
                share_arn = %change.share_arn,
                event_compliance = %change.compliance,
                live_compliance = live.as_str(),
                "the event and the live share disagree; findings follow the live share"
            );
        }
        Ok((share, desired, live))
    }
}

impl Importer {
    /// The importer with the sharing baseline of `store`.
    pub fn with_baseline(mut self, store: ramguard_aws::baseline::BaselineStore) -> Importer {
        self.baseline.store = store;
        self
    }

    /// The organization snapshot (cached for `OrgCacheTtlSeconds`).
    async fn org(&self) -> Result<std::sync::Arc<ramguard_core::OrgSnapshot>, ImportError> {
        Box::pin(self.org_cache.get(
            &self.organizations,
            Duration::from_secs(self.params.org_cache_ttl_seconds),
        ))
        .await
        .map_err(ImportError::OrgSnapshot)
    }

    /// The SDK configuration for the change's account, or the outcome of an account whose member
    /// role is not there yet (nothing imported; counted in `MemberRoleUnavailable`).
    async fn target(
        &self,
        change: &ComplianceChange,
        own_account: &str,
        org: &ramguard_core::OrgSnapshot,
    ) -> Result<Result<SdkConfig, ImportOutcome>, ImportError> {
        match self
            .accounts
            .for_account(
                &change.account,
                own_account,
                org,
                self.params.execution_role_name.as_deref(),
                Some(&change.region),
            )
            .await
        {
            Ok(target) => Ok(Ok(target)),
            Err(AccountAccess::MemberRoleUnavailable {
                account, role_arn, ..
            }) => {
                warn!(account = %account, role = %role_arn, share_arn = %change.share_arn,
                    "member role unavailable; no finding imported for this account");
                Ok(Err(ImportOutcome {
                    member_role_unavailable: true,
                    ignored: Some(format!("member role {role_arn} unavailable")),
                    share_arn: change.share_arn.clone(),
                    account,
                    ..Default::default()
                }))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The importer as Lambda runs it, from the environment: `CONFIG_RULE_NAME` and the rule
    /// parameters. An invalid value stops the function at start, naming the variable.
    pub fn from_env(base: SdkConfig) -> Result<Importer, ramguard_lambda::Configuration> {
        let params =
            Parameters::from_env().map_err(|e| ramguard_lambda::Configuration(e.to_string()))?;
        let store = ramguard_aws::baseline::BaselineStore::from_env()
            .map_err(ramguard_lambda::Configuration)?;
        Ok(
            Importer::new(base, ramguard_aws::env_text("CONFIG_RULE_NAME"), params)
                .with_baseline(store),
        )
    }
}

impl ramguard_lambda::Outcome for ImportOutcome {
    fn metrics(&self, millis: u64) -> ramguard_aws::metrics::Invocation {
        metrics(self, millis)
    }
}

impl ramguard_lambda::Failure for ImportError {
    fn error_type(&self) -> ErrorType {
        ImportError::error_type(self)
    }
}

/// The findings to send: those the verdict calls for, and resolutions of those no longer called
/// for, one log line each.
fn batch_of(
    plan: &finding::Reconciliation,
    existing: &[finding::ExistingFinding],
    change: &ComplianceChange,
    share_name: Option<&str>,
    ctx: &FindingContext,
    outcome: &mut ImportOutcome,
) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let mut batch = Vec::new();
    for f in &plan.import {
        info!(
            share_arn = %change.share_arn,
            principal = f.product_fields.get(finding::FIELD_PRINCIPAL).map(String::as_str).unwrap_or("(share)"),
            finding_id = %f.id,
            severity = f.finding_provider_fields.severity.label.as_str(),
            "finding open"
        );
        outcome.imported.push(f.id.clone());
        batch.push(hub::to_sdk(f));
    }
    for (id, updated_at) in &plan.resolve {
        let Some(prev) = existing.iter().find(|f| &f.id == id) else {
            continue;
        };
        info!(
            share_arn = %change.share_arn,
            principal = prev.principal.as_deref().unwrap_or("(share)"),
            finding_id = %id,
            "finding resolved: the principal no longer reaches the share"
        );
        outcome.resolved.push(id.clone());
        batch.push(hub::to_sdk(&finding::resolution(
            prev,
            &change.share_arn,
            share_name,
            ctx,
            updated_at,
        )));
    }
    batch
}

/// The outcome of an import: every finding Security Hub refused is reported with its reason
/// and fails the invocation; the rest is counted.
fn imported(
    report: hub::ImportReport,
    change: &ComplianceChange,
    mut outcome: ImportOutcome,
) -> Result<ImportOutcome, ImportError> {
    outcome.batch_import_calls = report.calls;
    if !report.failed.is_empty() {
        for f in &report.failed {
            error!(share_arn = %change.share_arn, finding_id = %f.id, error_code = %f.code, error = %f.message, "finding not imported");
        }
        outcome
            .imported
            .retain(|id| !report.failed.iter().any(|f| &f.id == id));
        outcome
            .resolved
            .retain(|id| !report.failed.iter().any(|f| &f.id == id));
        return Err(ImportError::FailedFindings {
            resource: change.share_arn.clone(),
            failed: report.failed,
        });
    }
    if report.retried > 0 {
        warn!(share_arn = %change.share_arn, retried = report.retried, "some findings were imported on a later attempt");
    }
    info!(
        share_arn = %change.share_arn,
        imported = outcome.imported.len(),
        resolved = outcome.resolved.len(),
        calls = report.calls,
        "findings imported"
    );
    Ok(outcome)
}
