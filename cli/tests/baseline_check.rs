//! `ramguard baseline check` as a user runs it: the built binary, the documented flags, the
//! credentials in the environment and `AWS_ENDPOINT_URL` pointing at the stand-in.

use ramguard_testkit::{as_management, readme_baseline, World};

async fn ramguard(world: &World, args: &[&str]) -> (i32, String, String) {
    let out = as_management(
        world,
        std::path::Path::new(env!("CARGO_BIN_EXE_ramguard")),
        args,
    )
    .await;
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
    let (code, out, err) = ramguard(&world, &["baseline", "check", path]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("baseline 2026-12-01 is valid"), "{out}");

    // the organization: its sandbox OU does not exist
    let (code, out, err) = ramguard(&world, &["baseline", "check", path, "--organization"]).await;
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
    let (code, out, _) = ramguard(&world, &["baseline", "check", path]).await;
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "{path}:4: boundaries.prod.ouz: unknown field `ouz`"
        )),
        "{out}"
    );
    let (code, _, err) = ramguard(&world, &["baseline", "check", "/nonexistent.yaml"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent.yaml"), "{err}");
    let _ = std::fs::remove_file(&file);
}
