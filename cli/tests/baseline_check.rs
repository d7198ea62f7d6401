//! `ramguard baseline check` as a user runs it: the built binary, the documented flags, the
//! credentials in the environment and `AWS_ENDPOINT_URL` pointing at the stand-in.

use std::process::Command;

use aws_config::SdkConfig;
use ramguard_testkit::World;

/// The README's example baseline.
fn readme_baseline() -> String {
    let readme = std::fs::read_to_string(ramguard_testkit::repo_root().join("README.md")).unwrap();
    readme
        .split_once("<!-- baseline example -->")
        .and_then(|(_, r)| r.split_once("<!-- /baseline example -->"))
        .map(|(b, _)| {
            b.trim()
                .trim_start_matches("```yaml")
                .trim_end_matches("```")
                .to_string()
        })
        .expect("the README's example baseline")
}

async fn ramguard(world: &World, config: &SdkConfig, args: &[&str]) -> (i32, String, String) {
    use aws_config::Region;
    let creds = aws_credential_types::provider::ProvideCredentials::provide_credentials(
        &config.credentials_provider().unwrap(),
    )
    .await
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ramguard"))
        .args(args)
        .env("AWS_ENDPOINT_URL", world.standin.url())
        .env(
            "AWS_REGION",
            config
                .region()
                .cloned()
                .unwrap_or(Region::new("us-east-1"))
                .to_string(),
        )
        .env("AWS_ACCESS_KEY_ID", creds.access_key_id())
        .env("AWS_SECRET_ACCESS_KEY", creds.secret_access_key())
        .env(
            "AWS_SESSION_TOKEN",
            creds.session_token().unwrap_or_default(),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("run ramguard");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[tokio::test]
async fn an_unknown_ou_is_reported_with_its_line() {
    let world = World::new(1).await;
    let prod = world.ou(&world.org.root_id, "production").await.id;
    let file = std::env::temp_dir().join(format!("baseline-{}.yaml", std::process::id()));
    let text = readme_baseline()
        .replace("ou-a1b2-prod0001", &prod)
        .replace("111111111111", &world.org.members[0]);
    std::fs::write(&file, &text).unwrap();
    let path = file.to_str().unwrap();

    // the schema alone: valid
    let (code, out, err) = ramguard(&world, &world.management, &["baseline", "check", path]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("baseline 2026-12-01 is valid"), "{out}");

    // the organization: its sandbox OU does not exist
    let (code, out, err) = ramguard(
        &world,
        &world.management,
        &["baseline", "check", path, "--organization"],
    )
    .await;
    assert_eq!(code, 1, "{out}{err}");
    let line = text
        .lines()
        .position(|l| l.contains("ou-a1b2-sandbox1"))
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!("{path}:{line}: boundaries.sandbox.ous[0]: OU ou-a1b2-sandbox1 is not in organization {}", world.org.id)),
        "{out}"
    );

    // a schema problem, with its line; an unreadable file
    std::fs::write(
        &file,
        "version: \"1\"\nboundaries:\n  prod:\n    ouz: [x]\n",
    )
    .unwrap();
    let (code, out, _) = ramguard(&world, &world.management, &["baseline", "check", path]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "{path}:4: boundaries.prod.ouz: unknown field `ouz`"
        )),
        "{out}"
    );
    let (code, _, err) = ramguard(
        &world,
        &world.management,
        &["baseline", "check", "/nonexistent.yaml"],
    )
    .await;
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent.yaml"), "{err}");
    let _ = std::fs::remove_file(&file);
}
