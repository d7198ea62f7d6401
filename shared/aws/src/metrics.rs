//! Counts of what ramguard did, as CloudWatch embedded metric format (EMF) records: one JSON line
//! on stdout per record, which CloudWatch Logs turns into metrics in the `ramguard` namespace
//! without an API call.

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every ramguard metric.
pub const NAMESPACE: &str = "ramguard";

/// The `Function` dimension: the deployed function's name (`AWS_LAMBDA_FUNCTION_NAME`, e.g.
/// `ramguard-config-rule`, so two stacks' metrics stay apart), else ramguard's short name.
fn function_dimension(short: &str) -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| short.to_string())
}

/// One EMF record: `name` = `value` (Count) for `function`, with `properties` (searchable in
/// Logs Insights, not dimensions). Returns the line, for tests.
pub fn record(function: &str, name: &str, value: u64, properties: &[(&str, &str)]) -> String {
    properties
        .iter()
        .fold(Invocation::new(function), |i, (k, v)| i.property(k, v))
        .count(name, value)
        .record()
}

/// Writes one EMF record (see [`record`]) to stdout.
pub fn count(function: &str, name: &str, value: u64, properties: &[(&str, &str)]) {
    println!("{}", record(function, name, value, properties));
}

/// One EMF record of `name` with a second dimension `(key, value)` beside `Function`.
pub fn count_by(function: &str, name: &str, value: u64, dimension: (&str, &str)) {
    let mut line: Value = serde_json::from_str(&record(function, name, value, &[dimension]))
        .expect("an EMF record is JSON");
    line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([["Function", dimension.0]]);
    println!("{line}");
}

/// The counts of one invocation, written as one EMF record when it ends: dimension `Function`,
/// the account and trigger as searchable properties.
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    function: String,
    properties: Vec<(String, String)>,
    counts: Vec<(String, u64, &'static str)>,
}

impl Invocation {
    pub fn new(function: &str) -> Invocation {
        Invocation {
            function: function.to_string(),
            ..Default::default()
        }
    }

    /// A searchable property of the record (account, trigger, …).
    pub fn property(mut self, key: &str, value: &str) -> Invocation {
        self.properties.push((key.to_string(), value.to_string()));
        self
    }

    /// A count (unit Count).
    pub fn count(mut self, name: &str, value: u64) -> Invocation {
        self.counts.push((name.to_string(), value, "Count"));
        self
    }

    /// The AWS calls (attempts, retries included) and throttled calls made since `before`, a
    /// reading of [`crate::calls::counts`] taken when the invocation started.
    pub fn aws_calls_since(self, before: (u64, u64)) -> Invocation {
        let (calls, throttles) = crate::calls::counts();
        self.count("AwsCalls", calls.saturating_sub(before.0))
            .count("AwsThrottles", throttles.saturating_sub(before.1))
    }

    /// A duration in milliseconds.
    pub fn millis(mut self, name: &str, value: u64) -> Invocation {
        self.counts.push((name.to_string(), value, "Milliseconds"));
        self
    }

    /// The EMF record, for tests.
    pub fn record(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let mut line = Map::new();
        let metrics: Vec<Value> = self
            .counts
            .iter()
            .map(|(name, _, unit)| json!({"Name": name, "Unit": unit}))
            .collect();
        line.insert(
            "_aws".into(),
            json!({
                "Timestamp": now,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Function"]],
                    "Metrics": metrics,
                }],
            }),
        );
        line.insert(
            "Function".into(),
            Value::from(function_dimension(&self.function)),
        );
        for (k, v) in &self.properties {
            line.insert(k.clone(), Value::from(v.as_str()));
        }
        for (name, value, _) in &self.counts {
            line.insert(name.clone(), Value::from(*value));
        }
        Value::Object(line).to_string()
    }

    /// Writes the record to stdout.
    pub fn emit(&self) {
        println!("{}", self.record());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_invocation_is_one_record_of_every_count() {
        let line: Value = serde_json::from_str(
            &Invocation::new("remediator")
                .property("account", "111111111111")
                .count("PrincipalsRemoved", 3)
                .millis("DurationMs", 12)
                .record(),
        )
        .unwrap();
        let spec = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(
            spec["Metrics"][0],
            json!({"Name": "PrincipalsRemoved", "Unit": "Count"})
        );
        assert_eq!(
            spec["Metrics"][1],
            json!({"Name": "DurationMs", "Unit": "Milliseconds"})
        );
        assert_eq!(
            (
                line["PrincipalsRemoved"].as_u64(),
                line["DurationMs"].as_u64()
            ),
            (Some(3), Some(12))
        );
        assert_eq!(line["account"], "111111111111");
    }

    use super::*;

    #[test]
    fn a_record_names_its_metric_in_the_ramguard_namespace() {
        let line: Value = serde_json::from_str(&record(
            "config-rule",
            "MemberRoleUnavailable",
            1,
            &[("account", "111122223333")],
        ))
        .unwrap();
        let spec = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], "ramguard");
        assert_eq!(spec["Metrics"][0]["Name"], "MemberRoleUnavailable");
        assert_eq!(spec["Dimensions"][0][0], "Function");
        assert_eq!(line["Function"], "config-rule");
        assert_eq!(line["MemberRoleUnavailable"], 1);
        assert_eq!(line["account"], "111122223333");
        assert!(line["_aws"]["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
    }
}
