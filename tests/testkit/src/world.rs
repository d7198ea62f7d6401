//! A test's own world: an organization of fresh accounts, its shares, rules and findings.

use super::*;

static NEXT_ACCOUNT: AtomicU32 = AtomicU32::new(1);
/// A 12-digit account id no other test of this process uses.
pub fn fresh_account_id() -> String {
    let n = NEXT_ACCOUNT.fetch_add(1, Ordering::Relaxed);
    format!("5{:03}{:08}", std::process::id() % 1000, n)
}

/// An organization seeded in the stand-in.
#[derive(Debug, Clone)]
pub struct OrgFixture {
    pub id: String,
    pub arn: String,
    pub management: String,
    pub members: Vec<String>,
    pub root_id: String,
    /// `workloads` under the root.
    pub ou: OuFixture,
    /// `teams` under `workloads`.
    pub nested_ou: OuFixture,
}

#[derive(Debug, Clone)]
pub struct OuFixture {
    pub id: String,
    pub arn: String,
}

/// A test's own world: a management account with its organization in the stand-in.
pub struct World {
    pub standin: &'static StandIn,
    pub org: OrgFixture,
    pub management: SdkConfig,
}

impl World {
    /// A new organization with `members` member accounts, a nested OU, and RAM sharing with the
    /// organization enabled.
    pub async fn new(members: usize) -> World {
        Self::build(members, true).await
    }

    /// As [`World::new`], without enabling RAM sharing with the organization.
    pub async fn without_org_sharing(members: usize) -> World {
        Self::build(members, false).await
    }

    async fn build(members: usize, enable_sharing: bool) -> World {
        let standin = standin();
        let management_id = fresh_account_id();
        let management = standin.config_for(&management_id).await;
        let orgs = aws_sdk_organizations::Client::new(&management);
        let org = orgs
            .create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("CreateOrganization")
            .organization
            .expect("organization");
        let mut member_ids = Vec::new();
        for i in 0..members {
            let status = orgs
                .create_account()
                .account_name(format!("member-{i}"))
                .email(format!("member-{i}@example.com"))
                .send()
                .await
                .expect("CreateAccount")
                .create_account_status
                .expect("status");
            member_ids.push(status.account_id.expect("account id"));
        }
        let root_id = orgs
            .list_roots()
            .send()
            .await
            .expect("ListRoots")
            .roots
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|r| r.id)
            .expect("root");
        let ou = create_ou(&orgs, &root_id, "workloads").await;
        let nested_ou = create_ou(&orgs, &ou.id, "teams").await;
        if enable_sharing {
            aws_sdk_ram::Client::new(&management)
                .enable_sharing_with_aws_organization()
                .send()
                .await
                .expect("EnableSharingWithAwsOrganization");
        }
        World {
            standin,
            org: OrgFixture {
                id: org.id.expect("org id"),
                arn: org.arn.expect("org arn"),
                management: management_id,
                members: member_ids,
                root_id,
                ou,
                nested_ou,
            },
            management,
        }
    }

    pub fn ram(&self) -> aws_sdk_ram::Client {
        aws_sdk_ram::Client::new(&self.management)
    }

    pub fn config(&self) -> aws_sdk_config::Client {
        aws_sdk_config::Client::new(&self.management)
    }

    pub fn securityhub(&self) -> aws_sdk_securityhub::Client {
        aws_sdk_securityhub::Client::new(&self.management)
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.management)
    }

    /// Enables Security Hub in `account`.
    pub async fn enable_security_hub(&self, account: &str) {
        aws_sdk_securityhub::Client::new(&self.standin.config_for(account).await)
            .enable_security_hub()
            .send()
            .await
            .expect("EnableSecurityHub");
    }

    /// A resource ARN owned by the management account, for shares.
    pub fn resource_arn(&self, n: usize) -> String {
        format!(
            "arn:aws:ec2:{REGION}:{}:subnet/subnet-{n:017x}",
            self.org.management
        )
    }

    /// Creates a share owned by the management account and returns its ARN.
    pub async fn share(&self, name: &str, allow_external: bool, principals: &[&str]) -> String {
        self.share_with(ShareSpec {
            name,
            allow_external,
            principals,
            tags: &[],
        })
        .await
    }

    /// Creates a share from a full specification and returns its ARN.
    pub async fn share_with(&self, spec: ShareSpec<'_>) -> String {
        let mut req = self
            .ram()
            .create_resource_share()
            .name(spec.name)
            .allow_external_principals(spec.allow_external)
            .resource_arns(self.resource_arn(0));
        for p in spec.principals {
            req = req.principals(*p);
        }
        for (k, v) in spec.tags {
            req = req.tags(aws_sdk_ram::types::Tag::builder().key(*k).value(*v).build());
        }
        req.send()
            .await
            .expect("CreateResourceShare")
            .resource_share
            .and_then(|s| s.resource_share_arn)
            .expect("share arn")
    }

    /// Creates a share owned by `account` (a member, say) and returns its ARN.
    pub async fn share_in(&self, account: &str, name: &str, principals: &[&str]) -> String {
        let ram = aws_sdk_ram::Client::new(&self.standin.config_for(account).await);
        let mut req = ram
            .create_resource_share()
            .name(name)
            .allow_external_principals(true);
        for p in principals {
            req = req.principals(*p);
        }
        req.send()
            .await
            .expect("CreateResourceShare")
            .resource_share
            .and_then(|s| s.resource_share_arn)
            .expect("share arn")
    }

    /// Imports into `account`'s Security Hub the findings ramguard builds for the share as it is
    /// now (what the findings importer would have raised).
    pub async fn raise_findings(&self, account: &str, share_arn: &str) {
        let cfg = self.standin.config_for(account).await;
        let org = ramguard_aws::organizations::load_snapshot(&self.organizations())
            .await
            .expect("org snapshot");
        let share = ramguard_aws::ram::share(&aws_sdk_ram::Client::new(&cfg), share_arn)
            .await
            .expect("GetResourceShares")
            .expect("the share");
        let verdict = ramguard_core::evaluate(
            &share,
            &org,
            &ramguard_core::Parameters::default(),
            1_795_000_000,
        );
        let ctx = ramguard_core::finding::FindingContext {
            partition: "aws".into(),
            region: REGION.into(),
            account: account.to_string(),
            now: ramguard_core::finding::format_millis(1_795_000_000_000),
        };
        let findings = ramguard_core::finding::findings_for(
            &share,
            &verdict,
            &ctx,
            &ramguard_core::Exposure::default(),
        )
        .iter()
        .map(ramguard_aws::securityhub::to_sdk)
        .collect();
        let report =
            ramguard_aws::securityhub::import(&aws_sdk_securityhub::Client::new(&cfg), findings)
                .await
                .expect("BatchImportFindings");
        assert!(report.failed.is_empty(), "{report:?}");
    }

    /// Adds `principal` to a share of the management account, as its owner would by hand.
    pub async fn add_principal(&self, share_arn: &str, principal: &str) {
        self.ram()
            .associate_resource_share()
            .resource_share_arn(share_arn)
            .principals(principal)
            .send()
            .await
            .expect("AssociateResourceShare");
    }

    /// Deletes a share of the management account, as its owner would by hand.
    pub async fn delete_share(&self, share_arn: &str) {
        self.ram()
            .delete_resource_share()
            .resource_share_arn(share_arn)
            .send()
            .await
            .expect("DeleteResourceShare");
    }

    /// Removes `principal` from a share of the management account, as its owner would by hand.
    pub async fn remove_principal(&self, share_arn: &str, principal: &str) {
        self.ram()
            .disassociate_resource_share()
            .resource_share_arn(share_arn)
            .principals(principal)
            .send()
            .await
            .expect("DisassociateResourceShare");
    }

    /// The invitations `account` has received from this world's management account (other tests
    /// share the outside accounts).
    pub async fn invitations(
        &self,
        account: &str,
    ) -> (
        aws_sdk_ram::Client,
        Vec<aws_sdk_ram::types::ResourceShareInvitation>,
    ) {
        let ram = aws_sdk_ram::Client::new(&self.standin.config_for(account).await);
        let invitations = ram
            .get_resource_share_invitations()
            .send()
            .await
            .expect("GetResourceShareInvitations")
            .resource_share_invitations
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.sender_account_id.as_deref() == Some(self.org.management.as_str()))
            .collect();
        (ram, invitations)
    }

    /// Accepts every pending invitation `account` has received from this world's management
    /// account.
    pub async fn accept_invitations(&self, account: &str) {
        let (ram, invitations) = self.invitations(account).await;
        for inv in invitations {
            if inv.status == Some(aws_sdk_ram::types::ResourceShareInvitationStatus::Pending) {
                ram.accept_resource_share_invitation()
                    .resource_share_invitation_arn(
                        inv.resource_share_invitation_arn.unwrap_or_default(),
                    )
                    .send()
                    .await
                    .expect("AcceptResourceShareInvitation");
            }
        }
    }

    /// Each principal association of a share `owner` owns, with its status, read over every page
    /// (the stand-in may answer a test's reads with an empty first page too).
    pub async fn statuses(
        &self,
        owner: &str,
        share: &str,
    ) -> std::collections::BTreeMap<String, String> {
        let ram = aws_sdk_ram::Client::new(&self.standin.config_for(owner).await);
        let pages: Vec<_> = ram
            .get_resource_share_associations()
            .association_type(aws_sdk_ram::types::ResourceShareAssociationType::Principal)
            .resource_share_arns(share)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .expect("GetResourceShareAssociations");
        pages
            .into_iter()
            .flat_map(|p| p.resource_share_associations.unwrap_or_default())
            .filter_map(|a| Some((a.associated_entity?, a.status?.as_str().to_string())))
            .collect()
    }

    /// A new OU under `parent`.
    pub async fn ou(&self, parent: &str, name: &str) -> OuFixture {
        create_ou(&self.organizations(), parent, name).await
    }

    /// Moves a member account from the root to `destination`.
    pub async fn move_to(&self, account: &str, destination: &str) {
        self.organizations()
            .move_account()
            .account_id(account)
            .source_parent_id(&self.org.root_id)
            .destination_parent_id(destination)
            .send()
            .await
            .expect("MoveAccount");
    }

    /// Enables service control policies on the root.
    pub async fn enable_scps(&self) {
        self.organizations()
            .enable_policy_type()
            .root_id(&self.org.root_id)
            .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .send()
            .await
            .expect("EnablePolicyType");
    }

    /// Creates an SCP and attaches it to each of `targets`; returns its id.
    pub async fn scp(&self, name: &str, content: &Value, targets: &[&str]) -> String {
        let orgs = self.organizations();
        let id = orgs
            .create_policy()
            .name(name)
            .description("")
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .content(content.to_string())
            .send()
            .await
            .expect("CreatePolicy")
            .policy
            .and_then(|p| p.policy_summary)
            .and_then(|s| s.id)
            .expect("policy id");
        for target in targets {
            orgs.attach_policy()
                .policy_id(&id)
                .target_id(*target)
                .send()
                .await
                .expect("AttachPolicy");
        }
        id
    }

    /// Detaches a policy from a target.
    pub async fn detach(&self, policy: &str, target: &str) {
        self.organizations()
            .detach_policy()
            .policy_id(policy)
            .target_id(target)
            .send()
            .await
            .expect("DetachPolicy");
    }

    /// Registers a custom Lambda Config rule in the management account.
    pub async fn config_rule(&self, name: &str, input_parameters: Value) {
        put_config_rule(&self.config(), &self.org.management, name, input_parameters).await
    }
}

/// Sends a CreateResourceShare request built by the test and returns the new share's ARN.
pub async fn create_share(
    req: aws_sdk_ram::operation::create_resource_share::builders::CreateResourceShareFluentBuilder,
) -> String {
    req.send()
        .await
        .expect("CreateResourceShare")
        .resource_share
        .and_then(|s| s.resource_share_arn)
        .expect("the new share's ARN")
}

/// Registers a custom Lambda Config rule in the account `client` acts as.
pub async fn put_config_rule(
    client: &aws_sdk_config::Client,
    function_account: &str,
    name: &str,
    input_parameters: Value,
) {
    {
        use aws_sdk_config::types::{ConfigRule, MessageType, Owner, Source, SourceDetail};
        let source = Source::builder()
            .owner(Owner::CustomLambda)
            .source_identifier(format!(
                "arn:aws:lambda:{REGION}:{function_account}:function:ramguard-config-rule"
            ))
            .source_details(
                SourceDetail::builder()
                    .event_source(aws_sdk_config::types::EventSource::AwsConfig)
                    .message_type(MessageType::ScheduledNotification)
                    .build(),
            )
            .build()
            .expect("source");
        let rule = ConfigRule::builder()
            .config_rule_name(name)
            .source(source)
            .input_parameters(input_parameters.to_string())
            .build();
        client
            .put_config_rule()
            .config_rule(rule)
            .send()
            .await
            .expect("PutConfigRule");
    }
}

/// What [`World::share_with`] creates.
pub struct ShareSpec<'a> {
    pub name: &'a str,
    pub allow_external: bool,
    pub principals: &'a [&'a str],
    pub tags: &'a [(&'a str, &'a str)],
}

async fn create_ou(orgs: &aws_sdk_organizations::Client, parent: &str, name: &str) -> OuFixture {
    let ou = orgs
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .expect("CreateOrganizationalUnit")
        .organizational_unit
        .expect("ou");
    OuFixture {
        id: ou.id.expect("ou id"),
        arn: ou.arn.expect("ou arn"),
    }
}

/// What Config holds for a rule: resource id → (compliance type, annotation).
pub async fn compliance_results(
    config: &aws_sdk_config::Client,
    rule: &str,
) -> std::collections::BTreeMap<String, (String, String)> {
    let pages: Vec<_> = config
        .get_compliance_details_by_config_rule()
        .config_rule_name(rule)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetComplianceDetailsByConfigRule");
    pages
        .into_iter()
        .flat_map(|p| p.evaluation_results.unwrap_or_default())
        .map(|r| {
            let id = r
                .evaluation_result_identifier
                .and_then(|i| i.evaluation_result_qualifier)
                .and_then(|q| q.resource_id)
                .unwrap_or_default();
            let compliance = r
                .compliance_type
                .map(|c| c.as_str().to_string())
                .unwrap_or_default();
            (id, (compliance, r.annotation.unwrap_or_default()))
        })
        .collect()
}
