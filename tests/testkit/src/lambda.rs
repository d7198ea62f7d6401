//! The built function binaries, run by `cargo lambda watch` (a local Lambda Runtime API) and
//! invoked with `cargo lambda invoke`, against the stand-in.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use serde_json::Value;

use crate::{repo_root, REGION};

/// A running `cargo lambda watch`, serving every function of the workspace; stopped on drop.
pub struct LambdaWatch {
    child: Child,
    port: String,
}

impl Drop for LambdaWatch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("local address")
        .port()
}

/// PATH with the project's `.venv/bin` first, where `scripts/standin-env` installs cargo-lambda.
pub fn path_with_venv() -> String {
    format!(
        "{}:{}",
        repo_root().join(".venv/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

impl LambdaWatch {
    /// Starts the runtime with the credentials of `config` (an account of the stand-in) and the
    /// extra environment `env` for the functions.
    pub async fn start(standin_url: &str, config: &SdkConfig, env: &[(&str, &str)]) -> LambdaWatch {
        let creds = config
            .credentials_provider()
            .expect("credentials provider")
            .provide_credentials()
            .await
            .expect("credentials");
        let port = free_port().to_string();
        let mut cmd = Command::new("cargo");
        cmd.args([
            "lambda",
            "watch",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port,
        ])
        .current_dir(repo_root())
        .env("PATH", path_with_venv())
        .env("AWS_ENDPOINT_URL", standin_url)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env(
            "AWS_SESSION_TOKEN",
            creds.session_token().unwrap_or_default(),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
        // the functions' log lines, for tests that read them (RAMGUARD_FUNCTION_LOG=<file>)
        match std::env::var("RAMGUARD_FUNCTION_LOG") {
            Ok(path) if !path.is_empty() => {
                let open = || {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(&path)
                        .expect("function log file")
                };
                cmd.stdout(open()).stderr(open());
            }
            _ => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .expect("cargo lambda watch (installed into .venv by scripts/standin-env)");
        LambdaWatch { child, port }
    }

    /// Invokes `function` (a binary name) with `event`; the function's JSON result, or its
    /// error message. Waits (up to five minutes) for the runtime and the first build.
    pub fn invoke(&self, function: &str, event: &Value) -> Result<Value, String> {
        let data_file: PathBuf = std::env::temp_dir().join(format!(
            "ramguard-event-{}-{}-{function}.json",
            std::process::id(),
            self.port
        ));
        std::fs::write(&data_file, event.to_string()).expect("event file");
        let deadline = Instant::now() + Duration::from_secs(300);
        let result = loop {
            let out = Command::new("cargo")
                .args([
                    "lambda",
                    "invoke",
                    function,
                    "--invoke-address",
                    "127.0.0.1",
                ])
                .args([
                    "--invoke-port",
                    &self.port,
                    "--output-format",
                    "json",
                    "--data-file",
                ])
                .arg(&data_file)
                .current_dir(repo_root())
                .env("PATH", path_with_venv())
                .output()
                .expect("cargo lambda invoke");
            if out.status.success() {
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                break Ok(serde_json::from_str(text.trim()).expect("the function's JSON result"));
            }
            let err = String::from_utf8_lossy(&out.stderr).to_string();
            let not_ready =
                err.contains("onnect") || err.contains("not ready") || err.contains("refused");
            if !not_ready {
                break Err(err);
            }
            assert!(
                Instant::now() < deadline,
                "the runtime never came up: {err}"
            );
            std::thread::sleep(Duration::from_millis(500));
        };
        let _ = std::fs::remove_file(&data_file);
        result
    }
}
