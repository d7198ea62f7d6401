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

/// The README's example sharing baseline (between its `<!-- baseline example -->` markers).
pub fn readme_baseline() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    readme
        .split_once("<!-- baseline example -->")
        .and_then(|(_, r)| r.split_once("<!-- /baseline example -->"))
        .map(|(b, _)| {
            b.trim()
                .trim_start_matches("```yaml")
                .trim_end_matches("```")
                .to_string()
        })
        .expect("the README's example baseline")
}

/// A command run as the management account of `world` would run it from a terminal: its
/// credentials and the stand-in's endpoint in the environment.
pub async fn as_management(world: &World, program: &Path, args: &[&str]) -> std::process::Output {
    use aws_credential_types::provider::ProvideCredentials;
    let creds = world
        .management
        .credentials_provider()
        .expect("credentials provider")
        .provide_credentials()
        .await
        .expect("credentials");
    Command::new(program)
        .args(args)
        .env("AWS_ENDPOINT_URL", world.standin.url())
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env(
            "AWS_SESSION_TOKEN",
            creds.session_token().unwrap_or_default(),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()))
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
