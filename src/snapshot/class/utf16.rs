//! UTF-16 helpers: DevTools compares and measures strings as JavaScript does, in UTF-16 code
//! units, which differs from Rust's code points for names outside the BMP.

use std::cmp::Ordering;

/// Length in UTF-16 code units (JavaScript's `length`).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

/// JavaScript's string order (UTF-16 code units), which differs from Rust's (code points) when
/// characters U+E000..U+FFFF meet characters above U+FFFF.
pub fn cmp_utf16(a: &str, b: &str) -> Ordering {
    // Order-preserving map of a code point onto its first UTF-16 unit's rank.
    fn rank(c: char) -> u32 {
        match c as u32 {
            x @ 0..=0xD7FF => x,
            x @ 0xE000..=0xFFFF => x + 0x10_0000,
            x => 0xD800 + (x - 0x1_0000),
        }
    }
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let common = ab.iter().zip(bb).take_while(|(x, y)| x == y).count();
    if common == ab.len() || common == bb.len() {
        return ab.len().cmp(&bb.len());
    }
    // Back up to the start of the differing characters.
    let mut start = common;
    while !a.is_char_boundary(start) {
        start -= 1;
    }
    match (a[start..].chars().next(), b[start..].chars().next()) {
        (Some(x), Some(y)) => rank(x).cmp(&rank(y)),
        _ => ab.len().cmp(&bb.len()),
    }
}
