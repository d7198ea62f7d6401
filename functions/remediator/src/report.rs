//! What a remediation did: the Lambda's result and its metrics.

use ramguard_core::remediate;
use serde::Serialize;

use crate::settings::Mode;

/// The invocation's metrics: principals planned, removed and kept (outside the organization but
/// left alone), shares refused, failed and unverified.
pub fn metrics(report: &RemediationReport, millis: u64) -> ramguard_aws::metrics::Invocation {
    let outcome = |o: ShareOutcome| report.shares.iter().filter(|s| s.outcome == o).count() as u64;
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
    ramguard_aws::metrics::Invocation::new("remediator")
        .property("account", account)
        .property("mode", report.mode.as_str())
        .property("trigger", &report.trigger)
        .count("PrincipalsPlanned", report.planned_removals as u64)
        .count("PrincipalsRemoved", removed)
        .count("PrincipalsKept", kept)
        .count(
            "SharesRefused",
            outcome(ShareOutcome::Refused) + outcome(ShareOutcome::OverCap),
        )
        .count("RemediationsFailed", outcome(ShareOutcome::Failed))
        .count("RemediationsUnverified", outcome(ShareOutcome::Unverified))
        .count("RemediationsInProgress", outcome(ShareOutcome::InProgress))
        .count(
            "MemberRoleUnavailable",
            report
                .shares
                .iter()
                .filter(|s| s.member_role_unavailable)
                .count() as u64,
        )
        .millis("DurationMs", millis)
}

/// What became of one share (its JSON form is the kebab-case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShareOutcome {
    /// Every removal confirmed DISASSOCIATED by a fresh read.
    Remediated,
    /// RAM still DISASSOCIATING after the read-backs: taken, confirmed by a later read.
    InProgress,
    /// Dry-run: what enforce would remove.
    Planned,
    NothingToDo,
    /// RAM no longer knows the share.
    Gone,
    /// Left alone, with the reason (a safety rule, or no member role).
    Refused,
    /// The run planned more removals than MAX_PRINCIPALS_PER_RUN: none made.
    OverCap,
    /// Removals the share read back does not confirm.
    Unverified,
    /// A principal refused, or the restriction refused.
    Failed,
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

impl Action {
    /// The action on one planned removal, with RAM's status after it.
    pub(crate) fn of(r: &remediate::PlannedRemoval, after: &str, verified: bool) -> Action {
        Action {
            principal: r.principal.clone(),
            kind: r.kind.as_str().into(),
            before: r.status_before.clone(),
            after: after.into(),
            verified,
        }
    }
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
    pub outcome: ShareOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub actions: Vec<Action>,
    pub kept: Vec<remediate::KeptPrincipal>,
    /// Principals inside the organization across a boundary of the sharing baseline, reported
    /// and not removed (`ENFORCE_BASELINE` off).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline: Vec<remediate::BaselineRemoval>,
    pub restricted: bool,
    pub findings_noted: usize,
    /// The account's member role could not be assumed (counted in `MemberRoleUnavailable`).
    #[serde(skip)]
    pub member_role_unavailable: bool,
}

impl ShareReport {
    /// A share's report before anything is decided.
    pub(crate) fn for_target(target: &crate::Target) -> ShareReport {
        ShareReport {
            share_arn: target.share_arn.clone(),
            account: target.account.clone(),
            outcome: ShareOutcome::Planned,
            why: None,
            actions: Vec::new(),
            kept: Vec::new(),
            baseline: Vec::new(),
            restricted: false,
            findings_noted: 0,
            member_role_unavailable: false,
        }
    }
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

impl ramguard_lambda::Outcome for RemediationReport {
    fn metrics(&self, millis: u64) -> ramguard_aws::metrics::Invocation {
        metrics(self, millis)
    }
}
