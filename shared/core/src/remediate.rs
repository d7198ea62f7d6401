//! The remediation plan for one share: which principals to disassociate, and why every other
//! principal is left alone. Pure, and fail-closed: only a principal proved to be outside the
//! organization, not trusted, and associated or invited is ever selected.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::finding::sha256_hex;
use crate::org::OrgSnapshot;
use crate::params::Parameters;
use crate::principal::{Principal, PrincipalKind};
use crate::share::{AssociationStatus, PrincipalAssociation, ResourceShare, ShareStatus};
use crate::verdict::{classify, exemption, Exemption, OutsideReason, Placement};

/// A principal the plan disassociates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRemoval {
    /// RAM's `associatedEntity`.
    pub principal: String,
    /// What kind of principal it is.
    pub kind: PrincipalKind,
    /// The association's status before the removal.
    pub status_before: String,
    /// Why it is removed.
    pub reason: RemovalReason,
}

/// Why a principal is removed: it is outside the organization, or (with `EnforceBaseline`) the
/// sharing baseline's boundary verdict names it. Serialized as the outside reason's name, or
/// `baseline_boundary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RemovalReason {
    /// Outside the organization.
    Outside(OutsideReason),
    /// Inside the organization, across a boundary of the sharing baseline.
    Baseline(BaselineBoundary),
}

/// The reason `baseline_boundary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BaselineBoundary;

impl Serialize for BaselineBoundary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("baseline_boundary")
    }
}

/// A principal inside the organization that the sharing baseline's boundary verdict names, which
/// the remediator removes only with `EnforceBaseline` (else it reports it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BaselineRemoval {
    /// RAM's `associatedEntity`.
    pub principal: String,
    /// The owner's boundary it crosses.
    pub boundary: String,
    /// Where it reaches.
    pub reaches: String,
    /// The association's status.
    pub status: String,
}

/// The principals the baseline's boundary verdict names on a share the plan may act on: exposed
/// associations in a status RAM documents, each named by a violation, never any other.
pub fn baseline_removals(
    plan: &RemediationPlan,
    share: &ResourceShare,
    found: &[crate::baseline::BaselineViolation],
) -> Vec<BaselineRemoval> {
    if plan.refusal.is_some() {
        return Vec::new();
    }
    found
        .iter()
        .filter_map(|v| match v {
            crate::baseline::BaselineViolation::Boundary {
                boundary,
                principal,
                reaches,
            } => Some((boundary, principal, reaches)),
            _ => None,
        })
        .filter_map(|(boundary, principal, reaches)| {
            let assoc = share
                .principals
                .iter()
                .find(|a| &a.entity == principal && a.status.is_removable())?;
            if matches!(assoc.status, AssociationStatus::Other(_)) {
                return None;
            }
            Some(BaselineRemoval {
                principal: principal.clone(),
                boundary: boundary.clone(),
                reaches: reaches.clone(),
                status: assoc.status.as_str().to_string(),
            })
        })
        .collect()
}

impl RemediationPlan {
    /// With `EnforceBaseline`: the baseline's removals join the plan's, so the cap, the dry-run,
    /// the verification and the audit note hold for them as for the others.
    pub fn enforce_baseline(&mut self) {
        for b in std::mem::take(&mut self.baseline_removals) {
            if self.removals.iter().any(|r| r.principal == b.principal) {
                continue;
            }
            self.kept.retain(|k| k.principal != b.principal);
            self.removals.push(PlannedRemoval {
                kind: Principal::parse(&b.principal).kind(),
                principal: b.principal,
                status_before: b.status,
                reason: RemovalReason::Baseline(BaselineBoundary),
            });
        }
        // a share that keeps an in-organization principal is not restricted for it: nothing to do
    }
}

/// Why a principal is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepReason {
    /// A member account, our organization or OU, or an IAM principal of a member account.
    InOrganization,
    /// Listed in `TrustedAccountIds`.
    Trusted,
    /// A service principal allowed by `ServicePrincipals=allow`.
    AllowedServicePrincipal,
    /// Flagged by `ServicePrincipals=flag`, but an AWS service is never removed automatically.
    ServicePrincipalNotRemoved,
    /// A service principal whose sources reach outside the organization: the sources are the
    /// problem, and ramguard does not remove them automatically.
    ServicePrincipalWithOutsideSource,
    /// Cannot be proved to be outside the organization (fail closed).
    Unrecognized,
    /// No access to remove (FAILED, DISASSOCIATING, DISASSOCIATED).
    NotActive,
    /// A status RAM does not document: exposure, but ramguard cannot know what a
    /// disassociation does to it.
    UnknownStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
/// A principal left in place, and why.
pub struct KeptPrincipal {
    /// RAM's `associatedEntity`.
    pub principal: String,
    /// The association's status.
    pub status: String,
    /// Why it is kept.
    pub why: KeepReason,
}

/// Why nothing at all is done to a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Refusal {
    /// The share is deleted or being deleted.
    ShareGone {
        /// Its status.
        status: String,
    },
    /// The share is not ACTIVE (RAM refuses changes to it).
    ShareNotActive {
        /// Its status.
        status: String,
    },
    /// The exemption tag exempts the share.
    Exempt {
        /// Until when (None: until the tag is removed).
        until: Option<String>,
    },
    /// The org snapshot does not list the share's owner: the snapshot cannot be trusted for it.
    OwnerNotInOrganization {
        /// The owning account.
        owner: String,
    },
    /// The share was created from a resource-based policy (featureSet CREATED_FROM_POLICY or
    /// PROMOTING_TO_STANDARD): RAM refuses changes to it until it is promoted.
    CreatedFromPolicy {
        /// Its featureSet.
        feature_set: String,
    },
}

impl Refusal {
    /// What the refusal says to a person: why, and what to do.
    pub fn describe(&self) -> String {
        match self {
            Refusal::ShareGone { status } => format!("the share is {status}"),
            Refusal::ShareNotActive { status } => format!("the share is {status}, not ACTIVE"),
            Refusal::Exempt { until: None } => "the share carries the exemption tag".into(),
            Refusal::Exempt { until: Some(u) } => {
                format!("the share carries the exemption tag until {u}")
            }
            Refusal::OwnerNotInOrganization { owner } => format!(
                "the organization snapshot does not list the share's owner {owner}, so nothing is removed"
            ),
            Refusal::CreatedFromPolicy { feature_set } => format!(
                "the share was created from a resource-based policy (featureSet {feature_set}) and RAM \
                 cannot change it until it is promoted: promote it (PromoteResourceShareCreatedFromPolicy) \
                 or edit the resource's policy"
            ),
        }
    }
}

/// The plan for one share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationPlan {
    /// The share's ARN.
    pub share_arn: String,
    /// The principals to disassociate.
    pub removals: Vec<PlannedRemoval>,
    /// The principals left in place, each with why.
    pub kept: Vec<KeptPrincipal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why nothing at all is done to the share, when so.
    pub refusal: Option<Refusal>,
    /// With `RestrictShare`: set allowExternalPrincipals=false once the removals are done.
    pub restrict_share: bool,
    /// The principals the sharing baseline's boundary verdict names (reported; removed only
    /// with `EnforceBaseline`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub baseline_removals: Vec<BaselineRemoval>,
}

/// Whether the principal is, on the snapshot's own terms, inside the organization. Independent of
/// [`classify`], so the planner checks each removal twice.
pub fn is_inside(principal: &Principal, org: &OrgSnapshot) -> bool {
    match principal {
        Principal::Account(a)
        | Principal::IamRole { account: a, .. }
        | Principal::IamUser { account: a, .. } => org.is_member(a) || *a == org.management_account,
        Principal::Organization { org_id, .. } | Principal::OrganizationalUnit { org_id, .. } => {
            *org_id == org.org_id
        }
        Principal::ServicePrincipal(_) | Principal::Unrecognized(_) => false,
    }
}

/// Plans the remediation of one share, read live just before.
pub fn plan(
    share: &ResourceShare,
    org: &OrgSnapshot,
    params: &Parameters,
    restrict_share: bool,
    now: i64,
) -> RemediationPlan {
    let mut out = RemediationPlan {
        share_arn: share.arn.clone(),
        removals: Vec::new(),
        kept: Vec::new(),
        refusal: refusal(share, org, params, now),
        restrict_share: false,
        baseline_removals: Vec::new(),
    };
    if out.refusal.is_some() {
        return out;
    }
    let mut blocks_restriction = false;
    let outside_source = share.sources.iter().any(|s| {
        s.status.is_exposed()
            && matches!(
                crate::verdict::classify_source(&s.source, org, params),
                Placement::Outside(_)
            )
    });
    for assoc in &share.principals {
        let principal = Principal::parse(&assoc.entity);
        let placement = classify(&principal, org, params);
        match keep_reason(share, org, assoc, &principal, placement, outside_source) {
            Ok(why) => {
                if assoc.status.is_exposed() && why != KeepReason::InOrganization {
                    blocks_restriction = true;
                }
                out.kept.push(KeptPrincipal {
                    principal: assoc.entity.clone(),
                    status: assoc.status.as_str().to_string(),
                    why,
                });
            }
            Err(reason) => out.removals.push(PlannedRemoval {
                principal: assoc.entity.clone(),
                kind: principal.kind(),
                status_before: assoc.status.as_str().to_string(),
                reason: RemovalReason::Outside(reason),
            }),
        }
    }
    out.removals.sort_by(|a, b| a.principal.cmp(&b.principal));
    out.removals.dedup_by(|a, b| a.principal == b.principal);
    out.restrict_share = restrict_share && share.allow_external_principals && !blocks_restriction;
    out
}

/// Why nothing of the share may be touched, if anything forbids it: gone, not active, exempt,
/// owned outside the organization, or created from a resource policy.
fn refusal(
    share: &ResourceShare,
    org: &OrgSnapshot,
    params: &Parameters,
    now: i64,
) -> Option<Refusal> {
    if share.status.is_gone() {
        let status = share.status.as_str().to_string();
        return Some(Refusal::ShareGone { status });
    }
    if share.status != ShareStatus::Active {
        let status = share.status.as_str().to_string();
        return Some(Refusal::ShareNotActive { status });
    }
    match exemption(
        share.tags.get(&params.exempt_tag_key).map(String::as_str),
        now,
    ) {
        Exemption::Indefinite { .. } => return Some(Refusal::Exempt { until: None }),
        Exemption::Until(until) => return Some(Refusal::Exempt { until: Some(until) }),
        Exemption::None | Exemption::Expired(_) | Exemption::Invalid(_) => {}
    }
    if !org.is_member(&share.owner) && share.owner != org.management_account {
        let owner = share.owner.clone();
        return Some(Refusal::OwnerNotInOrganization { owner });
    }
    if share.is_created_from_policy() {
        let feature_set = share.feature_set.clone();
        return Some(Refusal::CreatedFromPolicy { feature_set });
    }
    None
}

/// Why a principal stays (`Ok`), or why it is removed (`Err`, the reason it is outside): only
/// an exposed, recognized principal outside the organization that nothing else vouches for goes.
fn keep_reason(
    share: &ResourceShare,
    org: &OrgSnapshot,
    assoc: &PrincipalAssociation,
    principal: &Principal,
    placement: Placement,
    outside_source: bool,
) -> Result<KeepReason, OutsideReason> {
    // the same meaning as the rule's: every exposed status RAM documents is removable
    let active = assoc.status.is_removable();
    match placement {
        Placement::InOrg => Ok(KeepReason::InOrganization),
        Placement::Trusted => Ok(KeepReason::Trusted),
        Placement::AllowedService if outside_source => {
            Ok(KeepReason::ServicePrincipalWithOutsideSource)
        }
        Placement::AllowedService => Ok(KeepReason::AllowedServicePrincipal),
        Placement::Outside(
            OutsideReason::FlaggedServicePrincipal | OutsideReason::OutsideSource,
        ) => Ok(KeepReason::ServicePrincipalNotRemoved),
        Placement::Outside(OutsideReason::Unrecognized) => Ok(KeepReason::Unrecognized),
        Placement::Outside(_) if matches!(assoc.status, AssociationStatus::Other(_)) => {
            Ok(KeepReason::UnknownStatus)
        }
        Placement::Outside(_) if !active => Ok(KeepReason::NotActive),
        // classify and is_inside disagree: never remove on a doubt.
        Placement::Outside(_) if is_inside(principal, org) => Ok(KeepReason::InOrganization),
        Placement::Outside(_) if principal.account() == Some(share.owner.as_str()) => {
            Ok(KeepReason::InOrganization)
        }
        Placement::Outside(reason) => Err(reason),
    }
}

/// What a disassociation did to one principal, as verified against a fresh read of the share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// RAM's `associatedEntity`.
    pub principal: String,
    /// The status the fresh read shows; else the one the disassociation answered; else `unknown`.
    pub status: String,
    /// Only a fresh read that shows the principal DISASSOCIATING or DISASSOCIATED verifies it:
    /// a principal the fresh read does not show, or a read that failed, verifies nothing.
    pub verified: bool,
}

impl Verified {
    /// RAM took the removal and is still working on it: DisassociateResourceShare answers "an
    /// array of objects with information about the updated associations", whose status RAM
    /// shows as DISASSOCIATING until it is done, for a time the API reference does not give
    /// (https://docs.aws.amazon.com/ram/latest/APIReference/API_DisassociateResourceShare.html),
    /// so a later read confirms it.
    pub fn in_progress(&self) -> bool {
        self.verified && self.status == "DISASSOCIATING"
    }
}

/// Verifies removals: `fresh` is the share's principal statuses read after the call (None when
/// that read failed or the share was not found), `answered` what DisassociateResourceShare
/// returned.
pub fn verify(
    removals: &[PlannedRemoval],
    fresh: Option<&BTreeMap<String, String>>,
    answered: &BTreeMap<String, String>,
) -> Vec<Verified> {
    removals
        .iter()
        .map(|r| {
            let seen = fresh.and_then(|f| f.get(&r.principal));
            let status = seen
                .or_else(|| answered.get(&r.principal))
                .cloned()
                .unwrap_or_else(|| "unknown".into());
            let verified =
                seen.is_some_and(|s| matches!(s.as_str(), "DISASSOCIATING" | "DISASSOCIATED"));
            Verified {
                principal: r.principal.clone(),
                status,
                verified,
            }
        })
        .collect()
}

/// RAM errors that retrying cannot fix: reported as the outcome, never retried into the
/// dead-letter queue (DisassociateResourceShare and UpdateResourceShare, Errors:
/// https://docs.aws.amazon.com/ram/latest/APIReference/API_DisassociateResourceShare.html).
pub const PERMANENT_RAM_ERRORS: [&str; 10] = [
    "OperationNotPermittedException",
    "InvalidStateTransitionException",
    "UnknownResourceException",
    "MalformedArnException",
    "InvalidParameterException",
    "IdempotentParameterMismatchException",
    "InvalidClientTokenException",
    "ResourceShareLimitExceededException",
    "MissingRequiredParameterException",
    "AccessDeniedException",
];

/// The idempotency token for one disassociation: the same event, share and principals always
/// give the same token (so a retried or duplicated event is a no-op), in UUID form.
pub fn client_token(event_id: &str, share_arn: &str, principals: &[&str]) -> String {
    let mut sorted = principals.to_vec();
    sorted.sort_unstable();
    let h = sha256_hex(&format!("{event_id}\n{share_arn}\n{}", sorted.join("\n")));
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::org::MemberAccount;
    use crate::params::ServicePrincipals;
    use crate::share::PrincipalAssociation;

    const NOW: i64 = 1_795_000_000;
    const ORG: &str = "o-abcdefghij";
    const MGMT: &str = "111111111111";

    fn org(members: &[String]) -> OrgSnapshot {
        let mut accounts: BTreeMap<String, MemberAccount> = members
            .iter()
            .map(|a| {
                (
                    a.clone(),
                    MemberAccount {
                        id: a.clone(),
                        state: "ACTIVE".into(),
                    },
                )
            })
            .collect();
        accounts.insert(
            MGMT.into(),
            MemberAccount {
                id: MGMT.into(),
                state: "ACTIVE".into(),
            },
        );
        OrgSnapshot {
            org_id: ORG.into(),
            org_arn: format!("arn:aws:organizations::{MGMT}:organization/{ORG}"),
            management_account: MGMT.into(),
            accounts,
        }
    }

    fn share(principals: &[(String, &str)], allow_external: bool) -> ResourceShare {
        ResourceShare {
            arn: format!("arn:aws:ram:us-east-1:{MGMT}:resource-share/s"),
            name: "s".into(),
            owner: MGMT.into(),
            status: ShareStatus::Active,
            allow_external_principals: allow_external,
            tags: BTreeMap::new(),
            principals: principals
                .iter()
                .map(|(e, s)| PrincipalAssociation {
                    entity: e.clone(),
                    status: AssociationStatus::parse(s),
                    external: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn removes_only_active_outside_principals() {
        let member = "222222222222".to_string();
        let o = org(std::slice::from_ref(&member));
        let s = share(
            &[
                (member.clone(), "ASSOCIATED"),
                (
                    format!("arn:aws:organizations::{MGMT}:organization/{ORG}"),
                    "ASSOCIATED",
                ),
                (
                    format!("arn:aws:organizations::{MGMT}:ou/{ORG}/ou-ab12-cdef3456"),
                    "ASSOCIATED",
                ),
                (format!("arn:aws:iam::{member}:role/app"), "ASSOCIATED"),
                ("999999999999".into(), "ASSOCIATED"),
                ("888888888888".into(), "ASSOCIATING"),
                ("777777777777".into(), "DISASSOCIATED"),
                ("arn:aws:iam::999999999999:user/eve".into(), "ASSOCIATED"),
                (
                    "arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz".into(),
                    "ASSOCIATED",
                ),
                ("logs.amazonaws.com".into(), "ASSOCIATED"),
                ("somebody".into(), "ASSOCIATED"),
                ("666666666666".into(), "ASSOCIATED"),
            ],
            true,
        );
        let mut params = Parameters {
            service_principals: ServicePrincipals::Flag,
            ..Parameters::default()
        };
        params.trusted_account_ids.insert("666666666666".into());
        let p = plan(&s, &o, &params, true, NOW);
        let removed: Vec<_> = p.removals.iter().map(|r| r.principal.as_str()).collect();
        assert_eq!(
            removed,
            [
                "888888888888",
                "999999999999",
                "arn:aws:iam::999999999999:user/eve",
                "arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz",
            ]
        );
        let why = |e: &str| p.kept.iter().find(|k| k.principal == e).map(|k| k.why);
        assert_eq!(why("somebody"), Some(KeepReason::Unrecognized));
        assert_eq!(
            why("logs.amazonaws.com"),
            Some(KeepReason::ServicePrincipalNotRemoved)
        );
        assert_eq!(why("666666666666"), Some(KeepReason::Trusted));
        assert_eq!(why("777777777777"), Some(KeepReason::NotActive));
        assert_eq!(why(&member), Some(KeepReason::InOrganization));
        assert!(!p.restrict_share, "a trusted outside principal remains");
    }

    #[test]
    fn baseline_removals_are_only_the_boundary_verdicts_principals() {
        let (a, b) = ("222222222222".to_string(), "333333333333".to_string());
        let o = org(&[a.clone(), b.clone()]);
        let s = share(
            &[(a.clone(), "ASSOCIATED"), (b.clone(), "DISASSOCIATED")],
            false,
        );
        let mut p = plan(&s, &o, &Parameters::default(), false, NOW);
        let crossing = |principal: &str| crate::baseline::BaselineViolation::Boundary {
            boundary: "production".into(),
            principal: principal.into(),
            reaches: "sandbox".into(),
        };
        let tag = crate::baseline::BaselineViolation::RequiredTag {
            tag: "owner".into(),
        };
        p.baseline_removals = baseline_removals(&p, &s, &[crossing(&a), crossing(&b), tag]);
        // a principal already gone is not removed again, a tag is never fixed
        assert_eq!(p.baseline_removals.len(), 1);
        assert_eq!(p.baseline_removals[0].principal, a);
        assert!(p.removals.is_empty(), "reported only until enforced");
        p.enforce_baseline();
        assert_eq!(p.removals.len(), 1);
        assert_eq!(p.removals[0].principal, a);
        assert_eq!(
            serde_json::to_value(p.removals[0].reason).unwrap(),
            serde_json::json!("baseline_boundary")
        );
        assert!(!p.kept.iter().any(|k| k.principal == a));
        // nothing on a share the plan refuses to touch
        let mut gone = s.clone();
        gone.status = ShareStatus::Deleted;
        let refused = plan(&gone, &o, &Parameters::default(), false, NOW);
        assert!(baseline_removals(&refused, &gone, &[crossing(&a)]).is_empty());
        assert_eq!(
            serde_json::to_value(RemovalReason::Outside(OutsideReason::NotAMember)).unwrap(),
            serde_json::json!("not_a_member")
        );
    }

    #[test]
    fn only_a_fresh_read_verifies_a_removal() {
        let removal = |p: &str| PlannedRemoval {
            principal: p.into(),
            kind: PrincipalKind::Account,
            status_before: "ASSOCIATED".into(),
            reason: RemovalReason::Outside(OutsideReason::NotAMember),
        };
        let removals = [
            removal("999999999991"),
            removal("999999999992"),
            removal("999999999993"),
        ];
        let answered: BTreeMap<String, String> = [
            ("999999999991".to_string(), "DISASSOCIATING".to_string()),
            ("999999999992".to_string(), "DISASSOCIATING".to_string()),
        ]
        .into();
        let fresh: BTreeMap<String, String> = [
            ("999999999991".to_string(), "DISASSOCIATED".to_string()),
            ("999999999993".to_string(), "ASSOCIATED".to_string()),
        ]
        .into();
        let got = verify(&removals, Some(&fresh), &answered);
        let row = |v: &Verified| (v.status.clone(), v.verified);
        assert_eq!(row(&got[0]), ("DISASSOCIATED".into(), true));
        assert_eq!(
            row(&got[1]),
            ("DISASSOCIATING".into(), false),
            "not seen by the fresh read"
        );
        assert_eq!(row(&got[2]), ("ASSOCIATED".into(), false));
        let unread = verify(&removals, None, &BTreeMap::new());
        assert!(unread.iter().all(|v| v.status == "unknown" && !v.verified));
    }

    #[test]
    fn suspended_associations_are_removed_and_unknown_statuses_kept() {
        let o = org(&[]);
        let s = share(
            &[
                ("999999999991".into(), "SUSPENDED"),
                ("999999999992".into(), "SUSPENDING"),
                ("999999999993".into(), "RESTORING"),
                ("999999999994".into(), "PAUSED"),
            ],
            true,
        );
        let p = plan(&s, &o, &Parameters::default(), false, NOW);
        let removed: Vec<_> = p.removals.iter().map(|r| r.principal.as_str()).collect();
        assert_eq!(removed, ["999999999991", "999999999992", "999999999993"]);
        assert_eq!(p.kept.len(), 1);
        assert_eq!(p.kept[0].why, KeepReason::UnknownStatus);
    }

    #[test]
    fn a_share_created_from_a_policy_is_refused() {
        let o = org(&[]);
        for feature_set in ["CREATED_FROM_POLICY", "PROMOTING_TO_STANDARD"] {
            let mut s = share(&[("999999999999".into(), "ASSOCIATED")], true);
            s.feature_set = feature_set.into();
            let p = plan(&s, &o, &Parameters::default(), true, NOW);
            assert!(p.removals.is_empty());
            assert!(
                matches!(&p.refusal, Some(Refusal::CreatedFromPolicy { feature_set: f }) if f == feature_set)
            );
            assert!(p
                .refusal
                .unwrap()
                .describe()
                .contains("PromoteResourceShareCreatedFromPolicy"));
        }
    }

    #[test]
    fn refuses_exempt_gone_and_foreign_owner_shares() {
        let o = org(&[]);
        let mut s = share(&[("999999999999".into(), "ASSOCIATED")], true);
        s.tags
            .insert("ramguard:exempt".into(), "true:partner".into());
        assert!(matches!(
            plan(&s, &o, &Parameters::default(), false, NOW).refusal,
            Some(Refusal::Exempt { until: None })
        ));
        s.tags.clear();
        s.status = ShareStatus::Deleted;
        assert!(matches!(
            plan(&s, &o, &Parameters::default(), false, NOW).refusal,
            Some(Refusal::ShareGone { .. })
        ));
        s.status = ShareStatus::Active;
        s.owner = "555555555555".into();
        let p = plan(&s, &o, &Parameters::default(), false, NOW);
        assert!(matches!(
            p.refusal,
            Some(Refusal::OwnerNotInOrganization { .. })
        ));
        assert!(p.removals.is_empty());
    }

    #[test]
    fn restricts_only_when_asked_and_nothing_outside_remains() {
        let o = org(&[]);
        let s = share(&[("999999999999".into(), "ASSOCIATED")], true);
        assert!(plan(&s, &o, &Parameters::default(), true, NOW).restrict_share);
        assert!(!plan(&s, &o, &Parameters::default(), false, NOW).restrict_share);
        let closed = share(&[("999999999999".into(), "ASSOCIATED")], false);
        assert!(!plan(&closed, &o, &Parameters::default(), true, NOW).restrict_share);
    }

    #[test]
    fn client_tokens_are_deterministic_uuids() {
        let a = client_token("e1", "arn:s", &["b", "a"]);
        assert_eq!(a, client_token("e1", "arn:s", &["a", "b"]));
        assert_ne!(a, client_token("e2", "arn:s", &["a", "b"]));
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    fn account() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("222222222222".to_string()),
            Just("333333333333".to_string()),
            Just(MGMT.to_string()),
            Just("999999999999".to_string()),
            "[0-9]{12}",
        ]
    }

    fn entity() -> impl Strategy<Value = String> {
        prop_oneof![
            account(),
            account().prop_map(|a| format!("arn:aws:iam::{a}:role/r")),
            account().prop_map(|a| format!("arn:aws:iam::{a}:user/path/u")),
            prop_oneof![Just(ORG.to_string()), Just("o-zzzzzzzzzz".to_string())]
                .prop_map(|o| format!("arn:aws:organizations::{MGMT}:organization/{o}")),
            prop_oneof![Just(ORG.to_string()), Just("o-zzzzzzzzzz".to_string())]
                .prop_map(|o| format!("arn:aws:organizations::{MGMT}:ou/{o}/ou-ab12-cdef3456")),
            Just("ec2.amazonaws.com".to_string()),
            "[a-z:/0-9-]{0,30}",
        ]
    }

    fn status() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "ASSOCIATING",
            "ASSOCIATED",
            "FAILED",
            "DISASSOCIATING",
            "DISASSOCIATED",
            "SUSPENDED",
            "SUSPENDING",
            "RESTORING",
            "SOMETHING_NEW",
        ])
    }

    /// Independent oracle: an entity is in the org when it names a member account (directly or
    /// as an IAM principal's account) or our organization id.
    fn oracle_in_org(entity: &str, members: &[String]) -> bool {
        let in_members = |a: &str| a == MGMT || members.iter().any(|m| m == a);
        if entity.len() == 12 && entity.bytes().all(|b| b.is_ascii_digit()) {
            return in_members(entity);
        }
        if let Some(rest) = entity.strip_prefix("arn:aws:iam::") {
            return in_members(&rest[..12.min(rest.len())]);
        }
        entity.contains(ORG)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn never_selects_an_in_org_principal(
            members in prop::collection::vec(account(), 0..4),
            principals in prop::collection::vec((entity(), status()), 0..12),
            trusted in prop::option::of(account()),
            flag_services in any::<bool>(),
        ) {
            let o = org(&members);
            let s = share(&principals, true);
            let mut params = Parameters {
                service_principals: if flag_services { ServicePrincipals::Flag } else { ServicePrincipals::Allow },
                ..Parameters::default()
            };
            if let Some(t) = &trusted {
                params.trusted_account_ids.insert(t.clone());
            }
            let p = plan(&s, &o, &params, true, NOW);
            for r in &p.removals {
                prop_assert!(!oracle_in_org(&r.principal, &members), "selected in-org {}", r.principal);
                prop_assert!(Some(&r.principal) != trusted.as_ref());
                prop_assert!(AssociationStatus::parse(&r.status_before).is_removable(), "{}", r.status_before);
                prop_assert!(!r.principal.ends_with(".amazonaws.com"));
                let parsed = !matches!(
                    Principal::parse(&r.principal),
                    Principal::ServicePrincipal(_) | Principal::Unrecognized(_)
                );
                prop_assert!(parsed, "removed an unparsed principal {}", r.principal);
            }
        }
    }
}
