//! The pipelined sweep at scale against the stand-in with per-call latency and RAM and Config
//! rate limits (one test: the stand-in's performance settings apply to the whole process).

use std::collections::BTreeMap;

use ramguard_config_rule::RuleHandler;
use ramguard_core::Parameters;
use ramguard_testkit::{compliance_results, World, OUTSIDER, REGION};
use serde_json::json;

const RULE: &str = "ramguard-ram-shares";
const SHARES: usize = 1_234;

#[tokio::test]
async fn a_pipelined_sweep_under_rate_limits_judges_exactly_like_a_sequential_one() {
    let world = World::new(3).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let members = &world.org.members;
    let resource = world.resource_arn(0);
    let mut expected = BTreeMap::new();
    let specs: Vec<_> = (0..SHARES)
        .map(|i| {
            let mut principals = vec![members[i % 3].clone(), members[(i + 1) % 3].clone()];
            if i % 7 == 0 {
                principals.push(format!("arn:aws:iam::{OUTSIDER}:role/partner{i}"));
            }
            json!({"name": format!("s{i}"), "principals": principals, "resources": [resource]})
        })
        .collect();
    let arns = world
        .standin
        .bulk_shares(&account, REGION, serde_json::Value::Array(specs));
    for (i, arn) in arns.iter().enumerate() {
        let want = if i % 7 == 0 {
            "NON_COMPLIANT"
        } else {
            "COMPLIANT"
        };
        expected.insert(arn.clone(), want.to_string());
    }
    world.standin.performance(json!({
        "latency": {"ram": {"fixedMs": 5}, "config": {"fixedMs": 5}},
        "rateLimits": [
            {"service": "ram", "operation": "GetResourceShareAssociations", "rate": 20, "burst": 2},
            {"service": "config", "operation": "PutEvaluations", "rate": 50, "burst": 4},
        ],
    }));
    // the functions' own retry policy, not the test harness's fast one
    let sdk = world
        .management
        .to_builder()
        .retry_config(ramguard_aws::retry_config())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(120))
                .build(),
        )
        .build();
    let (_, throttles_before) = ramguard_aws::calls::counts();
    let mut wide = RuleHandler::new(sdk.clone(), Some(RULE.into()), Parameters::default());
    wide.sweep_concurrency = 8;
    let event = world.standin.rule_event(json!({
        "account": account, "ruleName": RULE, "messageType": "ScheduledNotification",
    }));
    let out = wide.handle(event, &account).await.expect("pipelined sweep");
    let (_, throttles) = ramguard_aws::calls::counts();
    assert!(throttles > throttles_before, "the rate limits were reached");
    assert_eq!(out.compliant + out.non_compliant, SHARES);
    assert_eq!(out.put_evaluations_calls, SHARES.div_ceil(100));
    let held: BTreeMap<String, String> = compliance_results(&world.config(), RULE)
        .await
        .into_iter()
        .map(|(arn, (c, _))| (arn, c))
        .collect();
    assert_eq!(held, expected);
    // the calls are the bulk reads' and no more: 3 share pages, one association read of
    // ⌈1,000 or 234 shares' associations / 500⌉ pages per share page, 1 source page
    // calls answered: received minus those the rate limits refused
    let counts = world
        .standin
        .control("POST", "/_standin/calls", json!({ "account": account }));
    let mut calls: BTreeMap<String, i64> = BTreeMap::new();
    for (list, sign) in [("calls", 1), ("throttled", -1)] {
        for c in counts[list].as_array().expect("counts") {
            *calls
                .entry(c["operation"].as_str().unwrap_or_default().to_string())
                .or_default() += sign * c["count"].as_i64().unwrap_or_default();
        }
    }
    assert_eq!(calls["GetResourceShares"], 3);
    assert_eq!(calls["ListSourceAssociations"], 1);
    let associations: i64 = (0..SHARES as i64)
        .map(|i| if i % 7 == 0 { 3 } else { 2 })
        .sum();
    assert!(
        calls["GetResourceShareAssociations"] <= (associations + 499) / 500 + 3,
        "{calls:?}"
    );

    // the sequential baseline reaches the same verdicts: every COMPLIANT one is unchanged, the
    // NON_COMPLIANT ones are sent again (never left to a read-back that may lag)
    let non_compliant = expected.values().filter(|c| *c == "NON_COMPLIANT").count();
    assert!(non_compliant > 0);
    let mut narrow = RuleHandler::new(sdk.clone(), Some(RULE.into()), Parameters::default());
    narrow.sweep_concurrency = 1;
    let event = world.standin.rule_event(json!({
        "account": account, "ruleName": RULE, "messageType": "ScheduledNotification",
    }));
    let again = narrow
        .handle(event, &account)
        .await
        .expect("sequential sweep");
    world.standin.performance(json!({"clear": true}));
    assert_eq!(again.evaluations_unchanged, SHARES - non_compliant);
    assert_eq!(again.put_evaluations_calls, non_compliant.div_ceil(100));
    assert_eq!(again.non_compliant, non_compliant);
}
