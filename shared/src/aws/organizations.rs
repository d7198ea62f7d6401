//! The org snapshot from Organizations: DescribeOrganization + paginated ListAccounts, cached
//! across warm invocations.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::aws::AwsError;
use crate::org::{MemberAccount, OrgSnapshot};

/// Reads the organization: one DescribeOrganization and ListAccounts pages of 20 (an empty page
/// with a token does not end the listing). Throttling is retried by the client's retry policy.
pub async fn load_snapshot(
    client: &aws_sdk_organizations::Client,
) -> Result<OrgSnapshot, AwsError> {
    let org = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DescribeOrganization", e))?
        .organization
        .ok_or_else(|| AwsError {
            operation: "DescribeOrganization",
            code: None,
            message: "the answer holds no organization".into(),
        })?;
    let accounts = crate::collect_pages!(
        "ListAccounts",
        client.list_accounts().max_results(20).into_paginator(),
        accounts
    )?;
    let missing = |what: &str| AwsError {
        operation: "DescribeOrganization",
        code: None,
        message: format!("the organization has no {what}"),
    };
    Ok(OrgSnapshot {
        org_id: org.id.ok_or_else(|| missing("id"))?,
        org_arn: org.arn.ok_or_else(|| missing("ARN"))?,
        management_account: org
            .master_account_id
            .ok_or_else(|| missing("management account"))?,
        accounts: accounts
            .into_iter()
            .filter_map(|a| {
                let id = a.id?;
                let state = a
                    .state
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status.map(|s| s.as_str().to_string()))
                    .unwrap_or_default();
                Some((id.clone(), MemberAccount { id, state }))
            })
            .collect(),
    })
}

/// The org snapshot, kept for a TTL across warm invocations of one Lambda instance.
#[derive(Default)]
pub struct OrgCache {
    slot: Mutex<Option<(Instant, Arc<OrgSnapshot>)>>,
}

impl OrgCache {
    pub fn new() -> OrgCache {
        OrgCache::default()
    }

    /// The cached snapshot if younger than `ttl`, else a fresh one (which is then cached).
    /// A failed load is never cached.
    pub async fn get(
        &self,
        client: &aws_sdk_organizations::Client,
        ttl: Duration,
    ) -> Result<Arc<OrgSnapshot>, AwsError> {
        if let Some((at, snapshot)) = self.slot.lock().expect("org cache lock").as_ref() {
            if at.elapsed() < ttl {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Arc::new(load_snapshot(client).await?);
        *self.slot.lock().expect("org cache lock") = Some((Instant::now(), snapshot.clone()));
        Ok(snapshot)
    }
}
