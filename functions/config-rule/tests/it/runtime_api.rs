//! The built `config-rule` binary, driven through the Lambda Runtime API by `cargo lambda watch`
//! and `cargo lambda invoke` with an `events/` file, against the stand-in.

use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{put_config_rule, repo_root, World, OUTSIDER};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";

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
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", &account),
            ("CONFIG_RULE_NAME", RULE),
            ("ExecutionRoleName", "ramguard-member"),
        ],
    )
    .await;
    let outcome = watch.invoke("config-rule", &event).expect("invocation");
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

    // organization scope through the same binary: a member's RAM change (forwarded by the member
    // stack) starts the organization rule under its member-side name there; a member without the
    // member role is skipped, not failed; an account outside the organization is refused
    let member = world.org.members[0].clone();
    let member_rule = format!("OrgConfigRule-{RULE}-r7t8y9u0");
    put_config_rule(
        &aws_sdk_config::Client::new(&world.standin.config_for(&member).await),
        &account,
        &member_rule,
        json!({}),
    )
    .await;
    let sample = repo_root().join("events/config-rule/cloudtrail-associate-resource-share.json");
    let mut ram_call: Value =
        serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    ram_call["account"] = json!(member);
    ram_call["region"] = json!("us-east-1");
    let outcome = watch.invoke("config-rule", &ram_call).expect("invocation");
    assert_eq!(outcome["evaluationStarted"], json!(false));
    assert_eq!(
        outcome["skipped"],
        json!(format!(
            "member role arn:aws:iam::{member}:role/ramguard-member unavailable"
        ))
    );
    world.standin.create_role(&member, "ramguard-member");
    let outcome = watch.invoke("config-rule", &ram_call).expect("invocation");
    assert_eq!(outcome["evaluationStarted"], json!(true));
    let started: Vec<Value> = world
        .standin
        .started_evaluations()
        .into_iter()
        .filter(|s| s["account"] == json!(member))
        .collect();
    assert_eq!(started.len(), 1);
    assert_eq!(started[0]["ruleName"], json!(member_rule));
    // the same member's change in a second Region starts the rule there
    let member_cfg = world.standin.config_for(&member).await;
    put_config_rule(
        &aws_sdk_config::Client::new(
            &member_cfg
                .to_builder()
                .region(aws_config::Region::new("eu-west-1"))
                .build(),
        ),
        &account,
        &format!("OrgConfigRule-{RULE}-e5u6w7x8"),
        json!({}),
    )
    .await;
    ram_call["region"] = json!("eu-west-1");
    let outcome = watch.invoke("config-rule", &ram_call).expect("invocation");
    assert_eq!(outcome["evaluationStarted"], json!(true));
    assert!(world
        .standin
        .started_evaluations()
        .iter()
        .any(|s| s["account"] == json!(member)
            && s["region"] == json!("eu-west-1")
            && s["ruleName"] == json!(format!("OrgConfigRule-{RULE}-e5u6w7x8"))));
    ram_call["account"] = json!(OUTSIDER);
    let err = watch.invoke("config-rule", &ram_call).unwrap_err();
    assert!(err.contains("is not a member of organization"), "{err}");
}

#[tokio::test]
async fn built_binary_in_a_plain_member_account_cannot_read_the_organization() {
    // DeploymentScope=Account in an account that is neither the management account nor a
    // delegated administrator: every invocation fails, saying why
    let world = World::new(1).await;
    let member = world.org.members[0].clone();
    let member_cfg = world.standin.config_for(&member).await;
    put_config_rule(
        &aws_sdk_config::Client::new(&member_cfg),
        &member,
        RULE,
        json!({}),
    )
    .await;
    let event = world
        .standin
        .rule_event(json!({"account": member, "ruleName": RULE}));
    let watch = LambdaWatch::start(
        world.standin.url(),
        &member_cfg,
        &[("RAMGUARD_ACCOUNT_ID", &member), ("CONFIG_RULE_NAME", RULE)],
    )
    .await;
    let err = watch.invoke("config-rule", &event).unwrap_err();
    assert!(err.contains("cannot read the organization"), "{err}");
    assert!(err.contains("ListAccounts"), "{err}");
    assert!(err.contains("OrganizationUnreadable"), "{err}");
}

#[tokio::test]
async fn failures_come_back_with_their_class_as_error_type() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", &account),
            ("CONFIG_RULE_NAME", RULE),
        ],
    )
    .await;
    // a malformed event: BadEvent, with the input echoed only within bounds
    let mut event = world
        .standin
        .rule_event(json!({"account": account, "ruleName": RULE}));
    event["invokingEvent"] = json!("x".repeat(200_000));
    let err = watch.invoke("config-rule", &event).unwrap_err();
    assert!(err.contains("BadEvent"), "{err}");
    assert!(err.len() < 4_000, "{} bytes", err.len());
    // bad rule parameters: BadParameters
    let mut event = world
        .standin
        .rule_event(json!({"account": account, "ruleName": RULE}));
    event["ruleParameters"] = json!(json!({"TrustedAccountIds": "abc"}).to_string());
    let err = watch.invoke("config-rule", &event).unwrap_err();
    assert!(err.contains("BadParameters"), "{err}");
    // a call AWS keeps throttling: Throttled
    world.standin.inject_fault(ramguard_testkit::Fault::always(
        "ram",
        "GetResourceShares",
        "ThrottlingException",
        &account,
    ));
    let event = world
        .standin
        .rule_event(json!({"account": account, "ruleName": RULE}));
    let err = watch.invoke("config-rule", &event).unwrap_err();
    assert!(err.contains("Throttled"), "{err}");
    // JSON nested deeper than the JSON reader's limit: read by ramguard, a BadEvent, never the
    // runtime's own deserialization error
    let mut nested = json!(1);
    for _ in 0..200 {
        nested = json!([nested]);
    }
    let nested = json!({"invokingEvent": nested});
    let err = watch.invoke("config-rule", &nested).unwrap_err();
    assert!(err.contains("BadEvent"), "{err}");
    assert!(!err.contains("DeserializeError"), "{err}");
}
