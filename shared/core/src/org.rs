//! The organization as one snapshot: what "inside" means for every classification.

use std::collections::BTreeMap;

/// An account's state in the organization, as Organizations reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccount {
    pub id: String,
    pub state: String,
}

/// The organization at one moment: its id and ARN, management account and every member account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSnapshot {
    pub org_id: String,
    pub org_arn: String,
    pub management_account: String,
    pub accounts: BTreeMap<String, MemberAccount>,
}

impl OrgSnapshot {
    /// Whether the account is a member of the organization (in any state: a suspended member is
    /// still a member, not an outsider).
    pub fn is_member(&self, account: &str) -> bool {
        self.accounts.contains_key(account)
    }

    pub fn partition(&self) -> &str {
        self.org_arn.split(':').nth(1).unwrap_or("aws")
    }
}
