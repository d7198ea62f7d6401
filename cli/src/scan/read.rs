//! What a scan reads: for each (account, Region), the shares the account owns with their
//! principal associations and source constraints, and RAM's resource types when asked. Read-only
//! calls only (GetResourceShares, GetResourceShareAssociations, ListSourceAssociations,
//! ListResources); an account is read through the role the user names.

use std::collections::{BTreeSet, HashMap};

use aws_config::SdkConfig;
use futures_util::StreamExt;
use ramguard_aws::ram as ram_api;
use ramguard_core::ResourceShare;

/// One account in one Region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Target {
    pub(crate) account: String,
    pub(crate) region: String,
}

/// What was read for a target, or why it could not be.
pub(crate) struct Read {
    pub(crate) target: Target,
    pub(crate) result: Result<TargetShares, String>,
}

/// The shares of a target and their resource types.
pub(crate) struct TargetShares {
    pub(crate) shares: Vec<ResourceShare>,
    pub(crate) types: HashMap<String, BTreeSet<String>>,
}

/// Reads one target with `config` (the caller's own, or the role's in another account).
pub(crate) async fn read(config: &SdkConfig, target: Target, with_types: bool) -> Read {
    let regional = config
        .to_builder()
        .region(aws_config::Region::new(target.region.clone()))
        .build();
    let ram = ramguard_aws::calls::ram(&regional);
    let result = async {
        let mut sources = ram_api::owned_sources(&ram).await?;
        let mut shares = Vec::new();
        let mut pages = std::pin::pin!(ram_api::owned_share_pages(&ram));
        while let Some(page) = pages.next().await {
            let mut page = page?;
            ram_api::attach_principals(&ram, &mut page).await?;
            for mut share in page {
                share.sources = sources.remove(&share.arn).unwrap_or_default();
                shares.push(share);
            }
        }
        let types = if with_types && !shares.is_empty() {
            ram_api::resource_types(&ram, &[]).await?
        } else {
            HashMap::new()
        };
        Ok::<_, ramguard_aws::AwsError>(TargetShares { shares, types })
    }
    .await
    .map_err(|e| ramguard_core::bounded(&e.to_string(), 300));
    Read { target, result }
}
