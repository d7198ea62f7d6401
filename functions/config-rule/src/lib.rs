//! The ramguard AWS Config custom rule.
//!
//! Triggers: Config's ScheduledNotification (sweep every share the account owns),
//! ConfigurationItemChangeNotification and its oversized form (re-read one share live), and
//! EventBridge "AWS API Call via CloudTrail" events from RAM (ask Config to run the rule now).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::event::config::ConfigEvent;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;
use futures_util::StreamExt;
use ramguard::aws::config::{
    self as config_api, ShareEvaluation, StartOutcome, MAX_EVALUATIONS_PER_CALL, RESOURCE_TYPE,
};
use ramguard::aws::credentials::{AccountAccess, AccountConfigs};
use ramguard::aws::organizations::OrgCache;
use ramguard::aws::{ram as ram_api, sqs as sqs_api, AwsError};
use ramguard::deferral::DeferredEvaluation;
use ramguard::earlier::{EarlierResults, Report};
use ramguard::failure::{self, ErrorType};
use ramguard::params::ParameterError;
use ramguard::principal::is_account_id;
use ramguard::share::SourceAssociation;
use ramguard::{evaluate, Compliance, OrgSnapshot, Parameters, ResourceShare, ShareVerdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{error, info, warn};

/// The most NON_COMPLIANT shares an invocation's result lists.
pub const MAX_VERDICTS_IN_RESULT: usize = 100;
/// How much of a sweep runs at once unless `SWEEP_CONCURRENCY` says otherwise: pages of shares
/// whose associations are being read (or wait, read, to be judged), and PutEvaluations calls
/// in flight.
pub const DEFAULT_SWEEP_CONCURRENCY: usize = 8;
/// The largest `SWEEP_CONCURRENCY` accepted.
pub const MAX_SWEEP_CONCURRENCY: usize = 64;

/// `SWEEP_CONCURRENCY` as the function reads it: unset or blank is the default; anything but a
/// whole number from 1 to [`MAX_SWEEP_CONCURRENCY`] is refused.
pub fn sweep_concurrency(value: Option<&str>) -> Result<usize, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_SWEEP_CONCURRENCY),
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_SWEEP_CONCURRENCY).contains(n))
            .ok_or_else(|| {
                format!(
                    "SWEEP_CONCURRENCY {:?} is not a whole number from 1 to {MAX_SWEEP_CONCURRENCY}",
                    failure::bounded(v, 32)
                )
            }),
    }
}

/// Counts one verdict's compliance.
fn count(outcome: &mut RuleOutcome, c: Compliance) {
    match c {
        Compliance::Compliant => outcome.compliant += 1,
        Compliance::NonCompliant => outcome.non_compliant += 1,
        Compliance::NotApplicable => outcome.not_applicable += 1,
    }
}

/// What flows from the share reader to the judge: a page of shares with their principal
/// associations, or the end of the listing. Only an explicit end lets the judge conclude that a
/// share Config holds a result for is gone; a reader that stops early never ends the listing.
enum SharePage {
    Shares(Vec<ResourceShare>),
    End,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl RuleOutcome {
    fn failed(&mut self, message_id: String) {
        self.batch_item_failures.push(BatchItemFailure {
            item_identifier: message_id,
        });
    }

    /// Counts a verdict, and lists it when it is NON_COMPLIANT and the list has room.
    fn record(&mut self, v: &ShareVerdict) {
        self.outside_principals += v.external.len();
        if v.compliance != Compliance::NonCompliant {
            return;
        }
        if self.verdicts.len() < MAX_VERDICTS_IN_RESULT {
            self.verdicts.push(summary(v));
        } else {
            self.verdicts_omitted += 1;
        }
    }
}

/// The RAM API calls (CloudTrail event names) that ask for an evaluation right away.
pub const NEAR_REAL_TIME_EVENTS: [&str; 4] = [
    "CreateResourceShare",
    "AssociateResourceShare",
    "UpdateResourceShare",
    "EnableSharingWithAwsOrganization",
];

/// Why an invocation failed. Nothing is reported to Config when it does.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    // inputs are echoed in these messages (serde's included): bounded
    #[error("bad event: {}", failure::bounded(.0, 400))]
    BadEvent(String),
    #[error("bad rule parameters: {}", failure::bounded(&.0.to_string(), 400))]
    Parameters(#[from] ParameterError),
    #[error("cannot read the organization, so no share is judged: {0}")]
    OrgSnapshot(AwsError),
    #[error(transparent)]
    Access(#[from] AccountAccess),
    #[error(transparent)]
    Aws(#[from] AwsError),
}

impl RuleError {
    /// The failure class Lambda reports as `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            RuleError::BadEvent(_) => ErrorType::BadEvent,
            RuleError::Parameters(_) => ErrorType::BadParameters,
            RuleError::OrgSnapshot(_) => ErrorType::OrganizationUnreadable,
            RuleError::Access(a) => failure::of_access(a),
            RuleError::Aws(e) => failure::of_aws(e),
        }
    }
}

/// What an invocation did, returned as the Lambda's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleOutcome {
    pub trigger: String,
    pub account: String,
    pub compliant: usize,
    pub non_compliant: usize,
    pub not_applicable: usize,
    pub put_evaluations_calls: usize,
    /// Shares whose result Config already held as judged now, so not sent again (sweeps only).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_unchanged: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_started: Option<bool>,
    /// Whether a refused start was deferred past the refusal window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_deferred: Option<bool>,
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_started: usize,
    /// Deferred starts sent to the queue (a burst in one window sends one).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub evaluations_deferred: usize,
    /// Deferred starts SQS is to deliver again (Lambda's partial batch response).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub batch_item_failures: Vec<BatchItemFailure>,
    /// Why nothing was evaluated in the account, when nothing could be (e.g. its member role is
    /// missing): the invocation succeeds, so it is not retried into the dead-letter queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Principals outside the organization across the shares judged.
    pub outside_principals: usize,
    /// The NON_COMPLIANT shares, at most [`MAX_VERDICTS_IN_RESULT`] of them: the result stays
    /// small at any number of shares (Lambda's result limit is 6 MB).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub verdicts: Vec<VerdictSummary>,
    /// NON_COMPLIANT shares left out of `verdicts`.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub verdicts_omitted: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerdictSummary {
    pub share_arn: String,
    pub compliance: String,
    pub outside: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfigurationItem {
    resource_type: Option<String>,
    resource_id: Option<String>,
    #[serde(rename = "ARN")]
    arn: Option<String>,
    configuration_item_status: Option<String>,
    aws_account_id: Option<String>,
    aws_region: Option<String>,
    configuration_item_capture_time: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokingEvent {
    message_type: Option<String>,
    notification_creation_time: Option<String>,
    configuration_item: Option<ConfigurationItem>,
    configuration_item_summary: Option<ConfigurationItem>,
}

/// A RAM sharing change that asks for an evaluation now: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharingChange {
    pub trigger: &'static str,
    /// The share owner's account: the rule runs there.
    pub account: String,
    pub region: Option<String>,
    pub reason: String,
}

/// The RAM sharing change an EventBridge event reports, or why it is none: a RAM API call
/// delivered by CloudTrail (only with a trail), or RAM's own "Resource Sharing State Change"
/// (source `aws.ram`, best effort, sent "for both the owner of the resource share and the
/// principals": https://docs.aws.amazon.com/ram/latest/userguide/using-cloudwatch-events.html).
/// RAM documents no detail for its own event, so the owner is read from the share ARN among the
/// event's resources (the event's account when there is none).
pub fn sharing_change(
    event: &aws_lambda_events::event::eventbridge::EventBridgeEvent<Value>,
) -> Result<SharingChange, String> {
    let account = event.account.clone().unwrap_or_default();
    let region = event.region.clone().filter(|r| !r.is_empty());
    let source = event.source.as_str();
    let text = |key: &str| {
        event
            .detail
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    match (source, event.detail_type.as_str()) {
        ("aws.ram", "AWS API Call via CloudTrail") => {
            let (event_source, name) = (text("eventSource"), text("eventName"));
            if event_source != "ram.amazonaws.com"
                || !NEAR_REAL_TIME_EVENTS.contains(&name.as_str())
            {
                return Err(format!(
                    "{event_source} {name} does not change what a share reaches"
                ));
            }
            Ok(SharingChange {
                trigger: "cloudtrail",
                account,
                region,
                reason: name,
            })
        }
        ("aws.ram", RAM_STATE_CHANGE) => {
            let named = event.detail.get("resourceShareArn").and_then(Value::as_str);
            let owner = event
                .resources
                .iter()
                .flatten()
                .map(String::as_str)
                .chain(named)
                .find_map(|arn| {
                    let parts: Vec<&str> = arn.splitn(6, ':').collect();
                    (parts.len() == 6
                        && parts[2] == "ram"
                        && parts[5].starts_with("resource-share/"))
                    .then(|| parts[4].to_string())
                })
                .unwrap_or_else(|| account.clone());
            Ok(SharingChange {
                trigger: "ram-event",
                account: owner,
                region,
                reason: RAM_STATE_CHANGE.into(),
            })
        }
        (source, detail_type) => Err(format!("{detail_type:?} from {source:?}")),
    }
}

/// RAM's own event for a change to a share.
pub const RAM_STATE_CHANGE: &str = "Resource Sharing State Change";

/// A start of the rule: where, and why.
struct StartRequest<'a> {
    account: &'a str,
    region: Option<&'a str>,
    base: &'a str,
    reason: &'a str,
}

/// What became of a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Started {
    Yes,
    /// Config refused it (in progress, or within a minute of the last start): defer it.
    Refused,
    /// Nothing to start there (no rule, or no member role): said in the outcome.
    Skipped,
}

/// One record of an SQS batch.
struct SqsRecord {
    message_id: String,
    body: String,
}

fn parse_sqs_records(event: &Value) -> Result<Vec<SqsRecord>, RuleError> {
    let records = event["Records"]
        .as_array()
        .ok_or_else(|| RuleError::BadEvent("Records is not a list".into()))?;
    records
        .iter()
        .map(|r| {
            if r["eventSource"] != "aws:sqs" {
                return Err(RuleError::BadEvent(format!(
                    "a record from {} is not an SQS message",
                    failure::bounded(&r["eventSource"].to_string(), 64)
                )));
            }
            match (r["messageId"].as_str(), r["body"].as_str()) {
                (Some(id), Some(body)) => Ok(SqsRecord {
                    message_id: id.to_string(),
                    body: body.to_string(),
                }),
                _ => Err(RuleError::BadEvent(
                    "an SQS record without messageId or body".into(),
                )),
            }
        })
        .collect()
}

/// A message of an SQS batch to be delivered again (Lambda's partial batch response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
}

/// Where refused starts wait for the window to pass.
pub struct Deferral {
    sqs: aws_sdk_sqs::Client,
    /// `DEFERRED_EVALUATIONS_QUEUE_URL`: the FIFO queue (its delivery delay is the window).
    pub queue_url: Option<String>,
    /// `DEFERRED_EVALUATION_SECONDS`: the window deferrals are counted in.
    pub window_seconds: u64,
    /// Deduplication ids this instance already sent.
    sent: Mutex<HashSet<String>>,
}

/// The rule's long-lived state: the function's own SDK configuration, clients built once, the
/// org snapshot cache and member-account configurations.
pub struct RuleHandler {
    accounts: AccountConfigs,
    organizations: aws_sdk_organizations::Client,
    config: aws_sdk_config::Client,
    org_cache: OrgCache,
    /// The rule's name, for the near-real-time path (StartConfigRulesEvaluation).
    pub rule_name: Option<String>,
    /// Parameters for the near-real-time path (from environment variables).
    pub env_parameters: Parameters,
    /// The rule's name per (account, Region), as found with DescribeConfigRules.
    rule_names: Mutex<HashMap<(String, String), String>>,
    /// How much of a sweep runs at once (1: every call after the other).
    pub sweep_concurrency: usize,
    /// Where refused near-real-time starts wait.
    pub deferral: Deferral,
}

fn parse_time(s: &str, field: &str) -> Result<DateTime, RuleError> {
    DateTime::from_str(s, Format::DateTime).map_err(|e| {
        RuleError::BadEvent(format!(
            "{field} {:?} is not a timestamp: {e}",
            failure::bounded(s, 64)
        ))
    })
}

/// The ordering timestamp of evaluations: the event's, but never later than now. A timestamp in
/// the future would keep every later evaluation of the share from replacing this one.
fn ordering_timestamp(event_time: DateTime, now: DateTime) -> DateTime {
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

fn now_secs() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs()
}

impl RuleHandler {
    pub fn new(
        base: SdkConfig,
        rule_name: Option<String>,
        env_parameters: Parameters,
    ) -> RuleHandler {
        RuleHandler {
            organizations: ramguard::aws::calls::organizations(&base),
            config: ramguard::aws::calls::config(&base),
            deferral: Deferral {
                sqs: ramguard::aws::calls::sqs(&base),
                queue_url: None,
                window_seconds: ramguard::deferral::DEFAULT_WINDOW_SECONDS,
                sent: Mutex::default(),
            },
            accounts: AccountConfigs::new(base, "ramguard-config-rule"),
            org_cache: OrgCache::new(),
            rule_name,
            env_parameters,
            rule_names: Mutex::default(),
            sweep_concurrency: DEFAULT_SWEEP_CONCURRENCY,
        }
    }

    /// Handles one invocation. `own_account` is the function's account: events for another
    /// account are handled through the member role (org-wide mode).
    pub async fn handle(&self, event: Value, own_account: &str) -> Result<RuleOutcome, RuleError> {
        let size = serde_json::to_vec(&event).map_or(usize::MAX, |b| b.len());
        if size > ramguard::events::MAX_EVENT_BYTES {
            return Err(RuleError::BadEvent(format!(
                "{size} bytes is over the {}-byte limit",
                ramguard::events::MAX_EVENT_BYTES
            )));
        }
        if event.get("detail-type").is_some() {
            return self.handle_eventbridge(event, own_account).await;
        }
        if event.get("Records").is_some() {
            return self.handle_deferred(event, own_account).await;
        }
        if event.get("invokingEvent").is_none() {
            return Err(RuleError::BadEvent(
                "neither a Config rule event (invokingEvent), an EventBridge event (detail-type) nor an SQS batch (Records)".into(),
            ));
        }
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
        let rule_name = event.config_rule_name.clone().unwrap_or_default();
        let message_type = invoking.message_type.clone().unwrap_or_default();
        let account = event
            .account_id
            .clone()
            .ok_or_else(|| RuleError::BadEvent("accountId is missing".into()))?;
        check_account_id(&account, "accountId")?;
        match message_type.as_str() {
            "ScheduledNotification"
            | "ConfigurationItemChangeNotification"
            | "OversizedConfigurationItemChangeNotification" => {}
            other => {
                return Err(RuleError::BadEvent(format!(
                    "unknown messageType {:?}",
                    failure::bounded(other, 64)
                )))
            }
        }
        let org = self
            .org_cache
            .get(
                &self.organizations,
                Duration::from_secs(params.org_cache_ttl_seconds),
            )
            .await
            .map_err(RuleError::OrgSnapshot)?;
        let mut outcome = RuleOutcome {
            account: account.clone(),
            ..Default::default()
        };
        let target = match self
            .accounts
            .for_account(
                &account,
                own_account,
                &org,
                params.execution_role_name.as_deref(),
                None,
            )
            .await
        {
            Ok(target) => target,
            Err(access) => return skip_or_fail(access, outcome, &rule_name),
        };
        let ram = ramguard::aws::calls::ram(&target);
        let config = ramguard::aws::calls::config(&target);
        let now = DateTime::from(std::time::SystemTime::now());
        if message_type == "ScheduledNotification" {
            outcome.trigger = "scheduled".into();
            let ordering = parse_time(
                invoking
                    .notification_creation_time
                    .as_deref()
                    .unwrap_or_default(),
                "notificationCreationTime",
            )?;
            let ordering = ordering_timestamp(ordering, now);
            let sweep = Sweep {
                ram: &ram,
                config: &config,
                rule_name: &rule_name,
                org: &org,
                params: &params,
                token: &token,
                ordering,
                width: self.sweep_concurrency.max(1),
            };
            sweep.run(&mut outcome).await?;
        } else {
            outcome.trigger = "change".into();
            let item = invoking
                .configuration_item
                .or(invoking.configuration_item_summary)
                .ok_or_else(|| RuleError::BadEvent("configurationItem is missing".into()))?;
            let when = item
                .configuration_item_capture_time
                .clone()
                .or(invoking.notification_creation_time.clone())
                .unwrap_or_default();
            let ordering =
                ordering_timestamp(parse_time(&when, "configurationItemCaptureTime")?, now);
            let evaluations = self
                .one_share(
                    &ram,
                    &item,
                    event.event_left_scope,
                    &org,
                    &params,
                    &mut outcome,
                )
                .await?;
            for e in &evaluations {
                count(&mut outcome, e.compliance);
            }
            outcome.put_evaluations_calls =
                config_api::put_evaluations(&config, &token, &evaluations, ordering).await?;
        }
        info!(
            rule = %rule_name,
            account = %account,
            trigger = %outcome.trigger,
            compliant = outcome.compliant,
            non_compliant = outcome.non_compliant,
            not_applicable = outcome.not_applicable,
            evaluations_unchanged = outcome.evaluations_unchanged,
            put_evaluations_calls = outcome.put_evaluations_calls,
            "evaluations reported to AWS Config"
        );
        Ok(outcome)
    }

    async fn one_share(
        &self,
        ram: &aws_sdk_ram::Client,
        item: &ConfigurationItem,
        left_scope: bool,
        org: &OrgSnapshot,
        params: &Parameters,
        outcome: &mut RuleOutcome,
    ) -> Result<Vec<ShareEvaluation>, RuleError> {
        let resource_type = item.resource_type.as_deref().unwrap_or_default();
        if resource_type != RESOURCE_TYPE {
            return Err(RuleError::BadEvent(format!(
                "configuration item of type {:?}: this rule judges {RESOURCE_TYPE} only",
                failure::bounded(resource_type, 64)
            )));
        }
        let arn = share_arn(item, org.partition())?;
        let not_applicable = |why: &str| {
            info!(share_arn = %arn, verdict = "NOT_APPLICABLE", reason = why, "verdict");
            vec![ShareEvaluation {
                resource_id: arn.clone(),
                compliance: Compliance::NotApplicable,
                annotation: why.to_string(),
            }]
        };
        let status = item.configuration_item_status.as_deref().unwrap_or("OK");
        if left_scope {
            return Ok(not_applicable("The resource share left the rule's scope."));
        }
        if matches!(status, "ResourceDeleted" | "ResourceDeletedNotRecorded") {
            return Ok(not_applicable("The resource share was deleted."));
        }
        match ram_api::share(ram, &arn).await? {
            None => Ok(not_applicable("The resource share no longer exists.")),
            Some(share) => {
                let verdict = evaluate(&share, org, params, now_secs());
                log_verdict(&verdict);
                outcome.record(&verdict);
                Ok(vec![ShareEvaluation {
                    resource_id: share.arn.clone(),
                    compliance: verdict.compliance,
                    annotation: verdict.annotation,
                }])
            }
        }
    }

    /// An EventBridge event: a RAM sharing change, from CloudTrail ("AWS API Call via
    /// CloudTrail") or from RAM itself ("Resource Sharing State Change"), asks Config to run the
    /// rule now in the share owner's account and Region, or, when Config refuses a start, defers
    /// it past the refusal window.
    async fn handle_eventbridge(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let event: aws_lambda_events::event::eventbridge::EventBridgeEvent<Value> =
            serde_json::from_value(event)
                .map_err(|e| RuleError::BadEvent(format!("not an EventBridge event: {e}")))?;
        let change = match sharing_change(&event) {
            Ok(change) => change,
            Err(why) => {
                info!(detail_type = %event.detail_type, source = ?event.source, reason = %why, "event ignored: not a RAM sharing change");
                return Ok(RuleOutcome {
                    trigger: "cloudtrail".into(),
                    account: event.account.clone().unwrap_or_default(),
                    evaluation_started: Some(false),
                    ..Default::default()
                });
            }
        };
        let mut outcome = RuleOutcome {
            trigger: change.trigger.into(),
            account: change.account.clone(),
            ..Default::default()
        };
        check_account_id(&change.account, "account")?;
        if let Some(r) = change
            .region
            .as_deref()
            .filter(|r| !ramguard::principal::is_region(r))
        {
            return Err(RuleError::BadEvent(format!(
                "region {:?} is not an AWS Region",
                failure::bounded(r, 64)
            )));
        }
        let base = self.rule_name.clone().ok_or_else(|| {
            RuleError::BadEvent(
                "CONFIG_RULE_NAME is not set, so no evaluation can be started".into(),
            )
        })?;
        let start = StartRequest {
            account: &change.account,
            region: change.region.as_deref(),
            base: &base,
            reason: &change.reason,
        };
        let started = match self.start_in(&start, own_account, &mut outcome).await {
            // a principal's copy of RAM's event for a share received from outside: the
            // organization judges the shares it owns, and RAM's event names no other to start
            Err(RuleError::Access(AccountAccess::NotAMember { .. }))
                if change.trigger == "ram-event" =>
            {
                info!(account = %change.account, reason = %change.reason,
                    "the share's owner is outside the organization; nothing to evaluate");
                outcome.evaluation_started = Some(false);
                outcome.skipped = Some(format!(
                    "share owner {} is outside the organization",
                    change.account
                ));
                return Ok(outcome);
            }
            other => other?,
        };
        match started {
            Started::Yes | Started::Skipped => {}
            Started::Refused => {
                let deferred = DeferredEvaluation::new(
                    &change.account,
                    &self.region_of(start.region),
                    &base,
                    &change.reason,
                );
                self.defer(&deferred, &mut outcome).await?;
            }
        }
        Ok(outcome)
    }

    /// A batch of deferred starts from the SQS queue. Each record is one deferred start: started,
    /// deferred once more when Config refuses it again, or reported in `batchItemFailures` (so
    /// SQS delivers it again, and after its last receive moves it to the dead-letter queue).
    async fn handle_deferred(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let records = parse_sqs_records(&event)?;
        let mut outcome = RuleOutcome {
            trigger: "deferred".into(),
            ..Default::default()
        };
        for record in records {
            let deferred = match serde_json::from_str::<DeferredEvaluation>(&record.body)
                .map_err(|e| e.to_string())
                .and_then(|d| self.check_deferred(d))
            {
                Ok(d) => d,
                Err(why) => {
                    error!(message_id = %record.message_id, error = %why, "deferred evaluation unreadable; left to the dead-letter queue");
                    outcome.failed(record.message_id);
                    continue;
                }
            };
            outcome.account = deferred.account.clone();
            let start = StartRequest {
                account: &deferred.account,
                region: Some(&deferred.region),
                base: &deferred.rule,
                reason: &deferred.reason,
            };
            let result = match self.start_in(&start, own_account, &mut outcome).await {
                Ok(Started::Refused) => match deferred.again() {
                    Some(next) => self.defer(&next, &mut outcome).await,
                    None => {
                        error!(account = %deferred.account, region = %deferred.region, rule = %deferred.rule, attempts = deferred.attempt,
                            "deferred evaluation refused every time; left to the dead-letter queue");
                        outcome.failed(record.message_id.clone());
                        Ok(())
                    }
                },
                Ok(Started::Yes | Started::Skipped) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                warn!(message_id = %record.message_id, account = %deferred.account, region = %deferred.region, error = %e,
                    "deferred evaluation not started; SQS delivers it again");
                outcome.failed(record.message_id);
            }
        }
        Ok(outcome)
    }

    fn check_deferred(&self, d: DeferredEvaluation) -> Result<DeferredEvaluation, String> {
        if d.kind != ramguard::deferral::KIND {
            return Err(format!(
                "kind {:?} is not {}",
                failure::bounded(&d.kind, 64),
                ramguard::deferral::KIND
            ));
        }
        if !is_account_id(&d.account) || !ramguard::principal::is_region(&d.region) {
            return Err("account or region malformed".into());
        }
        match self.rule_name.as_deref() {
            Some(base) if base == d.rule => Ok(d),
            _ => Err(format!(
                "rule {:?} is not this function's CONFIG_RULE_NAME",
                failure::bounded(&d.rule, 64)
            )),
        }
    }

    /// The Region a start without one goes to: the function's own.
    fn region_of(&self, region: Option<&str>) -> String {
        region
            .map(str::to_string)
            .or_else(|| self.config.config().region().map(|r| r.to_string()))
            .unwrap_or_default()
    }

    /// Sends a deferred start to the queue, once per group and window from this instance (SQS
    /// deduplicates across instances). Without a queue the refusal fails the invocation, so that
    /// its trigger retries it: a refused start is never taken as covered.
    async fn defer(
        &self,
        deferred: &DeferredEvaluation,
        outcome: &mut RuleOutcome,
    ) -> Result<(), RuleError> {
        let Some(queue) = self.deferral.queue_url.as_deref() else {
            return Err(RuleError::Aws(AwsError {
                operation: "StartConfigRulesEvaluation",
                code: Some("LimitExceededException".into()),
                message: "Config refused the start and DEFERRED_EVALUATIONS_QUEUE_URL is not set to defer it".into(),
            }));
        };
        let now = now_secs();
        let id = deferred.deduplication_id(now, self.deferral.window_seconds);
        let first = {
            let mut sent = self.deferral.sent.lock().expect("deferrals sent");
            if sent.len() > 4096 {
                sent.clear();
            }
            sent.insert(id)
        };
        if first {
            sqs_api::defer(
                &self.deferral.sqs,
                queue,
                deferred,
                now,
                self.deferral.window_seconds,
            )
            .await?;
            outcome.evaluations_deferred += 1;
        }
        info!(account = %deferred.account, region = %deferred.region, rule = %deferred.rule, reason = %deferred.reason,
            attempt = deferred.attempt, window_seconds = self.deferral.window_seconds, sent = first,
            "evaluation start refused (one in progress, or one started less than a window ago); deferred past the window");
        outcome.evaluation_deferred = Some(true);
        Ok(())
    }

    /// Asks Config to run the rule now in one account and Region, through the member role for
    /// another account than the function's.
    async fn start_in(
        &self,
        start: &StartRequest<'_>,
        own_account: &str,
        outcome: &mut RuleOutcome,
    ) -> Result<Started, RuleError> {
        let (account, region, base) = (start.account, start.region, start.base);
        // A member's change (forwarded by the member stack) starts the rule in that member,
        // through its role; the organization is read only then.
        let target = if account == own_account {
            None
        } else {
            let org = self
                .org_cache
                .get(
                    &self.organizations,
                    Duration::from_secs(self.env_parameters.org_cache_ttl_seconds),
                )
                .await
                .map_err(RuleError::OrgSnapshot)?;
            match self
                .accounts
                .for_account(
                    account,
                    own_account,
                    &org,
                    self.env_parameters.execution_role_name.as_deref(),
                    region,
                )
                .await
            {
                Ok(cfg) => Some(cfg),
                Err(access) => {
                    outcome.evaluation_started = Some(false);
                    let skipped = skip_or_fail(access, std::mem::take(outcome), base)?;
                    *outcome = skipped;
                    return Ok(Started::Skipped);
                }
            }
        };
        let config = match &target {
            Some(cfg) => ramguard::aws::calls::config(cfg),
            None if region.is_some() => {
                let cfg = self.config.config().to_builder();
                aws_sdk_config::Client::from_conf(
                    cfg.region(aws_config::Region::new(
                        region.unwrap_or_default().to_string(),
                    ))
                    .build(),
                )
            }
            None => self.config.clone(),
        };
        let key = (account.to_string(), region.unwrap_or_default().to_string());
        let Some(rule) = self.rule_name_in(&config, &key, base).await? else {
            warn!(account = %account, region = %key.1, rule = %base, reason = %start.reason,
                "no ramguard rule in this account and Region (excluded from the organization rule, or not deployed there yet); nothing started");
            outcome.evaluation_started = Some(false);
            outcome.skipped = Some(format!("no rule {base} in account {account}"));
            return Ok(Started::Skipped);
        };
        let started = match config_api::start_rule_evaluation(&config, &rule).await {
            Err(e) if e.is("NoSuchConfigRuleException") => {
                // the organization rule was re-created under a new suffix: look it up once more
                self.rule_names.lock().expect("rule names").remove(&key);
                match self.rule_name_in(&config, &key, base).await? {
                    Some(rule) => config_api::start_rule_evaluation(&config, &rule).await?,
                    None => return Err(e.into()),
                }
            }
            other => other?,
        };
        outcome.evaluation_started =
            Some(started == StartOutcome::Started || outcome.evaluation_started == Some(true));
        match started {
            StartOutcome::Started => {
                info!(rule = %rule, account = %account, region = %key.1, reason = %start.reason, "evaluation started");
                outcome.evaluations_started += 1;
                Ok(Started::Yes)
            }
            StartOutcome::Refused => Ok(Started::Refused),
        }
    }

    /// The rule's name in one account and Region, looked up once per warm instance.
    async fn rule_name_in(
        &self,
        config: &aws_sdk_config::Client,
        key: &(String, String),
        base: &str,
    ) -> Result<Option<String>, RuleError> {
        if let Some(name) = self.rule_names.lock().expect("rule names").get(key) {
            return Ok(Some(name.clone()));
        }
        let found = config_api::find_rule_name(config, base).await?;
        if let Some(name) = &found {
            self.rule_names
                .lock()
                .expect("rule names")
                .insert(key.clone(), name.clone());
        }
        Ok(found)
    }
}

/// One scheduled sweep of an account's shares in one Region, pipelined: share pages are listed
/// while earlier pages' associations are read (up to `width` pages at once), each page is
/// judged as it arrives, and evaluations go to Config in batches of 100 as they fill (up to
/// `width` calls at once). The results Config already holds are read alongside; a share whose
/// result is unchanged is not sent again, and a share Config holds a result for that the
/// complete listing no longer has becomes NOT_APPLICABLE. With `width` 1 every call waits for
/// the one before it.
struct Sweep<'a> {
    ram: &'a aws_sdk_ram::Client,
    config: &'a aws_sdk_config::Client,
    rule_name: &'a str,
    org: &'a OrgSnapshot,
    params: &'a Parameters,
    token: &'a str,
    ordering: DateTime,
    width: usize,
}

type SourcesByShare = HashMap<String, Vec<SourceAssociation>>;

async fn with_principals(
    ram: &aws_sdk_ram::Client,
    page: Result<Vec<ResourceShare>, AwsError>,
) -> Result<Vec<ResourceShare>, RuleError> {
    let mut page = page?;
    ram_api::attach_principals(ram, &mut page).await?;
    Ok(page)
}

async fn next_batch(
    mut rx: tokio::sync::mpsc::Receiver<Vec<ShareEvaluation>>,
) -> Option<(
    Vec<ShareEvaluation>,
    tokio::sync::mpsc::Receiver<Vec<ShareEvaluation>>,
)> {
    rx.recv().await.map(|batch| (batch, rx))
}

async fn put_batch(
    config: &aws_sdk_config::Client,
    token: &str,
    batch: Vec<ShareEvaluation>,
    ordering: DateTime,
) -> Result<usize, AwsError> {
    config_api::put_evaluations(config, token, &batch, ordering).await
}

/// PutEvaluations calls of one sweep, up to the sweep's width at once with the one ResultToken.
/// AWS's documentation neither allows nor forbids concurrent calls with one token (its own rule
/// tooling reuses a token one call after the other): after the first failed call, the rest of
/// the sweep reports one call at a time, and each failed batch is sent once more, alone.
struct PutGate {
    /// Calls in flight share it; a call that must be alone takes it exclusively (tokio's lock
    /// is fair: it waits for the calls in flight and holds back the ones after it).
    alone: tokio::sync::RwLock<()>,
    sequential: std::sync::atomic::AtomicBool,
}

impl PutGate {
    fn new(width: usize) -> PutGate {
        PutGate {
            alone: tokio::sync::RwLock::new(()),
            sequential: std::sync::atomic::AtomicBool::new(width <= 1),
        }
    }

    async fn put(
        &self,
        config: &aws_sdk_config::Client,
        token: &str,
        batch: Vec<ShareEvaluation>,
        ordering: DateTime,
    ) -> Result<usize, AwsError> {
        use std::sync::atomic::Ordering::SeqCst;
        let first = if self.sequential.load(SeqCst) {
            let _alone = self.alone.write().await;
            config_api::put_evaluations(config, token, &batch, ordering).await
        } else {
            let _shared = self.alone.read().await;
            config_api::put_evaluations(config, token, &batch, ordering).await
        };
        let e = match first {
            Ok(calls) => return Ok(calls),
            Err(e) => e,
        };
        if !self.sequential.swap(true, SeqCst) {
            warn!(error = %e, "PutEvaluations failed with other calls in flight; the rest of the sweep reports one call at a time");
        }
        let _alone = self.alone.write().await;
        Ok(1 + config_api::put_evaluations(config, token, &batch, ordering).await?)
    }
}

/// Judges shares one by one and gathers what to send in batches of 100: a share whose result
/// Config already holds is counted, not sent; after the complete listing, every share Config
/// holds a result for that was not seen becomes NOT_APPLICABLE.
struct Judge<'a> {
    org: &'a OrgSnapshot,
    params: &'a Parameters,
    earlier: EarlierResults,
    sources: SourcesByShare,
    now: i64,
    pending: Vec<ShareEvaluation>,
    batches: usize,
}

impl<'a> Judge<'a> {
    fn new(
        org: &'a OrgSnapshot,
        params: &'a Parameters,
        (earlier, sources): (EarlierResults, SourcesByShare),
    ) -> Judge<'a> {
        Judge {
            org,
            params,
            earlier,
            sources,
            now: now_secs(),
            pending: Vec::with_capacity(MAX_EVALUATIONS_PER_CALL),
            batches: 0,
        }
    }

    fn push(&mut self, evaluation: ShareEvaluation) -> Option<Vec<ShareEvaluation>> {
        self.pending.push(evaluation);
        (self.pending.len() == MAX_EVALUATIONS_PER_CALL).then(|| {
            self.batches += 1;
            std::mem::take(&mut self.pending)
        })
    }

    /// Judges one share; returns a full batch when one is ready to send.
    fn share(
        &mut self,
        mut share: ResourceShare,
        outcome: &mut RuleOutcome,
    ) -> Option<Vec<ShareEvaluation>> {
        share.sources = self.sources.remove(&share.arn).unwrap_or_default();
        let verdict = evaluate(&share, self.org, self.params, self.now);
        log_verdict(&verdict);
        outcome.record(&verdict);
        count(outcome, verdict.compliance);
        match self
            .earlier
            .observe(&verdict.share_arn, verdict.compliance, &verdict.annotation)
        {
            Report::Unchanged => {
                outcome.evaluations_unchanged += 1;
                None
            }
            Report::Send => self.push(ShareEvaluation {
                resource_id: verdict.share_arn,
                compliance: verdict.compliance,
                annotation: verdict.annotation,
            }),
        }
    }

    /// After the complete listing: NOT_APPLICABLE for the shares gone, and the last batches. One
    /// batch at least, so that Config has the invocation's report even when every result stands
    /// (PutEvaluations takes an empty list of evaluations).
    fn finish(mut self, outcome: &mut RuleOutcome) -> Vec<Vec<ShareEvaluation>> {
        let gone: Vec<String> = self.earlier.unobserved().collect();
        let mut out = Vec::new();
        for arn in gone {
            info!(share_arn = %arn, verdict = "NOT_APPLICABLE", reason = "share no longer exists", "verdict");
            count(outcome, Compliance::NotApplicable);
            out.extend(self.push(ShareEvaluation {
                resource_id: arn,
                compliance: Compliance::NotApplicable,
                annotation: "The resource share no longer exists.".into(),
            }));
        }
        if !self.pending.is_empty() || self.batches == 0 {
            out.push(std::mem::take(&mut self.pending));
        }
        out
    }
}

impl Sweep<'_> {
    async fn run(&self, outcome: &mut RuleOutcome) -> Result<(), RuleError> {
        if self.width == 1 {
            self.run_in_sequence(outcome).await
        } else {
            self.run_pipelined(outcome).await
        }
    }

    /// Every call after the one before it (`SWEEP_CONCURRENCY=1`).
    async fn run_in_sequence(&self, outcome: &mut RuleOutcome) -> Result<(), RuleError> {
        let earlier = config_api::earlier_results(self.config, self.rule_name).await?;
        let sources = ram_api::owned_sources(self.ram).await?;
        let mut judge = Judge::new(self.org, self.params, (earlier, sources));
        let mut calls = 0;
        let mut pages = std::pin::pin!(ram_api::owned_share_pages(self.ram));
        while let Some(page) = pages.next().await {
            for share in with_principals(self.ram, page).await? {
                if let Some(batch) = judge.share(share, outcome) {
                    calls += put_batch(self.config, self.token, batch, self.ordering).await?;
                }
            }
        }
        for batch in judge.finish(outcome) {
            calls += put_batch(self.config, self.token, batch, self.ordering).await?;
        }
        outcome.put_evaluations_calls = calls;
        Ok(())
    }

    async fn run_pipelined(&self, outcome: &mut RuleOutcome) -> Result<(), RuleError> {
        let width = self.width;
        let (page_tx, mut page_rx) = tokio::sync::mpsc::channel::<SharePage>(width);
        let (batch_tx, batch_rx) = tokio::sync::mpsc::channel::<Vec<ShareEvaluation>>(width);
        let ram = self.ram;
        let judged = &mut *outcome;

        let read = async move {
            let mut pages = std::pin::pin!(ram_api::owned_share_pages(ram)
                .map(|page| with_principals(ram, page))
                .buffered(width));
            while let Some(page) = pages.next().await {
                if page_tx.send(SharePage::Shares(page?)).await.is_err() {
                    return Ok(()); // the judge stopped: its error is the invocation's
                }
            }
            let _ = page_tx.send(SharePage::End).await;
            Ok::<_, RuleError>(())
        };

        let judge = async move {
            let outcome = judged;
            let known = tokio::try_join!(
                config_api::earlier_results(self.config, self.rule_name),
                ram_api::owned_sources(self.ram),
            )?;
            let mut judge = Judge::new(self.org, self.params, known);
            while let Some(page) = page_rx.recv().await {
                let SharePage::Shares(shares) = page else {
                    for batch in judge.finish(outcome) {
                        if batch_tx.send(batch).await.is_err() {
                            break;
                        }
                    }
                    return Ok(());
                };
                for share in shares {
                    if let Some(batch) = judge.share(share, outcome) {
                        if batch_tx.send(batch).await.is_err() {
                            return Ok(()); // the sender stopped: its error is the invocation's
                        }
                    }
                }
            }
            // the reader stopped before the end of the listing; its error ends the invocation,
            // and no share is called gone
            Ok::<_, RuleError>(())
        };

        let (config, token, ordering) = (self.config, self.token, self.ordering);
        let gate = PutGate::new(width);
        let gate = &gate;
        let send = async move {
            let batches = futures_util::stream::unfold(batch_rx, next_batch);
            let mut calls = std::pin::pin!(batches
                .map(|batch| gate.put(config, token, batch, ordering))
                .buffer_unordered(width));
            let mut total = 0usize;
            while let Some(sent) = calls.next().await {
                total += sent?;
            }
            Ok::<_, RuleError>(total)
        };

        let ((), (), calls) = tokio::try_join!(read, judge, send)?;
        outcome.put_evaluations_calls = calls;
        Ok(())
    }
}

/// An account the function cannot act in: a missing member role is answered with one warning,
/// a metric and a successful invocation (retrying cannot create the role; the next scheduled
/// run after the StackSet reaches the account covers it); everything else fails the invocation.
fn skip_or_fail(
    access: AccountAccess,
    mut outcome: RuleOutcome,
    rule_name: &str,
) -> Result<RuleOutcome, RuleError> {
    match access {
        AccountAccess::MemberRoleUnavailable {
            ref account,
            ref role_arn,
            ..
        } => {
            warn!(account = %account, role = %role_arn, rule = %rule_name, error = %access,
                "member role unavailable; nothing evaluated in this account");
            ramguard::metrics::count(
                "config-rule",
                "MemberRoleUnavailable",
                1,
                &[("account", account), ("role", role_arn)],
            );
            outcome.skipped = Some(format!("member role {role_arn} unavailable"));
            Ok(outcome)
        }
        other => Err(other.into()),
    }
}

fn check_account_id(account: &str, field: &str) -> Result<(), RuleError> {
    if is_account_id(account) {
        Ok(())
    } else {
        let shown: String = account.chars().take(40).collect();
        Err(RuleError::BadEvent(format!(
            "{field} {shown:?} is not a 12-digit account ID"
        )))
    }
}

/// The invocation's metrics: shares judged, NON_COMPLIANT shares, outside principals,
/// evaluations reported, results left standing because unchanged, members skipped, and how long
/// it took.
pub fn metrics(outcome: &RuleOutcome, millis: u64) -> ramguard::metrics::Invocation {
    ramguard::metrics::Invocation::new("config-rule")
        .property("account", &outcome.account)
        .property("trigger", &outcome.trigger)
        .count(
            "SharesJudged",
            (outcome.compliant + outcome.non_compliant + outcome.not_applicable) as u64,
        )
        .count("NonCompliantShares", outcome.non_compliant as u64)
        .count("OutsidePrincipals", outcome.outside_principals as u64)
        .count("PutEvaluationsCalls", outcome.put_evaluations_calls as u64)
        .count("EvaluationsUnchanged", outcome.evaluations_unchanged as u64)
        .count("AccountsSkipped", u64::from(outcome.skipped.is_some()))
        .count("EvaluationsStarted", outcome.evaluations_started as u64)
        .count("EvaluationsDeferred", outcome.evaluations_deferred as u64)
        .millis("DurationMs", millis)
}

/// The share ARN a configuration item names: its `ARN`, or its resource id when that is an ARN,
/// or an ARN built from the item's account, Region and id.
fn share_arn(item: &ConfigurationItem, partition: &str) -> Result<String, RuleError> {
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

fn summary(v: &ShareVerdict) -> VerdictSummary {
    VerdictSummary {
        share_arn: v.share_arn.clone(),
        compliance: v.compliance.as_str().to_string(),
        outside: v.external.iter().map(|p| p.entity.clone()).collect(),
    }
}

/// One log line per verdict, and a warning per disagreement with RAM's `external` flag.
fn log_verdict(v: &ShareVerdict) {
    for m in &v.flag_mismatches {
        warn!(
            share_arn = %v.share_arn,
            principal = %m.entity,
            ram_external = m.ram_external,
            ramguard_external = m.ramguard_external,
            "RAM's external flag disagrees with the organization snapshot"
        );
    }
    let outside: Vec<&str> = v.external.iter().map(|p| p.entity.as_str()).collect();
    info!(
        share_arn = %v.share_arn,
        verdict = v.compliance.as_str(),
        reason = v.reason.kind(),
        outside = %outside.join(","),
        outside_count = outside.len(),
        "verdict"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_concurrency_is_a_whole_number_from_1_to_64() {
        assert_eq!(sweep_concurrency(None), Ok(DEFAULT_SWEEP_CONCURRENCY));
        assert_eq!(sweep_concurrency(Some("  ")), Ok(DEFAULT_SWEEP_CONCURRENCY));
        assert_eq!(sweep_concurrency(Some("1")), Ok(1));
        assert_eq!(sweep_concurrency(Some(" 64 ")), Ok(64));
        for bad in ["0", "65", "-1", "eight", "2.5"] {
            let err = sweep_concurrency(Some(bad)).unwrap_err();
            assert!(err.starts_with("SWEEP_CONCURRENCY"), "{err}");
        }
    }
}
