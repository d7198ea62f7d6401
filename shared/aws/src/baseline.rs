//! The sharing baseline as the deployment delivers it: an SSM parameter (`BASELINE_PARAMETER`),
//! read with its version and kept for `BASELINE_TTL_SECONDS`; and the organization's structure it
//! is judged against (OUs and account parents, account tags when the baseline names tags), read
//! from Organizations and kept like the org snapshot.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ramguard_core::baseline::{parse, Baseline, OrgStructure, Problem};
use tracing::{error, info};

use crate::AwsError;

/// The default `BASELINE_TTL_SECONDS`.
pub const DEFAULT_TTL_SECONDS: u64 = 300;

/// A baseline as read: the document, its own version label and the parameter's version.
#[derive(Debug, Clone)]
pub struct LoadedBaseline {
    /// The baseline.
    pub baseline: Baseline,
    /// `<document version>` `(parameter <name> version <n>)`, as logs and findings carry it.
    pub version: String,
}

/// Why the baseline cannot be used (`BadBaseline`): the outside-the-organization verdicts go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaselineError {
    /// SSM does not give the parameter.
    #[error("cannot read baseline parameter {name}: {source}")]
    Unreadable { name: String, source: AwsError },
    /// The document is not a valid baseline.
    #[error("baseline parameter {name} version {version} is invalid: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid {
        name: String,
        version: i64,
        problems: Vec<Problem>,
    },
}

type Slot = Option<(Instant, Result<Arc<LoadedBaseline>, BaselineError>)>;

/// The configured baseline, kept for a TTL (a failed read is kept too, so that a broken
/// parameter is not read on every invocation).
pub struct BaselineStore {
    name: Option<String>,
    ttl: Duration,
    slot: Mutex<Slot>,
}

impl BaselineStore {
    /// A store for the parameter `name` (None: no baseline, today's verdicts exactly).
    pub fn new(name: Option<String>, ttl: Duration) -> BaselineStore {
        BaselineStore {
            name,
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// From the environment: `BASELINE_PARAMETER`, `BASELINE_TTL_SECONDS` (0–3600).
    pub fn from_env() -> Result<BaselineStore, String> {
        let ttl = match crate::env_text("BASELINE_TTL_SECONDS") {
            None => DEFAULT_TTL_SECONDS,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|t| *t <= 3600)
                .ok_or_else(|| format!("BASELINE_TTL_SECONDS {v:?} is not 0..=3600 seconds"))?,
        };
        Ok(BaselineStore::new(
            crate::env_text("BASELINE_PARAMETER"),
            Duration::from_secs(ttl),
        ))
    }

    /// Whether a baseline is configured.
    pub fn configured(&self) -> bool {
        self.name.is_some()
    }

    /// The baseline, if one is configured.
    pub async fn get(
        &self,
        ssm: &aws_sdk_ssm::Client,
    ) -> Option<Result<Arc<LoadedBaseline>, BaselineError>> {
        let name = self.name.as_ref()?;
        if let Some((at, held)) = self.slot.lock().expect("baseline lock").as_ref() {
            if at.elapsed() < self.ttl {
                return Some(held.clone());
            }
        }
        let read = read(ssm, name).await;
        *self.slot.lock().expect("baseline lock") = Some((Instant::now(), read.clone()));
        Some(read)
    }
}

async fn read(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<Arc<LoadedBaseline>, BaselineError> {
    let out =
        ssm.get_parameter()
            .name(name)
            .send()
            .await
            .map_err(|e| BaselineError::Unreadable {
                name: name.to_string(),
                source: AwsError::from_sdk("GetParameter", e),
            })?;
    let parameter = out
        .parameter
        .unwrap_or_else(|| aws_sdk_ssm::types::Parameter::builder().build());
    let version = parameter.version;
    let text = parameter.value.unwrap_or_default();
    let source = parse(&text).map_err(|problems| BaselineError::Invalid {
        name: name.to_string(),
        version,
        problems,
    })?;
    Ok(Arc::new(LoadedBaseline {
        version: format!(
            "{} (parameter {name} version {version})",
            source.baseline.version
        ),
        baseline: source.baseline,
    }))
}

/// Reads the organization's structure: from the root down, each parent's OUs
/// (ListOrganizationalUnitsForParent) and accounts (ListAccountsForParent), every page; with
/// `tags`, each account's tags (ListTagsForResource). Management account or delegated
/// administrator only.
pub async fn load_structure(
    client: &aws_sdk_organizations::Client,
    tags: bool,
) -> Result<OrgStructure, AwsError> {
    let roots = crate::collect_pages!("ListRoots", client.list_roots().into_paginator(), roots)?;
    let mut out = OrgStructure::default();
    let mut pending: Vec<String> = roots.into_iter().filter_map(|r| r.id).collect();
    while let Some(parent) = pending.pop() {
        let ous = crate::collect_pages!(
            "ListOrganizationalUnitsForParent",
            client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .max_results(20)
                .into_paginator(),
            organizational_units
        )?;
        for ou in ous.into_iter().filter_map(|o| o.id) {
            out.parents.insert(ou.clone(), parent.clone());
            pending.push(ou);
        }
        let accounts = crate::collect_pages!(
            "ListAccountsForParent",
            client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .max_results(20)
                .into_paginator(),
            accounts
        )?;
        for account in accounts.into_iter().filter_map(|a| a.id) {
            out.parents.insert(account, parent.clone());
        }
    }
    if tags {
        let accounts: Vec<String> = out
            .parents
            .keys()
            .filter(|k| ramguard_core::is_account_id(k))
            .cloned()
            .collect();
        for account in accounts {
            let listed = crate::collect_pages!(
                "ListTagsForResource",
                client
                    .list_tags_for_resource()
                    .resource_id(&account)
                    .into_paginator(),
                tags
            )?;
            let map: BTreeMap<String, String> =
                listed.into_iter().map(|t| (t.key, t.value)).collect();
            out.tags.insert(account, map);
        }
    }
    Ok(out)
}

/// The structure, kept for a TTL across warm invocations.
#[derive(Default)]
pub struct StructureCache {
    slot: Mutex<Option<(Instant, bool, Arc<OrgStructure>)>>,
}

impl StructureCache {
    /// An empty cache.
    pub fn new() -> StructureCache {
        StructureCache::default()
    }

    /// The structure (with tags when asked), fresh when older than `ttl`.
    pub async fn get(
        &self,
        client: &aws_sdk_organizations::Client,
        tags: bool,
        ttl: Duration,
    ) -> Result<Arc<OrgStructure>, AwsError> {
        if let Some((at, with_tags, held)) = self.slot.lock().expect("structure lock").as_ref() {
            if at.elapsed() < ttl && (*with_tags || !tags) {
                return Ok(held.clone());
            }
        }
        let fresh = Arc::new(load_structure(client, tags).await?);
        *self.slot.lock().expect("structure lock") = Some((Instant::now(), tags, fresh.clone()));
        Ok(fresh)
    }
}

/// The sharing baseline of an invocation: none configured, ready (with the organization's
/// structure), or broken (the invocation ends with `BadBaseline` once the outside-the-organization
/// verdicts are reported).
pub enum BaselineState {
    /// No baseline configured: today's verdicts exactly.
    None,
    /// The baseline and the structure it is judged against.
    Ready(Arc<LoadedBaseline>, Arc<OrgStructure>),
    /// Why it cannot be used.
    Broken(String),
}

impl BaselineState {
    /// The baseline's violations by one live share (none without a ready baseline): its
    /// resource types read (ListResources) only when the baseline has rules about them.
    pub async fn violations(
        &self,
        ram: &aws_sdk_ram::Client,
        share: &ramguard_core::ResourceShare,
        org: &ramguard_core::OrgSnapshot,
        params: &ramguard_core::Parameters,
        now: i64,
    ) -> Result<Vec<ramguard_core::baseline::BaselineViolation>, AwsError> {
        let BaselineState::Ready(loaded, structure) = self else {
            return Ok(Vec::new());
        };
        let types = if loaded.baseline.uses_resource_types() {
            crate::ram::resource_types(ram, std::slice::from_ref(&share.arn))
                .await?
                .remove(&share.arn)
                .unwrap_or_default()
        } else {
            Default::default()
        };
        let ctx = ramguard_core::baseline::BaselineContext {
            baseline: &loaded.baseline,
            org,
            structure,
            params,
        };
        Ok(ramguard_core::baseline::violations(
            share, &types, &ctx, now,
        ))
    }

    /// The verdict with the baseline's violations of the live share applied (unchanged without
    /// a ready baseline).
    pub async fn judge(
        &self,
        ram: &aws_sdk_ram::Client,
        share: &ramguard_core::ResourceShare,
        verdict: ramguard_core::ShareVerdict,
        org: &ramguard_core::OrgSnapshot,
        params: &ramguard_core::Parameters,
        now: i64,
    ) -> Result<ramguard_core::ShareVerdict, AwsError> {
        let BaselineState::Ready(loaded, _) = self else {
            return Ok(verdict);
        };
        let found = self.violations(ram, share, org, params, now).await?;
        Ok(ramguard_core::baseline::apply(
            verdict,
            &loaded.version,
            found,
        ))
    }
}

/// What reads the baseline and the structure it is judged against, for one function.
pub struct BaselineReader {
    /// The configured parameter, kept for its TTL.
    pub store: BaselineStore,
    /// The organization's structure, kept like the org snapshot.
    pub structure: StructureCache,
    /// SSM, in the function's own account.
    pub ssm: aws_sdk_ssm::Client,
}

impl BaselineReader {
    /// A reader of `store`'s parameter with the function's own SDK configuration.
    pub fn new(store: BaselineStore, base: &aws_config::SdkConfig) -> BaselineReader {
        BaselineReader {
            store,
            structure: StructureCache::new(),
            ssm: crate::calls::ssm(base),
        }
    }

    /// The baseline in force now, one log line saying which.
    pub async fn state(
        &self,
        organizations: &aws_sdk_organizations::Client,
        ttl: Duration,
    ) -> BaselineState {
        let loaded = match self.store.get(&self.ssm).await {
            None => return BaselineState::None,
            Some(Ok(loaded)) => loaded,
            Some(Err(e)) => {
                error!(error = %e, error_type = "BadBaseline", "the sharing baseline cannot be used; only outside-the-organization verdicts are reported");
                return BaselineState::Broken(e.to_string());
            }
        };
        match self
            .structure
            .get(organizations, loaded.baseline.uses_tags(), ttl)
            .await
        {
            Ok(structure) => {
                info!(baseline_version = %loaded.version, "sharing baseline in force");
                BaselineState::Ready(loaded, structure)
            }
            Err(e) => {
                let why = format!("cannot read the organization's structure for the baseline: {e}");
                error!(error = %why, error_type = "BadBaseline", "the sharing baseline cannot be used; only outside-the-organization verdicts are reported");
                BaselineState::Broken(why)
            }
        }
    }
}
