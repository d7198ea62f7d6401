//! ramguard's pure core: what a RAM share is, who is inside the organization, the verdict on a
//! share, its findings and remediation plan, deferred evaluations and the events that carry them.
//! Plain types and pure functions only: no AWS SDK, no async runtime, no Lambda runtime (the
//! compiler keeps it so: none of them is a dependency of this crate).

#![warn(missing_docs)]

pub mod deferral;
pub mod earlier;
pub mod events;
pub mod finding;
pub mod judge;
pub mod org;
pub mod params;
pub mod principal;
pub mod remediate;
pub mod rule_event;
pub mod share;
pub mod text;
pub mod verdict;

pub use org::{MemberAccount, OrgSnapshot};
pub use params::{Parameters, ServicePrincipals};
pub use principal::{Principal, PrincipalKind};
pub use share::{
    AssociationStatus, Exposure, PrincipalAssociation, ResourceShare, ShareStatus, SharedResource,
};
pub use verdict::{
    classify, evaluate, Compliance, ExternalPrincipal, OutsideReason, Placement, ShareVerdict,
    VerdictReason,
};
