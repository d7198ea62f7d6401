//! ramguard's parameters: Config `ruleParameters` for the rule, the same names as environment
//! variables for the other functions. An invalid value is an error naming the parameter.

use std::collections::{BTreeMap, BTreeSet};

use crate::principal::is_account_id;

/// How service principals (`<name>.amazonaws.com`) are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePrincipals {
    /// Shares with service principals are COMPLIANT (unless a source reaches outside).
    Allow,
    /// Shares with service principals are NON_COMPLIANT.
    Flag,
}

/// What ramguard trusts and flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    /// `TrustedAccountIds`: accounts outside the organization that may be shared with.
    pub trusted_account_ids: BTreeSet<String>,
    /// `ExemptTagKey`: the tag that exempts a share (see `verdict::exemption`).
    pub exempt_tag_key: String,
    /// `FlagAllowExternalPrincipals`: strict mode.
    pub flag_allow_external_principals: bool,
    /// `ServicePrincipals`: allow or flag service principals.
    pub service_principals: ServicePrincipals,
    /// `ExecutionRoleName`: the member role assumed for other accounts (organization scope).
    pub execution_role_name: Option<String>,
    /// `OrgCacheTtlSeconds`: how long a warm function keeps the organization snapshot.
    pub org_cache_ttl_seconds: u64,
    /// `GuardrailCoverage`: the scheduled run also judges whether the SCPs in force on the
    /// account stop sharing outside the organization (one `AWS::::Account` evaluation).
    pub guardrail_coverage: bool,
}

/// The default `ExemptTagKey`.
pub const DEFAULT_EXEMPT_TAG_KEY: &str = "ramguard:exempt";
/// The default `OrgCacheTtlSeconds`.
pub const DEFAULT_ORG_CACHE_TTL_SECONDS: u64 = 300;

/// The parameter names, as Config rule parameters and environment variables.
pub const PARAMETER_NAMES: [&str; 7] = [
    "TrustedAccountIds",
    "ExemptTagKey",
    "FlagAllowExternalPrincipals",
    "ServicePrincipals",
    "ExecutionRoleName",
    "OrgCacheTtlSeconds",
    "GuardrailCoverage",
];

impl Default for Parameters {
    fn default() -> Self {
        Parameters {
            trusted_account_ids: BTreeSet::new(),
            exempt_tag_key: DEFAULT_EXEMPT_TAG_KEY.to_string(),
            flag_allow_external_principals: false,
            service_principals: ServicePrincipals::Allow,
            execution_role_name: None,
            org_cache_ttl_seconds: DEFAULT_ORG_CACHE_TTL_SECONDS,
            guardrail_coverage: false,
        }
    }
}

/// A parameter ramguard cannot take, named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParameterError {
    /// One parameter's value is not what it must be.
    #[error("parameter {name}: {reason}")]
    Invalid {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with its value.
        reason: String,
    },
    /// The rule parameters are not a JSON object of strings.
    #[error("rule parameters are not a JSON object of strings: {0}")]
    Malformed(String),
}

fn invalid(name: &'static str, reason: impl Into<String>) -> ParameterError {
    ParameterError::Invalid {
        name,
        reason: reason.into(),
    }
}

fn boolean(name: &'static str, value: &str) -> Result<bool, ParameterError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(invalid(name, format!("{other:?} is not true or false"))),
    }
}

impl Parameters {
    /// Reads parameters from name → value pairs; absent or empty values take their defaults.
    pub fn from_pairs(values: &BTreeMap<String, String>) -> Result<Parameters, ParameterError> {
        let get = |name: &str| values.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let mut out = Parameters::default();
        if let Some(list) = get("TrustedAccountIds") {
            for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if !is_account_id(id) {
                    return Err(invalid(
                        "TrustedAccountIds",
                        format!("{id:?} is not a 12-digit account ID"),
                    ));
                }
                out.trusted_account_ids.insert(id.to_string());
            }
        }
        if let Some(key) = get("ExemptTagKey") {
            if key.len() > 128 {
                return Err(invalid(
                    "ExemptTagKey",
                    "a tag key has at most 128 characters",
                ));
            }
            out.exempt_tag_key = key.to_string();
        }
        if let Some(flag) = get("FlagAllowExternalPrincipals") {
            out.flag_allow_external_principals = boolean("FlagAllowExternalPrincipals", flag)?;
        }
        if let Some(flag) = get("GuardrailCoverage") {
            out.guardrail_coverage = boolean("GuardrailCoverage", flag)?;
        }
        if let Some(mode) = get("ServicePrincipals") {
            out.service_principals = match mode.to_ascii_lowercase().as_str() {
                "allow" => ServicePrincipals::Allow,
                "flag" => ServicePrincipals::Flag,
                other => {
                    return Err(invalid(
                        "ServicePrincipals",
                        format!("{other:?} is not allow or flag"),
                    ))
                }
            };
        }
        if let Some(role) = get("ExecutionRoleName") {
            let ok = role.len() <= 64
                && role
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                return Err(invalid(
                    "ExecutionRoleName",
                    format!("{role:?} is not an IAM role name"),
                ));
            }
            out.execution_role_name = Some(role.to_string());
        }
        if let Some(ttl) = get("OrgCacheTtlSeconds") {
            out.org_cache_ttl_seconds = ttl
                .parse::<u64>()
                .ok()
                .filter(|t| *t <= 86_400)
                .ok_or_else(|| {
                    invalid(
                        "OrgCacheTtlSeconds",
                        format!("{ttl:?} is not 0..=86400 seconds"),
                    )
                })?;
        }
        Ok(out)
    }

    /// Reads Config's `ruleParameters` (a JSON object serialized as a string).
    pub fn from_rule_parameters(json: &str) -> Result<Parameters, ParameterError> {
        let text = if json.trim().is_empty() { "{}" } else { json };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| ParameterError::Malformed(e.to_string()))?;
        let object = value
            .as_object()
            .ok_or_else(|| ParameterError::Malformed("not a JSON object".into()))?;
        let mut pairs = BTreeMap::new();
        for (k, v) in object {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                other => return Err(ParameterError::Malformed(format!("{k} is {other}"))),
            };
            pairs.insert(k.clone(), v);
        }
        Self::from_pairs(&pairs)
    }

    /// Reads the parameters from environment variables of the same names.
    pub fn from_env() -> Result<Parameters, ParameterError> {
        let pairs = PARAMETER_NAMES
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
            .collect();
        Self::from_pairs(&pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_when_absent() {
        assert_eq!(
            Parameters::from_rule_parameters("{}").unwrap(),
            Parameters::default()
        );
        assert_eq!(
            Parameters::from_rule_parameters("").unwrap(),
            Parameters::default()
        );
    }

    #[test]
    fn reads_every_parameter() {
        let p = Parameters::from_pairs(&pairs(&[
            ("TrustedAccountIds", "123456789012, 210987654321"),
            ("ExemptTagKey", "sec:exempt"),
            ("FlagAllowExternalPrincipals", "TRUE"),
            ("ServicePrincipals", "flag"),
            ("ExecutionRoleName", "ramguard-member"),
            ("OrgCacheTtlSeconds", "60"),
        ]))
        .unwrap();
        assert_eq!(p.trusted_account_ids.len(), 2);
        assert_eq!(p.exempt_tag_key, "sec:exempt");
        assert!(p.flag_allow_external_principals);
        assert_eq!(p.service_principals, ServicePrincipals::Flag);
        assert_eq!(p.execution_role_name.as_deref(), Some("ramguard-member"));
        assert_eq!(p.org_cache_ttl_seconds, 60);
    }

    #[test]
    fn invalid_values_name_the_parameter() {
        for (name, value) in [
            ("TrustedAccountIds", "12345"),
            ("FlagAllowExternalPrincipals", "yes"),
            ("ServicePrincipals", "deny"),
            ("ExecutionRoleName", "bad role"),
            ("OrgCacheTtlSeconds", "-1"),
        ] {
            let err = Parameters::from_pairs(&pairs(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
        }
        assert!(matches!(
            Parameters::from_rule_parameters("[1]"),
            Err(ParameterError::Malformed(_))
        ));
        assert!(matches!(
            Parameters::from_rule_parameters("{not json"),
            Err(ParameterError::Malformed(_))
        ));
    }
}
