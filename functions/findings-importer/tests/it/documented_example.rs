//! The example finding in docs/findings-importer.md is what the importer builds for its sample share: rendered
//! here from the same code path and compared, so the documentation cannot drift.

use std::collections::BTreeMap;

use ramguard_core::finding::{findings_for, FindingContext};
use ramguard_core::{
    evaluate, AssociationStatus, MemberAccount, OrgSnapshot, Parameters, PrincipalAssociation,
    ResourceShare, ShareStatus,
};
use ramguard_testkit::repo_root;
use serde_json::Value;

const MARKER: &str =
    "<!-- example finding: checked by functions/findings-importer/tests/it/documented_example.rs -->";

fn rendered() -> Value {
    let org = OrgSnapshot {
        org_id: "o-a1b2c3d4e5".into(),
        org_arn: "arn:aws:organizations::111111111111:organization/o-a1b2c3d4e5".into(),
        management_account: "111111111111".into(),
        accounts: BTreeMap::from([(
            "111111111111".to_string(),
            MemberAccount {
                id: "111111111111".into(),
                state: "ACTIVE".into(),
            },
        )]),
    };
    let share = ResourceShare {
        arn:
            "arn:aws:ram:us-east-1:111111111111:resource-share/5c7e1f0a-2b3d-4c5e-8f9a-0b1c2d3e4f5a"
                .into(),
        name: "shared-subnets".into(),
        owner: "111111111111".into(),
        status: ShareStatus::Active,
        allow_external_principals: true,
        tags: BTreeMap::new(),
        principals: vec![PrincipalAssociation {
            entity: "999999999999".into(),
            status: AssociationStatus::Associated,
            external: Some(true),
        }],
        feature_set: "STANDARD".into(),
        ..Default::default()
    };
    let verdict = evaluate(&share, &org, &Parameters::default(), 1_795_000_000);
    let ctx = FindingContext {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "111111111111".into(),
        now: "2026-11-23T10:00:01.250Z".into(),
    };
    let exposure = ramguard_core::Exposure {
        resources: vec![ramguard_core::SharedResource {
            arn: "arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0123456789abcdef0".into(),
            resource_type: "ec2:Subnet".into(),
        }],
        permissions: vec!["AWSRAMDefaultPermissionSubnet".into()],
    };
    let findings = findings_for(&share, &verdict, &ctx, &exposure);
    assert_eq!(findings.len(), 1);
    serde_json::to_value(&findings[0]).expect("finding JSON")
}

#[test]
fn the_docs_show_the_finding_the_importer_builds() {
    let doc = std::fs::read_to_string(repo_root().join("docs/findings-importer.md"))
        .expect("docs/findings-importer.md");
    let rendered = rendered();
    let pretty = serde_json::to_string_pretty(&rendered).unwrap();
    let block = doc
        .split_once(MARKER)
        .and_then(|(_, rest)| rest.split_once("```json\n"))
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .map(|(json, _)| json)
        .unwrap_or_else(|| {
            panic!("docs/findings-importer.md has no example finding after {MARKER}; it should be:\n{pretty}")
        });
    let shown: Value = serde_json::from_str(block).expect("the documented example is JSON");
    assert_eq!(
        shown, rendered,
        "the documented example finding is stale; it should be:\n{pretty}"
    );
}
