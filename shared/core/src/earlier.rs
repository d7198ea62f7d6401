//! The results AWS Config holds for the rule, kept compactly for one sweep: which shares were
//! judged and a digest of what was said of each. A sweep reports only the shares whose result
//! changed, and NOT_APPLICABLE for every share Config holds a result for that no longer exists.
//!
//! Config keeps a custom rule's result for a resource until the rule reports that resource again
//! or the results are deleted (results for resources deleted since stay until then:
//! https://docs.aws.amazon.com/config/latest/developerguide/deleting-evaluations-results.html),
//! which is both why unchanged results need not be sent again and why a deleted share's result
//! must be replaced.
//!
//! Memory: a share ARN is `arn:<partition>:ram:<Region>:<account>:resource-share/<UUID>` and all
//! of an account's shares in one Region have the same prefix, so each result is held as its
//! UUID (16 bytes) and a digest (8 bytes); an ARN of any other shape is held whole.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use crate::verdict::Compliance;

/// A digest of a result: its compliance and annotation.
pub fn digest(compliance: Compliance, annotation: &str) -> u64 {
    let mut h = DefaultHasher::new();
    compliance.as_str().hash(&mut h);
    annotation.hash(&mut h);
    h.finish()
}

/// The results Config held for the rule when the sweep began.
#[derive(Debug, Default)]
pub struct EarlierResults {
    /// `arn:…:resource-share/`, shared by the ARNs held as UUIDs.
    prefix: Option<String>,
    /// (UUID, digest), sorted by UUID once loading ends.
    by_uuid: Vec<(u128, u64)>,
    seen_uuid: Vec<bool>,
    /// ARNs not of the common shape: ARN → (digest, seen).
    other: HashMap<String, (u64, bool)>,
}

/// What the sweep should do with one share's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// Config holds this very result: nothing to send.
    Unchanged,
    /// New or changed: send it.
    Send,
}

fn share_prefix(arn: &str) -> Option<&str> {
    arn.find(":resource-share/")
        .map(|i| &arn[..i + ":resource-share/".len()])
}

/// A canonical (lowercase, hyphenated 8-4-4-4-12) UUID as a number; None for anything else, so
/// that the ARN is rebuilt exactly as it was.
fn uuid_value(id: &str) -> Option<u128> {
    let b = id.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut v: u128 = 0;
    for (i, &c) in b.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | u128::from(d);
    }
    Some(v)
}

fn uuid_text(v: u128) -> String {
    let hex = format!("{v:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl EarlierResults {
    /// No results yet; [`insert`](Self::insert) them, then [`seal`](Self::seal).
    pub fn new() -> EarlierResults {
        EarlierResults::default()
    }

    /// Number of results held.
    pub fn len(&self) -> usize {
        self.by_uuid.len() + self.other.len()
    }

    /// Whether Config holds no result for the rule.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn key(&self, arn: &str) -> Option<u128> {
        let prefix = self.prefix.as_deref()?;
        arn.strip_prefix(prefix).and_then(uuid_value)
    }

    /// Adds one result Config holds (while loading).
    pub fn insert(&mut self, arn: &str, compliance: Compliance, annotation: &str) {
        let d = digest(compliance, annotation);
        if self.prefix.is_none() {
            self.prefix = share_prefix(arn).map(str::to_string);
        }
        match self.key(arn) {
            Some(k) => self.by_uuid.push((k, d)),
            None => {
                self.other.insert(arn.to_string(), (d, false));
            }
        }
    }

    /// Ends loading: sorts the compact entries (a result listed twice keeps its first digest).
    pub fn seal(&mut self) {
        self.by_uuid.sort_by_key(|e| e.0);
        self.by_uuid.dedup_by_key(|e| e.0);
        self.seen_uuid = vec![false; self.by_uuid.len()];
        self.by_uuid.shrink_to_fit();
    }

    /// Marks the share as existing and says whether its verdict must be sent. A NON_COMPLIANT
    /// verdict is always sent: the results were read with GetComplianceDetailsByConfigRule, for
    /// which AWS documents no read-after-write consistency, so a read-back that lags behind a
    /// later PutEvaluations (a COMPLIANT result reported by the change path in between) must
    /// never keep a live exposure from being reported. Only COMPLIANT verdicts that match the
    /// read-back are left standing; a lagging read-back can then leave a stale NON_COMPLIANT
    /// result (a false alarm, never a hidden exposure) until the next sweep.
    pub fn observe(&mut self, arn: &str, compliance: Compliance, annotation: &str) -> Report {
        debug_assert_eq!(
            self.seen_uuid.len(),
            self.by_uuid.len(),
            "seal() before observe()"
        );
        let d = digest(compliance, annotation);
        let held = match self.key(arn) {
            Some(k) => match self.by_uuid.binary_search_by_key(&k, |e| e.0) {
                Ok(i) => {
                    self.seen_uuid[i] = true;
                    Some(self.by_uuid[i].1)
                }
                Err(_) => None,
            },
            None => self.other.get_mut(arn).map(|(held, seen)| {
                *seen = true;
                *held
            }),
        };
        if held == Some(d) && compliance != Compliance::NonCompliant {
            Report::Unchanged
        } else {
            Report::Send
        }
    }

    /// The ARNs Config holds a result for that no share observed answers: shares that no longer
    /// exist. Call once, after every page of shares was observed.
    pub fn unobserved(&self) -> impl Iterator<Item = String> + '_ {
        let prefix = self.prefix.clone().unwrap_or_default();
        self.by_uuid
            .iter()
            .zip(&self.seen_uuid)
            .filter(|(_, seen)| !**seen)
            .map(move |((k, _), _)| format!("{prefix}{}", uuid_text(*k)))
            .chain(
                self.other
                    .iter()
                    .filter(|(_, (_, seen))| !seen)
                    .map(|(arn, _)| arn.clone()),
            )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: &str = "arn:aws:ram:us-east-1:111111111111:resource-share/";

    fn arn(id: &str) -> String {
        format!("{P}{id}")
    }

    #[test]
    fn uuids_round_trip_and_other_ids_are_refused() {
        let id = "7ab63972-b505-4e2a-820d-6f5d3e0a1b2c";
        assert_eq!(uuid_text(uuid_value(id).unwrap()), id);
        assert_eq!(uuid_value("7AB63972-b505-4e2a-820d-6f5d3e0a1b2c"), None);
        assert_eq!(uuid_value("7ab63972b5054e2a820d6f5d3e0a1b2c"), None);
        assert_eq!(uuid_value("7ab63972-b505-4e2a-820d-6f5d3e0a1b2g"), None);
        assert_eq!(uuid_value("share-1"), None);
    }

    #[test]
    fn unchanged_results_are_not_sent_again_and_changed_ones_are() {
        let same = arn("00000000-0000-4000-8000-000000000001");
        let changed = arn("00000000-0000-4000-8000-000000000002");
        let mut e = EarlierResults::new();
        e.insert(&same, Compliance::Compliant, "");
        e.insert(&changed, Compliance::Compliant, "");
        e.seal();
        assert_eq!(
            e.observe(&same, Compliance::Compliant, ""),
            Report::Unchanged
        );
        assert_eq!(
            e.observe(&changed, Compliance::NonCompliant, "Outside: 999999999999"),
            Report::Send
        );
        let new = arn("00000000-0000-4000-8000-000000000003");
        assert_eq!(e.observe(&new, Compliance::Compliant, ""), Report::Send);
        assert_eq!(e.unobserved().count(), 0);
    }

    #[test]
    fn a_non_compliant_verdict_is_sent_even_when_the_read_back_holds_it() {
        // the read-back may lag behind a COMPLIANT result the change path reported since
        let a = arn("00000000-0000-4000-8000-000000000001");
        let mut e = EarlierResults::new();
        e.insert(&a, Compliance::NonCompliant, "Outside: 999999999999");
        e.seal();
        assert_eq!(
            e.observe(&a, Compliance::NonCompliant, "Outside: 999999999999"),
            Report::Send
        );
        assert_eq!(e.unobserved().count(), 0);
    }

    #[test]
    fn an_annotation_change_alone_is_sent() {
        let a = arn("00000000-0000-4000-8000-000000000001");
        let mut e = EarlierResults::new();
        e.insert(&a, Compliance::NonCompliant, "Outside: 999999999999");
        e.seal();
        assert_eq!(
            e.observe(&a, Compliance::NonCompliant, "Outside: 888888888888"),
            Report::Send
        );
    }

    #[test]
    fn results_of_shares_not_observed_are_listed_with_their_exact_arns() {
        let gone = arn("0a1b2c3d-0000-4000-8000-00000000abcd");
        let odd = "arn:aws:ram:us-east-1:111111111111:resource-share/Share-ONE".to_string();
        let other_region = "arn:aws:ram:eu-west-1:111111111111:resource-share/00000000-0000-4000-8000-000000000009".to_string();
        let kept = arn("00000000-0000-4000-8000-000000000001");
        let mut e = EarlierResults::new();
        for a in [&gone, &odd, &other_region, &kept] {
            e.insert(a, Compliance::Compliant, "");
        }
        e.seal();
        assert_eq!(e.len(), 4);
        e.observe(&kept, Compliance::Compliant, "");
        let mut left: Vec<String> = e.unobserved().collect();
        left.sort();
        let mut want = vec![gone, odd, other_region];
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn nothing_held_sends_everything() {
        let mut e = EarlierResults::new();
        e.seal();
        assert!(e.is_empty());
        assert_eq!(
            e.observe(
                &arn("00000000-0000-4000-8000-000000000001"),
                Compliance::Compliant,
                ""
            ),
            Report::Send
        );
        assert_eq!(e.unobserved().count(), 0);
    }
}
