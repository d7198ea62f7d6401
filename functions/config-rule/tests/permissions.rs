//! Every AWS call the rule makes is in its list in shared/iam-actions.json (what its IAM role in
//! template.yaml allows), and every action of the list is used: least privilege, checked.
//! One test in this binary, so the stand-in's call counts are this scenario's alone.

use ramguard_config_rule::RuleHandler;
use ramguard_core::Parameters;
use ramguard_testkit::{put_config_rule, World, OUTSIDER, TEST_ROLE};
use serde_json::json;

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn calls_exactly_the_listed_actions() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    world.config_rule(RULE, json!({})).await;
    let member_cfg = world.standin.config_for(&member).await;
    put_config_rule(
        &aws_sdk_config::Client::new(&member_cfg),
        &mgmt,
        RULE,
        json!({}),
    )
    .await;
    let share = world.share("s", true, &[OUTSIDER]).await;
    // a baseline by account tags and resource types: the structure, tags and resources are read
    aws_sdk_ssm::Client::new(&world.management)
        .put_parameter()
        .name("/ramguard/sharing-baseline")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value("version: \"1\"\nboundaries:\n  production:\n    tags: {env: production}\nresource_types:\n  allowed: [ec2:Subnet]\n")
        .send()
        .await
        .expect("PutParameter");
    let handler = RuleHandler::new(
        world.management.clone(),
        Some(RULE.into()),
        Parameters::default(),
    )
    .with_baseline(ramguard_aws::baseline::BaselineStore::new(
        Some("/ramguard/sharing-baseline".into()),
        std::time::Duration::from_secs(300),
    ));
    // the guardrail coverage reads the SCPs on each account's path
    world.enable_scps().await;
    let params = json!({"ExecutionRoleName": TEST_ROLE, "GuardrailCoverage": "true"}).to_string();
    world.standin.reset_calls();

    for account in [&mgmt, &member] {
        let event = world.standin.rule_event(json!({
            "account": account, "ruleName": RULE, "messageType": "ScheduledNotification",
            "ruleParameters": params,
        }));
        handler.handle(event, &mgmt).await.expect("sweep");
    }
    let change = world.standin.rule_event(json!({
        "account": mgmt, "ruleName": RULE, "messageType": "ConfigurationItemChangeNotification",
        "ruleParameters": params,
        "configurationItem": {"resourceType": "AWS::RAM::ResourceShare", "resourceId": share, "ARN": share},
    }));
    handler.handle(change, &mgmt).await.expect("change");
    let cloudtrail = json!({
        "version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ram",
        "account": mgmt, "time": "2026-11-23T10:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"eventSource": "ram.amazonaws.com", "eventName": "AssociateResourceShare"}
    });
    handler
        .handle(cloudtrail, &mgmt)
        .await
        .expect("near real time");

    world.standin.assert_calls_match_iam_actions("config-rule");
}
