//! The built `remediator` binary through the Lambda Runtime API (`cargo lambda watch` and
//! `invoke`), with the events/ samples, against the stand-in: dry-run first, then enforce.

use ramguard_core::events::{self, Incoming};
use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{sample_event, World, OUTSIDER};
use serde_json::json;

#[test]
fn both_samples_are_remediation_triggers() {
    let Incoming::ComplianceChange(c) = events::parse(&sample_event(
        "findings-importer/compliance-change-non-compliant.json",
    ))
    .unwrap() else {
        panic!("not a compliance change")
    };
    assert_eq!(c.compliance.as_str(), "NON_COMPLIANT");
    let Incoming::CustomAction(a) =
        events::parse(&sample_event("remediator/security-hub-custom-action.json")).unwrap()
    else {
        panic!("not a custom action")
    };
    assert_eq!(a.findings.len(), 1);
    assert!(a.foreign.is_empty());
}

async fn principal_status(world: &World, share: &str) -> String {
    world
        .ram()
        .get_resource_share_associations()
        .association_type(aws_sdk_ram::types::ResourceShareAssociationType::Principal)
        .resource_share_arns(share)
        .send()
        .await
        .unwrap()
        .resource_share_associations
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.associated_entity.as_deref() == Some(OUTSIDER))
        .and_then(|a| a.status)
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn built_binary_dry_runs_then_enforces_through_the_runtime_api() {
    let world = World::new(0).await;
    let account = world.org.management.clone();
    let share = world.share("runtime", true, &[OUTSIDER]).await;
    let mut event = sample_event("remediator/security-hub-custom-action.json");
    event["account"] = json!(account);
    let finding = &mut event["detail"]["findings"][0];
    finding["AwsAccountId"] = json!(account);
    finding["ProductArn"] = json!(format!(
        "arn:aws:securityhub:us-east-1:{account}:product/{account}/default"
    ));
    finding["Resources"][0]["Id"] = json!(share);
    finding["ProductFields"]["ramguard/ShareArn"] = json!(share);

    let env = |mode| {
        vec![
            ("RAMGUARD_ACCOUNT_ID", account.clone()),
            ("CONFIG_RULE_NAME", "ramguard-ram-shares".to_string()),
            ("REMEDIATION_MODE", mode),
        ]
    };
    let dry = env("dry-run".to_string());
    let dry: Vec<(&str, &str)> = dry.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = LambdaWatch::start(world.standin.url(), &world.management, &dry).await;
    let out = watch.invoke("remediator", &event).expect("dry-run");
    assert_eq!(out["mode"], json!("dry-run"), "{out}");
    assert_eq!(out["shares"][0]["outcome"], json!("planned"), "{out}");
    assert_eq!(principal_status(&world, &share).await, "ASSOCIATING");
    drop(watch);

    let enforce = env("enforce".to_string());
    let enforce: Vec<(&str, &str)> = enforce.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = LambdaWatch::start(world.standin.url(), &world.management, &enforce).await;
    let out = watch.invoke("remediator", &event).expect("enforce");
    assert_eq!(out["shares"][0]["outcome"], json!("remediated"), "{out}");
    assert_eq!(out["shares"][0]["actions"][0]["principal"], json!(OUTSIDER));
    assert!(matches!(
        principal_status(&world, &share).await.as_str(),
        "DISASSOCIATING" | "DISASSOCIATED"
    ));
    let mut bad = event.clone();
    bad["detail"]["findings"][0]["AwsAccountId"] = json!("1234567890123");
    let err = watch.invoke("remediator", &bad).unwrap_err();
    assert!(
        err.contains("BadEvent") && err.contains("12-digit"),
        "{err}"
    );
}
