//! The one entry point of every ramguard function. `main` builds its handler once (clients,
//! caches, settings) and hands it to [`run`], which for each invocation reads the payload,
//! times the handler, counts its AWS calls, writes the invocation's one metrics record, and maps
//! a failure to Lambda's `errorType` through [`Failure`].

use std::future::Future;
use std::time::Instant;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use ramguard_aws::failure::{self, ErrorType};
use ramguard_aws::metrics::Invocation;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// What a handler returns: its Lambda result, and what its one metrics record holds.
pub trait Outcome: Serialize {
    /// The invocation's metrics record, `millis` after it started.
    fn metrics(&self, millis: u64) -> Invocation;
}

/// A handler's failure, in one of ramguard's failure classes.
pub trait Failure: std::fmt::Display {
    fn error_type(&self) -> ErrorType;
}

pub use lambda_runtime::Error;

/// A configuration error at start: the function stops with it. Its Debug form, which the Rust
/// runtime prints for an error `main` returns, is its plain text.
pub struct Configuration(pub String);

impl std::fmt::Debug for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for Configuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "configuration: {}", self.0)
    }
}

impl std::error::Error for Configuration {}

/// The payload as ramguard reads it. The runtime hands the raw JSON over (reading it raw has no
/// nesting limit), so that a payload serde_json's own recursion limit refuses fails here as a
/// `BadEvent`, not as the runtime's deserialization error.
pub fn payload(raw: &RawValue) -> Result<Value, String> {
    serde_json::from_str(raw.get())
        .map_err(|e| format!("bad event: the payload cannot be read as JSON: {e}"))
}

/// Runs `handler` (event, the function's own account) for every invocation.
pub async fn run<H, Fut, O, E>(function: &'static str, handler: H) -> Result<(), Error>
where
    H: Fn(Value, String) -> Fut,
    Fut: Future<Output = Result<O, E>>,
    O: Outcome,
    E: Failure,
{
    let handler = &handler;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<Box<RawValue>>| async move {
            let account = ramguard_aws::own_account(&event.context.invoked_function_arn);
            let started = Instant::now();
            let before = ramguard_aws::calls::counts();
            let result = match payload(&event.payload) {
                // boxed: a handler's future is large, and the runtime's own grows around it
                Ok(value) => Box::pin(handler(value, account))
                    .await
                    .map_err(|e| (e.error_type(), e.to_string())),
                Err(message) => Err((ErrorType::BadEvent, message)),
            };
            let millis = started.elapsed().as_millis() as u64;
            match result {
                Ok(outcome) => {
                    outcome.metrics(millis).aws_calls_since(before).emit();
                    serde_json::to_value(&outcome).map_err(|e| Diagnostic {
                        error_type: "Internal".into(),
                        error_message: format!("the result could not be serialized: {e}"),
                    })
                }
                Err((error_type, message)) => {
                    let (error_type, error_message) =
                        failure::report(function, error_type, &message);
                    Err(Diagnostic {
                        error_type,
                        error_message,
                    })
                }
            }
        },
    ))
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_json_is_read_raw_and_refused_as_a_bad_event() {
        let deep = "[".repeat(300) + &"]".repeat(300);
        let raw: Box<RawValue> = serde_json::from_str(&deep).expect("read raw, no depth limit");
        let err = payload(&raw).unwrap_err();
        assert!(err.starts_with("bad event:"), "{err}");
        let shallow: Box<RawValue> = serde_json::from_str(r#"{"a": [1]}"#).unwrap();
        assert_eq!(payload(&shallow).unwrap(), serde_json::json!({"a": [1]}));
    }
}
