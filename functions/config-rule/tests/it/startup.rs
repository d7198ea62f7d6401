//! The built function's start-up, as the README documents it: a `SWEEP_CONCURRENCY` outside
//! 1–64 stops the function before it takes an event, with `configuration: SWEEP_CONCURRENCY …`.

use std::process::Command;

fn start(sweep_concurrency: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_config-rule"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        // no Runtime API answers here: a function that got past its configuration fails on it
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "config-rule")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("SWEEP_CONCURRENCY", sweep_concurrency)
        .output()
        .expect("the config-rule binary runs")
}

#[test]
fn a_sweep_concurrency_out_of_range_stops_the_function_at_start() {
    for bad in ["0", "65", "eight", "-1"] {
        let out = start(bad);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad}: {stderr}");
        // the value is quoted (escaped again as the runtime prints the error)
        assert!(
            stderr.contains("configuration: SWEEP_CONCURRENCY ")
                && stderr.contains(bad)
                && stderr.contains("is not a whole number from 1 to 64"),
            "{bad}: {stderr}"
        );
    }
    // a valid value gets past the configuration (and then finds no Runtime API)
    let out = start("64");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("configuration:"), "{stderr}");
}
