//! Acting on one share: the plan's safety checks, then (in enforce mode) one disassociation per
//! principal, the read-back that verifies it, the restriction, and the audit note.

use aws_config::SdkConfig;
use ramguard_aws::securityhub as hub;
use ramguard_aws::{ram as ram_api, AwsError};
use ramguard_core::finding::{principal_finding_id, product_arn};
use ramguard_core::remediate::{self, RemediationPlan};
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::{error, info, warn};

use crate::report::{Action, ShareOutcome, ShareReport};
use crate::settings::Mode;
use crate::{is_permanent, now, Planned, Remediator, RetryableFailure, Target};
use ramguard_core::ResourceShare;

impl Remediator {
    /// Acts on one planned share: the plan's checks (each may end it with its outcome), then in
    /// enforce mode the removals, the read-back, the restriction and the audit note.
    pub(crate) async fn execute(
        &self,
        planned: Planned,
        event_id: &str,
        over_cap: bool,
        retryable: &mut Vec<RetryableFailure>,
    ) -> ShareReport {
        let mut report = ShareReport::for_target(&planned.target);
        let Some((config, share, plan, target)) = self.checked(planned, over_cap, &mut report)
        else {
            return report;
        };
        let ram = ramguard_aws::calls::ram(&config);
        let failures = self
            .remove(&ram, &share, &plan, event_id, retryable, &mut report)
            .await;
        let restricted = failures.is_empty()
            && self
                .restrict(&ram, &share, &plan, event_id, retryable, &mut report)
                .await;
        // a refused restriction has said its outcome; otherwise the actions say it
        if restricted || !failures.is_empty() {
            self.conclude(&failures, &plan, &mut report);
        }
        report.findings_noted = Box::pin(self.note_findings(&config, &share, &plan, &target)).await;
        report
    }

    /// The plan's checks before anything is removed. None when they end the share's report:
    /// no member role, gone, refused, nothing to do, over the cap, or dry-run.
    fn checked(
        &self,
        planned: Planned,
        over_cap: bool,
        report: &mut ShareReport,
    ) -> Option<(SdkConfig, ResourceShare, RemediationPlan, Target)> {
        let Planned {
            target,
            config,
            found,
        } = planned;
        let mode = self.settings.mode;
        let mut gone = |why: String| {
            info!(share_arn = %target.share_arn, mode = mode.as_str(), why = %why, "share gone; nothing to do");
            report.outcome = ShareOutcome::Gone;
            report.why = Some(why);
        };
        let config = match config {
            Ok(config) => config,
            Err(why) => {
                report.member_role_unavailable = true;
                report.outcome = ShareOutcome::Refused;
                report.why = Some(why);
                return None;
            }
        };
        let Some((share, plan)) = found else {
            gone("the share no longer exists".into());
            return None;
        };
        if let Some(refusal @ remediate::Refusal::ShareGone { .. }) = &plan.refusal {
            gone(refusal.describe());
            return None;
        }
        report.kept = plan.kept.clone();
        report.baseline = plan.baseline_removals.clone();
        for b in &plan.baseline_removals {
            info!(share_arn = %share.arn, principal = %b.principal, boundary = %b.boundary, mode = mode.as_str(),
                "crosses the sharing baseline's boundary; reported, not removed (ENFORCE_BASELINE is off)");
        }
        for k in &plan.kept {
            info!(share_arn = %share.arn, principal = %k.principal, status = %k.status, why = ?k.why, "principal kept");
        }
        if let Some(refusal) = &plan.refusal {
            info!(share_arn = %share.arn, mode = mode.as_str(), why = %refusal.describe(), "share left alone");
            report.outcome = ShareOutcome::Refused;
            report.why = Some(refusal.describe());
            return None;
        }
        if plan.removals.is_empty() && !plan.restrict_share {
            info!(share_arn = %share.arn, mode = mode.as_str(), "no principal outside the organization to remove");
            report.outcome = ShareOutcome::NothingToDo;
            return None;
        }
        let unchanged = || -> Vec<Action> {
            plan.removals
                .iter()
                .map(|r| Action::of(r, "unchanged", false))
                .collect()
        };
        if over_cap {
            report.outcome = ShareOutcome::OverCap;
            report.why = Some(format!(
                "the run planned more than MAX_PRINCIPALS_PER_RUN={} removals; nothing was removed",
                self.settings.max_principals_per_run
            ));
            report.actions = unchanged();
            return None;
        }
        if mode == Mode::DryRun {
            for r in &plan.removals {
                info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = "unchanged", mode = "dry-run", "would remove principal");
            }
            report.outcome = ShareOutcome::Planned;
            report.actions = unchanged();
            return None;
        }
        Some((config, share, plan, target))
    }

    /// Removes the planned principals one by one and reads the share back: each principal's
    /// action in the report; the principals RAM refused, with the error.
    async fn remove(
        &self,
        ram: &aws_sdk_ram::Client,
        share: &ResourceShare,
        plan: &RemediationPlan,
        event_id: &str,
        retryable: &mut Vec<RetryableFailure>,
        report: &mut ShareReport,
    ) -> BTreeMap<String, AwsError> {
        let (answered, failures) = self
            .disassociate_each(ram, &share.arn, plan, event_id, retryable)
            .await;
        if plan.removals.is_empty() {
            return failures;
        }
        let verified = self
            .verify_removals(ram, &share.arn, plan, &answered, &failures)
            .await;
        for (r, v) in plan.removals.iter().zip(verified) {
            if let Some(e) = failures.get(&r.principal) {
                error!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = "failed", error = %e, mode = "enforce", "principal not removed");
                report.actions.push(Action::of(r, "failed", false));
            } else if v.in_progress() {
                info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "principal removal in progress; a later read confirms it");
                report.actions.push(Action::of(r, &v.status, true));
            } else if v.verified {
                info!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "principal removed");
                report.actions.push(Action::of(r, &v.status, true));
            } else {
                error!(share_arn = %share.arn, principal = %r.principal, before = %r.status_before, after = %v.status, mode = "enforce", "removal not verified: the share read back does not show the principal disassociated");
                report.actions.push(Action::of(r, &v.status, false));
            }
        }
        failures
    }

    /// With RestrictShare: allowExternalPrincipals=false. False when RAM refused it (the report
    /// then says why, and a transient error is left for EventBridge to retry).
    async fn restrict(
        &self,
        ram: &aws_sdk_ram::Client,
        share: &ResourceShare,
        plan: &RemediationPlan,
        event_id: &str,
        retryable: &mut Vec<RetryableFailure>,
        report: &mut ShareReport,
    ) -> bool {
        if !plan.restrict_share {
            return true;
        }
        let token =
            remediate::client_token(event_id, &share.arn, &["allowExternalPrincipals=false"]);
        let Err(e) = Box::pin(ram_api::disallow_external_principals(ram, share, &token)).await
        else {
            info!(share_arn = %share.arn, mode = "enforce", "share restricted: allowExternalPrincipals=false");
            report.restricted = true;
            return true;
        };
        let permanent = is_permanent(&e);
        error!(share_arn = %share.arn, error = %e, retried = !permanent, mode = "enforce", "could not set allowExternalPrincipals=false");
        if !permanent {
            retryable.push(RetryableFailure {
                share_arn: share.arn.clone(),
                error: e.clone(),
            });
        }
        // RAM refuses it while sharing with AWS Organizations is not enabled
        let hint = if e.is("OperationNotPermittedException") {
            " (RAM refuses it while sharing with AWS Organizations is not enabled: enable it with EnableSharingWithAwsOrganization, or set RestrictShare to false)"
        } else {
            ""
        };
        let removed = report.actions.iter().filter(|a| a.verified).count();
        report.outcome = ShareOutcome::Failed;
        report.why = Some(format!(
            "{removed} principal(s) removed, but allowExternalPrincipals could not be set to false: {e}{hint}"
        ));
        false
    }

    /// The share's outcome from its actions: failed (a principal refused), unverified, in
    /// progress (RAM still DISASSOCIATING), or remediated.
    fn conclude(
        &self,
        failures: &BTreeMap<String, AwsError>,
        plan: &RemediationPlan,
        report: &mut ShareReport,
    ) {
        let removed = report.actions.iter().filter(|a| a.verified).count();
        let unverified = report.actions.iter().filter(|a| !a.verified).count() - failures.len();
        let in_progress = report
            .actions
            .iter()
            .filter(|a| a.verified && a.after == "DISASSOCIATING")
            .count();
        (report.outcome, report.why) = if !failures.is_empty() {
            let refused: Vec<String> = failures.iter().map(|(p, e)| format!("{p}: {e}")).collect();
            (
                ShareOutcome::Failed,
                Some(format!(
                    "{} of {} principal(s) could not be removed ({}); {removed} removed",
                    failures.len(),
                    plan.removals.len(),
                    refused.join("; ")
                )),
            )
        } else if unverified > 0 {
            (
                ShareOutcome::Unverified,
                Some(format!(
                    "{unverified} of {} removal(s) could not be verified: the share read back does not show them disassociated",
                    report.actions.len()
                )),
            )
        } else if in_progress > 0 {
            (
                ShareOutcome::InProgress,
                Some(format!(
                    "RAM is still disassociating {in_progress} principal(s) after {} s; the next read of the share (the rule's next evaluation) confirms it",
                    self.settings.verify_wait.as_secs()
                )),
            )
        } else {
            (ShareOutcome::Remediated, None)
        };
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
        retryable: &mut Vec<RetryableFailure>,
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
                        retryable.push(RetryableFailure {
                            share_arn: format!("{share_arn} {}", r.principal),
                            error: e.clone(),
                        });
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
        share: &ramguard_core::ResourceShare,
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
        let client = ramguard_aws::calls::securityhub(config);
        match Box::pin(hub::add_note(&client, &ids, &text, "ramguard-remediator")).await {
            Ok(n) => n,
            Err(e) => {
                warn!(share_arn = %share.arn, error = %e, "could not add the audit note to the findings; the removal stands");
                0
            }
        }
    }
}
