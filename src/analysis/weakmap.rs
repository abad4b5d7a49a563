//! WeakMap ephemeron edge names.
//!
//! V8 names the two internal edges that keep a WeakMap value alive (one from the key, one from the
//! table) `"<n> / part of key (<k> @<id>) -> value (<v> @<id>) pair in WeakMap (table @<id>)"`.
//! DevTools recognises them with a regular expression (`tryParseWeakMapEdgeName` in
//! HeapSnapshot.ts) and uses the match in two rules: the distance BFS only follows the second edge
//! of each pair, and the dominator tree ignores the edge coming from the table itself. This module
//! matches the same language without a regex engine.

use rayon::prelude::*;

use crate::snapshot::Snapshot;

/// The parts of a WeakMap edge name that DevTools uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WeakMapEdgeName<'a> {
    /// Everything after the leading decimal number; both edges of a pair share it.
    pub duplicated_part: &'a str,
    /// The table's node id as written in the name (decimal digits).
    pub table_id: &'a str,
}

const PREFIX: &str = " / part of key (";
const MIDDLE: &str = ") -> value (";
const SUFFIX: &str = " pair in WeakMap (table @";

/// JavaScript's `.` does not match line terminators; the pattern's `.*?` parts therefore cannot
/// span one, and no literal part contains one, so a name containing any is never a match.
fn has_line_terminator(s: &str) -> bool {
    s.contains(['\n', '\r', '\u{2028}', '\u{2029}'])
}

fn ascii_digits_prefix(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

fn ascii_digits_suffix(s: &str) -> usize {
    s.bytes().rev().take_while(u8::is_ascii_digit).count()
}

/// True when `s` ends with `" @" <one or more ASCII digits>` (the `@<id>` after a key or value).
fn ends_with_at_id(s: &str) -> bool {
    let d = ascii_digits_suffix(s);
    d > 0 && s[..s.len() - d].ends_with(" @")
}

/// Parses a WeakMap edge name exactly as DevTools' anchored pattern
/// `^\d+( / part of key \(.*? @\d+\) -> value \(.*? @\d+\) pair in WeakMap \(table @(\d+)\))$`
/// would: both anchors make the captured groups unique, so only existence of a split matters.
pub fn parse(name: &str) -> Option<WeakMapEdgeName<'_>> {
    let lead = ascii_digits_prefix(name);
    if lead == 0 || has_line_terminator(name) {
        return None;
    }
    let dup = &name[lead..];
    let rest = dup.strip_prefix(PREFIX)?;
    let body = rest.strip_suffix(')')?;
    let table_digits = ascii_digits_suffix(body);
    if table_digits == 0 {
        return None;
    }
    let table_id = &body[body.len() - table_digits..];
    // `middle` is `<key> @<id>) -> value (<value> @<id>)`.
    let middle = body[..body.len() - table_digits].strip_suffix(SUFFIX)?;
    let value_part = middle.strip_suffix(')')?;
    if !ends_with_at_id(value_part) {
        return None;
    }
    let value_digits = ascii_digits_suffix(value_part);
    // Drop the value's ` @<id>`: what is left must contain `<key> @<id>) -> value (` with any
    // key and value text around it.
    let head = &value_part[..value_part.len() - value_digits - 2];
    let found = head
        .match_indices(MIDDLE)
        .any(|(at, _)| ends_with_at_id(&head[..at]));
    found.then_some(WeakMapEdgeName {
        duplicated_part: dup,
        table_id,
    })
}

/// One bit per string of the table: set when the string parses as a WeakMap edge name. Computing
/// it once keeps the per-edge test (millions of internal edges) to a bit lookup.
pub struct WeakMapNames {
    bits: Vec<u64>,
}

impl WeakMapNames {
    pub fn new(snap: &Snapshot) -> WeakMapNames {
        let count = snap.strings.len();
        let bits = (0..count.div_ceil(64))
            .into_par_iter()
            .with_min_len(256)
            .map(|word| {
                let mut bits = 0u64;
                for i in word * 64..(word * 64 + 64).min(count) {
                    let s = snap.strings.get(i as u32);
                    // Cheap pre-check: every match starts with a digit.
                    if s.as_bytes().first().is_some_and(u8::is_ascii_digit) && parse(s).is_some() {
                        bits |= 1 << (i % 64);
                    }
                }
                bits
            })
            .collect();
        WeakMapNames { bits }
    }

    /// Whether string `index` is a WeakMap edge name.
    pub fn contains(&self, index: u32) -> bool {
        let i = index as usize;
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// The parsed name of `edge` when it is an internal edge with a WeakMap name (DevTools only
    /// tests internal edges).
    pub fn edge<'a>(&self, snap: &'a Snapshot, edge: u32) -> Option<WeakMapEdgeName<'a>> {
        use crate::snapshot::EdgeKind;
        if snap.edge_kind(edge) != EdgeKind::Internal {
            return None;
        }
        let name = snap.edge_name_index(edge);
        if !self.contains(name) {
            return None;
        }
        parse(snap.strings.get(name))
    }
}

/// `parseInt(s, 10)` of JavaScript: optional leading whitespace and sign, then the longest run of
/// ASCII digits; `None` for NaN. Values beyond `i64` saturate (only compared, never stored).
pub fn js_parse_int(s: &str) -> Option<i64> {
    let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = ascii_digits_prefix(t);
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for b in t[..digits].bytes() {
        v = v.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    Some(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_weakmap_names() {
        let n = "12 / part of key (Object @3) -> value (Array @5) pair in WeakMap (table @77)";
        let m = parse(n).map(|m| (m.duplicated_part, m.table_id));
        assert_eq!(m, Some((&n[2..], "77")));
        // Key and value text may contain the delimiters themselves.
        let n =
            "1 / part of key (a @1) -> value (b @2) @3) -> value (c @4) pair in WeakMap (table @9)";
        assert!(parse(n).is_some());
        for bad in [
            "x / part of key (a @1) -> value (b @2) pair in WeakMap (table @9)",
            "1 / part of key (a @1) -> value (b @x) pair in WeakMap (table @9)",
            "1 / part of key (a @) -> value (b @2) pair in WeakMap (table @9)",
            "1 / part of key (a\n @1) -> value (b @2) pair in WeakMap (table @9)",
            "1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @9) ",
            "1 / part of key (a @1) -> value (b @2) pair in WeakMap (table @)",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn parse_int_like_javascript() {
        assert_eq!(js_parse_int("12abc"), Some(12));
        assert_eq!(js_parse_int("  -7"), Some(-7));
        assert_eq!(js_parse_int("abc"), None);
        assert_eq!(js_parse_int(""), None);
    }
}
