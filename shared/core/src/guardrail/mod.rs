//! Whether the service control policies in force on an account keep its RAM sharing inside the
//! organization, whoever wrote them.
//!
//! An SCP decision follows the account's path from the root through each OU to the account:
//! an explicit `Deny` at any level denies, and every level must have an `Allow` that matches
//! (Organizations user guide, "SCP evaluation"). SCPs never apply to the management account, and
//! have no effect until the SCP policy type is enabled on the root. The question asked for each
//! account is what an ordinary role of it (no break-glass path, no tags) may do:
//! - create a share that allows external principals, with a principal outside the organization;
//! - turn an existing share into one that allows external principals;
//! - associate a principal outside the organization with a share that already allows them;
//! - accept an invitation from a share owner outside the organization.
//!
//! The account is covered when the first and the third are denied: then no outside principal can
//! be added at all (an update alone shares nothing). Denying the first two only, as AWS's
//! published examples do, leaves shares that already allow external principals open: partial.

mod finding;

pub use finding::{
    account_resource_id, finding_id, guardrail_finding, guardrail_resolution, FINDING_TYPE,
    GENERATOR_ID,
};

use crate::scp::{PolicyError, Request, ScpDocument};
use crate::verdict::Compliance;
use crate::{bounded, OrgSnapshot};

/// Config's limit on an annotation.
const ANNOTATION_MAX: usize = 256;

/// The name a role is given in the question: a role of the account with no exception.
pub const ORDINARY_ROLE: &str = "ramguard-coverage-probe";

/// Where a policy is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetKind {
    /// The organization's root.
    Root,
    /// An organizational unit.
    OrganizationalUnit,
    /// The account itself.
    Account,
}

/// One level of an account's path and the SCPs attached to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathLevel {
    /// The root, OU or account id.
    pub target_id: String,
    /// What the target is.
    pub kind: TargetKind,
    /// The SCPs attached to it.
    pub policies: Vec<AttachedScp>,
}

/// An SCP attached to a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedScp {
    /// The policy id (`p-…`, or `p-FullAWSAccess`).
    pub id: String,
    /// The policy's name.
    pub name: String,
    /// Its document, or why it could not be read (then it denies nothing and may allow all).
    pub document: Result<ScpDocument, PolicyError>,
}

/// A way of reaching a principal outside the organization through RAM.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum SharingAttempt {
    /// `CreateResourceShare` allowing external principals, with an outside principal.
    CreateExternal,
    /// `UpdateResourceShare` to allow external principals.
    UpdateToExternal,
    /// `AssociateResourceShare` of an outside principal on a share that allows them.
    AssociateOutsider,
    /// `AcceptResourceShareInvitation` from an owner outside the organization.
    AcceptOutsideInvitation,
}

impl SharingAttempt {
    /// Every attempt, in the order they are reported.
    pub const ALL: [SharingAttempt; 4] = [
        SharingAttempt::CreateExternal,
        SharingAttempt::UpdateToExternal,
        SharingAttempt::AssociateOutsider,
        SharingAttempt::AcceptOutsideInvitation,
    ];

    /// The RAM action it calls.
    pub fn action(self) -> &'static str {
        match self {
            SharingAttempt::CreateExternal => "ram:CreateResourceShare",
            SharingAttempt::UpdateToExternal => "ram:UpdateResourceShare",
            SharingAttempt::AssociateOutsider => "ram:AssociateResourceShare",
            SharingAttempt::AcceptOutsideInvitation => "ram:AcceptResourceShareInvitation",
        }
    }

    /// The request an ordinary role of `account` would send in `region`, naming `outsider`.
    pub fn request(self, account: &str, region: &str, partition: &str, outsider: &str) -> Request {
        let share = format!(
            "arn:{partition}:ram:{region}:{account}:resource-share/00000000-0000-0000-0000-000000000000"
        );
        let role = format!("arn:{partition}:iam::{account}:role/{ORDINARY_ROLE}");
        let base = |resource: &str| {
            Request::new(self.action(), resource)
                .with("aws:PrincipalArn", &[&role])
                .with("aws:PrincipalAccount", &[account])
                .with("aws:PrincipalType", &["AssumedRole"])
                .with("aws:RequestedRegion", &[region])
                .with("aws:PrincipalIsAWSService", &["false"])
                .with("aws:ViaAWSService", &["false"])
                .with("aws:SecureTransport", &["true"])
        };
        match self {
            SharingAttempt::CreateExternal => base(&share)
                .with("ram:RequestedAllowsExternalPrincipals", &["true"])
                .with("ram:Principal", &[outsider]),
            SharingAttempt::UpdateToExternal => base(&share)
                .with("ram:RequestedAllowsExternalPrincipals", &["true"])
                .with("ram:AllowsExternalPrincipals", &["false"]),
            SharingAttempt::AssociateOutsider => base(&share)
                .with("ram:AllowsExternalPrincipals", &["true"])
                .with("ram:Principal", &[outsider]),
            SharingAttempt::AcceptOutsideInvitation => base(&format!(
                "arn:{partition}:ram:{region}:{outsider}:resource-share-invitation/00000000-0000-0000-0000-000000000000"
            ))
            .with("ram:ShareOwnerAccountId", &[outsider]),
        }
    }

    /// What it is, in a sentence's words.
    pub fn describe(self) -> &'static str {
        match self {
            SharingAttempt::CreateExternal => {
                "CreateResourceShare with a principal outside the organization"
            }
            SharingAttempt::UpdateToExternal => {
                "UpdateResourceShare to allow external principals"
            }
            SharingAttempt::AssociateOutsider => {
                "AssociateResourceShare of an outside principal on a share that allows external principals"
            }
            SharingAttempt::AcceptOutsideInvitation => {
                "AcceptResourceShareInvitation from an owner outside the organization"
            }
        }
    }
}

/// What stops an attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum Blocker {
    /// An explicit `Deny` statement.
    Denied {
        /// The policy id.
        policy_id: String,
        /// The policy name.
        policy_name: String,
        /// Where it is attached.
        target_id: String,
        /// The statement's `Sid`, when it has one.
        #[serde(skip_serializing_if = "Option::is_none")]
        sid: Option<String>,
    },
    /// No policy attached to this level allows the action (an allow-list SCP without it).
    NotAllowed {
        /// The level without an `Allow`.
        target_id: String,
    },
}

impl Blocker {
    fn describe(&self) -> String {
        match self {
            Blocker::Denied {
                policy_id,
                policy_name,
                target_id,
                ..
            } => format!("denied by SCP {policy_name} ({policy_id}) on {target_id}"),
            Blocker::NotAllowed { target_id } => {
                format!("not allowed by any SCP on {target_id}")
            }
        }
    }
}

/// Whether the SCPs on a path stop a request, and what stops it.
pub fn blocker(path: &[PathLevel], request: &Request) -> Option<Blocker> {
    for level in path {
        for policy in &level.policies {
            if let Ok(doc) = &policy.document {
                if let Some(statement) = doc.denial(request) {
                    return Some(Blocker::Denied {
                        policy_id: policy.id.clone(),
                        policy_name: policy.name.clone(),
                        target_id: level.target_id.clone(),
                        sid: statement.sid.clone(),
                    });
                }
            }
        }
    }
    path.iter()
        .find(|level| {
            !level.policies.iter().any(|p| match &p.document {
                Ok(doc) => doc.may_allow(request),
                // an unreadable policy may allow anything
                Err(_) => true,
            })
        })
        .map(|level| Blocker::NotAllowed {
            target_id: level.target_id.clone(),
        })
}

/// How far the SCPs keep an account's sharing inside the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageState {
    /// No outside principal can be added to a share.
    Covered,
    /// New external shares are stopped, but shares that already allow external principals can
    /// still take outside principals.
    Partial,
    /// An outside principal can be added.
    Uncovered,
    /// The management account: SCPs never apply to it.
    ManagementAccount,
    /// SCPs are not enabled on the root: no SCP has any effect.
    ScpsNotEnabled,
}

impl CoverageState {
    /// The Config compliance of the account.
    pub fn compliance(self) -> Compliance {
        match self {
            CoverageState::Covered => Compliance::Compliant,
            CoverageState::ManagementAccount => Compliance::NotApplicable,
            CoverageState::Partial | CoverageState::Uncovered | CoverageState::ScpsNotEnabled => {
                Compliance::NonCompliant
            }
        }
    }

    /// Its name, as reports and metrics carry it.
    pub fn as_str(self) -> &'static str {
        match self {
            CoverageState::Covered => "covered",
            CoverageState::Partial => "partial",
            CoverageState::Uncovered => "uncovered",
            CoverageState::ManagementAccount => "management-account",
            CoverageState::ScpsNotEnabled => "scps-not-enabled",
        }
    }
}

/// One attempt and what stops it (nothing: it would succeed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDecision {
    /// The attempt.
    pub attempt: SharingAttempt,
    /// What stops it, if anything.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub blocked_by: Option<Blocker>,
}

/// The guardrail coverage of one account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCoverage {
    /// The account.
    pub account: String,
    /// How far it is covered.
    pub state: CoverageState,
    /// Each attempt and what stops it (empty when SCPs do not apply).
    pub attempts: Vec<AttemptDecision>,
    /// Policies on the path that could not be read (they are taken to deny nothing).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unreadable_policies: Vec<String>,
}

/// The principal the question names: an account neither in the organization nor trusted.
pub fn outsider(org: &OrgSnapshot, trusted: &std::collections::BTreeSet<String>) -> String {
    (0..1000u64)
        .map(|n| format!("{:012}", 999_999_999_999 - n))
        .find(|id| !org.is_member(id) && *id != org.management_account && !trusted.contains(id))
        .unwrap_or_else(|| "999999999999".to_string())
}

/// The coverage of `account`, from the policies on its path (root first) as read in `region`.
pub fn coverage(
    account: &str,
    org: &OrgSnapshot,
    scps_enabled: bool,
    path: &[PathLevel],
    region: &str,
    outsider: &str,
) -> AccountCoverage {
    let unreadable_policies = path
        .iter()
        .flat_map(|l| &l.policies)
        .filter(|p| p.document.is_err())
        .map(|p| p.id.clone())
        .collect();
    let mut out = AccountCoverage {
        account: account.to_string(),
        state: CoverageState::Uncovered,
        attempts: Vec::new(),
        unreadable_policies,
    };
    if account == org.management_account {
        out.state = CoverageState::ManagementAccount;
        return out;
    }
    if !scps_enabled {
        out.state = CoverageState::ScpsNotEnabled;
        return out;
    }
    out.attempts = SharingAttempt::ALL
        .iter()
        .map(|&attempt| AttemptDecision {
            attempt,
            blocked_by: blocker(
                path,
                &attempt.request(account, region, org.partition(), outsider),
            ),
        })
        .collect();
    let blocked = |attempt| {
        out.attempts
            .iter()
            .any(|d| d.attempt == attempt && d.blocked_by.is_some())
    };
    out.state = if blocked(SharingAttempt::CreateExternal)
        && blocked(SharingAttempt::AssociateOutsider)
    {
        CoverageState::Covered
    } else if blocked(SharingAttempt::CreateExternal) && blocked(SharingAttempt::UpdateToExternal) {
        CoverageState::Partial
    } else {
        CoverageState::Uncovered
    };
    out
}

impl AccountCoverage {
    /// The Config annotation: what covers the account or what is open (at most 256 characters).
    pub fn annotation(&self) -> String {
        let text = match self.state {
            CoverageState::ManagementAccount => {
                "SCPs never apply to the management account: its RAM sharing is guarded by detection only.".to_string()
            }
            CoverageState::ScpsNotEnabled => {
                "Service control policies are not enabled on the organization's root: no SCP stops sharing outside the organization.".to_string()
            }
            CoverageState::Covered => {
                let by = self
                    .decision(SharingAttempt::CreateExternal)
                    .map(Blocker::describe)
                    .unwrap_or_default();
                format!("Sharing outside the organization is stopped: CreateResourceShare {by}.")
            }
            CoverageState::Partial => format!(
                "New external shares are stopped, but {} is not.",
                SharingAttempt::AssociateOutsider.describe()
            ),
            CoverageState::Uncovered => {
                let open: Vec<&str> = self
                    .attempts
                    .iter()
                    .filter(|d| d.blocked_by.is_none() && d.attempt != SharingAttempt::AcceptOutsideInvitation)
                    .map(|d| d.attempt.action())
                    .collect();
                format!(
                    "No SCP stops sharing outside the organization: {} allowed for an ordinary role.",
                    open.join(", ")
                )
            }
        };
        bounded(&text, ANNOTATION_MAX)
    }

    /// What stops an attempt, when something does.
    pub fn decision(&self, attempt: SharingAttempt) -> Option<&Blocker> {
        self.attempts
            .iter()
            .find(|d| d.attempt == attempt)
            .and_then(|d| d.blocked_by.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scp::parse;
    use crate::MemberAccount;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const FULL_ACCESS: &str =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    /// The RAM user guide's "Example 1: Prevent external sharing".
    const AWS_EXAMPLE_ONE: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["ram:CreateResourceShare","ram:UpdateResourceShare"],"Resource":"*","Condition":{"Bool":{"ram:RequestedAllowsExternalPrincipals":"true"}}}]}"#;
    const ASSOCIATE_DENY: &str = r#"{"Statement":[{"Effect":"Deny","Action":"ram:AssociateResourceShare","Resource":"*","Condition":{"Bool":{"ram:AllowsExternalPrincipals":"true"}}}]}"#;

    fn org() -> OrgSnapshot {
        OrgSnapshot {
            org_id: "o-abcdefghij".into(),
            org_arn: "arn:aws:organizations::111111111111:organization/o-abcdefghij".into(),
            management_account: "111111111111".into(),
            accounts: ["111111111111", "222222222222", "333333333333"]
                .into_iter()
                .map(|id| {
                    (
                        id.to_string(),
                        MemberAccount {
                            id: id.into(),
                            state: "ACTIVE".into(),
                        },
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn scp(id: &str, text: &str) -> AttachedScp {
        AttachedScp {
            id: id.into(),
            name: id.into(),
            document: parse(text),
        }
    }

    fn level(id: &str, kind: TargetKind, policies: &[(&str, &str)]) -> PathLevel {
        PathLevel {
            target_id: id.into(),
            kind,
            policies: policies.iter().map(|(i, t)| scp(i, t)).collect(),
        }
    }

    /// root → ou → account, FullAWSAccess everywhere, `extra` on the OU.
    fn path(extra: &[(&str, &str)]) -> Vec<PathLevel> {
        let mut ou = vec![("p-FullAWSAccess", FULL_ACCESS)];
        ou.extend_from_slice(extra);
        vec![
            level(
                "r-root",
                TargetKind::Root,
                &[("p-FullAWSAccess", FULL_ACCESS)],
            ),
            level("ou-prod", TargetKind::OrganizationalUnit, &ou),
            level(
                "222222222222",
                TargetKind::Account,
                &[("p-FullAWSAccess", FULL_ACCESS)],
            ),
        ]
    }

    fn state(path: &[PathLevel]) -> CoverageState {
        let org = org();
        coverage(
            "222222222222",
            &org,
            true,
            path,
            "eu-west-1",
            &outsider(&org, &Default::default()),
        )
        .state
    }

    #[test]
    fn full_access_alone_covers_nothing() {
        assert_eq!(state(&path(&[])), CoverageState::Uncovered);
    }

    #[test]
    fn the_aws_example_is_partial_and_the_associate_deny_completes_it() {
        assert_eq!(
            state(&path(&[("p-ex1", AWS_EXAMPLE_ONE)])),
            CoverageState::Partial
        );
        assert_eq!(
            state(&path(&[
                ("p-ex1", AWS_EXAMPLE_ONE),
                ("p-assoc", ASSOCIATE_DENY)
            ])),
            CoverageState::Covered
        );
    }

    #[test]
    fn an_allow_list_without_ram_covers() {
        let allow_list =
            r#"{"Statement":[{"Effect":"Allow","Action":["ec2:*","s3:*"],"Resource":"*"}]}"#;
        let mut p = path(&[]);
        p[1].policies = vec![scp("p-allow", allow_list)];
        let org = org();
        let c = coverage("222222222222", &org, true, &p, "eu-west-1", "999999999999");
        assert_eq!(c.state, CoverageState::Covered);
        assert_eq!(
            c.decision(SharingAttempt::CreateExternal),
            Some(&Blocker::NotAllowed {
                target_id: "ou-prod".into()
            })
        );
    }

    #[test]
    fn a_misspelled_key_does_not_cover() {
        let misspelled =
            AWS_EXAMPLE_ONE.replace("RequestedAllowsExternal", "RequestedAllowExternal");
        assert_eq!(
            state(&path(&[("p-typo", &misspelled)])),
            CoverageState::Uncovered
        );
    }

    #[test]
    fn an_unreadable_policy_covers_nothing_and_is_named() {
        let org = org();
        let mut p = path(&[("p-broken", "{not json")]);
        p[1].policies.retain(|x| x.id != "p-FullAWSAccess");
        let c = coverage("222222222222", &org, true, &p, "eu-west-1", "999999999999");
        assert_eq!(c.state, CoverageState::Uncovered);
        assert_eq!(c.unreadable_policies, vec!["p-broken".to_string()]);
    }

    #[test]
    fn management_account_and_disabled_scps() {
        let org = org();
        let p = path(&[("p-ex1", AWS_EXAMPLE_ONE), ("p-assoc", ASSOCIATE_DENY)]);
        let m = coverage("111111111111", &org, true, &p, "eu-west-1", "999999999999");
        assert_eq!(m.state, CoverageState::ManagementAccount);
        assert_eq!(m.state.compliance(), Compliance::NotApplicable);
        let off = coverage("222222222222", &org, false, &p, "eu-west-1", "999999999999");
        assert_eq!(off.state, CoverageState::ScpsNotEnabled);
        assert_eq!(off.state.compliance(), Compliance::NonCompliant);
    }

    #[test]
    fn the_outsider_is_neither_member_nor_trusted() {
        let org = org();
        let trusted = ["999999999999".to_string()].into_iter().collect();
        assert_eq!(outsider(&org, &trusted), "999999999998");
    }

    #[test]
    fn annotations_name_what_stops_or_what_is_open() {
        let org = org();
        let covered = coverage(
            "222222222222",
            &org,
            true,
            &path(&[("p-ex1", AWS_EXAMPLE_ONE), ("p-assoc", ASSOCIATE_DENY)]),
            "eu-west-1",
            "999999999999",
        );
        assert!(
            covered.annotation().contains("p-ex1"),
            "{}",
            covered.annotation()
        );
        let open = coverage(
            "222222222222",
            &org,
            true,
            &path(&[]),
            "eu-west-1",
            "999999999999",
        );
        assert!(
            open.annotation().contains("ram:CreateResourceShare"),
            "{}",
            open.annotation()
        );
        assert!(open.annotation().chars().count() <= ANNOTATION_MAX);
    }

    fn any_level_index() -> impl Strategy<Value = usize> {
        0usize..3
    }

    proptest! {
        /// A deny of every RAM action anywhere on the path covers, whatever else is attached.
        #[test]
        fn a_ram_deny_anywhere_covers(at in any_level_index(), extra_allow in any::<bool>()) {
            let mut p = path(&[]);
            p[at].policies.push(scp("p-deny", r#"{"Statement":{"Effect":"Deny","Action":"ram:*","Resource":"*"}}"#));
            if extra_allow {
                p[at].policies.push(scp("p-allow", r#"{"Statement":{"Effect":"Allow","Action":"ram:*","Resource":"*"}}"#));
            }
            prop_assert_eq!(state(&p), CoverageState::Covered);
        }

        /// Removing every Allow from any one level stops everything (no allow at that level).
        #[test]
        fn a_level_without_allow_covers(at in any_level_index()) {
            let mut p = path(&[]);
            p[at].policies.clear();
            prop_assert_eq!(state(&p), CoverageState::Covered);
        }

        /// A deny whose condition names a key the request does not carry never covers; with
        /// IfExists it always does.
        #[test]
        fn absent_keys(key in "ram:[A-Z][a-zA-Z]{3,20}", if_exists in any::<bool>()) {
            prop_assume!(!["ram:RequestedAllowsExternalPrincipals", "ram:AllowsExternalPrincipals", "ram:Principal", "ram:ShareOwnerAccountId"].contains(&key.as_str()));
            let op = if if_exists { "BoolIfExists" } else { "Bool" };
            let text = format!(r#"{{"Statement":{{"Effect":"Deny","Action":"ram:*","Resource":"*","Condition":{{"{op}":{{"{key}":"true"}}}}}}}}"#);
            let expected = if if_exists { CoverageState::Covered } else { CoverageState::Uncovered };
            prop_assert_eq!(state(&path(&[("p-x", &text)])), expected);
        }

        /// The order of the policies attached to a level does not matter.
        #[test]
        fn order_of_policies_in_a_level_does_not_matter(reverse in any::<bool>()) {
            let mut p = path(&[("p-ex1", AWS_EXAMPLE_ONE), ("p-assoc", ASSOCIATE_DENY)]);
            if reverse {
                p[1].policies.reverse();
            }
            prop_assert_eq!(state(&p), CoverageState::Covered);
        }
    }
}
