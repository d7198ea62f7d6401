//! The Config rule invocation at the edge: the core reads it (`ramguard_core::rule_event`);
//! here its timestamps become the SDK's ordering timestamps.

use aws_smithy_types::DateTime;
use tracing::warn;

/// The ordering timestamp of evaluations: the event's, but never later than now (see
/// `ramguard_core::rule_event::ordering_millis`).
pub(crate) fn ordering_timestamp(event_millis: i64, now: DateTime) -> DateTime {
    let now_millis = now.to_millis().unwrap_or(i64::MAX);
    let (millis, moved) = ramguard_core::rule_event::ordering_millis(event_millis, now_millis);
    if moved {
        warn!(
            event_time = %DateTime::from_millis(event_millis),
            now = %now,
            "the event's timestamp is in the future; evaluations are ordered at now"
        );
    }
    DateTime::from_millis(millis)
}

pub(crate) fn now_secs() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs()
}
