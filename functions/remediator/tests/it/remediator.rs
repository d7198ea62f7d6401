//! The remediator against the stand-in, through the real SDK.

use ramguard_aws::credentials::AccountAccess;
use std::collections::BTreeMap;

use ramguard_aws::securityhub as hub;
use ramguard_core::Parameters;
use ramguard_remediator::{Mode, RemediationError, Remediator, Settings, ShareOutcome};
use ramguard_testkit::{
    compliance_change, custom_action, Fault, ShareSpec, World, OUTSIDER, REGION, TEST_ROLE,
};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";
const PENDING: &str = "888888888888";

fn settings(mode: Mode) -> Settings {
    Settings {
        mode,
        max_principals_per_run: 50,
        restrict_share: false,
        enforce_baseline: false,
        rule_name: Some(RULE.into()),
        params: Parameters::default(),
        verify_wait: std::time::Duration::from_secs(2),
    }
}

fn remediator(world: &World, settings: Settings) -> Remediator {
    Remediator::new(world.management.clone(), settings)
}

fn non_compliant(account: &str, share: &str) -> Value {
    compliance_change(RULE, account, share, "NON_COMPLIANT", Some("COMPLIANT"))
}

/// Principal → association status, as RAM reports the share now.
async fn associations(ram: &aws_sdk_ram::Client, share: &str) -> BTreeMap<String, String> {
    ram.get_resource_share_associations()
        .association_type(aws_sdk_ram::types::ResourceShareAssociationType::Principal)
        .resource_share_arns(share)
        .send()
        .await
        .expect("GetResourceShareAssociations")
        .resource_share_associations
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            (
                a.associated_entity.unwrap_or_default(),
                a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            )
        })
        .collect()
}

/// Principals ListPrincipals still reports for the share.
async fn listed_principals(ram: &aws_sdk_ram::Client, share: &str) -> Vec<String> {
    let mut out: Vec<String> = ram
        .list_principals()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_arns(share)
        .send()
        .await
        .expect("ListPrincipals")
        .principals
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| p.id)
        .collect();
    out.sort();
    out
}

fn disassociate_calls(world: &World, account: &str) -> u64 {
    world
        .standin
        .calls(account)
        .into_iter()
        .filter(|c| c.operation == "DisassociateResourceShare")
        .map(|c| c.count)
        .sum()
}

struct Mixed {
    share: String,
    inside: Vec<String>,
    outside: Vec<String>,
}

/// A share with every principal form: in-org ones and outside ones (accepted and pending).
async fn mixed_share(world: &World) -> Mixed {
    let member = world.org.members[0].clone();
    let inside = vec![
        member.clone(),
        world.org.arn.clone(),
        world.org.ou.arn.clone(),
        world.org.nested_ou.arn.clone(),
        format!("arn:aws:iam::{member}:role/app"),
        format!("arn:aws:iam::{member}:user/ops"),
        "logs.amazonaws.com".to_string(),
    ];
    let outside = vec![
        OUTSIDER.to_string(),
        PENDING.to_string(),
        format!("arn:aws:iam::{OUTSIDER}:role/partner"),
        format!("arn:aws:iam::{OUTSIDER}:user/contractor"),
    ];
    let all: Vec<&str> = inside.iter().chain(&outside).map(String::as_str).collect();
    let share = world.share("mixed", true, &all).await;
    world.accept_invitations(OUTSIDER).await;
    Mixed {
        share,
        inside,
        outside,
    }
}

#[tokio::test]
async fn enforce_removes_only_the_outside_principals() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let m = mixed_share(&world).await;
    let ram = world.ram();
    let before = associations(&ram, &m.share).await;
    assert_eq!(before[OUTSIDER], "ASSOCIATED");
    assert_eq!(before[PENDING], "ASSOCIATING");

    let report = remediator(&world, settings(Mode::Enforce))
        .handle(non_compliant(&mgmt, &m.share), &mgmt)
        .await
        .expect("enforce");
    let share = &report.shares[0];
    assert_eq!(share.outcome, ShareOutcome::Remediated, "{report:?}");
    let mut acted: Vec<&str> = share.actions.iter().map(|a| a.principal.as_str()).collect();
    acted.sort();
    let mut expected: Vec<&str> = m.outside.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(acted, expected);
    assert!(share.actions.iter().all(|a| a.verified), "{report:?}");
    let pending = share
        .actions
        .iter()
        .find(|a| a.principal == PENDING)
        .unwrap();
    assert_eq!(pending.before, "ASSOCIATING");

    let after = associations(&ram, &m.share).await;
    for p in &m.outside {
        assert!(
            matches!(after[p].as_str(), "DISASSOCIATING" | "DISASSOCIATED"),
            "{p}: {}",
            after[p]
        );
    }
    for p in &m.inside {
        assert_eq!(after[p], "ASSOCIATED", "{p} must stay");
    }
    let listed = listed_principals(&ram, &m.share).await;
    assert!(m.outside.iter().all(|p| !listed.contains(p)), "{listed:?}");

    // the pending invitation is cancelled: the invitee can no longer accept it
    let (_, invitations) = world.invitations(PENDING).await;
    let mine: Vec<_> = invitations
        .iter()
        .filter(|i| i.resource_share_arn.as_deref() == Some(m.share.as_str()))
        .collect();
    assert!(!mine.is_empty());
    assert!(mine
        .iter()
        .all(|i| i.status.as_ref().map(|s| s.as_str()) != Some("PENDING")));
}

#[tokio::test]
async fn dry_run_changes_nothing_and_a_repeated_event_is_a_no_op() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let m = mixed_share(&world).await;
    let ram = world.ram();
    let before = associations(&ram, &m.share).await;

    let report = remediator(&world, settings(Mode::DryRun))
        .handle(non_compliant(&mgmt, &m.share), &mgmt)
        .await
        .expect("dry-run");
    assert_eq!(report.mode, Mode::DryRun);
    assert_eq!(report.shares[0].outcome, ShareOutcome::Planned);
    assert_eq!(report.planned_removals, m.outside.len());
    assert!(report.shares[0]
        .actions
        .iter()
        .all(|a| a.after == "unchanged"));
    assert_eq!(associations(&ram, &m.share).await, before);
    assert_eq!(disassociate_calls(&world, &mgmt), 0);

    let enforce = remediator(&world, settings(Mode::Enforce));
    let event = non_compliant(&mgmt, &m.share);
    enforce.handle(event.clone(), &mgmt).await.expect("enforce");
    let after_first = associations(&ram, &m.share).await;
    let calls = disassociate_calls(&world, &mgmt);
    assert_eq!(calls, m.outside.len() as u64, "one call per principal");
    let again = enforce.handle(event, &mgmt).await.expect("repeat");
    assert_eq!(again.shares[0].outcome, ShareOutcome::NothingToDo);
    assert_eq!(disassociate_calls(&world, &mgmt), calls, "no second call");
    assert_eq!(associations(&ram, &m.share).await, after_first);
}

#[tokio::test]
async fn the_blast_radius_cap_holds() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let m = mixed_share(&world).await;
    let ram = world.ram();
    let before = associations(&ram, &m.share).await;
    let capped = Settings {
        max_principals_per_run: 3,
        ..settings(Mode::Enforce)
    };
    let report = remediator(&world, capped)
        .handle(non_compliant(&mgmt, &m.share), &mgmt)
        .await
        .expect("over the cap is reported, not an error");
    assert_eq!(report.planned_removals, 4);
    assert_eq!(report.shares[0].outcome, ShareOutcome::OverCap);
    assert!(report.shares[0]
        .why
        .as_deref()
        .unwrap()
        .contains("MAX_PRINCIPALS_PER_RUN=3"));
    assert_eq!(associations(&ram, &m.share).await, before);
    assert_eq!(disassociate_calls(&world, &mgmt), 0);
}

#[tokio::test]
async fn an_unreadable_organization_removes_nothing() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let m = mixed_share(&world).await;
    let before = associations(&world.ram(), &m.share).await;
    world.standin.inject_fault(Fault::always(
        "organizations",
        "ListAccounts",
        "ServiceException",
        &mgmt,
    ));
    let err = remediator(&world, settings(Mode::Enforce))
        .handle(non_compliant(&mgmt, &m.share), &mgmt)
        .await
        .unwrap_err();
    assert!(matches!(err, RemediationError::OrgSnapshot(_)), "{err}");
    assert!(err.to_string().contains("nothing was removed"));
    assert_eq!(associations(&world.ram(), &m.share).await, before);
    assert_eq!(disassociate_calls(&world, &mgmt), 0);
}

#[tokio::test]
async fn exempt_shares_trusted_accounts_and_deleted_shares_are_left_alone() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    let exempt = world
        .share_with(ShareSpec {
            name: "exempt",
            allow_external: true,
            principals: &[OUTSIDER],
            tags: &[("ramguard:exempt", "true:partner-integration")],
        })
        .await;
    let trusted = world.share("trusted", true, &[OUTSIDER, PENDING]).await;
    let gone = world.share("gone", true, &[OUTSIDER]).await;
    world.delete_share(&gone).await;
    let mut s = settings(Mode::Enforce);
    s.params.trusted_account_ids.insert(OUTSIDER.into());
    let r = remediator(&world, s);

    let report = r
        .handle(non_compliant(&mgmt, &exempt), &mgmt)
        .await
        .unwrap();
    assert_eq!(report.shares[0].outcome, ShareOutcome::Refused);
    assert!(report.shares[0]
        .why
        .as_deref()
        .unwrap()
        .contains("exemption tag"));

    let report = r
        .handle(non_compliant(&mgmt, &trusted), &mgmt)
        .await
        .unwrap();
    let acted: Vec<_> = report.shares[0]
        .actions
        .iter()
        .map(|a| a.principal.as_str())
        .collect();
    assert_eq!(acted, [PENDING]);
    let after = associations(&world.ram(), &trusted).await;
    assert_eq!(after[OUTSIDER], "ASSOCIATING", "the trusted account stays");

    let report = r.handle(non_compliant(&mgmt, &gone), &mgmt).await.unwrap();
    assert_eq!(report.shares[0].outcome, ShareOutcome::Gone, "{report:?}");
    assert!(report.shares[0].actions.is_empty());
}

#[tokio::test]
async fn refused_disassociations_are_reported_and_throttling_is_retried() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    let share = world.share("refused", true, &[OUTSIDER]).await;
    let r = remediator(&world, settings(Mode::Enforce));

    world.standin.inject_fault(Fault {
        count: Some(1),
        ..Fault::always(
            "ram",
            "DisassociateResourceShare",
            "OperationNotPermittedException",
            &mgmt,
        )
    });
    let report = r
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .expect("a refusal is reported, not retried");
    assert_eq!(report.shares[0].outcome, ShareOutcome::Failed);
    assert!(report.shares[0]
        .why
        .as_deref()
        .unwrap()
        .contains("OperationNotPermitted"));
    assert_eq!(
        associations(&world.ram(), &share).await[OUTSIDER],
        "ASSOCIATING"
    );

    world.standin.inject_fault(Fault::throttle(
        "ram",
        "DisassociateResourceShare",
        &mgmt,
        2,
    ));
    let report = r
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .expect("throttling retried");
    assert_eq!(report.shares[0].outcome, ShareOutcome::Remediated);

    // throttling beyond the retry budget fails the invocation so EventBridge retries it
    let other = world.share("busy", true, &[PENDING]).await;
    world.standin.inject_fault(Fault::throttle(
        "ram",
        "DisassociateResourceShare",
        &mgmt,
        10,
    ));
    let err = r
        .handle(non_compliant(&mgmt, &other), &mgmt)
        .await
        .unwrap_err();
    assert!(matches!(err, RemediationError::Retryable(_)), "{err}");
}

#[tokio::test]
async fn restrict_share_turns_off_external_principals_keeping_the_name() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    let share = world.share("restrict-me", true, &[OUTSIDER, &member]).await;
    let s = Settings {
        restrict_share: true,
        enforce_baseline: false,
        ..settings(Mode::Enforce)
    };
    let report = remediator(&world, s)
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .unwrap();
    assert!(report.shares[0].restricted, "{report:?}");
    let live = world
        .ram()
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_arns(&share)
        .send()
        .await
        .unwrap()
        .resource_shares
        .unwrap_or_default();
    assert_eq!(live[0].allow_external_principals, Some(false));
    assert_eq!(live[0].name.as_deref(), Some("restrict-me"));
    assert_eq!(
        associations(&world.ram(), &share).await[&member],
        "ASSOCIATED"
    );
}

#[tokio::test]
async fn org_wide_acts_in_the_member_account_through_its_role() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    let member_ram = aws_sdk_ram::Client::new(&world.standin.config_for(&member).await);
    let share = world
        .share_in(&member, "member-share", &[OUTSIDER, &mgmt])
        .await;
    let event = non_compliant(&member, &share);
    let err = remediator(&world, settings(Mode::Enforce))
        .handle(event.clone(), &mgmt)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            RemediationError::Access(AccountAccess::NoExecutionRole(_))
        ),
        "{err}"
    );

    // a member the StackSet has not reached (no member role): refused, nothing read or removed
    let mut s = settings(Mode::Enforce);
    s.params.execution_role_name = Some("ramguard-member".into());
    let report = remediator(&world, s)
        .handle(event.clone(), &mgmt)
        .await
        .expect("a missing member role is not a failed invocation");
    assert_eq!(
        report.shares[0].outcome,
        ShareOutcome::Refused,
        "{report:?}"
    );
    assert!(report.shares[0]
        .why
        .as_deref()
        .unwrap()
        .contains("unavailable"));
    assert!(report.shares[0].actions.is_empty());
    assert_eq!(
        associations(&member_ram, &share).await[OUTSIDER],
        "ASSOCIATING"
    );

    let mut s = settings(Mode::Enforce);
    s.params.execution_role_name = Some(TEST_ROLE.into());
    let report = remediator(&world, s).handle(event, &mgmt).await.unwrap();
    assert_eq!(
        report.shares[0].outcome,
        ShareOutcome::Remediated,
        "{report:?}"
    );
    let after = associations(&member_ram, &share).await;
    assert!(matches!(
        after[OUTSIDER].as_str(),
        "DISASSOCIATING" | "DISASSOCIATED"
    ));
    assert_eq!(
        after[&mgmt], "ASSOCIATED",
        "the management account is in the org"
    );
}

#[tokio::test]
async fn the_custom_action_remediates_selected_findings_and_notes_them() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share_arn = world.share("selected", true, &[OUTSIDER]).await;
    world.raise_findings(&mgmt, &share_arn).await;
    let securityhub = world.securityhub();
    let raised = hub::share_findings(&securityhub, &share_arn).await.unwrap();
    let mut selected = json!({
        "Id": raised[0].id,
        "ProductArn": raised[0].product_arn,
        "GeneratorId": raised[0].generator_id,
        "AwsAccountId": mgmt,
        "Region": REGION,
        "Resources": [{"Type": "Other", "Id": share_arn}],
    });
    selected["ProductFields"] = json!({"ramguard/ShareArn": share_arn});
    let foreign = json!({"Id": "arn:aws:securityhub:us-east-1::control/x", "GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/S3.1", "AwsAccountId": mgmt});

    let report = remediator(&world, settings(Mode::Enforce))
        .handle(custom_action(&mgmt, vec![selected, foreign]), &mgmt)
        .await
        .expect("custom action");
    assert_eq!(report.trigger, "security-hub-custom-action");
    assert_eq!(report.shares.len(), 1);
    assert_eq!(report.shares[0].outcome, ShareOutcome::Remediated);
    assert_eq!(report.shares[0].findings_noted, 1);
    let stored = hub::share_findings(&securityhub, &share_arn).await.unwrap();
    let note = stored[0].note.as_ref().expect("audit note");
    assert!(note.text.as_deref().unwrap().contains(OUTSIDER));
    assert_eq!(note.updated_by.as_deref(), Some("ramguard-remediator"));
}

#[tokio::test]
async fn events_that_are_not_for_the_remediator() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    let share = world.share("s", true, &[OUTSIDER]).await;
    let r = remediator(&world, settings(Mode::Enforce));
    for event in [
        compliance_change(RULE, &mgmt, &share, "COMPLIANT", Some("NON_COMPLIANT")),
        compliance_change("another-rule", &mgmt, &share, "NON_COMPLIANT", None),
        custom_action(&mgmt, vec![]),
        json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}),
    ] {
        let report = r.handle(event, &mgmt).await.expect("ignored");
        assert!(report.ignored.is_some(), "{report:?}");
    }
    let mut bad = non_compliant(&mgmt, &share);
    bad["detail"]["awsAccountId"] = json!("not-an-account");
    let err = r.handle(bad, &mgmt).await.unwrap_err();
    assert!(err.to_string().contains("detail.awsAccountId"), "{err}");
    assert_eq!(disassociate_calls(&world, &mgmt), 0);
}

#[test]
fn settings_name_the_bad_variable() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let s = Settings::from_lookup(env(&[])).unwrap();
    assert_eq!(
        (s.mode, s.max_principals_per_run, s.restrict_share),
        (Mode::DryRun, 50, false)
    );
    let s = Settings::from_lookup(env(&[
        ("REMEDIATION_MODE", "enforce"),
        ("MAX_PRINCIPALS_PER_RUN", "5"),
    ]))
    .unwrap();
    assert_eq!((s.mode, s.max_principals_per_run), (Mode::Enforce, 5));
    for (name, value) in [
        ("REMEDIATION_MODE", "yolo"),
        ("MAX_PRINCIPALS_PER_RUN", "many"),
        ("RESTRICT_SHARE", "yes"),
    ] {
        let pairs: &'static [(&str, &str)] = Box::leak(vec![(name, value)].into_boxed_slice());
        let err = Settings::from_lookup(env(pairs)).unwrap_err();
        assert_eq!(err.name, name);
    }
    let err = Settings::from_lookup(env(&[("TrustedAccountIds", "123")])).unwrap_err();
    assert!(err.to_string().contains("TrustedAccountIds"));
}

#[tokio::test]
async fn suspended_associations_are_removed_like_associated_ones() {
    let world = World::new(1).await;
    let share = world.share("suspended", true, &[OUTSIDER]).await;
    world
        .standin
        .set_share_state(json!({"shareArn": share, "associations": [
            {"entity": OUTSIDER, "status": "SUSPENDED"},
        ]}));
    let report = remediator(&world, settings(Mode::Enforce))
        .handle(
            non_compliant(&world.org.management, &share),
            &world.org.management,
        )
        .await
        .unwrap();
    assert_eq!(
        report.shares[0].outcome,
        ShareOutcome::Remediated,
        "{report:?}"
    );
    assert_eq!(report.shares[0].actions[0].principal, OUTSIDER);
    let m: Value =
        serde_json::from_str(&ramguard_remediator::metrics(&report, 7).record()).unwrap();
    assert_eq!(
        (
            m["PrincipalsPlanned"].as_u64(),
            m["PrincipalsRemoved"].as_u64(),
            m["DurationMs"].as_u64()
        ),
        (Some(1), Some(1), Some(7))
    );
    assert_eq!(m["Function"], "remediator");
    assert!(matches!(
        associations(&world.ram(), &share).await[OUTSIDER].as_str(),
        "DISASSOCIATING" | "DISASSOCIATED"
    ));
}

#[tokio::test]
async fn a_share_created_from_a_policy_is_refused_with_what_to_do() {
    let world = World::new(1).await;
    let share = world.share("from-policy", true, &[OUTSIDER]).await;
    world
        .standin
        .set_share_state(json!({"shareArn": share, "featureSet": "CREATED_FROM_POLICY"}));
    let report = remediator(&world, settings(Mode::Enforce))
        .handle(
            non_compliant(&world.org.management, &share),
            &world.org.management,
        )
        .await
        .unwrap();
    let s = &report.shares[0];
    assert_eq!(s.outcome, ShareOutcome::Refused, "{report:?}");
    assert!(s
        .why
        .as_deref()
        .unwrap()
        .contains("PromoteResourceShareCreatedFromPolicy"));
    assert!(s.actions.is_empty());
    assert_eq!(disassociate_calls(&world, &world.org.management), 0);
}

#[tokio::test]
async fn permanent_errors_are_reported_and_a_failed_restriction_changes_the_outcome() {
    let once = |op, code, account| Fault {
        count: Some(1),
        ..Fault::always("ram", op, code, account)
    };
    // an invalid client token is permanent: reported, not retried into the dead-letter queue
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let share = world.share("bad-token", true, &[OUTSIDER]).await;
    world.standin.inject_fault(once(
        "DisassociateResourceShare",
        "InvalidClientTokenException",
        &mgmt,
    ));
    let report = remediator(&world, settings(Mode::Enforce))
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .expect("a permanent error is an outcome, not a failed invocation");
    assert_eq!(report.shares[0].outcome, ShareOutcome::Failed);
    assert!(report.shares[0]
        .why
        .as_deref()
        .unwrap()
        .contains("InvalidClientTokenException"));

    // the principal goes, but allowExternalPrincipals=false is refused: not "remediated"
    let share = world.share("restrict", true, &[OUTSIDER]).await;
    world.standin.inject_fault(once(
        "UpdateResourceShare",
        "OperationNotPermittedException",
        &mgmt,
    ));
    let mut s = settings(Mode::Enforce);
    s.restrict_share = true;
    let report = remediator(&world, s.clone())
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .unwrap();
    let r = &report.shares[0];
    assert_eq!(r.outcome, ShareOutcome::Failed, "{report:?}");
    assert!(!r.restricted);
    assert!(r
        .why
        .as_deref()
        .unwrap()
        .contains("allowExternalPrincipals could not be set to false"));
    assert!(r.actions[0].verified);

    // throttling that persists on the restriction fails the invocation, so EventBridge retries
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let share = world.share("restrict-throttled", true, &[OUTSIDER]).await;
    world.standin.inject_fault(Fault::always(
        "ram",
        "UpdateResourceShare",
        "ThrottlingException",
        &mgmt,
    ));
    let err = remediator(&world, s)
        .handle(non_compliant(&mgmt, &share), &mgmt)
        .await
        .unwrap_err();
    assert!(matches!(err, RemediationError::Retryable(_)), "{err}");
}
