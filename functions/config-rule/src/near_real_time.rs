//! The near-real-time path: a RAM sharing change asks Config to run the rule now, and a start
//! Config refuses waits on the deferral queue for the window to pass.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use ramguard_aws::config::{self as config_api, StartOutcome};
use ramguard_aws::credentials::AccountAccess;
use ramguard_aws::{sqs as sqs_api, AwsError};
use ramguard_core::bounded;
use ramguard_core::deferral::DeferredEvaluation;
use ramguard_core::is_account_id;
use serde_json::Value;
use tracing::{error, info, warn};

use crate::error::{check_account_id, RuleError};
use crate::outcome::skip_or_fail;
use crate::outcome::{RuleOutcome, Trigger};
use crate::rule_event::now_secs;
use crate::RuleHandler;
use ramguard_core::events::{sharing_change, sqs_records, ChangeSource};

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

impl Deferral {
    /// No queue yet (`queue_url` None: a refused start fails the invocation), the default window.
    pub fn new(base: &aws_config::SdkConfig) -> Deferral {
        Deferral {
            sqs: ramguard_aws::calls::sqs(base),
            queue_url: None,
            window_seconds: ramguard_core::deferral::DEFAULT_WINDOW_SECONDS,
            sent: Mutex::default(),
        }
    }
}

impl RuleHandler {
    /// An EventBridge event: a RAM sharing change, from CloudTrail ("AWS API Call via
    /// CloudTrail") or from RAM itself ("Resource Sharing State Change"), asks Config to run the
    /// rule now in the share owner's account and Region, or, when Config refuses a start, defers
    /// it past the refusal window.
    pub(crate) async fn handle_eventbridge(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let change = match sharing_change(&event) {
            Ok(change) => change,
            Err(why) => {
                info!(detail_type = %event["detail-type"], source = %event["source"], reason = %why, "event ignored: not a RAM sharing change");
                return Ok(RuleOutcome {
                    trigger: Trigger::Cloudtrail,
                    account: event["account"].as_str().unwrap_or_default().to_string(),
                    evaluation_started: Some(false),
                    ..Default::default()
                });
            }
        };
        let mut outcome = RuleOutcome {
            trigger: match change.source {
                ChangeSource::CloudTrail => Trigger::Cloudtrail,
                ChangeSource::RamEvent => Trigger::RamEvent,
            },
            account: change.account.clone(),
            ..Default::default()
        };
        check_account_id(&change.account, "account")?;
        if let Some(r) = change
            .region
            .as_deref()
            .filter(|r| !ramguard_core::is_region(r))
        {
            return Err(RuleError::BadEvent(format!(
                "region {:?} is not an AWS Region",
                bounded(r, 64)
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
                if change.source == ChangeSource::RamEvent =>
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
    pub(crate) async fn handle_deferred(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let records = sqs_records(&event).map_err(|e| RuleError::BadEvent(e.to_string()))?;
        let mut outcome = RuleOutcome {
            trigger: Trigger::Deferred,
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
        if d.kind != ramguard_core::deferral::KIND {
            return Err(format!(
                "kind {:?} is not {}",
                bounded(&d.kind, 64),
                ramguard_core::deferral::KIND
            ));
        }
        if !is_account_id(&d.account) || !ramguard_core::is_region(&d.region) {
            return Err("account or region malformed".into());
        }
        match self.rule_name.as_deref() {
            Some(base) if base == d.rule => Ok(d),
            _ => Err(format!(
                "rule {:?} is not this function's CONFIG_RULE_NAME",
                bounded(&d.rule, 64)
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
            Some(cfg) => ramguard_aws::calls::config(cfg),
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
