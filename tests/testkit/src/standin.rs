//! The stand-in process of a test binary, its control endpoints, and SDK configuration pointed at it.

use super::*;

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

/// How often the stand-in served one operation for an account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CallCount {
    pub account: String,
    pub service: String,
    pub operation: String,
    pub count: u64,
}
