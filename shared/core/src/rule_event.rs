//! A Config custom rule invocation, as Config sends it: read into what the rule needs, or
//! refused as a bad event naming the problem. `invokingEvent` and `ruleParameters` are JSON
//! strings inside the event.

use serde::Deserialize;
use serde_json::Value;

use crate::params::{ParameterError, Parameters};
use crate::principal::is_account_id;
use crate::text::bounded;

/// Why a rule invocation cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleEventError {
    /// The event is not what Config sends (the text says what is wrong).
    #[error("{0}")]
    BadEvent(String),
    /// The rule parameters are invalid.
    #[error(transparent)]
    Parameters(#[from] ParameterError),
}

fn bad(text: impl Into<String>) -> RuleEventError {
    RuleEventError::BadEvent(text.into())
}

/// The event Config sends a custom Lambda rule (the members ramguard reads).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigEvent {
    #[allow(dead_code)]
    version: Option<String>,
    invoking_event: Option<String>,
    rule_parameters: Option<String>,
    result_token: Option<String>,
    event_left_scope: bool,
    #[allow(dead_code)]
    execution_role_arn: Option<String>,
    #[allow(dead_code)]
    config_rule_arn: Option<String>,
    config_rule_name: Option<String>,
    #[allow(dead_code)]
    config_rule_id: Option<String>,
    account_id: Option<String>,
}

/// The configuration item of a change notification (or the summary of an oversized one).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationItem {
    /// The resource's type (ramguard judges `AWS::RAM::ResourceShare`).
    pub resource_type: Option<String>,
    /// The resource's id (for a share, its ARN or its id).
    pub resource_id: Option<String>,
    /// The resource's ARN, when Config gives it.
    #[serde(rename = "ARN")]
    pub arn: Option<String>,
    /// `OK`, `ResourceDeleted`, `ResourceDeletedNotRecorded`, …
    pub configuration_item_status: Option<String>,
    /// The resource's account.
    pub aws_account_id: Option<String>,
    /// The resource's Region.
    pub aws_region: Option<String>,
    /// When Config captured the item.
    pub configuration_item_capture_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokingEvent {
    message_type: Option<String>,
    notification_creation_time: Option<String>,
    configuration_item: Option<ConfigurationItem>,
    configuration_item_summary: Option<ConfigurationItem>,
}

/// What started the invocation.
#[derive(Debug, Clone)]
pub enum RuleTrigger {
    /// The periodic sweep; evaluations are ordered at the notification's time.
    Scheduled {
        /// The notification's time, milliseconds since the epoch.
        notification_millis: i64,
    },
    /// One configuration item changed.
    Change {
        /// The item.
        item: ConfigurationItem,
        /// When it was captured, milliseconds since the epoch.
        captured_millis: i64,
    },
}

/// One Config rule invocation, read.
#[derive(Debug, Clone)]
pub struct RuleInvocation {
    /// The result token PutEvaluations needs.
    pub token: String,
    /// The rule's name in the account (`OrgConfigRule-<name>-<suffix>` for an organization rule).
    pub rule_name: String,
    /// The account evaluated.
    pub account: String,
    /// The rule parameters.
    pub params: Parameters,
    /// The resource left the rule's scope.
    pub left_scope: bool,
    /// What started it.
    pub trigger: RuleTrigger,
}

/// An RFC 3339 timestamp as milliseconds since the epoch, or a bad event naming the field.
fn millis(text: &str, field: &str) -> Result<i64, RuleEventError> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| {
            bad(format!(
                "{field} {:?} is not a timestamp: {e}",
                bounded(text, 64)
            ))
        })
}

/// Refuses an account that is not 12 digits, naming the field.
pub fn check_account_id(account: &str, field: &str) -> Result<(), RuleEventError> {
    if is_account_id(account) {
        Ok(())
    } else {
        let shown: String = account.chars().take(40).collect();
        Err(bad(format!(
            "{field} {shown:?} is not a 12-digit account ID"
        )))
    }
}

impl RuleInvocation {
    /// Reads a Config rule event: its result token, rule parameters, account, message type and
    /// timestamps.
    pub fn parse(event: Value) -> Result<RuleInvocation, RuleEventError> {
        let event: ConfigEvent = serde_json::from_value(event)
            .map_err(|e| bad(format!("not a Config rule event: {e}")))?;
        let token = event
            .result_token
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad("resultToken is missing"))?;
        let invoking: InvokingEvent =
            serde_json::from_str(event.invoking_event.as_deref().unwrap_or_default())
                .map_err(|e| bad(format!("invokingEvent is not JSON of Config's shape: {e}")))?;
        let params =
            Parameters::from_rule_parameters(event.rule_parameters.as_deref().unwrap_or("{}"))?;
        let account = event
            .account_id
            .clone()
            .ok_or_else(|| bad("accountId is missing"))?;
        check_account_id(&account, "accountId")?;
        let trigger = match invoking.message_type.as_deref().unwrap_or_default() {
            "ScheduledNotification" => RuleTrigger::Scheduled {
                notification_millis: millis(
                    invoking
                        .notification_creation_time
                        .as_deref()
                        .unwrap_or_default(),
                    "notificationCreationTime",
                )?,
            },
            "ConfigurationItemChangeNotification"
            | "OversizedConfigurationItemChangeNotification" => {
                let item = invoking
                    .configuration_item
                    .or(invoking.configuration_item_summary)
                    .ok_or_else(|| bad("configurationItem is missing"))?;
                let when = item
                    .configuration_item_capture_time
                    .clone()
                    .or(invoking.notification_creation_time.clone())
                    .unwrap_or_default();
                RuleTrigger::Change {
                    captured_millis: millis(&when, "configurationItemCaptureTime")?,
                    item,
                }
            }
            other => return Err(bad(format!("unknown messageType {:?}", bounded(other, 64)))),
        };
        Ok(RuleInvocation {
            token,
            rule_name: event.config_rule_name.clone().unwrap_or_default(),
            account,
            params,
            left_scope: event.event_left_scope,
            trigger,
        })
    }
}

/// The ordering timestamp of evaluations: the event's, but never later than now (a timestamp in
/// the future would keep every later evaluation of the share from replacing this one). True
/// when it was moved back to now.
pub fn ordering_millis(event_millis: i64, now_millis: i64) -> (i64, bool) {
    if event_millis.div_euclid(1000) > now_millis.div_euclid(1000) {
        (now_millis, true)
    } else {
        (event_millis, false)
    }
}

/// The share ARN a configuration item names: its `ARN`, or its resource id when that is an ARN,
/// or an ARN built from the item's account, Region and id.
pub fn share_arn(item: &ConfigurationItem, partition: &str) -> Result<String, RuleEventError> {
    if let Some(arn) = item.arn.as_deref().filter(|a| a.starts_with("arn:")) {
        return Ok(arn.to_string());
    }
    let id = item
        .resource_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| bad("configuration item has no resourceId"))?;
    if id.starts_with("arn:") {
        return Ok(id.to_string());
    }
    match (item.aws_region.as_deref(), item.aws_account_id.as_deref()) {
        (Some(region), Some(account)) => Ok(format!(
            "arn:{partition}:ram:{region}:{account}:resource-share/{id}"
        )),
        _ => Err(bad(format!(
            "configuration item {id} has neither an ARN nor a Region and account"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(invoking: Value) -> Value {
        json!({"invokingEvent": invoking.to_string(), "ruleParameters": "{}", "resultToken": "t",
               "eventLeftScope": false, "configRuleName": "r", "accountId": "111111111111"})
    }

    #[test]
    fn a_scheduled_and_a_change_notification_are_read() {
        let scheduled = event(json!({"messageType": "ScheduledNotification",
            "notificationCreationTime": "2026-11-23T10:00:00.500Z"}));
        let inv = RuleInvocation::parse(scheduled).unwrap();
        assert!(matches!(
            inv.trigger,
            RuleTrigger::Scheduled {
                notification_millis: 1_795_428_000_500
            }
        ));
        let change = event(json!({"messageType": "ConfigurationItemChangeNotification",
            "configurationItem": {"resourceType": "AWS::RAM::ResourceShare", "resourceId": "abc",
              "awsRegion": "us-east-1", "awsAccountId": "111111111111",
              "configurationItemCaptureTime": "2026-11-23T10:00:00Z"}}));
        let RuleTrigger::Change { item, .. } = RuleInvocation::parse(change).unwrap().trigger
        else {
            panic!("a change")
        };
        assert_eq!(
            share_arn(&item, "aws").unwrap(),
            "arn:aws:ram:us-east-1:111111111111:resource-share/abc"
        );
    }

    #[test]
    fn what_config_does_not_send_is_a_bad_event_naming_the_problem() {
        let mut e = event(json!({"messageType": "ScheduledNotification",
            "notificationCreationTime": "yesterday"}));
        assert!(RuleInvocation::parse(e.clone())
            .unwrap_err()
            .to_string()
            .contains("notificationCreationTime"));
        e["accountId"] = json!("12345");
        assert!(RuleInvocation::parse(e.clone())
            .unwrap_err()
            .to_string()
            .contains("12-digit"));
        let unknown = event(json!({"messageType": "Other"}));
        assert!(RuleInvocation::parse(unknown)
            .unwrap_err()
            .to_string()
            .contains("unknown messageType"));
        let mut no_scope = event(json!({}));
        no_scope.as_object_mut().unwrap().remove("eventLeftScope");
        assert!(RuleInvocation::parse(no_scope)
            .unwrap_err()
            .to_string()
            .contains("not a Config rule event"));
    }

    #[test]
    fn an_ordering_timestamp_in_the_future_is_now() {
        assert_eq!(ordering_millis(5_000, 10_000), (5_000, false));
        assert_eq!(ordering_millis(20_000, 10_000), (10_000, true));
        assert_eq!(ordering_millis(10_900, 10_100), (10_900, false));
    }
}
