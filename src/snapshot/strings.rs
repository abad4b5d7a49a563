//! The snapshot's string table, interned once: one byte buffer and an offset per string.
//! Offsets are `u64` because a 4 GB snapshot's string table can exceed 2^32 bytes.

#[derive(Debug)]
pub struct Strings {
    /// Concatenated strings. Invariant: every `offsets[i]..offsets[i + 1]` range is valid UTF-8
    /// (checked when the string is added), which is what makes [`Strings::get`] sound.
    bytes: Vec<u8>,
    /// `len() + 1` offsets into `bytes`.
    offsets: Vec<u64>,
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
            offsets: vec![0],
        }
    }

    pub fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        self.offsets.push(self.bytes.len() as u64);
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
        self.offsets.push(self.bytes.len() as u64);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
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
        self.offsets.shrink_to_fit();
    }

    /// The string at `index`; the empty string for an index past the end (the loader validates
    /// every index it stores, so this only guards hand-built snapshots).
    #[allow(unsafe_code)] // the hottest read of the engine skips a second UTF-8 check; see SAFETY
    pub fn get(&self, index: u32) -> &str {
        let i = index as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => {
                let range = &self.bytes[a as usize..b as usize];
                // SAFETY: `push` and `push_with` only ever add valid UTF-8 ranges, and offsets
                // are only ever appended at those boundaries.
                unsafe { std::str::from_utf8_unchecked(range) }
            }
            _ => "",
        }
    }

    /// Index of the first string equal to `s` (linear; for tests and one-off look-ups).
    pub fn find(&self, s: &str) -> Option<u32> {
        (0..self.len() as u32).find(|&i| self.get(i) == s)
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.offsets.capacity() * 8
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
}
