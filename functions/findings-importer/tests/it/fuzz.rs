//! Mutated events against the importer: never a panic, always a defined outcome or a typed error
//! with a bounded message.

use std::sync::Arc;

use ramguard_core::Parameters;
use ramguard_findings_importer::Importer;
use ramguard_testkit::mutate::mutations;
use ramguard_testkit::{compliance_change, World, OUTSIDER};

const RULE: &str = "ramguard-ram-shares";

#[tokio::test]
async fn mutated_events_never_panic_and_fail_typed_and_bounded() {
    let world = World::new(1).await;
    let mgmt = world.org.management.clone();
    world.enable_security_hub(&mgmt).await;
    let share = world.share("s", true, &[OUTSIDER]).await;
    let importer = Arc::new(Importer::new(
        world.management.clone(),
        Some(RULE.into()),
        Parameters::default(),
    ));
    let event = compliance_change(RULE, &mgmt, &share, "NON_COMPLIANT", Some("COMPLIANT"));
    for mutated in mutations(&event, 11, 150) {
        let imp = importer.clone();
        let mgmt = mgmt.clone();
        let outcome = tokio::spawn(async move { imp.handle(mutated, &mgmt).await })
            .await
            .expect("the importer panicked on a mutated event");
        if let Err(err) = outcome {
            let message = err.to_string();
            assert!(message.chars().count() <= 1_000, "{} chars", message.len());
        }
    }
}
