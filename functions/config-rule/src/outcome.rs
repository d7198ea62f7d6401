//! What an invocation did: the Lambda's result, its metrics, one log line per verdict.

use ramguard_aws::credentials::AccountAccess;
use ramguard_core::{Compliance, ShareVerdict};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::error::RuleError;

/// What started an invocation (its JSON form is the kebab-case name).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// Config's periodic ScheduledNotification: the sweep.
    #[default]
    Scheduled,
    /// A configuration item change: one share.
    Change,
    /// A RAM call delivered by CloudTrail.
    Cloudtrail,
    /// RAM's own "Resource Sharing State Change".
    RamEvent,
    /// Deferred starts from the queue.
    Deferred,
}

impl Trigger {
    /// The trigger of a Config rule invocation.
    pub fn of(trigger: &ramguard_core::rule_event::RuleTrigger) -> Trigger {
        match trigger {
            ramguard_core::rule_event::RuleTrigger::Scheduled { .. } => Trigger::Scheduled,
            ramguard_core::rule_event::RuleTrigger::Change { .. } => Trigger::Change,
        }
    }

    /// Its name, as the result and the metrics record carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Scheduled => "scheduled",
            Trigger::Change => "change",
            Trigger::Cloudtrail => "cloudtrail",
            Trigger::RamEvent => "ram-event",
            Trigger::Deferred => "deferred",
        }
    }
}

/// The most NON_COMPLIANT shares an invocation's result lists.
pub const MAX_VERDICTS_IN_RESULT: usize = 100;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl RuleOutcome {
    /// The one line that says what a Config rule invocation reported.
    pub(crate) fn log_reported(&self, rule_name: &str) {
        info!(
            rule = %rule_name,
            account = %self.account,
            trigger = self.trigger.as_str(),
            compliant = self.compliant,
            non_compliant = self.non_compliant,
            not_applicable = self.not_applicable,
            evaluations_unchanged = self.evaluations_unchanged,
            put_evaluations_calls = self.put_evaluations_calls,
            "evaluations reported to AWS Config"
        );
    }

    /// Counts one verdict's compliance.
    pub(crate) fn count(&mut self, c: Compliance) {
        match c {
            Compliance::Compliant => self.compliant += 1,
            Compliance::NonCompliant => self.non_compliant += 1,
            Compliance::NotApplicable => self.not_applicable += 1,
        }
    }

    /// One share judged: its log line, its counts, and whether Config's result stands.
    pub(crate) fn judged(&mut self, v: &ShareVerdict, unchanged: bool) {
        log_verdict(v);
        self.record(v);
        self.count(v.compliance);
        if unchanged {
            self.evaluations_unchanged += 1;
        }
    }

    pub(crate) fn failed(&mut self, message_id: String) {
        self.batch_item_failures.push(BatchItemFailure {
            item_identifier: message_id,
        });
    }

    /// Counts a verdict, and lists it when it is NON_COMPLIANT and the list has room.
    pub(crate) fn record(&mut self, v: &ShareVerdict) {
        self.outside_principals += v.external.len();
        if !v.baseline.is_empty() {
            self.breaking_baseline += 1;
        }
        if v.compliance != Compliance::NonCompliant {
            return;
        }
        if self.verdicts.len() < MAX_VERDICTS_IN_RESULT {
            self.verdicts.push(summary(v));
        } else {
            self.verdicts_omitted += 1;
        }
    }
}

/// What an invocation did, returned as the Lambda's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub trigger: Trigger,
    pub account: String,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub put_evaluations_calls: usize,
    /// Shares whose result Config already held as judged now, so not sent again (sweeps only).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_unchanged: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_started: Option<bool>,
    /// Whether a refused start was deferred past the refusal window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_deferred: Option<bool>,
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_started: usize,
    /// Deferred starts sent to the queue (a burst in one window sends one).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_deferred: usize,
    /// Deferred starts SQS is to deliver again (Lambda's partial batch response).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub batch_item_failures: Vec<BatchItemFailure>,
    /// Why nothing was evaluated in the account, when nothing could be (e.g. its member role is
    /// missing): the invocation succeeds, so it is not retried into the dead-letter queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The account's member role could not be assumed (counted in `MemberRoleUnavailable`).
    #[serde(skip)]
    pub member_role_unavailable: bool,
    /// Principals outside the organization across the shares judged.
    pub outside_principals: usize,
    /// The NON_COMPLIANT shares, at most [`MAX_VERDICTS_IN_RESULT`] of them: the result stays
    /// small at any number of shares (Lambda's result limit is 6 MB).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub verdicts: Vec<VerdictSummary>,
    /// NON_COMPLIANT shares left out of `verdicts`.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub verdicts_omitted: usize,
    /// The sharing baseline's version the shares were judged against, when one was in force.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline_version: Option<String>,
    /// Shares NON_COMPLIANT for the sharing baseline (counted in `SharesBreakingBaseline`).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub breaking_baseline: usize,
    /// The account's guardrail coverage (scheduled runs with `GuardrailCoverage`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub guardrail: Option<ramguard_core::guardrail::AccountCoverage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictSummary {
    pub share_arn: String,
    pub compliance: String,
    pub outside: Vec<String>,
}

/// A message of an SQS batch to be delivered again (Lambda's partial batch response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
}

/// The invocation's metrics: shares judged, NON_COMPLIANT shares, outside principals,
/// evaluations reported, results left standing because unchanged, members skipped, and how long
/// it took.
pub fn metrics(outcome: &RuleOutcome, millis: u64) -> ramguard_aws::metrics::Invocation {
    let record = ramguard_aws::metrics::Invocation::new("config-rule")
        .property("account", &outcome.account)
        .property("trigger", outcome.trigger.as_str())
        .count(
            "SharesJudged",
            (outcome.compliant + outcome.non_compliant + outcome.not_applicable) as u64,
        )
        .count("NonCompliantShares", outcome.non_compliant as u64)
        .count("OutsidePrincipals", outcome.outside_principals as u64)
        .count("PutEvaluationsCalls", outcome.put_evaluations_calls as u64)
        .count("EvaluationsUnchanged", outcome.evaluations_unchanged as u64)
        .count("AccountsSkipped", u64::from(outcome.skipped.is_some()))
        .count(
            "MemberRoleUnavailable",
            u64::from(outcome.member_role_unavailable),
        )
        .count("SharesBreakingBaseline", outcome.breaking_baseline as u64)
        .count(
            "AccountsWithoutGuardrail",
            u64::from(
                outcome
                    .guardrail
                    .as_ref()
                    .is_some_and(|g| g.state.compliance() == Compliance::NonCompliant),
            ),
        )
        .count("EvaluationsStarted", outcome.evaluations_started as u64)
        .count("EvaluationsDeferred", outcome.evaluations_deferred as u64)
        .millis("DurationMs", millis);
    match &outcome.baseline_version {
        Some(version) => record.property("baseline_version", version),
        None => record,
    }
}

fn summary(v: &ShareVerdict) -> VerdictSummary {
    VerdictSummary {
        share_arn: v.share_arn.clone(),
        compliance: v.compliance.as_str().to_string(),
        outside: v.external.iter().map(|p| p.entity.clone()).collect(),
    }
}

/// One log line per verdict, and a warning per disagreement with RAM's `external` flag.
pub(crate) fn log_verdict(v: &ShareVerdict) {
    for m in &v.flag_mismatches {
        warn!(
            share_arn = %v.share_arn,
            principal = %m.entity,
            ram_external = m.ram_external,
            ramguard_external = m.ramguard_external,
            "RAM's external flag disagrees with the organization snapshot"
        );
    }
    let outside: Vec<&str> = v.external.iter().map(|p| p.entity.as_str()).collect();
    info!(
        share_arn = %v.share_arn,
        verdict = v.compliance.as_str(),
        reason = v.reason.kind(),
        outside = %outside.join(","),
        outside_count = outside.len(),
        "verdict"
    );
}

/// An account the function cannot act in: a missing member role is answered with one warning,
/// a metric and a successful invocation (retrying cannot create the role; the next scheduled
/// run after the StackSet reaches the account covers it); everything else fails the invocation.
pub(crate) fn skip_or_fail(
    access: AccountAccess,
    mut outcome: RuleOutcome,
    rule_name: &str,
) -> Result<RuleOutcome, RuleError> {
    match access {
        AccountAccess::MemberRoleUnavailable {
            ref account,
            ref role_arn,
            ..
        } => {
            warn!(account = %account, role = %role_arn, rule = %rule_name, error = %access,
                "member role unavailable; nothing evaluated in this account");
            outcome.member_role_unavailable = true;
            outcome.skipped = Some(format!("member role {role_arn} unavailable"));
            Ok(outcome)
        }
        other => Err(other.into()),
    }
}
