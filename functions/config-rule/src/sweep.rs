//! The scheduled sweep: every share the account owns in one Region, judged by the core's
//! `Judge` and reported to AWS Config, pipelined.

use aws_smithy_types::DateTime;
use futures_util::StreamExt;
use ramguard_aws::baseline::BaselineState;
use ramguard_aws::config::{self as config_api, ShareEvaluation};
use ramguard_aws::{ram as ram_api, AwsError};
use ramguard_core::baseline::BaselineContext;
use ramguard_core::bounded;
use ramguard_core::judge::{Judge, SweepBaseline};
use ramguard_core::{Compliance, OrgSnapshot, Parameters, ResourceShare};
use tracing::{info, warn};

use crate::outcome::RuleOutcome;
use crate::{now_secs, RuleError};

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
                    bounded(v, 32)
                )
            }),
    }
}

/// What flows from the share reader to the judge: a page of shares with their principal
/// associations, or the end of the listing. Only an explicit end lets the judge conclude that a
/// share Config holds a result for is gone; a reader that stops early never ends the listing.
enum SharePage {
    Shares(Vec<ResourceShare>),
    End,
}

/// One scheduled sweep of an account's shares in one Region, pipelined: share pages are listed
/// while earlier pages' associations are read (up to `width` pages at once), each page is
/// judged as it arrives, and evaluations go to Config in batches of 100 as they fill (up to
/// `width` calls at once). The results Config already holds are read alongside; a share whose
/// result is unchanged is not sent again, and a share Config holds a result for that the
/// complete listing no longer has becomes NOT_APPLICABLE. With `width` 1 every call waits for
/// the one before it.
pub(crate) struct Sweep<'a> {
    pub(crate) ram: &'a aws_sdk_ram::Client,
    pub(crate) config: &'a aws_sdk_config::Client,
    pub(crate) rule_name: &'a str,
    pub(crate) org: &'a OrgSnapshot,
    pub(crate) params: &'a Parameters,
    pub(crate) token: &'a str,
    pub(crate) ordering: DateTime,
    pub(crate) width: usize,
    /// The sharing baseline, as read now.
    pub(crate) baseline: &'a BaselineState,
}

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

impl<'a> Sweep<'a> {
    /// The judge of this sweep: against the baseline when it is ready (the account's resource
    /// types read when it has rules for them), sending NON_COMPLIANT only when it is broken.
    async fn judge(
        &self,
        earlier: ramguard_core::earlier::EarlierResults,
        sources: ramguard_core::judge::SourcesByShare,
    ) -> Result<Judge<'a>, RuleError> {
        let judge = Judge::new(self.org, self.params, earlier, sources, now_secs());
        Ok(match self.baseline {
            BaselineState::None => judge,
            BaselineState::Broken(_) => judge.only_non_compliant(),
            BaselineState::Ready(loaded, structure) => {
                let types = if loaded.baseline.uses_resource_types() {
                    ram_api::resource_types(self.ram, &[]).await?
                } else {
                    Default::default()
                };
                judge.with_baseline(SweepBaseline {
                    ctx: BaselineContext {
                        baseline: &loaded.baseline,
                        org: self.org,
                        structure,
                        params: self.params,
                    },
                    version: &loaded.version,
                    types,
                })
            }
        })
    }

    pub(crate) async fn run(&self, outcome: &mut RuleOutcome) -> Result<(), RuleError> {
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
        let mut judge = self.judge(earlier, sources).await?;
        let mut calls = 0;
        let mut pages = std::pin::pin!(ram_api::owned_share_pages(self.ram));
        while let Some(page) = pages.next().await {
            for share in with_principals(self.ram, page).await? {
                if let Some(batch) = judge_share(&mut judge, share, outcome) {
                    calls += put_batch(self.config, self.token, batch, self.ordering).await?;
                }
            }
        }
        for batch in finish(judge, outcome) {
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
            let (earlier, sources) = known;
            let mut judge = self.judge(earlier, sources).await?;
            while let Some(page) = page_rx.recv().await {
                let SharePage::Shares(shares) = page else {
                    for batch in finish(judge, outcome) {
                        if batch_tx.send(batch).await.is_err() {
                            break;
                        }
                    }
                    return Ok(());
                };
                for share in shares {
                    if let Some(batch) = judge_share(&mut judge, share, outcome) {
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

/// Judges one share into the invocation's outcome; a full batch when one is ready.
fn judge_share(
    judge: &mut Judge<'_>,
    share: ResourceShare,
    outcome: &mut RuleOutcome,
) -> Option<Vec<ShareEvaluation>> {
    let judged = judge.share(share);
    outcome.judged(&judged.verdict, judged.unchanged);
    judged.batch
}

/// After the complete listing: the shares gone counted and logged, the last batches.
fn finish(judge: Judge<'_>, outcome: &mut RuleOutcome) -> Vec<Vec<ShareEvaluation>> {
    let end = judge.finish();
    for arn in &end.gone {
        info!(share_arn = %arn, verdict = "NOT_APPLICABLE", reason = "share no longer exists", "verdict");
        outcome.count(Compliance::NotApplicable);
    }
    end.batches
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
