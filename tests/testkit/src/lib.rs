//! Test harness for ramguard: one local AWS stand-in per test process, SDK configuration pointed at
//! it (optionally as an assumed role in any account), and seeding of organizations and RAM shares.
//!
//! Tests isolate themselves by working in accounts of their own: [`World::new`] creates a fresh
//! management account and organization, so tests in one process can run in parallel against the
//! same stand-in. Faults and settings are scoped to an account for the same reason.

mod events;
mod faults;
pub mod lambda;
pub mod mutate;
mod standin;
mod world;

pub use events::{compliance_change, custom_action, sample_event};
pub use faults::Fault;
pub use standin::{fast_retries, standin, CallCount, StandIn};
pub use world::{
    compliance_results, create_share, fresh_account_id, put_config_rule, OrgFixture, OuFixture,
    ShareSpec, World,
};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::{json, Value};

/// The region tests work in unless they choose another.
pub const REGION: &str = "us-east-1";
/// An account outside every organization the harness creates.
pub const OUTSIDER: &str = "999999999999";
/// The guardrail SCP the template deploys with its defaults (`tests/fixtures/guardrail-scp.json`,
/// checked against the transformed template by `tests/template`).
pub fn guardrail_scp() -> Value {
    let path = repo_root().join("tests/fixtures/guardrail-scp.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("guardrail fixture")).expect("JSON")
}

/// The role tests assume in an account to act as it.
pub const TEST_ROLE: &str = "ramguard-test";

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}
