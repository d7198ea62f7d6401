//! The sample events in events/config-rule parse and route as the handler expects.

use ramguard_config_rule::{RuleError, RuleHandler};
use ramguard_core::Parameters;
use ramguard_testkit::{repo_root, standin};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = repo_root().join("events/config-rule").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).expect("event file")).expect("event JSON")
}

#[tokio::test]
async fn every_sample_event_is_understood() {
    let cfg = standin().config_for("111111111111").await;
    let handler = RuleHandler::new(
        cfg,
        Some("ramguard-ram-shares".into()),
        Parameters::default(),
    );
    for name in [
        "scheduled-notification.json",
        "configuration-item-change.json",
        "oversized-configuration-item-change.json",
        "configuration-item-deleted.json",
        "event-left-scope.json",
    ] {
        let event = load(name);
        // The samples' account has no organization in a fresh stand-in: the handler must get past
        // parsing and fail on the org snapshot, never on the event's shape.
        let err = handler.handle(event, "111111111111").await.unwrap_err();
        assert!(matches!(err, RuleError::OrgSnapshot(_)), "{name}: {err}");
    }
    let out = handler
        .handle(
            load("cloudtrail-associate-resource-share.json"),
            "111111111111",
        )
        .await
        .unwrap();
    // the rule does not exist in a fresh stand-in: nothing is started, and the outcome says why
    assert_eq!(out.evaluation_started, Some(false));
    assert_eq!(
        out.skipped.as_deref(),
        Some("no rule ramguard-ram-shares in account 111111111111")
    );
}
