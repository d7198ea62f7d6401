//! Bounding text: every string ramguard echoes or sends (error messages, annotations, finding
//! fields) is cut to the limit of where it goes, one way.

/// `text` cut to `max` characters, marked with `…` when cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_within_the_limit_is_kept_and_longer_text_is_cut_and_marked() {
        assert_eq!(bounded("abc", 3), "abc");
        assert_eq!(bounded("abcd", 3), "ab…");
        assert_eq!(bounded("ééé", 2), "é…");
        assert_eq!(bounded("abc", 0), "…");
    }
}
