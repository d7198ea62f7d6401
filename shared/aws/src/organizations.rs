//! The org snapshot from Organizations: paginated ListAccounts, cached across warm invocations.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::AwsError;
use ramguard_core::{MemberAccount, OrgSnapshot};

/// The organization's ARN, id and management account, read from a member account's ARN:
/// `arn:<partition>:organizations::<management account>:account/o-<org id>/<account id>`
/// (the Account type's `Arn` pattern,
/// https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html, and "ARN
/// formats supported by Organizations" in the Service Authorization Reference).
pub fn organization_of_account_arn(arn: &str) -> Option<(String, String, String)> {
    let mut parts = arn.splitn(6, ':');
    let (arn_lit, partition, service, region, management, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if arn_lit != "arn" || service != "organizations" || !region.is_empty() {
        return None;
    }
    if !ramguard_core::is_account_id(management) || partition.is_empty() {
        return None;
    }
    let mut path = resource.split('/');
    let (kind, org_id, account) = (path.next()?, path.next()?, path.next()?);
    if kind != "account"
        || path.next().is_some()
        || !org_id.starts_with("o-")
        || !ramguard_core::is_account_id(account)
    {
        return None;
    }
    Some((
        format!("arn:{partition}:organizations::{management}:organization/{org_id}"),
        org_id.to_string(),
        management.to_string(),
    ))
}

/// Reads the organization: ListAccounts pages of 20 (an empty page with a token does not end the
/// listing); the organization's id, ARN and management account come from the accounts' ARNs, so
/// a snapshot costs ⌈accounts/20⌉ calls and no DescribeOrganization. Throttling is retried by
/// the client's retry policy.
pub async fn load_snapshot(
    client: &aws_sdk_organizations::Client,
) -> Result<OrgSnapshot, AwsError> {
    let accounts = crate::collect_pages!(
        "ListAccounts",
        client.list_accounts().max_results(20).into_paginator(),
        accounts
    )?;
    let from_arns = accounts
        .iter()
        .find_map(|a| a.arn.as_deref().and_then(organization_of_account_arn));
    let (org_arn, org_id, management_account) = from_arns.ok_or_else(|| AwsError {
        operation: "ListAccounts",
        code: None,
        message: "no account ARN names the organization (arn:<partition>:organizations::<management account>:account/o-<id>/<account>)".into(),
    })?;
    Ok(OrgSnapshot {
        org_id,
        org_arn,
        management_account,
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

/// Whether RAM's sharing with the organization is enabled: RAM's
/// EnableSharingWithAwsOrganization enables trusted access for `ram.amazonaws.com`, which
/// ListAWSServiceAccessForOrganization lists (paged; management account or a delegated
/// administrator).
pub async fn ram_sharing_enabled(client: &aws_sdk_organizations::Client) -> Result<bool, AwsError> {
    let enabled = crate::collect_pages!(
        "ListAWSServiceAccessForOrganization",
        client
            .list_aws_service_access_for_organization()
            .into_paginator(),
        enabled_service_principals
    )?;
    Ok(enabled
        .iter()
        .any(|p| p.service_principal.as_deref() == Some("ram.amazonaws.com")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organization_is_read_from_an_account_arn() {
        assert_eq!(
            organization_of_account_arn(
                "arn:aws:organizations::111111111111:account/o-exampleorgid/222222222222"
            ),
            Some((
                "arn:aws:organizations::111111111111:organization/o-exampleorgid".into(),
                "o-exampleorgid".into(),
                "111111111111".into()
            ))
        );
        assert_eq!(
            organization_of_account_arn(
                "arn:aws-us-gov:organizations::111111111111:account/o-exampleorgid/222222222222"
            )
            .map(|o| o.0),
            Some("arn:aws-us-gov:organizations::111111111111:organization/o-exampleorgid".into())
        );
        for bad in [
            "arn:aws:organizations::111111111111:ou/o-exampleorgid/ou-ab12-cdefgh",
            "arn:aws:organizations:us-east-1:111111111111:account/o-exampleorgid/222222222222",
            "arn:aws:organizations::1111:account/o-exampleorgid/222222222222",
            "arn:aws:organizations::111111111111:account/exampleorgid/222222222222",
            "arn:aws:organizations::111111111111:account/o-exampleorgid/222222222222/x",
            "arn:aws:iam::111111111111:account/o-exampleorgid/222222222222",
            "",
        ] {
            assert_eq!(organization_of_account_arn(bad), None, "{bad}");
        }
    }
}
