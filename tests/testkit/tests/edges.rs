//! The three built functions through the Lambda Runtime API against the stand-in answering the
//! rare ways AWS documents: empty first pages, StartConfigRulesEvaluation refused within a
//! minute, RAM's own events, a principal RAM will not remove, DISASSOCIATING that takes time, a
//! restriction refused without organization sharing, Security Hub not enabled, refused
//! concurrent PutEvaluations and a lagging compliance read-back.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{compliance_change, compliance_results, Fault, World, OUTSIDER, REGION};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";

/// Every paginated operation the three functions call.
const LISTINGS: [&str; 9] = [
    "GetResourceShares",
    "GetResourceShareAssociations",
    "ListSourceAssociations",
    "ListResources",
    "ListResourceSharePermissions",
    "GetComplianceDetailsByConfigRule",
    "DescribeConfigRules",
    "GetFindings",
    "ListAccounts",
];

async fn watch(world: &World, env: &[(&str, &str)]) -> LambdaWatch {
    let account = world.org.management.clone();
    let mut all = vec![
        ("RAMGUARD_ACCOUNT_ID", account.as_str()),
        ("CONFIG_RULE_NAME", RULE),
    ];
    all.extend_from_slice(env);
    LambdaWatch::start(world.standin.url(), &world.management, &all).await
}

fn change_event(world: &World, share: &str) -> Value {
    let account = &world.org.management;
    world.standin.rule_event(json!({
        "account": account,
        "ruleName": RULE,
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": {"resourceType": "AWS::RAM::ResourceShare", "resourceId": share, "ARN": share},
    }))
}

fn sweep_event(world: &World) -> Value {
    world
        .standin
        .rule_event(json!({"account": world.org.management, "ruleName": RULE}))
}

fn cloudtrail(account: &str, name: &str) -> Value {
    json!({
        "version": "0", "id": format!("ct-{name}-{}", rand_id()), "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ram", "account": account, "time": "2026-12-06T10:00:00Z", "region": REGION,
        "resources": [],
        "detail": {"eventSource": "ram.amazonaws.com", "eventName": name, "awsRegion": REGION}
    })
}

/// `text` without white space or the frame cargo lambda draws around an error, so that a long
/// word it wrapped is found whole.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '│')
        .collect()
}

fn rand_id() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn status_of(world: &World, share: &str, principal: &str) -> String {
    world
        .statuses(&world.org.management, share)
        .await
        .remove(principal)
        .unwrap_or_default()
}

#[tokio::test]
async fn empty_first_pages_hide_no_live_exposure() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.config_rule(RULE, json!({})).await;
    world.enable_security_hub(&mgmt).await;
    let share = world.share("behind-empty-pages", true, &[OUTSIDER]).await;
    world
        .standin
        .settings(&mgmt, json!({"emptyFirstPage": LISTINGS}));
    let w = watch(&world, &[("REMEDIATION_MODE", "enforce")]).await;

    let rule = w
        .invoke("config-rule", &change_event(&world, &share))
        .expect("rule");
    assert_eq!(rule["nonCompliant"], json!(1), "{rule}");
    let results = compliance_results(&world.config(), RULE).await;
    assert_eq!(results[&share].0, "NON_COMPLIANT");

    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", Some("COMPLIANT"));
    let imported = w.invoke("findings-importer", &change).expect("importer");
    assert_eq!(
        imported["liveCompliance"],
        json!("NON_COMPLIANT"),
        "{imported}"
    );
    assert_eq!(
        imported["imported"].as_array().map(Vec::len),
        Some(1),
        "{imported}"
    );

    let fixed = w.invoke("remediator", &change).expect("remediator");
    assert_eq!(
        fixed["shares"][0]["outcome"],
        json!("remediated"),
        "{fixed}"
    );
    assert!(matches!(
        status_of(&world, &share, OUTSIDER).await.as_str(),
        "DISASSOCIATING" | "DISASSOCIATED"
    ));
    // the sweep pages too, and its read-back: the share is judged COMPLIANT once fixed
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep");
    assert_eq!(swept["nonCompliant"], json!(0), "{swept}");
}

async fn deferral_queue(world: &World, delay: u64) -> (aws_sdk_sqs::Client, String) {
    let sqs = aws_sdk_sqs::Client::new(&world.management);
    let url = sqs
        .create_queue()
        .queue_name(format!("deferred-{}.fifo", world.org.management))
        .attributes(QueueAttributeName::FifoQueue, "true")
        .attributes(QueueAttributeName::DelaySeconds, delay.to_string())
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("queue url");
    (sqs, url)
}

/// Plays Lambda's SQS poller once: the messages visible now, as the event it delivers; the
/// messages the function did not report in batchItemFailures are deleted.
async fn deliver(sqs: &aws_sdk_sqs::Client, url: &str, w: &LambdaWatch) -> (usize, Value) {
    let got = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("ReceiveMessage");
    let messages = got.messages.unwrap_or_default();
    if messages.is_empty() {
        return (0, Value::Null);
    }
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
                   "attributes": {}, "messageAttributes": {}, "eventSource": "aws:sqs",
                   "eventSourceARN": format!("arn:aws:sqs:{REGION}:000000000000:deferred.fifo"),
                   "awsRegion": REGION})
        })
        .collect();
    let out = w
        .invoke("config-rule", &json!({"Records": records}))
        .expect("deferred batch");
    let failed: Vec<&str> = out["batchItemFailures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["itemIdentifier"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for m in &messages {
        if !failed.contains(&m.message_id.as_deref().unwrap_or_default()) {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
        }
    }
    (messages.len(), out)
}

/// A world whose Config refuses a start within `window` seconds of the last one and keeps a run
/// going `run_seconds`, its deferral queue (delay = the window), and the functions wired to it.
async fn deferring_world(
    window: u64,
    run_seconds: u64,
) -> (World, aws_sdk_sqs::Client, String, LambdaWatch) {
    let world = World::new(1).await;
    world.config_rule(RULE, json!({})).await;
    world.standin.settings(
        &world.org.management,
        json!({"configStartWindowSeconds": window, "configEvaluationSeconds": run_seconds}),
    );
    let (sqs, url) = deferral_queue(&world, window).await;
    let seconds = window.to_string();
    let w = watch(
        &world,
        &[
            ("DEFERRED_EVALUATIONS_QUEUE_URL", url.as_str()),
            ("DEFERRED_EVALUATION_SECONDS", seconds.as_str()),
        ],
    )
    .await;
    (world, sqs, url, w)
}

#[tokio::test]
async fn a_burst_of_changes_ends_judged_with_one_deferred_evaluation() {
    const WINDOW: u64 = 6;
    let (world, sqs, url, w) = deferring_world(WINDOW, 0).await;
    let mgmt = world.org.management.clone();
    // ten changes within one window (deferrals are counted in windows aligned on the clock, so
    // the burst starts as one begins); the last one adds an outsider
    let member = world.org.members[0].clone();
    w.invoke("config-rule", &cloudtrail(&mgmt, "TagResource"))
        .expect("the runtime is up");
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        % (WINDOW * 1000);
    tokio::time::sleep(Duration::from_millis(WINDOW * 1000 - into_window + 50)).await;
    let mut deferred = 0;
    let mut started = 0;
    let mut last_change = Instant::now();
    for i in 0..10 {
        let share = if i == 9 {
            world.share("burst-last", true, &[OUTSIDER]).await
        } else {
            world
                .share(&format!("burst-{i}"), true, &[member.as_str()])
                .await
        };
        let _ = share;
        last_change = Instant::now();
        let out = w
            .invoke("config-rule", &cloudtrail(&mgmt, "CreateResourceShare"))
            .expect("change");
        started += out["evaluationsStarted"].as_u64().unwrap_or(0);
        deferred += out["evaluationsDeferred"].as_u64().unwrap_or(0);
        if i > 0 {
            assert_eq!(out["evaluationDeferred"], json!(true), "{out}");
        }
    }
    assert!(
        last_change.elapsed() < Duration::from_secs(WINDOW),
        "the burst took longer than a window"
    );
    assert_eq!((started, deferred), (1, 1), "one start, one deferral");
    // SQS deduplicates across instances too: a second send of the same window is not delivered
    let again =
        ramguard_core::deferral::DeferredEvaluation::new(&mgmt, REGION, RULE, "another instance");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    ramguard_aws::sqs::defer(&sqs, &url, &again, now, WINDOW)
        .await
        .expect("SendMessage");

    // nothing before the window has passed; then the one deferred start, after the last change
    assert_eq!(deliver(&sqs, &url, &w).await.0, 0);
    let deadline = Instant::now() + Duration::from_secs(3 * WINDOW);
    let (delivered, out) = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let got = deliver(&sqs, &url, &w).await;
        if got.0 > 0 || Instant::now() > deadline {
            break got;
        }
    };
    assert_eq!(delivered, 1, "one deferred evaluation, not ten: {out}");
    assert_eq!(out["evaluationsStarted"], json!(1), "{out}");
    assert!(out.get("batchItemFailures").is_none(), "{out}");
    let since_last = last_change.elapsed();
    assert!(
        since_last <= Duration::from_secs(2 * WINDOW) + Duration::from_secs(1),
        "{since_last:?}"
    );
    let starts = world.standin.started_evaluations();
    let ours: Vec<&Value> = starts
        .iter()
        .filter(|s| s["account"] == json!(mgmt))
        .collect();
    assert_eq!(ours.len(), 2, "{ours:?}");
    // the run Config starts then (a sweep) judges the outsider NON_COMPLIANT
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep");
    assert_eq!(swept["nonCompliant"], json!(1), "{swept}");
    tokio::time::sleep(Duration::from_secs(WINDOW + 1)).await;
    assert_eq!(
        deliver(&sqs, &url, &w).await.0,
        0,
        "nothing else was queued"
    );
}

#[tokio::test]
async fn a_refused_deferred_start_is_deferred_again_and_ram_events_start_the_path() {
    const WINDOW: u64 = 2;
    // a run stays in progress longer than the window: the deferred start is refused too
    let (world, sqs, url, w) = deferring_world(WINDOW, 4).await;
    let mgmt = world.org.management.clone();
    let share = world.share("ram-event", true, &[OUTSIDER]).await;
    // RAM's own event, as a principal's copy would name the owner's share among its resources
    let ram_event = json!({
        "version": "0", "id": "ram-1", "detail-type": "Resource Sharing State Change", "source": "aws.ram",
        "account": mgmt, "time": "2026-12-06T10:00:00Z", "region": REGION, "resources": [share], "detail": {}
    });
    let out = w.invoke("config-rule", &ram_event).expect("ram event");
    assert_eq!(out["trigger"], json!("ram-event"), "{out}");
    assert_eq!(out["evaluationStarted"], json!(true), "{out}");
    let out = w
        .invoke("config-rule", &ram_event)
        .expect("ram event again");
    assert_eq!(out["evaluationDeferred"], json!(true), "{out}");
    // a member's copy of the event for a share it received from outside: nothing to evaluate
    let mut received = ram_event.clone();
    received["resources"] = json!([format!(
        "arn:aws:ram:{REGION}:{OUTSIDER}:resource-share/7ab63972-b505-4e2a-820d-6f5d3e0a1b2c"
    )]);
    let out = w.invoke("config-rule", &received).expect("received share");
    assert_eq!(out["evaluationStarted"], json!(false), "{out}");
    assert!(
        out["skipped"]
            .as_str()
            .unwrap()
            .contains("outside the organization"),
        "{out}"
    );

    // delivered after the window while the run is still in progress: deferred once more
    tokio::time::sleep(Duration::from_secs(WINDOW) + Duration::from_millis(300)).await;
    let (n, out) = deliver(&sqs, &url, &w).await;
    assert_eq!(n, 1, "{out}");
    assert_eq!(out["evaluationDeferred"], json!(true), "{out}");
    assert_eq!(out["evaluationsDeferred"], json!(1), "{out}");
    // then started once the run is over
    let deadline = Instant::now() + Duration::from_secs(4 * WINDOW + 4);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (n, out) = deliver(&sqs, &url, &w).await;
        if n > 0 && out["evaluationsStarted"] == json!(1) {
            let body: Value = serde_json::from_str(
                &sqs.receive_message()
                    .queue_url(&url)
                    .send()
                    .await
                    .unwrap()
                    .messages
                    .unwrap_or_default()
                    .first()
                    .and_then(|m| m.body.clone())
                    .unwrap_or_else(|| "{}".into()),
            )
            .unwrap();
            assert_eq!(body, json!({}), "nothing left");
            break;
        }
        assert!(Instant::now() < deadline, "the deferred start never ran");
    }
    // an unreadable message is left to SQS (and its dead-letter queue), never dropped
    let out = w
        .invoke(
            "config-rule",
            &json!({"Records": [{"messageId": "m-1", "body": "{\"kind\":\"other\"}", "eventSource": "aws:sqs"}]}),
        )
        .expect("batch");
    assert_eq!(
        out["batchItemFailures"],
        json!([{"itemIdentifier": "m-1"}]),
        "{out}"
    );
}

#[tokio::test]
async fn one_refused_principal_keeps_none_of_the_others() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    let (a, b, suspended) = ("777777777777", "888888888888", OUTSIDER);
    let share = world.share("suspended", true, &[a, b]).await;
    world.accept_invitations(a).await;
    world.accept_invitations(b).await;
    world.standin.set_share_state(json!({
        "shareArn": share,
        "associations": [{"entity": suspended, "status": "SUSPENDED", "external": true}],
    }));
    world.standin.inject_fault(Fault::refused_principal(
        suspended,
        "InvalidStateTransitionException",
        &mgmt,
    ));
    let w = watch(&world, &[("REMEDIATION_MODE", "enforce")]).await;
    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", None);
    let out = w.invoke("remediator", &change).expect("remediator");
    let report = &out["shares"][0];
    assert_eq!(report["outcome"], json!("failed"), "{out}");
    let after = |p: &str| {
        report["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["principal"] == json!(p))
            .map(|x| x["after"].clone())
    };
    assert_eq!(after(suspended), Some(json!("failed")), "{out}");
    for p in [a, b] {
        assert!(
            matches!(
                after(p).unwrap().as_str(),
                Some("DISASSOCIATING" | "DISASSOCIATED")
            ),
            "{out}"
        );
        assert!(matches!(
            status_of(&world, &share, p).await.as_str(),
            "DISASSOCIATING" | "DISASSOCIATED"
        ));
    }
    assert_eq!(status_of(&world, &share, suspended).await, "SUSPENDED");
    assert!(report["why"].as_str().unwrap().contains(suspended), "{out}");
}

#[tokio::test]
async fn disassociating_ends_as_success_on_a_later_read_or_in_progress_without_an_alarm() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.config_rule(RULE, json!({})).await;
    world.standin.settings(&mgmt, json!({"settleSeconds": 1.5}));
    let share = world.share("slow", true, &[OUTSIDER]).await;
    let w = watch(
        &world,
        &[
            ("REMEDIATION_MODE", "enforce"),
            ("VERIFY_WAIT_SECONDS", "10"),
        ],
    )
    .await;
    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", None);
    let out = w.invoke("remediator", &change).expect("remediator");
    assert_eq!(out["shares"][0]["outcome"], json!("remediated"), "{out}");
    assert_eq!(
        out["shares"][0]["actions"][0]["after"],
        json!("DISASSOCIATED"),
        "{out}"
    );
    drop(w);

    // RAM slower than the wait: in progress, no alarm metric; the next sweep confirms
    world.standin.settings(&mgmt, json!({"settleSeconds": 30}));
    let slower = world.share("slower", true, &[OUTSIDER]).await;
    let log = std::env::temp_dir().join(format!("ramguard-edges-{}.log", rand_id()));
    std::env::set_var("RAMGUARD_FUNCTION_LOG", &log);
    let w = watch(
        &world,
        &[
            ("REMEDIATION_MODE", "enforce"),
            ("VERIFY_WAIT_SECONDS", "1"),
        ],
    )
    .await;
    std::env::remove_var("RAMGUARD_FUNCTION_LOG");
    let change = compliance_change(RULE, &mgmt, &slower, "NON_COMPLIANT", None);
    let out = w.invoke("remediator", &change).expect("remediator");
    assert_eq!(out["shares"][0]["outcome"], json!("in-progress"), "{out}");
    assert_eq!(
        out["shares"][0]["actions"][0]["verified"],
        json!(true),
        "{out}"
    );
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let emf: Vec<Value> = logged
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("_aws").is_some() && v.get("RemediationsInProgress").is_some())
        .collect();
    assert!(!emf.is_empty(), "{logged}");
    assert_eq!(emf.last().unwrap()["RemediationsInProgress"], json!(1));
    assert_eq!(emf.last().unwrap()["RemediationsUnverified"], json!(0));
    assert_eq!(emf.last().unwrap()["RemediationsFailed"], json!(0));
    let _ = std::fs::remove_file(&log);
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep");
    assert_eq!(
        swept["nonCompliant"],
        json!(0),
        "DISASSOCIATING grants no access: {swept}"
    );
}

#[tokio::test]
async fn a_refused_restriction_says_why() {
    let world = World::without_org_sharing(0).await;
    let mgmt = world.org.management.clone();
    let share = world.share("no-org-sharing", true, &[OUTSIDER]).await;
    let w = watch(
        &world,
        &[("REMEDIATION_MODE", "enforce"), ("RESTRICT_SHARE", "true")],
    )
    .await;
    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", None);
    let out = w.invoke("remediator", &change).expect("remediator");
    let report = &out["shares"][0];
    assert_eq!(report["outcome"], json!("failed"), "{out}");
    assert_eq!(report["restricted"], json!(false), "{out}");
    let why = report["why"].as_str().unwrap();
    assert!(
        why.contains("1 principal(s) removed") && why.contains("EnableSharingWithAwsOrganization"),
        "{why}"
    );
}

#[tokio::test]
async fn findings_refused_one_by_one_are_reported_each_with_its_reason() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world.share("refused-finding", true, &[OUTSIDER]).await;
    let w = watch(&world, &[]).await;
    let change = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", None);
    // Security Hub not enabled where the finding belongs fails that finding, not the call
    world
        .standin
        .inject_fault(Fault::failing_findings("InvalidAccess", &mgmt, 1));
    let err = w.invoke("findings-importer", &change).unwrap_err();
    let flat = squash(&err);
    assert!(
        flat.contains("FindingsNotImported") && flat.contains("InvalidAccess:injectedfault"),
        "{err}"
    );
    assert!(
        flat.contains(&format!("{share}/principal/{OUTSIDER}")),
        "{err}"
    );
}

#[tokio::test]
async fn refused_concurrent_put_evaluations_fall_back_to_one_at_a_time() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.config_rule(RULE, json!({})).await;
    let member = world.org.members[0].clone();
    let shares: Vec<Value> = (0..350)
        .map(|i| json!({"name": format!("bulk-{i}"), "principals": [member], "resources": []}))
        .collect();
    world.standin.bulk_shares(&mgmt, REGION, json!(shares));
    world.standin.settings(
        &mgmt,
        json!({"refuseConcurrentPutEvaluations": "InvalidResultTokenException"}),
    );
    world
        .standin
        .performance(json!({"latency": {"config": {"fixedMs": 150}}}));
    let w = watch(&world, &[("SWEEP_CONCURRENCY", "8")]).await;
    let out = w.invoke("config-rule", &sweep_event(&world));
    world.standin.performance(json!({"clear": true}));
    let out = out.expect("the sweep still reports every evaluation");
    assert_eq!(out["compliant"], json!(350), "{out}");
    assert_eq!(compliance_results(&world.config(), RULE).await.len(), 350);
}

/// Lag that makes the read-back answer as of one second after `t`.
fn lag_to(t: Instant) -> Value {
    json!({"readBackLagSeconds": t.elapsed().as_secs_f64() - 1.0})
}

#[tokio::test]
async fn a_lagging_read_back_never_keeps_an_exposure_compliant() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.config_rule(RULE, json!({})).await;
    let share = world.share("lagging", true, &[OUTSIDER]).await;
    let w = watch(&world, &[]).await;
    let held = |world: &World| {
        let config = world.config();
        let share = share.clone();
        async move { compliance_results(&config, RULE).await[&share].0.clone() }
    };
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep 1");
    assert_eq!(swept["nonCompliant"], json!(1), "{swept}");
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // fixed and judged COMPLIANT by the change path, then exposed again without an event
    world.remove_principal(&share, OUTSIDER).await;
    w.invoke("config-rule", &change_event(&world, &share))
        .expect("change");
    let t1 = Instant::now();
    assert_eq!(held(&world).await, "COMPLIANT");
    world.add_principal(&share, "888888888888").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // the read-back lags: it still shows sweep 1's NON_COMPLIANT, which the verdict matches
    world.standin.settings(&mgmt, lag_to(t0));
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep 2");
    assert_eq!(swept["nonCompliant"], json!(1), "{swept}");
    world
        .standin
        .settings(&mgmt, json!({"readBackLagSeconds": 0}));
    assert_eq!(
        held(&world).await,
        "NON_COMPLIANT",
        "sent although the read-back held it"
    );

    // the other way round a stale result stands one sweep at most, and it is a false alarm:
    // fixed without an event while the read-back shows the change path's COMPLIANT
    world.remove_principal(&share, "888888888888").await;
    world.standin.settings(&mgmt, lag_to(t1));
    let swept = w
        .invoke("config-rule", &sweep_event(&world))
        .expect("sweep 3");
    world
        .standin
        .settings(&mgmt, json!({"readBackLagSeconds": 0}));
    assert_eq!(swept["compliant"], json!(1), "{swept}");
    assert_eq!(
        held(&world).await,
        "NON_COMPLIANT",
        "left standing for this sweep"
    );
    w.invoke("config-rule", &sweep_event(&world))
        .expect("sweep 4");
    assert_eq!(
        held(&world).await,
        "COMPLIANT",
        "the next sweep corrects it"
    );
}
