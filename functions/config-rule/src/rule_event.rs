//! A Config custom rule invocation, as Config sends it: read into what the rule needs, or
//! refused as a bad event naming the problem.

use aws_lambda_events::event::config::ConfigEvent;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use ramguard_core::text::bounded;
use ramguard_core::Parameters;
use serde::Deserialize;
use serde_json::Value;
use tracing::warn;

use crate::error::{check_account_id, RuleError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfigurationItem {
    pub(crate) resource_type: Option<String>,
    pub(crate) resource_id: Option<String>,
    #[serde(rename = "ARN")]
    pub(crate) arn: Option<String>,
    pub(crate) configuration_item_status: Option<String>,
    pub(crate) aws_account_id: Option<String>,
    pub(crate) aws_region: Option<String>,
    pub(crate) configuration_item_capture_time: Option<String>,
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
pub(crate) enum RuleTrigger {
    /// The periodic sweep; evaluations are ordered at the notification's time.
    Scheduled { notification_time: DateTime },
    /// One configuration item changed, captured at `captured`.
    Change {
        item: ConfigurationItem,
        captured: DateTime,
    },
}

/// One Config rule invocation, read.
pub(crate) struct RuleInvocation {
    pub(crate) token: String,
    pub(crate) rule_name: String,
    pub(crate) account: String,
    pub(crate) params: Parameters,
    pub(crate) left_scope: bool,
    pub(crate) trigger: RuleTrigger,
}

impl RuleInvocation {
    /// Reads a Config rule event: its result token, rule parameters, account, message type and
    /// timestamps (`invokingEvent` and `ruleParameters` are JSON strings inside it).
    pub(crate) fn parse(event: Value) -> Result<RuleInvocation, RuleError> {
        let event: ConfigEvent = serde_json::from_value(event)
            .map_err(|e| RuleError::BadEvent(format!("not a Config rule event: {e}")))?;
        let token = event
            .result_token
            .clone()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RuleError::BadEvent("resultToken is missing".into()))?;
        let invoking: InvokingEvent = serde_json::from_str(
            event.invoking_event.as_deref().unwrap_or_default(),
        )
        .map_err(|e| {
            RuleError::BadEvent(format!("invokingEvent is not JSON of Config's shape: {e}"))
        })?;
        let params =
            Parameters::from_rule_parameters(event.rule_parameters.as_deref().unwrap_or("{}"))?;
        let account = event
            .account_id
            .clone()
            .ok_or_else(|| RuleError::BadEvent("accountId is missing".into()))?;
        check_account_id(&account, "accountId")?;
        let trigger = match invoking.message_type.as_deref().unwrap_or_default() {
            "ScheduledNotification" => RuleTrigger::Scheduled {
                notification_time: parse_time(
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
                    .ok_or_else(|| RuleError::BadEvent("configurationItem is missing".into()))?;
                let when = item
                    .configuration_item_capture_time
                    .clone()
                    .or(invoking.notification_creation_time.clone())
                    .unwrap_or_default();
                RuleTrigger::Change {
                    captured: parse_time(&when, "configurationItemCaptureTime")?,
                    item,
                }
            }
            other => {
                return Err(RuleError::BadEvent(format!(
                    "unknown messageType {:?}",
                    bounded(other, 64)
                )))
            }
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

pub(crate) fn parse_time(s: &str, field: &str) -> Result<DateTime, RuleError> {
    DateTime::from_str(s, Format::DateTime).map_err(|e| {
        RuleError::BadEvent(format!(
            "{field} {:?} is not a timestamp: {e}",
            bounded(s, 64)
        ))
    })
}

/// The ordering timestamp of evaluations: the event's, but never later than now. A timestamp in
/// the future would keep every later evaluation of the share from replacing this one.
pub(crate) fn ordering_timestamp(event_time: DateTime, now: DateTime) -> DateTime {
    if event_time.secs() > now.secs() {
        warn!(
            event_time = %event_time,
            now = %now,
            "the event's timestamp is in the future; evaluations are ordered at now"
        );
        now
    } else {
        event_time
    }
}

/// The share ARN a configuration item names: its `ARN`, or its resource id when that is an ARN,
/// or an ARN built from the item's account, Region and id.
pub(crate) fn share_arn(item: &ConfigurationItem, partition: &str) -> Result<String, RuleError> {
    if let Some(arn) = item.arn.as_deref().filter(|a| a.starts_with("arn:")) {
        return Ok(arn.to_string());
    }
    let id = item
        .resource_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or_else(|| RuleError::BadEvent("configuration item has no resourceId".into()))?;
    if id.starts_with("arn:") {
        return Ok(id.to_string());
    }
    match (item.aws_region.as_deref(), item.aws_account_id.as_deref()) {
        (Some(region), Some(account)) => Ok(format!(
            "arn:{partition}:ram:{region}:{account}:resource-share/{id}"
        )),
        _ => Err(RuleError::BadEvent(format!(
            "configuration item {id} has neither an ARN nor a Region and account"
        ))),
    }
}

pub(crate) fn now_secs() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs()
}
