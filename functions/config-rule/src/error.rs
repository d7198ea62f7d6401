//! Why an invocation failed, in ramguard's failure classes.

use ramguard_aws::credentials::AccountAccess;
use ramguard_aws::failure::{self, ErrorType};
use ramguard_aws::AwsError;
use ramguard_core::bounded;
use ramguard_core::rule_event::RuleEventError;
use ramguard_core::ParameterError;

/// Why an invocation failed. Nothing is reported to Config when it does.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    // inputs are echoed in these messages (serde's included): bounded
    #[error("bad event: {}", bounded(.0, 400))]
    BadEvent(String),
    #[error("bad rule parameters: {}", bounded(&.0.to_string(), 400))]
    Parameters(#[from] ParameterError),
    #[error("cannot read the organization, so no share is judged: {0}")]
    OrgSnapshot(AwsError),
    #[error("cannot read the SCPs in force on account {account}, so its guardrail coverage is not judged (its shares were): {source}")]
    Guardrail { account: String, source: AwsError },
    #[error("the sharing baseline cannot be used, so only the outside-the-organization verdicts were reported (NON_COMPLIANT ones; other results stand): {}", bounded(.0, 600))]
    BadBaseline(String),
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
            RuleError::Guardrail { .. } => ErrorType::GuardrailUnreadable,
            RuleError::BadBaseline(_) => ErrorType::BadBaseline,
            RuleError::Access(a) => failure::of_access(a),
            RuleError::Aws(e) => failure::of_aws(e),
        }
    }
}

pub(crate) fn check_account_id(account: &str, field: &str) -> Result<(), RuleError> {
    ramguard_core::rule_event::check_account_id(account, field).map_err(RuleError::from)
}

impl From<RuleEventError> for RuleError {
    fn from(e: RuleEventError) -> RuleError {
        match e {
            RuleEventError::BadEvent(text) => RuleError::BadEvent(text),
            RuleEventError::Parameters(p) => RuleError::Parameters(p),
        }
    }
}
