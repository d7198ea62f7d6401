//! The scan's report: every share judged with the functions' core and parameters, its findings
//! with the functions' severities, each target read or not, and on request the inventory and the
//! remediator's plan. Its JSON form is stable (`schema` names its version).

use std::collections::BTreeMap;

use ramguard_core::baseline::{self, BaselineContext, OrgStructure};
use ramguard_core::finding::{severity, SeverityLabel, Subject};
use ramguard_core::remediate;
use ramguard_core::{
    classify, evaluate, OrgSnapshot, Parameters, Placement, Principal, ShareVerdict, VerdictReason,
};
use serde::Serialize;

use crate::scan::read::{Read, TargetShares};

/// The JSON report's schema version.
pub(crate) const SCHEMA: &str = "ramguard-scan/1";

/// One finding: a principal outside the organization, a strict-mode flag or a baseline rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanFinding {
    pub(crate) severity: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) share_arn: String,
    pub(crate) share_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) principal: Option<String>,
    /// `outside-principal`, `allows-external-principals`, `retains-access-on-leave`, or
    /// `baseline/<rule>`.
    pub(crate) rule: String,
    pub(crate) message: String,
}

/// A share and its verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScannedShare {
    pub(crate) share_arn: String,
    pub(crate) name: String,
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) compliance: String,
    pub(crate) annotation: String,
    /// The principals outside the organization.
    pub(crate) outside: Vec<String>,
}

/// A target read, or not.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TargetStatus {
    pub(crate) account: String,
    pub(crate) region: String,
    /// `read` or `unreadable`.
    pub(crate) status: &'static str,
    pub(crate) shares: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reason: Option<String>,
}

/// One share × principal × resource type, for reviews (`--inventory`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InventoryRow {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) share_arn: String,
    pub(crate) share_name: String,
    pub(crate) principal: String,
    pub(crate) principal_status: String,
    /// `in-organization`, `trusted`, `service`, or `outside`.
    pub(crate) placement: String,
    pub(crate) resource_type: String,
    pub(crate) compliance: String,
}

/// What the remediator would do to a NON_COMPLIANT share (`--plan`; never done).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlannedShare {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) plan: remediate::RemediationPlan,
}

/// Counts.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary {
    pub(crate) accounts: usize,
    pub(crate) targets: usize,
    pub(crate) unreadable: usize,
    pub(crate) shares: usize,
    pub(crate) non_compliant: usize,
    pub(crate) findings: usize,
    pub(crate) by_severity: BTreeMap<String, usize>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScanReport {
    pub(crate) schema: &'static str,
    pub(crate) organization: String,
    pub(crate) scanned_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) baseline: Option<String>,
    pub(crate) summary: Summary,
    pub(crate) targets: Vec<TargetStatus>,
    pub(crate) shares: Vec<ScannedShare>,
    pub(crate) findings: Vec<ScanFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) inventory: Option<Vec<InventoryRow>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) plan: Option<Vec<PlannedShare>>,
    /// ramguard's own findings (ASFF), as the importer would raise them.
    #[serde(skip)]
    pub(crate) asff: Vec<ramguard_core::finding::Finding>,
}

/// What the report is judged with.
pub(crate) struct Judging<'a> {
    pub(crate) org: &'a OrgSnapshot,
    pub(crate) params: &'a Parameters,
    pub(crate) baseline: Option<(&'a baseline::Baseline, &'a OrgStructure)>,
    pub(crate) now: i64,
    pub(crate) inventory: bool,
    pub(crate) plan: bool,
    /// Keep ramguard's ASFF findings (only `--format asff` prints them).
    pub(crate) asff: bool,
}

fn placement(principal: &str, j: &Judging<'_>) -> &'static str {
    match classify(&Principal::parse(principal), j.org, j.params) {
        Placement::InOrg => "in-organization",
        Placement::Trusted => "trusted",
        Placement::AllowedService => "service",
        Placement::Outside(_) => "outside",
    }
}

fn findings_of(v: &ShareVerdict, j: &Judging<'_>, base: &ScanFinding) -> Vec<ScanFinding> {
    let mut out = Vec::new();
    let with = |severity: SeverityLabel, principal: Option<String>, rule: &str, message: String| {
        ScanFinding {
            severity: severity.as_str().to_string(),
            principal,
            rule: rule.to_string(),
            message,
            ..base.clone()
        }
    };
    match v.reason {
        VerdictReason::OutsidePrincipals => {
            for p in &v.external {
                out.push(with(
                    severity(&Subject::Principal(p)),
                    Some(p.entity.clone()),
                    "outside-principal",
                    format!(
                        "{} is outside the organization ({})",
                        p.entity,
                        p.reason.as_str()
                    ),
                ));
            }
        }
        VerdictReason::AllowsExternalPrincipals => out.push(with(
            severity(&Subject::AllowsExternalPrincipals),
            None,
            "allows-external-principals",
            "the share allows principals outside the organization".into(),
        )),
        VerdictReason::RetainsAccessOnLeave => out.push(with(
            severity(&Subject::RetainsAccessOnLeave),
            None,
            "retains-access-on-leave",
            "accounts keep access after leaving the organization".into(),
        )),
        _ => {}
    }
    if let Some((b, _)) = j.baseline {
        for violation in &v.baseline {
            let rule = format!(
                "baseline/{}",
                violation.key().split('/').next().unwrap_or_default()
            );
            let label = match violation.severity(&b.severities) {
                "HIGH" => SeverityLabel::High,
                "LOW" => SeverityLabel::Low,
                "INFORMATIONAL" => SeverityLabel::Informational,
                _ => SeverityLabel::Medium,
            };
            out.push(with(label, None, &rule, violation.describe()));
        }
    }
    out
}

/// Builds the report one read at a time, so that a target's shares are dropped once judged.
pub(crate) struct Builder<'a> {
    j: &'a Judging<'a>,
    report: ScanReport,
    accounts: std::collections::BTreeSet<String>,
}

impl<'a> Builder<'a> {
    pub(crate) fn new(j: &'a Judging<'a>, scanned_at: String) -> Builder<'a> {
        Builder {
            j,
            report: ScanReport {
                schema: SCHEMA,
                organization: j.org.org_id.clone(),
                scanned_at,
                baseline: j.baseline.map(|(b, _)| b.version.clone()),
                summary: Summary::default(),
                targets: Vec::new(),
                shares: Vec::new(),
                findings: Vec::new(),
                inventory: j.inventory.then(Vec::new),
                plan: j.plan.then(Vec::new),
                asff: Vec::new(),
            },
            accounts: std::collections::BTreeSet::new(),
        }
    }

    /// Judges one target's shares.
    pub(crate) fn add(&mut self, read: Read) {
        let j = self.j;
        let report = &mut self.report;
        let t = read.target;
        self.accounts.insert(t.account.clone());
        let TargetShares { shares, types } = match read.result {
            Ok(read) => read,
            Err(reason) => {
                report.targets.push(TargetStatus {
                    account: t.account,
                    region: t.region,
                    status: "unreadable",
                    shares: 0,
                    reason: Some(reason),
                });
                return;
            }
        };
        report.targets.push(TargetStatus {
            account: t.account.clone(),
            region: t.region.clone(),
            status: "read",
            shares: shares.len(),
            reason: None,
        });
        for share in shares {
            let none = Default::default();
            let share_types = types.get(&share.arn).unwrap_or(&none);
            let mut verdict = evaluate(&share, j.org, j.params, j.now);
            if let Some((b, structure)) = j.baseline {
                let ctx = BaselineContext {
                    baseline: b,
                    org: j.org,
                    structure,
                    params: j.params,
                };
                let found = baseline::violations(&share, share_types, &ctx, j.now);
                verdict = baseline::apply(verdict, &b.version, found);
            }
            let base = ScanFinding {
                severity: String::new(),
                account: t.account.clone(),
                region: t.region.clone(),
                share_arn: share.arn.clone(),
                share_name: share.name.clone(),
                principal: None,
                rule: String::new(),
                message: String::new(),
            };
            report.findings.extend(findings_of(&verdict, j, &base));
            if j.asff {
                let ctx = ramguard_core::finding::FindingContext {
                    partition: j.org.partition().to_string(),
                    region: t.region.clone(),
                    account: t.account.clone(),
                    now: report.scanned_at.clone(),
                };
                report.asff.extend(ramguard_core::finding::findings_for(
                    &share,
                    &verdict,
                    &ctx,
                    &ramguard_core::Exposure::default(),
                ));
                if let Some((b, _)) = j.baseline {
                    report.asff.extend(baseline::baseline_findings(
                        &share,
                        &verdict.baseline,
                        &b.version,
                        &b.severities,
                        &ctx,
                    ));
                }
            }
            if let Some(rows) = report.inventory.as_mut() {
                for assoc in &share.principals {
                    let kinds: Vec<String> = if share_types.is_empty() {
                        vec![String::new()]
                    } else {
                        share_types.iter().cloned().collect()
                    };
                    for resource_type in kinds {
                        rows.push(InventoryRow {
                            account: t.account.clone(),
                            region: t.region.clone(),
                            share_arn: share.arn.clone(),
                            share_name: share.name.clone(),
                            principal: assoc.entity.clone(),
                            principal_status: assoc.status.as_str().to_string(),
                            placement: placement(&assoc.entity, j).to_string(),
                            resource_type,
                            compliance: verdict.compliance.as_str().to_string(),
                        });
                    }
                }
            }
            if verdict.compliance == ramguard_core::Compliance::NonCompliant {
                if let Some(plans) = report.plan.as_mut() {
                    plans.push(PlannedShare {
                        account: t.account.clone(),
                        region: t.region.clone(),
                        plan: remediate::plan(&share, j.org, j.params, false, j.now),
                    });
                }
            }
            report.shares.push(ScannedShare {
                share_arn: share.arn.clone(),
                name: share.name.clone(),
                account: t.account.clone(),
                region: t.region.clone(),
                compliance: verdict.compliance.as_str().to_string(),
                annotation: verdict.annotation.clone(),
                outside: verdict.external.iter().map(|p| p.entity.clone()).collect(),
            });
        }
    }

    /// The report, in a stable order (reads complete in any order), with its summary.
    pub(crate) fn finish(mut self) -> ScanReport {
        let report = &mut self.report;
        report
            .targets
            .sort_by(|a, b| (&a.account, &a.region).cmp(&(&b.account, &b.region)));
        report.shares.sort_by(|a, b| {
            (&a.account, &a.region, &a.share_arn).cmp(&(&b.account, &b.region, &b.share_arn))
        });
        report.findings.sort_by(|a, b| {
            (&a.account, &a.region, &a.share_arn, &a.principal, &a.rule).cmp(&(
                &b.account,
                &b.region,
                &b.share_arn,
                &b.principal,
                &b.rule,
            ))
        });
        if let Some(rows) = report.inventory.as_mut() {
            rows.sort_by(|a, b| {
                (
                    &a.account,
                    &a.region,
                    &a.share_arn,
                    &a.principal,
                    &a.resource_type,
                )
                    .cmp(&(
                        &b.account,
                        &b.region,
                        &b.share_arn,
                        &b.principal,
                        &b.resource_type,
                    ))
            });
        }
        if let Some(plans) = report.plan.as_mut() {
            plans.sort_by(|a, b| {
                (&a.account, &a.region, &a.plan.share_arn).cmp(&(
                    &b.account,
                    &b.region,
                    &b.plan.share_arn,
                ))
            });
        }
        let s = &mut report.summary;
        s.accounts = self.accounts.len();
        s.targets = report.targets.len();
        s.unreadable = report
            .targets
            .iter()
            .filter(|t| t.status == "unreadable")
            .count();
        s.shares = report.shares.len();
        s.non_compliant = report
            .shares
            .iter()
            .filter(|x| x.compliance == "NON_COMPLIANT")
            .count();
        s.findings = report.findings.len();
        for f in &report.findings {
            *s.by_severity.entry(f.severity.clone()).or_default() += 1;
        }
        self.report
    }
}
