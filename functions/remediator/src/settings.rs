//! The remediator's settings, from environment variables.

use std::time::Duration;

use ramguard_core::Parameters;
use serde::Serialize;

/// Dry-run reports the plan and changes nothing; enforce acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    DryRun,
    Enforce,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Enforce => "enforce",
        }
    }
}

/// The remediator's settings, from environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub mode: Mode,
    /// A run that would remove more principals than this removes none.
    pub max_principals_per_run: usize,
    /// Set allowExternalPrincipals=false once no outside principal remains.
    pub restrict_share: bool,
    /// Remove the principals the sharing baseline's boundary verdict names too
    /// (`ENFORCE_BASELINE`; else they are reported only).
    pub enforce_baseline: bool,
    pub rule_name: Option<String>,
    pub params: Parameters,
    /// How long a removal RAM reports DISASSOCIATING is read back before the run ends with
    /// `in-progress` (`VERIFY_WAIT_SECONDS`).
    pub verify_wait: Duration,
}

pub const DEFAULT_MAX_PRINCIPALS_PER_RUN: usize = 50;
/// The default `VERIFY_WAIT_SECONDS`, and the largest accepted (the function times out at 60 s).
pub const DEFAULT_VERIFY_WAIT_SECONDS: u64 = 10;
pub const MAX_VERIFY_WAIT_SECONDS: u64 = 30;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub reason: String,
}

impl Settings {
    /// Reads `REMEDIATION_MODE` (`dry-run` | `enforce`, default dry-run), `MAX_PRINCIPALS_PER_RUN`
    /// (default 50), `RESTRICT_SHARE` (`true` | `false`), `ENFORCE_BASELINE` (`true` | `false`,
    /// default false), `CONFIG_RULE_NAME` and the parameters.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingError> {
        let mode = match get("REMEDIATION_MODE")
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("dry-run") | Some("dryrun") => Mode::DryRun,
            Some("enforce") => Mode::Enforce,
            Some(other) => {
                return Err(SettingError {
                    name: "REMEDIATION_MODE",
                    reason: format!("{other:?} is not dry-run or enforce"),
                })
            }
        };
        let max_principals_per_run = match get("MAX_PRINCIPALS_PER_RUN") {
            None => DEFAULT_MAX_PRINCIPALS_PER_RUN,
            Some(v) => v.parse().map_err(|_| SettingError {
                name: "MAX_PRINCIPALS_PER_RUN",
                reason: format!("{v:?} is not a whole number"),
            })?,
        };
        let restrict_share = match get("RESTRICT_SHARE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(SettingError {
                    name: "RESTRICT_SHARE",
                    reason: format!("{other:?} is not true or false"),
                })
            }
        };
        let enforce_baseline = match get("ENFORCE_BASELINE")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(SettingError {
                    name: "ENFORCE_BASELINE",
                    reason: format!("{other:?} is not true or false"),
                })
            }
        };
        let pairs = ramguard_core::PARAMETER_NAMES
            .iter()
            .filter_map(|n| get(n).map(|v| (n.to_string(), v)))
            .collect();
        let params = Parameters::from_pairs(&pairs).map_err(|e| SettingError {
            name: "parameters",
            reason: e.to_string(),
        })?;
        let verify_wait = match get("VERIFY_WAIT_SECONDS") {
            None => DEFAULT_VERIFY_WAIT_SECONDS,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= MAX_VERIFY_WAIT_SECONDS)
                .ok_or_else(|| SettingError {
                    name: "VERIFY_WAIT_SECONDS",
                    reason: format!(
                        "{v:?} is not a whole number from 0 to {MAX_VERIFY_WAIT_SECONDS}"
                    ),
                })?,
        };
        Ok(Settings {
            verify_wait: Duration::from_secs(verify_wait),
            mode,
            max_principals_per_run,
            restrict_share,
            enforce_baseline,
            rule_name: get("CONFIG_RULE_NAME"),
            params,
        })
    }

    pub fn from_env() -> Result<Settings, SettingError> {
        Self::from_lookup(ramguard_aws::env_text)
    }
}
