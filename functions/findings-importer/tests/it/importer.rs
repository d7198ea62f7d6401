//! The findings importer against the stand-in, through the real SDK.

use ramguard_aws::credentials::AccountAccess;
use std::collections::BTreeMap;

use aws_sdk_securityhub::types::AwsSecurityFinding;
use ramguard_core::finding::GENERATOR_ID;
use ramguard_core::{Compliance, Parameters};
use ramguard_findings_importer::{ImportError, Importer};
use ramguard_testkit::{
    compliance_change, create_share, Fault, World, OUTSIDER, REGION, TEST_ROLE,
};
use serde_json::{json, Value};

const RULE: &str = "ramguard-ram-shares";

fn importer(world: &World, params: Parameters) -> Importer {
    Importer::new(world.management.clone(), Some(RULE.into()), params)
}

fn change(account: &str, share_arn: &str, new: &str, old: Option<&str>) -> Value {
    compliance_change(RULE, account, share_arn, new, old)
}

/// ramguard's findings for a share, through the importer's own adapter.
async fn findings(hub: &aws_sdk_securityhub::Client, share_arn: &str) -> Vec<AwsSecurityFinding> {
    ramguard_aws::securityhub::share_findings(hub, share_arn)
        .await
        .expect("GetFindings")
}

fn by_principal(found: &[AwsSecurityFinding]) -> BTreeMap<String, AwsSecurityFinding> {
    found
        .iter()
        .map(|f| {
            let p = f
                .product_fields
                .as_ref()
                .and_then(|m| m.get("ramguard/Principal"))
                .cloned()
                .unwrap_or_default();
            (p, f.clone())
        })
        .collect()
}

fn state(f: &AwsSecurityFinding) -> (String, String) {
    (
        f.record_state
            .as_ref()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        f.compliance
            .as_ref()
            .and_then(|c| c.status.as_ref())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
    )
}

fn import_calls(world: &World, account: &str) -> u64 {
    world
        .standin
        .calls(account)
        .into_iter()
        .filter(|c| c.operation == "BatchImportFindings")
        .map(|c| c.count)
        .sum()
}

#[tokio::test]
async fn imports_one_finding_per_outside_principal_and_updates_it_on_repeat() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let member = world.org.members[0].clone();
    let outside_role = format!("arn:aws:iam::{OUTSIDER}:role/partner");
    let share = world
        .share("subnets", true, &[&member, OUTSIDER, &outside_role])
        .await;
    let imp = importer(&world, Parameters::default());

    let out = imp
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("import");
    assert_eq!(out.imported.len(), 2, "{out:?}");
    assert_eq!(out.live_compliance, Some(Compliance::NonCompliant));
    let hub = world.securityhub();
    let found = by_principal(&findings(&hub, &share).await);
    assert_eq!(
        found.keys().cloned().collect::<Vec<_>>(),
        [OUTSIDER.to_string(), outside_role.clone()]
    );
    let role = &found[&outside_role];
    let invite = &found[OUTSIDER];
    assert_eq!(
        role.product_arn.as_deref(),
        Some(format!("arn:aws:securityhub:{REGION}:{mgmt}:product/{mgmt}/default").as_str())
    );
    assert_eq!(role.aws_account_id.as_deref(), Some(mgmt.as_str()));
    assert_eq!(role.generator_id.as_deref(), Some(GENERATOR_ID));
    assert!(role.types()[0].starts_with("Software and Configuration Checks/"));
    let label = |f: &AwsSecurityFinding| {
        f.finding_provider_fields
            .as_ref()
            .and_then(|p| p.severity.as_ref())
            .and_then(|s| s.label.as_ref())
            .map(|l| l.as_str().to_string())
    };
    assert_eq!(
        label(role).as_deref(),
        Some("HIGH"),
        "associated IAM principal"
    );
    assert_eq!(
        label(invite).as_deref(),
        Some("MEDIUM"),
        "pending invitation"
    );
    let resource = &role.resources()[0];
    assert_eq!(resource.r#type.as_deref(), Some("Other"));
    assert_eq!(resource.id.as_deref(), Some(share.as_str()));
    let other = resource
        .details
        .as_ref()
        .and_then(|d| d.other.as_ref())
        .expect("Details.Other");
    assert_eq!(other["shareName"], "subnets");
    assert_eq!(other["shareOwner"], mgmt);
    assert_eq!(other["principal"], outside_role);
    assert_eq!(other["principalKind"], "iam_role");
    assert_eq!(other["associationStatus"], "ASSOCIATED");
    let compliance = role.compliance.as_ref().expect("Compliance");
    assert_eq!(state(role), ("ACTIVE".into(), "FAILED".into()));
    assert!(compliance.related_requirements()[0].contains("SEC03-BP08"));
    let rec = role
        .remediation
        .as_ref()
        .and_then(|r| r.recommendation.as_ref())
        .expect("Recommendation");
    assert!(rec
        .url
        .as_deref()
        .unwrap_or_default()
        .starts_with("https://docs.aws.amazon.com/ram/"));
    assert!(role.title.as_deref().unwrap_or_default().len() <= 256);

    // the same event again: the same findings, updated, no duplicates
    let again = imp
        .handle(
            change(&mgmt, &share, "NON_COMPLIANT", Some("NON_COMPLIANT")),
            &mgmt,
        )
        .await
        .expect("repeat");
    assert_eq!(again.imported, out.imported);
    let found_again = by_principal(&findings(&hub, &share).await);
    assert_eq!(found_again.len(), 2);
    let again_role = &found_again[&outside_role];
    assert_eq!(again_role.id, role.id);
    assert_eq!(again_role.created_at, role.created_at, "CreatedAt stays");
    assert!(
        ramguard_core::finding::timestamp_millis(again_role.updated_at.as_deref().unwrap())
            > ramguard_core::finding::timestamp_millis(role.updated_at.as_deref().unwrap()),
        "UpdatedAt moves forward"
    );
}

#[tokio::test]
async fn resolves_findings_when_principals_leave_and_when_the_share_is_fixed() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let second = "888888888888";
    let share = world.share("db", true, &[OUTSIDER, second]).await;
    let imp = importer(&world, Parameters::default());
    imp.handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("import");
    let hub = world.securityhub();
    assert_eq!(findings(&hub, &share).await.len(), 2);

    // one principal removed: its finding resolves, the other stays open
    world.remove_principal(&share, second).await;
    let out = imp
        .handle(
            change(&mgmt, &share, "NON_COMPLIANT", Some("NON_COMPLIANT")),
            &mgmt,
        )
        .await
        .expect("partial fix");
    assert_eq!(out.resolved.len(), 1);
    let found = by_principal(&findings(&hub, &share).await);
    assert_eq!(state(&found[second]), ("ARCHIVED".into(), "PASSED".into()));
    assert_eq!(state(&found[OUTSIDER]), ("ACTIVE".into(), "FAILED".into()));
    // the resolution is ramguard's own: informational, titled for what changed
    let resolved = &found[second];
    assert_eq!(
        resolved
            .finding_provider_fields
            .as_ref()
            .unwrap()
            .severity
            .as_ref()
            .unwrap()
            .label
            .as_ref()
            .unwrap()
            .as_str(),
        "INFORMATIONAL"
    );
    assert!(resolved
        .title
        .as_deref()
        .unwrap()
        .contains("no longer reaches"));

    // the share fixed: COMPLIANT resolves the rest; a repeat changes nothing
    world.remove_principal(&share, OUTSIDER).await;
    let out = imp
        .handle(
            change(&mgmt, &share, "COMPLIANT", Some("NON_COMPLIANT")),
            &mgmt,
        )
        .await
        .expect("fixed");
    assert_eq!((out.imported.len(), out.resolved.len()), (0, 1));
    let found = findings(&hub, &share).await;
    assert!(found
        .iter()
        .all(|f| state(f) == ("ARCHIVED".into(), "PASSED".into())));
    let calls = import_calls(&world, &mgmt);
    let repeat = imp
        .handle(change(&mgmt, &share, "COMPLIANT", Some("COMPLIANT")), &mgmt)
        .await
        .expect("repeat");
    assert!(repeat.resolved.is_empty() && repeat.imported.is_empty());
    assert_eq!(import_calls(&world, &mgmt), calls, "nothing re-sent");

    // a deleted share (NOT_APPLICABLE) resolves too
    let gone = world.share("gone", true, &[OUTSIDER]).await;
    imp.handle(change(&mgmt, &gone, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("import");
    world.delete_share(&gone).await;
    let out = imp
        .handle(
            change(&mgmt, &gone, "NOT_APPLICABLE", Some("NON_COMPLIANT")),
            &mgmt,
        )
        .await
        .expect("deleted");
    assert_eq!(out.resolved.len(), 1);
    assert_eq!(out.live_compliance, Some(Compliance::NotApplicable));
}

#[tokio::test]
async fn the_live_share_wins_over_a_stale_event() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world.share("stale", true, &[OUTSIDER]).await;
    let out = importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "COMPLIANT", None), &mgmt)
        .await
        .expect("import");
    assert_eq!(out.live_compliance, Some(Compliance::NonCompliant));
    assert_eq!(out.imported.len(), 1);
}

#[tokio::test]
async fn more_than_a_hundred_findings_go_in_batches() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let outsiders: Vec<String> = (0..130).map(|i| format!("9000000{i:05}")).collect();
    let refs: Vec<&str> = outsiders.iter().map(String::as_str).collect();
    let share = world.share("wide", true, &refs).await;
    let out = importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("import");
    assert_eq!(out.imported.len(), 130);
    assert_eq!(out.batch_import_calls, 2);
    assert_eq!(import_calls(&world, &mgmt), 2);
    assert_eq!(findings(&world.securityhub(), &share).await.len(), 130);

    // the share fixed: all 130 earlier findings are found again over GetFindings pages of 100
    // and resolved in two batches
    let mut fix = world
        .ram()
        .disassociate_resource_share()
        .resource_share_arn(&share);
    for p in &outsiders {
        fix = fix.principals(p);
    }
    fix.send().await.expect("DisassociateResourceShare");
    let get_findings = || {
        world
            .standin
            .calls(&mgmt)
            .into_iter()
            .filter(|c| c.operation == "GetFindings")
            .map(|c| c.count)
            .sum::<u64>()
    };
    let pages_before = get_findings();
    let out = importer(&world, Parameters::default())
        .handle(
            change(&mgmt, &share, "COMPLIANT", Some("NON_COMPLIANT")),
            &mgmt,
        )
        .await
        .expect("resolve");
    assert_eq!(out.resolved.len(), 130);
    assert_eq!(out.batch_import_calls, 2);
    assert_eq!(
        get_findings() - pages_before,
        2,
        "two pages of earlier findings"
    );
    let resolved = findings(&world.securityhub(), &share).await;
    assert!(resolved
        .iter()
        .all(|f| state(f) == ("ARCHIVED".into(), "PASSED".into())));
}

#[tokio::test]
async fn failed_findings_are_retried_or_fail_the_invocation() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world
        .share("partial", true, &[OUTSIDER, "888888888888", "777777777777"])
        .await;
    let imp = importer(&world, Parameters::default());

    // retryable per-finding errors: sent again, all land
    world
        .standin
        .inject_fault(Fault::failing_findings("InternalException", &mgmt, 2));
    let out = imp
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("retried");
    assert_eq!(out.imported.len(), 3);
    assert_eq!(out.batch_import_calls, 2);
    assert_eq!(findings(&world.securityhub(), &share).await.len(), 3);

    // a non-retryable error: the others land, the invocation fails naming the finding
    let more = world
        .share("partial-2", true, &[OUTSIDER, "888888888888"])
        .await;
    world
        .standin
        .inject_fault(Fault::failing_findings("InvalidInput", &mgmt, 1));
    let err = imp
        .handle(change(&mgmt, &more, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap_err();
    let ImportError::FailedFindings { failed, .. } = &err else {
        panic!("expected FailedFindings, got {err}")
    };
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].code, "InvalidInput");
    assert!(err.to_string().contains(&failed[0].id));
    assert_eq!(findings(&world.securityhub(), &more).await.len(), 1);
    // EventBridge's retry of the same event completes the import
    let out = imp
        .handle(change(&mgmt, &more, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("retry");
    assert_eq!(out.imported.len(), 2);
    assert_eq!(findings(&world.securityhub(), &more).await.len(), 2);
}

#[tokio::test]
async fn throttling_is_retried() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world.share("busy", true, &[OUTSIDER]).await;
    for (service, op) in [
        ("securityhub", "BatchImportFindings"),
        ("securityhub", "GetFindings"),
        ("ram", "GetResourceShareAssociations"),
        ("organizations", "ListAccounts"),
    ] {
        world
            .standin
            .inject_fault(Fault::throttle(service, op, &mgmt, 2));
    }
    let out = importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .expect("import despite throttling");
    assert_eq!(out.imported.len(), 1);
    assert_eq!(findings(&world.securityhub(), &share).await.len(), 1);
}

#[tokio::test]
async fn org_wide_imports_in_the_member_account_through_its_role() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    world.enable_security_hub(&member).await;
    world.enable_security_hub(&mgmt).await;
    let member_cfg = world.standin.config_for(&member).await;
    let share = world.share_in(&member, "member-share", &[OUTSIDER]).await;
    let event = change(&member, &share, "NON_COMPLIANT", None);

    let err = importer(&world, Parameters::default())
        .handle(event.clone(), &mgmt)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ImportError::Access(AccountAccess::NoExecutionRole(_))),
        "{err}"
    );

    // a member the StackSet has not reached (no member role): skipped, not failed, nothing imported
    let missing_role = Parameters {
        execution_role_name: Some("ramguard-member".into()),
        ..Parameters::default()
    };
    let out = importer(&world, missing_role)
        .handle(event.clone(), &mgmt)
        .await
        .expect("a missing member role is not a failed invocation");
    assert_eq!(
        out.ignored,
        Some(format!(
            "member role arn:aws:iam::{member}:role/ramguard-member unavailable"
        ))
    );
    assert!(out.imported.is_empty());

    let params = Parameters {
        execution_role_name: Some(TEST_ROLE.into()),
        ..Parameters::default()
    };
    let out = importer(&world, params)
        .handle(event, &mgmt)
        .await
        .expect("org-wide import");
    assert_eq!(out.imported.len(), 1);
    let in_member = findings(&aws_sdk_securityhub::Client::new(&member_cfg), &share).await;
    assert_eq!(in_member.len(), 1);
    assert_eq!(
        in_member[0].aws_account_id.as_deref(),
        Some(member.as_str())
    );
    assert!(findings(&world.securityhub(), &share).await.is_empty());
}

#[tokio::test]
async fn bad_and_foreign_events() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world.share("s", true, &[OUTSIDER]).await;
    let imp = importer(&world, Parameters::default());

    let mut other_rule = change(&mgmt, &share, "NON_COMPLIANT", None);
    other_rule["detail"]["configRuleName"] = json!("s3-bucket-public-read-prohibited");
    let out = imp.handle(other_rule, &mgmt).await.expect("ignored");
    assert!(out.ignored.unwrap().contains("not ramguard's"));

    let mut member_form = change(&mgmt, &share, "NON_COMPLIANT", None);
    member_form["detail"]["configRuleName"] = json!(format!("OrgConfigRule-{RULE}-x1y2z3"));
    let out = imp.handle(member_form, &mgmt).await.expect("member form");
    assert_eq!(out.imported.len(), 1);

    let mut other_type = change(&mgmt, &share, "NON_COMPLIANT", None);
    other_type["detail-type"] = json!("EC2 Instance State-change Notification");
    assert!(imp
        .handle(other_type, &mgmt)
        .await
        .unwrap()
        .ignored
        .is_some());

    let mut malformed = change(&mgmt, &share, "NON_COMPLIANT", None);
    malformed["detail"]["newEvaluationResult"] = json!({});
    let err = imp.handle(malformed, &mgmt).await.unwrap_err();
    assert!(matches!(err, ImportError::BadEvent(_)));
    assert!(
        err.to_string()
            .contains("detail.newEvaluationResult.complianceType"),
        "{err}"
    );

    let err = imp.handle(json!([1, 2]), &mgmt).await.unwrap_err();
    assert!(matches!(err, ImportError::BadEvent(_)), "{err}");

    // a missing organization: no guess, an error
    world.standin.inject_fault(Fault::always(
        "organizations",
        "ListAccounts",
        "AWSOrganizationsNotInUseException",
        &mgmt,
    ));
    let err = importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap_err();
    assert!(matches!(err, ImportError::OrgSnapshot(_)), "{err}");
}

#[tokio::test]
async fn security_hub_not_enabled_is_a_clear_error() {
    let world = World::new(0).await;
    let mgmt = world.org.management.clone();
    let share = world.share("s", true, &[OUTSIDER]).await;
    let err = importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("InvalidAccessException"), "{err}");
}

#[tokio::test]
async fn findings_say_which_sources_are_outside_what_a_policy_share_needs_and_retained_access() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let imp = importer(&world, Parameters::default());
    let hub = world.securityhub();

    // a service principal that may act for an outside account
    let sourced = create_share(
        world
            .ram()
            .create_resource_share()
            .name("sourced")
            .principals("logs.amazonaws.com")
            .sources(OUTSIDER),
    )
    .await;
    imp.handle(change(&mgmt, &sourced, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap();
    let f = &findings(&hub, &sourced).await[0];
    let details = f.resources.as_ref().unwrap()[0]
        .details
        .as_ref()
        .unwrap()
        .other
        .clone()
        .unwrap();
    assert_eq!(details["outsideSources"], OUTSIDER);
    assert!(f.description.as_deref().unwrap().contains(&format!(
        "on behalf of sources outside the organization: {OUTSIDER}"
    )));

    // a share created from a policy: the recommendation says to promote it or edit the policy
    let from_policy = world.share("from-policy", true, &[OUTSIDER]).await;
    world
        .standin
        .set_share_state(json!({"shareArn": from_policy, "featureSet": "CREATED_FROM_POLICY"}));
    imp.handle(change(&mgmt, &from_policy, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap();
    let f = &findings(&hub, &from_policy).await[0];
    let text = f
        .remediation
        .as_ref()
        .unwrap()
        .recommendation
        .as_ref()
        .unwrap()
        .text
        .clone()
        .unwrap();
    assert!(
        text.contains("PromoteResourceShareCreatedFromPolicy"),
        "{text}"
    );

    // strict mode: retained access on leave has a finding of its own type and severity
    let retains = create_share(
        world
            .ram()
            .create_resource_share()
            .name("retains")
            .allow_external_principals(false)
            .principals(world.org.members[0].as_str())
            .resource_share_configuration(
                aws_sdk_ram::types::ResourceShareConfiguration::builder()
                    .retain_sharing_on_account_leave_organization(true)
                    .build(),
            ),
    )
    .await;
    let strict = importer(
        &world,
        Parameters {
            flag_allow_external_principals: true,
            ..Parameters::default()
        },
    );
    strict
        .handle(change(&mgmt, &retains, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap();
    let f = &findings(&hub, &retains).await[0];
    assert_eq!(
        f.id.as_deref(),
        Some(format!("{retains}/retains-access-on-leave").as_str())
    );
    assert_eq!(
        f.finding_provider_fields
            .as_ref()
            .unwrap()
            .types
            .as_ref()
            .unwrap()[0],
        ramguard_core::finding::RETAINED_ACCESS_TYPE
    );
    assert_eq!(
        f.severity
            .as_ref()
            .unwrap()
            .label
            .as_ref()
            .unwrap()
            .as_str(),
        "MEDIUM"
    );
}

#[tokio::test]
async fn a_finding_carries_the_shared_resources_and_permissions() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let subnet = format!("arn:aws:ec2:{REGION}:{mgmt}:subnet/subnet-0123456789abcdef0");
    let share = create_share(
        world
            .ram()
            .create_resource_share()
            .name("with-subnet")
            .principals(OUTSIDER)
            .resource_arns(&subnet),
    )
    .await;
    importer(&world, Parameters::default())
        .handle(change(&mgmt, &share, "NON_COMPLIANT", None), &mgmt)
        .await
        .unwrap();
    let f = &findings(&world.securityhub(), &share).await[0];
    let resources = f.resources.as_ref().unwrap();
    assert_eq!(resources.len(), 2);
    assert_eq!(resources[1].id.as_deref(), Some(subnet.as_str()));
    let details = |i: usize| {
        resources[i]
            .details
            .as_ref()
            .unwrap()
            .other
            .clone()
            .unwrap()
    };
    assert_eq!(details(1)["ramResourceType"], "ec2:Subnet");
    assert_eq!(details(0)["permissions"], "AWSRAMDefaultPermissionSubnet");
    assert!(f.description.as_deref().unwrap().contains(
        "Shared: 1 resource (ec2:Subnet) with permissions AWSRAMDefaultPermissionSubnet."
    ));
}
