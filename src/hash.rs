//! A fast hasher for the engine's integer keys (node ordinals, string and class indexes).
//!
//! The default SipHash costs more than the work it guards in the hot maps (class naming, leak
//! grouping). The keys are indexes the loader assigned, not text an adversary picks freely;
//! a crafted file could at worst make one load slower, never wrong.

use std::collections::{HashMap, HashSet};

/// A multiplicative hasher (FxHash's recipe): one rotate, xor and multiply per word.
#[derive(Clone, Copy, Default)]
pub struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;
pub type FxSet<K> = HashSet<K, std::hash::BuildHasherDefault<FxHasher>>;
