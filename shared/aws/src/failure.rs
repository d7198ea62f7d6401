//! Failure classes: what a failed invocation reports as Lambda's `errorType`, one structured log
//! line per failure, and an `Errors` metric by class. Alarms, dead-letter triage and Lambda's own
//! error metrics can then tell a bad event from an unreadable organization or throttling.

use crate::AwsError;
use ramguard_core::bounded;

/// The class of a failed invocation (Lambda's `errorType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// The event is malformed, oversized or of an unknown shape: fix the sender; retrying cannot help.
    BadEvent,
    /// Rule parameters or environment variables are invalid: fix the deployment.
    BadParameters,
    /// The organization cannot be read (no organization, no permission, throttling persisted).
    OrganizationUnreadable,
    /// The event names an account outside the organization: nothing was done for it.
    NotAMember,
    /// The event names another account and no member role (ExecutionRoleName) is configured.
    NoExecutionRole,
    /// AWS refused a call (IAM, SCP, a role's trust policy).
    AccessDenied,
    /// AWS kept throttling after the retries: the event is retried later.
    Throttled,
    /// Security Hub did not take some findings.
    FindingsNotImported,
    /// The SCPs in force on an account cannot be read, so its guardrail coverage is not judged
    /// (the share evaluations were reported).
    GuardrailUnreadable,
    /// The configured sharing baseline cannot be read or is invalid: the outside-the-organization
    /// verdicts were reported, the baseline's were not.
    BadBaseline,
    /// Any other AWS error (service, operation, code and message in the error message).
    AwsError,
}

impl ErrorType {
    pub const ALL: [ErrorType; 11] = [
        ErrorType::BadEvent,
        ErrorType::BadParameters,
        ErrorType::OrganizationUnreadable,
        ErrorType::NotAMember,
        ErrorType::NoExecutionRole,
        ErrorType::AccessDenied,
        ErrorType::Throttled,
        ErrorType::FindingsNotImported,
        ErrorType::GuardrailUnreadable,
        ErrorType::BadBaseline,
        ErrorType::AwsError,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::BadEvent => "BadEvent",
            ErrorType::BadParameters => "BadParameters",
            ErrorType::OrganizationUnreadable => "OrganizationUnreadable",
            ErrorType::NotAMember => "NotAMember",
            ErrorType::NoExecutionRole => "NoExecutionRole",
            ErrorType::AccessDenied => "AccessDenied",
            ErrorType::Throttled => "Throttled",
            ErrorType::FindingsNotImported => "FindingsNotImported",
            ErrorType::GuardrailUnreadable => "GuardrailUnreadable",
            ErrorType::BadBaseline => "BadBaseline",
            ErrorType::AwsError => "AwsError",
        }
    }
}

/// Error codes AWS services use for throttling.
const THROTTLING: [&str; 6] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "ProvisionedThroughputExceededException",
];
/// Error codes AWS services use for a refused authorization.
const ACCESS_DENIED: [&str; 4] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];

/// The class of a failed AWS call.
pub fn of_aws(e: &AwsError) -> ErrorType {
    match e.code.as_deref() {
        Some(c) if THROTTLING.contains(&c) => ErrorType::Throttled,
        Some(c) if ACCESS_DENIED.contains(&c) => ErrorType::AccessDenied,
        _ => ErrorType::AwsError,
    }
}

/// The class of an account ramguard cannot act in.
pub fn of_access(a: &crate::credentials::AccountAccess) -> ErrorType {
    use crate::credentials::AccountAccess;
    match a {
        AccountAccess::NoExecutionRole(_) => ErrorType::NoExecutionRole,
        AccountAccess::NotAMember { .. } => ErrorType::NotAMember,
        AccountAccess::MemberRoleUnavailable { .. } => ErrorType::AccessDenied,
        AccountAccess::AssumeRoleFailed { message, .. } => {
            if THROTTLING.iter().any(|c| message.contains(c)) {
                ErrorType::Throttled
            } else {
                ErrorType::AwsError
            }
        }
    }
}

/// The longest error message an invocation reports (inputs are echoed within it).
pub const MAX_MESSAGE: usize = 512;

/// Reports a failed invocation: one ERROR log line (`error_type`, `error`), an `Errors` metric
/// with the class, and the (errorType, errorMessage) pair for Lambda's Diagnostic.
pub fn report(function: &str, error_type: ErrorType, message: &str) -> (String, String) {
    let message = bounded(message, MAX_MESSAGE);
    tracing::error!(
        function = function,
        error_type = error_type.as_str(),
        error = %message,
        "invocation failed"
    );
    crate::metrics::count_by(function, "Errors", 1, ("ErrorType", error_type.as_str()));
    (error_type.as_str().to_string(), message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_errors_are_classed_by_code() {
        let e = |code: &str| AwsError {
            operation: "ListAccounts",
            code: Some(code.into()),
            message: "m".into(),
        };
        assert_eq!(of_aws(&e("TooManyRequestsException")), ErrorType::Throttled);
        assert_eq!(of_aws(&e("AccessDeniedException")), ErrorType::AccessDenied);
        assert_eq!(of_aws(&e("InternalFailure")), ErrorType::AwsError);
    }

    #[test]
    fn messages_are_bounded() {
        let huge = "x".repeat(1_000_000);
        let (t, m) = report("config-rule", ErrorType::BadEvent, &huge);
        assert_eq!(t, "BadEvent");
        assert_eq!(m.chars().count(), MAX_MESSAGE);
        assert!(m.ends_with('…'));
    }
}
