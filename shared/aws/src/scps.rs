//! The service control policies in force on an account, read from Organizations in the management
//! account or a delegated administrator: whether the SCP policy type is enabled on the root
//! (`ListRoots`, `PolicyTypes`), the account's path to the root (`ListParents`, one parent per
//! child), the SCPs attached at each level (`ListPoliciesForTarget` with the
//! `SERVICE_CONTROL_POLICY` filter, paged) and their text (`DescribePolicy`). What was read is
//! kept for a TTL across warm invocations, so the accounts of one OU share its reads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_organizations::types::{ParentType, PolicyType, PolicyTypeStatus};
use ramguard_core::guardrail::{AttachedScp, PathLevel, TargetKind};

use crate::AwsError;

/// What SCPs apply to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountScps {
    /// Whether the SCP policy type is enabled on the root (else no SCP has any effect).
    pub scps_enabled: bool,
    /// The path from the root to the account, with the SCPs attached at each level.
    pub path: Vec<PathLevel>,
}

type Timed<T> = (Instant, T);

#[derive(Default)]
struct Held {
    root: Option<Timed<(String, bool)>>,
    parents: HashMap<String, Timed<(String, TargetKind)>>,
    attached: HashMap<String, Timed<Vec<(String, String)>>>,
    documents: HashMap<String, Timed<Arc<AttachedScp>>>,
}

/// Reads and keeps what SCPs apply to accounts.
#[derive(Default)]
pub struct ScpReader {
    held: Mutex<Held>,
}

fn fresh<T: Clone>(slot: Option<&Timed<T>>, ttl: Duration) -> Option<T> {
    slot.filter(|(at, _)| at.elapsed() < ttl)
        .map(|(_, v)| v.clone())
}

impl ScpReader {
    /// A reader with nothing kept.
    pub fn new() -> ScpReader {
        ScpReader::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().expect("scp reader lock")
    }

    /// The SCPs that apply to `account`, each read at most once per `ttl`.
    pub async fn for_account(
        &self,
        client: &aws_sdk_organizations::Client,
        account: &str,
        ttl: Duration,
    ) -> Result<AccountScps, AwsError> {
        let (root_id, scps_enabled) = self.root(client, ttl).await?;
        if !scps_enabled {
            // no SCP has any effect: the path is not read
            return Ok(AccountScps {
                scps_enabled,
                path: Vec::new(),
            });
        }
        let mut targets = vec![(account.to_string(), TargetKind::Account)];
        let mut child = account.to_string();
        // the depth of an organization is at most five OUs under the root
        while child != root_id && targets.len() <= 7 {
            let parent = self.parent(client, &child, ttl).await?;
            child = parent.0.clone();
            targets.push(parent);
        }
        targets.reverse();
        let mut path = Vec::with_capacity(targets.len());
        for (target_id, kind) in targets {
            let mut policies = Vec::new();
            for (policy_id, name) in self.attached(client, &target_id, ttl).await? {
                let doc = self.document(client, &policy_id, &name, ttl).await?;
                policies.push((*doc).clone());
            }
            path.push(PathLevel {
                target_id,
                kind,
                policies,
            });
        }
        Ok(AccountScps { scps_enabled, path })
    }

    async fn root(
        &self,
        client: &aws_sdk_organizations::Client,
        ttl: Duration,
    ) -> Result<(String, bool), AwsError> {
        if let Some(root) = fresh(self.lock().root.as_ref(), ttl) {
            return Ok(root);
        }
        let roots =
            crate::collect_pages!("ListRoots", client.list_roots().into_paginator(), roots)?;
        let root = roots.into_iter().next().ok_or_else(|| AwsError {
            operation: "ListRoots",
            code: None,
            message: "the organization has no root".into(),
        })?;
        let enabled = root.policy_types().iter().any(|t| {
            t.r#type() == Some(&PolicyType::ServiceControlPolicy)
                && t.status() == Some(&PolicyTypeStatus::Enabled)
        });
        let value = (root.id.unwrap_or_default(), enabled);
        self.lock().root = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    async fn parent(
        &self,
        client: &aws_sdk_organizations::Client,
        child: &str,
        ttl: Duration,
    ) -> Result<(String, TargetKind), AwsError> {
        if let Some(parent) = fresh(self.lock().parents.get(child), ttl) {
            return Ok(parent);
        }
        let parents = crate::collect_pages!(
            "ListParents",
            client.list_parents().child_id(child).into_paginator(),
            parents
        )?;
        let parent = parents
            .into_iter()
            .find_map(|p| {
                let kind = match p.r#type()? {
                    ParentType::Root => TargetKind::Root,
                    ParentType::OrganizationalUnit => TargetKind::OrganizationalUnit,
                    _ => return None,
                };
                Some((p.id?, kind))
            })
            .ok_or_else(|| AwsError {
                operation: "ListParents",
                code: None,
                message: format!("{child} has no parent in the organization"),
            })?;
        self.lock()
            .parents
            .insert(child.to_string(), (Instant::now(), parent.clone()));
        Ok(parent)
    }

    async fn attached(
        &self,
        client: &aws_sdk_organizations::Client,
        target: &str,
        ttl: Duration,
    ) -> Result<Vec<(String, String)>, AwsError> {
        if let Some(list) = fresh(self.lock().attached.get(target), ttl) {
            return Ok(list);
        }
        let summaries = crate::collect_pages!(
            "ListPoliciesForTarget",
            client
                .list_policies_for_target()
                .target_id(target)
                .filter(PolicyType::ServiceControlPolicy)
                .max_results(20)
                .into_paginator(),
            policies
        )?;
        let list: Vec<(String, String)> = summaries
            .into_iter()
            .filter_map(|p| Some((p.id?, p.name.unwrap_or_default())))
            .collect();
        self.lock()
            .attached
            .insert(target.to_string(), (Instant::now(), list.clone()));
        Ok(list)
    }

    async fn document(
        &self,
        client: &aws_sdk_organizations::Client,
        policy_id: &str,
        name: &str,
        ttl: Duration,
    ) -> Result<Arc<AttachedScp>, AwsError> {
        if let Some(doc) = fresh(self.lock().documents.get(policy_id), ttl) {
            return Ok(doc);
        }
        let out = client
            .describe_policy()
            .policy_id(policy_id)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribePolicy", e))?;
        let content = out.policy.and_then(|p| p.content).unwrap_or_default();
        let doc = Arc::new(AttachedScp {
            id: policy_id.to_string(),
            name: name.to_string(),
            document: ramguard_core::scp::parse(&content),
        });
        self.lock()
            .documents
            .insert(policy_id.to_string(), (Instant::now(), doc.clone()));
        Ok(doc)
    }
}
