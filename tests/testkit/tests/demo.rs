//! `make demo` keeps working: the demo binary runs the main job end to end and reports success.
//! Its functions' real log output is kept, and the Logs Insights queries of docs/operating.md run over it.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::{Map, Value};

#[test]
fn the_demo_runs_end_to_end() {
    let log = std::env::temp_dir().join(format!("ramguard-demo-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let out = Command::new(env!("CARGO_BIN_EXE_ramguard-demo"))
        .env("RAMGUARD_FUNCTION_LOG", &log)
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("5 NON_COMPLIANT before, 2 after (2 left for a person with the reason)")
            && stdout.contains("0 in-org principals touched"),
        "unexpected summary:\n{stdout}"
    );
    assert!(
        stdout.contains("from-policy: the share was created from a resource-based policy")
            && stdout.contains(
                "log-delivery: logs.amazonaws.com: service principal with outside source"
            ),
        "the shares left for a person are not explained:\n{stdout}"
    );
    for share in [
        "vpc-subnets",
        "partner-db",
        "pending-invite",
        "exempt-analytics",
        "rejected-invite",
        "log-delivery",
        "kept-on-leave",
        "from-policy",
    ] {
        assert!(
            stdout.contains(share),
            "{share} missing from the report:\n{stdout}"
        );
    }

    // the guardrail: covered under the template's SCP, uncovered elsewhere, the management
    // account never covered
    let coverage: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("management account") || l.contains(" root ") || l.contains("OU "))
        .collect();
    assert!(
        coverage
            .iter()
            .any(|l| l.contains("management-account") && l.contains("INFORMATIONAL"))
            && coverage.iter().any(|l| l.contains("OU production")
                && l.contains(" covered ")
                && l.contains("ramguard-ram-guardrail DenyExternalShares"))
            && coverage.iter().any(|l| l.contains("OU sandbox")
                && l.contains("uncovered")
                && l.contains("MEDIUM"))
            && coverage
                .iter()
                .any(|l| l.contains(" root ") && l.contains("uncovered")),
        "unexpected guardrail coverage:\n{stdout}"
    );
    assert!(
        stderr.contains("refused: explicit deny in a service control policy"),
        "{stderr}"
    );

    // ramguard scan over the same organization, beside the functions
    assert!(
        stdout.contains("(exit status 3: findings at or above --fail-on)"),
        "{stdout}"
    );
    assert!(stdout.contains("outside-principal"), "{stdout}");

    // the documented Logs Insights queries over the functions' real log lines
    let lines: Vec<Map<String, Value>> = std::fs::read_to_string(&log)
        .expect("the functions' log")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v.as_object().cloned())
        .collect();
    let _ = std::fs::remove_file(&log);
    for line in &lines {
        for (k, v) in line {
            if let Some(s) = v.as_str() {
                assert!(
                    !(s.starts_with('{') || s.starts_with('[')),
                    "field {k} holds JSON inside a string: {s}"
                );
            }
        }
    }
    let doc =
        std::fs::read_to_string(ramguard_testkit::repo_root().join("docs/operating.md")).unwrap();
    let block = doc
        .split_once("<!-- logs-insights -->")
        .and_then(|(_, rest)| rest.split_once("<!-- /logs-insights -->"))
        .map(|(b, _)| b)
        .expect("the Logs Insights queries of docs/operating.md");
    let queries: Vec<&str> = block
        .split("```")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .collect();
    assert_eq!(queries.len(), 4);
    let rows: Vec<usize> = queries.iter().map(|q| run_query(q, &lines).len()).collect();
    // verdicts, removals and metrics happen in the demo (three sweeps of the management
    // account's 12 shares: 5, then 2 and 2 NON_COMPLIANT; then two sweeps of the baseline step's 4
    // member shares: none, then 3 NON_COMPLIANT); its functions do not fail
    assert!(rows[0] > 0 && rows[1] > 0 && rows[2] > 0, "{rows:?}");
    let by_function = run_query(queries[2], &lines);
    assert!(
        by_function.iter().any(|r| r["Function"] == "config-rule"
            && r["judged"].as_f64() == Some(44.0)
            && r["non_compliant"].as_f64() == Some(12.0)),
        "{by_function:?}"
    );
}

/// `stats` aggregate: function, its field, the result's name.
type Aggregate = (String, String, String);

/// A small Logs Insights evaluator for the documented queries: `fields`, `filter` with `=`, `!=`,
/// `ispresent(…)` joined by `and`, `stats count(*)|sum(f) as name … by f, …`, `sort`, `limit`.
fn run_query(query: &str, lines: &[Map<String, Value>]) -> Vec<BTreeMap<String, Value>> {
    let mut rows: Vec<&Map<String, Value>> = lines.iter().collect();
    let mut stats: Option<(Vec<Aggregate>, Vec<String>)> = None;
    for command in query.split('|').map(str::trim) {
        let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
        match verb {
            "filter" => {
                let conditions: Vec<&str> = rest.split(" and ").map(str::trim).collect();
                rows.retain(|l| conditions.iter().all(|c| matches(c, l)));
            }
            "stats" => {
                let (aggs, by) = rest.split_once(" by ").expect("stats … by");
                let aggs = aggs
                    .split(',')
                    .map(|a| {
                        let (expr, name) = a.trim().split_once(" as ").expect("… as name");
                        let (func, arg) = expr.trim_end_matches(')').split_once('(').unwrap();
                        (func.to_string(), arg.to_string(), name.trim().to_string())
                    })
                    .collect();
                let by = by.split(',').map(|f| f.trim().to_string()).collect();
                stats = Some((aggs, by));
            }
            "fields" | "sort" | "limit" => {}
            other => panic!("unsupported Logs Insights command {other:?} in {query}"),
        }
    }
    match stats {
        None => rows
            .into_iter()
            .map(|l| l.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .collect(),
        Some((aggs, by)) => {
            let mut groups: BTreeMap<Vec<String>, BTreeMap<String, Value>> = BTreeMap::new();
            for l in rows {
                let key: Vec<String> = by
                    .iter()
                    .map(|f| {
                        l.get(f)
                            .map(|v| v.to_string().trim_matches('"').to_string())
                            .unwrap_or_default()
                    })
                    .collect();
                let row = groups.entry(key.clone()).or_insert_with(|| {
                    by.iter()
                        .zip(&key)
                        .map(|(f, v)| (f.clone(), Value::from(v.as_str())))
                        .collect()
                });
                for (func, arg, name) in &aggs {
                    let add = match func.as_str() {
                        "count" => 1.0,
                        "sum" => l.get(arg).and_then(Value::as_f64).unwrap_or(0.0),
                        other => panic!("unsupported aggregate {other}"),
                    };
                    let now = row.get(name).and_then(Value::as_f64).unwrap_or(0.0);
                    row.insert(name.clone(), Value::from(now + add));
                }
            }
            groups.into_values().collect()
        }
    }
}

fn matches(condition: &str, line: &Map<String, Value>) -> bool {
    if let Some(field) = condition
        .strip_prefix("ispresent(")
        .and_then(|c| c.strip_suffix(')'))
    {
        return line.contains_key(field);
    }
    let (field, op, value) = if let Some((f, v)) = condition.split_once(" != ") {
        (f, "!=", v)
    } else if let Some((f, v)) = condition.split_once(" = ") {
        (f, "=", v)
    } else {
        panic!("unsupported condition {condition:?}")
    };
    let want = value.trim().trim_matches('"');
    let got = line.get(field.trim()).and_then(Value::as_str);
    match op {
        "=" => got == Some(want),
        _ => got != Some(want),
    }
}
