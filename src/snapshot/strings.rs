//! The snapshot's string table, interned once: one byte buffer and an offset per string.
//! Offsets are `u64` because a 4 GB snapshot's string table can exceed 2^32 bytes.

#[derive(Debug, Default)]
pub struct Strings {
    bytes: String,
    /// `len() + 1` offsets into `bytes`.
    offsets: Vec<u64>,
}

impl Strings {
    pub fn new() -> Strings {
        Strings {
            bytes: String::new(),
            offsets: vec![0],
        }
    }

    pub fn push(&mut self, s: &str) {
        self.bytes.push_str(s);
        self.offsets.push(self.bytes.len() as u64);
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The string at `index`; the empty string for an index past the end (the loader validates
    /// every index it stores, so this only guards hand-built snapshots).
    pub fn get(&self, index: u32) -> &str {
        let i = index as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.bytes[a as usize..b as usize],
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
