//! One Security Hub finding per (share, baseline violation): its own type, a severity by rule
//! (the baseline's `severities`), the baseline's version; resolved like the others when the share
//! complies.

use std::collections::BTreeMap;

use super::{BaselineViolation, Severities};
use crate::finding::{
    sha256_hex, ComplianceStatus, Draft, Finding, FindingContext, Resource, ResourceDetails,
    SeverityLabel, FIELD_SHARE_ARN, GENERATOR_ID,
};
use crate::{bounded, ResourceShare};

/// The ASFF type of baseline findings.
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/RAM Sharing Baseline";
/// The product field naming the broken rule.
pub const FIELD_RULE: &str = "ramguard/BaselineRule";
/// The product field carrying the baseline's version.
pub const FIELD_VERSION: &str = "ramguard/BaselineVersion";

/// The finding Id of a (share, violation): readable when it fits ASFF's 512 characters.
pub fn finding_id(share_arn: &str, violation: &BaselineViolation) -> String {
    let readable = format!("{share_arn}/baseline/{}", violation.key());
    if readable.chars().count() <= 512 {
        readable
    } else {
        format!(
            "{share_arn}/baseline-sha256/{}",
            sha256_hex(&violation.key())
        )
    }
}

fn label(text: &str) -> SeverityLabel {
    match text {
        "HIGH" => SeverityLabel::High,
        "LOW" => SeverityLabel::Low,
        "INFORMATIONAL" => SeverityLabel::Informational,
        _ => SeverityLabel::Medium,
    }
}

fn recommendation(v: &BaselineViolation) -> String {
    match v {
        BaselineViolation::Boundary { .. } => "Remove the principal from the share, or add a crossing to the baseline if the organization allows this sharing.".into(),
        BaselineViolation::ResourceType { .. } => "Remove the resource from the share, or allow its type in the baseline.".into(),
        BaselineViolation::PrincipalForm { .. } => "Share with another form of principal (an account instead of the organization, a role instead of a user).".into(),
        BaselineViolation::RequiredTag { tag } => format!("Tag the resource share with {tag} (TagResource)."),
        BaselineViolation::Expired { tag, .. } | BaselineViolation::InvalidExpiry { tag, .. } => format!("Delete the resource share if it is no longer needed, or set {tag} to a later date."),
    }
}

/// The findings of a share's baseline violations.
pub fn baseline_findings(
    share: &ResourceShare,
    found: &[BaselineViolation],
    version: &str,
    severities: &Severities,
    ctx: &FindingContext,
) -> Vec<Finding> {
    let name = if share.name.is_empty() {
        &share.arn
    } else {
        &share.name
    };
    found
        .iter()
        .map(|v| {
            Draft {
                id: finding_id(&share.arn, v),
                generator_id: GENERATOR_ID,
                finding_type: FINDING_TYPE,
                label: label(v.severity(severities)),
                status: ComplianceStatus::Failed,
                title: format!("RAM resource share {name} breaks the sharing baseline: {}", v.describe()),
                description: format!(
                    "The AWS RAM resource share {} owned by account {} breaks the organization's sharing baseline {version}: {}.",
                    share.arn,
                    share.owner,
                    v.describe()
                ),
                recommendation: recommendation(v),
                product_fields: BTreeMap::from([
                    (FIELD_SHARE_ARN.to_string(), share.arn.clone()),
                    (FIELD_RULE.to_string(), bounded(&v.key(), 2047)),
                    (FIELD_VERSION.to_string(), bounded(version, 2047)),
                ]),
                resources: vec![Resource {
                    resource_type: "Other".into(),
                    id: share.arn.clone(),
                    partition: ctx.partition.clone(),
                    region: ctx.region.clone(),
                    details: ResourceDetails {
                        other: BTreeMap::from([
                            ("shareName".to_string(), bounded(&share.name, 1023)),
                            ("shareOwner".to_string(), share.owner.clone()),
                        ]),
                    },
                }],
            }
            .finish(ctx)
        })
        .collect()
}
