//! Structured JSON logs through `tracing`: one line per decision.

/// Installs the JSON log subscriber once (later calls do nothing). The level comes from
/// `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, default `info`.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_lowercase();
    // the runtime logs every failed invocation again (as a debug dump of the Diagnostic) from
    // its panic-catching layer; ramguard logs each failure once, structured (failure::report)
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
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
