//! The built `config-rule` binary, driven through the Lambda Runtime API by `cargo lambda watch`
//! and `cargo lambda invoke` with an `events/` file, against the stand-in.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::provider::ProvideCredentials;
use ramguard_testkit::{repo_root, World, OUTSIDER, REGION};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";

struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn path_with_venv() -> String {
    format!(
        "{}:{}",
        repo_root().join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[tokio::test]
async fn built_binary_runs_a_sweep_through_the_runtime_api() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let outside = world.share("outside", true, &[OUTSIDER]).await;
    world
        .share("inside", true, &[world.org.members[0].as_str()])
        .await;

    // the events/ sample, given this test's account and a result token the stand-in issued
    let issued = world
        .standin
        .rule_event(json!({"account": account, "ruleName": RULE}));
    let sample = repo_root().join("events/config-rule/scheduled-notification.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    let mut invoking: Value =
        serde_json::from_str(event["invokingEvent"].as_str().unwrap()).unwrap();
    invoking["awsAccountId"] = json!(account);
    event["invokingEvent"] = json!(invoking.to_string());
    event["accountId"] = json!(account);
    event["resultToken"] = issued["resultToken"].clone();
    event["configRuleName"] = json!(RULE);
    let data_file =
        std::env::temp_dir().join(format!("ramguard-event-{}.json", std::process::id()));
    std::fs::write(&data_file, event.to_string()).unwrap();

    let creds = world
        .management
        .credentials_provider()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    let port = free_port().to_string();
    let root = repo_root();
    let _watch = Watch(
        Command::new("cargo")
            .args([
                "lambda",
                "watch",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port,
            ])
            .current_dir(&root)
            .env("PATH", path_with_venv())
            .env("AWS_ENDPOINT_URL", world.standin.url())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
            .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
            .env(
                "AWS_SESSION_TOKEN",
                creds.session_token().unwrap_or_default(),
            )
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RAMGUARD_ACCOUNT_ID", &account)
            .env("CONFIG_RULE_NAME", RULE)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch (installed into .venv by scripts/standin-env)"),
    );

    let deadline = Instant::now() + Duration::from_secs(300);
    let output = loop {
        let out = Command::new("cargo")
            .args([
                "lambda",
                "invoke",
                "config-rule",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &port,
            ])
            .args(["--output-format", "json", "--data-file"])
            .arg(&data_file)
            .current_dir(&root)
            .env("PATH", path_with_venv())
            .output()
            .expect("cargo lambda invoke");
        if out.status.success() {
            break String::from_utf8(out.stdout).unwrap();
        }
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(Instant::now() < deadline, "invoke kept failing: {err}");
        assert!(
            err.contains("onnect") || err.contains("not ready") || err.contains("refused"),
            "invocation failed: {err}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let _ = std::fs::remove_file(&data_file);
    let outcome: Value = serde_json::from_str(output.trim()).expect("the function's JSON result");
    assert_eq!(outcome["trigger"], json!("scheduled"));
    assert_eq!(
        (
            outcome["compliant"].as_u64(),
            outcome["nonCompliant"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let results = world
        .config()
        .get_compliance_details_by_config_rule()
        .config_rule_name(RULE)
        .send()
        .await
        .unwrap();
    let non_compliant: Vec<_> = results
        .evaluation_results()
        .iter()
        .filter(|r| r.compliance_type.as_ref().map(|c| c.as_str()) == Some("NON_COMPLIANT"))
        .filter_map(|r| {
            r.evaluation_result_identifier()?
                .evaluation_result_qualifier()?
                .resource_id()
        })
        .collect();
    assert_eq!(non_compliant, vec![outside.as_str()]);
}
