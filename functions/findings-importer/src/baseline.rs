//! A share's baseline findings: the same baseline and judgement as the rule's, one finding per
//! violation; while the baseline cannot be used, its earlier findings are left as they are.

use ramguard_aws::baseline::BaselineState;
use ramguard_core::baseline::baseline_findings;
use ramguard_core::finding::{Finding, FindingContext};
use ramguard_core::{OrgSnapshot, Parameters, ResourceShare, ShareVerdict};

use crate::ImportError;

/// The verdict with the baseline's violations, and their findings.
pub(crate) async fn judged(
    state: &BaselineState,
    ram: &aws_sdk_ram::Client,
    share: &ResourceShare,
    verdict: ShareVerdict,
    (org, params): (&OrgSnapshot, &Parameters),
    ctx: &FindingContext,
    now: i64,
) -> Result<(ShareVerdict, Vec<Finding>), ImportError> {
    let BaselineState::Ready(loaded, _) = state else {
        return Ok((verdict, Vec::new()));
    };
    let verdict = state.judge(ram, share, verdict, org, params, now).await?;
    let findings = baseline_findings(
        share,
        &verdict.baseline,
        &loaded.version,
        &loaded.baseline.severities,
        ctx,
    );
    Ok((verdict, findings))
}

/// Whether a finding is one of the baseline's (left standing while the baseline is broken).
pub(crate) fn is_baseline_finding(id: &str) -> bool {
    id.contains("/baseline/") || id.contains("/baseline-sha256/")
}
