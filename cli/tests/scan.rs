//! `ramguard scan` as a pipeline runs it: the built binary against a seeded organization in the
//! stand-in, compared with what the Config rule reports for the same shares.

use std::collections::BTreeMap;
use std::process::Command;

use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{as_management, compliance_results, put_config_rule, World, OUTSIDER};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const ROLE: &str = "ramguard-member";

async fn ramguard(world: &World, args: &[&str]) -> (i32, String, String) {
    let out = as_management(
        world,
        std::path::Path::new(env!("CARGO_BIN_EXE_ramguard")),
        args,
    )
    .await;
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The SARIF 2.1.0 schema, as the serde-sarif crate ships it.
fn sarif_schema() -> Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let meta = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    let meta: Value = serde_json::from_slice(&meta.stdout).expect("metadata JSON");
    let manifest = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .and_then(|p| p["manifest_path"].as_str())
        .expect("serde-sarif in the dependency graph")
        .to_string();
    let path = std::path::Path::new(&manifest).with_file_name("src/schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("the SARIF schema")).unwrap()
}

#[tokio::test]
async fn scan_reports_what_the_rule_reports_and_gates_a_pipeline() {
    let world = World::new(3).await;
    let mgmt = world.org.management.clone();
    let m = world.org.members.clone();
    world.config_rule(RULE, json!({})).await;
    for member in &m[..2] {
        world.standin.create_role(member, ROLE);
        let config = aws_sdk_config::Client::new(&world.standin.config_for(member).await);
        put_config_rule(&config, &mgmt, RULE, json!({})).await;
    }
    world.share("to-outsider", true, &[OUTSIDER]).await;
    world.share_in(&m[0], "mixed", &[OUTSIDER, &m[1]]).await;
    world.share_in(&m[1], "inside", &[&m[0]]).await;

    // what the Config rule reports, through the built function
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", mgmt.as_str()),
            ("CONFIG_RULE_NAME", RULE),
        ],
    )
    .await;
    let mut rule: BTreeMap<String, String> = BTreeMap::new();
    for account in [&mgmt, &m[0], &m[1]] {
        let params = json!({"ExecutionRoleName": ROLE}).to_string();
        let event = world
            .standin
            .rule_event(json!({"account": account, "ruleName": RULE, "ruleParameters": params}));
        watch.invoke("config-rule", &event).expect("sweep");
        let config = aws_sdk_config::Client::new(&world.standin.config_for(account).await);
        for (arn, (compliance, _)) in compliance_results(&config, RULE).await {
            rule.insert(arn, compliance);
        }
    }
    drop(watch);

    // an account without the role is one line and the exit status, never a silent gap
    let (code, out, err) = ramguard(
        &world,
        &["scan", "--organization", "--role", ROLE, "--format", "json"],
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let unreadable: Vec<&Value> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "unreadable")
        .collect();
    assert_eq!(unreadable.len(), 1, "{report}");
    assert_eq!(unreadable[0]["account"], json!(m[2]));
    assert!(
        unreadable[0]["reason"]
            .as_str()
            .unwrap()
            .contains("cannot be assumed"),
        "{report}"
    );

    // with the role everywhere: the rule's verdicts exactly, and findings: exit 3
    world.standin.create_role(&m[2], ROLE);
    let (code, out, err) = ramguard(
        &world,
        &["scan", "--organization", "--role", ROLE, "--format", "json"],
    )
    .await;
    assert_eq!(code, 3, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["schema"], json!("ramguard-scan/1"));
    let scanned: BTreeMap<String, String> = report["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["shareArn"].as_str().unwrap().to_string(),
                s["compliance"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(scanned, rule, "the scan and the Config rule disagree");
    let outside: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["account"].as_str().unwrap().to_string(),
                f["principal"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let mut expected = vec![
        (mgmt.clone(), OUTSIDER.to_string()),
        (m[0].clone(), OUTSIDER.to_string()),
    ];
    expected.sort();
    let mut outside_sorted = outside.clone();
    outside_sorted.sort();
    assert_eq!(outside_sorted, expected);

    // the inventory and the plan: every share × principal, and what the remediator would remove
    let (_, out, _) = ramguard(
        &world,
        &[
            "scan",
            "--organization",
            "--role",
            ROLE,
            "--format",
            "json",
            "--inventory",
            "--plan",
        ],
    )
    .await;
    let report: Value = serde_json::from_str(&out).expect("JSON");
    let rows = report["inventory"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["principal"] == json!(m[1]) && r["placement"] == "in-organization"),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r["principal"] == OUTSIDER
            && r["placement"] == "outside"
            && r["resourceType"] == "ec2:Subnet"),
        "{rows:?}"
    );
    let plan = report["plan"].as_array().unwrap();
    assert_eq!(plan.len(), 2, "{plan:?}");
    assert!(
        plan.iter()
            .all(|p| p["plan"]["removals"][0]["principal"] == OUTSIDER),
        "{plan:?}"
    );

    // SARIF 2.1.0, valid against its schema
    let (code, out, _) = ramguard(
        &world,
        &[
            "scan",
            "--organization",
            "--role",
            ROLE,
            "--format",
            "sarif",
        ],
    )
    .await;
    assert_eq!(code, 3);
    let sarif: Value = serde_json::from_str(&out).expect("SARIF is JSON");
    let schema = sarif_schema();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);

    // the table fits 100 columns; CSV and the other forms are produced
    let (_, out, _) = ramguard(&world, &["scan", "--organization", "--role", ROLE]).await;
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    assert!(out.contains("outside-principal"), "{out}");
    let file = std::env::temp_dir().join(format!("ramguard-scan-{}.csv", std::process::id()));
    let (code, out, _) = ramguard(
        &world,
        &[
            "scan",
            "--organization",
            "--role",
            ROLE,
            "--format",
            "csv",
            "--output",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!((code, out.as_str()), (3, ""));
    let csv = std::fs::read_to_string(&file).unwrap();
    assert!(
        csv.starts_with("severity,account,region,share_arn"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 3, "{csv}");
    let _ = std::fs::remove_file(&file);
    for format in ["asff", "ocsf"] {
        let (code, out, _) = ramguard(
            &world,
            &["scan", "--organization", "--role", ROLE, "--format", format],
        )
        .await;
        assert_eq!(code, 3);
        let items: Value = serde_json::from_str(&out).expect("JSON");
        assert_eq!(items.as_array().unwrap().len(), 2, "{format}: {out}");
    }

    // nothing at or above --fail-on: 0 (the outsider trusted)
    let (code, out, err) = ramguard(
        &world,
        &[
            "scan",
            "--organization",
            "--role",
            ROLE,
            "--trusted-account-ids",
            OUTSIDER,
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    // a finding below --fail-on does not fail the pipeline
    let (code, _, _) = ramguard(
        &world,
        &[
            "scan",
            "--organization",
            "--role",
            ROLE,
            "--fail-on",
            "high",
            "--flag-allow-external-principals",
            "false",
            "--trusted-account-ids",
            OUTSIDER,
        ],
    )
    .await;
    assert_eq!(code, 0);
}

#[tokio::test]
async fn regions_all_are_the_accounts_enabled_regions() {
    let world = World::new(0).await;
    world.standin.settings(
        &world.org.management,
        json!({"enabledRegions": ["af-south-1"]}),
    );
    let (code, out, err) =
        ramguard(&world, &["scan", "--regions", "all", "--format", "json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let regions: Vec<&str> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["region"].as_str().unwrap())
        .collect();
    assert!(
        regions.contains(&"af-south-1") && regions.contains(&"eu-west-1"),
        "{regions:?}"
    );
    assert!(!regions.contains(&"me-south-1"), "{regions:?}");
}
