//! The snapshot's string table, interned once: one byte buffer and where each string ends.
//!
//! A 4 GB snapshot's string table can exceed 2^32 bytes, but an end offset per string in 8
//! bytes costs 79 MB for the 9.85 M strings of a 4.66 GB snapshot: each end is kept in 4 bytes
//! (its low 32 bits), and the few strings where the high bits change are listed apart.

#[derive(Debug)]
pub struct Strings {
    /// Concatenated strings. Invariant: every string's range is valid UTF-8 (checked when the
    /// string is added), which is what makes [`Strings::get`] sound.
    bytes: Vec<u8>,
    /// The low 32 bits of each string's end offset in `bytes`.
    ends: Vec<u32>,
    /// `(first string, high bits)`: from that string on (until the next entry), ends have these
    /// high 32 bits; ascending, and empty while the table is under 4 GiB.
    high: Vec<(u32, u32)>,
}

impl Default for Strings {
    fn default() -> Strings {
        Strings::new()
    }
}

impl Strings {
    pub fn new() -> Strings {
        Strings {
            bytes: Vec::new(),
            ends: Vec::new(),
            high: Vec::new(),
        }
    }

    /// Records the end of a string just appended to `bytes`.
    fn end_string(&mut self) {
        let end = self.bytes.len() as u64;
        let high = (end >> 32) as u32;
        if high != self.high.last().map_or(0, |h| h.1) {
            self.high.push((self.ends.len() as u32, high));
        }
        self.ends.push(end as u32);
    }

    /// Where string `i` ends (`i` must be a string).
    #[inline]
    fn end(&self, i: usize) -> usize {
        let high = match self.high.as_slice() {
            [] => 0,
            high => {
                let at = high.partition_point(|h| h.0 as usize <= i);
                if at == 0 { 0 } else { high[at - 1].1 }
            }
        };
        ((u64::from(high) << 32) | u64::from(self.ends[i])) as usize
    }

    pub fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.end_string();
    }

    /// Adds a string whose bytes `fill` appends straight into the table (the loader decodes JSON
    /// this way, so a huge string is never copied). Invalid UTF-8 is replaced by U+FFFD; on an
    /// error nothing is added.
    pub fn push_with<E>(
        &mut self,
        fill: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
    ) -> Result<(), E> {
        let start = self.bytes.len();
        if let Err(e) = fill(&mut self.bytes) {
            self.bytes.truncate(start);
            return Err(e);
        }
        if std::str::from_utf8(&self.bytes[start..]).is_err() {
            let fixed = String::from_utf8_lossy(&self.bytes[start..]).into_owned();
            self.bytes.truncate(start);
            self.bytes.extend_from_slice(fixed.as_bytes());
        }
        self.end_string();
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total bytes of all strings.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Gives back spare capacity once the table is complete.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// The string at `index`; the empty string for an index past the end (the loader validates
    /// every index it stores, so this only guards hand-built snapshots).
    #[allow(unsafe_code)] // the hottest read of the engine skips a second UTF-8 check; see SAFETY
    pub fn get(&self, index: u32) -> &str {
        let i = index as usize;
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.end(i - 1) };
        let range = &self.bytes[start..self.end(i)];
        // SAFETY: `push` and `push_with` only ever add valid UTF-8 ranges, and ends are only
        // ever recorded at those boundaries.
        unsafe { std::str::from_utf8_unchecked(range) }
    }

    /// Index of the first string equal to `s` (linear; for tests and one-off look-ups).
    pub fn find(&self, s: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&i| self.get(i) == s)
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * 4 + self.high.capacity() * 8
    }
}

impl FromIterator<String> for Strings {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Strings {
        let mut s = Strings::new();
        for x in iter {
            s.push(&x);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_utf8_is_replaced_and_errors_add_nothing() {
        let mut s = Strings::new();
        s.push("a");
        s.push_with(|b| {
            b.extend_from_slice(b"x\xffy");
            Ok::<(), ()>(())
        })
        .unwrap();
        assert!(
            s.push_with(|b| {
                b.extend_from_slice(b"partial");
                Err(())
            })
            .is_err()
        );
        s.push("z");
        assert_eq!(s.len(), 3);
        assert_eq!(s.get(0), "a");
        assert_eq!(s.get(1), "x\u{fffd}y");
        assert_eq!(s.get(2), "z");
        assert_eq!(s.get(3), "");
    }

    /// Ends past 4 GiB keep their high bits apart; a string spanning the boundary and strings
    /// after it read back whole. (The bytes are faked: only the offsets are under test.)
    #[test]
    fn ends_past_four_gibibytes() {
        let mut s = Strings::new();
        let mut ends = Vec::new();
        for end in [3u64, 1 << 32, (1 << 32) + 5, (3 << 32) + 1, (3 << 32) + 9] {
            // Record the end as `end_string` would, without 12 GiB of bytes.
            let high = (end >> 32) as u32;
            if high != s.high.last().map_or(0, |h| h.1) {
                s.high.push((s.ends.len() as u32, high));
            }
            s.ends.push(end as u32);
            ends.push(end as usize);
        }
        for (i, &end) in ends.iter().enumerate() {
            assert_eq!(s.end(i), end, "string {i}");
        }
    }
}
