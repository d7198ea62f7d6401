//! The built `findings-importer` binary through the Lambda Runtime API (`cargo lambda watch` and
//! `invoke`), with the events/ samples, against the stand-in.

use ramguard_core::events::{self, Incoming};
use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{sample_event, World, OUTSIDER};
use serde_json::{json, Value};

/// The sample, pointed at this test's account and share.
fn retarget(mut event: Value, account: &str, share: &str) -> Value {
    event["account"] = json!(account);
    event["detail"]["awsAccountId"] = json!(account);
    event["detail"]["resourceId"] = json!(share);
    event
}

#[test]
fn every_sample_is_a_compliance_change_of_a_share() {
    for (name, compliance, previous) in [
        (
            "compliance-change-non-compliant.json",
            "NON_COMPLIANT",
            Some("COMPLIANT"),
        ),
        (
            "compliance-change-compliant.json",
            "COMPLIANT",
            Some("NON_COMPLIANT"),
        ),
        (
            "compliance-change-not-applicable.json",
            "NOT_APPLICABLE",
            Some("NON_COMPLIANT"),
        ),
        (
            "compliance-change-first-evaluation.json",
            "NON_COMPLIANT",
            None,
        ),
    ] {
        let Incoming::ComplianceChange(c) =
            events::parse(&sample_event(&format!("findings-importer/{name}"))).expect(name)
        else {
            panic!("{name} is not a compliance change")
        };
        assert!(c.is_share(), "{name}");
        assert_eq!(c.compliance.as_str(), compliance, "{name}");
        assert_eq!(c.previous.map(|p| p.as_str()), previous, "{name}");
        assert!(c.share_arn.starts_with("arn:aws:ram:"), "{name}");
    }
}

#[tokio::test]
async fn built_binary_imports_and_resolves_through_the_runtime_api() {
    let world = World::new(0).await;
    let account = world.org.management.clone();
    world.enable_security_hub(&account).await;
    let share = world.share("runtime", true, &[OUTSIDER]).await;
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", &account),
            ("CONFIG_RULE_NAME", "ramguard-ram-shares"),
        ],
    )
    .await;

    let event = retarget(
        sample_event("findings-importer/compliance-change-first-evaluation.json"),
        &account,
        &share,
    );
    let out = watch.invoke("findings-importer", &event).expect("import");
    assert_eq!(out["imported"].as_array().map(Vec::len), Some(1), "{out}");
    assert_eq!(out["liveCompliance"], json!("NON_COMPLIANT"));

    world.remove_principal(&share, OUTSIDER).await;
    let event = retarget(
        sample_event("findings-importer/compliance-change-compliant.json"),
        &account,
        &share,
    );
    let out = watch.invoke("findings-importer", &event).expect("resolve");
    assert_eq!(out["resolved"].as_array().map(Vec::len), Some(1), "{out}");

    let mut bad = event.clone();
    bad["detail"]["newEvaluationResult"]["complianceType"] = json!("SOMETIMES");
    let err = watch.invoke("findings-importer", &bad).unwrap_err();
    assert!(err.contains("complianceType"), "{err}");
    assert!(err.contains("BadEvent"), "{err}");
    let mut bad = event.clone();
    bad["detail"]["awsRegion"] = json!("*");
    let err = watch.invoke("findings-importer", &bad).unwrap_err();
    assert!(
        err.contains("BadEvent") && err.contains("is not an AWS Region"),
        "{err}"
    );
}
