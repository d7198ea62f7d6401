//! Structured JSON logs through `tracing`: one line per decision.

/// The crates whose log lines are ramguard's own (their targets are module paths).
const OURS: [&str; 9] = [
    "ramguard_core",
    "ramguard_aws",
    "ramguard_lambda",
    "ramguard_config_rule",
    "ramguard_findings_importer",
    "ramguard_remediator",
    "config_rule",
    "findings_importer",
    "remediator",
];

/// The filter for a level: ramguard's own lines at `level`, every other crate's (the SDK's,
/// the runtime's) only when they are errors, so that each decision is one line with ramguard's
/// fields. A value that is already a filter (`target=level`) is taken as it is.
pub fn filter_for(level: &str) -> String {
    let level = level.trim().to_lowercase();
    if level.contains('=') || level.contains(',') {
        return level;
    }
    let level = if level.is_empty() {
        "info".to_string()
    } else {
        level
    };
    std::iter::once("error".to_string())
        .chain(OURS.iter().map(|t| format!("{t}={level}")))
        .collect::<Vec<_>>()
        .join(",")
}

/// Installs the JSON log subscriber once (later calls do nothing). The level comes from
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default `info` (see [`filter_for`]).
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string());
    // the runtime logs every failed invocation again (as a debug dump of the Diagnostic) from
    // its panic-catching layer; ramguard logs each failure once, structured (failure::report)
    let filter = tracing_subscriber::EnvFilter::try_new(filter_for(&level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter_for("info")))
        .add_directive(
            "lambda_runtime::layers::panic=off"
                .parse()
                .expect("a valid directive"),
        );
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_crates_log_errors_only_and_ramguard_at_the_level() {
        let f = filter_for("INFO");
        assert!(f.starts_with("error,"));
        assert!(f.contains("ramguard_aws=info") && f.contains("remediator=info"));
        assert_eq!(filter_for("aws_config=debug"), "aws_config=debug");
        assert!(filter_for("").contains("config_rule=info"));
    }
}
