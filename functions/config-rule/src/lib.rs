//! The ramguard AWS Config custom rule.
//!
//! Triggers: Config's ScheduledNotification (sweep every share the account owns),
//! ConfigurationItemChangeNotification and its oversized form (re-read one share live), and
//! EventBridge "AWS API Call via CloudTrail" events from RAM (ask Config to run the rule now).

use std::collections::HashMap;
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
use ramguard::aws::{ram as ram_api, AwsError};
use ramguard::earlier::{EarlierResults, Report};
use ramguard::failure::{self, ErrorType};
use ramguard::params::ParameterError;
use ramguard::principal::is_account_id;
use ramguard::share::SourceAssociation;
use ramguard::{evaluate, Compliance, OrgSnapshot, Parameters, ResourceShare, ShareVerdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::{info, warn};

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

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailDetail {
    event_source: Option<String>,
    event_name: Option<String>,
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
            return self.handle_cloudtrail(event, own_account).await;
        }
        if event.get("invokingEvent").is_none() {
            return Err(RuleError::BadEvent(
                "neither a Config rule event (invokingEvent) nor an EventBridge event (detail-type)".into(),
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

    async fn handle_cloudtrail(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let event: aws_lambda_events::event::eventbridge::EventBridgeEvent<CloudTrailDetail> =
            serde_json::from_value(event)
                .map_err(|e| RuleError::BadEvent(format!("not an EventBridge event: {e}")))?;
        let source = event.detail.event_source.clone().unwrap_or_default();
        let name = event.detail.event_name.clone().unwrap_or_default();
        let account = event.account.clone().unwrap_or_default();
        let mut outcome = RuleOutcome {
            trigger: "cloudtrail".into(),
            account: account.clone(),
            ..Default::default()
        };
        if event.detail_type != "AWS API Call via CloudTrail"
            || source != "ram.amazonaws.com"
            || !NEAR_REAL_TIME_EVENTS.contains(&name.as_str())
        {
            info!(detail_type = %event.detail_type, event_source = %source, event_name = %name, "event ignored: not a RAM sharing change");
            outcome.evaluation_started = Some(false);
            return Ok(outcome);
        }
        check_account_id(&account, "account")?;
        let region = event.region.clone().filter(|r| !r.is_empty());
        if let Some(r) = region
            .as_deref()
            .filter(|r| !ramguard::principal::is_region(r))
        {
            return Err(RuleError::BadEvent(format!(
                "region {:?} is not an AWS Region",
                failure::bounded(r, 64)
            )));
        }
        let base = self.rule_name.as_deref().ok_or_else(|| {
            RuleError::BadEvent(
                "CONFIG_RULE_NAME is not set, so no evaluation can be started".into(),
            )
        })?;
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
                    &account,
                    own_account,
                    &org,
                    self.env_parameters.execution_role_name.as_deref(),
                    region.as_deref(),
                )
                .await
            {
                Ok(cfg) => Some(cfg),
                Err(access) => {
                    outcome.evaluation_started = Some(false);
                    return skip_or_fail(access, outcome, base);
                }
            }
        };
        let config = match &target {
            Some(cfg) => ramguard::aws::calls::config(cfg),
            None if region.is_some() => {
                let cfg = self.config.config().to_builder();
                aws_sdk_config::Client::from_conf(
                    cfg.region(aws_config::Region::new(region.clone().unwrap_or_default()))
                        .build(),
                )
            }
            None => self.config.clone(),
        };
        let key = (account.clone(), region.clone().unwrap_or_default());
        let Some(rule) = self.rule_name_in(&config, &key, base).await? else {
            warn!(account = %account, region = %key.1, rule = %base, event_name = %name,
                "no ramguard rule in this account and Region (excluded from the organization rule, or not deployed there yet); nothing started");
            outcome.evaluation_started = Some(false);
            outcome.skipped = Some(format!("no rule {base} in account {account}"));
            return Ok(outcome);
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
        match started {
            StartOutcome::Started => {
                info!(rule = %rule, account = %account, event_name = %name, "evaluation started")
            }
            StartOutcome::AlreadyRunning => {
                info!(rule = %rule, account = %account, event_name = %name, "evaluation already running; the next run or sweep covers this change")
            }
        }
        outcome.evaluation_started = Some(started == StartOutcome::Started);
        Ok(outcome)
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
        let send = async move {
            let batches = futures_util::stream::unfold(batch_rx, next_batch);
            let mut calls = std::pin::pin!(batches
                .map(|batch| put_batch(config, token, batch, ordering))
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
