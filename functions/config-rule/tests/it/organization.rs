//! The rule in organization scope, as an organization Config rule runs it in every account:
//! accounts outside the organization refused, accounts without the member role skipped, the
//! near-real-time path starting the rule under its member-side name in the account and Region of
//! the change, and a delegated administrator reading the organization.

use aws_config::Region;
use ramguard_aws::credentials::AccountAccess;
use ramguard_config_rule::{RuleError, RuleHandler};
use ramguard_core::Parameters;
use ramguard_testkit::{put_config_rule, World, OUTSIDER};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const MEMBER_ROLE: &str = "ramguard-member";

fn org_parameters() -> Parameters {
    Parameters {
        execution_role_name: Some(MEMBER_ROLE.into()),
        ..Default::default()
    }
}

fn handler(base: &aws_config::SdkConfig) -> RuleHandler {
    RuleHandler::new(base.clone(), Some(RULE.into()), org_parameters())
}

/// The organization rule as Config shows it in `account`: `OrgConfigRule-<name>-<suffix>`.
async fn member_side_rule(world: &World, account: &str, region: &str, suffix: &str) -> String {
    let name = format!("OrgConfigRule-{RULE}-{suffix}");
    let cfg = world.standin.config_for(account).await;
    let cfg = cfg
        .to_builder()
        .region(Region::new(region.to_string()))
        .build();
    put_config_rule(
        &aws_sdk_config::Client::new(&cfg),
        &world.org.management,
        &name,
        json!({}),
    )
    .await;
    name
}

fn scheduled(world: &World, account: &str, rule: &str) -> Value {
    world.standin.rule_event(json!({
        "account": account, "ruleName": rule, "messageType": "ScheduledNotification",
        "ruleParameters": json!({"ExecutionRoleName": MEMBER_ROLE}).to_string(),
    }))
}

fn ram_call(account: &str, region: &str) -> Value {
    json!({
        "version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ram",
        "account": account, "time": "2026-11-23T10:00:00Z", "region": region, "resources": [],
        "detail": {"eventSource": "ram.amazonaws.com", "eventName": "AssociateResourceShare"}
    })
}

fn count(world: &World, account: &str, operation: &str) -> u64 {
    world
        .standin
        .calls(account)
        .iter()
        .filter(|c| c.operation == operation)
        .map(|c| c.count)
        .sum()
}

#[tokio::test]
async fn an_account_outside_the_organization_is_refused_and_nothing_is_reported() {
    let world = World::new(1).await;
    let rule = member_side_rule(&world, OUTSIDER, "us-east-1", "out12345").await;
    let event = scheduled(&world, OUTSIDER, &rule);
    let err = handler(&world.management)
        .handle(event.clone(), &world.org.management)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RuleError::Access(AccountAccess::NotAMember { account, .. }) if account == OUTSIDER),
        "{err}"
    );
    assert!(err.to_string().contains("is not a member of organization"));
    assert_eq!(count(&world, &world.org.management, "AssumeRole"), 0);

    let mut bad = event;
    bad["accountId"] = json!("1234567890123");
    let err = handler(&world.management)
        .handle(bad, &world.org.management)
        .await
        .unwrap_err();
    assert!(matches!(err, RuleError::BadEvent(_)), "{err}");
    assert!(err.to_string().contains("not a 12-digit account ID"));
}

#[tokio::test]
async fn a_member_without_the_member_role_is_skipped_until_the_stack_set_reaches_it() {
    let world = World::new(1).await;
    let member = world.org.members[0].clone();
    let rule = member_side_rule(&world, &member, "us-east-1", "a1b2c3d4").await;
    let member_ram = aws_sdk_ram::Client::new(&world.standin.config_for(&member).await);
    member_ram
        .create_resource_share()
        .name("to-outsider")
        .principals(OUTSIDER)
        .send()
        .await
        .unwrap();
    let h = handler(&world.management);
    let out = h
        .handle(scheduled(&world, &member, &rule), &world.org.management)
        .await
        .expect("a missing member role is not a failed invocation");
    assert_eq!(
        out.skipped.as_deref(),
        Some(format!("member role arn:aws:iam::{member}:role/{MEMBER_ROLE} unavailable").as_str())
    );
    assert_eq!(out.put_evaluations_calls, 0);
    assert_eq!(count(&world, &member, "PutEvaluations"), 0);
    // a change in that account is skipped the same way, and says what triggered it
    let change = world.standin.rule_event(json!({
        "account": member, "ruleName": rule, "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": {"resourceType": "AWS::RAM::ResourceShare", "resourceId": "abc"},
        "ruleParameters": json!({"ExecutionRoleName": MEMBER_ROLE}).to_string(),
    }));
    let out = h.handle(change, &world.org.management).await.unwrap();
    assert!(out.skipped.is_some(), "{out:?}");
    assert_eq!(out.trigger, ramguard_config_rule::Trigger::Change);

    // the StackSet reaches the account: the next run evaluates it
    world.standin.create_role(&member, MEMBER_ROLE);
    let assumed = count(&world, &world.org.management, "AssumeRole");
    let out = h
        .handle(scheduled(&world, &member, &rule), &world.org.management)
        .await
        .unwrap();
    assert_eq!(out.skipped, None);
    assert_eq!((out.non_compliant, out.put_evaluations_calls), (1, 1));
    // the role's credentials are fetched once: the up-front check's serve the calls too
    assert_eq!(
        count(&world, &world.org.management, "AssumeRole") - assumed,
        1
    );
}

#[tokio::test]
async fn ram_changes_start_the_rule_under_its_real_name_in_the_account_and_region_of_the_change() {
    let world = World::new(2).await;
    let (member, roleless) = (world.org.members[0].clone(), world.org.members[1].clone());
    world.standin.create_role(&member, MEMBER_ROLE);
    let in_member = member_side_rule(&world, &member, "eu-west-1", "x1y2z3w4").await;
    let in_management =
        member_side_rule(&world, &world.org.management, "us-east-1", "m9n8b7v6").await;
    let h = handler(&world.management);
    let started = |account: &str| -> Vec<(String, String)> {
        world
            .standin
            .started_evaluations()
            .into_iter()
            .filter(|s| s["account"] == json!(account))
            .map(|s| {
                (
                    s["ruleName"].as_str().unwrap().to_string(),
                    s["region"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };

    // runs end at once and may start again at once: each start below is its own
    world.standin.control(
        "POST",
        "/_standin/settings",
        json!({"account": member, "configEvaluationSeconds": 0, "configStartWindowSeconds": 0}),
    );
    // a member's change, forwarded to the central bus, in a second Region
    let out = h
        .handle(ram_call(&member, "eu-west-1"), &world.org.management)
        .await
        .unwrap();
    assert_eq!(out.evaluation_started, Some(true));
    assert_eq!(
        started(&member),
        vec![(in_member.clone(), "eu-west-1".to_string())]
    );
    // the management account holds the organization rule under its member-side name too
    let out = h
        .handle(
            ram_call(&world.org.management, "us-east-1"),
            &world.org.management,
        )
        .await
        .unwrap();
    assert_eq!(out.evaluation_started, Some(true));
    assert_eq!(
        started(&world.org.management),
        vec![(in_management, "us-east-1".to_string())]
    );
    // the name is looked up once per account and Region
    let describe = count(&world, &member, "DescribeConfigRules");
    h.handle(ram_call(&member, "eu-west-1"), &world.org.management)
        .await
        .unwrap();
    assert_eq!(count(&world, &member, "DescribeConfigRules"), describe);

    // an account without the member role: one warning, nothing started, no failure
    let out = h
        .handle(ram_call(&roleless, "us-east-1"), &world.org.management)
        .await
        .unwrap();
    assert_eq!(out.evaluation_started, Some(false));
    assert!(out.skipped.unwrap().contains("unavailable"));
    assert!(started(&roleless).is_empty());
    // an account outside the organization: refused
    let err = h
        .handle(ram_call(OUTSIDER, "us-east-1"), &world.org.management)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RuleError::Access(AccountAccess::NotAMember { .. })),
        "{err}"
    );
}

#[tokio::test]
async fn a_delegated_administrator_reads_the_organization_and_a_plain_member_cannot() {
    let world = World::new(2).await;
    let (admin, member) = (world.org.members[0].clone(), world.org.members[1].clone());
    aws_sdk_organizations::Client::new(&world.management)
        .register_delegated_administrator()
        .account_id(&admin)
        .service_principal("config-multiaccountsetup.amazonaws.com")
        .send()
        .await
        .expect("RegisterDelegatedAdministrator");
    world.standin.create_role(&member, MEMBER_ROLE);
    let rule = member_side_rule(&world, &member, "us-east-1", "d1e2f3a4").await;
    let admin_cfg = world.standin.config_for(&admin).await;
    let out = handler(&admin_cfg)
        .handle(scheduled(&world, &member, &rule), &admin)
        .await
        .expect("a delegated administrator may list the organization's accounts");
    assert_eq!(
        (out.account.as_str(), out.skipped.as_deref()),
        (member.as_str(), None)
    );
    assert_eq!(out.trigger, ramguard_config_rule::Trigger::Scheduled);

    // deployed in an account that is neither: the organization cannot be read, nothing is judged
    let member_cfg = world.standin.config_for(&member).await;
    let own_rule = member_side_rule(&world, &member, "us-east-1", "own12345").await;
    let err = handler(&member_cfg)
        .handle(scheduled(&world, &member, &own_rule), &member)
        .await
        .unwrap_err();
    assert!(matches!(err, RuleError::OrgSnapshot(_)), "{err}");
    assert!(err.to_string().contains("ListAccounts"), "{err}");
}
