//! `make demo`: ramguard end to end on the local stand-in. Seeds a sample organization with RAM
//! shares of every principal form and status, then runs the three functions as built binaries
//! through the Lambda Runtime API (`cargo lambda watch` + `invoke`, with the `events/` samples):
//! the Config rule's sweep, the findings importer on each compliance change, the remediator in
//! dry-run and then in enforce mode, and a last sweep. The sample also holds what RAM's newer
//! model adds: a service principal whose source is outside the organization, a share that keeps
//! access for accounts leaving the organization, and a share created from a resource policy.
//! Prints one table and a summary; exits non-zero when a step fails, an in-org principal was
//! touched, or a share is still NON_COMPLIANT without the remediator saying why.

use std::collections::BTreeMap;
use std::process::ExitCode;

use aws_sdk_securityhub::types::AwsSecurityFinding;
use ramguard_core::{classify, OutsideReason, Parameters, Placement, Principal};
use ramguard_testkit::lambda::LambdaWatch;
use ramguard_testkit::{compliance_results, ShareSpec, World, OUTSIDER};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const TRUSTED: &str = "777777777777";
const PENDING: &str = "888888888888";
const REJECTING: &str = "666666666666";
const REMOVED: &str = "555555555555";
const MEMBER_ROLE: &str = "ramguard-member";

/// A share of the baseline step: name, owner, principal, tags.
type BaselineSeed<'a> = (&'a str, &'a String, &'a String, &'a [(&'a str, &'a str)]);

/// A share to seed: name, principals, tags.
type SeedShare = (
    &'static str,
    Vec<String>,
    &'static [(&'static str, &'static str)],
);

fn step(text: &str) {
    eprintln!("==> {text}");
}

/// The config-rule's scheduled event (events/ sample), with a result token Config issued.
fn scheduled_event(world: &World, params: &str) -> Value {
    let mgmt = &world.org.management;
    let issued = world
        .standin
        .rule_event(json!({"account": mgmt, "ruleName": RULE}));
    let mut event = ramguard_testkit::sample_event("config-rule/scheduled-notification.json");
    let mut invoking: Value =
        serde_json::from_str(event["invokingEvent"].as_str().unwrap_or("{}")).unwrap_or_default();
    invoking["awsAccountId"] = json!(mgmt);
    event["invokingEvent"] = json!(invoking.to_string());
    event["accountId"] = json!(mgmt);
    event["resultToken"] = issued["resultToken"].clone();
    event["configRuleName"] = json!(RULE);
    event["ruleParameters"] = json!(params);
    event
}

/// A compliance change of one share (events/ sample), as Config would emit it.
fn change_event(path: &str, account: &str, share: &str, compliance: &str) -> Value {
    let mut event = ramguard_testkit::sample_event(path);
    event["account"] = json!(account);
    event["detail"]["awsAccountId"] = json!(account);
    event["detail"]["resourceId"] = json!(share);
    event["detail"]["configRuleName"] = json!(RULE);
    event["detail"]["newEvaluationResult"]["complianceType"] = json!(compliance);
    event
}

async fn compliance(world: &World) -> BTreeMap<String, String> {
    compliance_results(&world.config(), RULE)
        .await
        .into_iter()
        .map(|(id, (compliance, _))| (id, compliance))
        .collect()
}

/// (share ARN, principal) → association status.
async fn associations(world: &World) -> BTreeMap<(String, String), String> {
    let rows = world
        .ram()
        .get_resource_share_associations()
        .association_type(aws_sdk_ram::types::ResourceShareAssociationType::Principal)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetResourceShareAssociations");
    rows.into_iter()
        .flat_map(|page| page.resource_share_associations.unwrap_or_default())
        .filter_map(|a| {
            Some((
                (a.resource_share_arn?, a.associated_entity?),
                a.status?.as_str().to_string(),
            ))
        })
        .collect()
}

async fn findings(world: &World) -> Vec<AwsSecurityFinding> {
    world
        .securityhub()
        .get_findings()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("GetFindings")
}

fn finding_for<'a>(
    all: &'a [AwsSecurityFinding],
    share: &str,
    principal: &str,
) -> Option<&'a AwsSecurityFinding> {
    all.iter().find(|f| {
        let fields = f.product_fields.as_ref();
        fields
            .and_then(|p| p.get("ramguard/ShareArn"))
            .map(String::as_str)
            == Some(share)
            && fields
                .and_then(|p| p.get("ramguard/Principal"))
                .map(String::as_str)
                == Some(principal)
    })
}

/// The severity a finding was raised with, and its state now.
fn finding_text(raised: &AwsSecurityFinding, now: Option<&AwsSecurityFinding>) -> String {
    let Some(f) = now else { return "-".into() };
    let label = raised
        .finding_provider_fields
        .as_ref()
        .and_then(|p| p.severity.as_ref())
        .and_then(|s| s.label.as_ref())
        .map(|l| l.as_str().to_string())
        .unwrap_or_default();
    let state = match f.record_state.as_ref().map(|s| s.as_str()) {
        Some("ARCHIVED") => "resolved",
        _ => "open",
    };
    format!("{label} {state}")
}

fn class(principal: &str, org: &ramguard_core::OrgSnapshot, params: &Parameters) -> String {
    match classify(&Principal::parse(principal), org, params) {
        Placement::InOrg => "in org".into(),
        Placement::Trusted => "trusted".into(),
        Placement::AllowedService => "service".into(),
        Placement::Outside(OutsideReason::NotAMember) => "OUTSIDE".into(),
        Placement::Outside(OutsideReason::ForeignOrganization) => "OUTSIDE (org)".into(),
        Placement::Outside(r) => format!("outside ({})", r.as_str()),
    }
}

fn short(principal: &str) -> String {
    principal
        .strip_prefix("arn:aws:")
        .map(|rest| rest.replace("organizations::", "org::"))
        .unwrap_or_else(|| principal.to_string())
}

/// `cargo lambda watch` serving the three functions as the management account, with the
/// remediator in `mode`.
async fn start_runtime(world: &World, mode: &str) -> LambdaWatch {
    let env = [
        ("RAMGUARD_ACCOUNT_ID", world.org.management.as_str()),
        ("CONFIG_RULE_NAME", RULE),
        ("TrustedAccountIds", TRUSTED),
        ("REMEDIATION_MODE", mode),
    ];
    LambdaWatch::start(world.standin.url(), &world.management, &env).await
}

/// The remediator on each share's NON_COMPLIANT change (events/ sample): (share ARN, result).
fn remediate(
    watch: &LambdaWatch,
    account: &str,
    shares: &[&String],
) -> Result<Vec<(String, Value)>, String> {
    shares
        .iter()
        .map(|arn| {
            let path = "findings-importer/compliance-change-non-compliant.json";
            let event = change_event(path, account, arn, "NON_COMPLIANT");
            let out = watch
                .invoke("remediator", &event)
                .map_err(|e| format!("remediator failed: {e}"))?;
            Ok((arn.to_string(), out))
        })
        .collect()
}

async fn run() -> Result<bool, String> {
    step("starting the local AWS stand-in and seeding a sample organization");
    let world = World::new(3).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    world.enable_security_hub(&mgmt).await;
    world.config_rule(RULE, json!({})).await;
    let member_role = format!("arn:aws:iam::{member}:role/app-deployer");
    let partner_role = format!("arn:aws:iam::{OUTSIDER}:role/partner-etl");
    let contractor = format!("arn:aws:iam::{OUTSIDER}:user/contractor");
    let shares: Vec<SeedShare> = vec![
        (
            "vpc-subnets",
            vec![
                member.clone(),
                world.org.arn.clone(),
                world.org.ou.arn.clone(),
                world.org.nested_ou.arn.clone(),
                member_role.clone(),
            ],
            &[],
        ),
        (
            "transit-gateway",
            vec![world.org.members[1].clone(), "logs.amazonaws.com".into()],
            &[],
        ),
        (
            "partner-db",
            vec![OUTSIDER.into(), world.org.members[2].clone()],
            &[],
        ),
        ("pending-invite", vec![PENDING.into()], &[]),
        (
            "contractor-access",
            vec![partner_role.clone(), contractor.clone()],
            &[],
        ),
        ("trusted-partner", vec![TRUSTED.into()], &[]),
        (
            "exempt-analytics",
            vec![OUTSIDER.into()],
            &[("ramguard:exempt", "2099-12-31")],
        ),
        ("rejected-invite", vec![REJECTING.into()], &[]),
        ("already-cleaned", vec![REMOVED.into(), member.clone()], &[]),
    ];
    let mut arns = BTreeMap::new();
    for (name, principals, tags) in &shares {
        let refs: Vec<&str> = principals.iter().map(String::as_str).collect();
        let arn = world
            .share_with(ShareSpec {
                name,
                allow_external: true,
                principals: &refs,
                tags,
            })
            .await;
        arns.insert(arn, name.to_string());
    }
    world.accept_invitations(OUTSIDER).await;
    world.accept_invitations(TRUSTED).await;
    let (rejecter, invitations) = world.invitations(REJECTING).await;
    for inv in invitations {
        rejecter
            .reject_resource_share_invitation()
            .resource_share_invitation_arn(inv.resource_share_invitation_arn.unwrap_or_default())
            .send()
            .await
            .map_err(|e| format!("RejectResourceShareInvitation: {e}"))?;
    }
    let cleaned = arns
        .iter()
        .find(|(_, n)| *n == "already-cleaned")
        .map(|(a, _)| a.clone())
        .unwrap();
    world.remove_principal(&cleaned, REMOVED).await;
    // RAM's newer model: a service principal acting for an outside source, access kept on
    // leaving the organization, a share created from a resource policy
    let created = |r: Result<_, aws_sdk_ram::error::SdkError<_>>, what: &str| {
        r.map_err(|e: aws_sdk_ram::error::SdkError<_>| format!("CreateResourceShare {what}: {e:?}"))
            .map(
                |out: aws_sdk_ram::operation::create_resource_share::CreateResourceShareOutput| {
                    out.resource_share
                        .and_then(|s| s.resource_share_arn)
                        .unwrap_or_default()
                },
            )
    };
    let log_delivery = created(
        world
            .ram()
            .create_resource_share()
            .name("log-delivery")
            .principals("logs.amazonaws.com")
            .sources(world.org.members[1].as_str())
            .sources(OUTSIDER)
            .send()
            .await,
        "log-delivery",
    )?;
    arns.insert(log_delivery, "log-delivery".to_string());
    let retained = created(
        world
            .ram()
            .create_resource_share()
            .name("kept-on-leave")
            .allow_external_principals(false)
            .principals(world.org.members[1].as_str())
            .resource_share_configuration(
                aws_sdk_ram::types::ResourceShareConfiguration::builder()
                    .retain_sharing_on_account_leave_organization(true)
                    .build(),
            )
            .send()
            .await,
        "kept-on-leave",
    )?;
    arns.insert(retained, "kept-on-leave".to_string());
    let from_policy = world.share("from-policy", true, &[OUTSIDER]).await;
    world.accept_invitations(OUTSIDER).await;
    world
        .standin
        .set_share_state(json!({"shareArn": from_policy, "featureSet": "CREATED_FROM_POLICY"}));
    arns.insert(from_policy, "from-policy".to_string());
    eprintln!(
        "    organization {} (management {mgmt}, {} members, OUs workloads/teams), {} shares",
        world.org.id,
        world.org.members.len(),
        arns.len()
    );

    let params = Parameters {
        trusted_account_ids: [TRUSTED.to_string()].into(),
        ..Parameters::default()
    };
    let rule_params = json!({"TrustedAccountIds": TRUSTED}).to_string();
    let invoke = |watch: &LambdaWatch, function: &str, event: &Value| {
        watch
            .invoke(function, event)
            .map_err(|e| format!("{function} failed: {e}"))
    };

    step("building the functions and starting the Lambda Runtime API (cargo lambda watch)");
    let watch = start_runtime(&world, "dry-run").await;

    step("config-rule: scheduled sweep (events/config-rule/scheduled-notification.json)");
    let out = invoke(
        &watch,
        "config-rule",
        &scheduled_event(&world, &rule_params),
    )?;
    eprintln!(
        "    {} compliant, {} non-compliant, {} not applicable, {} PutEvaluations call(s)",
        out["compliant"], out["nonCompliant"], out["notApplicable"], out["putEvaluationsCalls"]
    );
    let before = compliance(&world).await;

    step("findings-importer: one compliance-change event per share (events/findings-importer/)");
    for (arn, verdict) in &before {
        invoke(
            &watch,
            "findings-importer",
            &change_event(
                "findings-importer/compliance-change-first-evaluation.json",
                &mgmt,
                arn,
                verdict,
            ),
        )?;
    }
    let raised = findings(&world).await;
    eprintln!("    {} finding(s) in Security Hub", raised.len());

    let associations_before = associations(&world).await;
    step("remediator: dry-run on every NON_COMPLIANT share (events/remediator/)");
    let mut plans: BTreeMap<(String, String), String> = BTreeMap::new();
    let non_compliant: Vec<&String> = before
        .iter()
        .filter(|(_, v)| *v == "NON_COMPLIANT")
        .map(|(a, _)| a)
        .collect();
    for (arn, out) in remediate(&watch, &mgmt, &non_compliant)? {
        for share in out["shares"].as_array().cloned().unwrap_or_default() {
            for a in share["actions"].as_array().cloned().unwrap_or_default() {
                let p = a["principal"].as_str().unwrap_or_default().to_string();
                plans.insert((arn.clone(), p), "would remove".into());
            }
            for k in share["kept"].as_array().cloned().unwrap_or_default() {
                let p = k["principal"].as_str().unwrap_or_default().to_string();
                let why = k["why"].as_str().unwrap_or_default().replace('_', " ");
                plans.insert((arn.clone(), p), format!("keep: {why}"));
            }
            if let Some(why) = share["why"].as_str() {
                plans.insert((arn.clone(), String::new()), why.to_string());
            }
        }
    }
    if associations(&world).await != associations_before {
        return Err("dry-run changed a share".into());
    }
    drop(watch);

    step("remediator: enforce");
    let watch = start_runtime(&world, "enforce").await;
    let mut removed = 0;
    // shares the remediator leaves to a person, with its reason
    let mut left: BTreeMap<String, String> = BTreeMap::new();
    for (arn, out) in remediate(&watch, &mgmt, &non_compliant)? {
        for share in out["shares"].as_array().cloned().unwrap_or_default() {
            removed += share["actions"].as_array().map_or(0, Vec::len);
            let kept: Vec<String> = share["kept"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|k| k["why"] != json!("in_organization"))
                .map(|k| {
                    format!(
                        "{}: {}",
                        k["principal"].as_str().unwrap_or_default(),
                        k["why"].as_str().unwrap_or_default().replace('_', " ")
                    )
                })
                .collect();
            match share["why"].as_str() {
                Some(why) => {
                    left.insert(arn.clone(), why.to_string());
                }
                None if !kept.is_empty() => {
                    left.insert(arn.clone(), kept.join("; "));
                }
                None => {}
            }
        }
    }
    let associations_after = associations(&world).await;

    step("config-rule: sweep again; findings-importer on the changes");
    invoke(
        &watch,
        "config-rule",
        &scheduled_event(&world, &rule_params),
    )?;
    let after = compliance(&world).await;
    for (arn, verdict) in &after {
        if before.get(arn) != Some(verdict) {
            invoke(
                &watch,
                "findings-importer",
                &change_event(
                    "findings-importer/compliance-change-compliant.json",
                    &mgmt,
                    arn,
                    verdict,
                ),
            )?;
        }
    }
    drop(watch);
    let final_findings = findings(&world).await;

    let org = ramguard_aws::organizations::load_snapshot(&world.organizations())
        .await
        .map_err(|e| e.to_string())?;
    let mut rows = vec![[
        "share".to_string(),
        "principal".into(),
        "status".into(),
        "class".into(),
        "verdict".into(),
        "finding".into(),
        "dry-run".into(),
        "enforce".into(),
    ]];
    let mut touched_inside = Vec::new();
    let mut order: Vec<&str> = shares.iter().map(|(n, _, _)| *n).collect();
    order.extend(["log-delivery", "kept-on-leave", "from-policy"]);
    let mut listed: Vec<(&(String, String), &String)> = associations_before.iter().collect();
    listed.sort_by_key(|((arn, principal), _)| {
        let name = arns.get(arn).map(String::as_str).unwrap_or_default();
        (order.iter().position(|n| *n == name), principal.clone())
    });
    for ((arn, principal), status) in listed {
        let Some(name) = arns.get(arn) else { continue };
        let class = class(principal, &org, &params);
        let now = associations_after
            .get(&(arn.clone(), principal.clone()))
            .cloned()
            .unwrap_or_default();
        if class == "in org" && &now != status {
            touched_inside.push(format!("{name} {principal}"));
        }
        let verdict = format!(
            "{} → {}",
            before.get(arn).map(String::as_str).unwrap_or("-"),
            after.get(arn).map(String::as_str).unwrap_or("-")
        );
        let plan = plans
            .get(&(arn.clone(), principal.clone()))
            .or_else(|| plans.get(&(arn.clone(), String::new())))
            // a table cell of at most 48 characters (the full text is printed below the table)
            .map(|p| ramguard_core::bounded(p, 48))
            .unwrap_or_else(|| "-".into());
        let enforce = if &now != status {
            now.clone()
        } else {
            "unchanged".into()
        };
        let finding = match (
            finding_for(&raised, arn, principal),
            finding_for(&final_findings, arn, principal),
        ) {
            (Some(first), last) => finding_text(first, last),
            (None, _) => "-".into(),
        };
        rows.push([
            name.clone(),
            short(principal),
            status.clone(),
            class,
            verdict,
            finding,
            plan,
            enforce,
        ]);
    }
    print_table(&rows);
    let count = |m: &BTreeMap<String, String>, v: &str| m.values().filter(|x| *x == v).count();
    let still: Vec<&String> = after
        .iter()
        .filter(|(_, v)| *v == "NON_COMPLIANT")
        .map(|(a, _)| a)
        .collect();
    let unexplained: Vec<String> = still
        .iter()
        .filter(|a| !left.contains_key(**a))
        .map(|a| arns.get(*a).cloned().unwrap_or_default())
        .collect();
    if !still.is_empty() {
        println!();
        println!("Left for a person (NON_COMPLIANT after enforce, with the remediator's reason):");
        for arn in &still {
            println!(
                "  {}: {}",
                arns.get(*arn).map(String::as_str).unwrap_or_default(),
                left.get(*arn)
                    .map(String::as_str)
                    .unwrap_or("no reason given")
            );
        }
    }
    let resolved = final_findings
        .iter()
        .filter(|f| f.record_state.as_ref().map(|s| s.as_str()) == Some("ARCHIVED"))
        .count();
    println!();
    println!(
        "{} shares: {} NON_COMPLIANT before, {} after ({} left for a person with the reason); {} findings raised, {} resolved; {} principals outside the organization removed; {} in-org principals touched.",
        arns.len(),
        count(&before, "NON_COMPLIANT"),
        count(&after, "NON_COMPLIANT"),
        still.len() - unexplained.len(),
        raised.len(),
        resolved,
        removed,
        touched_inside.len()
    );
    let (production, sandbox) = guardrail(&world).await?;
    baseline(&world, &production, &sandbox).await?;
    scan(&world).await?;
    if !touched_inside.is_empty() {
        return Err(format!(
            "in-org principals were touched: {}",
            touched_inside.join(", ")
        ));
    }
    if !unexplained.is_empty() {
        eprintln!(
            "demo: still NON_COMPLIANT without a reason: {}",
            unexplained.join(", ")
        );
    }
    Ok(unexplained.is_empty())
}

/// A table whose columns are as wide as their widest cell, a rule under the header.
fn print_table<const N: usize>(rows: &[[String; N]]) {
    let widths: Vec<usize> = (0..N)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    println!();
    for (n, row) in rows.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
        if n == 0 {
            println!(
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
        }
    }
}

/// The preventive guardrail: the template's SCP on one OU, another OU and the root without it,
/// and the management account; the stand-in refuses an external share under it, the rule
/// reports each account's coverage and the importer raises a finding where it is missing.
async fn guardrail(world: &World) -> Result<(String, String), String> {
    step("guardrail: the template's SCP on OU production; OU sandbox and the root without it");
    let m = &world.org.members;
    let guarded = world.ou(&world.org.root_id, "production").await;
    let sandbox = world.ou(&world.org.root_id, "sandbox").await;
    world.move_to(&m[0], &guarded.id).await;
    world.move_to(&m[2], &sandbox.id).await;
    world.enable_scps().await;
    world
        .scp(
            "ramguard-ram-guardrail",
            &ramguard_testkit::guardrail_scp(),
            &[&guarded.id],
        )
        .await;
    let refused = aws_sdk_ram::Client::new(&world.standin.config_for(&m[0]).await)
        .create_resource_share()
        .name("to-outsider")
        .allow_external_principals(true)
        .principals(OUTSIDER)
        .send()
        .await;
    let refusal = match refused {
        Err(e) => aws_sdk_ram::error::DisplayErrorContext(&e).to_string(),
        Ok(_) => return Err("the guardrail did not refuse an external share".into()),
    };
    if !refusal.contains("explicit deny in a service control policy") {
        return Err(format!("the external share failed otherwise: {refusal}"));
    }
    eprintln!(
        "    {}: CreateResourceShare with an outside principal refused: explicit deny in a service control policy",
        m[0]
    );
    for member in m {
        world.standin.create_role(member, MEMBER_ROLE);
        world.enable_security_hub(member).await;
        let config = aws_sdk_config::Client::new(&world.standin.config_for(member).await);
        ramguard_testkit::put_config_rule(&config, &world.org.management, RULE, json!({})).await;
    }
    let env = [
        ("RAMGUARD_ACCOUNT_ID", world.org.management.as_str()),
        ("CONFIG_RULE_NAME", RULE),
        ("TrustedAccountIds", TRUSTED),
        ("ExecutionRoleName", MEMBER_ROLE),
    ];
    let watch = LambdaWatch::start(world.standin.url(), &world.management, &env).await;
    let params = json!({"TrustedAccountIds": TRUSTED, "ExecutionRoleName": MEMBER_ROLE, "GuardrailCoverage": "true"}).to_string();
    let mut rows = vec![[
        "account".to_string(),
        "where".into(),
        "coverage".into(),
        "Config".into(),
        "finding".into(),
        "what stops an external share".into(),
    ]];
    let accounts = [
        (&world.org.management, "management account".to_string()),
        (&m[0], format!("OU production {}", guarded.id)),
        (&m[1], "root".to_string()),
        (&m[2], format!("OU sandbox {}", sandbox.id)),
    ];
    for (account, place) in accounts {
        let event = world
            .standin
            .rule_event(json!({"account": account, "ruleName": RULE, "ruleParameters": params}));
        let out = watch
            .invoke("config-rule", &event)
            .map_err(|e| format!("config-rule failed: {e}"))?;
        let coverage = &out["guardrail"];
        let state = coverage["state"].as_str().unwrap_or_default().to_string();
        let config = aws_sdk_config::Client::new(&world.standin.config_for(account).await);
        let held = compliance_results(&config, RULE).await;
        let verdict = held
            .get(account.as_str())
            .map(|(c, _)| c.clone())
            .unwrap_or_default();
        let mut change =
            ramguard_testkit::compliance_change(RULE, account, account, &verdict, None);
        change["detail"]["resourceType"] = json!("AWS::::Account");
        watch
            .invoke("findings-importer", &change)
            .map_err(|e| format!("findings-importer failed: {e}"))?;
        let hub = aws_sdk_securityhub::Client::new(&world.standin.config_for(account).await);
        let finding = hub
            .get_findings()
            .send()
            .await
            .map_err(|e| format!("GetFindings: {e}"))?
            .findings
            .unwrap_or_default()
            .into_iter()
            .find(|f| f.generator_id.as_deref() == Some("ramguard/ram-guardrail-coverage"))
            .and_then(|f| f.severity.and_then(|s| s.label))
            .map(|l| l.as_str().to_string())
            .unwrap_or_else(|| "-".into());
        let blocked = &coverage["attempts"][0]["blockedBy"];
        let by = match blocked["kind"].as_str() {
            Some("denied") => format!(
                "{} {} on {}",
                blocked["policyName"].as_str().unwrap_or_default(),
                blocked["sid"].as_str().unwrap_or_default(),
                blocked["targetId"].as_str().unwrap_or_default()
            ),
            Some(_) => "no Allow on the path".into(),
            None if state == "management-account" => "nothing: SCPs never apply".into(),
            None => "nothing".into(),
        };
        rows.push([account.clone(), place, state, verdict, finding, by]);
    }
    drop(watch);
    print_table(&rows);
    Ok((guarded.id, sandbox.id))
}

/// The README's example baseline for this organization: OU production and OU sandbox, the
/// account at the root as the network account.
fn demo_baseline(world: &World, production: &str, sandbox: &str) -> String {
    ramguard_testkit::readme_baseline()
        .replace("ou-a1b2-prod0001", production)
        .replace("ou-a1b2-sandbox1", sandbox)
        .replace("111111111111", &world.org.members[1])
}

/// The sharing baseline: the README's example over OU production, OU sandbox and the network
/// account; a production-to-sandbox share, the network account's shares (one untagged, one
/// expired) and a well-formed one, judged by the rule with and without it.
async fn baseline(world: &World, production: &str, sandbox: &str) -> Result<(), String> {
    step("baseline: the README's example in SSM; production, sandbox and network shares");
    let m = &world.org.members;
    let text = demo_baseline(world, production, sandbox);
    aws_sdk_ssm::Client::new(&world.management)
        .put_parameter()
        .name("/ramguard/sharing-baseline")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(&text)
        .overwrite(true)
        .send()
        .await
        .map_err(|e| format!("PutParameter: {e}"))?;
    let tags: &[(&str, &str)] = &[("owner", "platform"), ("purpose", "shared subnets")];
    let expired: &[(&str, &str)] = &[
        ("owner", "platform"),
        ("purpose", "migration"),
        ("expires", "2026-06-30"),
    ];
    let seeds: [BaselineSeed; 4] = [
        ("prod-to-sandbox", &m[0], &m[2], tags),
        ("network-subnets", &m[1], &m[2], tags),
        ("network-untagged", &m[1], &m[0], &[]),
        ("network-expired", &m[1], &m[0], expired),
    ];
    let mut names = BTreeMap::new();
    for (name, owner, to, tags) in seeds {
        let ram = aws_sdk_ram::Client::new(&world.standin.config_for(owner).await);
        let mut req = ram
            .create_resource_share()
            .name(name)
            .allow_external_principals(false)
            .principals(to.as_str())
            .resource_arns(format!(
                "arn:aws:ec2:us-east-1:{owner}:subnet/subnet-{name}"
            ));
        for (k, v) in tags {
            req = req.tags(aws_sdk_ram::types::Tag::builder().key(*k).value(*v).build());
        }
        let arn = req
            .send()
            .await
            .map_err(|e| format!("CreateResourceShare {name}: {e}"))?
            .resource_share
            .and_then(|s| s.resource_share_arn)
            .unwrap_or_default();
        names.insert(arn, (name, owner.clone()));
    }
    let params =
        json!({"TrustedAccountIds": TRUSTED, "ExecutionRoleName": MEMBER_ROLE}).to_string();
    let mut verdicts: BTreeMap<String, (String, String)> = BTreeMap::new();
    for with in [false, true] {
        let mut env = vec![
            ("RAMGUARD_ACCOUNT_ID", world.org.management.as_str()),
            ("CONFIG_RULE_NAME", RULE),
            ("TrustedAccountIds", TRUSTED),
            ("ExecutionRoleName", MEMBER_ROLE),
        ];
        if with {
            env.push(("BASELINE_PARAMETER", "/ramguard/sharing-baseline"));
        }
        let watch = LambdaWatch::start(world.standin.url(), &world.management, &env).await;
        for owner in [&m[0], &m[1]] {
            let event = world
                .standin
                .rule_event(json!({"account": owner, "ruleName": RULE, "ruleParameters": params}));
            watch
                .invoke("config-rule", &event)
                .map_err(|e| format!("config-rule failed: {e}"))?;
            let config = aws_sdk_config::Client::new(&world.standin.config_for(owner).await);
            for (arn, (compliance, annotation)) in compliance_results(&config, RULE).await {
                if !names.contains_key(&arn) {
                    continue;
                }
                let entry = verdicts.entry(arn).or_default();
                if with {
                    // the rule and the offender, after "Baseline <version> (parameter …): "
                    let why = annotation
                        .split_once("): ")
                        .map_or(annotation.as_str(), |(_, w)| w);
                    entry.1 = format!("{compliance}  {why}");
                } else {
                    entry.0 = compliance;
                }
            }
        }
        drop(watch);
    }
    let mut rows = vec![[
        "share".to_string(),
        "owner".into(),
        "without baseline".into(),
        "with the README's baseline".into(),
    ]];
    for (arn, (name, owner)) in &names {
        let (before, after) = verdicts.get(arn).cloned().unwrap_or_default();
        rows.push([
            name.to_string(),
            owner.clone(),
            before,
            ramguard_core::bounded(&after, 90),
        ]);
    }
    rows[1..].sort();
    print_table(&rows);
    Ok(())
}

/// `ramguard scan --organization` over the same organization, as a user runs it before deploying:
/// the built command with the management account's credentials, through the member role.
async fn scan(world: &World) -> Result<(), String> {
    step("ramguard scan --organization --role ramguard-member (target/debug/ramguard)");
    let binary = ramguard_testkit::repo_root().join("target/debug/ramguard");
    if !binary.exists() {
        return Err(format!(
            "{} is missing (make demo builds it)",
            binary.display()
        ));
    }
    let out = ramguard_testkit::as_management(
        world,
        &binary,
        &[
            "scan",
            "--organization",
            "--role",
            MEMBER_ROLE,
            "--trusted-account-ids",
            TRUSTED,
        ],
    )
    .await;
    let code = out.status.code().unwrap_or(-1);
    println!();
    print!("{}", String::from_utf8_lossy(&out.stdout));
    // findings: 3; anything else but 0 is a failed scan
    if !matches!(code, 0 | 3) {
        return Err(format!(
            "ramguard scan exited {code}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    println!(
        "(exit status {code}: {})",
        if code == 3 {
            "findings at or above --fail-on"
        } else {
            "nothing to report"
        }
    );
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("demo: shares are still NON_COMPLIANT after enforce, and the remediator did not say why");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
