//! Every operation the stand-in extends, round-tripped through the real Rust AWS SDK.

use aws_sdk_ram::types::{
    ResourceShareAssociationStatus, ResourceShareAssociationType, ResourceShareStatus,
};
use ramguard_testkit::{Fault, World, OUTSIDER, REGION};
use serde_json::json;

fn code<E: aws_sdk_ram::error::ProvideErrorMetadata>(err: &E) -> String {
    err.code().unwrap_or_default().to_string()
}

#[tokio::test]
async fn ram_lifecycle_round_trips() {
    let world = World::new(2).await;
    let ram = world.ram();
    let member = world.org.members[0].as_str();
    let role = format!("arn:aws:iam::{member}:role/app");
    let share = world
        .share(
            "everything",
            true,
            &[
                member,
                OUTSIDER,
                &world.org.arn,
                &world.org.nested_ou.arn,
                &role,
                "logs.amazonaws.com",
            ],
        )
        .await;

    let assocs = ram
        .get_resource_share_associations()
        .association_type(ResourceShareAssociationType::Principal)
        .resource_share_arns(&share)
        .send()
        .await
        .unwrap()
        .resource_share_associations
        .unwrap();
    assert_eq!(assocs.len(), 6);
    let status_of = |entity: &str| {
        assocs
            .iter()
            .find(|a| a.associated_entity() == Some(entity))
            .map(|a| (a.status.clone().unwrap(), a.external.unwrap_or_default()))
            .unwrap()
    };
    assert_eq!(
        status_of(member),
        (ResourceShareAssociationStatus::Associated, false)
    );
    assert_eq!(
        status_of(OUTSIDER),
        (ResourceShareAssociationStatus::Associating, true)
    );
    assert_eq!(
        status_of(&world.org.nested_ou.arn).0,
        ResourceShareAssociationStatus::Associated
    );

    // invitation seen and accepted by the outsider
    world.accept_invitations(OUTSIDER).await;
    let principals = ram
        .list_principals()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_arns(&share)
        .send()
        .await
        .unwrap()
        .principals
        .unwrap();
    assert!(principals
        .iter()
        .any(|p| p.id() == Some(OUTSIDER) && p.external == Some(true)));

    // disassociate: DISASSOCIATING in the answer, gone from ListPrincipals after
    let out = ram
        .disassociate_resource_share()
        .resource_share_arn(&share)
        .principals(OUTSIDER)
        .client_token("rt-1")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.resource_share_associations()[0].status,
        Some(ResourceShareAssociationStatus::Disassociating)
    );
    let principals = ram
        .list_principals()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_arns(&share)
        .send()
        .await
        .unwrap()
        .principals
        .unwrap();
    assert!(!principals.iter().any(|p| p.id() == Some(OUTSIDER)));

    // associate, tags, update without allowExternalPrincipals, list resources, delete
    ram.associate_resource_share()
        .resource_share_arn(&share)
        .principals(&world.org.members[1])
        .send()
        .await
        .unwrap();
    ram.tag_resource()
        .resource_share_arn(&share)
        .tags(
            aws_sdk_ram::types::Tag::builder()
                .key("ramguard:exempt")
                .value("2030-01-01")
                .build(),
        )
        .send()
        .await
        .unwrap();
    ram.untag_resource()
        .resource_share_arn(&share)
        .tag_keys("nothing")
        .send()
        .await
        .unwrap();
    let updated = ram
        .update_resource_share()
        .resource_share_arn(&share)
        .name("renamed")
        .send()
        .await
        .unwrap()
        .resource_share
        .unwrap();
    assert_eq!(updated.allow_external_principals, Some(true));
    assert_eq!(updated.tags().len(), 1);
    let resources = ram
        .list_resources()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .send()
        .await
        .unwrap();
    assert_eq!(resources.resources().len(), 1);
    ram.delete_resource_share()
        .resource_share_arn(&share)
        .send()
        .await
        .unwrap();
    let shares = ram
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .resource_share_status(ResourceShareStatus::Deleted)
        .send()
        .await
        .unwrap();
    assert_eq!(shares.resource_shares().len(), 1);
}

#[tokio::test]
async fn ram_errors_have_aws_codes() {
    let world = World::new(1).await;
    let ram = world.ram();
    let err = ram
        .create_resource_share()
        .name("closed")
        .allow_external_principals(false)
        .principals(OUTSIDER)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "OperationNotPermittedException");
    let err = ram
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .max_results(501)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&err), "InvalidParameterException");
    let err = ram
        .disassociate_resource_share()
        .resource_share_arn(format!(
            "arn:aws:ram:{REGION}:{}:resource-share/none",
            world.org.management
        ))
        .principals(OUTSIDER)
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .map(|e| e.is_unknown_resource_exception())
        .unwrap_or(false));
}

#[tokio::test]
async fn ram_pages_with_tokens_and_empty_pages() {
    let world = World::new(1).await;
    for i in 0..5 {
        world
            .share(&format!("s{i}"), false, &[world.org.members[0].as_str()])
            .await;
    }
    world.standin.settings(
        &world.org.management,
        json!({"emptyFirstPage": ["GetResourceShares"]}),
    );
    let pages: Vec<_> = world
        .ram()
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.len(), 4, "an empty first page, then 2 + 2 + 1");
    assert_eq!(
        pages
            .iter()
            .map(|p| p.resource_shares().len())
            .sum::<usize>(),
        5
    );
}

#[tokio::test]
async fn config_evaluations_round_trip() {
    use aws_sdk_config::types::{ComplianceType, Evaluation};
    let world = World::new(0).await;
    world
        .config_rule("ramguard-rt", json!({"TrustedAccountIds": ""}))
        .await;
    let event = world
        .standin
        .rule_event(json!({"account": world.org.management, "ruleName": "ramguard-rt"}));
    let token = event["resultToken"].as_str().unwrap();
    let config = world.config();
    let evaluation = |id: &str, ct: ComplianceType| {
        Evaluation::builder()
            .compliance_resource_type("AWS::RAM::ResourceShare")
            .compliance_resource_id(id)
            .compliance_type(ct)
            .annotation("outside: 999999999999")
            .ordering_timestamp(aws_smithy_types::DateTime::from_secs(1_790_000_000))
            .build()
            .unwrap()
    };
    config
        .put_evaluations()
        .result_token(token)
        .evaluations(evaluation("a", ComplianceType::NonCompliant))
        .evaluations(evaluation("b", ComplianceType::Compliant))
        .send()
        .await
        .unwrap();
    let results = config
        .get_compliance_details_by_config_rule()
        .config_rule_name("ramguard-rt")
        .compliance_types(ComplianceType::NonCompliant)
        .send()
        .await
        .unwrap();
    assert_eq!(results.evaluation_results().len(), 1);
    let summary = config
        .describe_compliance_by_config_rule()
        .config_rule_names("ramguard-rt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        summary.compliance_by_config_rules()[0]
            .compliance()
            .and_then(|c| c.compliance_type.clone()),
        Some(ComplianceType::NonCompliant)
    );
    let err = config
        .put_evaluations()
        .result_token("forged")
        .evaluations(evaluation("a", ComplianceType::Compliant))
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .map(|e| e.is_invalid_result_token_exception())
        .unwrap_or(false));
    config
        .start_config_rules_evaluation()
        .config_rule_names("ramguard-rt")
        .send()
        .await
        .unwrap();
    let again = config
        .start_config_rules_evaluation()
        .config_rule_names("ramguard-rt")
        .send()
        .await;
    assert!(again
        .unwrap_err()
        .as_service_error()
        .map(|e| e.is_limit_exceeded_exception())
        .unwrap_or(false));
}

#[tokio::test]
async fn securityhub_findings_round_trip() {
    use aws_sdk_securityhub::types::{
        AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, Compliance,
        ComplianceStatus, NoteUpdate, Resource, StringFilter, StringFilterComparison,
    };
    let world = World::new(0).await;
    let hub = world.securityhub();
    hub.enable_security_hub().send().await.unwrap();
    let account = world.org.management.clone();
    let product = format!("arn:aws:securityhub:{REGION}:{account}:product/{account}/default");
    let finding = |id: &str, updated: &str, status: ComplianceStatus| {
        AwsSecurityFinding::builder()
            .schema_version("2018-10-08")
            .id(id)
            .product_arn(&product)
            .generator_id("ramguard/rt")
            .aws_account_id(&account)
            .created_at("2026-11-01T00:00:00.000Z")
            .updated_at(updated)
            .title("t")
            .description("d")
            .compliance(Compliance::builder().status(status).build())
            .resources(
                Resource::builder()
                    .r#type("Other")
                    .id("arn:share/1")
                    .build(),
            )
            .build()
    };
    let out = hub
        .batch_import_findings()
        .findings(finding(
            "f1",
            "2026-11-02T00:00:00.000Z",
            ComplianceStatus::Failed,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!((out.success_count, out.failed_count), (Some(1), Some(0)));
    hub.batch_import_findings()
        .findings(finding(
            "f1",
            "2026-11-01T00:00:00.000Z",
            ComplianceStatus::Passed,
        ))
        .send()
        .await
        .unwrap();
    let eq = |v: &str| {
        StringFilter::builder()
            .value(v)
            .comparison(StringFilterComparison::Equals)
            .build()
    };
    let found = hub
        .get_findings()
        .filters(
            AwsSecurityFindingFilters::builder()
                .generator_id(eq("ramguard/rt"))
                .resource_id(eq("arn:share/1"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(found.findings().len(), 1);
    assert_eq!(
        found.findings()[0]
            .compliance()
            .and_then(|c| c.status.clone()),
        Some(ComplianceStatus::Failed),
        "an older UpdatedAt is ignored"
    );
    let updated = hub
        .batch_update_findings()
        .finding_identifiers(
            AwsSecurityFindingIdentifier::builder()
                .id("f1")
                .product_arn(&product)
                .build(),
        )
        .note(
            NoteUpdate::builder()
                .text("remediated")
                .updated_by("ramguard")
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(updated.processed_findings().len(), 1);
}

#[tokio::test]
async fn organizations_pages_and_access_rules() {
    let world = World::new(22).await;
    let pages: Vec<_> = world
        .organizations()
        .list_accounts()
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap();
    assert_eq!(pages.iter().map(|p| p.accounts().len()).sum::<usize>(), 23);
    assert!(pages.len() >= 2);
    let member = world.standin.config_for(&world.org.members[0]).await;
    let err = aws_sdk_organizations::Client::new(&member)
        .list_accounts()
        .send()
        .await
        .unwrap_err();
    assert!(err
        .as_service_error()
        .map(|e| e.is_access_denied_exception())
        .unwrap_or(false));
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_counted() {
    let world = World::new(0).await;
    let account = world.org.management.clone();
    world
        .standin
        .inject_fault(Fault::throttle("ram", "GetResourceShares", &account, 2));
    world
        .ram()
        .get_resource_shares()
        .resource_owner(aws_sdk_ram::types::ResourceOwner::SelfValue)
        .send()
        .await
        .expect("third attempt succeeds");
    let calls = world.standin.calls(&account);
    let n = calls
        .iter()
        .find(|c| c.operation == "GetResourceShares")
        .map(|c| c.count)
        .unwrap();
    assert_eq!(n, 3);
}
