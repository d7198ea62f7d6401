//! Counts of what ramguard did, as CloudWatch embedded metric format (EMF) records: one JSON line
//! on stdout per record, which CloudWatch Logs turns into metrics in the `ramguard` namespace
//! without an API call.

use serde_json::{json, Map, Value};

/// The CloudWatch namespace of every ramguard metric.
pub const NAMESPACE: &str = "ramguard";

/// One EMF record: `name` = `value` (Count) for `function`, with `properties` (searchable in
/// Logs Insights, not dimensions). Returns the line, for tests.
pub fn record(function: &str, name: &str, value: u64, properties: &[(&str, &str)]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": now,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function"]],
                "Metrics": [{"Name": name, "Unit": "Count"}],
            }],
        }),
    );
    line.insert("Function".into(), Value::from(function));
    line.insert(name.into(), Value::from(value));
    for (k, v) in properties {
        line.insert((*k).into(), Value::from(*v));
    }
    Value::Object(line).to_string()
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

#[cfg(test)]
mod tests {
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
