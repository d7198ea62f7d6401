//! Every AWS call the importer makes is in its list in shared/iam-actions.json (what its IAM role
//! in template.yaml allows), and every action of the list is used: least privilege, checked.
//! One test in this binary, so the stand-in's call counts are this scenario's alone.

use ramguard_core::Parameters;
use ramguard_findings_importer::Importer;
use ramguard_testkit::{compliance_change, World, OUTSIDER, TEST_ROLE};

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn calls_exactly_the_listed_actions() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    world.enable_security_hub(&member).await;
    let share = world.share_in(&member, "s", &[OUTSIDER]).await;
    let params = Parameters {
        execution_role_name: Some(TEST_ROLE.into()),
        ..Parameters::default()
    };
    // a baseline by account tags and resource types: the structure, tags and resources are read
    aws_sdk_ssm::Client::new(&world.management)
        .put_parameter()
        .name("/ramguard/sharing-baseline")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value("version: \"1\"\nboundaries:\n  production:\n    tags: {env: production}\nresource_types:\n  allowed: [ec2:Subnet]\n")
        .send()
        .await
        .expect("PutParameter");
    let importer = Importer::new(world.management.clone(), Some(RULE.into()), params)
        .with_baseline(ramguard_aws::baseline::BaselineStore::new(
            Some("/ramguard/sharing-baseline".into()),
            std::time::Duration::from_secs(300),
        ));
    world.enable_scps().await;
    world.standin.reset_calls();

    importer
        .handle(
            compliance_change(RULE, &member, &share, "NON_COMPLIANT", None),
            &mgmt,
        )
        .await
        .expect("import");
    // an account's own evaluation: the SCPs on its path, and whether RAM shares with the
    // organization
    let mut account = compliance_change(RULE, &member, &member, "NON_COMPLIANT", None);
    account["detail"]["resourceType"] = serde_json::json!("AWS::::Account");
    let out = importer.handle(account, &mgmt).await.expect("import");
    assert!(out.coverage.is_some(), "{out:?}");

    world
        .standin
        .assert_calls_match_iam_actions("findings-importer");
}
