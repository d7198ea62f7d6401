//! Test harness for ramguard: one local AWS stand-in per test process, SDK configuration pointed at
//! it (optionally as an assumed role in any account), and seeding of organizations and RAM shares.
//!
//! Tests isolate themselves by working in accounts of their own: [`World::new`] creates a fresh
//! management account and organization, so tests in one process can run in parallel against the
//! same stand-in. Faults and settings are scoped to an account for the same reason.

pub mod lambda;
pub mod mutate;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::{json, Value};

/// A sample event of `events/` (`events/<path>`), as JSON.
pub fn sample_event(path: &str) -> Value {
    let text = std::fs::read_to_string(repo_root().join("events").join(path))
        .unwrap_or_else(|e| panic!("events/{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("events/{path}: {e}"))
}

/// The region tests work in unless they choose another.
pub const REGION: &str = "us-east-1";
/// An account outside every organization the harness creates.
pub const OUTSIDER: &str = "999999999999";
/// The role tests assume in an account to act as it.
pub const TEST_ROLE: &str = "ramguard-test";

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A running stand-in process.
pub struct StandIn {
    url: String,
    _child: Mutex<Child>,
}

static STANDIN: OnceLock<StandIn> = OnceLock::new();

/// The stand-in of this test process, started on first use. When `RAMGUARD_STANDIN_URL` is set,
/// that already running stand-in is used instead.
pub fn standin() -> &'static StandIn {
    STANDIN.get_or_init(StandIn::start)
}

impl StandIn {
    fn start() -> StandIn {
        if let Ok(url) = std::env::var("RAMGUARD_STANDIN_URL") {
            let child = Command::new("true").spawn().expect("spawn placeholder");
            return StandIn {
                url,
                _child: Mutex::new(child),
            };
        }
        let root = repo_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "the stand-in's virtualenv is missing: run scripts/standin-env (make test does)"
        );
        let port_file = std::env::temp_dir().join(format!(
            "ramguard-standin-{}-{}.port",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let child = Command::new(python)
            .args([
                "-m",
                "ramguard_standin",
                "--port",
                "0",
                "--exit-with-parent",
                "--port-file",
            ])
            .arg(&port_file)
            .current_dir(root.join("tests/standin"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the stand-in");
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if let Ok(port) = text.trim().parse::<u16>() {
                    break port;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the stand-in did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = std::fs::remove_file(&port_file);
        StandIn {
            url: format!("http://127.0.0.1:{port}"),
            _child: Mutex::new(child),
        }
    }

    /// The endpoint URL to give the SDK (`AWS_ENDPOINT_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls one of the stand-in's `/_standin/...` control endpoints.
    pub fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{}", self.url, path);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = match method {
            "GET" => agent.get(&url).call(),
            "DELETE" => agent.delete(&url).call(),
            _ => agent.post(&url).send_json(&body),
        }
        .unwrap_or_else(|e| panic!("stand-in control {method} {path}: {e}"));
        let status = response.status();
        let value: Value = response
            .body_mut()
            .read_json()
            .unwrap_or_else(|e| panic!("stand-in control {method} {path}: unreadable answer: {e}"));
        assert!(
            status.is_success(),
            "stand-in control {method} {path} failed: {value}"
        );
        value
    }

    /// Makes calls fail: `kind` is `throttle` (the service's own throttling error), `5xx`, or an
    /// error code; `count` calls (or every call when None), only for `account`.
    pub fn inject_fault(&self, fault: Fault<'_>) {
        let mut body =
            json!({"service": fault.service, "kind": fault.kind, "account": fault.account});
        if let Some(op) = fault.operation {
            body["operation"] = json!(op);
        }
        if let Some(count) = fault.count {
            body["count"] = json!(count);
        }
        if let Some(fraction) = fault.fraction {
            body["fraction"] = json!(fraction);
        }
        if fault.per_item {
            body["per_item"] = json!(true);
        }
        if let Some(entity) = fault.entity {
            body["entity"] = json!(entity);
        }
        self.control("POST", "/_standin/faults", body);
    }

    /// Changes stand-in behaviour for one account (`settleSeconds`, `emptyFirstPage`,
    /// `configEvaluationSeconds`, `configStartWindowSeconds`, `readBackLagSeconds`,
    /// `refuseConcurrentPutEvaluations`).
    pub fn settings(&self, account: &str, mut settings: Value) {
        settings["account"] = json!(account);
        self.control("POST", "/_standin/settings", settings);
    }

    /// API calls the stand-in served for an account, by (service, operation).
    pub fn calls(&self, account: &str) -> Vec<CallCount> {
        let out = self.control("POST", "/_standin/calls", json!({ "account": account }));
        serde_json::from_value(out["calls"].clone()).expect("call counts")
    }

    /// Forgets every call count (the whole stand-in: use it in a test binary of one test).
    pub fn reset_calls(&self) {
        self.control("DELETE", "/_standin/calls", Value::Null);
    }

    /// The IAM actions (`service:Operation`) of every call served since the last reset, in any
    /// account.
    pub fn called_actions(&self) -> std::collections::BTreeSet<String> {
        let out = self.control("POST", "/_standin/calls", json!({}));
        let calls: Vec<CallCount> = serde_json::from_value(out["calls"].clone()).expect("calls");
        calls
            .into_iter()
            .map(|c| format!("{}:{}", c.service, c.operation))
            .collect()
    }

    /// Least privilege, checked: the calls served since the last reset are exactly the actions
    /// `shared/iam-actions.json` lists for `function` (no call outside the list, no listed action
    /// unused).
    pub fn assert_calls_match_iam_actions(&self, function: &str) {
        let listed: std::collections::BTreeSet<String> =
            ramguard_aws::iam_actions(function).into_iter().collect();
        assert!(!listed.is_empty(), "no actions listed for {function}");
        assert_eq!(
            self.called_actions(),
            listed,
            "calls made by {function} vs shared/iam-actions.json"
        );
    }

    /// A Config rule invocation event, shaped as AWS Config sends it to a custom rule's Lambda,
    /// with a result token the stand-in's PutEvaluations accepts.
    pub fn rule_event(&self, spec: Value) -> Value {
        self.control("POST", "/_standin/config/rule-event", spec)
    }

    /// Creates the role `name` in `account`, as the member StackSet does; the stand-in refuses
    /// AssumeRole of a role that does not exist (the harness's own [`TEST_ROLE`] always exists).
    pub fn create_role(&self, account: &str, name: &str) {
        let out = self.control(
            "POST",
            "/_standin/iam/role",
            json!({"account": account, "roleName": name}),
        );
        assert!(
            out.get("arn").is_some(),
            "create role {name} in {account}: {out}"
        );
    }

    /// Sets what RAM reports for a share that no API call here produces (the featureSet of a
    /// share created from a policy, associations in a given status): `spec` is the body of
    /// `POST /_standin/ram/share-state`.
    pub fn set_share_state(&self, spec: Value) {
        let out = self.control("POST", "/_standin/ram/share-state", spec.clone());
        assert!(
            out.get("resourceShare").is_some(),
            "share state {spec}: {out}"
        );
    }

    /// Seeds many ACTIVE shares at once, associations already ASSOCIATED
    /// (`POST /_standin/ram/bulk-shares`); returns their ARNs in the order given.
    pub fn bulk_shares(&self, account: &str, region: &str, shares: Value) -> Vec<String> {
        let out = self.control(
            "POST",
            "/_standin/ram/bulk-shares",
            json!({"account": account, "region": region, "shares": shares}),
        );
        serde_json::from_value(out["resourceShareArns"].clone()).expect("share ARNs")
    }

    /// Sets per-service latency and per-account rate limits (`POST /_standin/performance`);
    /// `{"clear": true}` removes both. Applies to the whole stand-in: use it in a test binary
    /// of one test.
    pub fn performance(&self, spec: Value) {
        self.control("POST", "/_standin/performance", spec);
    }

    /// Rules StartConfigRulesEvaluation was called for.
    pub fn started_evaluations(&self) -> Vec<Value> {
        let out = self.control("GET", "/_standin/config/started", Value::Null);
        out["started"].as_array().cloned().unwrap_or_default()
    }

    /// SDK configuration for the stand-in's default account, with bounded, fast retries.
    pub async fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_in(REGION).await
    }

    /// As [`StandIn::sdk_config`], in another region.
    pub async fn sdk_config_in(&self, region: &str) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new(
                "testing", "testing", None, None, "standin",
            ))
            .retry_config(fast_retries())
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(30))
                    .build(),
            )
            .load()
            .await
    }

    /// SDK configuration acting as `account`, through credentials of a role assumed there
    /// (the same assume-role path ramguard's org-wide mode uses).
    pub async fn config_for(&self, account: &str) -> SdkConfig {
        let base = self.sdk_config().await;
        let role = ramguard_aws::credentials::member_role_arn("aws", account, TEST_ROLE);
        ramguard_aws::credentials::assume_role(&base, &role, "ramguard-test").await
    }
}

/// Retries that cost milliseconds, not seconds: three attempts, 1–10 ms backoff.
pub fn fast_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(10))
}

/// A fault to inject; see [`StandIn::inject_fault`].
#[derive(Debug, Clone, Copy)]
pub struct Fault<'a> {
    pub service: &'a str,
    pub operation: Option<&'a str>,
    pub kind: &'a str,
    pub count: Option<u32>,
    pub fraction: Option<f64>,
    pub account: &'a str,
    /// Fail single items of a batch (BatchImportFindings' FailedFindings), not the whole call.
    pub per_item: bool,
    /// Fail only the calls that name this entity (a principal of DisassociateResourceShare).
    pub entity: Option<&'a str>,
}

impl<'a> Fault<'a> {
    /// The service's own throttling error, `count` times, for `account`.
    pub fn throttle(service: &'a str, operation: &'a str, account: &'a str, count: u32) -> Self {
        Fault {
            service,
            operation: Some(operation),
            kind: "throttle",
            count: Some(count),
            fraction: None,
            account,
            per_item: false,
            entity: None,
        }
    }

    /// Every call of `operation` fails with the error `code`, for `account`.
    pub fn always(service: &'a str, operation: &'a str, code: &'a str, account: &'a str) -> Self {
        Fault {
            service,
            operation: Some(operation),
            kind: code,
            count: None,
            fraction: None,
            account,
            per_item: false,
            entity: None,
        }
    }

    /// Every DisassociateResourceShare call that names `principal` fails with `code` (a principal
    /// RAM will not remove), for `account`.
    pub fn refused_principal(principal: &'a str, code: &'a str, account: &'a str) -> Self {
        Fault {
            entity: Some(principal),
            ..Fault::always("ram", "DisassociateResourceShare", code, account)
        }
    }

    /// `count` findings of BatchImportFindings calls fail with `code` in FailedFindings.
    pub fn failing_findings(code: &'a str, account: &'a str, count: u32) -> Self {
        Fault {
            service: "securityhub",
            operation: Some("BatchImportFindings"),
            kind: code,
            count: Some(count),
            fraction: None,
            account,
            per_item: true,
            entity: None,
        }
    }
}

/// How often the stand-in served one operation for an account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CallCount {
    pub account: String,
    pub service: String,
    pub operation: String,
    pub count: u64,
}

static NEXT_ACCOUNT: AtomicU32 = AtomicU32::new(1);
static NEXT_EVENT: AtomicU32 = AtomicU32::new(1);

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

/// A "Config Rules Compliance Change" event as EventBridge delivers it, for one share under `rule`;
/// `old` is absent on a first evaluation.
pub fn compliance_change(
    rule: &str,
    account: &str,
    share_arn: &str,
    new: &str,
    old: Option<&str>,
) -> Value {
    let mut detail = json!({
        "resourceId": share_arn,
        "awsRegion": REGION,
        "awsAccountId": account,
        "configRuleName": rule,
        "recordVersion": "1.0",
        "configRuleARN": format!("arn:aws:config:{REGION}:{account}:config-rule/config-rule-abc123"),
        "messageType": "ComplianceChangeNotification",
        "resourceType": "AWS::RAM::ResourceShare",
        "newEvaluationResult": {
            "evaluationResultIdentifier": {
                "evaluationResultQualifier": {
                    "configRuleName": rule,
                    "resourceType": "AWS::RAM::ResourceShare",
                    "resourceId": share_arn
                },
                "orderingTimestamp": "2026-11-23T10:00:00.000Z"
            },
            "complianceType": new,
            "resultRecordedTime": "2026-11-23T10:00:01.000Z",
            "configRuleInvokedTime": "2026-11-23T10:00:00.500Z"
        }
    });
    if let Some(old) = old {
        detail["oldEvaluationResult"] = json!({"complianceType": old});
    }
    json!({
        "version": "0",
        "id": format!("{:08x}-0000-4000-8000-{:012x}", std::process::id(), NEXT_EVENT.fetch_add(1, Ordering::Relaxed)),
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account,
        "time": "2026-11-23T10:00:01Z",
        "region": REGION,
        "resources": [],
        "detail": detail
    })
}

/// A "Security Hub Findings - Custom Action" event carrying `findings` (ASFF JSON).
pub fn custom_action(account: &str, findings: Vec<Value>) -> Value {
    json!({
        "version": "0",
        "id": format!("{:08x}-0000-4000-9000-{:012x}", std::process::id(), NEXT_EVENT.fetch_add(1, Ordering::Relaxed)),
        "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub",
        "account": account,
        "time": "2026-11-23T10:05:00Z",
        "region": REGION,
        "resources": [format!("arn:aws:securityhub:{REGION}:{account}:action/custom/ramguard-remediate")],
        "detail": {
            "actionName": "ramguard-remediate",
            "actionDescription": "Remove the principals outside the organization",
            "findings": findings
        }
    })
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
