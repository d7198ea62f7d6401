//! The rule on RAM's whole sharing model, against the stand-in: source constraints of service
//! principals, retained access on leaving the organization, suspended associations, principals
//! of another partition or naming our organization under another management account.

use aws_sdk_ram::types::ResourceShareConfiguration;
use ramguard_config_rule::RuleHandler;
use ramguard_core::Parameters;
use ramguard_testkit::{compliance_results, create_share, World, OUTSIDER};
use serde_json::json;

const RULE: &str = "ramguard-ram-shares";

async fn sweep(world: &World, params: serde_json::Value) {
    let event = world.standin.rule_event(json!({
        "account": world.org.management, "ruleName": RULE,
        "messageType": "ScheduledNotification", "ruleParameters": params.to_string(),
    }));
    RuleHandler::new(
        world.management.clone(),
        Some(RULE.into()),
        Parameters::default(),
    )
    .handle(event, &world.org.management)
    .await
    .expect("sweep");
}

#[tokio::test]
async fn a_service_principal_acting_for_an_outside_source_is_non_compliant() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let member = world.org.members[0].clone();
    let create = |name: &str, sources: Vec<String>| {
        create_share(
            world
                .ram()
                .create_resource_share()
                .name(name)
                .principals("logs.amazonaws.com")
                .set_sources(Some(sources)),
        )
    };
    let outside = create("outside-source", vec![member.clone(), OUTSIDER.into()]).await;
    let inside = create(
        "inside-source",
        vec![member.clone(), format!("{}/r-ab12/", world.org.id)],
    )
    .await;
    sweep(&world, json!({})).await;
    let got = compliance_results(&world.config(), RULE).await;
    assert_eq!(
        got[&outside],
        (
            "NON_COMPLIANT".into(),
            format!("1 principal outside the organization: logs.amazonaws.com (source {OUTSIDER})")
        )
    );
    assert_eq!(got[&inside].0, "COMPLIANT");
}

#[tokio::test]
async fn retained_access_on_leave_is_non_compliant_in_strict_mode() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let share = create_share(
        world
            .ram()
            .create_resource_share()
            .name("retains")
            .allow_external_principals(false)
            .principals(world.org.members[0].as_str())
            .resource_share_configuration(
                ResourceShareConfiguration::builder()
                    .retain_sharing_on_account_leave_organization(true)
                    .build(),
            ),
    )
    .await;
    sweep(&world, json!({})).await;
    let got = compliance_results(&world.config(), RULE).await;
    assert_eq!(got[&share].0, "COMPLIANT");
    assert!(got[&share]
        .1
        .contains("retainSharingOnAccountLeaveOrganization=true"));
    sweep(&world, json!({"FlagAllowExternalPrincipals": "true"})).await;
    let got = compliance_results(&world.config(), RULE).await;
    assert_eq!(
        got[&share],
        (
            "NON_COMPLIANT".into(),
            "Accounts keep access to the share after they leave the organization (retainSharingOnAccountLeaveOrganization=true).".into()
        )
    );
}

#[tokio::test]
async fn foreign_partitions_and_management_accounts_are_not_inside() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let member = world.org.members[0].clone();
    let share = world.share("odd-forms", true, &[member.as_str()]).await;
    let suspended = world.share("suspended", true, &[OUTSIDER]).await;
    // forms RAM may report that ramguard must not take for inside: our member's role under
    // another partition, and our organization id under another management account
    let gov_role = format!("arn:aws-us-gov:iam::{member}:role/app");
    let other_mgmt = format!(
        "arn:aws:organizations::999999999999:organization/{}",
        world.org.id
    );
    world
        .standin
        .set_share_state(json!({"shareArn": share, "associations": [
            {"entity": gov_role, "status": "ASSOCIATED"},
            {"entity": other_mgmt, "status": "ASSOCIATED"},
        ]}));
    world
        .standin
        .set_share_state(json!({"shareArn": suspended, "associations": [
            {"entity": OUTSIDER, "status": "SUSPENDED"},
        ]}));
    sweep(&world, json!({})).await;
    let got = compliance_results(&world.config(), RULE).await;
    assert_eq!(got[&share].0, "NON_COMPLIANT");
    assert!(got[&share].1.contains(&gov_role), "{}", got[&share].1);
    assert!(got[&share].1.contains(&other_mgmt), "{}", got[&share].1);
    assert_eq!(
        got[&suspended].0, "NON_COMPLIANT",
        "a suspended association is exposure"
    );
}
