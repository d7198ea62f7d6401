//! The EventBridge events the importer and the remediator take: Config's "Config Rules Compliance
//! Change" and Security Hub's "Security Hub Findings - Custom Action". Parsing is strict about
//! what ramguard relies on and names the field when something is wrong.

use serde_json::Value;

use crate::finding::{FIELD_SHARE_ARN, GENERATOR_ID};
use crate::principal::is_account_id;

/// The detail-type of Config's compliance change events.
pub const COMPLIANCE_CHANGE: &str = "Config Rules Compliance Change";
/// The detail-type of Security Hub's custom action events.
pub const CUSTOM_ACTION: &str = "Security Hub Findings - Custom Action";
/// The largest event ramguard reads (EventBridge's own limit).
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
const SHARE_TYPE: &str = "AWS::RAM::ResourceShare";
/// The resource type of an account's own evaluation.
const ACCOUNT_TYPE: &str = "AWS::::Account";

/// An event ramguard cannot read, with the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// A field is missing or not what AWS sends.
    #[error("bad event: {field} {problem}")]
    Field {
        /// The field's path in the event.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The event is over [`MAX_EVENT_BYTES`].
    #[error("bad event: {size} bytes is over the {MAX_EVENT_BYTES}-byte limit")]
    TooLarge {
        /// The event's size in bytes.
        size: usize,
    },
}

fn bad(field: &str, problem: impl Into<String>) -> EventError {
    // inputs are echoed in problems: keep what an error message carries bounded
    EventError::Field {
        field: crate::text::bounded(field, 100),
        problem: crate::text::bounded(&problem.into(), 300),
    }
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, EventError> {
    let name = path.join(".");
    let mut at = v;
    for key in path {
        at = at.get(key).ok_or_else(|| bad(&name, "is missing"))?;
    }
    match at.as_str() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(bad(&name, "is empty")),
        None => Err(bad(&name, format!("is {at}, not a string"))),
    }
}

fn optional<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = v;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str().filter(|s| !s.is_empty())
}

/// A compliance change of one resource under one Config rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceChange {
    /// The EventBridge event's id (idempotency tokens derive from it).
    pub event_id: String,
    /// The rule's name as the event names it (`OrgConfigRule-<name>-<suffix>` in members).
    pub rule_name: String,
    /// The resource's type (ramguard acts on `AWS::RAM::ResourceShare` only).
    pub resource_type: String,
    /// The share's ARN (empty for an account's own evaluation).
    pub share_arn: String,
    /// The account the result belongs to.
    pub account: String,
    /// The Region the result belongs to.
    pub region: String,
    /// The result the change reports.
    pub compliance: ReportedCompliance,
    /// Absent on a resource's first evaluation.
    pub previous: Option<ReportedCompliance>,
}

/// A compliance type as Config reports it in a change event: ramguard's three verdicts, or
/// `INSUFFICIENT_DATA` (Config had no result to give).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportedCompliance {
    /// `COMPLIANT`.
    Compliant,
    /// `NON_COMPLIANT`.
    NonCompliant,
    /// `NOT_APPLICABLE`.
    NotApplicable,
    /// `INSUFFICIENT_DATA`.
    InsufficientData,
}

impl ReportedCompliance {
    /// Config's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportedCompliance::Compliant => "COMPLIANT",
            ReportedCompliance::NonCompliant => "NON_COMPLIANT",
            ReportedCompliance::NotApplicable => "NOT_APPLICABLE",
            ReportedCompliance::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// The compliance type Config names `text`, if any.
    pub fn parse(text: &str) -> Option<ReportedCompliance> {
        [
            ReportedCompliance::Compliant,
            ReportedCompliance::NonCompliant,
            ReportedCompliance::NotApplicable,
            ReportedCompliance::InsufficientData,
        ]
        .into_iter()
        .find(|c| c.as_str() == text)
    }
}

impl std::fmt::Display for ReportedCompliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<crate::verdict::Compliance> for ReportedCompliance {
    fn from(verdict: crate::verdict::Compliance) -> ReportedCompliance {
        match verdict {
            crate::verdict::Compliance::Compliant => ReportedCompliance::Compliant,
            crate::verdict::Compliance::NonCompliant => ReportedCompliance::NonCompliant,
            crate::verdict::Compliance::NotApplicable => ReportedCompliance::NotApplicable,
        }
    }
}

impl ComplianceChange {
    /// Whether the resource is a RAM resource share.
    pub fn is_share(&self) -> bool {
        self.resource_type == SHARE_TYPE
    }

    /// Whether the resource is the account itself (its guardrail coverage); `share_arn` is then
    /// empty.
    pub fn is_account(&self) -> bool {
        self.resource_type == ACCOUNT_TYPE
    }
}

/// A ramguard finding an analyst sent to a custom action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedFinding {
    /// The finding's Id.
    pub id: String,
    /// The finding's ProductArn (ramguard's custom integration in that account and Region).
    pub product_arn: String,
    /// The finding's AwsAccountId.
    pub account: String,
    /// The finding's Region.
    pub region: String,
    /// The share the finding is about.
    pub share_arn: String,
}

/// Findings sent to a Security Hub custom action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAction {
    /// The EventBridge event's id (idempotency tokens derive from it).
    pub event_id: String,
    /// The custom action's name.
    pub action_name: String,
    /// The ramguard findings selected.
    pub findings: Vec<SelectedFinding>,
    /// Ids of findings that are not ramguard's, left alone.
    pub foreign: Vec<String>,
}

/// What an event is, for ramguard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A "Config Rules Compliance Change" for one resource.
    ComplianceChange(ComplianceChange),
    /// Findings an analyst sent to the Security Hub custom action.
    CustomAction(CustomAction),
    /// Any other EventBridge event: ignored with a log line.
    Other {
        /// Its detail-type.
        detail_type: String,
        /// Its source.
        source: String,
    },
}

/// Reads an EventBridge event.
pub fn parse(event: &Value) -> Result<Incoming, EventError> {
    let size = serde_json::to_vec(event).map_or(0, |v| v.len());
    if size > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge { size });
    }
    if !event.is_object() {
        return Err(bad("event", "is not a JSON object"));
    }
    let detail_type = text(event, &["detail-type"])?;
    let source = optional(event, &["source"]).unwrap_or_default();
    match detail_type {
        COMPLIANCE_CHANGE => compliance_change(event).map(Incoming::ComplianceChange),
        CUSTOM_ACTION => custom_action(event).map(Incoming::CustomAction),
        other => Ok(Incoming::Other {
            detail_type: other.to_string(),
            source: source.to_string(),
        }),
    }
}

fn compliance_change(event: &Value) -> Result<ComplianceChange, EventError> {
    let detail = event
        .get("detail")
        .ok_or_else(|| bad("detail", "is missing"))?;
    if !detail.is_object() {
        return Err(bad("detail", "is not an object"));
    }
    let account = optional(detail, &["awsAccountId"])
        .or_else(|| optional(event, &["account"]))
        .ok_or_else(|| bad("detail.awsAccountId", "is missing"))?;
    if !is_account_id(account) {
        return Err(bad(
            "detail.awsAccountId",
            format!("{account:?} is not a 12-digit account ID"),
        ));
    }
    let region = optional(detail, &["awsRegion"])
        .or_else(|| optional(event, &["region"]))
        .ok_or_else(|| bad("detail.awsRegion", "is missing"))?;
    if !crate::principal::is_region(region) {
        return Err(bad(
            "detail.awsRegion",
            format!("{region:?} is not an AWS Region"),
        ));
    }
    let compliance_text = text(event, &["detail", "newEvaluationResult", "complianceType"])?;
    let Some(compliance) = ReportedCompliance::parse(compliance_text) else {
        return Err(bad(
            "detail.newEvaluationResult.complianceType",
            format!("{compliance_text:?} is not a Config compliance type"),
        ));
    };
    let resource_id = text(event, &["detail", "resourceId"])?;
    let resource_type = text(event, &["detail", "resourceType"])?;
    if resource_type == ACCOUNT_TYPE {
        // the account's own evaluation (guardrail coverage): its id is the account's
        if resource_id != account {
            return Err(bad(
                "detail.resourceId",
                format!("{resource_id:?} is not account {account}"),
            ));
        }
        return Ok(ComplianceChange {
            event_id: optional(event, &["id"]).unwrap_or_default().to_string(),
            rule_name: text(event, &["detail", "configRuleName"])?.to_string(),
            resource_type: resource_type.to_string(),
            share_arn: String::new(),
            account: account.to_string(),
            region: region.to_string(),
            compliance,
            previous: optional(detail, &["oldEvaluationResult", "complianceType"])
                .and_then(ReportedCompliance::parse),
        });
    }
    let partition = optional(detail, &["configRuleARN"])
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws");
    let share_arn = if resource_id.starts_with("arn:") {
        resource_id.to_string()
    } else {
        format!("arn:{partition}:ram:{region}:{account}:resource-share/{resource_id}")
    };
    if !crate::principal::is_share_arn(&share_arn) {
        return Err(bad(
            "detail.resourceId",
            format!("{share_arn:?} is not a RAM resource share ARN"),
        ));
    }
    if share_arn.split(':').nth(4) != Some(account) || share_arn.split(':').nth(3) != Some(region) {
        return Err(bad(
            "detail.resourceId",
            format!("{share_arn:?} is not in account {account} and Region {region}"),
        ));
    }
    Ok(ComplianceChange {
        event_id: optional(event, &["id"]).unwrap_or_default().to_string(),
        rule_name: text(event, &["detail", "configRuleName"])?.to_string(),
        resource_type: resource_type.to_string(),
        share_arn,
        account: account.to_string(),
        region: region.to_string(),
        compliance,
        previous: optional(detail, &["oldEvaluationResult", "complianceType"])
            .and_then(ReportedCompliance::parse),
    })
}

fn custom_action(event: &Value) -> Result<CustomAction, EventError> {
    let findings = event
        .get("detail")
        .and_then(|d| d.get("findings"))
        .ok_or_else(|| bad("detail.findings", "is missing"))?
        .as_array()
        .ok_or_else(|| bad("detail.findings", "is not a list"))?;
    let mut out = CustomAction {
        event_id: optional(event, &["id"]).unwrap_or_default().to_string(),
        action_name: optional(event, &["detail", "actionName"])
            .unwrap_or_default()
            .to_string(),
        findings: Vec::new(),
        foreign: Vec::new(),
    };
    for (i, f) in findings.iter().enumerate() {
        let field = |name: &str| format!("detail.findings[{i}].{name}");
        let id = text(f, &["Id"]).map_err(|_| bad(&field("Id"), "is missing"))?;
        if optional(f, &["GeneratorId"]) != Some(GENERATOR_ID) {
            out.foreign.push(id.to_string());
            continue;
        }
        let get = |name: &str| {
            optional(f, &[name])
                .map(str::to_string)
                .ok_or_else(|| bad(&field(name), "is missing"))
        };
        let resource = f
            .get("Resources")
            .and_then(|r| r.get(0))
            .ok_or_else(|| bad(&field("Resources"), "is empty"))?;
        let share_arn = optional(f, &["ProductFields", FIELD_SHARE_ARN])
            .or_else(|| optional(resource, &["Id"]))
            .filter(|a| a.starts_with("arn:") && a.contains(":resource-share/"))
            .ok_or_else(|| bad(&field("Resources[0].Id"), "is not a resource share ARN"))?;
        let account = get("AwsAccountId")?;
        if !is_account_id(&account) {
            return Err(bad(&field("AwsAccountId"), "is not a 12-digit account ID"));
        }
        let region = optional(f, &["Region"])
            .or_else(|| optional(resource, &["Region"]))
            .or_else(|| share_arn.split(':').nth(3))
            .unwrap_or_default()
            .to_string();
        if !crate::principal::is_region(&region) {
            return Err(bad(
                &field("Region"),
                format!("{region:?} is not an AWS Region"),
            ));
        }
        if !crate::principal::is_share_arn(share_arn) {
            return Err(bad(
                &field("Resources[0].Id"),
                "is not a resource share ARN",
            ));
        }
        out.findings.push(SelectedFinding {
            id: id.to_string(),
            product_arn: get("ProductArn")?,
            account,
            region,
            share_arn: share_arn.to_string(),
        });
    }
    Ok(out)
}

/// Whether a rule name is ramguard's rule: the configured name, or its member-account form
/// `OrgConfigRule-<name>-<suffix>` (organization rules). Without a configured name, any rule.
pub fn is_our_rule(event_rule: &str, configured: Option<&str>) -> bool {
    configured.is_none_or(|name| is_rule_named(event_rule, name))
}

/// Whether `name` is ramguard's rule `base`: the rule itself (Account scope) or the copy an
/// organization rule leaves in each account, `OrgConfigRule-<base>-<suffix>`.
pub fn is_rule_named(name: &str, base: &str) -> bool {
    name == base
        || name
            .strip_prefix("OrgConfigRule-")
            .and_then(|rest| rest.strip_prefix(base))
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|suffix| !suffix.is_empty())
}

/// The RAM API calls (CloudTrail event names) that ask for an evaluation right away.
pub const NEAR_REAL_TIME_EVENTS: [&str; 4] = [
    "CreateResourceShare",
    "AssociateResourceShare",
    "UpdateResourceShare",
    "EnableSharingWithAwsOrganization",
];

/// RAM's own event for a change to a share.
pub const RAM_STATE_CHANGE: &str = "Resource Sharing State Change";

/// What delivered a sharing change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// An "AWS API Call via CloudTrail" event (only with a trail).
    CloudTrail,
    /// RAM's own "Resource Sharing State Change" event.
    RamEvent,
}

/// A RAM sharing change that asks for an evaluation now: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingChange {
    /// What delivered it.
    pub source: ChangeSource,
    /// The share owner's account: the rule runs there.
    pub account: String,
    /// The Region of the change, when the event names one.
    pub region: Option<String>,
    /// The RAM call, or RAM's event name.
    pub reason: String,
}

/// The RAM sharing change an EventBridge event reports, or why it is none: a RAM API call
/// delivered by CloudTrail (only with a trail), or RAM's own "Resource Sharing State Change"
/// (source `aws.ram`, best effort, sent "for both the owner of the resource share and the
/// principals": https://docs.aws.amazon.com/ram/latest/userguide/using-cloudwatch-events.html).
/// RAM documents no detail for its own event, so the owner is read from the share ARN among the
/// event's resources (the event's account when there is none).
pub fn sharing_change(event: &Value) -> Result<SharingChange, String> {
    let text = |path: &[&str]| optional(event, path).unwrap_or_default().to_string();
    let account = text(&["account"]);
    let region = optional(event, &["region"]).map(str::to_string);
    let (source, detail_type) = (text(&["source"]), text(&["detail-type"]));
    match (source.as_str(), detail_type.as_str()) {
        ("aws.ram", "AWS API Call via CloudTrail") => {
            let event_source = text(&["detail", "eventSource"]);
            let name = text(&["detail", "eventName"]);
            if event_source != "ram.amazonaws.com"
                || !NEAR_REAL_TIME_EVENTS.contains(&name.as_str())
            {
                return Err(format!(
                    "{event_source} {name} does not change what a share reaches"
                ));
            }
            Ok(SharingChange {
                source: ChangeSource::CloudTrail,
                account,
                region,
                reason: name,
            })
        }
        ("aws.ram", RAM_STATE_CHANGE) => {
            let named = optional(event, &["detail", "resourceShareArn"]);
            let owner = event["resources"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .chain(named)
                .find_map(share_owner)
                .unwrap_or_else(|| account.clone());
            Ok(SharingChange {
                source: ChangeSource::RamEvent,
                account: owner,
                region,
                reason: RAM_STATE_CHANGE.into(),
            })
        }
        (source, detail_type) => Err(format!("{detail_type:?} from {source:?}")),
    }
}

/// The owning account of a resource share ARN.
fn share_owner(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[2] == "ram" && parts[5].starts_with("resource-share/"))
        .then(|| parts[4].to_string())
}

/// One message of an SQS batch, as Lambda's SQS event source delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsRecord {
    /// The message's id (what a partial batch response names).
    pub message_id: String,
    /// The message's body.
    pub body: String,
}

/// The messages of an SQS batch (`Records`), or why the event is not one.
pub fn sqs_records(event: &Value) -> Result<Vec<SqsRecord>, EventError> {
    let records = event["Records"]
        .as_array()
        .ok_or_else(|| bad("Records", "is not a list"))?;
    records
        .iter()
        .map(|r| {
            if r["eventSource"] != "aws:sqs" {
                return Err(bad(
                    "Records[].eventSource",
                    format!("{} is not aws:sqs", r["eventSource"]),
                ));
            }
            match (r["messageId"].as_str(), r["body"].as_str()) {
                (Some(id), Some(body)) => Ok(SqsRecord {
                    message_id: id.to_string(),
                    body: body.to_string(),
                }),
                _ => Err(bad("Records[]", "has no messageId or body")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn change(detail: Value) -> Value {
        json!({"id": "e-1", "detail-type": COMPLIANCE_CHANGE, "source": "aws.config",
               "account": "111111111111", "region": "us-east-1", "detail": detail})
    }

    #[test]
    fn reads_a_first_evaluation_and_builds_the_arn_from_an_id() {
        let e = change(json!({
            "resourceId": "abc", "resourceType": SHARE_TYPE, "configRuleName": "ramguard",
            "configRuleARN": "arn:aws-us-gov:config:us-gov-west-1:111111111111:config-rule/config-rule-1",
            "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}
        }));
        let Incoming::ComplianceChange(c) = parse(&e).unwrap() else {
            panic!("not a compliance change")
        };
        assert_eq!(
            c.share_arn,
            "arn:aws-us-gov:ram:us-east-1:111111111111:resource-share/abc"
        );
        assert_eq!(c.previous, None);
        assert!(c.is_share());
    }

    #[test]
    fn an_accounts_own_evaluation_is_a_change_of_the_account() {
        let e = change(json!({
            "resourceId": "111111111111", "resourceType": "AWS::::Account", "configRuleName": "ramguard",
            "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}
        }));
        let Incoming::ComplianceChange(c) = parse(&e).unwrap() else {
            panic!("not a compliance change")
        };
        assert!(c.is_account() && !c.is_share());
        assert_eq!(
            (c.account.as_str(), c.share_arn.as_str()),
            ("111111111111", "")
        );
        let other = change(json!({
            "resourceId": "222222222222", "resourceType": "AWS::::Account", "configRuleName": "ramguard",
            "newEvaluationResult": {"complianceType": "NON_COMPLIANT"}
        }));
        assert!(parse(&other)
            .unwrap_err()
            .to_string()
            .contains("detail.resourceId"));
    }

    #[test]
    fn malformed_details_name_the_field() {
        for (detail, field) in [
            (
                json!({"resourceType": SHARE_TYPE, "configRuleName": "r", "newEvaluationResult": {"complianceType": "COMPLIANT"}}),
                "detail.resourceId",
            ),
            (
                json!({"resourceId": "a", "resourceType": SHARE_TYPE, "configRuleName": "r"}),
                "detail.newEvaluationResult.complianceType",
            ),
            (
                json!({"resourceId": "a", "resourceType": SHARE_TYPE, "configRuleName": "r", "newEvaluationResult": {"complianceType": "MAYBE"}}),
                "detail.newEvaluationResult.complianceType",
            ),
            (
                json!({"resourceId": "a", "resourceType": SHARE_TYPE, "configRuleName": "r", "awsAccountId": "12", "newEvaluationResult": {"complianceType": "COMPLIANT"}}),
                "detail.awsAccountId",
            ),
            (json!("text"), "detail"),
        ] {
            let err = parse(&change(detail)).unwrap_err();
            assert!(err.to_string().contains(field), "{err} should name {field}");
        }
        assert!(parse(&json!({"detail": {}}))
            .unwrap_err()
            .to_string()
            .contains("detail-type"));
        let big =
            json!({"detail-type": COMPLIANCE_CHANGE, "detail": {"x": "a".repeat(MAX_EVENT_BYTES)}});
        assert!(matches!(parse(&big), Err(EventError::TooLarge { .. })));
    }

    #[test]
    fn custom_actions_keep_ramguard_findings_only() {
        let e = json!({"id": "e-2", "detail-type": CUSTOM_ACTION, "source": "aws.securityhub",
        "detail": {"actionName": "ramguard-remediate", "findings": [
            {"Id": "f1", "GeneratorId": GENERATOR_ID, "AwsAccountId": "222222222222",
             "ProductArn": "arn:aws:securityhub:us-east-1:222222222222:product/222222222222/default",
             "Resources": [{"Type": "Other", "Id": "arn:aws:ram:us-east-1:222222222222:resource-share/s"}]},
            {"Id": "other", "GeneratorId": "aws-foundational", "Resources": []}
        ]}});
        let Incoming::CustomAction(a) = parse(&e).unwrap() else {
            panic!("not a custom action")
        };
        assert_eq!(a.findings.len(), 1);
        assert_eq!(a.findings[0].region, "us-east-1");
        assert_eq!(a.foreign, ["other"]);
    }

    #[test]
    fn recognises_the_member_form_of_the_rule_name() {
        assert!(is_our_rule("ramguard", Some("ramguard")));
        assert!(is_our_rule(
            "OrgConfigRule-ramguard-a1b2c3",
            Some("ramguard")
        ));
        assert!(!is_our_rule(
            "OrgConfigRule-ramguard2-a1b2c3",
            Some("ramguard")
        ));
        assert!(!is_our_rule("other", Some("ramguard")));
        assert!(is_our_rule("other", None));
    }

    #[test]
    fn the_rule_is_found_by_its_own_name_or_its_organization_copy() {
        assert!(is_rule_named("ramguard-ram-shares", "ramguard-ram-shares"));
        assert!(is_rule_named(
            "OrgConfigRule-ramguard-ram-shares-a1b2c3d4",
            "ramguard-ram-shares"
        ));
        assert!(!is_rule_named(
            "OrgConfigRule-ramguard-ram-shares-",
            "ramguard-ram-shares"
        ));
        assert!(!is_rule_named(
            "OrgConfigRule-ramguard-ram-shares2-a1b2",
            "ramguard-ram-shares"
        ));
        assert!(!is_rule_named(
            "other-ramguard-ram-shares",
            "ramguard-ram-shares"
        ));
    }

    #[test]
    fn a_cloudtrail_ram_call_and_rams_own_event_are_sharing_changes() {
        let ct = json!({"source": "aws.ram", "detail-type": "AWS API Call via CloudTrail",
            "account": "111111111111", "region": "eu-west-1",
            "detail": {"eventSource": "ram.amazonaws.com", "eventName": "AssociateResourceShare"}});
        let c = sharing_change(&ct).unwrap();
        assert_eq!(
            (c.source, c.account.as_str(), c.region.as_deref()),
            (ChangeSource::CloudTrail, "111111111111", Some("eu-west-1"))
        );
        let mut read = ct.clone();
        read["detail"]["eventName"] = json!("GetResourceShares");
        assert!(sharing_change(&read).is_err());
        // a principal's copy of RAM's event: the owner is the share ARN's account
        let ram = json!({"source": "aws.ram", "detail-type": RAM_STATE_CHANGE, "account": "222222222222",
            "region": "us-east-1", "resources": ["arn:aws:ram:us-east-1:111111111111:resource-share/abc"], "detail": {}});
        let c = sharing_change(&ram).unwrap();
        assert_eq!(
            (c.source, c.account.as_str()),
            (ChangeSource::RamEvent, "111111111111")
        );
        let mut bare = ram.clone();
        bare["resources"] = json!([]);
        assert_eq!(sharing_change(&bare).unwrap().account, "222222222222");
        assert!(sharing_change(&json!({"source": "aws.ec2", "detail-type": "x"})).is_err());
    }

    #[test]
    fn an_sqs_batch_is_its_records_and_anything_else_is_refused() {
        let batch =
            json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sqs"}]});
        assert_eq!(
            sqs_records(&batch).unwrap(),
            vec![SqsRecord {
                message_id: "m1".into(),
                body: "{}".into()
            }]
        );
        assert!(sqs_records(
            &json!({"Records": [{"messageId": "m1", "body": "{}", "eventSource": "aws:sns"}]})
        )
        .is_err());
        assert!(sqs_records(&json!({"Records": [{"eventSource": "aws:sqs"}]})).is_err());
        assert!(sqs_records(&json!({"Records": {}})).is_err());
    }
}
