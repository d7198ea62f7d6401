//! RAM resource shares and their principal associations, as plain data.

use std::collections::BTreeMap;

/// A share's status, as RAM reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ShareStatus {
    Pending,
    Active,
    Failed,
    Deleting,
    Deleted,
    Other(String),
}

impl ShareStatus {
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

    pub fn is_gone(&self) -> bool {
        matches!(self, ShareStatus::Deleting | ShareStatus::Deleted)
    }
}

/// A principal association's status, as RAM reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum AssociationStatus {
    Associating,
    Associated,
    Failed,
    Disassociating,
    Disassociated,
    Suspended,
    Suspending,
    Restoring,
    Other(String),
}

impl AssociationStatus {
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
    /// Suspended and restoring associations, and statuses RAM may add later, count too:
    /// what cannot be shown to be without access is treated as exposure.
    pub fn is_exposed(&self) -> bool {
        !matches!(
            self,
            AssociationStatus::Failed
                | AssociationStatus::Disassociating
                | AssociationStatus::Disassociated
        )
    }
}

/// One principal association of a share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalAssociation {
    pub entity: String,
    pub status: AssociationStatus,
    /// RAM's own `external` flag, cross-checked against ramguard's classification.
    pub external: Option<bool>,
}

/// A RAM resource share with its principal associations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceShare {
    pub arn: String,
    pub name: String,
    pub owner: String,
    pub status: ShareStatus,
    pub allow_external_principals: bool,
    pub tags: BTreeMap<String, String>,
    pub principals: Vec<PrincipalAssociation>,
}

impl ResourceShare {
    /// The share's Region, from its ARN.
    pub fn region(&self) -> &str {
        self.arn.split(':').nth(3).unwrap_or_default()
    }
}
