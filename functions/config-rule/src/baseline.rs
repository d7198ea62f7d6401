//! The sharing baseline of an invocation: read from its SSM parameter (kept for its TTL) with the
//! organization's structure; a baseline that cannot be used is said once and the invocation ends
//! with `BadBaseline` after the outside-the-organization verdicts are reported.

use std::time::Duration;

use ramguard_aws::baseline::{BaselineStore, StructureCache};
use tracing::{error, info};

use crate::sweep::BaselineState;

/// What reads the baseline and the structure it is judged against.
pub(crate) struct BaselineReader {
    pub(crate) store: BaselineStore,
    pub(crate) structure: StructureCache,
    pub(crate) ssm: aws_sdk_ssm::Client,
}

impl BaselineReader {
    /// The baseline in force now, one log line saying which.
    pub(crate) async fn state(
        &self,
        organizations: &aws_sdk_organizations::Client,
        ttl: Duration,
    ) -> BaselineState {
        let loaded = match self.store.get(&self.ssm).await {
            None => return BaselineState::None,
            Some(Ok(loaded)) => loaded,
            Some(Err(e)) => {
                error!(error = %e, error_type = "BadBaseline", "the sharing baseline cannot be used; only outside-the-organization verdicts are reported");
                return BaselineState::Broken(e.to_string());
            }
        };
        let with_tags = loaded.baseline.uses_tags();
        match self.structure.get(organizations, with_tags, ttl).await {
            Ok(structure) => {
                info!(baseline_version = %loaded.version, "sharing baseline in force");
                BaselineState::Ready(loaded, structure)
            }
            Err(e) => {
                let why = format!("cannot read the organization's structure for the baseline: {e}");
                error!(error = %why, error_type = "BadBaseline", "the sharing baseline cannot be used; only outside-the-organization verdicts are reported");
                BaselineState::Broken(why)
            }
        }
    }
}
