//! The organization's sharing baseline: inside the organization, which boundaries (groups of
//! accounts by OU, id or tag) a share may cross, which resource types and principal forms may be
//! shared, which tags a share must carry and until when it may live. The outside-the-organization
//! verdict stays the outermost layer: the baseline only adds violations, never removes one.

mod document;
mod finding;

use std::collections::{BTreeMap, BTreeSet};

pub use finding::{baseline_findings, finding_id, FIELD_RULE, FIELD_VERSION, FINDING_TYPE};

pub use document::{
    parse, Baseline, BaselineSource, Boundary, Crossing, PrincipalForm, PrincipalRules, Problem,
    ResourceTypeRules, Severities,
};

use crate::verdict::{classify, Placement};
use crate::{
    bounded, Compliance, OrgSnapshot, Parameters, Principal, ResourceShare, ShareVerdict,
    VerdictReason,
};

/// The organization's structure the baseline needs: each account's and OU's parent, and account
/// tags (read only when the baseline names tags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrgStructure {
    /// Child (account or OU id) → parent (OU or root id).
    pub parents: BTreeMap<String, String>,
    /// Account → its Organizations tags.
    pub tags: BTreeMap<String, BTreeMap<String, String>>,
}

impl OrgStructure {
    /// The OUs above an account, nearest first (the root excluded).
    pub fn ous_above(&self, account: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut at = account;
        while let Some(parent) = self.parents.get(at) {
            if !parent.starts_with("ou-") || out.len() > 8 {
                break;
            }
            out.push(parent.as_str());
            at = parent;
        }
        out
    }

    /// The accounts under an OU, at any depth.
    pub fn accounts_under(&self, ou: &str) -> Vec<&str> {
        self.parents
            .keys()
            .filter(|child| crate::is_account_id(child))
            .filter(|account| self.ous_above(account).contains(&ou))
            .map(String::as_str)
            .collect()
    }

    /// Whether the OU exists in the organization.
    pub fn has_ou(&self, ou: &str) -> bool {
        self.parents.contains_key(ou)
    }
}

impl Baseline {
    /// The boundaries an account is in.
    pub fn boundaries_of(&self, account: &str, org: &OrgStructure) -> BTreeSet<&str> {
        let above = org.ous_above(account);
        let tags = org.tags.get(account);
        self.boundaries
            .iter()
            .filter(|(_, b)| {
                b.accounts.iter().any(|a| a == account)
                    || b.ous.iter().any(|ou| above.contains(&ou.as_str()))
                    || (!b.tags.is_empty()
                        && tags.is_some_and(|t| b.tags.iter().all(|(k, v)| t.get(k) == Some(v))))
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Whether the baseline names account tags (then the structure must carry them).
    pub fn uses_tags(&self) -> bool {
        self.boundaries.values().any(|b| !b.tags.is_empty())
    }

    /// Whether judging needs the shares' resource types.
    pub fn uses_resource_types(&self) -> bool {
        self.resource_types.allowed.is_some()
            || !self.resource_types.by_boundary.is_empty()
            || self.crossings.iter().any(|c| !c.resource_types.is_empty())
    }
}

/// A rule of the baseline a share breaks.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(
    tag = "rule",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum BaselineViolation {
    /// A principal reaches accounts outside the owner's boundary with no crossing allowing it.
    Boundary {
        /// The owner's boundary.
        boundary: String,
        /// The principal (RAM's `associatedEntity`).
        principal: String,
        /// Where it reaches: another boundary, or an account in none.
        reaches: String,
    },
    /// A resource type the baseline does not allow here.
    ResourceType {
        /// The rule (`resource_types.allowed` or `resource_types.by_boundary.<name>`).
        at: String,
        /// RAM's resource type.
        resource_type: String,
    },
    /// A principal form the baseline forbids here.
    PrincipalForm {
        /// The rule (`principals.forbidden` or `principals.by_boundary.<name>`).
        at: String,
        /// The principal.
        principal: String,
        /// Its form.
        form: PrincipalForm,
    },
    /// A required tag is missing.
    RequiredTag {
        /// The tag key.
        tag: String,
    },
    /// The expiry date has passed.
    Expired {
        /// The tag key.
        tag: String,
        /// Its value.
        until: String,
    },
    /// The expiry tag does not hold a date.
    InvalidExpiry {
        /// The tag key.
        tag: String,
        /// Its value.
        value: String,
    },
}

impl BaselineViolation {
    /// What it is, in a sentence's words.
    pub fn describe(&self) -> String {
        match self {
            BaselineViolation::Boundary {
                boundary,
                principal,
                reaches,
            } => {
                format!("boundary {boundary}: {principal} reaches {reaches}")
            }
            BaselineViolation::ResourceType { at, resource_type } => {
                format!("{at}: {resource_type} may not be shared")
            }
            BaselineViolation::PrincipalForm {
                at,
                principal,
                form,
            } => {
                format!("{at}: {principal} is a {} principal", form.as_str())
            }
            BaselineViolation::RequiredTag { tag } => format!("required tag {tag} is missing"),
            BaselineViolation::Expired { tag, until } => format!("expired: {tag}={until}"),
            BaselineViolation::InvalidExpiry { tag, value } => {
                format!("expiry tag {tag}={value:?} is not a date")
            }
        }
    }

    /// A stable key: the finding Id's last part.
    pub fn key(&self) -> String {
        match self {
            BaselineViolation::Boundary { principal, .. } => format!("boundary/{principal}"),
            BaselineViolation::ResourceType { resource_type, .. } => {
                format!("resource-type/{resource_type}")
            }
            BaselineViolation::PrincipalForm { principal, .. } => {
                format!("principal-form/{principal}")
            }
            BaselineViolation::RequiredTag { tag } => format!("required-tag/{tag}"),
            BaselineViolation::Expired { tag, .. }
            | BaselineViolation::InvalidExpiry { tag, .. } => {
                format!("expiry/{tag}")
            }
        }
    }

    /// Its severity by the baseline's rules.
    pub fn severity<'a>(&self, severities: &'a Severities) -> &'a str {
        match self {
            BaselineViolation::Boundary { .. } => &severities.boundary,
            BaselineViolation::ResourceType { .. } => &severities.resource_type,
            BaselineViolation::PrincipalForm { .. } => &severities.principal_form,
            BaselineViolation::RequiredTag { .. } => &severities.required_tag,
            BaselineViolation::Expired { .. } | BaselineViolation::InvalidExpiry { .. } => {
                &severities.expiry
            }
        }
    }
}

fn form(principal: &Principal) -> Option<PrincipalForm> {
    Some(match principal {
        Principal::Account(_) => PrincipalForm::Account,
        Principal::Organization { .. } => PrincipalForm::Organization,
        Principal::OrganizationalUnit { .. } => PrincipalForm::OrganizationalUnit,
        Principal::IamRole { .. } => PrincipalForm::IamRole,
        Principal::IamUser { .. } => PrincipalForm::IamUser,
        Principal::ServicePrincipal(_) => PrincipalForm::ServicePrincipal,
        _ => return None,
    })
}

/// The accounts a principal inside the organization reaches.
fn accounts_reached<'a>(
    principal: &'a Principal,
    org: &'a OrgSnapshot,
    structure: &'a OrgStructure,
) -> Vec<&'a str> {
    match principal {
        Principal::Account(id) => vec![id.as_str()],
        Principal::IamRole { account, .. } | Principal::IamUser { account, .. } => {
            vec![account.as_str()]
        }
        Principal::OrganizationalUnit { ou_id, .. } => structure.accounts_under(ou_id),
        Principal::Organization { .. } => org
            .accounts
            .keys()
            .map(String::as_str)
            .chain(std::iter::once(org.management_account.as_str()))
            .collect(),
        _ => Vec::new(),
    }
}

/// Everything a share needs judged against the baseline, beyond the share itself.
pub struct BaselineContext<'a> {
    /// The baseline.
    pub baseline: &'a Baseline,
    /// The organization.
    pub org: &'a OrgSnapshot,
    /// Its structure.
    pub structure: &'a OrgStructure,
    /// The rule parameters (for the same classification as the outer layer).
    pub params: &'a Parameters,
}

/// The baseline rules a share breaks. `resource_types` are RAM's types of the share's resources;
/// `now` is seconds since the epoch. Only exposed principals inside the organization are judged
/// for boundaries and forms (outside ones are the outer layer's).
pub fn violations(
    share: &ResourceShare,
    resource_types: &BTreeSet<String>,
    ctx: &BaselineContext<'_>,
    now: i64,
) -> Vec<BaselineViolation> {
    let b = ctx.baseline;
    let owner_boundaries = b.boundaries_of(&share.owner, ctx.structure);
    let mut out = Vec::new();
    for assoc in share.principals.iter().filter(|a| a.status.is_exposed()) {
        let principal = Principal::parse(&assoc.entity);
        if let Some(f) = form(&principal) {
            out.extend(form_violations(b, &owner_boundaries, &assoc.entity, f));
        }
        if classify(&principal, ctx.org, ctx.params) != Placement::InOrg {
            continue;
        }
        if let Some(v) = boundary_violation(
            ctx,
            &owner_boundaries,
            &principal,
            &assoc.entity,
            resource_types,
            &share.owner,
        ) {
            out.push(v);
        }
    }
    out.extend(type_violations(b, &owner_boundaries, resource_types));
    for tag in &b.required_tags {
        if !share.tags.contains_key(tag) {
            out.push(BaselineViolation::RequiredTag { tag: tag.clone() });
        }
    }
    if let Some(tag) = &b.expiry_tag {
        if let Some(value) = share.tags.get(tag) {
            match crate::verdict::expiry_seconds(value) {
                Some(until) if until <= now => out.push(BaselineViolation::Expired {
                    tag: tag.clone(),
                    until: value.clone(),
                }),
                Some(_) => {}
                None => out.push(BaselineViolation::InvalidExpiry {
                    tag: tag.clone(),
                    value: value.clone(),
                }),
            }
        }
    }
    out.sort_by_key(BaselineViolation::key);
    out.dedup_by(|a, b| a.key() == b.key());
    out
}

fn form_violations(
    b: &Baseline,
    owner_boundaries: &BTreeSet<&str>,
    entity: &str,
    f: PrincipalForm,
) -> Vec<BaselineViolation> {
    let mut out = Vec::new();
    if b.principals.forbidden.contains(&f) {
        out.push(BaselineViolation::PrincipalForm {
            at: "principals.forbidden".into(),
            principal: entity.to_string(),
            form: f,
        });
    }
    for name in owner_boundaries {
        if b.principals
            .by_boundary
            .get(*name)
            .is_some_and(|l| l.contains(&f))
        {
            out.push(BaselineViolation::PrincipalForm {
                at: format!("principals.by_boundary.{name}"),
                principal: entity.to_string(),
                form: f,
            });
        }
    }
    out
}

fn type_violations(
    b: &Baseline,
    owner_boundaries: &BTreeSet<&str>,
    resource_types: &BTreeSet<String>,
) -> Vec<BaselineViolation> {
    let mut out = Vec::new();
    for t in resource_types {
        if let Some(allowed) = &b.resource_types.allowed {
            if !allowed.contains(t) {
                out.push(BaselineViolation::ResourceType {
                    at: "resource_types.allowed".into(),
                    resource_type: t.clone(),
                });
                continue;
            }
        }
        for name in owner_boundaries {
            if let Some(list) = b.resource_types.by_boundary.get(*name) {
                if !list.contains(t) {
                    out.push(BaselineViolation::ResourceType {
                        at: format!("resource_types.by_boundary.{name}"),
                        resource_type: t.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The first account a principal reaches beyond the owner's boundaries that no crossing allows.
fn boundary_violation(
    ctx: &BaselineContext<'_>,
    owner_boundaries: &BTreeSet<&str>,
    principal: &Principal,
    entity: &str,
    resource_types: &BTreeSet<String>,
    owner: &str,
) -> Option<BaselineViolation> {
    let b = ctx.baseline;
    let from = owner_boundaries.iter().next()?;
    for account in accounts_reached(principal, ctx.org, ctx.structure) {
        if account == owner {
            continue;
        }
        let theirs = b.boundaries_of(account, ctx.structure);
        if theirs.iter().any(|t| owner_boundaries.contains(t)) {
            continue;
        }
        let crossed = b.crossings.iter().any(|c| {
            owner_boundaries.contains(c.from.as_str())
                && (c.to.iter().any(|t| t == "*")
                    || c.to.iter().any(|t| theirs.contains(t.as_str())))
                && (c.resource_types.is_empty()
                    || resource_types.iter().all(|r| c.resource_types.contains(r)))
        });
        if crossed {
            continue;
        }
        let reaches = match theirs.iter().next() {
            Some(other) => format!("{account} in boundary {other}"),
            None => format!("{account}, in no boundary"),
        };
        return Some(BaselineViolation::Boundary {
            boundary: from.to_string(),
            principal: entity.to_string(),
            reaches,
        });
    }
    None
}

/// The verdict with the baseline's violations: a COMPLIANT share that breaks the baseline becomes
/// NON_COMPLIANT (reason `baseline`, the baseline's annotation); a NON_COMPLIANT one keeps its
/// annotation, the baseline's after it when it fits Config's 256 characters. A NOT_APPLICABLE
/// share (gone or exempt) is not judged against the baseline.
pub fn apply(
    mut verdict: ShareVerdict,
    version: &str,
    found: Vec<BaselineViolation>,
) -> ShareVerdict {
    if found.is_empty() || verdict.compliance == Compliance::NotApplicable {
        return verdict;
    }
    let text = annotation(version, &found);
    verdict.annotation = match verdict.compliance {
        Compliance::Compliant => {
            verdict.compliance = Compliance::NonCompliant;
            verdict.reason = VerdictReason::Baseline;
            bounded(&text, 256)
        }
        _ if verdict.annotation.chars().count() + 1 + text.chars().count() <= 256 => {
            format!("{} {text}", verdict.annotation)
        }
        _ => verdict.annotation,
    };
    verdict.baseline = found;
    verdict
}

/// The annotation's baseline part: the version and the first violations that fit.
pub fn annotation(version: &str, found: &[BaselineViolation]) -> String {
    let mut text = format!("Baseline {version}: ");
    text.push_str(
        &found
            .iter()
            .map(BaselineViolation::describe)
            .collect::<Vec<_>>()
            .join("; "),
    );
    text.push('.');
    text
}

/// Whether an org structure knows everything the baseline names: unknown OUs and accounts, and
/// accounts in more than one boundary, each with its line.
pub fn check_against(
    source: &BaselineSource,
    org: &OrgSnapshot,
    structure: &OrgStructure,
) -> Vec<Problem> {
    let b = &source.baseline;
    let mut out = Vec::new();
    for (name, boundary) in &b.boundaries {
        for (i, ou) in boundary.ous.iter().enumerate() {
            if !structure.has_ou(ou) {
                out.push(source.problem(
                    &format!("boundaries.{name}.ous[{i}]"),
                    format!("OU {ou} is not in organization {}", org.org_id),
                ));
            }
        }
        for (i, account) in boundary.accounts.iter().enumerate() {
            if !org.is_member(account) && *account != org.management_account {
                out.push(source.problem(
                    &format!("boundaries.{name}.accounts[{i}]"),
                    format!("account {account} is not in organization {}", org.org_id),
                ));
            }
        }
    }
    let mut accounts: Vec<&String> = org.accounts.keys().collect();
    accounts.push(&org.management_account);
    accounts.sort();
    accounts.dedup();
    for account in accounts {
        let in_ = b.boundaries_of(account, structure);
        if in_.len() > 1 {
            let names: Vec<&str> = in_.into_iter().collect();
            out.push(source.problem(
                &format!("boundaries.{}", names[1]),
                format!(
                    "account {account} is in boundaries {} at once",
                    names.join(" and ")
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
