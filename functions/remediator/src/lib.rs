//! The ramguard remediator: on a NON_COMPLIANT share (Config compliance change) or findings an
//! analyst sent to the Security Hub custom action, it re-reads the live share and disassociates
//! only the principals proved to be outside the organization. Dry-run unless told to enforce;
//! nothing over the blast-radius cap; nothing when in doubt.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use ramguard::aws::credentials::{AccountAccess, AccountConfigs};
use ramguard::aws::organizations::OrgCache;
use ramguard::aws::securityhub as hub;
use ramguard::aws::{ram as ram_api, AwsError};
use ramguard::events::{self, EventError, Incoming};
use ramguard::failure::{self, ErrorType};
use ramguard::finding::{principal_finding_id, product_arn};
use ramguard::remediate::{self, RemediationPlan};
use ramguard::{OrgSnapshot, Parameters};
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

/// Dry-run reports the plan and changes nothing; enforce acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Enforce,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Enforce => "enforce",
        }
    }
}

/// The remediator's settings, from environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// A run that would remove more principals than this removes none.
    pub max_principals_per_run: usize,
    /// Set allowExternalPrincipals=false once no outside principal remains.
    pub restrict_share: bool,
    pub rule_name: Option<String>,
    pub params: Parameters,
    /// How long a removal RAM reports DISASSOCIATING is read back before the run ends with
    /// `in-progress` (`VERIFY_WAIT_SECONDS`).
    pub verify_wait: Duration,
}

pub const DEFAULT_MAX_PRINCIPALS_PER_RUN: usize = 50;
/// The default `VERIFY_WAIT_SECONDS`, and the largest accepted (the function times out at 60 s).
pub const DEFAULT_VERIFY_WAIT_SECONDS: u64 = 10;
pub const MAX_VERIFY_WAIT_SECONDS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub reason: String,
}

impl Settings {
    /// Reads `REMEDIATION_MODE` (`dry-run` | `enforce`, default dry-run), `MAX_PRINCIPALS_PER_RUN`
    /// (default 50), `RESTRICT_SHARE` (`true` | `false`), `CONFIG_RULE_NAME` and the parameters.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        let mode = match get("REMEDIATION_MODE")
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("dry-run") | Some("dryrun") => Mode::DryRun,
            Some("enforce") => Mode::Enforce,
            Some(other) => {
                return Err(SettingError {
                    name: "REMEDIATION_MODE",
                    reason: format!("{other:?} is not dry-run or enforce"),
                })
            }
        };
        let max_principals_per_run = match get("MAX_PRINCIPALS_PER_RUN") {
            None => DEFAULT_MAX_PRINCIPALS_PER_RUN,
            Some(v) => v.parse().map_err(|_| SettingError {
                name: "MAX_PRINCIPALS_PER_RUN",
                reason: format!("{v:?} is not a whole number"),
            })?,
        };
        let restrict_share = match get("RESTRICT_SHARE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(SettingError {
                    name: "RESTRICT_SHARE",
                    reason: format!("{other:?} is not true or false"),
                })
            }
        };
        let pairs = ramguard::params::PARAMETER_NAMES
            .iter()
            .filter_map(|n| get(n).map(|v| (n.to_string(), v)))
            .collect();
        let params = Parameters::from_pairs(&pairs).map_err(|e| SettingError {
            name: "parameters",
            reason: e.to_string(),
        })?;
        let verify_wait = match get("VERIFY_WAIT_SECONDS") {
            None => DEFAULT_VERIFY_WAIT_SECONDS,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_VERIFY_WAIT_SECONDS)
                .ok_or_else(|| SettingError {
                    name: "VERIFY_WAIT_SECONDS",
                    reason: format!(
                        "{v:?} is not a whole number from 0 to {MAX_VERIFY_WAIT_SECONDS}"
                    ),
                })?,
        };
        Ok(Settings {
            verify_wait: Duration::from_secs(verify_wait),
            mode,
            max_principals_per_run,
            restrict_share,
            rule_name: get("CONFIG_RULE_NAME"),
            params,
        })
    }

    pub fn from_env() -> Result<Settings, SettingError> {
        Self::from_lookup(ramguard::aws::env_text)
    }
}

/// The invocation's metrics: principals planned, removed and kept (outside the organization but
/// left alone), shares refused, failed and unverified.
pub fn metrics(report: &RemediationReport, millis: u64) -> ramguard::metrics::Invocation {
    let outcome = |o: &str| report.shares.iter().filter(|s| s.outcome == o).count() as u64;
    let removed = report
        .shares
        .iter()
        .flat_map(|s| &s.actions)
        .filter(|a| a.verified)
        .count() as u64;
    let kept = report
        .shares
        .iter()
        .flat_map(|s| &s.kept)
        .filter(|k| k.why != remediate::KeepReason::InOrganization)
        .count() as u64;
    let account = report
        .shares
        .first()
        .map(|s| s.account.as_str())
        .unwrap_or_default();
    ramguard::metrics::Invocation::new("remediator")
        .property("account", account)
        .property("mode", report.mode.as_str())
        .property("trigger", &report.trigger)
        .count("PrincipalsPlanned", report.planned_removals as u64)
        .count("PrincipalsRemoved", removed)
        .count("PrincipalsKept", kept)
        .count("SharesRefused", outcome("refused") + outcome("over-cap"))
        .count("RemediationsFailed", outcome("failed"))
        .count("RemediationsUnverified", outcome("unverified"))
        .count("RemediationsInProgress", outcome("in-progress"))
        .millis("DurationMs", millis)
}

/// Whether retrying a failed RAM call cannot help: reported, never retried.
fn is_permanent(e: &AwsError) -> bool {
    remediate::PERMANENT_RAM_ERRORS
        .iter()
        .any(|code| e.is(code))
}

/// Why an invocation failed (EventBridge retries it; the dead-letter queue keeps it).
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("cannot read the organization, so nothing was removed: {0}")]
    OrgSnapshot(AwsError),
    #[error(transparent)]
    Access(#[from] AccountAccess),
    #[error("{0}; nothing was removed from that share")]
    Read(AwsError),
    #[error("remediation of {} share(s) failed on a retryable error: {}", .0.len(), .0.join("; "))]
    Retryable(Vec<String>),
}

impl RemediationError {
    /// The failure class Lambda reports as `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            RemediationError::BadEvent(_) => ErrorType::BadEvent,
            RemediationError::OrgSnapshot(_) => ErrorType::OrganizationUnreadable,
            RemediationError::Access(a) => failure::of_access(a),
            RemediationError::Read(e) => failure::of_aws(e),
            RemediationError::Retryable(reasons) => {
                if reasons
                    .iter()
                    .all(|r| r.contains("Throttl") || r.contains("TooManyRequests"))
                {
                    ErrorType::Throttled
                } else {
                    ErrorType::AwsError
                }
            }
        }
    }
}

/// One principal acted on (or, in dry-run, that would be).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub principal: String,
    pub kind: String,
    pub before: String,
    /// The status after the call (DISASSOCIATING / DISASSOCIATED), "unchanged" in dry-run, or
    /// "failed".
    pub after: String,
    pub verified: bool,
}

/// What happened to one share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShareReport {
    pub share_arn: String,
    pub account: String,
    /// `remediated`, `in-progress` (RAM still DISASSOCIATING after the read-backs), `planned`
    /// (dry-run), `nothing-to-do`, `gone`, `refused`, `over-cap`, `unverified` (removals the share
    /// read back does not confirm) or `failed` (a principal refused, or the restriction refused).
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub actions: Vec<Action>,
    pub kept: Vec<remediate::KeptPrincipal>,
    pub restricted: bool,
    pub findings_noted: usize,
}

/// What an invocation did, returned as the Lambda's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationReport {
    pub trigger: String,
    pub mode: Mode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored: Option<String>,
    pub max_principals_per_run: usize,
    pub planned_removals: usize,
    pub shares: Vec<ShareReport>,
}

/// A share to remediate, from either trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    share_arn: String,
    account: String,
    region: String,
}

/// The remediator's long-lived state: clients and caches built once per Lambda instance.
pub struct Remediator {
    accounts: AccountConfigs,
    organizations: aws_sdk_organizations::Client,
    org_cache: OrgCache,
    pub settings: Settings,
}

fn now() -> DateTime {
    DateTime::from(std::time::SystemTime::now())
}

struct Planned {
    target: Target,
    /// Err (why) when ramguard cannot act in the share's account (its member role is unavailable).
    config: Result<SdkConfig, String>,
    /// The live share and its plan; None when RAM no longer knows the share.
    found: Option<(ramguard::ResourceShare, RemediationPlan)>,
}

impl Remediator {
    pub fn new(base: SdkConfig, settings: Settings) -> Remediator {
        Remediator {
            organizations: ramguard::aws::calls::organizations(&base),
            accounts: AccountConfigs::new(base, "ramguard-remediator"),
            org_cache: OrgCache::new(),
            settings,
        }
    }

    pub async fn handle(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RemediationReport, RemediationError> {
        let mut report = RemediationReport {
            trigger: String::new(),
            mode: self.settings.mode,
            ignored: None,
            max_principals_per_run: self.settings.max_principals_per_run,
            planned_removals: 0,
            shares: Vec::new(),
        };
        let ignore = |mut report: RemediationReport, why: String| {
            info!(reason = %why, "event ignored; nothing removed");
            report.ignored = Some(why);
            Ok(report)
        };
        let (event_id, targets) = match events::parse(&event)? {
            Incoming::ComplianceChange(c) => {
                report.trigger = "compliance-change".into();
                if !events::is_our_rule(&c.rule_name, self.settings.rule_name.as_deref()) {
                    return ignore(report, format!("rule {} is not ramguard's", c.rule_name));
                }
                if !c.is_share() {
                    return ignore(
                        report,
                        format!("resource type {} is not a RAM share", c.resource_type),
                    );
                }
                if c.compliance != "NON_COMPLIANT" {
                    return ignore(
                        report,
                        format!("the share is {}, not NON_COMPLIANT", c.compliance),
                    );
                }
                let target = Target {
                    share_arn: c.share_arn,
                    account: c.account,
                    region: c.region,
                };
                (c.event_id, vec![target])
            }
            Incoming::CustomAction(a) => {
                report.trigger = "security-hub-custom-action".into();
                for id in &a.foreign {
                    info!(finding_id = %id, "finding is not ramguard's; left alone");
                }
                let mut targets: Vec<Target> = Vec::new();
                for f in a.findings {
                    if !targets.iter().any(|t| t.share_arn == f.share_arn) {
                        targets.push(Target {
                            share_arn: f.share_arn,
                            account: f.account,
                            region: f.region,
                        });
                    }
                }
                if targets.is_empty() {
                    return ignore(report, "no ramguard finding was selected".into());
                }
                (a.event_id, targets)
            }
            Incoming::Other {
                detail_type,
                source,
            } => {
                report.trigger = "other".into();
                return ignore(
                    report,
                    format!("{detail_type:?} from {source:?} is not a remediation trigger"),
                );
            }
        };
        let org = Box::pin(self.org_cache.get(
            &self.organizations,
            Duration::from_secs(self.settings.params.org_cache_ttl_seconds),
        ))
        .await
        .map_err(|e| {
            error!(error = %e, "cannot read the organization; nothing removed (fail closed)");
            RemediationError::OrgSnapshot(e)
        })?;
        let mut planned = Vec::new();
        for target in targets {
            planned.push(Box::pin(self.plan_one(target, own_account, &org)).await?);
        }
        report.planned_removals = planned
            .iter()
            .filter_map(|p| p.found.as_ref())
            .map(|(_, plan)| plan.removals.len())
            .sum();
        let over_cap = report.planned_removals > self.settings.max_principals_per_run;
        if over_cap {
            warn!(
                planned = report.planned_removals,
                cap = self.settings.max_principals_per_run,
                "plan over the blast-radius cap MAX_PRINCIPALS_PER_RUN; nothing removed"
            );
        }
        let mut retryable = Vec::new();
        for p in planned {
            let share_report = Box::pin(self.execute(p, &event_id, over_cap, &mut retryable)).await;
            report.shares.push(share_report);
        }
        if !retryable.is_empty() {
            return Err(RemediationError::Retryable(retryable));
        }
        Ok(report)
    }

    async fn plan_one(
        &self,
        target: Target,
        own_account: &str,
        org: &OrgSnapshot,
    ) -> Result<Planned, RemediationError> {
        let config = match self
            .accounts
            .for_account(
                &target.account,
                own_account,
                org,
                self.settings.params.execution_role_name.as_deref(),
                Some(&target.region),
            )
            .await
        {
            Ok(config) => config,
            Err(AccountAccess::MemberRoleUnavailable {
                account, role_arn, ..
            }) => {
                warn!(account = %account, role = %role_arn, share_arn = %target.share_arn,
                    "member role unavailable; nothing read or removed in this account (fail closed)");
                ramguard::metrics::count(
                    "remediator",
                    "MemberRoleUnavailable",
                    1,
                    &[("account", &account), ("role", &role_arn)],
                );
                return Ok(Planned {
                    target,
                    config: Err(format!(
                        "member role {role_arn} unavailable; nothing was read or removed"
                    )),
                    found: None,
                });
            }
            Err(other) => return Err(other.into()),
        };
        let ram = ramguard::aws::calls::ram(&config);
        let share = Box::pin(ram_api::share(&ram, &target.share_arn))
            .await
            .map_err(RemediationError::Read)?;
        let found = share.map(|s| {
            let plan = remediate::plan(
                &s,
                org,
                &self.settings.params,
                self.settings.restrict_share,
                now().secs(),
            );
            (s, plan)
        });
        Ok(Planned {
            target,
            config: Ok(config),
            found,
        })
    }

    async fn execute(
        &self,
        planned: Planned,
        event_id: &str,
        over_cap: bool,
        retryable: &mut Vec<String>,
    ) -> ShareReport {
        let Planned {
            target,
            config,
            found,
        } = planned;
        let mode = self.settings.mode;
        let mut report = ShareReport {
            share_arn: target.share_arn.clone(),
            account: target.account.clone(),
            outcome: String::new(),
            why: None,
            actions: Vec::new(),
            kept: Vec::new(),
            restricted: false,
            findings_noted: 0,
        };
        let gone = |mut report: ShareReport, why: String| {
            info!(share_arn = %target.share_arn, mode = mode.as_str(), why = %why, "share gone; nothing to do");
            report.outcome = "gone".into();
            report.why = Some(why);
            report
        };
        let config = match config {
            Ok(config) => config,
            Err(why) => {
                report.outcome = "refused".into();
                report.why = Some(why);
                return report;
            }
        };
        let Some((share, plan)) = found else {
            return gone(report, "the share no longer exists".into());
        };
        if let Some(refusal @ remediate::Refusal::ShareGone { .. }) = &plan.refusal {
            return gone(report, refusal.describe());
        }
        report.kept = plan.kept.clone();
        for k in &plan.kept {
            info!(share_arn = %share.arn, principal = %k.principal, status = %k.status, why = ?k.why, "principal kept");
        }
        if let Some(refusal) = &plan.refusal {
            info!(share_arn = %share.arn, mode = mode.as_str(), why = %refusal.describe(), "share left alone");
            report.outcome = "refused".into();
            report.why = Some(refusal.describe());
            return report;
        }
        if plan.removals.is_empty() && !plan.restrict_share {
            info!(share_arn = %share.arn, mode = mode.as_str(), "no principal outside the organization to remove");
            report.outcome = "nothing-to-do".into();
            return report;
        }
        let action = |r: &remediate::PlannedRemoval, after: &str, verified| Action {
            principal: r.principal.clone(),
            kind: r.kind.as_str().into(),
            before: r.status_before.clone(),
            after: after.into(),
            verified,
        };
        let unchanged = || -> Vec<Action> {
            plan.removals
                .iter()
                .map(|r| action(r, "unchanged", false))
                .collect()
        };
        if over_cap {
            report.outcome = "over-cap".into();
            report.why = Some(format!(
                "the run planned more than MAX_PRINCIPALS_PER_RUN={} removals; nothing was removed",
                self.settings.max_principals_per_run
            ));
            report.actions = unchanged();
            return report;
        }
        if mode == Mode::DryRun {
            for r in &plan.removals {
                info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = "unchanged", mode = "dry-run", "would remove principal");
            }
            report.outcome = "planned".into();
            report.actions = unchanged();
            return report;
        }
        let ram = ramguard::aws::calls::ram(&config);
        let (answered, failures) = self
            .disassociate_each(&ram, &share.arn, &plan, event_id, retryable)
            .await;
        if !plan.removals.is_empty() {
            let verified = self
                .verify_removals(&ram, &share.arn, &plan, &answered, &failures)
                .await;
            for (r, v) in plan.removals.iter().zip(verified) {
                if let Some(e) = failures.get(&r.principal) {
                    error!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = "failed", error = %e, mode = "enforce", "principal not removed");
                    report.actions.push(action(r, "failed", false));
                } else if v.in_progress() {
                    info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "principal removal in progress; a later read confirms it");
                    report.actions.push(action(r, &v.status, true));
                } else if v.verified {
                    info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "principal removed");
                    report.actions.push(action(r, &v.status, true));
                } else {
                    error!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "removal not verified: the share read back does not show the principal disassociated");
                    report.actions.push(action(r, &v.status, false));
                }
            }
        }
        if !failures.is_empty() {
            let removed = report.actions.iter().filter(|a| a.verified).count();
            report.outcome = "failed".into();
            report.why = Some(format!(
                "{} of {} principal(s) could not be removed ({}); {removed} removed",
                failures.len(),
                plan.removals.len(),
                failures
                    .iter()
                    .map(|(p, e)| format!("{p}: {e}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            report.findings_noted =
                Box::pin(self.note_findings(&config, &share, &plan, &target)).await;
            return report;
        }
        let unverified = report.actions.iter().filter(|a| !a.verified).count();
        if plan.restrict_share {
            let token =
                remediate::client_token(event_id, &share.arn, &["allowExternalPrincipals=false"]);
            match Box::pin(ram_api::disallow_external_principals(&ram, &share, &token)).await {
                Ok(()) => {
                    info!(share_arn = %share.arn, mode = "enforce", "share restricted: allowExternalPrincipals=false");
                    report.restricted = true;
                }
                Err(e) => {
                    let permanent = is_permanent(&e);
                    error!(share_arn = %share.arn, error = %e, retried = !permanent, mode = "enforce", "could not set allowExternalPrincipals=false");
                    if !permanent {
                        retryable.push(format!("{}: {e}", share.arn));
                    }
                    report.outcome = "failed".into();
                    // RAM refuses it while sharing with AWS Organizations is not enabled
                    let hint = if e.is("OperationNotPermittedException") {
                        " (RAM refuses it while sharing with AWS Organizations is not enabled: enable it with EnableSharingWithAwsOrganization, or set RestrictShare to false)"
                    } else {
                        ""
                    };
                    report.why = Some(format!(
                        "{} principal(s) removed, but allowExternalPrincipals could not be set to false: {e}{hint}",
                        report.actions.len() - unverified
                    ));
                    report.findings_noted =
                        Box::pin(self.note_findings(&config, &share, &plan, &target)).await;
                    return report;
                }
            }
        }
        let in_progress = report
            .actions
            .iter()
            .filter(|a| a.verified && a.after == "DISASSOCIATING")
            .count();
        if unverified > 0 {
            report.outcome = "unverified".into();
            report.why = Some(format!(
                "{unverified} of {} removal(s) could not be verified: the share read back does not show them disassociated",
                report.actions.len()
            ));
            report.findings_noted =
                Box::pin(self.note_findings(&config, &share, &plan, &target)).await;
            return report;
        }
        if in_progress > 0 {
            report.outcome = "in-progress".into();
            report.why = Some(format!(
                "RAM is still disassociating {in_progress} principal(s) after {} s; the next read of the share (the rule's next evaluation) confirms it",
                self.settings.verify_wait.as_secs()
            ));
        } else {
            report.outcome = "remediated".into();
        }
        report.findings_noted = Box::pin(self.note_findings(&config, &share, &plan, &target)).await;
        report
    }

    /// One DisassociateResourceShare call per principal, each with its own idempotency token:
    /// what RAM does with a principal it will not remove (SUSPENDED, SUSPENDING, RESTORING are
    /// not documented for it) fails only that principal's call, never the others'. Returns the
    /// principals whose call failed, with the error.
    async fn disassociate_each(
        &self,
        ram: &aws_sdk_ram::Client,
        share_arn: &str,
        plan: &RemediationPlan,
        event_id: &str,
        retryable: &mut Vec<String>,
    ) -> (BTreeMap<String, String>, BTreeMap<String, AwsError>) {
        let (mut answered, mut failures) = (BTreeMap::new(), BTreeMap::new());
        for r in &plan.removals {
            let token = remediate::client_token(event_id, share_arn, &[r.principal.as_str()]);
            let result = Box::pin(ram_api::disassociate_principals(
                ram,
                share_arn,
                std::slice::from_ref(&r.principal),
                &token,
            ))
            .await;
            match result {
                Ok(rows) => answered.extend(rows),
                Err(e) => {
                    let permanent = is_permanent(&e);
                    error!(share_arn = %share_arn, principal = %r.principal, error = %e, retried = !permanent, mode = "enforce", "disassociation refused for this principal");
                    if !permanent {
                        retryable.push(format!("{share_arn} {}: {e}", r.principal));
                    }
                    failures.insert(r.principal.clone(), e);
                }
            }
        }
        (answered, failures)
    }

    /// Reads the share back until every removal RAM took is DISASSOCIATED or `verify_wait` has
    /// passed (reads after 1, 2, 4 … seconds): DISASSOCIATING is RAM still at work, and only a
    /// fresh read counts as proof.
    async fn verify_removals(
        &self,
        ram: &aws_sdk_ram::Client,
        share_arn: &str,
        plan: &RemediationPlan,
        answered: &BTreeMap<String, String>,
        failures: &BTreeMap<String, AwsError>,
    ) -> Vec<remediate::Verified> {
        let started = std::time::Instant::now();
        let mut pause = Duration::from_secs(1);
        loop {
            let live = Box::pin(ram_api::share(ram, share_arn)).await;
            let fresh: Option<BTreeMap<String, String>> = match &live {
                Ok(Some(s)) => Some(
                    s.principals
                        .iter()
                        .map(|a| (a.entity.clone(), a.status.as_str().to_string()))
                        .collect(),
                ),
                Ok(None) => None,
                Err(e) => {
                    warn!(share_arn = %share_arn, error = %e, "cannot read the share back; removals are unverified");
                    None
                }
            };
            let verified = remediate::verify(&plan.removals, fresh.as_ref(), answered);
            let waiting = plan
                .removals
                .iter()
                .zip(&verified)
                .any(|(r, v)| v.in_progress() && !failures.contains_key(&r.principal));
            let left = self.settings.verify_wait.saturating_sub(started.elapsed());
            if !waiting || left.is_zero() {
                return verified;
            }
            tokio::time::sleep(pause.min(left)).await;
            pause *= 2;
        }
    }

    /// Adds an audit note to the share's findings for the removed principals, when they exist.
    async fn note_findings(
        &self,
        config: &SdkConfig,
        share: &ramguard::ResourceShare,
        plan: &RemediationPlan,
        target: &Target,
    ) -> usize {
        if plan.removals.is_empty() {
            return 0;
        }
        let partition = share.arn.split(':').nth(1).unwrap_or("aws");
        let product = product_arn(partition, &target.region, &target.account);
        let ids: Vec<(String, String)> = plan
            .removals
            .iter()
            .map(|r| {
                (
                    principal_finding_id(&share.arn, &r.principal),
                    product.clone(),
                )
            })
            .collect();
        let text = format!(
            "ramguard remediator (enforce) disassociated {} from this resource share at {}.",
            plan.removals
                .iter()
                .map(|r| r.principal.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            now()
                .fmt(aws_smithy_types::date_time::Format::DateTime)
                .unwrap_or_default()
        );
        let client = ramguard::aws::calls::securityhub(config);
        match Box::pin(hub::add_note(&client, &ids, &text, "ramguard-remediator")).await {
            Ok(n) => n,
            Err(e) => {
                warn!(share_arn = %share.arn, error = %e, "could not add the audit note to the findings; the removal stands");
                0
            }
        }
    }
}
