//! Deferred evaluations: a near-real-time start that Config refused, to be made again after the
//! refusal window, at most once per rule, account, Region and window.
//!
//! StartConfigRulesEvaluation answers LimitExceededException "if an evaluation is in progress or
//! if you call the StartConfigRulesEvaluation API more than once per minute"
//! (https://docs.aws.amazon.com/config/latest/APIReference/API_StartConfigRulesEvaluation.html).
//! A refused start becomes a message on an SQS FIFO queue whose delivery delay is the window:
//! FIFO queues take a delay per queue only ("When you set FifoQueue, you can't set DelaySeconds per
//! message"), and a message whose MessageDeduplicationId was sent in the last five minutes is
//! "accepted successfully but [not] delivered"
//! (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
//! The deduplication id names the window a change fell in, so a burst in one window is one
//! deferred start, and it is delivered after the window ends, so after every change it covers.

use serde::{Deserialize, Serialize};

use crate::finding::sha256_hex;

/// The default refusal window, in seconds: "more than once per minute".
pub const DEFAULT_WINDOW_SECONDS: u64 = 60;
/// The longest window a deferral takes: SQS delays messages at most 900 seconds.
pub const MAX_WINDOW_SECONDS: u64 = 900;
/// How many times a deferred start is deferred again before it is left to the dead-letter
/// queue (and its alarm).
pub const MAX_ATTEMPTS: u32 = 10;
/// The `kind` every deferral message carries.
pub const KIND: &str = "ramguard.deferred-evaluation";

/// One deferred start of ramguard's rule in one account and Region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredEvaluation {
    /// Always [`KIND`]: what the queue's consumer checks before it acts.
    pub kind: String,
    /// The account whose rule is started (the share owner's).
    pub account: String,
    /// The Region the rule is started in.
    pub region: String,
    /// The rule's base name (CONFIG_RULE_NAME); its name in the account is looked up again.
    pub rule: String,
    /// What asked for it (the event name of the change, or the earlier deferral).
    pub reason: String,
    /// 1 for the first deferral, one more each time a deferred start is refused again.
    pub attempt: u32,
}

impl DeferredEvaluation {
    /// The first deferral of a start, for `reason`.
    pub fn new(account: &str, region: &str, rule: &str, reason: &str) -> DeferredEvaluation {
        DeferredEvaluation {
            kind: KIND.into(),
            account: account.into(),
            region: region.into(),
            rule: rule.into(),
            reason: crate::text::bounded(reason, 128),
            attempt: 1,
        }
    }

    /// The same start deferred once more, or None when it has been deferred often enough.
    pub fn again(&self) -> Option<DeferredEvaluation> {
        (self.attempt < MAX_ATTEMPTS).then(|| DeferredEvaluation {
            attempt: self.attempt + 1,
            reason: format!("deferred start {} refused", self.attempt),
            ..self.clone()
        })
    }

    /// The message group: one per rule, account and Region (FIFO order within it).
    pub fn group_id(&self) -> String {
        sha256_hex(&format!("{}\n{}\n{}", self.rule, self.account, self.region))[..32].to_string()
    }

    /// The deduplication id: the group and the window `now_secs` falls in.
    pub fn deduplication_id(&self, now_secs: i64, window_secs: u64) -> String {
        let window = now_secs.max(0) as u64 / window_secs.max(1);
        sha256_hex(&format!("{}\n{window}", self.group_id()))
    }
}

/// `DEFERRED_EVALUATION_SECONDS` as the function reads it: unset or blank is the default; a whole
/// number from 1 to [`MAX_WINDOW_SECONDS`] otherwise.
pub fn window_seconds(value: Option<&str>) -> Result<u64, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_WINDOW_SECONDS),
        Some(v) => v
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_WINDOW_SECONDS).contains(n))
            .ok_or_else(|| {
                format!(
                    "DEFERRED_EVALUATION_SECONDS {:?} is not a whole number from 1 to {MAX_WINDOW_SECONDS}",
                    crate::text::bounded(v, 32)
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_deduplication_id_per_group_and_window() {
        let a = DeferredEvaluation::new("111111111111", "us-east-1", "ramguard-ram-shares", "x");
        let b = DeferredEvaluation::new("111111111111", "us-east-1", "ramguard-ram-shares", "y");
        let other_region =
            DeferredEvaluation::new("111111111111", "eu-west-1", "ramguard-ram-shares", "x");
        assert_eq!(a.group_id(), b.group_id());
        assert_ne!(a.group_id(), other_region.group_id());
        assert_eq!(a.deduplication_id(120, 60), b.deduplication_id(179, 60));
        assert_ne!(a.deduplication_id(179, 60), a.deduplication_id(180, 60));
        assert_ne!(
            a.deduplication_id(120, 60),
            other_region.deduplication_id(120, 60)
        );
        assert!(a.group_id().len() <= 128 && a.deduplication_id(0, 60).len() <= 128);
    }

    #[test]
    fn a_deferral_is_deferred_again_a_bounded_number_of_times() {
        let mut d =
            DeferredEvaluation::new("111111111111", "us-east-1", "r", "CreateResourceShare");
        let mut n = 1;
        while let Some(next) = d.again() {
            assert_eq!(next.attempt, d.attempt + 1);
            d = next;
            n += 1;
        }
        assert_eq!(n, MAX_ATTEMPTS);
    }

    #[test]
    fn the_window_is_a_whole_number_of_seconds_sqs_can_delay() {
        assert_eq!(window_seconds(None), Ok(60));
        assert_eq!(window_seconds(Some(" ")), Ok(60));
        assert_eq!(window_seconds(Some("5")), Ok(5));
        assert_eq!(window_seconds(Some("900")), Ok(900));
        for bad in ["0", "901", "-1", "a minute"] {
            assert!(window_seconds(Some(bad)).is_err(), "{bad}");
        }
    }
}
