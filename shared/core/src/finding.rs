//! Security Hub findings (ASFF 2018-10-08) for shares that reach outside the organization:
//! one finding per (share, outside principal), plus one per share flagged in strict mode.
//! Pure: the ids, texts, severities and the reconciliation with earlier findings.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::principal::PrincipalKind;
use crate::share::{Exposure, ResourceShare};
use crate::text::bounded;
use crate::verdict::{ExternalPrincipal, OutsideReason, ShareVerdict, VerdictReason};

/// ASFF's schema version.
pub const SCHEMA_VERSION: &str = "2018-10-08";
/// The GeneratorId of every ramguard finding: how earlier findings are found again.
pub const GENERATOR_ID: &str = "ramguard/ram-share-outside-organization";
/// The finding type of a principal outside the organization.
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/RAM Sharing Outside Organization";
/// The type of a finding on a share that lets accounts keep access after leaving the organization.
pub const RETAINED_ACCESS_TYPE: &str =
    "Software and Configuration Checks/AWS Security Best Practices/RAM Sharing Retained After Leaving Organization";
/// The Well-Architected practice the findings relate to.
pub const RELATED_REQUIREMENT: &str = "AWS Well-Architected SEC03-BP08";
/// The RAM documentation the findings' recommendations link to.
pub const RAM_DOC_URL: &str =
    "https://docs.aws.amazon.com/ram/latest/userguide/working-with-sharing-update.html";
/// ProductFields keys.
pub const FIELD_SHARE_ARN: &str = "ramguard/ShareArn";
/// The product field naming a finding's principal.
pub const FIELD_PRINCIPAL: &str = "ramguard/Principal";

const MAX_ID: usize = 512;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_OTHER_VALUE: usize = 1023;
const MAX_RECOMMENDATION: usize = 512;
/// ASFF takes at most 32 resources per finding: the share and up to 31 of what it carries.
const MAX_SHARED_RESOURCES: usize = 31;

/// Severity label, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeverityLabel {
    /// A principal with access.
    High,
    /// A pending invitation, or a service principal with an outside source.
    Medium,
    /// Strict mode's flags.
    Low,
    /// A resolved finding.
    Informational,
}

impl SeverityLabel {
    /// ASFF's label.
    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::High => "HIGH",
            SeverityLabel::Medium => "MEDIUM",
            SeverityLabel::Low => "LOW",
            SeverityLabel::Informational => "INFORMATIONAL",
        }
    }
}

/// What a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A principal outside the organization.
    Principal(&'a ExternalPrincipal),
    /// Strict mode: the share allows external principals.
    AllowsExternalPrincipals,
    /// Strict mode: accounts keep access after leaving the organization.
    RetainsAccessOnLeave,
}

/// Severity: an established association with an outside account, IAM principal or foreign
/// organization is HIGH; a pending invitation or a flagged service principal is MEDIUM; the
/// strict-mode flag alone is LOW.
pub fn severity(subject: &Subject<'_>) -> SeverityLabel {
    match subject {
        Subject::AllowsExternalPrincipals => SeverityLabel::Low,
        Subject::RetainsAccessOnLeave => SeverityLabel::Medium,
        Subject::Principal(p) if p.is_pending() => SeverityLabel::Medium,
        Subject::Principal(p) if p.reason == OutsideReason::FlaggedServicePrincipal => {
            SeverityLabel::Medium
        }
        Subject::Principal(_) => SeverityLabel::High,
    }
}

pub(crate) fn severity_original(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::High => "70",
        SeverityLabel::Medium => "40",
        SeverityLabel::Low => "10",
        SeverityLabel::Informational => "0",
    }
}

/// The deterministic finding Id of a subject, so repeated imports update one finding.
pub fn finding_id(share_arn: &str, subject: &Subject<'_>) -> String {
    match subject {
        Subject::Principal(p) => principal_finding_id(share_arn, &p.entity),
        Subject::AllowsExternalPrincipals => format!("{share_arn}/allow-external-principals"),
        Subject::RetainsAccessOnLeave => format!("{share_arn}/retains-access-on-leave"),
    }
}

/// The finding Id for a (share, principal) pair: readable when it fits ASFF's 512 characters,
/// else a digest of the principal.
pub fn principal_finding_id(share_arn: &str, principal: &str) -> String {
    let readable = format!("{share_arn}/principal/{principal}");
    if readable.chars().count() <= MAX_ID {
        return readable;
    }
    format!("{share_arn}/principal-sha256/{}", sha256_hex(principal))
}

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// ASFF `Severity` (sent through FindingProviderFields).
pub struct Severity {
    /// The label.
    pub label: SeverityLabel,
    /// ramguard's own name for it.
    pub original: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// What the provider sets: Security Hub ignores top-level Severity and Types on updates.
pub struct FindingProviderFields {
    /// The severity.
    pub severity: Severity,
    /// The finding types.
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// ASFF `Remediation.Recommendation`.
pub struct Recommendation {
    /// What to do.
    pub text: String,
    /// Where to read more.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// ASFF `Remediation`.
pub struct Remediation {
    /// The recommendation.
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// ASFF `Resources[].Details`.
pub struct ResourceDetails {
    /// `Details.Other`: at most 50 pairs within Security Hub's limits.
    pub other: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// An ASFF resource: the share, or a shared resource.
pub struct Resource {
    #[serde(rename = "Type")]
    /// ASFF's resource type (`Other` for a share).
    pub resource_type: String,
    /// The resource's ARN.
    pub id: String,
    /// Its partition.
    pub partition: String,
    /// Its Region.
    pub region: String,
    /// Its details.
    pub details: ResourceDetails,
}

/// ASFF Compliance.Status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceStatus {
    /// Resolved.
    Passed,
    /// Open, for attention rather than a failed check (the management account, which no SCP
    /// covers).
    Warning,
    /// Open.
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
/// ASFF `Compliance`.
pub struct FindingCompliance {
    /// PASSED or FAILED.
    pub status: ComplianceStatus,
    /// The related requirements.
    pub related_requirements: Vec<String>,
}

/// ASFF RecordState.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecordState {
    /// Open.
    Active,
    /// Resolved.
    Archived,
}

/// One ASFF finding, serialized with ASFF's attribute names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    /// ASFF `SchemaVersion`.
    pub schema_version: String,
    /// ASFF `Id`: deterministic per (share, principal) or (share, flag).
    pub id: String,
    /// ASFF `ProductArn`: ramguard's custom integration.
    pub product_arn: String,
    /// ASFF `GeneratorId`.
    pub generator_id: String,
    /// ASFF `AwsAccountId`: the share owner.
    pub aws_account_id: String,
    /// ASFF `Types` (first import only).
    pub types: Vec<String>,
    /// ASFF `CreatedAt`: kept from the first import.
    pub created_at: String,
    /// ASFF `UpdatedAt`: only moves forward.
    pub updated_at: String,
    /// ASFF `FirstObservedAt`.
    pub first_observed_at: String,
    /// ASFF `LastObservedAt`.
    pub last_observed_at: String,
    /// ASFF `FindingProviderFields`.
    pub finding_provider_fields: FindingProviderFields,
    /// ASFF `Title`.
    pub title: String,
    /// ASFF `Description`.
    pub description: String,
    /// ASFF `Remediation`.
    pub remediation: Remediation,
    /// ASFF `ProductFields` (ramguard's own namespace).
    pub product_fields: BTreeMap<String, String>,
    /// ASFF `Resources`: the share first, then its resources (at most 32).
    pub resources: Vec<Resource>,
    /// ASFF `Compliance`.
    pub compliance: FindingCompliance,
    /// ASFF `RecordState`.
    pub record_state: RecordState,
}

impl Finding {
    /// The serialized size, for BatchImportFindings' per-finding and per-call limits.
    pub fn size(&self) -> usize {
        serde_json::to_vec(self)
            .map(|v| v.len())
            .unwrap_or(usize::MAX)
    }
}

/// Where findings are imported: the share owner's account (Security Hub accepts a finding only
/// from the account it names) in the share's Region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingContext {
    /// The share's partition.
    pub partition: String,
    /// The share's Region.
    pub region: String,
    /// The share owner's account.
    pub account: String,
    /// ASFF timestamp of this run.
    pub now: String,
}

/// The custom-integration product ARN of an account.
pub fn product_arn(partition: &str, region: &str, account: &str) -> String {
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

fn principal_kind_text(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::Account => "AWS account",
        PrincipalKind::Organization => "organization",
        PrincipalKind::OrganizationalUnit => "organizational unit",
        PrincipalKind::IamRole => "IAM role",
        PrincipalKind::IamUser => "IAM user",
        PrincipalKind::ServicePrincipal => "service principal",
        PrincipalKind::Unrecognized => "unrecognized principal",
    }
}

/// The findings a verdict calls for: one per outside principal, or one for the strict-mode flag.
/// Compliant, exempt and deleted shares call for none.
pub fn findings_for(
    share: &ResourceShare,
    verdict: &ShareVerdict,
    ctx: &FindingContext,
    exposure: &Exposure,
) -> Vec<Finding> {
    match verdict.reason {
        VerdictReason::OutsidePrincipals => verdict
            .external
            .iter()
            .map(|p| build(share, &Subject::Principal(p), ctx, verdict, exposure))
            .collect(),
        VerdictReason::AllowsExternalPrincipals => {
            vec![build(
                share,
                &Subject::AllowsExternalPrincipals,
                ctx,
                verdict,
                exposure,
            )]
        }
        VerdictReason::RetainsAccessOnLeave => {
            vec![build(
                share,
                &Subject::RetainsAccessOnLeave,
                ctx,
                verdict,
                exposure,
            )]
        }
        _ => Vec::new(),
    }
}

/// "Shared: 3 resources (ec2:Subnet, ec2:TransitGateway) with permissions AWSRAM…." or None.
fn exposed_text(exposure: &Exposure) -> Option<String> {
    if exposure.resources.is_empty() {
        return None;
    }
    let types = exposure.resource_types();
    let n = exposure.resources.len();
    let mut text = format!(
        "Shared: {n} resource{} ({})",
        if n == 1 { "" } else { "s" },
        types.join(", ")
    );
    if !exposure.permissions.is_empty() {
        text.push_str(&format!(
            " with permissions {}",
            exposure.permissions.join(", ")
        ));
    }
    text.push('.');
    Some(text)
}

fn finding_type(subject: &Subject<'_>) -> &'static str {
    match subject {
        Subject::RetainsAccessOnLeave => RETAINED_ACCESS_TYPE,
        _ => FINDING_TYPE,
    }
}

/// A principal's finding: its title, description and recommendation, and its details.
fn principal_text(
    share: &ResourceShare,
    p: &ExternalPrincipal,
    name: &str,
    other: &mut BTreeMap<String, String>,
    product_fields: &mut BTreeMap<String, String>,
) -> (String, String, String) {
    let kind = principal_kind_text(p.kind);
    other.insert("principal".into(), bounded(&p.entity, MAX_OTHER_VALUE));
    other.insert("principalKind".into(), p.kind.as_str().into());
    other.insert("associationStatus".into(), p.status.clone());
    other.insert("outsideReason".into(), p.reason.as_str().into());
    product_fields.insert(FIELD_PRINCIPAL.into(), bounded(&p.entity, 2047));
    let state = if p.is_pending() {
        "has a pending invitation to"
    } else {
        "has access to"
    };
    let on_behalf = if p.sources.is_empty() {
        String::new()
    } else {
        other.insert(
            "outsideSources".into(),
            bounded(&p.sources.join(", "), MAX_OTHER_VALUE),
        );
        format!(
            " and may use it on behalf of sources outside the organization: {}",
            p.sources.join(", ")
        )
    };
    let mut description = format!(
        "The {kind} {} ({}) {state} the AWS RAM resource share {} owned by account {}{on_behalf}. \
         Association status: {}.",
        p.entity,
        p.reason.as_str(),
        share.arn,
        share.owner,
        p.status
    );
    if !crate::share::AssociationStatus::parse(&p.status).is_removable() {
        description.push_str(&format!(
            " ramguard does not remove principals in status {} automatically: review the share in RAM.",
            p.status
        ));
    }
    let recommendation = if share.is_created_from_policy() {
        format!(
            "This share was created from a resource-based policy, and RAM cannot change it until \
             it is promoted: promote it (PromoteResourceShareCreatedFromPolicy) and then remove {}, \
             or remove {} from the resource's policy.",
            p.entity, p.entity
        )
    } else if !p.sources.is_empty() {
        format!(
            "Remove the sources outside the organization ({}) from the resource share \
             (DisassociateResourceShare with sources), or remove {} from it.",
            p.sources.join(", "),
            p.entity
        )
    } else {
        format!(
            "Remove {} from the resource share (DisassociateResourceShare). If it is a \
             trusted partner, list its account in TrustedAccountIds or tag the share with \
             the exemption tag instead.",
            p.entity
        )
    };
    (
        format!("RAM resource share {name} is shared outside the organization"),
        description,
        recommendation,
    )
}

/// What a share exposes, in the share resource's details.
fn exposure_details(exposure: &Exposure, other: &mut BTreeMap<String, String>) {
    if !exposure.resources.is_empty() {
        other.insert(
            "sharedResources".into(),
            exposure.resources.len().to_string(),
        );
        let types = exposure.resource_types();
        other.insert(
            "sharedResourceTypes".into(),
            bounded(&types.join(", "), MAX_OTHER_VALUE),
        );
    }
    if !exposure.permissions.is_empty() {
        other.insert(
            "permissions".into(),
            bounded(&exposure.permissions.join(", "), MAX_OTHER_VALUE),
        );
    }
}

fn build(
    share: &ResourceShare,
    subject: &Subject<'_>,
    ctx: &FindingContext,
    verdict: &ShareVerdict,
    exposure: &Exposure,
) -> Finding {
    let label = severity(subject);
    let name = if share.name.is_empty() {
        share.arn.as_str()
    } else {
        share.name.as_str()
    };
    let mut other = BTreeMap::from([
        (
            "shareName".to_string(),
            bounded(&share.name, MAX_OTHER_VALUE),
        ),
        ("shareOwner".to_string(), share.owner.clone()),
        (
            "allowExternalPrincipals".to_string(),
            share.allow_external_principals.to_string(),
        ),
    ]);
    let mut product_fields = BTreeMap::from([(FIELD_SHARE_ARN.to_string(), share.arn.clone())]);
    let (title, description, recommendation) = match subject {
        Subject::Principal(p) => principal_text(share, p, name, &mut other, &mut product_fields),
        Subject::RetainsAccessOnLeave => (
            format!("RAM resource share {name} stays shared with accounts that leave the organization"),
            format!(
                "The AWS RAM resource share {} owned by account {} lets accounts keep access after \
                 they leave the organization (retainSharingOnAccountLeaveOrganization=true).",
                share.arn, share.owner
            ),
            "Turn retainSharingOnAccountLeaveOrganization off for the resource share unless accounts \
             that leave the organization must keep the shared resources."
                .to_string(),
        ),
        Subject::AllowsExternalPrincipals => (
            format!("RAM resource share {name} allows principals outside the organization"),
            format!(
                "The AWS RAM resource share {} owned by account {} allows external principals \
                 (allowExternalPrincipals=true), so it can be shared outside the organization.",
                share.arn, share.owner
            ),
            "Set allowExternalPrincipals to false on the resource share (UpdateResourceShare) so \
             it can only be shared inside the organization."
                .to_string(),
        ),
    };
    // an exemption tag that exempts nothing is said on the finding, where a reviewer looks
    let description = match &verdict.exemption_warning {
        Some(w) => format!("{description} {w}"),
        None => description,
    };
    // what is exposed, so a reviewer can judge the risk without opening RAM
    let description = match exposed_text(exposure) {
        Some(e) => format!("{description} {e}"),
        None => description,
    };
    exposure_details(exposure, &mut other);
    let resources = resources_of(share, ctx, exposure, other);
    Draft {
        id: finding_id(&share.arn, subject),
        generator_id: GENERATOR_ID,
        finding_type: finding_type(subject),
        label,
        status: ComplianceStatus::Failed,
        title,
        description,
        recommendation,
        product_fields,
        resources,
    }
    .finish(ctx)
}

/// The share itself (with `other` as its details), then the resources it shares, up to
/// [`MAX_SHARED_RESOURCES`].
fn resources_of(
    share: &ResourceShare,
    ctx: &FindingContext,
    exposure: &Exposure,
    other: BTreeMap<String, String>,
) -> Vec<Resource> {
    let mut resources = vec![Resource {
        resource_type: "Other".into(),
        id: share.arn.clone(),
        partition: ctx.partition.clone(),
        region: ctx.region.clone(),
        details: ResourceDetails { other },
    }];
    for r in exposure.resources.iter().take(MAX_SHARED_RESOURCES) {
        let region = if r.region().is_empty() {
            ctx.region.clone()
        } else {
            r.region().to_string()
        };
        resources.push(Resource {
            resource_type: "Other".into(),
            id: bounded(&r.arn, MAX_OTHER_VALUE),
            partition: ctx.partition.clone(),
            region,
            details: ResourceDetails {
                other: BTreeMap::from([
                    (
                        "ramResourceType".to_string(),
                        bounded(&r.resource_type, MAX_OTHER_VALUE),
                    ),
                    ("sharedBy".to_string(), share.arn.clone()),
                ]),
            },
        });
    }
    resources
}

/// What makes one finding its own: the rest is the same for every ramguard finding.
pub(crate) struct Draft {
    pub(crate) id: String,
    pub(crate) generator_id: &'static str,
    pub(crate) finding_type: &'static str,
    pub(crate) label: SeverityLabel,
    pub(crate) status: ComplianceStatus,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) recommendation: String,
    pub(crate) product_fields: BTreeMap<String, String>,
    pub(crate) resources: Vec<Resource>,
}

impl Draft {
    /// The ASFF finding, open, observed now, its texts within ASFF's limits.
    pub(crate) fn finish(self, ctx: &FindingContext) -> Finding {
        Finding {
            schema_version: SCHEMA_VERSION.into(),
            id: self.id,
            product_arn: product_arn(&ctx.partition, &ctx.region, &ctx.account),
            generator_id: self.generator_id.into(),
            aws_account_id: ctx.account.clone(),
            types: vec![self.finding_type.into()],
            created_at: ctx.now.clone(),
            updated_at: ctx.now.clone(),
            first_observed_at: ctx.now.clone(),
            last_observed_at: ctx.now.clone(),
            finding_provider_fields: FindingProviderFields {
                severity: Severity {
                    label: self.label,
                    original: severity_original(self.label).into(),
                },
                types: vec![self.finding_type.into()],
            },
            title: bounded(&self.title, MAX_TITLE),
            description: bounded(&self.description, MAX_DESCRIPTION),
            remediation: Remediation {
                recommendation: Recommendation {
                    text: bounded(&self.recommendation, MAX_RECOMMENDATION),
                    url: RAM_DOC_URL.into(),
                },
            },
            product_fields: self.product_fields,
            resources: self.resources,
            compliance: FindingCompliance {
                status: self.status,
                related_requirements: vec![RELATED_REQUIREMENT.into()],
            },
            record_state: RecordState::Active,
        }
    }
}

/// An earlier ramguard finding, as Security Hub returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingFinding {
    /// ASFF `Id`.
    pub id: String,
    /// ASFF `CreatedAt`.
    pub created_at: String,
    /// ASFF `UpdatedAt`.
    pub updated_at: String,
    /// ASFF `FirstObservedAt`, when set.
    pub first_observed_at: Option<String>,
    /// ACTIVE and not PASSED: still open.
    pub open: bool,
    /// ramguard's own `ramguard/Principal` product field, for a principal's finding.
    pub principal: Option<String>,
}

/// The resolution of an earlier finding, built from ramguard's own model (never from a copy of
/// what GetFindings returned, which carries fields Security Hub owns: `aws/…` product fields,
/// Region, ProcessedAt, …): Compliance PASSED, RecordState ARCHIVED, severity INFORMATIONAL, the
/// original CreatedAt and FirstObservedAt, a later UpdatedAt. Top-level Types are left to the
/// customer; the provider's go in FindingProviderFields.
pub fn resolution(
    prev: &ExistingFinding,
    share_arn: &str,
    share_name: Option<&str>,
    ctx: &FindingContext,
    updated_at: &str,
) -> Finding {
    let name = share_name.filter(|n| !n.is_empty()).unwrap_or(share_arn);
    let retained = prev.id.ends_with("/retains-access-on-leave");
    let baseline = prev.id.contains("/baseline/") || prev.id.contains("/baseline-sha256/");
    let (title, description) = match (&prev.principal, retained) {
        _ if baseline => (
            format!("RAM resource share {name} no longer breaks this rule of the sharing baseline"),
            format!("Resolved: the AWS RAM resource share {share_arn} no longer breaks this rule of the organization's sharing baseline, or the baseline no longer has it."),
        ),
        (Some(p), _) => (
            format!("RAM resource share {name} no longer reaches {p}"),
            format!("Resolved: {p} no longer reaches the AWS RAM resource share {share_arn}."),
        ),
        (None, true) => (
            format!("RAM resource share {name} no longer stays shared after leaving the organization"),
            format!("Resolved: the AWS RAM resource share {share_arn} no longer lets accounts keep access after they leave the organization, or is no longer judged in strict mode."),
        ),
        (None, false) => (
            format!("RAM resource share {name} no longer allows principals outside the organization"),
            format!("Resolved: the AWS RAM resource share {share_arn} no longer allows external principals, or is no longer judged in strict mode."),
        ),
    };
    let mut product_fields = BTreeMap::from([(FIELD_SHARE_ARN.to_string(), share_arn.to_string())]);
    if let Some(p) = &prev.principal {
        product_fields.insert(FIELD_PRINCIPAL.into(), bounded(p, 2047));
    }
    let kind = if baseline {
        crate::baseline::FINDING_TYPE
    } else if retained {
        RETAINED_ACCESS_TYPE
    } else {
        FINDING_TYPE
    };
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
            types: vec![kind.into()],
        },
        title: bounded(&title, MAX_TITLE),
        description: bounded(&description, MAX_DESCRIPTION),
        remediation: Remediation {
            recommendation: Recommendation {
                text: "No action needed: the share no longer reaches outside the organization in this way.".into(),
                url: RAM_DOC_URL.into(),
            },
        },
        product_fields,
        resources: vec![Resource {
            resource_type: "Other".into(),
            id: share_arn.to_string(),
            partition: ctx.partition.clone(),
            region: ctx.region.clone(),
            details: ResourceDetails {
                other: BTreeMap::from([("shareOwner".to_string(), ctx.account.clone())]),
            },
        }],
        compliance: FindingCompliance {
            status: ComplianceStatus::Passed,
            related_requirements: vec![RELATED_REQUIREMENT.into()],
        },
        record_state: RecordState::Archived,
    }
}

/// What to send to Security Hub for one share.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reconciliation {
    /// New findings and updates of open or reopened ones.
    pub import: Vec<Finding>,
    /// Earlier open findings no longer called for: (Id, the UpdatedAt to resolve them with).
    pub resolve: Vec<(String, String)>,
    /// Earlier findings already resolved and still not called for.
    pub already_resolved: usize,
}

/// The earliest timestamp strictly after `previous`, or `now` when that is later: UpdatedAt only
/// moves forward, even when the clock does not.
pub fn next_updated_at(now: &str, previous: &str) -> String {
    let (Some(now_ms), Some(prev_ms)) = (timestamp_millis(now), timestamp_millis(previous)) else {
        return now.to_string();
    };
    if now_ms > prev_ms {
        now.to_string()
    } else {
        format_millis(prev_ms + 1)
    }
}

/// Milliseconds since the epoch of an ASFF (RFC 3339) timestamp.
pub fn timestamp_millis(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, the one timestamp form ramguard writes.
pub fn format_millis(millis: i64) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Matches the findings a share calls for with the ones Security Hub already holds: an existing
/// finding keeps its CreatedAt and FirstObservedAt, UpdatedAt only moves forward, and open
/// findings no longer called for are resolved.
pub fn reconcile(desired: Vec<Finding>, existing: &[ExistingFinding], now: &str) -> Reconciliation {
    let by_id: BTreeMap<&str, &ExistingFinding> =
        existing.iter().map(|e| (e.id.as_str(), e)).collect();
    let wanted: BTreeSet<String> = desired.iter().map(|f| f.id.clone()).collect();
    let mut out = Reconciliation::default();
    for mut finding in desired {
        if let Some(prev) = by_id.get(finding.id.as_str()) {
            finding.created_at = prev.created_at.clone();
            finding.first_observed_at = prev
                .first_observed_at
                .clone()
                .unwrap_or_else(|| prev.created_at.clone());
            finding.updated_at = next_updated_at(now, &prev.updated_at);
            finding.last_observed_at = finding.updated_at.clone();
            // once a finding exists its top-level Types are the customer's
            finding.types.clear();
        }
        out.import.push(finding);
    }
    for prev in existing {
        if wanted.contains(&prev.id) {
            continue;
        }
        if prev.open {
            out.resolve
                .push((prev.id.clone(), next_updated_at(now, &prev.updated_at)));
        } else {
            out.already_resolved += 1;
        }
    }
    out
}

/// Splits items into batches of at most `max_count` items and `max_bytes` bytes (by `size`).
pub fn batches<T>(
    items: Vec<T>,
    max_count: usize,
    max_bytes: usize,
    size: impl Fn(&T) -> usize,
) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut bytes = 0;
    for item in items {
        let s = size(&item);
        let full = out
            .last()
            .is_none_or(|b| b.len() >= max_count || bytes + s > max_bytes);
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        bytes += s;
        out.last_mut().expect("a batch").push(item);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::ShareStatus;
    use crate::verdict::Compliance;

    fn share() -> ResourceShare {
        ResourceShare {
            arn: "arn:aws:ram:us-east-1:111111111111:resource-share/7f3c".into(),
            name: "subnets".into(),
            owner: "111111111111".into(),
            status: ShareStatus::Active,
            allow_external_principals: true,
            tags: BTreeMap::new(),
            principals: vec![],
            ..Default::default()
        }
    }

    fn outside(entity: &str, status: &str, kind: PrincipalKind) -> ExternalPrincipal {
        ExternalPrincipal {
            entity: entity.into(),
            kind,
            status: status.into(),
            reason: OutsideReason::NotAMember,
            sources: vec![],
        }
    }

    fn verdict(external: Vec<ExternalPrincipal>, reason: VerdictReason) -> ShareVerdict {
        ShareVerdict {
            share_arn: share().arn,
            compliance: Compliance::NonCompliant,
            reason,
            external,
            flag_mismatches: vec![],
            annotation: String::new(),
            exemption_warning: None,
            baseline: Vec::new(),
        }
    }

    fn ctx() -> FindingContext {
        FindingContext {
            partition: "aws".into(),
            region: "us-east-1".into(),
            account: "111111111111".into(),
            now: "2026-11-23T10:00:00.000Z".into(),
        }
    }

    #[test]
    fn one_finding_per_outside_principal_with_ranked_severity() {
        let v = verdict(
            vec![
                outside("999999999999", "ASSOCIATED", PrincipalKind::Account),
                outside("888888888888", "ASSOCIATING", PrincipalKind::Account),
                outside(
                    "arn:aws:iam::777777777777:role/x",
                    "ASSOCIATED",
                    PrincipalKind::IamRole,
                ),
            ],
            VerdictReason::OutsidePrincipals,
        );
        let f = findings_for(&share(), &v, &ctx(), &Exposure::default());
        let labels: Vec<_> = f
            .iter()
            .map(|f| f.finding_provider_fields.severity.label)
            .collect();
        assert_eq!(
            labels,
            [
                SeverityLabel::High,
                SeverityLabel::Medium,
                SeverityLabel::High
            ]
        );
        let strict = findings_for(
            &share(),
            &verdict(vec![], VerdictReason::AllowsExternalPrincipals),
            &ctx(),
            &Exposure::default(),
        );
        assert_eq!(strict.len(), 1);
        assert_eq!(
            strict[0].finding_provider_fields.severity.label,
            SeverityLabel::Low
        );
        assert!(
            SeverityLabel::High < SeverityLabel::Medium
                && SeverityLabel::Medium < SeverityLabel::Low
        );
        assert_ne!(f[0].id, f[1].id);
        assert_eq!(
            f[0].id,
            finding_id(&share().arn, &Subject::Principal(&v.external[0]))
        );
        assert_eq!(
            f[0].product_arn,
            "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default"
        );
    }

    #[test]
    fn an_invalid_exemption_is_said_on_the_finding() {
        let mut v = verdict(
            vec![outside(
                "999999999999",
                "ASSOCIATED",
                PrincipalKind::Account,
            )],
            VerdictReason::OutsidePrincipals,
        );
        let warning = "Tag ramguard:exempt=\"no\" is not a valid exemption (a date, or true) and exempts nothing.";
        v.exemption_warning = Some(warning.into());
        let f = findings_for(&share(), &v, &ctx(), &Exposure::default());
        assert!(f[0].description.ends_with(warning), "{}", f[0].description);
    }

    #[test]
    fn a_finding_says_what_the_share_exposes() {
        use crate::share::SharedResource;
        let v = verdict(
            vec![outside(
                "999999999999",
                "ASSOCIATED",
                PrincipalKind::Account,
            )],
            VerdictReason::OutsidePrincipals,
        );
        let subnet = |i: usize| SharedResource {
            arn: format!("arn:aws:ec2:eu-west-1:111111111111:subnet/subnet-{i:017}"),
            resource_type: "ec2:Subnet".into(),
        };
        let exposure = Exposure {
            resources: (0..40).map(subnet).collect(),
            permissions: vec!["AWSRAMDefaultPermissionSubnet".into()],
        };
        let f = &findings_for(&share(), &v, &ctx(), &exposure)[0];
        assert_eq!(f.resources.len(), 32, "ASFF takes at most 32 resources");
        assert_eq!(f.resources[1].region, "eu-west-1");
        assert_eq!(
            f.resources[1].details.other["ramResourceType"],
            "ec2:Subnet"
        );
        let share_details = &f.resources[0].details.other;
        assert_eq!(share_details["sharedResources"], "40");
        assert_eq!(
            share_details["permissions"],
            "AWSRAMDefaultPermissionSubnet"
        );
        assert!(f.description.ends_with(
            "Shared: 40 resources (ec2:Subnet) with permissions AWSRAMDefaultPermissionSubnet."
        ));
    }

    #[test]
    fn long_principals_stay_within_asff_limits() {
        let long = format!("arn:aws:iam::999999999999:role/{}", "p/".repeat(600));
        let v = verdict(
            vec![outside(&long, "ASSOCIATED", PrincipalKind::IamRole)],
            VerdictReason::OutsidePrincipals,
        );
        let f = &findings_for(&share(), &v, &ctx(), &Exposure::default())[0];
        assert!(f.id.chars().count() <= MAX_ID && f.id.contains("principal-sha256/"));
        assert!(f.title.chars().count() <= MAX_TITLE);
        assert!(f.description.chars().count() <= MAX_DESCRIPTION);
        assert!(f.resources[0]
            .details
            .other
            .values()
            .all(|v| v.chars().count() < 1024));
        assert!(serde_json::to_vec(f).unwrap().len() < 240 * 1024);
    }

    #[test]
    fn reconcile_keeps_created_at_moves_updated_at_forward_and_resolves_the_rest() {
        let v = verdict(
            vec![outside(
                "999999999999",
                "ASSOCIATED",
                PrincipalKind::Account,
            )],
            VerdictReason::OutsidePrincipals,
        );
        let desired = findings_for(&share(), &v, &ctx(), &Exposure::default());
        let id = desired[0].id.clone();
        let existing = vec![
            ExistingFinding {
                id: id.clone(),
                created_at: "2026-11-01T00:00:00.000Z".into(),
                updated_at: "2026-11-23T10:00:00.000Z".into(),
                first_observed_at: None,
                open: true,
                principal: None,
            },
            ExistingFinding {
                id: "gone-open".into(),
                created_at: "2026-11-01T00:00:00.000Z".into(),
                updated_at: "2026-11-02T00:00:00.000Z".into(),
                first_observed_at: None,
                open: true,
                principal: None,
            },
            ExistingFinding {
                id: "gone-closed".into(),
                created_at: "2026-11-01T00:00:00.000Z".into(),
                updated_at: "2026-11-02T00:00:00.000Z".into(),
                first_observed_at: None,
                open: false,
                principal: None,
            },
        ];
        let r = reconcile(desired, &existing, "2026-11-23T10:00:00.000Z");
        assert_eq!(r.import.len(), 1);
        assert_eq!(r.import[0].created_at, "2026-11-01T00:00:00.000Z");
        assert_eq!(r.import[0].updated_at, "2026-11-23T10:00:00.001Z");
        assert!(
            r.import[0].types.is_empty(),
            "the customer's once the finding exists"
        );
        assert_eq!(r.import[0].finding_provider_fields.types, [FINDING_TYPE]);
        assert_eq!(
            r.resolve,
            vec![(
                "gone-open".to_string(),
                "2026-11-23T10:00:00.000Z".to_string()
            )]
        );
        assert_eq!(r.already_resolved, 1);
    }

    #[test]
    fn a_resolution_is_built_from_our_own_model() {
        let prev = ExistingFinding {
            id: "arn:aws:ram:us-east-1:111111111111:resource-share/7f3c/principal/999999999999"
                .into(),
            created_at: "2026-11-01T00:00:00.000Z".into(),
            updated_at: "2026-11-02T00:00:00.000Z".into(),
            first_observed_at: Some("2026-10-31T00:00:00.000Z".into()),
            open: true,
            principal: Some("999999999999".into()),
        };
        let share_arn = "arn:aws:ram:us-east-1:111111111111:resource-share/7f3c";
        let f = resolution(
            &prev,
            share_arn,
            Some("subnets"),
            &ctx(),
            "2026-11-23T10:00:00.000Z",
        );
        assert_eq!(
            (f.compliance.status, f.record_state),
            (ComplianceStatus::Passed, RecordState::Archived)
        );
        assert_eq!(
            f.finding_provider_fields.severity.label,
            SeverityLabel::Informational
        );
        assert!(f.types.is_empty());
        assert_eq!(
            (f.created_at.as_str(), f.first_observed_at.as_str()),
            ("2026-11-01T00:00:00.000Z", "2026-10-31T00:00:00.000Z")
        );
        assert_eq!(
            f.title,
            "RAM resource share subnets no longer reaches 999999999999"
        );
        assert!(f.product_fields.keys().all(|k| k.starts_with("ramguard/")));
        let json = serde_json::to_value(&f).unwrap();
        for owned in [
            "Region",
            "ProcessedAt",
            "AwsAccountName",
            "CompanyName",
            "ProductName",
            "Workflow",
            "Note",
        ] {
            assert!(json.get(owned).is_none(), "{owned}");
        }
    }

    #[test]
    fn timestamps_round_trip_with_milliseconds() {
        assert_eq!(format_millis(1_795_000_000_123), "2026-11-18T11:06:40.123Z");
        assert_eq!(
            timestamp_millis("2026-11-18T11:06:40.123Z"),
            Some(1_795_000_000_123)
        );
        assert_eq!(
            timestamp_millis("2026-11-18T11:06:40Z"),
            Some(1_795_000_000_000)
        );
        assert_eq!(
            next_updated_at("2026-11-18T11:06:40Z", "2026-11-18T11:06:40.5Z"),
            "2026-11-18T11:06:40.501Z"
        );
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let b = batches((0..250).collect::<Vec<_>>(), 100, usize::MAX, |_| 1);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100, 50]);
        let b = batches(vec![4, 4, 4, 4], 100, 10, |x| *x);
        assert_eq!(b, vec![vec![4, 4], vec![4, 4]]);
        assert!(batches(Vec::<u8>::new(), 100, 10, |_| 1).is_empty());
    }
}
