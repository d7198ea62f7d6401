//! The ramguard remediator: on a NON_COMPLIANT share (Config compliance change) or findings an
//! analyst sent to the Security Hub custom action, it re-reads the live share and disassociates
//! only the principals proved to be outside the organization. Dry-run unless told to enforce;
//! nothing over the blast-radius cap; nothing when in doubt.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_smithy_types::DateTime;
use ramguard_aws::credentials::{AccountAccess, AccountConfigs};
use ramguard_aws::failure::{self, ErrorType};
use ramguard_aws::organizations::OrgCache;
use ramguard_aws::{ram as ram_api, AwsError};
use ramguard_core::events::{self, EventError, Incoming};
use ramguard_core::remediate::{self, RemediationPlan};
use ramguard_core::OrgSnapshot;
use serde_json::Value;
use tracing::{error, info, warn};

mod act;
mod report;
mod settings;

pub use report::{metrics, Action, RemediationReport, ShareOutcome, ShareReport};
pub use settings::{
    Mode, SettingError, Settings, DEFAULT_MAX_PRINCIPALS_PER_RUN, DEFAULT_VERIFY_WAIT_SECONDS,
    MAX_VERIFY_WAIT_SECONDS,
};

/// Whether retrying a failed RAM call cannot help: reported, never retried.
pub(crate) fn is_permanent(e: &AwsError) -> bool {
    remediate::PERMANENT_RAM_ERRORS
        .iter()
        .any(|code| e.is(code))
}

/// A RAM call that failed on an error retrying can fix: the invocation fails so that EventBridge
/// retries it (a repeated event finds done what was done).
#[derive(Debug)]
pub struct RetryableFailure {
    pub share_arn: String,
    pub error: AwsError,
}

/// Why an invocation failed (EventBridge retries it; the dead-letter queue keeps it).
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error(transparent)]
    BadEvent(#[from] EventError),
    #[error("cannot read the organization, so nothing was removed: {0}")]
    OrgSnapshot(AwsError),
    #[error(transparent)]
    Access(#[from] AccountAccess),
    #[error("{0}; nothing was removed from that share")]
    Read(AwsError),
    #[error("remediation of {} share(s) failed on a retryable error: {}", .0.len(), .0.iter().map(|f| format!("{}: {}", f.share_arn, f.error)).collect::<Vec<_>>().join("; "))]
    Retryable(Vec<RetryableFailure>),
}

impl RemediationError {
    /// The failure class Lambda reports as `errorType`.
    pub fn error_type(&self) -> ErrorType {
        match self {
            RemediationError::BadEvent(_) => ErrorType::BadEvent,
            RemediationError::OrgSnapshot(_) => ErrorType::OrganizationUnreadable,
            RemediationError::Access(a) => failure::of_access(a),
            RemediationError::Read(e) => failure::of_aws(e),
            // throttled when every failure was; classified as every AWS error is
            RemediationError::Retryable(failures) => {
                if failures
                    .iter()
                    .all(|f| failure::of_aws(&f.error) == ErrorType::Throttled)
                {
                    ErrorType::Throttled
                } else {
                    ErrorType::AwsError
                }
            }
        }
    }
}

/// A share to remediate, from either trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) share_arn: String,
    pub(crate) account: String,
    pub(crate) region: String,
}

/// The remediator's long-lived state: clients and caches built once per Lambda instance.
pub struct Remediator {
    accounts: AccountConfigs,
    organizations: aws_sdk_organizations::Client,
    org_cache: OrgCache,
    baseline: ramguard_aws::baseline::BaselineReader,
    pub settings: Settings,
}

pub(crate) fn now() -> DateTime {
    DateTime::from(std::time::SystemTime::now())
}

pub(crate) struct Planned {
    pub(crate) target: Target,
    /// Err (why) when ramguard cannot act in the share's account (its member role is unavailable).
    pub(crate) config: Result<SdkConfig, String>,
    /// The live share and its plan; None when RAM no longer knows the share.
    pub(crate) found: Option<(ramguard_core::ResourceShare, RemediationPlan)>,
}

impl Remediator {
    pub fn new(base: SdkConfig, settings: Settings) -> Remediator {
        Remediator {
            organizations: ramguard_aws::calls::organizations(&base),
            baseline: ramguard_aws::baseline::BaselineReader::new(
                ramguard_aws::baseline::BaselineStore::new(None, Duration::ZERO),
                &base,
            ),
            accounts: AccountConfigs::new(base, "ramguard-remediator"),
            org_cache: OrgCache::new(),
            settings,
        }
    }

    /// The remediator with the sharing baseline of `store`.
    pub fn with_baseline(mut self, store: ramguard_aws::baseline::BaselineStore) -> Remediator {
        self.baseline.store = store;
        self
    }

    /// One invocation: the shares the event names (parse), the organization (load), a plan per
    /// share and the blast-radius cap (judge), and each share acted on (act); the report.
    pub async fn handle(
        &self,
        event: Value,
        own_account: &str,
    ) -> Result<RemediationReport, RemediationError> {
        let mut report = RemediationReport {
            trigger: String::new(),
            mode: self.settings.mode,
            ignored: None,
            max_principals_per_run: self.settings.max_principals_per_run,
            planned_removals: 0,
            shares: Vec::new(),
        };
        let (trigger, requested) = self.targets(events::parse(&event)?);
        report.trigger = trigger.into();
        let (event_id, targets) = match requested {
            Ok(requested) => requested,
            Err(why) => {
                info!(reason = %why, "event ignored; nothing removed");
                report.ignored = Some(why);
                return Ok(report);
            }
        };
        let org = Box::pin(self.org_cache.get(
            &self.organizations,
            Duration::from_secs(self.settings.params.org_cache_ttl_seconds),
        ))
        .await
        .map_err(|e| {
            error!(error = %e, "cannot read the organization; nothing removed (fail closed)");
            RemediationError::OrgSnapshot(e)
        })?;
        let baseline = self
            .baseline
            .state(
                &self.organizations,
                Duration::from_secs(self.settings.params.org_cache_ttl_seconds),
            )
            .await;
        let mut planned = Vec::new();
        for target in targets {
            planned.push(Box::pin(self.plan_one(target, own_account, &org, &baseline)).await?);
        }
        report.planned_removals = planned
            .iter()
            .filter_map(|p| p.found.as_ref())
            .map(|(_, plan)| plan.removals.len())
            .sum();
        let over_cap = report.planned_removals > self.settings.max_principals_per_run;
        if over_cap {
            warn!(
                planned = report.planned_removals,
                cap = self.settings.max_principals_per_run,
                "plan over the blast-radius cap MAX_PRINCIPALS_PER_RUN; nothing removed"
            );
        }
        let mut retryable = Vec::new();
        for p in planned {
            let share_report = Box::pin(self.execute(p, &event_id, over_cap, &mut retryable)).await;
            report.shares.push(share_report);
        }
        if !retryable.is_empty() {
            return Err(RemediationError::Retryable(retryable));
        }
        Ok(report)
    }

    /// The trigger, and the shares an event asks to remediate (with its id, for idempotency
    /// tokens), or why it asks for none.
    fn targets(&self, incoming: Incoming) -> (&'static str, Result<(String, Vec<Target>), String>) {
        match incoming {
            Incoming::ComplianceChange(c) => {
                let why = if !events::is_our_rule(&c.rule_name, self.settings.rule_name.as_deref())
                {
                    Some(format!("rule {} is not ramguard's", c.rule_name))
                } else if !c.is_share() {
                    Some(format!(
                        "resource type {} is not a RAM share",
                        c.resource_type
                    ))
                } else if c.compliance != events::ReportedCompliance::NonCompliant {
                    Some(format!("the share is {}, not NON_COMPLIANT", c.compliance))
                } else {
                    None
                };
                let requested = match why {
                    Some(why) => Err(why),
                    None => Ok((
                        c.event_id,
                        vec![Target {
                            share_arn: c.share_arn,
                            account: c.account,
                            region: c.region,
                        }],
                    )),
                };
                ("compliance-change", requested)
            }
            Incoming::CustomAction(a) => {
                for id in &a.foreign {
                    info!(finding_id = %id, "finding is not ramguard's; left alone");
                }
                let mut targets: Vec<Target> = Vec::new();
                for f in a.findings {
                    if !targets.iter().any(|t| t.share_arn == f.share_arn) {
                        targets.push(Target {
                            share_arn: f.share_arn,
                            account: f.account,
                            region: f.region,
                        });
                    }
                }
                let requested = if targets.is_empty() {
                    Err("no ramguard finding was selected".to_string())
                } else {
                    Ok((a.event_id, targets))
                };
                ("security-hub-custom-action", requested)
            }
            Incoming::Other {
                detail_type,
                source,
            } => (
                "other",
                Err(format!(
                    "{detail_type:?} from {source:?} is not a remediation trigger"
                )),
            ),
        }
    }

    async fn plan_one(
        &self,
        target: Target,
        own_account: &str,
        org: &OrgSnapshot,
        baseline: &ramguard_aws::baseline::BaselineState,
    ) -> Result<Planned, RemediationError> {
        let config = match self
            .accounts
            .for_account(
                &target.account,
                own_account,
                org,
                self.settings.params.execution_role_name.as_deref(),
                Some(&target.region),
            )
            .await
        {
            Ok(config) => config,
            Err(AccountAccess::MemberRoleUnavailable {
                account, role_arn, ..
            }) => {
                warn!(account = %account, role = %role_arn, share_arn = %target.share_arn,
                    "member role unavailable; nothing read or removed in this account (fail closed)");
                return Ok(Planned {
                    target,
                    config: Err(format!(
                        "member role {role_arn} unavailable; nothing was read or removed"
                    )),
                    found: None,
                });
            }
            Err(other) => return Err(other.into()),
        };
        let ram = ramguard_aws::calls::ram(&config);
        let share = Box::pin(ram_api::share(&ram, &target.share_arn))
            .await
            .map_err(RemediationError::Read)?;
        let found = match share {
            None => None,
            Some(s) => {
                let mut plan = remediate::plan(
                    &s,
                    org,
                    &self.settings.params,
                    self.settings.restrict_share,
                    now().secs(),
                );
                plan.baseline_removals = self
                    .baseline_removals(&ram, &s, &plan, org, baseline)
                    .await?;
                if self.settings.enforce_baseline {
                    plan.enforce_baseline();
                }
                Some((s, plan))
            }
        };
        Ok(Planned {
            target,
            config: Ok(config),
            found,
        })
    }
}

impl Remediator {
    /// The principals the sharing baseline's boundary verdict names on the live share (none
    /// without a usable baseline: never a removal on a guess).
    async fn baseline_removals(
        &self,
        ram: &aws_sdk_ram::Client,
        share: &ramguard_core::ResourceShare,
        plan: &RemediationPlan,
        org: &OrgSnapshot,
        baseline: &ramguard_aws::baseline::BaselineState,
    ) -> Result<Vec<remediate::BaselineRemoval>, RemediationError> {
        let found = baseline
            .violations(ram, share, org, &self.settings.params, now().secs())
            .await
            .map_err(RemediationError::Read)?;
        Ok(remediate::baseline_removals(plan, share, &found))
    }

    /// The remediator as Lambda runs it, from the environment (see [`Settings::from_lookup`]).
    /// An invalid value stops the function at start, naming the variable.
    pub fn from_env(base: SdkConfig) -> Result<Remediator, ramguard_lambda::Configuration> {
        let settings =
            Settings::from_env().map_err(|e| ramguard_lambda::Configuration(e.to_string()))?;
        info!(
            mode = settings.mode.as_str(),
            max_principals_per_run = settings.max_principals_per_run,
            restrict_share = settings.restrict_share,
            enforce_baseline = settings.enforce_baseline,
            "remediator configured"
        );
        let store = ramguard_aws::baseline::BaselineStore::from_env()
            .map_err(ramguard_lambda::Configuration)?;
        Ok(Remediator::new(base, settings).with_baseline(store))
    }
}

impl ramguard_lambda::Failure for RemediationError {
    fn error_type(&self) -> ErrorType {
        RemediationError::error_type(self)
    }
}
