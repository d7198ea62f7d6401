//! Mutated events against the rule (fields removed, wrong types, huge strings, deep nesting, bad
//! timestamps, the JSON inside invokingEvent/ruleParameters mutated): never a panic, always a
//! defined outcome or a typed error with a bounded message.

use ramguard_config_rule::RuleHandler;
use ramguard_core::Parameters;
use ramguard_testkit::mutate::mutations;
use ramguard_testkit::{sample_event, World, OUTSIDER};
use serde_json::json;
use std::sync::Arc;

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn mutated_events_never_panic_and_fail_typed_and_bounded() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    world.share("s", true, &[OUTSIDER]).await;
    let handler = Arc::new(RuleHandler::new(
        world.management.clone(),
        Some(RULE.into()),
        Parameters::default(),
    ));
    let mut cases = 0;
    for (seed, name) in [
        (1, "scheduled-notification.json"),
        (2, "configuration-item-change.json"),
        (3, "cloudtrail-associate-resource-share.json"),
    ] {
        let mut event = sample_event(&format!("config-rule/{name}"));
        if event.get("resultToken").is_some() {
            let issued = world
                .standin
                .rule_event(json!({"account": account, "ruleName": RULE}));
            event["resultToken"] = issued["resultToken"].clone();
            event["accountId"] = json!(account);
        } else {
            event["account"] = json!(account);
        }
        for mutated in mutations(&event, seed, 60) {
            cases += 1;
            let h = handler.clone();
            let account = account.clone();
            let result = tokio::spawn(async move { h.handle(mutated, &account).await }).await;
            let outcome = result.expect("the handler panicked on a mutated event");
            if let Err(err) = outcome {
                let message = err.to_string();
                assert!(message.chars().count() <= 1_000, "{} chars", message.len());
            }
        }
    }
    assert_eq!(cases, 3 * 64);
}
