//! RAM resource shares and their principal associations, as plain data.

use std::collections::BTreeMap;

/// A share's status, as RAM reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum ShareStatus {
    /// Being created.
    Pending,
    #[default]
    /// In use (the default of a share read without one).
    Active,
    /// Creation failed.
    Failed,
    /// Being deleted.
    Deleting,
    /// Deleted; RAM still lists it for a while.
    Deleted,
    /// A status RAM may add later, kept as RAM spells it.
    Other(String),
}

impl ShareStatus {
    /// RAM's status name, read.
    pub fn parse(s: &str) -> ShareStatus {
        match s {
            "PENDING" => ShareStatus::Pending,
            "ACTIVE" => ShareStatus::Active,
            "FAILED" => ShareStatus::Failed,
            "DELETING" => ShareStatus::Deleting,
            "DELETED" => ShareStatus::Deleted,
            other => ShareStatus::Other(other.to_string()),
        }
    }

    /// RAM's status name.
    pub fn as_str(&self) -> &str {
        match self {
            ShareStatus::Pending => "PENDING",
            ShareStatus::Active => "ACTIVE",
            ShareStatus::Failed => "FAILED",
            ShareStatus::Deleting => "DELETING",
            ShareStatus::Deleted => "DELETED",
            ShareStatus::Other(s) => s,
        }
    }

    /// DELETING or DELETED: the share no longer grants anything.
    pub fn is_gone(&self) -> bool {
        matches!(self, ShareStatus::Deleting | ShareStatus::Deleted)
    }
}

/// A principal association's status, as RAM reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum AssociationStatus {
    /// Being associated (a pending invitation, for an account outside the organization).
    Associating,
    /// Associated: the principal has access.
    Associated,
    /// The association failed (a rejected invitation, say).
    Failed,
    /// Being removed.
    Disassociating,
    /// Removed.
    Disassociated,
    /// Suspended: the account left the organization; RAM can resume it.
    Suspended,
    /// Being suspended.
    Suspending,
    /// Being restored from SUSPENDED.
    Restoring,
    /// A status RAM may add later, kept as RAM spells it.
    Other(String),
}

impl AssociationStatus {
    /// RAM's status name, read.
    pub fn parse(s: &str) -> AssociationStatus {
        match s {
            "ASSOCIATING" => AssociationStatus::Associating,
            "ASSOCIATED" => AssociationStatus::Associated,
            "FAILED" => AssociationStatus::Failed,
            "DISASSOCIATING" => AssociationStatus::Disassociating,
            "DISASSOCIATED" => AssociationStatus::Disassociated,
            "SUSPENDED" => AssociationStatus::Suspended,
            "SUSPENDING" => AssociationStatus::Suspending,
            "RESTORING" => AssociationStatus::Restoring,
            other => AssociationStatus::Other(other.to_string()),
        }
    }

    /// RAM's status name.
    pub fn as_str(&self) -> &str {
        match self {
            AssociationStatus::Associating => "ASSOCIATING",
            AssociationStatus::Associated => "ASSOCIATED",
            AssociationStatus::Failed => "FAILED",
            AssociationStatus::Disassociating => "DISASSOCIATING",
            AssociationStatus::Disassociated => "DISASSOCIATED",
            AssociationStatus::Suspended => "SUSPENDED",
            AssociationStatus::Suspending => "SUSPENDING",
            AssociationStatus::Restoring => "RESTORING",
            AssociationStatus::Other(s) => s,
        }
    }

    /// Whether the association gives (or offers, as a pending invitation) access to the share.
    /// SUSPENDED, SUSPENDING and RESTORING count: the association still exists and RAM can
    /// resume it without the owner acting. Statuses RAM may add later count too: what cannot be
    /// shown to be without access is treated as exposure.
    pub fn is_exposed(&self) -> bool {
        !matches!(
            self,
            AssociationStatus::Failed
                | AssociationStatus::Disassociating
                | AssociationStatus::Disassociated
        )
    }

    /// Whether the remediator may disassociate it: every exposed status RAM documents
    /// (ASSOCIATING, ASSOCIATED, SUSPENDED, SUSPENDING, RESTORING). An unknown status is exposure
    /// but is never acted on: ramguard cannot know what a disassociation does to it.
    pub fn is_removable(&self) -> bool {
        matches!(
            self,
            AssociationStatus::Associating
                | AssociationStatus::Associated
                | AssociationStatus::Suspended
                | AssociationStatus::Suspending
                | AssociationStatus::Restoring
        )
    }
}

/// One source constraint of a share (a SOURCE association): an account, an ARN, an organization
/// id or an organization path on whose behalf the share's service principals may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAssociation {
    /// The source: an account id, an ARN, an organization id or path.
    pub source: String,
    /// The association's status.
    pub status: AssociationStatus,
}

/// One principal association of a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalAssociation {
    /// RAM's `associatedEntity`: an account, organization, OU, IAM role or user ARN, or a service principal.
    pub entity: String,
    /// The association's status.
    pub status: AssociationStatus,
    /// RAM's own `external` flag, cross-checked against ramguard's classification.
    pub external: Option<bool>,
}

/// A RAM resource share with its principal associations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceShare {
    /// The share's ARN.
    pub arn: String,
    /// The share's name.
    pub name: String,
    /// The owning account.
    pub owner: String,
    /// The share's status.
    pub status: ShareStatus,
    /// `allowExternalPrincipals`.
    pub allow_external_principals: bool,
    /// The share's tags.
    pub tags: BTreeMap<String, String>,
    /// Its principal associations, every status.
    pub principals: Vec<PrincipalAssociation>,
    /// RAM's `featureSet`: STANDARD, CREATED_FROM_POLICY or PROMOTING_TO_STANDARD.
    pub feature_set: String,
    /// `resourceShareConfiguration.retainSharingOnAccountLeaveOrganization`: accounts keep
    /// access after they leave the organization.
    pub retains_access_on_leave: bool,
    /// The share's source constraints (SOURCE associations).
    pub sources: Vec<SourceAssociation>,
}

impl ResourceShare {
    /// A share created from a resource-based policy: RAM refuses changes to it until it is
    /// promoted (PromoteResourceShareCreatedFromPolicy), and while it is being promoted.
    pub fn is_created_from_policy(&self) -> bool {
        matches!(
            self.feature_set.as_str(),
            "CREATED_FROM_POLICY" | "PROMOTING_TO_STANDARD"
        )
    }

    /// The share's Region, from its ARN.
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }
}

/// A resource a share carries (a RESOURCE association, as ListResources reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedResource {
    /// The resource's ARN.
    pub arn: String,
    /// RAM's resource type, e.g. `ec2:Subnet`.
    pub resource_type: String,
}

impl SharedResource {
    /// The resource's Region, from its ARN (empty for a global resource).
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }
}

/// What a share exposes: its resources and the RAM permissions they are shared with.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Exposure {
    /// The resources the share carries.
    pub resources: Vec<SharedResource>,
    /// Permission names (`AWSRAMDefaultPermissionSubnet`, or a customer managed permission's).
    pub permissions: Vec<String>,
}

impl Exposure {
    /// The distinct resource types the share carries, sorted.
    pub fn resource_types(&self) -> Vec<&str> {
        let mut types: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.resource_type.as_str())
            .collect();
        types.sort_unstable();
        types.dedup();
        types
    }
}
