//! The ramguard AWS Config custom rule.
//!
//! Triggers: Config's ScheduledNotification (sweep every share the account owns),
//! ConfigurationItemChangeNotification and its oversized form (re-read one share live), and
//! EventBridge "AWS API Call via CloudTrail" events from RAM (ask Config to run the rule now).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use ramguard_aws::config::{self as config_api, ShareEvaluation, RESOURCE_TYPE};
use ramguard_aws::credentials::AccountConfigs;
use ramguard_aws::failure::ErrorType;
use ramguard_aws::organizations::OrgCache;
use ramguard_aws::ram as ram_api;
use ramguard_core::bounded;
use ramguard_core::{evaluate, Compliance, OrgSnapshot, Parameters};
use ramguard_lambda::Configuration;
use serde_json::Value;
use tracing::info;

mod error;
mod guardrail;
mod near_real_time;
mod outcome;
mod rule_event;
mod sweep;

pub use error::RuleError;
use outcome::skip_or_fail;
use rule_event::now_secs;

use ramguard_core::rule_event::{share_arn, ConfigurationItem, RuleInvocation, RuleTrigger};
use rule_event::ordering_timestamp;

pub use near_real_time::Deferral;
pub use outcome::{
    metrics, BatchItemFailure, RuleOutcome, Trigger, VerdictSummary, MAX_VERDICTS_IN_RESULT,
};
use ramguard_aws::baseline::BaselineState;
pub use ramguard_core::events::{
    sharing_change, SharingChange, NEAR_REAL_TIME_EVENTS, RAM_STATE_CHANGE,
};
pub use sweep::{sweep_concurrency, DEFAULT_SWEEP_CONCURRENCY, MAX_SWEEP_CONCURRENCY};

/// The rule's long-lived state: the function's own SDK configuration, clients built once, the
/// org snapshot cache and member-account configurations.
pub struct RuleHandler {
    accounts: AccountConfigs,
    organizations: aws_sdk_organizations::Client,
    config: aws_sdk_config::Client,
    org_cache: OrgCache,
    /// The SCPs read for guardrail coverage, kept like the org snapshot.
    scps: ramguard_aws::scps::ScpReader,
    /// The sharing baseline and the organization's structure.
    baseline: ramguard_aws::baseline::BaselineReader,
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

impl RuleHandler {
    /// The handler with the sharing baseline of `store`.
    pub fn with_baseline(mut self, store: ramguard_aws::baseline::BaselineStore) -> RuleHandler {
        self.baseline.store = store;
        self
    }

    pub fn new(
        base: SdkConfig,
        rule_name: Option<String>,
        env_parameters: Parameters,
    ) -> RuleHandler {
        RuleHandler {
            organizations: ramguard_aws::calls::organizations(&base),
            config: ramguard_aws::calls::config(&base),
            deferral: Deferral::new(&base),
            baseline: ramguard_aws::baseline::BaselineReader::new(
                ramguard_aws::baseline::BaselineStore::new(None, Duration::ZERO),
                &base,
            ),
            accounts: AccountConfigs::new(base, "ramguard-config-rule"),
            org_cache: OrgCache::new(),
            scps: ramguard_aws::scps::ScpReader::new(),
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
        if size > ramguard_core::events::MAX_EVENT_BYTES {
            return Err(RuleError::BadEvent(format!(
                "{size} bytes is over the {}-byte limit",
                ramguard_core::events::MAX_EVENT_BYTES
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
        let invocation = RuleInvocation::parse(event)?;
        self.handle_rule(invocation, own_account).await
    }

    /// A Config rule invocation: load the organization and the account's credentials, judge
    /// (the sweep, or the one share that changed), report to Config, log what was reported.
    async fn handle_rule(
        &self,
        invocation: RuleInvocation,
        own_account: &str,
    ) -> Result<RuleOutcome, RuleError> {
        let RuleInvocation {
            token,
            rule_name,
            account,
            params,
            left_scope,
            trigger,
        } = invocation;
        let org = self
            .org_cache
            .get(
                &self.organizations,
                Duration::from_secs(params.org_cache_ttl_seconds),
            )
            .await
            .map_err(RuleError::OrgSnapshot)?;
        // the trigger is known before anything can end the invocation early (a skipped account)
        let mut outcome = RuleOutcome {
            account: account.clone(),
            trigger: Trigger::of(&trigger),
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
        let ram = ramguard_aws::calls::ram(&target);
        let config = ramguard_aws::calls::config(&target);
        let now = DateTime::from(std::time::SystemTime::now());
        let baseline = self
            .baseline
            .state(
                &self.organizations,
                Duration::from_secs(params.org_cache_ttl_seconds),
            )
            .await;
        if let BaselineState::Ready(loaded, _) = &baseline {
            outcome.baseline_version = Some(loaded.version.clone());
        }
        match trigger {
            RuleTrigger::Scheduled {
                notification_millis,
            } => {
                let sweep = sweep::Sweep {
                    ram: &ram,
                    config: &config,
                    rule_name: &rule_name,
                    org: &org,
                    params: &params,
                    token: &token,
                    ordering: ordering_timestamp(notification_millis, now),
                    width: self.sweep_concurrency.max(1),
                    baseline: &baseline,
                };
                sweep.run(&mut outcome).await?;
                if params.guardrail_coverage {
                    let check = guardrail::GuardrailCheck {
                        organizations: &self.organizations,
                        scps: &self.scps,
                        config: &config,
                        token: &token,
                        region: &region_of(&config),
                    };
                    let (coverage, calls) = check
                        .report(&account, &org, &params, sweep.ordering)
                        .await?;
                    outcome.put_evaluations_calls += calls;
                    outcome.guardrail = Some(coverage);
                }
            }
            RuleTrigger::Change {
                item,
                captured_millis,
            } => {
                let evaluations = self
                    .one_share(
                        &ram,
                        &item,
                        left_scope,
                        (&org, &params, &baseline),
                        &mut outcome,
                    )
                    .await?;
                for e in &evaluations {
                    outcome.count(e.compliance);
                }
                let ordering = ordering_timestamp(captured_millis, now);
                outcome.put_evaluations_calls =
                    config_api::put_evaluations(&config, &token, &evaluations, ordering).await?;
            }
        }
        outcome.log_reported(&rule_name);
        if let BaselineState::Broken(why) = baseline {
            return Err(RuleError::BadBaseline(why));
        }
        Ok(outcome)
    }

    async fn one_share(
        &self,
        ram: &aws_sdk_ram::Client,
        item: &ConfigurationItem,
        left_scope: bool,
        (org, params, baseline): (&OrgSnapshot, &Parameters, &BaselineState),
        outcome: &mut RuleOutcome,
    ) -> Result<Vec<ShareEvaluation>, RuleError> {
        let resource_type = item.resource_type.as_deref().unwrap_or_default();
        if resource_type != RESOURCE_TYPE {
            return Err(RuleError::BadEvent(format!(
                "configuration item of type {:?}: this rule judges {RESOURCE_TYPE} only",
                bounded(resource_type, 64)
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
                let verdict = baseline
                    .judge(ram, &share, verdict, org, params, now_secs())
                    .await?;
                outcome::log_verdict(&verdict);
                outcome.record(&verdict);
                // a broken baseline: only a NON_COMPLIANT verdict is sure; any other leaves
                // Config's result standing
                if matches!(baseline, BaselineState::Broken(_))
                    && verdict.compliance != Compliance::NonCompliant
                {
                    return Ok(Vec::new());
                }
                Ok(vec![ShareEvaluation {
                    resource_id: share.arn.clone(),
                    compliance: verdict.compliance,
                    annotation: verdict.annotation,
                }])
            }
        }
    }
}

impl RuleHandler {
    /// The handler as Lambda runs it, from the environment: `CONFIG_RULE_NAME`, the rule
    /// parameters (the near-real-time path's), `SWEEP_CONCURRENCY`,
    /// `DEFERRED_EVALUATIONS_QUEUE_URL` and `DEFERRED_EVALUATION_SECONDS`. An invalid value stops
    /// the function at start, naming the variable.
    pub fn from_env(base: SdkConfig) -> Result<RuleHandler, Configuration> {
        let env = ramguard_aws::env_text;
        let params = Parameters::from_env().map_err(|e| Configuration(e.to_string()))?;
        let store = ramguard_aws::baseline::BaselineStore::from_env().map_err(Configuration)?;
        let mut handler =
            RuleHandler::new(base, env("CONFIG_RULE_NAME"), params).with_baseline(store);
        handler.sweep_concurrency =
            sweep_concurrency(env("SWEEP_CONCURRENCY").as_deref()).map_err(Configuration)?;
        handler.deferral.queue_url = env("DEFERRED_EVALUATIONS_QUEUE_URL");
        handler.deferral.window_seconds =
            ramguard_core::deferral::window_seconds(env("DEFERRED_EVALUATION_SECONDS").as_deref())
                .map_err(Configuration)?;
        Ok(handler)
    }
}

/// The Region a client calls.
fn region_of(client: &aws_sdk_config::Client) -> String {
    client
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default()
}

impl ramguard_lambda::Outcome for RuleOutcome {
    fn metrics(&self, millis: u64) -> ramguard_aws::metrics::Invocation {
        metrics(self, millis)
    }
}

impl ramguard_lambda::Failure for RuleError {
    fn error_type(&self) -> ErrorType {
        RuleError::error_type(self)
    }
}
