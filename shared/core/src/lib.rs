//! ramguard's pure core: what a RAM share is, who is inside the organization, the verdict on a
//! share, its findings and remediation plan, deferred evaluations and the events that carry them.
//! Plain types and pure functions only: no AWS SDK, no async runtime, no Lambda runtime (the
//! compiler keeps it so: none of them is a dependency of this crate).
//!
//! The domain's vocabulary (principals, the organization, shares, parameters, verdicts, bounded
//! text) is re-exported at the root. Formats and procedures that carry their own constants and
//! verbs stay namespaced: `events` and `rule_event` (what arrives), `judge` and `earlier` (a
//! sweep), `finding` (Security Hub), `remediate` (plans) and `deferral` (deferred starts), `scp` (the policy grammar) and `guardrail` (what SCPs
//! stop).

#![warn(missing_docs)]

pub mod baseline;
pub mod deferral;
pub mod earlier;
pub mod events;
pub mod finding;
pub mod guardrail;
pub mod judge;
mod org;
mod params;
mod principal;
pub mod remediate;
pub mod rule_event;
pub mod scp;
mod share;
mod text;
mod verdict;

pub use org::{MemberAccount, OrgSnapshot};
pub use params::{
    ParameterError, Parameters, ServicePrincipals, DEFAULT_EXEMPT_TAG_KEY,
    DEFAULT_ORG_CACHE_TTL_SECONDS, PARAMETER_NAMES,
};
pub use principal::{is_account_id, is_region, is_share_arn, Partition, Principal, PrincipalKind};
pub use share::{
    AssociationStatus, Exposure, PrincipalAssociation, ResourceShare, ShareStatus, SharedResource,
    SourceAssociation,
};
pub use text::bounded;
pub use verdict::{
    classify, classify_source, evaluate, exemption, expiry_seconds, outside_annotation, Compliance,
    Exemption, ExternalFlagMismatch, ExternalPrincipal, OutsideReason, Placement, ShareVerdict,
    VerdictReason,
};
