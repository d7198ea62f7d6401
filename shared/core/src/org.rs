//! The organization as one snapshot: what "inside" means for every classification.

use std::collections::BTreeMap;

/// An account's state in the organization, as Organizations reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccount {
    /// The 12-digit account id.
    pub id: String,
    /// Organizations' account state (ACTIVE, SUSPENDED, PENDING_CLOSURE, …).
    pub state: String,
}

/// The organization at one moment: its id and ARN, management account and every member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSnapshot {
    /// The organization's id (`o-…`).
    pub org_id: String,
    /// The organization's ARN: its partition and management account are part of it.
    pub org_arn: String,
    /// The management account's id.
    pub management_account: String,
    /// Every member account, by id.
    pub accounts: BTreeMap<String, MemberAccount>,
}

impl OrgSnapshot {
    /// Whether the account is a member of the organization (in any state: a suspended member is
    /// still a member, not an outsider).
    pub fn is_member(&self, account: &str) -> bool {
        self.accounts.contains_key(account)
    }

    /// The AWS partition the organization is in (`aws`, `aws-cn`, `aws-us-gov`, …).
    pub fn partition(&self) -> &str {
        self.org_arn.split(':').nth(1).unwrap_or("aws")
    }
}
