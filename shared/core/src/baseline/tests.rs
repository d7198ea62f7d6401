use super::*;
use crate::{AssociationStatus, MemberAccount, PrincipalAssociation, ShareStatus};

/// The README's example baseline (between its `<!-- baseline example -->` markers).
fn readme_example() -> String {
    let readme = include_str!("../../../../README.md");
    let block = readme
        .split_once("<!-- baseline example -->")
        .and_then(|(_, rest)| rest.split_once("<!-- /baseline example -->"))
        .map(|(b, _)| b)
        .expect("the README's example baseline");
    block
        .trim()
        .trim_start_matches("```yaml")
        .trim_end_matches("```")
        .to_string()
}

const NETWORK: &str = "111111111111";
const PROD: &str = "222222222222";
const SANDBOX: &str = "333333333333";
const LOOSE: &str = "444444444444";

fn org() -> OrgSnapshot {
    OrgSnapshot {
        org_id: "o-a1b2c3d4e5".into(),
        org_arn: "arn:aws:organizations::999999999990:organization/o-a1b2c3d4e5".into(),
        management_account: "999999999990".into(),
        accounts: [NETWORK, PROD, SANDBOX, LOOSE, "999999999990"]
            .into_iter()
            .map(|id| {
                (
                    id.to_string(),
                    MemberAccount {
                        id: id.into(),
                        state: "ACTIVE".into(),
                    },
                )
            })
            .collect(),
    }
}

fn structure() -> OrgStructure {
    let parents = [
        ("ou-a1b2-prod0001", "r-a1b2"),
        ("ou-a1b2-sandbox1", "r-a1b2"),
        (PROD, "ou-a1b2-prod0001"),
        (SANDBOX, "ou-a1b2-sandbox1"),
        (NETWORK, "r-a1b2"),
        (LOOSE, "r-a1b2"),
    ];
    OrgStructure {
        parents: parents
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect(),
        tags: BTreeMap::new(),
    }
}

fn share(owner: &str, principals: &[&str], tags: &[(&str, &str)]) -> ResourceShare {
    ResourceShare {
        arn: format!("arn:aws:ram:us-east-1:{owner}:resource-share/s"),
        name: "s".into(),
        owner: owner.into(),
        status: ShareStatus::Active,
        allow_external_principals: false,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        principals: principals
            .iter()
            .map(|p| PrincipalAssociation {
                entity: p.to_string(),
                status: AssociationStatus::Associated,
                external: Some(false),
            })
            .collect(),
        feature_set: "STANDARD".into(),
        retains_access_on_leave: false,
        sources: vec![],
    }
}

fn judge(s: &ResourceShare, types: &[&str]) -> Vec<BaselineViolation> {
    let source = parse(&readme_example()).expect("the README's example parses");
    let (org, structure, params) = (org(), structure(), Parameters::default());
    let ctx = BaselineContext {
        baseline: &source.baseline,
        org: &org,
        structure: &structure,
        params: &params,
    };
    let types = types.iter().map(|t| t.to_string()).collect();
    violations(s, &types, &ctx, 1_796_000_000)
}

const TAGS: [(&str, &str); 2] = [("owner", "team-a"), ("purpose", "shared network")];

#[test]
fn a_production_subnet_shared_with_sandbox_crosses_the_boundary() {
    let found = judge(&share(PROD, &[SANDBOX], &TAGS), &["ec2:Subnet"]);
    assert_eq!(
        found,
        vec![BaselineViolation::Boundary {
            boundary: "production".into(),
            principal: SANDBOX.into(),
            reaches: format!("{SANDBOX} in boundary sandbox"),
        }]
    );
    let text = annotation("2026-12-01", &found);
    assert!(
        text.contains("boundary production") && text.contains(SANDBOX),
        "{text}"
    );
}

#[test]
fn the_network_account_may_share_subnets_with_every_workload_boundary() {
    assert_eq!(
        judge(&share(NETWORK, &[SANDBOX, PROD], &TAGS), &["ec2:Subnet"]),
        vec![]
    );
    // the crossing is for its resource types only
    let found = judge(
        &share(NETWORK, &[SANDBOX], &TAGS),
        &["ec2:Subnet", "rds:Cluster"],
    );
    assert!(
        found
            .iter()
            .any(|v| matches!(v, BaselineViolation::Boundary { .. })),
        "{found:?}"
    );
    assert!(found.iter().any(|v| matches!(v, BaselineViolation::ResourceType { resource_type, .. } if resource_type == "rds:Cluster")));
}

#[test]
fn an_account_in_no_boundary_is_outside_every_boundary() {
    let found = judge(&share(PROD, &[LOOSE], &TAGS), &["ec2:Subnet"]);
    assert!(
        matches!(&found[..], [BaselineViolation::Boundary { reaches, .. }] if reaches.contains("in no boundary")),
        "{found:?}"
    );
    // and an owner in no boundary is bound by no boundary
    assert_eq!(
        judge(&share(LOOSE, &[PROD], &TAGS), &["ec2:Subnet"]),
        vec![]
    );
}

#[test]
fn forms_tags_and_expiry() {
    let org_arn = "arn:aws:organizations::999999999990:organization/o-a1b2c3d4e5";
    let found = judge(&share(PROD, &[org_arn], &TAGS), &["ec2:Subnet"]);
    assert!(found.iter().any(|v| matches!(v, BaselineViolation::PrincipalForm { at, .. } if at == "principals.by_boundary.production")), "{found:?}");
    let user = format!("arn:aws:iam::{PROD}:user/alice");
    let found = judge(&share(PROD, &[&user], &TAGS), &["ec2:Subnet"]);
    assert!(found.iter().any(|v| matches!(v, BaselineViolation::PrincipalForm { at, .. } if at == "principals.forbidden")), "{found:?}");
    let untagged = judge(&share(PROD, &[PROD], &[]), &["ec2:Subnet"]);
    assert_eq!(
        untagged,
        vec![
            BaselineViolation::RequiredTag {
                tag: "owner".into()
            },
            BaselineViolation::RequiredTag {
                tag: "purpose".into()
            },
        ]
    );
    let expired = judge(
        &share(
            PROD,
            &[PROD],
            &[TAGS[0], TAGS[1], ("expires", "2020-01-01")],
        ),
        &["ec2:Subnet"],
    );
    assert_eq!(
        expired,
        vec![BaselineViolation::Expired {
            tag: "expires".into(),
            until: "2020-01-01".into()
        }]
    );
    let bad = judge(
        &share(PROD, &[PROD], &[TAGS[0], TAGS[1], ("expires", "soon")]),
        &["ec2:Subnet"],
    );
    assert!(matches!(
        &bad[..],
        [BaselineViolation::InvalidExpiry { .. }]
    ));
    let later = judge(
        &share(
            PROD,
            &[PROD],
            &[TAGS[0], TAGS[1], ("expires", "2099-01-01")],
        ),
        &["ec2:Subnet"],
    );
    assert_eq!(later, vec![]);
}

#[test]
fn problems_come_with_their_line() {
    let text =
        "version: \"1\"\nboundaries:\n  prod:\n    ous: [ou-a1b2-prod0001]\n    acounts: [\"1\"]\n";
    let problems = parse(text).unwrap_err();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].line, 5, "{}", problems[0]);
    assert!(
        problems[0].message.contains("unknown field `acounts`"),
        "{}",
        problems[0]
    );

    let text = "version: \"1\"\nboundaries:\n  prod:\n    ous: [ou-a1b2-prod0001]\ncrossings:\n  - name: x\n    from: prod\n    to: [sandbox]\n";
    let problems = parse(text).unwrap_err();
    assert_eq!(
        (problems[0].line, problems[0].path.as_str()),
        (8, "crossings[0].to[0]"),
        "{}",
        problems[0]
    );

    let text = "version: \"1\"\nboundaries:\n  prod:\n    ous: [bad-ou]\n";
    assert_eq!(parse(text).unwrap_err()[0].line, 4);
    assert!(parse("version: [").unwrap_err()[0]
        .message
        .starts_with("not YAML"));
    assert!(parse("").is_err());
}

#[test]
fn the_organization_check_reports_an_unknown_ou_and_overlaps_with_their_lines() {
    let source = parse(&readme_example()).unwrap();
    let mut s = structure();
    assert_eq!(check_against(&source, &org(), &s), vec![]);
    s.parents.remove("ou-a1b2-sandbox1");
    let problems = check_against(&source, &org(), &s);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]
        .message
        .contains("OU ou-a1b2-sandbox1 is not in organization"));
    assert_eq!(
        problems[0].line,
        source.line_of("boundaries.sandbox.ous[0]")
    );
    assert!(problems[0].line > 1);

    let overlapping = readme_example().replace(
        "accounts: [\"111111111111\"]",
        "accounts: [\"222222222222\"]",
    );
    let source = parse(&overlapping).unwrap();
    let problems = check_against(&source, &org(), &structure());
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("222222222222 is in boundaries")),
        "{problems:?}"
    );
}

#[test]
fn a_boundary_by_account_tags_holds_the_accounts_whose_tags_all_match() {
    let text =
        "version: \"1\"\nboundaries:\n  production:\n    tags: {env: production, tier: \"1\"}\n";
    let source = parse(text).unwrap();
    let mut s = structure();
    let tags = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    s.tags
        .insert(PROD.into(), tags(&[("env", "production"), ("tier", "1")]));
    s.tags
        .insert(SANDBOX.into(), tags(&[("env", "production")]));
    assert!(source.baseline.uses_tags());
    assert_eq!(
        source
            .baseline
            .boundaries_of(PROD, &s)
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["production"]
    );
    assert!(
        source.baseline.boundaries_of(SANDBOX, &s).is_empty(),
        "every tag must match"
    );
    let (org, params) = (org(), Parameters::default());
    let ctx = BaselineContext {
        baseline: &source.baseline,
        org: &org,
        structure: &s,
        params: &params,
    };
    let found = violations(&share(PROD, &[SANDBOX], &[]), &BTreeSet::new(), &ctx, 0);
    assert!(
        matches!(&found[..], [BaselineViolation::Boundary { reaches, .. }] if reaches.contains("in no boundary")),
        "{found:?}"
    );
}
