//! Classification of principals against the organization and the verdict for a share.

use crate::org::OrgSnapshot;
use crate::params::{Parameters, ServicePrincipals};
use crate::principal::{Principal, PrincipalKind};
use crate::share::{AssociationStatus, PrincipalAssociation, ResourceShare};
use crate::text::bounded;

/// Where a principal stands relative to the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// A member account, our organization, one of our OUs, or an IAM principal of a member account.
    InOrg,
    /// Outside the organization, but listed in `TrustedAccountIds`.
    Trusted,
    /// A service principal, allowed by `ServicePrincipals=allow`.
    AllowedService,
    /// Outside the organization, and why.
    Outside(OutsideReason),
}

/// Why a principal counts as outside the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsideReason {
    /// An account (or an account's IAM principal) that is not a member of the organization.
    NotAMember,
    /// An organization or OU of another organization.
    ForeignOrganization,
    /// A principal ramguard cannot parse: it cannot be proved to be inside.
    Unrecognized,
    /// A service principal, with `ServicePrincipals=flag`.
    FlaggedServicePrincipal,
    /// A service principal whose source constraints let it act on behalf of an account or
    /// organization outside ours (the outside sources are listed with it).
    OutsideSource,
}

impl OutsideReason {
    /// The reason's name, as logs and findings carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            OutsideReason::NotAMember => "not a member of the organization",
            OutsideReason::ForeignOrganization => "another organization",
            OutsideReason::Unrecognized => "unrecognized principal",
            OutsideReason::FlaggedServicePrincipal => "service principal",
            OutsideReason::OutsideSource => {
                "service principal with a source outside the organization"
            }
        }
    }
}

/// Classifies one principal.
pub fn classify(principal: &Principal, org: &OrgSnapshot, params: &Parameters) -> Placement {
    let account_placement = |account: &str| {
        if org.is_member(account) {
            Placement::InOrg
        } else if params.trusted_account_ids.contains(account) {
            Placement::Trusted
        } else {
            Placement::Outside(OutsideReason::NotAMember)
        }
    };
    // an ARN of another partition, or naming our organization under another management
    // account, is nothing ramguard can prove inside
    let ours = |partition: &crate::principal::Partition| partition.as_str() == org.partition();
    match principal {
        Principal::Account(a) => account_placement(a),
        Principal::IamRole { partition, account } | Principal::IamUser { partition, account } => {
            if ours(partition) {
                account_placement(account)
            } else {
                Placement::Outside(OutsideReason::Unrecognized)
            }
        }
        Principal::Organization {
            partition,
            management_account,
            org_id,
        }
        | Principal::OrganizationalUnit {
            partition,
            management_account,
            org_id,
            ..
        } => {
            if *org_id != org.org_id {
                Placement::Outside(OutsideReason::ForeignOrganization)
            } else if ours(partition) && *management_account == org.management_account {
                Placement::InOrg
            } else {
                Placement::Outside(OutsideReason::Unrecognized)
            }
        }
        Principal::ServicePrincipal(_) => match params.service_principals {
            ServicePrincipals::Allow => Placement::AllowedService,
            ServicePrincipals::Flag => Placement::Outside(OutsideReason::FlaggedServicePrincipal),
        },
        Principal::Unrecognized(_) => Placement::Outside(OutsideReason::Unrecognized),
    }
}

/// A principal outside the organization that a share exposes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExternalPrincipal {
    /// RAM's `associatedEntity`.
    pub entity: String,
    /// What kind of principal it is.
    pub kind: PrincipalKind,
    /// The association's status, as RAM reports it.
    pub status: String,
    /// Why it counts as outside.
    pub reason: OutsideReason,
    /// For [`OutsideReason::OutsideSource`]: the share's sources outside the organization.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// Classifies one source constraint (a SOURCE association's `sourceId`): an account id, an ARN
/// (judged by its account), an organization id (`o-…`) or an organization path
/// (`o-…/r-…/ou-…/`). Anything else cannot be proved inside.
pub fn classify_source(source: &str, org: &OrgSnapshot, params: &Parameters) -> Placement {
    let source = source.trim();
    let account = |a: &str| {
        if org.is_member(a) {
            Placement::InOrg
        } else if params.trusted_account_ids.contains(a) {
            Placement::Trusted
        } else {
            Placement::Outside(OutsideReason::NotAMember)
        }
    };
    if crate::principal::is_account_id(source) {
        return account(source);
    }
    if let Some(rest) = source.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        return match parts[..] {
            [partition, _, _, acct, _]
                if partition == org.partition() && crate::principal::is_account_id(acct) =>
            {
                account(acct)
            }
            _ => Placement::Outside(OutsideReason::Unrecognized),
        };
    }
    if source.starts_with("o-") {
        let org_id = source.split('/').next().unwrap_or_default();
        return if org_id == org.org_id {
            Placement::InOrg
        } else {
            Placement::Outside(OutsideReason::ForeignOrganization)
        };
    }
    Placement::Outside(OutsideReason::Unrecognized)
}

impl ExternalPrincipal {
    /// A pending invitation (ASSOCIATING) rather than an established association.
    pub fn is_pending(&self) -> bool {
        self.status == AssociationStatus::Associating.as_str()
    }
}

/// RAM's `external` flag disagreeing with ramguard's classification.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ExternalFlagMismatch {
    /// RAM's `associatedEntity`.
    pub entity: String,
    /// RAM's `external` flag.
    pub ram_external: bool,
    /// Whether ramguard's classification puts it outside the organization.
    pub ramguard_external: bool,
}

/// AWS Config compliance of a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// No principal outside the organization (trusted ones aside).
    Compliant,
    /// A principal outside the organization, or strict mode's flags.
    NonCompliant,
    /// Exempt, gone, or out of the rule's scope.
    NotApplicable,
}

impl Compliance {
    /// Config's name for it (`COMPLIANT`, `NON_COMPLIANT`, `NOT_APPLICABLE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Compliant => "COMPLIANT",
            Compliance::NonCompliant => "NON_COMPLIANT",
            Compliance::NotApplicable => "NOT_APPLICABLE",
        }
    }
}

/// Why a share got its verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum VerdictReason {
    /// Every principal is inside the organization, trusted or an allowed service.
    NoOutsidePrincipal,
    /// At least one principal is outside the organization.
    OutsidePrincipals,
    /// Strict mode (`FlagAllowExternalPrincipals=true`) and the share allows external principals.
    AllowsExternalPrincipals,
    /// Strict mode and the share lets accounts keep access after they leave the organization
    /// (`retainSharingOnAccountLeaveOrganization=true`).
    RetainsAccessOnLeave,
    /// The share is DELETING or DELETED.
    ShareGone {
        /// Its status.
        status: String,
    },
    /// The exemption tag exempts it.
    Exempt {
        /// Until when (None: until the tag is removed).
        until: Option<String>,
    },
    /// Every principal is inside the organization, but the share breaks the sharing baseline.
    Baseline,
}

impl VerdictReason {
    /// The reason's name, as logs and results carry it.
    pub fn kind(&self) -> &'static str {
        match self {
            VerdictReason::NoOutsidePrincipal => "no_outside_principal",
            VerdictReason::OutsidePrincipals => "outside_principals",
            VerdictReason::AllowsExternalPrincipals => "allows_external_principals",
            VerdictReason::RetainsAccessOnLeave => "retains_access_on_leave",
            VerdictReason::ShareGone { .. } => "share_gone",
            VerdictReason::Exempt { .. } => "exempt",
            VerdictReason::Baseline => "baseline",
        }
    }
}

/// The verdict on one share.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ShareVerdict {
    /// The share's ARN.
    pub share_arn: String,
    /// The verdict.
    pub compliance: Compliance,
    /// Why.
    pub reason: VerdictReason,
    /// The principals outside the organization.
    pub external: Vec<ExternalPrincipal>,
    #[serde(skip)]
    /// Principals whose RAM `external` flag disagrees with ramguard's classification.
    pub flag_mismatches: Vec<ExternalFlagMismatch>,
    /// Config's annotation: at most 256 characters.
    pub annotation: String,
    /// The exemption tag is present but exempts nothing (invalid value or expired date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption_warning: Option<String>,
    /// The sharing baseline's rules the share breaks (empty without a baseline).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline: Vec<crate::baseline::BaselineViolation>,
}

/// What an exemption tag's value means at `now` (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exemption {
    /// No exemption tag.
    None,
    /// `true`, or `true:<reason>`: exempt until the tag is removed.
    Indefinite {
        /// The reason after `true:`, if any.
        reason: Option<String>,
    },
    /// A date in the future: exempt until then.
    Until(String),
    /// A date that has passed: no longer exempt.
    Expired(String),
    /// Any other value (`false`, `no`, `0`, empty, a malformed date, …): not exempt (fail
    /// closed), and reported as an invalid exemption.
    Invalid(String),
}

impl Exemption {
    /// The note a verdict or finding carries for a tag that exempts nothing, if any.
    pub fn warning(&self, tag_key: &str) -> Option<String> {
        let shown = |v: &str| v.chars().take(64).collect::<String>();
        match self {
            Exemption::Invalid(v) => Some(format!(
                "Tag {tag_key}={:?} is not a valid exemption (a date, or true) and exempts nothing.",
                shown(v)
            )),
            Exemption::Expired(v) => Some(format!(
                "Tag {tag_key}={:?}: the exemption has expired.",
                shown(v)
            )),
            _ => None,
        }
    }
}

/// Reads an exemption tag value. Exactly two forms exempt a share: an ISO-8601 date
/// (`2027-01-31`) or date-time (`2027-01-31T12:00:00Z`) in the future, "exempt until then"; and
/// `true` (any case), optionally with a reason after a colon (`true:shared with auditor`),
/// "exempt until the tag is removed". Every other value exempts nothing.
pub fn exemption(value: Option<&str>, now: i64) -> Exemption {
    let Some(value) = value.map(str::trim) else {
        return Exemption::None;
    };
    let (head, reason) = match value.split_once(':') {
        Some((head, reason)) if head.trim().eq_ignore_ascii_case("true") => {
            (head.trim(), Some(reason.trim()).filter(|r| !r.is_empty()))
        }
        _ => (value, None),
    };
    if head.eq_ignore_ascii_case("true") {
        return Exemption::Indefinite {
            reason: reason.map(str::to_string),
        };
    }
    match expiry_seconds(value) {
        Some(until) if until > now => Exemption::Until(value.to_string()),
        Some(_) => Exemption::Expired(value.to_string()),
        None => Exemption::Invalid(value.to_string()),
    }
}

/// Seconds since the epoch of a date tag: an ISO-8601 date (`2027-01-31`, midnight UTC) or an
/// RFC 3339 date-time; None for anything else.
pub fn expiry_seconds(value: &str) -> Option<i64> {
    let value = value.trim();
    let bytes = value.as_bytes();
    let looks_like_date = bytes.len() >= 10
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[7] == b'-';
    if !looks_like_date {
        return None;
    }
    let stamp = if value.len() == 10 {
        format!("{value}T00:00:00Z")
    } else {
        value.to_string()
    };
    chrono::DateTime::parse_from_rfc3339(&stamp)
        .ok()
        .map(|t| t.timestamp())
}

const ANNOTATION_MAX: usize = 256;

/// "N principal(s) outside the organization: a, b … +K more", within Config's 256 characters.
pub fn outside_annotation(external: &[ExternalPrincipal]) -> String {
    let count = |s: &str| s.chars().count();
    let head = format!(
        "{} principal{} outside the organization: ",
        external.len(),
        if external.len() == 1 { "" } else { "s" }
    );
    let mut body = String::new();
    let mut shown = 0;
    let shown_as = |p: &ExternalPrincipal| {
        if p.sources.is_empty() {
            p.entity.clone()
        } else {
            format!("{} (source {})", p.entity, p.sources.join(", "))
        }
    };
    for p in external {
        let entity = shown_as(p);
        let rest = external.len() - shown - 1;
        let sep = if shown == 0 { "" } else { ", " };
        let reserve = if rest > 0 {
            count(&format!(" … +{rest} more"))
        } else {
            0
        };
        if count(&head) + count(&body) + count(sep) + count(&entity) + reserve > ANNOTATION_MAX {
            break;
        }
        body.push_str(sep);
        body.push_str(&entity);
        shown += 1;
    }
    if shown == 0 {
        if let Some(first) = external.first() {
            let more = external.len() - 1;
            let suffix = if more > 0 {
                format!("… +{more} more")
            } else {
                "…".to_string()
            };
            let budget = ANNOTATION_MAX.saturating_sub(count(&head) + count(&suffix));
            body = shown_as(first).chars().take(budget).collect::<String>() + &suffix;
        }
    } else if shown < external.len() {
        body.push_str(&format!(" … +{} more", external.len() - shown));
    }
    bounded(&(head + &body), ANNOTATION_MAX)
}

/// Judges one share against the organization.
pub fn evaluate(
    share: &ResourceShare,
    org: &OrgSnapshot,
    params: &Parameters,
    now: i64,
) -> ShareVerdict {
    let tag = share.tags.get(&params.exempt_tag_key).map(String::as_str);
    let exempt = exemption(tag, now);
    let judgement = match not_applicable(share, &exempt, params) {
        Some(judgement) => judgement,
        None => {
            let (external, mismatches) = principals_outside(share, org, params);
            by_principals_and_flags(share, params, external, mismatches)
        }
    };
    judgement.into_verdict(share, exempt.warning(&params.exempt_tag_key))
}

/// A verdict before its annotation is fitted to Config's limit.
struct Judgement {
    compliance: Compliance,
    reason: VerdictReason,
    external: Vec<ExternalPrincipal>,
    mismatches: Vec<ExternalFlagMismatch>,
    annotation: String,
}

impl Judgement {
    fn new(compliance: Compliance, reason: VerdictReason, annotation: String) -> Judgement {
        Judgement {
            compliance,
            reason,
            external: Vec::new(),
            mismatches: Vec::new(),
            annotation,
        }
    }

    /// The verdict, its exemption warning after the annotation when it fits Config's 256
    /// characters.
    fn into_verdict(self, share: &ResourceShare, warning: Option<String>) -> ShareVerdict {
        let annotation = match &warning {
            Some(w)
                if self.annotation.chars().count() + 1 + w.chars().count() <= ANNOTATION_MAX =>
            {
                format!("{} {w}", self.annotation)
            }
            _ => self.annotation,
        };
        ShareVerdict {
            share_arn: share.arn.clone(),
            compliance: self.compliance,
            reason: self.reason,
            external: self.external,
            flag_mismatches: self.mismatches,
            annotation: bounded(&annotation, ANNOTATION_MAX),
            exemption_warning: warning,
            baseline: Vec::new(),
        }
    }
}

/// NOT_APPLICABLE when the share is gone or exempt (an expired or invalid exemption does not
/// count).
fn not_applicable(
    share: &ResourceShare,
    exempt: &Exemption,
    params: &Parameters,
) -> Option<Judgement> {
    if share.status.is_gone() {
        let status = share.status.as_str().to_string();
        let annotation = format!("The resource share is {status}.");
        return Some(Judgement::new(
            Compliance::NotApplicable,
            VerdictReason::ShareGone { status },
            annotation,
        ));
    }
    let key = &params.exempt_tag_key;
    match exempt {
        Exemption::Indefinite { reason } => Some(Judgement::new(
            Compliance::NotApplicable,
            VerdictReason::Exempt { until: None },
            match reason {
                Some(r) => format!("Exempt by tag {key}: {r}"),
                None => format!("Exempt by tag {key}."),
            },
        )),
        Exemption::Until(until) => Some(Judgement::new(
            Compliance::NotApplicable,
            VerdictReason::Exempt {
                until: Some(until.clone()),
            },
            format!("Exempt by tag {key} until {until}."),
        )),
        Exemption::None | Exemption::Expired(_) | Exemption::Invalid(_) => None,
    }
}

/// The share's exposed principals outside the organization (sorted, one per entity) and where
/// RAM's `external` flag disagrees with ramguard's classification.
fn principals_outside(
    share: &ResourceShare,
    org: &OrgSnapshot,
    params: &Parameters,
) -> (Vec<ExternalPrincipal>, Vec<ExternalFlagMismatch>) {
    let outside_sources = sources_outside(share, org, params);
    let mut external = Vec::new();
    let mut mismatches = Vec::new();
    for assoc in &share.principals {
        let principal = Principal::parse(&assoc.entity);
        let placement = classify(&principal, org, params);
        mismatches.extend(flag_mismatch(assoc, &principal, &placement));
        let placement = match placement {
            Placement::AllowedService if !outside_sources.is_empty() => {
                Placement::Outside(OutsideReason::OutsideSource)
            }
            other => other,
        };
        if let Placement::Outside(reason) = placement {
            if assoc.status.is_exposed() {
                let sources = if matches!(principal, Principal::ServicePrincipal(_)) {
                    outside_sources.clone()
                } else {
                    Vec::new()
                };
                external.push(ExternalPrincipal {
                    entity: assoc.entity.clone(),
                    kind: principal.kind(),
                    status: assoc.status.as_str().to_string(),
                    reason,
                    sources,
                });
            }
        }
    }
    external.sort_by(|a, b| a.entity.cmp(&b.entity));
    external.dedup_by(|a, b| a.entity == b.entity);
    (external, mismatches)
}

/// The share's exposed source constraints outside the organization: one of them puts its service
/// principals outside.
fn sources_outside(share: &ResourceShare, org: &OrgSnapshot, params: &Parameters) -> Vec<String> {
    share
        .sources
        .iter()
        .filter(|s| s.status.is_exposed())
        .filter(|s| {
            matches!(
                classify_source(&s.source, org, params),
                Placement::Outside(_)
            )
        })
        .map(|s| s.source.clone())
        .collect()
}

/// RAM's `external` flag against ramguard's placement, for the principals both can judge.
fn flag_mismatch(
    assoc: &PrincipalAssociation,
    principal: &Principal,
    placement: &Placement,
) -> Option<ExternalFlagMismatch> {
    let ram_external = assoc.external?;
    let checkable = !matches!(
        principal,
        Principal::ServicePrincipal(_) | Principal::Unrecognized(_)
    );
    let ours = *placement != Placement::InOrg;
    (checkable && ram_external != ours).then(|| ExternalFlagMismatch {
        entity: assoc.entity.clone(),
        ram_external,
        ramguard_external: ours,
    })
}

/// NON_COMPLIANT for outside principals, or in strict mode for the share's flags; COMPLIANT
/// otherwise.
fn by_principals_and_flags(
    share: &ResourceShare,
    params: &Parameters,
    external: Vec<ExternalPrincipal>,
    mismatches: Vec<ExternalFlagMismatch>,
) -> Judgement {
    let (compliance, reason, annotation) = if !external.is_empty() {
        (
            Compliance::NonCompliant,
            VerdictReason::OutsidePrincipals,
            outside_annotation(&external),
        )
    } else if params.flag_allow_external_principals && share.allow_external_principals {
        (
            Compliance::NonCompliant,
            VerdictReason::AllowsExternalPrincipals,
            "The share allows principals outside the organization (allowExternalPrincipals=true)."
                .into(),
        )
    } else if share.retains_access_on_leave && params.flag_allow_external_principals {
        (
            Compliance::NonCompliant,
            VerdictReason::RetainsAccessOnLeave,
            "Accounts keep access to the share after they leave the organization (retainSharingOnAccountLeaveOrganization=true).".into(),
        )
    } else if share.retains_access_on_leave {
        (
            Compliance::Compliant,
            VerdictReason::NoOutsidePrincipal,
            "No principal outside the organization; accounts that leave it keep access (retainSharingOnAccountLeaveOrganization=true).".into(),
        )
    } else {
        (
            Compliance::Compliant,
            VerdictReason::NoOutsidePrincipal,
            "No principal outside the organization.".into(),
        )
    };
    Judgement {
        compliance,
        reason,
        external,
        mismatches,
        annotation,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::org::MemberAccount;
    use crate::share::{PrincipalAssociation, ShareStatus};

    const NOW: i64 = 1_795_000_000; // 2026-11-18

    fn org() -> OrgSnapshot {
        let accounts = ["111111111111", "222222222222"]
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    MemberAccount {
                        id: a.to_string(),
                        state: "ACTIVE".into(),
                    },
                )
            })
            .collect();
        OrgSnapshot {
            org_id: "o-abcdefghij".into(),
            org_arn: "arn:aws:organizations::111111111111:organization/o-abcdefghij".into(),
            management_account: "111111111111".into(),
            accounts,
        }
    }

    fn share(principals: &[(&str, &str)]) -> ResourceShare {
        ResourceShare {
            arn: "arn:aws:ram:us-east-1:111111111111:resource-share/abc".into(),
            name: "s".into(),
            owner: "111111111111".into(),
            status: ShareStatus::Active,
            allow_external_principals: true,
            tags: BTreeMap::new(),
            principals: principals
                .iter()
                .map(|(e, s)| PrincipalAssociation {
                    entity: e.to_string(),
                    status: AssociationStatus::parse(s),
                    external: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn classification_of_every_form() {
        let org = org();
        let mut params = Parameters::default();
        params.trusted_account_ids.insert("333333333333".into());
        let c = |e: &str| classify(&Principal::parse(e), &org, &params);
        assert_eq!(c("222222222222"), Placement::InOrg);
        assert_eq!(c("333333333333"), Placement::Trusted);
        assert_eq!(
            c("444444444444"),
            Placement::Outside(OutsideReason::NotAMember)
        );
        assert_eq!(
            c("arn:aws:organizations::111111111111:organization/o-abcdefghij"),
            Placement::InOrg
        );
        assert_eq!(
            c("arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz"),
            Placement::Outside(OutsideReason::ForeignOrganization)
        );
        assert_eq!(
            c("arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh"),
            Placement::InOrg
        );
        assert_eq!(
            c("arn:aws:organizations::999999999999:ou/o-zzzzzzzzzz/ou-ab12-abcdefgh"),
            Placement::Outside(OutsideReason::ForeignOrganization)
        );
        assert_eq!(c("arn:aws:iam::222222222222:role/app"), Placement::InOrg);
        assert_eq!(
            c("arn:aws:iam::444444444444:user/bob"),
            Placement::Outside(OutsideReason::NotAMember)
        );
        assert_eq!(
            c("arn:aws:iam::333333333333:role/partner"),
            Placement::Trusted
        );
        assert_eq!(c("logs.amazonaws.com"), Placement::AllowedService);
        assert_eq!(c("???"), Placement::Outside(OutsideReason::Unrecognized));
        // our org id under another partition or another management account proves nothing
        let unrecognized = Placement::Outside(OutsideReason::Unrecognized);
        for foreign in [
            "arn:aws-cn:organizations::111111111111:organization/o-abcdefghij",
            "arn:aws:organizations::999999999999:organization/o-abcdefghij",
            "arn:aws-cn:organizations::999999999999:ou/o-abcdefghij/ou-ab12-abcdefgh",
            "arn:aws-us-gov:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh",
            "arn:aws-us-gov:iam::222222222222:role/x",
            "arn:aws-iso-b:iam::222222222222:user/x",
            "arn:aws-eusc:iam::333333333333:role/partner",
        ] {
            assert_eq!(c(foreign), unrecognized, "{foreign}");
        }
        assert_eq!(
            c("arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh"),
            Placement::InOrg
        );
        params.service_principals = ServicePrincipals::Flag;
        assert_eq!(
            classify(&Principal::parse("logs.amazonaws.com"), &org, &params),
            Placement::Outside(OutsideReason::FlaggedServicePrincipal)
        );
    }

    #[test]
    fn exposure_counts_associated_and_associating_only_of_the_named_statuses() {
        let org = org();
        let params = Parameters::default();
        for (status, exposed) in [
            ("ASSOCIATED", true),
            ("ASSOCIATING", true),
            ("FAILED", false),
            ("DISASSOCIATING", false),
            ("DISASSOCIATED", false),
        ] {
            let v = evaluate(&share(&[("444444444444", status)]), &org, &params, NOW);
            assert_eq!(
                v.compliance == Compliance::NonCompliant,
                exposed,
                "{status}"
            );
        }
        let v = evaluate(
            &share(&[("444444444444", "ASSOCIATING")]),
            &org,
            &params,
            NOW,
        );
        assert!(v.external[0].is_pending());
    }

    #[test]
    fn verdicts() {
        let org = org();
        let params = Parameters::default();
        let inside = share(&[
            ("222222222222", "ASSOCIATED"),
            ("logs.amazonaws.com", "ASSOCIATED"),
        ]);
        assert_eq!(
            evaluate(&inside, &org, &params, NOW).compliance,
            Compliance::Compliant
        );
        let mut strict = params.clone();
        strict.flag_allow_external_principals = true;
        let v = evaluate(&inside, &org, &strict, NOW);
        assert_eq!(
            (v.compliance, v.reason),
            (
                Compliance::NonCompliant,
                VerdictReason::AllowsExternalPrincipals
            )
        );
        let mut deleted = share(&[("444444444444", "ASSOCIATED")]);
        deleted.status = ShareStatus::Deleted;
        assert_eq!(
            evaluate(&deleted, &org, &params, NOW).compliance,
            Compliance::NotApplicable
        );
        let outside = share(&[
            ("444444444444", "ASSOCIATED"),
            ("222222222222", "ASSOCIATED"),
        ]);
        let v = evaluate(&outside, &org, &params, NOW);
        assert_eq!(v.compliance, Compliance::NonCompliant);
        assert_eq!(v.external.len(), 1);
        assert_eq!(
            v.annotation,
            "1 principal outside the organization: 444444444444"
        );
    }

    #[test]
    fn exemption_tag() {
        let org = org();
        let params = Parameters::default();
        let mut s = share(&[("444444444444", "ASSOCIATED")]);
        for (value, compliance, warned) in [
            ("true", Compliance::NotApplicable, false),
            ("TRUE", Compliance::NotApplicable, false),
            (
                "true: shared with the auditor",
                Compliance::NotApplicable,
                false,
            ),
            ("2027-01-01", Compliance::NotApplicable, false),
            ("2027-01-01T10:00:00Z", Compliance::NotApplicable, false),
            ("2026-01-01", Compliance::NonCompliant, true),
            ("2026-13-45", Compliance::NonCompliant, true),
            // a security tool fails closed: only a date or `true` exempts
            ("false", Compliance::NonCompliant, true),
            ("no", Compliance::NonCompliant, true),
            ("0", Compliance::NonCompliant, true),
            ("", Compliance::NonCompliant, true),
            ("approved by secops", Compliance::NonCompliant, true),
            ("truest", Compliance::NonCompliant, true),
            ("false:true", Compliance::NonCompliant, true),
        ] {
            s.tags.insert("ramguard:exempt".into(), value.into());
            let v = evaluate(&s, &org, &params, NOW);
            assert_eq!(v.compliance, compliance, "{value:?}");
            assert_eq!(v.exemption_warning.is_some(), warned, "{value:?}");
            if warned {
                assert!(
                    v.annotation.contains("ramguard:exempt"),
                    "{value:?}: {}",
                    v.annotation
                );
                assert!(v.annotation.chars().count() <= 256);
            }
        }
        s.tags
            .insert("ramguard:exempt".into(), "true:reviewed 2026-11".into());
        assert_eq!(
            evaluate(&s, &org, &params, NOW).annotation,
            "Exempt by tag ramguard:exempt: reviewed 2026-11"
        );
        // an invalid value on a compliant share is still reported
        let mut inside = share(&[("222222222222", "ASSOCIATED")]);
        inside.tags.insert("ramguard:exempt".into(), "no".into());
        let v = evaluate(&inside, &org, &params, NOW);
        assert_eq!(v.compliance, Compliance::Compliant);
        assert_eq!(
            v.annotation,
            "No principal outside the organization. Tag ramguard:exempt=\"no\" is not a valid exemption (a date, or true) and exempts nothing."
        );
    }

    #[test]
    fn a_service_principal_with_a_source_outside_is_outside() {
        use crate::share::SourceAssociation;
        let org = org();
        let params = Parameters::default();
        let mut s = share(&[("logs.amazonaws.com", "ASSOCIATED")]);
        let source = |id: &str| SourceAssociation {
            source: id.into(),
            status: AssociationStatus::Associated,
        };
        s.sources = vec![
            source("222222222222"),
            source("o-abcdefghij/r-ab12/ou-ab12-abcdefgh/"),
        ];
        assert_eq!(
            evaluate(&s, &org, &params, NOW).compliance,
            Compliance::Compliant
        );
        s.sources.push(source("arn:aws:s3:::bucket-of-nobody"));
        s.sources.push(source("999999999999"));
        let v = evaluate(&s, &org, &params, NOW);
        assert_eq!(v.compliance, Compliance::NonCompliant);
        assert_eq!(v.external[0].reason, OutsideReason::OutsideSource);
        assert_eq!(
            v.external[0].sources,
            ["arn:aws:s3:::bucket-of-nobody", "999999999999"]
        );
        assert_eq!(
            v.annotation,
            "1 principal outside the organization: logs.amazonaws.com (source arn:aws:s3:::bucket-of-nobody, 999999999999)"
        );
        // a disassociated source constrains nothing any more
        s.sources.truncate(2);
        s.sources.push(SourceAssociation {
            source: "o-zzzzzzzzzz".into(),
            status: AssociationStatus::Disassociated,
        });
        assert_eq!(
            evaluate(&s, &org, &params, NOW).compliance,
            Compliance::Compliant
        );
        let c = |id: &str| classify_source(id, &org, &params);
        assert_eq!(c("arn:aws:iam::222222222222:role/x"), Placement::InOrg);
        assert_eq!(
            c("arn:aws-cn:iam::222222222222:role/x"),
            Placement::Outside(OutsideReason::Unrecognized)
        );
        assert_eq!(
            c("o-zzzzzzzzzz"),
            Placement::Outside(OutsideReason::ForeignOrganization)
        );
        assert_eq!(
            c("somewhere"),
            Placement::Outside(OutsideReason::Unrecognized)
        );
    }

    #[test]
    fn retained_access_on_leave_is_flagged_in_strict_mode() {
        let org = org();
        let mut s = share(&[("222222222222", "ASSOCIATED")]);
        s.retains_access_on_leave = true;
        s.allow_external_principals = false;
        let v = evaluate(&s, &org, &Parameters::default(), NOW);
        assert_eq!(v.compliance, Compliance::Compliant);
        assert!(v
            .annotation
            .contains("retainSharingOnAccountLeaveOrganization=true"));
        let strict = Parameters {
            flag_allow_external_principals: true,
            ..Parameters::default()
        };
        let v = evaluate(&s, &org, &strict, NOW);
        assert_eq!(
            (v.compliance, v.reason),
            (
                Compliance::NonCompliant,
                VerdictReason::RetainsAccessOnLeave
            )
        );
    }

    #[test]
    fn external_flag_disagreement_is_reported() {
        let org = org();
        let mut s = share(&[
            ("444444444444", "ASSOCIATED"),
            ("222222222222", "ASSOCIATED"),
        ]);
        s.principals[0].external = Some(false);
        s.principals[1].external = Some(false);
        let v = evaluate(&s, &org, &Parameters::default(), NOW);
        assert_eq!(v.flag_mismatches.len(), 1);
        assert_eq!(v.flag_mismatches[0].entity, "444444444444");
    }

    #[test]
    fn annotation_fits_256_and_counts_the_rest() {
        let external: Vec<_> = (0..40)
            .map(|i| ExternalPrincipal {
                entity: format!(
                    "arn:aws:iam::{:012}:role/some/long/path/role-{i}",
                    400_000_000_000u64 + i
                ),
                kind: PrincipalKind::IamRole,
                status: "ASSOCIATED".into(),
                reason: OutsideReason::NotAMember,
                sources: vec![],
            })
            .collect();
        let a = outside_annotation(&external);
        assert!(a.chars().count() <= 256, "{}", a.len());
        assert!(a.starts_with("40 principals outside the organization: "));
        assert!(a.contains(" more"), "{a}");
        let shown = a.matches("arn:aws:iam").count();
        let more: usize = a
            .rsplit('+')
            .next()
            .unwrap()
            .trim_end_matches(" more")
            .parse()
            .unwrap();
        assert_eq!(shown + more, 40, "{a}");
        let huge = vec![ExternalPrincipal {
            entity: "x".repeat(600),
            ..external[0].clone()
        }];
        assert!(outside_annotation(&huge).chars().count() <= 256);
    }
}
