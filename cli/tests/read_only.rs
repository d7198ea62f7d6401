//! `ramguard` is read-only by construction: every call a scan and a baseline check make is in
//! shared/iam-actions.json's `cli` list, every action there reads (List, Get, Describe, and
//! sts:AssumeRole to read other accounts), and cli/scan-policy.json is that list. One test in
//! this binary, so the stand-in's call counts are its own.

use ramguard_testkit::{as_management, World, OUTSIDER};
use serde_json::Value;

#[tokio::test]
async fn every_call_reads_and_is_listed() {
    let world = World::new(1).await;
    let member = world.org.members[0].clone();
    world.standin.create_role(&member, "audit");
    world.share("s", true, &[OUTSIDER]).await;
    let baseline = std::env::temp_dir().join(format!("ro-baseline-{}.yaml", std::process::id()));
    std::fs::write(&baseline, "version: \"1\"\nboundaries:\n  tagged:\n    tags: {env: prod}\nresource_types:\n  allowed: [ec2:Subnet]\n").unwrap();
    world.standin.reset_calls();
    let program = std::path::Path::new(env!("CARGO_BIN_EXE_ramguard"));
    let b = baseline.to_str().unwrap();
    let scan = as_management(
        &world,
        program,
        &[
            "scan",
            "--organization",
            "--role",
            "audit",
            "--regions",
            "all",
            "--inventory",
            "--plan",
            "--baseline",
            b,
            "--format",
            "json",
        ],
    )
    .await;
    assert!(
        matches!(scan.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&scan.stderr)
    );
    let check = as_management(&world, program, &["baseline", "check", b, "--organization"]).await;
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let _ = std::fs::remove_file(&baseline);

    let doc: Value = serde_json::from_str(ramguard_aws::IAM_ACTIONS_JSON).unwrap();
    let listed: std::collections::BTreeSet<String> = doc["cli"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for action in &listed {
        let verb = action.split(':').nth(1).unwrap();
        assert!(
            verb.starts_with("List")
                || verb.starts_with("Get")
                || verb.starts_with("Describe")
                || action == "sts:AssumeRole",
            "{action} does not read"
        );
    }
    assert_eq!(
        world.standin.called_actions(),
        listed,
        "calls made by ramguard vs iam-actions.json cli"
    );
    let policy: Value = serde_json::from_str(
        &std::fs::read_to_string(ramguard_testkit::repo_root().join("cli/scan-policy.json"))
            .unwrap(),
    )
    .unwrap();
    let allowed: std::collections::BTreeSet<String> = policy["Statement"][0]["Action"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(allowed, listed);
}
