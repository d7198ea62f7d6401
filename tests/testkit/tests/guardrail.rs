//! The preventive guardrail through the built config-rule function: the SCP the template deploys
//! refuses an external share in the stand-in, and each account's Config evaluation says whether
//! the SCPs in force on its path stop sharing outside the organization, whoever wrote them.

use std::collections::BTreeMap;

use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{guardrail_scp, put_config_rule, World, OUTSIDER, REGION};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const MEMBER_ROLE: &str = "ramguard-member";

/// The RAM user guide's "Example 1: Prevent external sharing", and the deny of outside
/// associations on shares that already allow external principals that completes it.
fn customer_scp() -> Value {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Action": ["ram:CreateResourceShare", "ram:UpdateResourceShare"], "Resource": "*",
         "Condition": {"Bool": {"ram:RequestedAllowsExternalPrincipals": "true"}}},
        {"Effect": "Deny", "Action": "ram:AssociateResourceShare", "Resource": "*",
         "Condition": {"Bool": {"ram:AllowsExternalPrincipals": "true"}}}]})
}

async fn external_share(world: &World, account: &str) -> Result<String, String> {
    let ram = aws_sdk_ram::Client::new(&world.standin.config_for(account).await);
    ram.create_resource_share()
        .name("to-outsider")
        .allow_external_principals(true)
        .principals(OUTSIDER)
        .send()
        .await
        .map(|o| {
            o.resource_share
                .and_then(|s| s.resource_share_arn)
                .unwrap_or_default()
        })
        .map_err(|e| format!("{}", aws_sdk_ram::error::DisplayErrorContext(e)))
}

/// The organization rule's account evaluation as Config holds it in `account`.
async fn account_result(world: &World, account: &str, rule: &str) -> (String, String) {
    let config = aws_sdk_config::Client::new(&world.standin.config_for(account).await);
    let out = config
        .get_compliance_details_by_config_rule()
        .config_rule_name(rule)
        .send()
        .await
        .expect("GetComplianceDetailsByConfigRule");
    out.evaluation_results
        .unwrap_or_default()
        .into_iter()
        .find_map(|r| {
            let q = r
                .evaluation_result_identifier?
                .evaluation_result_qualifier?;
            (q.resource_type.as_deref() == Some("AWS::::Account")
                && q.resource_id.as_deref() == Some(account))
            .then(|| {
                (
                    r.compliance_type
                        .map(|c| c.as_str().to_string())
                        .unwrap_or_default(),
                    r.annotation.unwrap_or_default(),
                )
            })
        })
        .expect("an AWS::::Account evaluation")
}

#[tokio::test]
async fn coverage_follows_the_scps_on_each_accounts_path() {
    let world = World::new(6).await;
    let m = world.org.members.clone();
    let root = world.org.root_id.clone();
    let guarded = world.ou(&root, "guarded").await;
    let sibling = world.ou(&root, "sibling").await;
    let allow_list = world.ou(&root, "allow-list").await;
    world.move_to(&m[0], &guarded.id).await; // under the template's guardrail
    world.move_to(&m[1], &sibling.id).await; // beside it: nothing of it applies
    world.move_to(&m[3], &allow_list.id).await; // an allow-list SCP without RAM
    world.enable_scps().await;
    world
        .scp("ramguard-ram-guardrail", &guardrail_scp(), &[&guarded.id])
        .await;
    world.scp("customer-ram", &customer_scp(), &[&m[2]]).await;
    let ec2_only = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:*", "s3:*", "sts:*", "config:*"], "Resource": "*"}]});
    world.scp("ec2-only", &ec2_only, &[&allow_list.id]).await;
    world.detach("p-FullAWSAccess", &allow_list.id).await;
    let misspelled = customer_scp()
        .to_string()
        .replace("RequestedAllowsExternal", "RequestedAllowExternal")
        .replace(
            "ram:AllowsExternalPrincipals",
            "ram:AllowExternalPrincipals",
        );
    world
        .scp(
            "customer-typo",
            &serde_json::from_str(&misspelled).unwrap(),
            &[&m[4]],
        )
        .await;
    // m[5] stays at the root: nothing but FullAWSAccess

    // the stand-in applies them: the guarded account is refused an external share, the others are not
    let refused = external_share(&world, &m[0])
        .await
        .expect_err("the guardrail refuses it");
    assert!(
        refused.contains("explicit deny in a service control policy"),
        "{refused}"
    );
    external_share(&world, &m[1])
        .await
        .expect("nothing stops the sibling OU's account");
    external_share(&world, &world.org.management)
        .await
        .expect("SCPs never apply to the management account");

    let parameters =
        json!({"ExecutionRoleName": MEMBER_ROLE, "GuardrailCoverage": "true"}).to_string();
    world.config_rule(RULE, json!({})).await;
    for member in &m {
        world.standin.create_role(member, MEMBER_ROLE);
        let config = aws_sdk_config::Client::new(&world.standin.config_for(member).await);
        put_config_rule(&config, &world.org.management, RULE, json!({})).await;
    }
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", world.org.management.as_str()),
            ("CONFIG_RULE_NAME", RULE),
        ],
    )
    .await;
    let mut states = BTreeMap::new();
    for account in std::iter::once(&world.org.management).chain(m.iter()) {
        let event = world.standin.rule_event(json!({
            "account": account, "ruleName": RULE, "region": REGION, "ruleParameters": parameters,
        }));
        let out = watch.invoke("config-rule", &event).expect("scheduled run");
        let state = out["guardrail"]["state"]
            .as_str()
            .expect("a coverage state")
            .to_string();
        states.insert(account.clone(), (state, out["guardrail"].clone()));
    }
    let state = |a: &str| states[a].0.as_str();
    assert_eq!(state(&world.org.management), "management-account");
    assert_eq!(state(&m[0]), "covered", "{}", states[&m[0]].1);
    assert_eq!(state(&m[1]), "uncovered");
    assert_eq!(
        state(&m[2]),
        "covered",
        "a customer SCP that denies the same counts"
    );
    assert_eq!(
        state(&m[3]),
        "covered",
        "an allow-list without RAM allows nothing of RAM"
    );
    assert_eq!(
        state(&m[4]),
        "uncovered",
        "a misspelled condition key denies nothing"
    );
    assert_eq!(state(&m[5]), "uncovered");
    let uncovered: Vec<&String> = states
        .iter()
        .filter(|(_, (s, _))| s != "covered")
        .map(|(a, _)| a)
        .collect();
    let mut expected = vec![&world.org.management, &m[1], &m[4], &m[5]];
    expected.sort();
    assert_eq!(uncovered, expected);

    // what stops it is named: the template's policy on the OU
    let by = &states[&m[0]].1["attempts"][0]["blockedBy"];
    assert_eq!(by["kind"], json!("denied"));
    assert_eq!(by["targetId"], json!(guarded.id));
    assert_eq!(by["sid"], json!("DenyExternalShares"));
    let allow_listed = &states[&m[3]].1["attempts"][0]["blockedBy"];
    assert_eq!(
        allow_listed,
        &json!({"kind": "notAllowed", "targetId": allow_list.id})
    );

    // and Config holds one evaluation per account
    let (compliance, annotation) = account_result(&world, &m[0], RULE).await;
    assert_eq!(compliance, "COMPLIANT");
    assert!(
        annotation.contains("ramguard-ram-guardrail"),
        "{annotation}"
    );
    let (compliance, annotation) = account_result(&world, &m[1], RULE).await;
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(
        annotation.contains("ram:CreateResourceShare"),
        "{annotation}"
    );
    let (compliance, annotation) = account_result(&world, &world.org.management, RULE).await;
    assert_eq!(compliance, "NOT_APPLICABLE");
    assert!(annotation.contains("management account"), "{annotation}");
}

#[tokio::test]
async fn without_scps_enabled_no_account_is_covered_and_unreadable_scps_fail_named() {
    let world = World::new(1).await;
    let member = world.org.members[0].clone();
    world.standin.create_role(&member, MEMBER_ROLE);
    let config = aws_sdk_config::Client::new(&world.standin.config_for(&member).await);
    put_config_rule(&config, &world.org.management, RULE, json!({})).await;
    // nothing kept between runs: the second run reads what changed
    let parameters = json!({"ExecutionRoleName": MEMBER_ROLE, "GuardrailCoverage": "true", "OrgCacheTtlSeconds": "0"}).to_string();
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", world.org.management.as_str()),
            ("CONFIG_RULE_NAME", RULE),
        ],
    )
    .await;
    let event = || {
        world
            .standin
            .rule_event(json!({"account": member, "ruleName": RULE, "ruleParameters": parameters}))
    };
    let out = watch
        .invoke("config-rule", &event())
        .expect("scheduled run");
    assert_eq!(out["guardrail"]["state"], json!("scps-not-enabled"));
    assert_eq!(
        account_result(&world, &member, RULE).await.0,
        "NON_COMPLIANT"
    );

    // Organizations refuses the policy reads: the shares are judged, the invocation fails named
    world.standin.inject_fault(ramguard_testkit::Fault::always(
        "organizations",
        "ListPoliciesForTarget",
        "AccessDeniedException",
        &world.org.management,
    ));
    world.enable_scps().await;
    let err = watch
        .invoke("config-rule", &event())
        .map(|ok| panic!("the coverage cannot be judged, yet: {ok}"))
        .unwrap_err();
    assert!(err.contains("GuardrailUnreadable"), "{err}");
}

/// Config's compliance change of an account's own evaluation.
fn account_change(account: &str, new: &str) -> Value {
    let mut event = ramguard_testkit::compliance_change(RULE, account, account, new, None);
    event["detail"]["resourceType"] = json!("AWS::::Account");
    event["detail"]["newEvaluationResult"]["evaluationResultIdentifier"]
        ["evaluationResultQualifier"]["resourceType"] = json!("AWS::::Account");
    event
}

async fn guardrail_findings(world: &World, account: &str) -> Vec<Value> {
    let hub = aws_sdk_securityhub::Client::new(&world.standin.config_for(account).await);
    let out = hub.get_findings().send().await.expect("GetFindings");
    out.findings
        .unwrap_or_default()
        .into_iter()
        .filter(|f| f.generator_id.as_deref() == Some("ramguard/ram-guardrail-coverage"))
        .map(|f| {
            json!({
                "id": f.id,
                "severity": f.severity.and_then(|s| s.label).map(|l| l.as_str().to_string()),
                "status": f.compliance.and_then(|c| c.status).map(|s| s.as_str().to_string()),
                "record": f.record_state.map(|r| r.as_str().to_string()),
                "description": f.description,
            })
        })
        .collect()
}

#[tokio::test]
async fn the_importer_keeps_one_finding_per_account_without_the_guardrail() {
    let world = World::new(1).await;
    let member = world.org.members[0].clone();
    let mgmt = world.org.management.clone();
    world.standin.create_role(&member, MEMBER_ROLE);
    world.enable_scps().await;
    for account in [&member, &mgmt] {
        world.enable_security_hub(account).await;
    }
    let watch = LambdaWatch::start(
        world.standin.url(),
        &world.management,
        &[
            ("RAMGUARD_ACCOUNT_ID", mgmt.as_str()),
            ("CONFIG_RULE_NAME", RULE),
            ("ExecutionRoleName", MEMBER_ROLE),
            ("OrgCacheTtlSeconds", "0"),
        ],
    )
    .await;

    // nothing stops the member: MEDIUM, with what is open and the organization's sharing state
    let out = watch
        .invoke(
            "findings-importer",
            &account_change(&member, "NON_COMPLIANT"),
        )
        .expect("import");
    assert_eq!(out["coverage"], json!("uncovered"));
    let found = guardrail_findings(&world, &member).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], json!("MEDIUM"));
    assert_eq!(found[0]["status"], json!("FAILED"));
    let description = found[0]["description"].as_str().unwrap();
    assert!(
        description
            .contains("CreateResourceShare with a principal outside the organization: allowed"),
        "{description}"
    );
    assert!(
        description.contains("RAM sharing with the organization is enabled"),
        "{description}"
    );

    // the management account: INFORMATIONAL, never covered
    watch
        .invoke(
            "findings-importer",
            &account_change(&mgmt, "NOT_APPLICABLE"),
        )
        .expect("import");
    let found = guardrail_findings(&world, &mgmt).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0]["severity"].clone(), found[0]["status"].clone()),
        (json!("INFORMATIONAL"), json!("WARNING"))
    );

    // the guardrail reaches the member: the event may still say NON_COMPLIANT, the live SCPs win
    world
        .scp("ramguard-ram-guardrail", &guardrail_scp(), &[&member])
        .await;
    let out = watch
        .invoke("findings-importer", &account_change(&member, "COMPLIANT"))
        .expect("import");
    assert_eq!(out["coverage"], json!("covered"));
    let found = guardrail_findings(&world, &member).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["record"], json!("ARCHIVED"));
    assert_eq!(found[0]["status"], json!("PASSED"));
}
