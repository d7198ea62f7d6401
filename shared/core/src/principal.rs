//! RAM principals: parsing RAM's `associatedEntity` strings into what they name.

use std::fmt;

/// An AWS partition a principal ARN may name: the partitions AWS lists today (the SDKs'
/// endpoint data, `partitions.json`: aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e,
/// aws-iso-f, aws-eusc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    /// `aws`
    Aws,
    /// `aws-cn`
    AwsCn,
    /// `aws-us-gov`
    AwsUsGov,
    /// `aws-iso`
    AwsIso,
    /// `aws-iso-b`
    AwsIsoB,
    /// `aws-iso-e`
    AwsIsoE,
    /// `aws-iso-f`
    AwsIsoF,
    /// `aws-eusc`
    AwsEusc,
}

impl Partition {
    /// Every partition AWS lists.
    pub const ALL: [Partition; 8] = [
        Partition::Aws,
        Partition::AwsCn,
        Partition::AwsUsGov,
        Partition::AwsIso,
        Partition::AwsIsoB,
        Partition::AwsIsoE,
        Partition::AwsIsoF,
        Partition::AwsEusc,
    ];

    /// The partition an ARN names.
    pub fn parse(s: &str) -> Option<Partition> {
        Partition::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Its name in ARNs.
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsCn => "aws-cn",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsIso => "aws-iso",
            Partition::AwsIsoB => "aws-iso-b",
            Partition::AwsIsoE => "aws-iso-e",
            Partition::AwsIsoF => "aws-iso-f",
            Partition::AwsEusc => "aws-eusc",
        }
    }
}

/// What a RAM principal association names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Principal {
    /// A 12-digit AWS account ID.
    Account(String),
    /// `arn:<p>:organizations::<management>:organization/o-…`
    Organization {
        /// The partition in the ARN.
        partition: Partition,
        /// The organization's management account.
        management_account: String,
        /// The organization's id.
        org_id: String,
    },
    /// `arn:<p>:organizations::<management>:ou/o-…/ou-…`
    OrganizationalUnit {
        /// The partition in the ARN.
        partition: Partition,
        /// The organization's management account.
        management_account: String,
        /// The organization's id.
        org_id: String,
        /// The OU's id.
        ou_id: String,
    },
    /// `arn:<p>:iam::<account>:role/<path/name>`
    IamRole {
        /// The partition in the ARN.
        partition: Partition,
        /// The role's account.
        account: String,
    },
    /// `arn:<p>:iam::<account>:user/<path/name>`
    IamUser {
        /// The partition in the ARN.
        partition: Partition,
        /// The user's account.
        account: String,
    },
    /// `<name>.amazonaws.com` (or another partition's service suffix)
    ServicePrincipal(String),
    /// Anything else: it cannot be proved to be inside the organization.
    Unrecognized(String),
}

/// A principal's kind, for logs, annotations and findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A 12-digit account id.
    Account,
    /// An organization.
    Organization,
    /// An organizational unit.
    OrganizationalUnit,
    /// An IAM role.
    IamRole,
    /// An IAM user.
    IamUser,
    /// An AWS service principal.
    ServicePrincipal,
    /// Anything else.
    Unrecognized,
}

impl PrincipalKind {
    /// Its name in logs and findings.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Account => "account",
            PrincipalKind::Organization => "organization",
            PrincipalKind::OrganizationalUnit => "organizational_unit",
            PrincipalKind::IamRole => "iam_role",
            PrincipalKind::IamUser => "iam_user",
            PrincipalKind::ServicePrincipal => "service_principal",
            PrincipalKind::Unrecognized => "unrecognized",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The partitions' DNS suffixes (`partitions.json`), the forms a service principal takes.
const SERVICE_SUFFIXES: [&str; 7] = [
    ".amazonaws.com",
    ".amazonaws.com.cn",
    ".amazonaws.eu",
    ".c2s.ic.gov",
    ".sc2s.sgov.gov",
    ".cloud.adc-e.uk",
    ".csp.hci.ic.gov",
];

/// An AWS Region name: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`.
pub fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n > 0 && parts[parts.len() - 1].len() <= 2)
}

/// A RAM resource share ARN: `arn:<partition>:ram:<region>:<account>:resource-share/<id>`.
pub fn is_share_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts[..], ["arn", partition, "ram", region, account, resource]
    if Partition::parse(partition).is_some()
        && is_region(region)
        && is_account_id(account)
        && resource.strip_prefix("resource-share/").is_some_and(|id| {
            !id.is_empty() && id.len() <= 256 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }))
}

/// Whether `s` is a 12-digit account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_org_id(s: &str) -> bool {
    // o-[a-z0-9]{10,32}
    s.strip_prefix("o-").is_some_and(|rest| {
        (10..=32).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

fn is_ou_id(s: &str) -> bool {
    // ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}
    let Some(rest) = s.strip_prefix("ou-") else {
        return false;
    };
    let Some((root, ou)) = rest.split_once('-') else {
        return false;
    };
    let ok = |part: &str, min: usize| {
        (min..=32).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    ok(root, 4) && ok(ou, 8)
}

fn is_service_principal(s: &str) -> bool {
    SERVICE_SUFFIXES.iter().any(|suffix| {
        s.strip_suffix(suffix).is_some_and(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
                && !name.starts_with(['.', '-'])
        })
    })
}

impl Principal {
    /// Parses RAM's `associatedEntity`. Never fails: what is not understood is `Unrecognized`.
    pub fn parse(entity: &str) -> Principal {
        let unrecognized = || Principal::Unrecognized(entity.to_string());
        if is_account_id(entity) {
            return Principal::Account(entity.to_string());
        }
        if is_service_principal(entity) {
            return Principal::ServicePrincipal(entity.to_string());
        }
        let parts: Vec<&str> = entity.splitn(6, ':').collect();
        let [arn, partition, service, region, account, resource] = parts[..] else {
            return unrecognized();
        };
        let Some(partition) = Partition::parse(partition) else {
            return unrecognized();
        };
        if arn != "arn" || !region.is_empty() || !is_account_id(account) {
            return unrecognized();
        }
        let account = account.to_string();
        match service {
            "organizations" => {
                let segments: Vec<&str> = resource.split('/').collect();
                match segments[..] {
                    ["organization", org_id] if is_org_id(org_id) => Principal::Organization {
                        partition,
                        management_account: account,
                        org_id: org_id.to_string(),
                    },
                    ["ou", org_id, ou_id] if is_org_id(org_id) && is_ou_id(ou_id) => {
                        Principal::OrganizationalUnit {
                            partition,
                            management_account: account,
                            org_id: org_id.to_string(),
                            ou_id: ou_id.to_string(),
                        }
                    }
                    _ => unrecognized(),
                }
            }
            "iam" => {
                let (kind, name) = resource.split_once('/').unwrap_or((resource, ""));
                let name_ok = !name.is_empty()
                    && !name.ends_with('/')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
                match kind {
                    "role" if name_ok => Principal::IamRole { partition, account },
                    "user" if name_ok => Principal::IamUser { partition, account },
                    _ => unrecognized(),
                }
            }
            _ => unrecognized(),
        }
    }

    /// What kind of principal it is.
    pub fn kind(&self) -> PrincipalKind {
        match self {
            Principal::Account(_) => PrincipalKind::Account,
            Principal::Organization { .. } => PrincipalKind::Organization,
            Principal::OrganizationalUnit { .. } => PrincipalKind::OrganizationalUnit,
            Principal::IamRole { .. } => PrincipalKind::IamRole,
            Principal::IamUser { .. } => PrincipalKind::IamUser,
            Principal::ServicePrincipal(_) => PrincipalKind::ServicePrincipal,
            Principal::Unrecognized(_) => PrincipalKind::Unrecognized,
        }
    }

    /// The account a principal belongs to, where it names one.
    pub fn account(&self) -> Option<&str> {
        match self {
            Principal::Account(a) => Some(a),
            Principal::IamRole { account, .. } | Principal::IamUser { account, .. } => {
                Some(account)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(
            Principal::parse("123456789012"),
            Principal::Account("123456789012".into())
        );
        assert_eq!(
            Principal::parse("arn:aws:organizations::111111111111:organization/o-abcdefghij"),
            Principal::Organization {
                partition: Partition::Aws,
                management_account: "111111111111".into(),
                org_id: "o-abcdefghij".into()
            }
        );
        assert_eq!(
            Principal::parse(
                "arn:aws-us-gov:organizations::111111111111:ou/o-abcdefghij/ou-ab12-abcdefgh"
            )
            .kind(),
            PrincipalKind::OrganizationalUnit
        );
        assert_eq!(
            Principal::parse("arn:aws-cn:iam::222222222222:role/path/to/app"),
            Principal::IamRole {
                partition: Partition::AwsCn,
                account: "222222222222".into()
            }
        );
        assert_eq!(
            Principal::parse("arn:aws:iam::222222222222:user/bob@example.com").account(),
            Some("222222222222")
        );
        assert_eq!(
            Principal::parse("logs.amazonaws.com").kind(),
            PrincipalKind::ServicePrincipal
        );
        assert_eq!(
            Principal::parse("ec2.amazonaws.com.cn").kind(),
            PrincipalKind::ServicePrincipal
        );
        for p in Partition::ALL {
            let arn = format!("arn:{}:iam::222222222222:role/x", p.as_str());
            assert_eq!(
                Principal::parse(&arn),
                Principal::IamRole {
                    partition: p,
                    account: "222222222222".into()
                },
                "{arn}"
            );
        }
    }

    #[test]
    fn regions_and_share_arns() {
        for ok in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "ap-southeast-5",
            "cn-north-1",
        ] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "*",
            "",
            "us-east",
            "US-EAST-1",
            "us-east-100",
            "us--1",
            "x-y-1",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
        assert!(is_share_arn(
            "arn:aws:ram:us-east-1:111111111111:resource-share/5c7e1f0a-2b3d-4c5e-8f9a-0b1c2d3e4f5a"
        ));
        for bad in [
            "arn:aws:ram:*:111111111111:resource-share/x",
            "arn:aws:ram:us-east-1:1111:resource-share/x",
            "arn:aws:ec2:us-east-1:111111111111:resource-share/x",
            "arn:aws:ram:us-east-1:111111111111:resource-share/",
            "arn:aws:ram:us-east-1:111111111111:resource-share/a b",
        ] {
            assert!(!is_share_arn(bad), "{bad}");
        }
    }

    #[test]
    fn anything_else_is_unrecognized() {
        for bad in [
            "",
            "12345678901",
            "1234567890123",
            "arn:aws:iam::222222222222:group/admins",
            "arn:aws:iam::222222222222:role/",
            "arn:aws:iam::2222:role/x",
            "arn:aws:iam:us-east-1:222222222222:role/x",
            "arn:aws-iso-z:iam::222222222222:role/x",
            "arn:AWS:iam::222222222222:role/x",
            "arn:aws:organizations::111111111111:organization/o-short",
            "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-bad",
            "arn:aws:organizations::111111111111:root/o-abcdefghij/r-abcd",
            "arn:aws:s3:::bucket",
            "amazonaws.com",
            ".amazonaws.com",
            "evil.amazonaws.com.attacker.net",
            "LOGS.amazonaws.com",
        ] {
            assert_eq!(
                Principal::parse(bad).kind(),
                PrincipalKind::Unrecognized,
                "{bad}"
            );
        }
    }
}
