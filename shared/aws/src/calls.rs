//! AWS calls and throttles, counted per process by an SDK interceptor on every client ramguard
//! builds: each attempt the SDK makes (retries included), and each answered with throttling
//! (HTTP 429, or an `x-amzn-ErrorType` naming throttling). A function handles one invocation at
//! a time, so the counts taken before and after an invocation give its own.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

static CALLS: AtomicU64 = AtomicU64::new(0);
static THROTTLES: AtomicU64 = AtomicU64::new(0);

/// Counts (calls, throttled calls) so far in this process.
pub fn counts() -> (u64, u64) {
    (
        CALLS.load(Ordering::Relaxed),
        THROTTLES.load(Ordering::Relaxed),
    )
}

#[derive(Debug, Default, Clone, Copy)]
struct CallCounter;

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "ramguard-call-counter"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        CALLS.fetch_add(1, Ordering::Relaxed);
        if let Some(response) = context.response() {
            let error_type = response
                .headers()
                .get("x-amzn-ErrorType")
                .unwrap_or_default();
            if response.status().as_u16() == 429
                || error_type.contains("Throttl")
                || error_type.contains("TooManyRequests")
            {
                THROTTLES.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// A RAM client that counts its calls.
pub fn ram(cfg: &SdkConfig) -> aws_sdk_ram::Client {
    aws_sdk_ram::Client::from_conf(
        aws_sdk_ram::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}

/// An AWS Config client that counts its calls.
pub fn config(cfg: &SdkConfig) -> aws_sdk_config::Client {
    aws_sdk_config::Client::from_conf(
        aws_sdk_config::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}

/// An Organizations client that counts its calls.
pub fn ssm(cfg: &SdkConfig) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}

pub fn organizations(cfg: &SdkConfig) -> aws_sdk_organizations::Client {
    aws_sdk_organizations::Client::from_conf(
        aws_sdk_organizations::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}

/// A Security Hub client that counts its calls.
pub fn securityhub(cfg: &SdkConfig) -> aws_sdk_securityhub::Client {
    aws_sdk_securityhub::Client::from_conf(
        aws_sdk_securityhub::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}

/// An SQS client that counts its calls.
pub fn sqs(cfg: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(cfg)
            .interceptor(CallCounter)
            .build(),
    )
}
