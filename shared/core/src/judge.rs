//! One sweep's judgement, without I/O: each share judged as it is listed, the evaluations to
//! report gathered in batches of [`MAX_EVALUATIONS_PER_CALL`], results Config already holds left
//! standing (see [`EarlierResults::observe`]), and after the complete listing every share Config
//! holds a result for that no page had becomes NOT_APPLICABLE.

use std::collections::{BTreeSet, HashMap};

use crate::baseline::{self, BaselineContext};

use crate::earlier::{EarlierResults, Report};
use crate::org::OrgSnapshot;
use crate::params::Parameters;
use crate::share::{ResourceShare, SourceAssociation};
use crate::verdict::{evaluate, Compliance, ShareVerdict};

/// PutEvaluations takes at most this many evaluations per call.
pub const MAX_EVALUATIONS_PER_CALL: usize = 100;

/// The annotation of a share Config holds a result for that the listing no longer has.
pub const GONE: &str = "The resource share no longer exists.";

/// One evaluation to report to AWS Config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareEvaluation {
    /// The share's ARN (Config's ComplianceResourceId).
    pub resource_id: String,
    /// COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE.
    pub compliance: Compliance,
    /// Why, at most 256 characters; empty for none.
    pub annotation: String,
}

/// Source constraints of the account's shares, by share ARN.
pub type SourcesByShare = HashMap<String, Vec<SourceAssociation>>;

/// What judging one share gave: its verdict, whether its evaluation is sent or left standing,
/// and a full batch when one is ready.
#[derive(Debug)]
pub struct Judged {
    /// The share's verdict.
    pub verdict: ShareVerdict,
    /// Config already holds this result, so it is not sent again.
    pub unchanged: bool,
    /// A full batch, ready to send.
    pub batch: Option<Vec<ShareEvaluation>>,
}

/// What the end of the listing gave: the shares gone, and the last batches (one at least, so that
/// Config has the invocation's report even when every result stands: PutEvaluations takes an
/// empty list of evaluations).
#[derive(Debug)]
pub struct Finished {
    /// The shares Config holds a result for that the listing no longer has.
    pub gone: Vec<String>,
    /// The evaluations left to send.
    pub batches: Vec<Vec<ShareEvaluation>>,
}

/// The sharing baseline a sweep judges against: what it needs, its version, and the account's
/// resource types by share ARN.
pub struct SweepBaseline<'a> {
    /// The baseline and the organization's structure.
    pub ctx: BaselineContext<'a>,
    /// Its version, as annotations carry it.
    pub version: &'a str,
    /// RAM's resource types of each share.
    pub types: HashMap<String, BTreeSet<String>>,
}

/// Judges one sweep's shares one by one.
pub struct Judge<'a> {
    org: &'a OrgSnapshot,
    params: &'a Parameters,
    earlier: EarlierResults,
    sources: SourcesByShare,
    now: i64,
    pending: Vec<ShareEvaluation>,
    batches: usize,
    baseline: Option<SweepBaseline<'a>>,
    only_non_compliant: bool,
}

impl<'a> Judge<'a> {
    /// `earlier`: the results Config holds (sealed); `sources`: the account's source
    /// constraints; `now`: seconds since the epoch, for exemptions.
    pub fn new(
        org: &'a OrgSnapshot,
        params: &'a Parameters,
        earlier: EarlierResults,
        sources: SourcesByShare,
        now: i64,
    ) -> Judge<'a> {
        Judge {
            org,
            params,
            earlier,
            sources,
            now,
            pending: Vec::with_capacity(MAX_EVALUATIONS_PER_CALL),
            batches: 0,
            baseline: None,
            only_non_compliant: false,
        }
    }

    /// Judges against the sharing baseline too.
    pub fn with_baseline(mut self, baseline: SweepBaseline<'a>) -> Judge<'a> {
        self.baseline = Some(baseline);
        self
    }

    /// Sends NON_COMPLIANT verdicts only, leaving every other result Config holds standing: the
    /// configured baseline cannot be read, so a COMPLIANT verdict might hide one of its
    /// violations. A share gone still becomes NOT_APPLICABLE.
    pub fn only_non_compliant(mut self) -> Judge<'a> {
        self.only_non_compliant = true;
        self
    }

    fn push(&mut self, evaluation: ShareEvaluation) -> Option<Vec<ShareEvaluation>> {
        self.pending.push(evaluation);
        (self.pending.len() == MAX_EVALUATIONS_PER_CALL).then(|| {
            self.batches += 1;
            std::mem::take(&mut self.pending)
        })
    }

    /// Judges one share (its source constraints attached from the account's).
    pub fn share(&mut self, mut share: ResourceShare) -> Judged {
        share.sources = self.sources.remove(&share.arn).unwrap_or_default();
        let mut verdict = evaluate(&share, self.org, self.params, self.now);
        if let Some(b) = &self.baseline {
            let none = BTreeSet::new();
            let types = b.types.get(&share.arn).unwrap_or(&none);
            let found = baseline::violations(&share, types, &b.ctx, self.now);
            verdict = baseline::apply(verdict, b.version, found);
        }
        let mut report =
            self.earlier
                .observe(&verdict.share_arn, verdict.compliance, &verdict.annotation);
        if self.only_non_compliant && verdict.compliance != Compliance::NonCompliant {
            report = Report::Unchanged;
        }
        let batch = match report {
            Report::Unchanged => None,
            Report::Send => self.push(ShareEvaluation {
                resource_id: verdict.share_arn.clone(),
                compliance: verdict.compliance,
                annotation: verdict.annotation.clone(),
            }),
        };
        Judged {
            verdict,
            unchanged: report == Report::Unchanged,
            batch,
        }
    }

    /// After the complete listing (never after a listing that stopped early): NOT_APPLICABLE for
    /// the shares gone, and the last batches.
    pub fn finish(mut self) -> Finished {
        let gone: Vec<String> = self.earlier.unobserved().collect();
        let mut batches = Vec::new();
        for arn in &gone {
            batches.extend(self.push(ShareEvaluation {
                resource_id: arn.clone(),
                compliance: Compliance::NotApplicable,
                annotation: GONE.into(),
            }));
        }
        if !self.pending.is_empty() || self.batches == 0 {
            batches.push(std::mem::take(&mut self.pending));
        }
        Finished { gone, batches }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::MemberAccount;
    use crate::share::{AssociationStatus, PrincipalAssociation, ShareStatus};

    const MGMT: &str = "111111111111";

    fn org() -> OrgSnapshot {
        let accounts = [MGMT, "222222222222"]
            .iter()
            .map(|a| {
                let member = MemberAccount {
                    id: a.to_string(),
                    state: "ACTIVE".into(),
                };
                (a.to_string(), member)
            })
            .collect();
        OrgSnapshot {
            org_id: "o-a1b2c3d4e5".into(),
            org_arn: format!("arn:aws:organizations::{MGMT}:organization/o-a1b2c3d4e5"),
            management_account: MGMT.into(),
            accounts,
        }
    }

    fn share(n: usize, principal: &str) -> ResourceShare {
        ResourceShare {
            arn: format!(
                "arn:aws:ram:us-east-1:{MGMT}:resource-share/00000000-0000-4000-8000-{n:012}"
            ),
            name: format!("s{n}"),
            owner: MGMT.into(),
            status: ShareStatus::Active,
            allow_external_principals: true,
            tags: Default::default(),
            principals: vec![PrincipalAssociation {
                entity: principal.into(),
                status: AssociationStatus::Associated,
                external: None,
            }],
            sources: Vec::new(),
            feature_set: "STANDARD".into(),
            retains_access_on_leave: false,
        }
    }

    fn sealed(results: &[(&ResourceShare, Compliance, &str)]) -> EarlierResults {
        let mut e = EarlierResults::new();
        for (s, c, a) in results {
            e.insert(&s.arn, *c, a);
        }
        e.seal();
        e
    }

    #[test]
    fn evaluations_come_in_batches_of_100_and_the_rest_at_the_end() {
        let (org, params) = (org(), Parameters::default());
        let mut judge = Judge::new(&org, &params, sealed(&[]), SourcesByShare::new(), 0);
        let full: Vec<_> = (0..250)
            .filter_map(|n| judge.share(share(n, "222222222222")).batch)
            .collect();
        assert_eq!(
            full.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100]
        );
        let end = judge.finish();
        assert!(end.gone.is_empty());
        assert_eq!(
            end.batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![50]
        );
    }

    #[test]
    fn results_that_stand_are_not_sent_and_an_empty_batch_still_reports_the_run() {
        let (org, params) = (org(), Parameters::default());
        let inside = share(1, "222222222222");
        let verdict = evaluate(&inside, &org, &params, 0);
        let earlier = sealed(&[(&inside, verdict.compliance, &verdict.annotation)]);
        let mut judge = Judge::new(&org, &params, earlier, SourcesByShare::new(), 0);
        let judged = judge.share(inside);
        assert!(judged.unchanged && judged.batch.is_none());
        let end = judge.finish();
        assert_eq!(end.batches, vec![Vec::<ShareEvaluation>::new()]);
    }

    #[test]
    fn a_share_config_holds_that_the_listing_lacks_becomes_not_applicable() {
        let (org, params) = (org(), Parameters::default());
        let (kept, gone) = (share(1, "222222222222"), share(2, "222222222222"));
        let standing = evaluate(&kept, &org, &params, 0);
        let earlier = sealed(&[
            (&kept, standing.compliance, &standing.annotation),
            (&gone, Compliance::NonCompliant, "Outside: 999999999999"),
        ]);
        let mut judge = Judge::new(&org, &params, earlier, SourcesByShare::new(), 0);
        judge.share(kept);
        let end = judge.finish();
        assert_eq!(end.gone, vec![gone.arn.clone()]);
        assert_eq!(
            end.batches,
            vec![vec![ShareEvaluation {
                resource_id: gone.arn,
                compliance: Compliance::NotApplicable,
                annotation: GONE.into(),
            }]]
        );
    }

    #[test]
    fn a_share_with_an_outsider_is_sent_even_when_config_holds_the_same_result() {
        let (org, params) = (org(), Parameters::default());
        let outside = share(1, "999999999999");
        let verdict = evaluate(&outside, &org, &params, 0);
        assert_eq!(verdict.compliance, Compliance::NonCompliant);
        let earlier = sealed(&[(&outside, verdict.compliance, &verdict.annotation)]);
        let mut judge = Judge::new(&org, &params, earlier, SourcesByShare::new(), 0);
        assert!(!judge.share(outside).unchanged);
        assert_eq!(judge.finish().batches[0].len(), 1);
    }
}
