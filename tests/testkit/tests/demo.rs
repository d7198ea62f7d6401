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
}
