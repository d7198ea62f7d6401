//! The config rule against the stand-in, through the real SDK.

use ramguard_aws::credentials::AccountAccess;
use std::collections::BTreeMap;

use ramguard_config_rule::{RuleError, RuleHandler};
use ramguard_core::Parameters;
use ramguard_testkit::{
    compliance_results, put_config_rule, standin, Fault, ShareSpec, World, OUTSIDER,
};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";

async fn handler(world: &World) -> RuleHandler {
    RuleHandler::new(
        world.management.clone(),
        Some(RULE.into()),
        Parameters::default(),
    )
}

fn scheduled(world: &World, account: &str, params: Value) -> Value {
    world.standin.rule_event(json!({
        "account": account,
        "ruleName": RULE,
        "messageType": "ScheduledNotification",
        "ruleParameters": params.to_string(),
    }))
}

async fn results(config: &aws_sdk_config::Client) -> BTreeMap<String, (String, String)> {
    compliance_results(config, RULE).await
}

#[tokio::test]
async fn sweep_judges_every_principal_form_and_status() {
    let world = World::new(2).await;
    world.config_rule(RULE, json!({})).await;
    let member = world.org.members[0].as_str();
    let role_in = format!("arn:aws:iam::{member}:role/app");
    let role_out = format!("arn:aws:iam::{OUTSIDER}:role/partner");
    let inside = world
        .share(
            "inside",
            true,
            &[
                member,
                &world.org.arn,
                &world.org.nested_ou.arn,
                &role_in,
                "logs.amazonaws.com",
            ],
        )
        .await;
    let accepted = world.share("accepted", true, &[OUTSIDER]).await;
    world.accept_invitations(OUTSIDER).await;
    let pending = world.share("pending", true, &["888888888888"]).await;
    let iam_out = world.share("iam-outside", true, &[&role_out]).await;
    let fixed = world.share("fixed", true, &["777777777777", member]).await;
    world.remove_principal(&fixed, "777777777777").await;
    let exempt = world
        .share_with(ShareSpec {
            name: "exempt",
            allow_external: true,
            principals: &["666666666666"],
            tags: &[("ramguard:exempt", "true:approved by secops")],
        })
        .await;
    // a tag value that is neither a date nor `true` exempts nothing, and the annotation says so
    let not_exempt = world
        .share_with(ShareSpec {
            name: "not-exempt",
            allow_external: true,
            principals: &["656565656565"],
            tags: &[("ramguard:exempt", "false")],
        })
        .await;
    let deleted = world.share("deleted", true, &["555555555555"]).await;
    world.delete_share(&deleted).await;

    let outcome = handler(&world)
        .await
        .handle(
            scheduled(&world, &world.org.management, json!({})),
            &world.org.management,
        )
        .await
        .expect("sweep");
    assert_eq!(
        (
            outcome.compliant,
            outcome.non_compliant,
            outcome.not_applicable
        ),
        (2, 4, 2)
    );
    let m: Value =
        serde_json::from_str(&ramguard_config_rule::metrics(&outcome, 3).record()).unwrap();
    assert_eq!(
        (
            m["SharesJudged"].as_u64(),
            m["NonCompliantShares"].as_u64(),
            m["OutsidePrincipals"].as_u64()
        ),
        (Some(8), Some(4), Some(4))
    );
    assert_eq!(m["_aws"]["CloudWatchMetrics"][0]["Namespace"], "ramguard");

    let got = results(&world.config()).await;
    assert_eq!(got[&inside].0, "COMPLIANT");
    assert_eq!(got[&fixed].0, "COMPLIANT");
    assert_eq!(
        got[&accepted],
        (
            "NON_COMPLIANT".into(),
            format!("1 principal outside the organization: {OUTSIDER}")
        )
    );
    assert_eq!(
        got[&pending].0, "NON_COMPLIANT",
        "a pending invitation is exposure"
    );
    assert!(got[&iam_out].1.contains(&role_out));
    assert_eq!(got[&exempt].0, "NOT_APPLICABLE");
    assert_eq!(
        got[&not_exempt],
        (
            "NON_COMPLIANT".into(),
            "1 principal outside the organization: 656565656565 Tag ramguard:exempt=\"false\" is not a valid exemption (a date, or true) and exempts nothing.".into()
        )
    );
    assert_eq!(got[&deleted].0, "NOT_APPLICABLE");
}

#[tokio::test]
async fn trusted_accounts_strict_mode_and_service_principals_follow_parameters() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let partner = world.share("partner", true, &[OUTSIDER]).await;
    let service = world.share("service", true, &["logs.amazonaws.com"]).await;
    let open = world
        .share("open", true, &[world.org.members[0].as_str()])
        .await;
    let params = json!({
        "TrustedAccountIds": OUTSIDER,
        "ServicePrincipals": "flag",
        "FlagAllowExternalPrincipals": "true",
    });
    handler(&world)
        .await
        .handle(
            scheduled(&world, &world.org.management, params),
            &world.org.management,
        )
        .await
        .unwrap();
    let got = results(&world.config()).await;
    assert_eq!(got[&service].0, "NON_COMPLIANT");
    assert!(got[&open].1.contains("allowExternalPrincipals"));
    assert!(
        got[&partner].1.contains("allowExternalPrincipals"),
        "trusted, but strict mode flags the open share"
    );
}

#[tokio::test]
async fn many_shares_and_associations_are_read_in_bulk() {
    let world = World::new(3).await;
    world.config_rule(RULE, json!({})).await;
    let ram = world.ram();
    let m = &world.org.members;
    for i in 0..520 {
        let mut req = ram
            .create_resource_share()
            .name(format!("bulk-{i}"))
            .principals(&m[0])
            .principals(&m[1]);
        req = if i % 4 == 0 {
            req.principals(OUTSIDER)
        } else {
            req.principals(&m[2])
        };
        req.send().await.unwrap();
    }
    let account = world.org.management.clone();
    standin().control("DELETE", "/_standin/calls", Value::Null);
    let outcome = handler(&world)
        .await
        .handle(scheduled(&world, &account, json!({})), &account)
        .await
        .unwrap();
    assert_eq!((outcome.compliant, outcome.non_compliant), (390, 130));
    assert_eq!(outcome.put_evaluations_calls, 6);
    // the result stays small: at most 100 NON_COMPLIANT shares listed, the rest counted
    assert_eq!(
        (
            outcome.verdicts.len(),
            outcome.verdicts_omitted,
            outcome.outside_principals
        ),
        (100, 30, 130)
    );
    assert!(serde_json::to_vec(&outcome).unwrap().len() < 64 * 1024);
    let calls: BTreeMap<_, _> = standin()
        .calls(&account)
        .into_iter()
        .map(|c| (c.operation, c.count))
        .collect();
    assert_eq!(
        calls["GetResourceShares"], 2,
        "520 shares: two pages of 500"
    );
    assert_eq!(
        calls["GetResourceShareAssociations"], 4,
        "1,560 associations: four pages of 500"
    );
    assert_eq!(calls["PutEvaluations"], 6);
    assert_eq!(calls["ListSourceAssociations"], 1, "no sources: one page");
    assert_eq!(results(&world.config()).await.len(), 520);
}

#[tokio::test]
async fn a_share_evaluated_before_and_gone_now_becomes_not_applicable() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let vanished = format!("arn:aws:ram:us-east-1:{account}:resource-share/vanished");
    let token = scheduled(&world, &account, json!({}))["resultToken"]
        .as_str()
        .unwrap()
        .to_string();
    ramguard_aws::config::put_evaluations(
        &world.config(),
        &token,
        &[ramguard_aws::config::ShareEvaluation {
            resource_id: vanished.clone(),
            compliance: ramguard_core::Compliance::NonCompliant,
            annotation: "earlier".into(),
        }],
        aws_smithy_types::DateTime::from_secs(1_700_000_000),
    )
    .await
    .unwrap();
    handler(&world)
        .await
        .handle(scheduled(&world, &account, json!({})), &account)
        .await
        .unwrap();
    assert_eq!(
        results(&world.config()).await[&vanished].0,
        "NOT_APPLICABLE"
    );
}

#[tokio::test]
async fn change_notifications_re_read_the_share_live() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let share = world.share("changed", true, &[OUTSIDER]).await;
    let change = |status: &str, left: bool, oversized: bool| {
        let item = json!({"resourceType": "AWS::RAM::ResourceShare", "resourceId": share, "ARN": share,
                          "configurationItemStatus": status, "awsAccountId": account, "awsRegion": "us-east-1"});
        let mut spec = json!({"account": account, "ruleName": RULE, "eventLeftScope": left});
        if oversized {
            spec["messageType"] = json!("OversizedConfigurationItemChangeNotification");
            spec["configurationItemSummary"] = item;
        } else {
            spec["messageType"] = json!("ConfigurationItemChangeNotification");
            spec["configurationItem"] = item;
        }
        world.standin.rule_event(spec)
    };
    let h = handler(&world).await;
    let out = h
        .handle(change("OK", false, false), &account)
        .await
        .unwrap();
    assert_eq!(out.non_compliant, 1);
    let out = h.handle(change("OK", false, true), &account).await.unwrap();
    assert_eq!(out.non_compliant, 1);
    let out = h.handle(change("OK", true, false), &account).await.unwrap();
    assert_eq!(out.not_applicable, 1);
    assert_eq!(results(&world.config()).await[&share].0, "NOT_APPLICABLE");
    let out = h
        .handle(change("ResourceDeleted", false, false), &account)
        .await
        .unwrap();
    assert_eq!(out.not_applicable, 1);
}

#[tokio::test]
async fn org_wide_mode_acts_in_the_member_account_through_its_role() {
    let world = World::new(2).await;
    let member = world.org.members[1].clone();
    let member_cfg = world.standin.config_for(&member).await;
    world.standin.create_role(&member, "ramguard-member");
    put_config_rule(
        &aws_sdk_config::Client::new(&member_cfg),
        &world.org.management,
        RULE,
        json!({}),
    )
    .await;
    let share = aws_sdk_ram::Client::new(&member_cfg)
        .create_resource_share()
        .name("member-share")
        .principals(OUTSIDER)
        .send()
        .await
        .unwrap()
        .resource_share
        .unwrap()
        .resource_share_arn
        .unwrap();
    let event = scheduled(
        &world,
        &member,
        json!({"ExecutionRoleName": "ramguard-member"}),
    );
    let out = handler(&world)
        .await
        .handle(event, &world.org.management)
        .await
        .unwrap();
    assert_eq!(out.non_compliant, 1);
    let got = results(&aws_sdk_config::Client::new(&member_cfg)).await;
    assert_eq!(got[&share].0, "NON_COMPLIANT");

    let event = scheduled(&world, &member, json!({}));
    let err = handler(&world)
        .await
        .handle(event, &world.org.management)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RuleError::Access(AccountAccess::NoExecutionRole(_))),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_on_ram_and_organizations_loses_no_evaluation() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    for i in 0..3 {
        world.share(&format!("t{i}"), true, &[OUTSIDER]).await;
    }
    for (service, op) in [
        ("ram", "GetResourceShares"),
        ("ram", "GetResourceShareAssociations"),
        ("organizations", "ListAccounts"),
    ] {
        world
            .standin
            .inject_fault(Fault::throttle(service, op, &account, 2));
    }
    let (calls_before, throttles_before) = ramguard_aws::calls::counts();
    let out = handler(&world)
        .await
        .handle(scheduled(&world, &account, json!({})), &account)
        .await
        .unwrap();
    assert_eq!(out.non_compliant, 3);
    assert_eq!(results(&world.config()).await.len(), 3);
    // the call counter saw the attempts and the six throttled ones (other tests of this
    // process may add to the same counters, never take from them)
    let (calls, throttles) = ramguard_aws::calls::counts();
    assert!(
        throttles - throttles_before >= 6,
        "{}",
        throttles - throttles_before
    );
    assert!(calls - calls_before >= 6 + 6, "{}", calls - calls_before);
}

#[tokio::test]
async fn bad_input_is_an_error_and_reports_nothing() {
    let world = World::new(0).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    world.share("x", true, &[OUTSIDER]).await;
    let h = handler(&world).await;
    let good = scheduled(&world, &account, json!({}));
    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut e = good.clone();
                e["invokingEvent"] = json!("{not json");
                e
            },
            "invokingEvent",
        ),
        (
            {
                let mut e = good.clone();
                e["invokingEvent"] = json!(json!({"messageType": "Nonsense"}).to_string());
                e
            },
            "messageType",
        ),
        (
            {
                let mut e = good.clone();
                e["ruleParameters"] = json!("[1,2]");
                e
            },
            "rule parameters",
        ),
        (
            {
                let mut e = good.clone();
                e["ruleParameters"] = json!("{\"TrustedAccountIds\":\"12\"}");
                e
            },
            "TrustedAccountIds",
        ),
        (
            {
                let mut e = good.clone();
                e.as_object_mut().unwrap().remove("resultToken");
                e
            },
            "resultToken",
        ),
        (json!({"hello": "world"}), "neither"),
    ];
    for (event, needle) in cases {
        let err = h.handle(event, &account).await.unwrap_err();
        assert!(
            err.to_string().contains(needle),
            "{err} should name {needle}"
        );
    }
    assert!(results(&world.config()).await.is_empty());

    // a failing org snapshot is an error, never a COMPLIANT
    world.standin.inject_fault(Fault::always(
        "organizations",
        "ListAccounts",
        "AccessDeniedException",
        &account,
    ));
    let err = h.handle(good, &account).await.unwrap_err();
    assert!(matches!(err, RuleError::OrgSnapshot(_)), "{err}");
    assert!(results(&world.config()).await.is_empty());
}

#[tokio::test]
async fn cloudtrail_events_start_an_evaluation_and_tolerate_one_in_progress() {
    let world = World::new(0).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let event = |name: &str, source: &str| {
        json!({
            "version": "0", "id": "e", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ram",
            "account": account, "time": "2026-11-23T10:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {"eventSource": source, "eventName": name}
        })
    };
    let h = handler(&world).await;
    let out = h
        .handle(
            event("AssociateResourceShare", "ram.amazonaws.com"),
            &account,
        )
        .await
        .unwrap();
    assert_eq!(out.evaluation_started, Some(true));
    // refused (a run in progress, or one started less than a minute ago) and no queue to defer
    // it to: the invocation fails so that its trigger retries it, never taken as covered
    let err = h
        .handle(event("CreateResourceShare", "ram.amazonaws.com"), &account)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("LimitExceededException") && text.contains("DEFERRED_EVALUATIONS_QUEUE_URL"),
        "{text}"
    );
    let out = h
        .handle(event("GetResourceShares", "ram.amazonaws.com"), &account)
        .await
        .unwrap();
    assert_eq!(out.evaluation_started, Some(false));
    let started: Vec<_> = world
        .standin
        .started_evaluations()
        .into_iter()
        .filter(|s| s["account"] == json!(account))
        .collect();
    assert_eq!(started.len(), 1);
    // a refusal is answered at once: one call each, no retries
    let calls: u64 = world
        .standin
        .calls(&account)
        .iter()
        .filter(|c| c.operation == "StartConfigRulesEvaluation")
        .map(|c| c.count)
        .sum();
    assert_eq!(calls, 2);
}

#[tokio::test]
async fn an_ordering_timestamp_in_the_future_is_clamped_to_now() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    world.share("s", true, &[OUTSIDER]).await;
    let event = world.standin.rule_event(json!({
        "account": world.org.management, "ruleName": RULE,
        "notificationCreationTime": "9999-12-31T23:59:59.999Z",
    }));
    handler(&world)
        .await
        .handle(event, &world.org.management)
        .await
        .unwrap();
    let results = world
        .config()
        .get_compliance_details_by_config_rule()
        .config_rule_name(RULE)
        .send()
        .await
        .unwrap();
    let ordering = results.evaluation_results()[0]
        .evaluation_result_identifier()
        .unwrap()
        .ordering_timestamp()
        .unwrap()
        .secs();
    let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now()).secs();
    assert!(
        ordering <= now && ordering > now - 600,
        "{ordering} vs {now}"
    );
}

#[tokio::test]
async fn the_org_snapshot_is_cached_for_its_ttl() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let h = handler(&world).await;
    // one snapshot of this organization is one ListAccounts page
    let describe_calls = || {
        world
            .standin
            .calls(&account)
            .into_iter()
            .filter(|c| c.operation == "ListAccounts")
            .map(|c| c.count)
            .sum::<u64>()
    };
    let before = describe_calls();
    for _ in 0..2 {
        h.handle(scheduled(&world, &account, json!({})), &account)
            .await
            .expect("sweep");
    }
    assert_eq!(describe_calls() - before, 1, "one snapshot within the TTL");
    for _ in 0..2 {
        let no_cache = json!({"OrgCacheTtlSeconds": "0"});
        h.handle(scheduled(&world, &account, no_cache), &account)
            .await
            .expect("sweep");
    }
    assert_eq!(
        describe_calls() - before,
        3,
        "TTL 0 reads the organization every time"
    );
}

#[tokio::test]
async fn a_steady_sweep_sends_only_what_changed_and_a_deleted_share_becomes_not_applicable() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    let member = world.org.members[0].clone();
    let outside = world.share("outside", true, &[OUTSIDER]).await;
    let inside = world.share("inside", true, &[&member]).await;
    let gone = world.share("gone", true, &[&member]).await;
    let h = handler(&world).await;
    let sweep = || async {
        h.handle(scheduled(&world, &account, json!({})), &account)
            .await
            .expect("sweep")
    };

    let first = sweep().await;
    assert_eq!((first.compliant, first.non_compliant), (2, 1));
    assert_eq!(first.evaluations_unchanged, 0);
    let before = results(&world.config()).await;
    assert_eq!(before.len(), 3);

    // nothing changed: the COMPLIANT results stand; the NON_COMPLIANT one is sent again (a
    // read-back that lags must never keep an exposure from being reported): one call
    let steady = sweep().await;
    assert_eq!((steady.compliant, steady.non_compliant), (2, 1));
    assert_eq!(steady.evaluations_unchanged, 2);
    assert_eq!(steady.put_evaluations_calls, 1);
    let m: Value =
        serde_json::from_str(&ramguard_config_rule::metrics(&steady, 3).record()).unwrap();
    assert_eq!(
        (
            m["SharesJudged"].as_u64(),
            m["EvaluationsUnchanged"].as_u64()
        ),
        (Some(3), Some(2))
    );
    let held = results(&world.config()).await;
    assert_eq!(held.len(), before.len());
    for (arn, result) in &before {
        assert_eq!(&held[arn].0, &result.0, "{arn}");
    }

    // one share gains an outsider, one is deleted: those two are sent, with the outsider's share
    world
        .add_principal(&inside, &format!("arn:aws:iam::{OUTSIDER}:role/partner"))
        .await;
    world.delete_share(&gone).await;
    let changed = sweep().await;
    assert_eq!(changed.evaluations_unchanged, 0, "{changed:?}");
    let after = results(&world.config()).await;
    assert_eq!(after[&outside], before[&outside]);
    assert_eq!(after[&inside].0, "NON_COMPLIANT");
    assert_eq!(after[&gone].0, "NOT_APPLICABLE", "{after:?}");
}

#[tokio::test]
async fn a_listing_that_fails_calls_no_share_gone() {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    let account = world.org.management.clone();
    world.share("a", true, &[OUTSIDER]).await;
    world.share("b", true, &[&world.org.members[0]]).await;
    let h = handler(&world).await;
    h.handle(scheduled(&world, &account, json!({})), &account)
        .await
        .expect("sweep");
    let before = results(&world.config()).await;
    world.standin.inject_fault(Fault::always(
        "ram",
        "GetResourceShareAssociations",
        "AccessDeniedException",
        &account,
    ));
    let err = h
        .handle(scheduled(&world, &account, json!({})), &account)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("GetResourceShareAssociations"),
        "{err}"
    );
    assert_eq!(results(&world.config()).await, before, "no result replaced");
}
