//! ramguard's shared core: pure domain logic over plain types, and thin AWS adapters.

pub mod aws;
pub mod deferral;
pub mod earlier;
pub mod evaluate;
pub mod events;
pub mod failure;
pub mod finding;
pub mod logging;
pub mod metrics;
pub mod org;
pub mod params;
pub mod principal;
pub mod remediate;
pub mod share;

pub use evaluate::{
    classify, evaluate, Compliance, ExternalPrincipal, OutsideReason, Placement, ShareVerdict,
    VerdictReason,
};
pub use org::{MemberAccount, OrgSnapshot};
pub use params::{Parameters, ServicePrincipals};
pub use principal::{Principal, PrincipalKind};
pub use share::{
    AssociationStatus, Exposure, PrincipalAssociation, ResourceShare, ShareStatus, SharedResource,
};
