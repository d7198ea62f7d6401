//! Every AWS call the remediator makes is in its list in shared/iam-actions.json (what its IAM
//! role in template.yaml allows), and every action of the list is used: least privilege, checked.
//! One test in this binary, so the stand-in's call counts are this scenario's alone.

use ramguard_core::Parameters;
use ramguard_remediator::{Mode, Remediator, Settings, ShareOutcome};
use ramguard_testkit::{compliance_change, World, OUTSIDER, TEST_ROLE};

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn calls_exactly_the_listed_actions() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    let member = world.org.members[0].clone();
    world.enable_security_hub(&member).await;
    let share = world.share_in(&member, "s", &[OUTSIDER]).await;
    world.raise_findings(&member, &share).await;
    let mut settings = Settings {
        mode: Mode::Enforce,
        max_principals_per_run: 50,
        restrict_share: true,
        enforce_baseline: false,
        rule_name: Some(RULE.into()),
        params: Parameters::default(),
        verify_wait: std::time::Duration::from_secs(2),
    };
    settings.params.execution_role_name = Some(TEST_ROLE.into());
    // a baseline by account tags and resource types: the structure, tags and resources are read
    aws_sdk_ssm::Client::new(&world.management)
        .put_parameter()
        .name("/ramguard/sharing-baseline")
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value("version: \"1\"\nboundaries:\n  production:\n    tags: {env: production}\nresource_types:\n  allowed: [ec2:Subnet]\n")
        .send()
        .await
        .expect("PutParameter");
    let remediator = Remediator::new(world.management.clone(), settings).with_baseline(
        ramguard_aws::baseline::BaselineStore::new(
            Some("/ramguard/sharing-baseline".into()),
            std::time::Duration::from_secs(300),
        ),
    );
    world.standin.reset_calls();

    let report = remediator
        .handle(
            compliance_change(RULE, &member, &share, "NON_COMPLIANT", None),
            &mgmt,
        )
        .await
        .expect("remediate");
    assert_eq!(
        report.shares[0].outcome,
        ShareOutcome::Remediated,
        "{report:?}"
    );
    assert!(report.shares[0].restricted);

    world.standin.assert_calls_match_iam_actions("remediator");
}
