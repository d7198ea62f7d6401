//! RAM reads: every share an account owns with its principal and source associations, in bulk,
//! or one share.

use std::collections::HashMap;

use aws_sdk_ram::types::{ResourceOwner, ResourceShareAssociationType};

use crate::AwsError;
use ramguard_core::{
    AssociationStatus, Exposure, PrincipalAssociation, ResourceShare, ShareStatus, SharedResource,
    SourceAssociation,
};

/// Results per page of every RAM listing (the largest `maxResults`), and so the shares whose
/// associations one GetResourceShareAssociations read asks for: the API reference gives
/// `resourceShareArns` no maximum
/// (https://docs.aws.amazon.com/ram/latest/APIReference/API_GetResourceShareAssociations.html).
const PAGE: i32 = 500;

fn share_from(s: aws_sdk_ram::types::ResourceShare) -> Option<ResourceShare> {
    let retains_access_on_leave = s
        .resource_share_configuration
        .as_ref()
        .and_then(|c| c.retain_sharing_on_account_leave_organization)
        .unwrap_or(false);
    Some(ResourceShare {
        feature_set: s
            .feature_set
            .as_ref()
            .map(|f| f.as_str().to_string())
            .unwrap_or_else(|| "STANDARD".into()),
        retains_access_on_leave,
        sources: Vec::new(),
        arn: s.resource_share_arn?,
        name: s.name.unwrap_or_default(),
        owner: s.owning_account_id.unwrap_or_default(),
        status: ShareStatus::parse(s.status.as_ref().map(|x| x.as_str()).unwrap_or("")),
        allow_external_principals: s.allow_external_principals.unwrap_or(true),
        tags: s
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
            .collect(),
        principals: Vec::new(),
    })
}

async fn principal_associations(
    client: &aws_sdk_ram::Client,
    share_arns: &[String],
) -> Result<Vec<(String, PrincipalAssociation)>, AwsError> {
    let req = client
        .get_resource_share_associations()
        .association_type(ResourceShareAssociationType::Principal)
        .set_resource_share_arns(Some(share_arns.to_vec()))
        .max_results(PAGE);
    let rows = crate::collect_pages!(
        "GetResourceShareAssociations",
        req.into_paginator(),
        resource_share_associations
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            Some((
                a.resource_share_arn?,
                PrincipalAssociation {
                    entity: a.associated_entity?,
                    status: AssociationStatus::parse(
                        a.status.as_ref().map(|s| s.as_str()).unwrap_or(""),
                    ),
                    external: a.external,
                },
            ))
        })
        .collect())
}

/// Source constraints (SOURCE associations) in pages of 500: of one share, or of every share the
/// caller owns. Answered by ListSourceAssociations
/// (https://docs.aws.amazon.com/ram/latest/APIReference/API_ListSourceAssociations.html).
async fn source_associations(
    client: &aws_sdk_ram::Client,
    share_arn: Option<&str>,
) -> Result<Vec<(String, SourceAssociation)>, AwsError> {
    let mut req = client.list_source_associations().max_results(PAGE);
    if let Some(arn) = share_arn {
        req = req.resource_share_arns(arn);
    }
    let rows = crate::collect_pages!(
        "ListSourceAssociations",
        req.into_paginator(),
        source_associations
    )?;
    Ok(rows
        .into_iter()
        .filter_map(|a| {
            Some((
                a.resource_share_arn?,
                SourceAssociation {
                    source: a.source_id?,
                    status: AssociationStatus::parse(a.status.as_deref().unwrap_or("")),
                },
            ))
        })
        .collect())
}

/// The shares the caller owns in the client's Region, page by page (GetResourceShares, pages of
/// 500), without their associations: read those for each page with [`attach_principals`].
pub fn owned_share_pages(
    client: &aws_sdk_ram::Client,
) -> impl futures_util::Stream<Item = Result<Vec<ResourceShare>, AwsError>> {
    let pages = client
        .get_resource_shares()
        .resource_owner(ResourceOwner::SelfValue)
        .max_results(PAGE)
        .into_paginator()
        .send();
    futures_util::stream::unfold(pages, |mut pages| async move {
        let page = pages.next().await?;
        let page = page
            .map(|p| {
                p.resource_shares
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(share_from)
                    .collect()
            })
            .map_err(|e| AwsError::from_sdk("GetResourceShares", e));
        Some((page, pages))
    })
}

/// Reads the principal associations of a page of shares (GetResourceShareAssociations filtered
/// to their ARNs, pages of 500) and attaches them to their shares.
pub async fn attach_principals(
    client: &aws_sdk_ram::Client,
    shares: &mut [ResourceShare],
) -> Result<(), AwsError> {
    if shares.is_empty() {
        return Ok(());
    }
    let arns: Vec<String> = shares.iter().map(|s| s.arn.clone()).collect();
    let index: HashMap<&str, usize> = arns
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    for (arn, assoc) in principal_associations(client, &arns).await? {
        if let Some(&i) = index.get(arn.as_str()) {
            shares[i].principals.push(assoc);
        }
    }
    Ok(())
}

/// The source constraints of every share the caller owns, by share ARN: ⌈sources/500⌉
/// ListSourceAssociations calls. Held whole: there is one entry per source constraint, and
/// only service-principal shares have them.
pub async fn owned_sources(
    client: &aws_sdk_ram::Client,
) -> Result<HashMap<String, Vec<SourceAssociation>>, AwsError> {
    let mut by_share: HashMap<String, Vec<SourceAssociation>> = HashMap::new();
    for (arn, source) in source_associations(client, None).await? {
        by_share.entry(arn).or_default().push(source);
    }
    Ok(by_share)
}

/// One share with its principal associations, read live; `None` when RAM does not know it.
///
/// A lookup by ARN is a listing like any other: GetResourceShares "can occasionally return an
/// empty set of results even when there are more results available. The NextToken response
/// parameter value is null only when there are no more results to display"
/// (https://docs.aws.amazon.com/ram/latest/APIReference/API_GetResourceShares.html), so the
/// share is called gone only after every page, never after one empty answer.
pub async fn share(
    client: &aws_sdk_ram::Client,
    arn: &str,
) -> Result<Option<ResourceShare>, AwsError> {
    let found = crate::collect_pages!(
        "GetResourceShares",
        client
            .get_resource_shares()
            .resource_owner(ResourceOwner::SelfValue)
            .resource_share_arns(arn)
            .max_results(PAGE)
            .into_paginator(),
        resource_shares
    );
    let shares = match found {
        Ok(shares) => shares,
        Err(err) if err.is("UnknownResourceException") || err.is("MalformedArnException") => {
            return Ok(None)
        }
        Err(err) => return Err(err),
    };
    let Some(mut share) = shares
        .into_iter()
        .filter_map(share_from)
        .find(|s| s.arn == arn)
    else {
        return Ok(None);
    };
    share.principals = principal_associations(client, &[arn.to_string()])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    share.sources = source_associations(client, Some(arn))
        .await?
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    Ok(Some(share))
}

/// What one share exposes, for its findings: its resources (ListResources, pages of 500) and
/// the RAM permissions it grants on them (ListResourceSharePermissions).
pub async fn exposure(client: &aws_sdk_ram::Client, share_arn: &str) -> Result<Exposure, AwsError> {
    let resources = crate::collect_pages!(
        "ListResources",
        client
            .list_resources()
            .resource_owner(ResourceOwner::SelfValue)
            .resource_share_arns(share_arn)
            .max_results(PAGE)
            .into_paginator(),
        resources
    )?;
    let permissions = crate::collect_pages!(
        "ListResourceSharePermissions",
        client
            .list_resource_share_permissions()
            .resource_share_arn(share_arn)
            .max_results(PAGE)
            .into_paginator(),
        permissions
    )?;
    Ok(Exposure {
        resources: resources
            .into_iter()
            .filter_map(|r| {
                Some(SharedResource {
                    arn: r.arn?,
                    resource_type: r.r#type.unwrap_or_default(),
                })
            })
            .collect(),
        permissions: permissions.into_iter().filter_map(|p| p.name).collect(),
    })
}

/// RAM's resource types of the account's shares, by share ARN: one ListResources listing of the
/// account's resources (every page), or of the shares named.
pub async fn resource_types(
    client: &aws_sdk_ram::Client,
    share_arns: &[String],
) -> Result<std::collections::HashMap<String, std::collections::BTreeSet<String>>, AwsError> {
    let mut req = client
        .list_resources()
        .resource_owner(ResourceOwner::SelfValue)
        .max_results(PAGE);
    for arn in share_arns {
        req = req.resource_share_arns(arn);
    }
    let resources = crate::collect_pages!("ListResources", req.into_paginator(), resources)?;
    let mut out: std::collections::HashMap<String, std::collections::BTreeSet<String>> =
        std::collections::HashMap::new();
    for r in resources {
        if let (Some(share), Some(t)) = (r.resource_share_arn, r.r#type) {
            out.entry(share).or_default().insert(t);
        }
    }
    Ok(out)
}

/// Disassociates principals from a share with an idempotency token; returns each association's
/// status as RAM reports it right after (DISASSOCIATING while RAM works on it).
pub async fn disassociate_principals(
    client: &aws_sdk_ram::Client,
    share_arn: &str,
    principals: &[String],
    client_token: &str,
) -> Result<Vec<(String, String)>, AwsError> {
    let out = client
        .disassociate_resource_share()
        .resource_share_arn(share_arn)
        .set_principals(Some(principals.to_vec()))
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DisassociateResourceShare", e))?;
    Ok(out
        .resource_share_associations
        .unwrap_or_default()
        .into_iter()
        .filter_map(|a| {
            Some((
                a.associated_entity?,
                a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            ))
        })
        .collect())
}

/// Sets allowExternalPrincipals=false, sending the share's name too so nothing else changes.
pub async fn disallow_external_principals(
    client: &aws_sdk_ram::Client,
    share: &ResourceShare,
    client_token: &str,
) -> Result<(), AwsError> {
    client
        .update_resource_share()
        .resource_share_arn(&share.arn)
        .name(&share.name)
        .allow_external_principals(false)
        .client_token(client_token)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("UpdateResourceShare", e))?;
    Ok(())
}
