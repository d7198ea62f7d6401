//! The Security Hub finding of an account whose SCPs do not stop sharing outside the
//! organization: MEDIUM when nothing stops it (or SCPs are not enabled), LOW when only shares that
//! already allow external principals stay open, INFORMATIONAL (status WARNING) for the management
//! account, which no SCP ever covers. A covered account calls for no finding, so an earlier one
//! is resolved.

use std::collections::BTreeMap;

use super::{AccountCoverage, Blocker, CoverageState, SharingAttempt};
use crate::bounded;
use crate::finding::{
    product_arn, severity_original, ComplianceStatus, Draft, ExistingFinding, Finding,
    FindingCompliance, FindingContext, FindingProviderFields, Recommendation, RecordState,
    Remediation, Resource, ResourceDetails, Severity, SeverityLabel, RELATED_REQUIREMENT,
    SCHEMA_VERSION,
};

/// The GeneratorId of guardrail findings (share findings have their own).
pub const GENERATOR_ID: &str = "ramguard/ram-guardrail-coverage";
/// The ASFF type of guardrail findings.
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/RAM Sharing Guardrail";
/// Where the SCP examples for RAM are documented.
const SCP_DOC_URL: &str = "https://docs.aws.amazon.com/ram/latest/userguide/scp.html";

/// The ASFF resource id of an account.
pub fn account_resource_id(account: &str) -> String {
    format!("AWS::::Account:{account}")
}

/// The deterministic finding Id of an account's guardrail finding.
pub fn finding_id(partition: &str, account: &str) -> String {
    format!("ramguard/{partition}/account/{account}/ram-guardrail")
}

fn label(state: CoverageState) -> SeverityLabel {
    match state {
        CoverageState::Uncovered | CoverageState::ScpsNotEnabled => SeverityLabel::Medium,
        CoverageState::Partial => SeverityLabel::Low,
        CoverageState::ManagementAccount | CoverageState::Covered => SeverityLabel::Informational,
    }
}

fn attempts_text(coverage: &AccountCoverage) -> String {
    coverage
        .attempts
        .iter()
        .map(|d| match &d.blocked_by {
            Some(Blocker::Denied {
                policy_name,
                policy_id,
                target_id,
                ..
            }) => format!(
                "{}: denied by {policy_name} ({policy_id}) on {target_id}.",
                d.attempt.describe()
            ),
            Some(Blocker::NotAllowed { target_id }) => {
                format!("{}: no SCP on {target_id} allows it.", d.attempt.describe())
            }
            None => format!("{}: allowed.", d.attempt.describe()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The finding an account's coverage calls for (none when it is covered). `org_sharing` is
/// whether RAM's sharing with the organization is enabled, when known.
pub fn guardrail_finding(
    coverage: &AccountCoverage,
    ctx: &FindingContext,
    org_sharing: Option<bool>,
) -> Option<Finding> {
    let account = &coverage.account;
    let (title, status, recommendation) = match coverage.state {
        CoverageState::Covered => return None,
        CoverageState::ManagementAccount => (
            format!("Management account {account} is never covered by SCPs"),
            ComplianceStatus::Warning,
            "SCPs never apply to the management account: keep workloads and resource shares out of it, limit who can sign in to it, and rely on ramguard's detection and remediation there.".to_string(),
        ),
        CoverageState::ScpsNotEnabled => (
            format!("Account {account}: no SCP stops sharing outside the organization (SCPs not enabled)"),
            ComplianceStatus::Failed,
            "Enable the SERVICE_CONTROL_POLICY policy type on the organization's root, then deploy ramguard's RAM guardrail (DeployGuardrail=true) or an SCP that denies the same calls.".to_string(),
        ),
        CoverageState::Partial => (
            format!("Account {account}: shares that allow external principals can still take outside principals"),
            ComplianceStatus::Failed,
            "Deny ram:AssociateResourceShare where ram:AllowsExternalPrincipals is true (ramguard's RAM guardrail does), or turn allowExternalPrincipals off on the account's shares.".to_string(),
        ),
        CoverageState::Uncovered => (
            format!("Account {account}: no SCP stops sharing outside the organization"),
            ComplianceStatus::Failed,
            "Attach ramguard's RAM guardrail (DeployGuardrail=true, GuardrailTargetIds) or an SCP that denies ram:CreateResourceShare with ram:RequestedAllowsExternalPrincipals and ram:AssociateResourceShare on shares that allow external principals, on a root or OU above the account.".to_string(),
        ),
    };
    let mut description = coverage.annotation();
    let attempts = attempts_text(coverage);
    if !attempts.is_empty() {
        description = format!("{description} {attempts}");
    }
    if !coverage.unreadable_policies.is_empty() {
        description = format!(
            "{description} Policies that could not be read (taken to deny nothing): {}.",
            coverage.unreadable_policies.join(", ")
        );
    }
    match org_sharing {
        Some(true) => description.push_str(" RAM sharing with the organization is enabled."),
        Some(false) => description.push_str(" RAM sharing with the organization is not enabled: shares to member accounts go out as invitations, which SCPs on AcceptResourceShareInvitation can stop."),
        None => {}
    }
    let mut other = BTreeMap::from([
        ("coverage".to_string(), coverage.state.as_str().to_string()),
        (
            "createExternalShare".to_string(),
            blocked_text(coverage, SharingAttempt::CreateExternal),
        ),
        (
            "associateOutsider".to_string(),
            blocked_text(coverage, SharingAttempt::AssociateOutsider),
        ),
    ]);
    if let Some(enabled) = org_sharing {
        other.insert("ramSharingWithOrganization".into(), enabled.to_string());
    }
    Some(
        Draft {
            id: finding_id(&ctx.partition, account),
            generator_id: GENERATOR_ID,
            finding_type: FINDING_TYPE,
            label: label(coverage.state),
            status,
            title,
            description,
            recommendation,
            product_fields: BTreeMap::from([("ramguard/Account".to_string(), account.to_string())]),
            resources: vec![Resource {
                resource_type: "AwsAccount".into(),
                id: account_resource_id(account),
                partition: ctx.partition.clone(),
                region: ctx.region.clone(),
                details: ResourceDetails { other },
            }],
        }
        .finish(ctx)
        .with_url(SCP_DOC_URL),
    )
}

fn blocked_text(coverage: &AccountCoverage, attempt: SharingAttempt) -> String {
    match coverage.decision(attempt) {
        Some(Blocker::Denied { policy_id, .. }) => format!("denied by {policy_id}"),
        Some(Blocker::NotAllowed { target_id }) => format!("not allowed on {target_id}"),
        None if coverage.attempts.is_empty() => "not judged".into(),
        None => "allowed".into(),
    }
}

impl Finding {
    fn with_url(mut self, url: &str) -> Finding {
        self.remediation.recommendation.url = url.to_string();
        self
    }
}

/// The resolution of an account's earlier guardrail finding: PASSED, ARCHIVED, INFORMATIONAL.
pub fn guardrail_resolution(
    prev: &ExistingFinding,
    account: &str,
    ctx: &FindingContext,
    updated_at: &str,
) -> Finding {
    Finding {
        schema_version: SCHEMA_VERSION.into(),
        id: prev.id.clone(),
        product_arn: product_arn(&ctx.partition, &ctx.region, &ctx.account),
        generator_id: GENERATOR_ID.into(),
        aws_account_id: ctx.account.clone(),
        types: Vec::new(),
        created_at: prev.created_at.clone(),
        updated_at: updated_at.to_string(),
        first_observed_at: prev
            .first_observed_at
            .clone()
            .unwrap_or_else(|| prev.created_at.clone()),
        last_observed_at: updated_at.to_string(),
        finding_provider_fields: FindingProviderFields {
            severity: Severity {
                label: SeverityLabel::Informational,
                original: severity_original(SeverityLabel::Informational).into(),
            },
            types: vec![FINDING_TYPE.into()],
        },
        title: bounded(
            &format!("Account {account}: SCPs stop sharing outside the organization"),
            256,
        ),
        description: format!(
            "Resolved: the SCPs in force on account {account} stop sharing outside the organization."
        ),
        remediation: Remediation {
            recommendation: Recommendation {
                text: "No action needed.".into(),
                url: SCP_DOC_URL.into(),
            },
        },
        product_fields: BTreeMap::from([("ramguard/Account".to_string(), account.to_string())]),
        resources: vec![Resource {
            resource_type: "AwsAccount".into(),
            id: account_resource_id(account),
            partition: ctx.partition.clone(),
            region: ctx.region.clone(),
            details: ResourceDetails {
                other: BTreeMap::new(),
            },
        }],
        compliance: FindingCompliance {
            status: ComplianceStatus::Passed,
            related_requirements: vec![RELATED_REQUIREMENT.into()],
        },
        record_state: RecordState::Archived,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guardrail::AttemptDecision;

    fn ctx() -> FindingContext {
        FindingContext {
            partition: "aws".into(),
            region: "eu-west-1".into(),
            account: "222222222222".into(),
            now: "2026-12-06T10:00:00.000Z".into(),
        }
    }

    fn coverage(state: CoverageState, open: &[SharingAttempt]) -> AccountCoverage {
        AccountCoverage {
            account: "222222222222".into(),
            state,
            attempts: SharingAttempt::ALL
                .iter()
                .map(|&attempt| AttemptDecision {
                    attempt,
                    blocked_by: (!open.contains(&attempt)).then(|| Blocker::NotAllowed {
                        target_id: "ou-a".into(),
                    }),
                })
                .collect(),
            unreadable_policies: vec![],
        }
    }

    #[test]
    fn severities_follow_what_is_open() {
        let uncovered = guardrail_finding(
            &coverage(CoverageState::Uncovered, &SharingAttempt::ALL),
            &ctx(),
            Some(true),
        )
        .expect("a finding");
        assert_eq!(
            uncovered.finding_provider_fields.severity.label,
            SeverityLabel::Medium
        );
        assert_eq!(uncovered.compliance.status, ComplianceStatus::Failed);
        assert!(uncovered
            .description
            .contains("sharing with the organization is enabled"));
        assert_eq!(uncovered.generator_id, GENERATOR_ID);
        assert_eq!(uncovered.resources[0].id, "AWS::::Account:222222222222");
        let partial = guardrail_finding(
            &coverage(CoverageState::Partial, &[SharingAttempt::AssociateOutsider]),
            &ctx(),
            None,
        )
        .expect("a finding");
        assert_eq!(
            partial.finding_provider_fields.severity.label,
            SeverityLabel::Low
        );
        let management = AccountCoverage {
            attempts: vec![],
            ..coverage(CoverageState::ManagementAccount, &[])
        };
        let management = guardrail_finding(&management, &ctx(), Some(false)).expect("a finding");
        assert_eq!(
            management.finding_provider_fields.severity.label,
            SeverityLabel::Informational
        );
        assert_eq!(management.compliance.status, ComplianceStatus::Warning);
        assert!(management.description.contains("not enabled"));
        assert!(guardrail_finding(&coverage(CoverageState::Covered, &[]), &ctx(), None).is_none());
    }

    #[test]
    fn the_resolution_keeps_the_id_and_passes() {
        let prev = ExistingFinding {
            id: finding_id("aws", "222222222222"),
            created_at: "2026-12-01T00:00:00.000Z".into(),
            updated_at: "2026-12-01T00:00:00.000Z".into(),
            first_observed_at: None,
            open: true,
            principal: None,
        };
        let r = guardrail_resolution(&prev, "222222222222", &ctx(), "2026-12-06T10:00:00.000Z");
        assert_eq!(r.id, prev.id);
        assert_eq!(r.compliance.status, ComplianceStatus::Passed);
        assert_eq!(r.record_state, RecordState::Archived);
    }
}
