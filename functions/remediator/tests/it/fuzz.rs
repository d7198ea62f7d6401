//! Mutated events against the remediator in enforce mode: never a panic, always a defined
//! outcome or a typed error with a bounded message, and no in-organization association changes.

use std::sync::Arc;

use ramguard_core::Parameters;
use ramguard_remediator::{Mode, Remediator, Settings};
use ramguard_testkit::mutate::mutations;
use ramguard_testkit::{compliance_change, custom_action, World, OUTSIDER, REGION};
use serde_json::json;

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn mutated_events_in_enforce_mode_never_touch_the_organization() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    let share = world.share("s", true, &[member.as_str(), OUTSIDER]).await;
    let remediator = Arc::new(Remediator::new(
        world.management.clone(),
        Settings {
            mode: Mode::Enforce,
            max_principals_per_run: 50,
            restrict_share: true,
            enforce_baseline: false,
            rule_name: Some(RULE.into()),
            params: Parameters::default(),
            verify_wait: std::time::Duration::from_secs(2),
        },
    ));
    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", Some("COMPLIANT"));
    let action = custom_action(
        &mgmt,
        vec![json!({
            "Id": format!("{share}/principal/{OUTSIDER}"),
            "ProductArn": format!("arn:aws:securityhub:{REGION}:{mgmt}:product/{mgmt}/default"),
            "GeneratorId": ramguard_core::finding::GENERATOR_ID,
            "AwsAccountId": mgmt,
            "Region": REGION,
            "ProductFields": {"ramguard/ShareArn": share, "ramguard/Principal": OUTSIDER},
            "Resources": [{"Type": "Other", "Id": share, "Region": REGION}],
        })],
    );
    for (seed, event) in [(21, change), (22, action)] {
        for mutated in mutations(&event, seed, 75) {
            let r = remediator.clone();
            let mgmt = mgmt.clone();
            let outcome = tokio::spawn(async move { r.handle(mutated, &mgmt).await })
                .await
                .expect("the remediator panicked on a mutated event");
            if let Err(err) = outcome {
                let message = err.to_string();
                assert!(message.chars().count() <= 1_000, "{} chars", message.len());
            }
        }
    }
    let status = world
        .ram()
        .get_resource_share_associations()
        .association_type(aws_sdk_ram::types::ResourceShareAssociationType::Principal)
        .resource_share_arns(&share)
        .send()
        .await
        .unwrap()
        .resource_share_associations
        .unwrap_or_default()
        .into_iter()
        .find(|a| a.associated_entity.as_deref() == Some(member.as_str()))
        .and_then(|a| a.status)
        .map(|s| s.as_str().to_string());
    assert_eq!(
        status.as_deref(),
        Some("ASSOCIATED"),
        "an in-org association changed"
    );
}
