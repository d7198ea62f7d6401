//! The sharing baseline through the built config-rule function: the README's example baseline,
//! stored in SSM Parameter Store, judged against a seeded organization with a production, a
//! sandbox and a network boundary; no baseline gives today's verdicts; an invalid one fails with
//! BadBaseline while an outside principal is still reported NON_COMPLIANT.

use std::collections::BTreeMap;

use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{compliance_results, put_config_rule, World, OUTSIDER, REGION};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const MEMBER_ROLE: &str = "ramguard-member";
const PARAMETER: &str = "/ramguard/sharing-baseline";

/// The README's example baseline, its OU and account ids replaced by the seeded ones.
fn readme_baseline(prod_ou: &str, sandbox_ou: &str, network: &str) -> String {
    ramguard_testkit::readme_baseline()
        .replace("ou-a1b2-prod0001", prod_ou)
        .replace("ou-a1b2-sandbox1", sandbox_ou)
        .replace("111111111111", network)
}

async fn put_baseline(world: &World, text: &str) {
    aws_sdk_ssm::Client::new(&world.management)
        .put_parameter()
        .name(PARAMETER)
        .value(text)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
}

/// A share owned by `owner` of one subnet of its own, with `tags`.
async fn share(
    world: &World,
    owner: &str,
    name: &str,
    principals: &[&str],
    tags: &[(&str, &str)],
) -> String {
    let ram = aws_sdk_ram::Client::new(&world.standin.config_for(owner).await);
    let mut req = ram
        .create_resource_share()
        .name(name)
        .allow_external_principals(principals.contains(&OUTSIDER))
        .resource_arns(format!("arn:aws:ec2:{REGION}:{owner}:subnet/subnet-{name}"));
    for p in principals {
        req = req.principals(*p);
    }
    for (k, v) in tags {
        req = req.tags(aws_sdk_ram::types::Tag::builder().key(*k).value(*v).build());
    }
    req.send()
        .await
        .expect("CreateResourceShare")
        .resource_share
        .and_then(|s| s.resource_share_arn)
        .unwrap()
}

struct Org {
    world: World,
    prod: String,
    /// A second production account.
    prod2: String,
    sandbox: String,
    network: String,
    prod_ou: String,
    sandbox_ou: String,
}

async fn seeded() -> Org {
    let world = World::new(4).await;
    let m = world.org.members.clone();
    let root = world.org.root_id.clone();
    let prod_ou = world.ou(&root, "production").await.id;
    let sandbox_ou = world.ou(&root, "sandbox").await.id;
    world.move_to(&m[0], &prod_ou).await;
    world.move_to(&m[1], &sandbox_ou).await;
    world.move_to(&m[3], &prod_ou).await;
    for member in &m {
        world.standin.create_role(member, MEMBER_ROLE);
        let config = aws_sdk_config::Client::new(&world.standin.config_for(member).await);
        put_config_rule(&config, &world.org.management, RULE, json!({})).await;
    }
    Org {
        prod: m[0].clone(),
        prod2: m[3].clone(),
        sandbox: m[1].clone(),
        network: m[2].clone(),
        prod_ou,
        sandbox_ou,
        world,
    }
}

async fn sweep(org: &Org, watch: &LambdaWatch, account: &str) -> Result<Value, String> {
    let params = json!({"ExecutionRoleName": MEMBER_ROLE, "OrgCacheTtlSeconds": "0"}).to_string();
    let event = org
        .world
        .standin
        .rule_event(json!({"account": account, "ruleName": RULE, "ruleParameters": params}));
    watch.invoke("config-rule", &event)
}

async fn results(org: &Org, account: &str) -> BTreeMap<String, (String, String)> {
    let config = aws_sdk_config::Client::new(&org.world.standin.config_for(account).await);
    compliance_results(&config, RULE).await
}

async fn start(org: &Org, baseline: bool) -> LambdaWatch {
    let mut env = vec![
        ("RAMGUARD_ACCOUNT_ID", org.world.org.management.as_str()),
        ("CONFIG_RULE_NAME", RULE),
        ("BASELINE_TTL_SECONDS", "0"),
        ("ExecutionRoleName", MEMBER_ROLE),
        ("OrgCacheTtlSeconds", "0"),
    ];
    if baseline {
        env.push(("BASELINE_PARAMETER", PARAMETER));
    }
    LambdaWatch::start(org.world.standin.url(), &org.world.management, &env).await
}

const TAGS: [(&str, &str); 2] = [("owner", "team-a"), ("purpose", "shared subnet")];

#[tokio::test]
async fn the_readme_baseline_judges_inside_the_organization() {
    let org = seeded().await;
    let (prod, sandbox, network) = (org.prod.clone(), org.sandbox.clone(), org.network.clone());
    let to_sandbox = share(&org.world, &prod, "prod-to-sandbox", &[&sandbox], &TAGS).await;
    let in_prod = share(&org.world, &prod, "untagged", &[&org.prod2], &[]).await;
    let expired = share(
        &org.world,
        &prod,
        "expired",
        &[&org.prod2],
        &[TAGS[0], TAGS[1], ("expires", "2020-01-01")],
    )
    .await;
    let from_network = share(
        &org.world,
        &network,
        "network-to-sandbox",
        &[&sandbox, &prod],
        &TAGS,
    )
    .await;

    // no baseline: today's verdicts
    let watch = start(&org, false).await;
    for account in [&prod, &network] {
        sweep(&org, &watch, account).await.expect("sweep");
    }
    let today = results(&org, &prod).await;
    assert!(today.values().all(|(c, _)| c == "COMPLIANT"), "{today:?}");
    drop(watch);

    put_baseline(
        &org.world,
        &readme_baseline(&org.prod_ou, &org.sandbox_ou, &network),
    )
    .await;
    let watch = start(&org, true).await;
    let out = sweep(&org, &watch, &prod).await.expect("sweep");
    // the version in force is said and the shares breaking it counted
    assert_eq!(out["breakingBaseline"], json!(3), "{out}");
    assert!(
        out["baselineVersion"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-01 (parameter /ramguard/sharing-baseline version 1)"),
        "{out}"
    );
    sweep(&org, &watch, &network).await.expect("sweep");
    let held = results(&org, &prod).await;
    let (compliance, annotation) = &held[&to_sandbox];
    assert_eq!(compliance, "NON_COMPLIANT");
    assert!(
        annotation.contains("boundary production") && annotation.contains(&sandbox),
        "{annotation}"
    );
    assert!(annotation.contains("Baseline 2026-12-01"), "{annotation}");
    assert_eq!(held[&in_prod].0, "NON_COMPLIANT");
    assert!(
        held[&in_prod].1.contains("required tag owner is missing"),
        "{}",
        held[&in_prod].1
    );
    assert_eq!(held[&expired].0, "NON_COMPLIANT");
    assert!(
        held[&expired].1.contains("expired: expires=2020-01-01"),
        "{}",
        held[&expired].1
    );
    let from = results(&org, &network).await;
    assert_eq!(
        from[&from_network].0, "COMPLIANT",
        "{:?}",
        from[&from_network]
    );
}

#[tokio::test]
async fn an_invalid_baseline_fails_named_and_the_outside_verdict_stands() {
    let org = seeded().await;
    let prod = org.prod.clone();
    let outside = share(&org.world, &prod, "to-outsider", &[OUTSIDER], &TAGS).await;
    let fine = share(&org.world, &prod, "in-prod", &[&org.prod2], &TAGS).await;
    put_baseline(
        &org.world,
        "version: \"1\"\nboundaries:\n  production:\n    ous: [ou-nope]\n",
    )
    .await;
    let watch = start(&org, true).await;
    let err = sweep(&org, &watch, &prod).await.expect_err("BadBaseline");
    assert!(err.contains("BadBaseline"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    let held = results(&org, &prod).await;
    assert_eq!(held[&outside].0, "NON_COMPLIANT", "{held:?}");
    // nothing else is reported as compliant while the baseline cannot be read
    assert!(!held.contains_key(&fine), "{held:?}");
}

#[tokio::test]
async fn the_remediator_removes_a_boundary_crossing_only_with_enforce_baseline() {
    let org = seeded().await;
    let (prod, sandbox) = (org.prod.clone(), org.sandbox.clone());
    let crossing = share(
        &org.world,
        &prod,
        "prod-to-both",
        &[&sandbox, &org.prod2],
        &TAGS,
    )
    .await;
    put_baseline(
        &org.world,
        &readme_baseline(&org.prod_ou, &org.sandbox_ou, &org.network),
    )
    .await;
    let change = ramguard_testkit::compliance_change(RULE, &prod, &crossing, "NON_COMPLIANT", None);
    let env = |enforce: &'static str| {
        vec![
            ("RAMGUARD_ACCOUNT_ID", org.world.org.management.clone()),
            ("CONFIG_RULE_NAME", RULE.to_string()),
            ("BASELINE_PARAMETER", PARAMETER.to_string()),
            ("BASELINE_TTL_SECONDS", "0".to_string()),
            ("ExecutionRoleName", MEMBER_ROLE.to_string()),
            ("REMEDIATION_MODE", "enforce".to_string()),
            ("ENFORCE_BASELINE", enforce.to_string()),
            ("VERIFY_WAIT_SECONDS", "0".to_string()),
        ]
    };

    // EnforceBaseline off: reported, nothing removed
    let vars = env("false");
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = LambdaWatch::start(org.world.standin.url(), &org.world.management, &refs).await;
    let out = watch.invoke("remediator", &change).expect("remediate");
    let report = &out["shares"][0];
    assert_eq!(report["baseline"][0]["principal"], json!(sandbox), "{out}");
    assert_eq!(report["baseline"][0]["boundary"], json!("production"));
    assert_eq!(report["outcome"], json!("nothing-to-do"), "{out}");
    assert_eq!(
        org.world.statuses(&prod, &crossing).await[&sandbox],
        "ASSOCIATED"
    );
    drop(watch);

    // on: the crossing principal goes, the one inside the boundary stays
    let vars = env("true");
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let watch = LambdaWatch::start(org.world.standin.url(), &org.world.management, &refs).await;
    let out = watch.invoke("remediator", &change).expect("remediate");
    let report = &out["shares"][0];
    assert_eq!(report["actions"][0]["principal"], json!(sandbox), "{out}");
    let now = org.world.statuses(&prod, &crossing).await;
    assert_ne!(now[&sandbox], "ASSOCIATED", "{now:?}");
    assert_eq!(now[&org.prod2], "ASSOCIATED", "{now:?}");
}
