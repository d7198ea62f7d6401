//! `make demo` keeps working: the demo binary runs the main job end to end and reports success.

use std::process::Command;

#[test]
fn the_demo_runs_end_to_end() {
    let out = Command::new(env!("CARGO_BIN_EXE_ramguard-demo"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("3 NON_COMPLIANT before, 0 after")
            && stdout.contains("0 in-org principals touched"),
        "unexpected summary:\n{stdout}"
    );
    for share in [
        "vpc-subnets",
        "partner-db",
        "pending-invite",
        "exempt-analytics",
        "rejected-invite",
    ] {
        assert!(
            stdout.contains(share),
            "{share} missing from the report:\n{stdout}"
        );
    }
}
