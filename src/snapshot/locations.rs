//! The source locations of nodes, stored by what they share.
//!
//! Most located nodes are closures, and every closure made from one function literal has that
//! literal's location: the 943 MB scale snapshot has 3 million locations but 2,318 distinct ones.
//! So each distinct `(script, line, column)` is kept once, each located node holds its index, and
//! which nodes are located is a bitmap with rank samples. That is 4 bytes per location and 1/8
//! per node, where a plain `Location` array takes 16 bytes per location (48 MB there, 14 MB here).

use std::collections::HashMap;

use rayon::prelude::*;

use super::Location;

/// Bitmap words per rank sample.
const WORDS_PER_SAMPLE: usize = 8;

/// Entries of the look-up cache in [`Locations::new`] (a power of two).
const RECENT: usize = 4096;

fn recent_slot([script, line, column]: [u32; 3]) -> usize {
    let h = (u64::from(script) << 40 ^ u64::from(line) << 20 ^ u64::from(column))
        .wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> (64 - RECENT.trailing_zeros())) as usize
}

/// Numbers the distinct `(script, line, column)` of `locations` in order of first appearance:
/// the keys in that order, and each location's number.
fn number_distinct(locations: &[Location]) -> (Vec<[u32; 3]>, Vec<u32>) {
    // The map hashes with SipHash, as the keys come from the file; a small direct-mapped cache
    // in front of it answers most look-ups (closures of a few thousand functions) with one
    // multiply, where a collision only costs a trip to the map.
    let mut index: HashMap<[u32; 3], u32> = HashMap::new();
    let mut recent: Vec<Option<([u32; 3], u32)>> = vec![None; RECENT];
    let mut keys = Vec::new();
    let which = locations
        .iter()
        .map(|l| {
            let key = [l.script_id, l.line, l.column];
            let slot = &mut recent[recent_slot(key)];
            match *slot {
                Some((k, i)) if k == key => i,
                _ => {
                    let i = *index.entry(key).or_insert_with(|| {
                        keys.push(key);
                        keys.len() as u32 - 1
                    });
                    *slot = Some((key, i));
                    i
                }
            }
        })
        .collect();
    (keys, which)
}

#[derive(Debug, Default)]
pub struct Locations {
    /// Bit `n` is set when node `n` has a location.
    located: Vec<u64>,
    /// `rank[s]`: located nodes before word `s * WORDS_PER_SAMPLE`.
    rank: Vec<u32>,
    /// Index into `distinct` of every located node, in node order.
    which: Vec<u32>,
    /// `(script_id, line, column)`, each once.
    distinct: Vec<[u32; 3]>,
}

impl Locations {
    /// From locations sorted by node, at most one per node, every node below `node_count`.
    ///
    /// Distinct locations are numbered in order of first appearance. A heap of many functions
    /// has hundreds of thousands, and a look-up each is a miss: the locations are split into
    /// one part per core, each numbers its own, and the parts' numbers are then merged in
    /// order (which keeps the first-appearance order of the whole).
    pub fn new(node_count: usize, sorted: &[Location]) -> Locations {
        debug_assert!(sorted.windows(2).all(|w| w[0].node < w[1].node));
        let mut located = vec![0u64; node_count.div_ceil(64)];
        for l in sorted {
            located[l.node as usize / 64] |= 1 << (l.node % 64);
        }
        let part = sorted
            .len()
            .div_ceil(rayon::current_num_threads().max(1))
            .max(1);
        let parts: Vec<(Vec<[u32; 3]>, Vec<u32>)> =
            sorted.par_chunks(part).map(number_distinct).collect();
        let mut index: HashMap<[u32; 3], u32> = HashMap::new();
        let mut distinct = Vec::new();
        let global: Vec<Vec<u32>> = parts
            .iter()
            .map(|(keys, _)| {
                keys.iter()
                    .map(|&key| {
                        *index.entry(key).or_insert_with(|| {
                            distinct.push(key);
                            distinct.len() as u32 - 1
                        })
                    })
                    .collect()
            })
            .collect();
        drop(index);
        let mut which = Vec::with_capacity(sorted.len());
        for ((_, local), global) in parts.iter().zip(&global) {
            which.extend(local.iter().map(|&i| global[i as usize]));
        }
        let mut rank = Vec::with_capacity(located.len().div_ceil(WORDS_PER_SAMPLE));
        let mut before = 0u32;
        for words in located.chunks(WORDS_PER_SAMPLE) {
            rank.push(before);
            before += words.iter().map(|w| w.count_ones()).sum::<u32>();
        }
        distinct.shrink_to_fit();
        Locations {
            located,
            rank,
            which,
            distinct,
        }
    }

    /// The location of `node`, if it has one.
    pub fn get(&self, node: u32) -> Option<Location> {
        let (word, bit) = (node as usize / 64, node % 64);
        let w = *self.located.get(word)?;
        if w & (1 << bit) == 0 {
            return None;
        }
        let sample = word / WORDS_PER_SAMPLE;
        let before: u32 = self.located[sample * WORDS_PER_SAMPLE..word]
            .iter()
            .map(|w| w.count_ones())
            .sum();
        let i = self.rank[sample] + before + (w & ((1 << bit) - 1)).count_ones();
        Some(self.at(node, self.which[i as usize]))
    }

    fn at(&self, node: u32, which: u32) -> Location {
        let [script_id, line, column] = self.distinct[which as usize];
        Location {
            node,
            script_id,
            line,
            column,
        }
    }

    /// Every location, in node order.
    pub fn iter(&self) -> impl Iterator<Item = Location> + '_ {
        let nodes = self.located.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let bit = w.trailing_zeros();
                    w &= w - 1;
                    (i * 64) as u32 + bit
                })
            })
        });
        nodes
            .zip(&self.which)
            .map(|(node, &which)| self.at(node, which))
    }

    /// Number of located nodes.
    pub fn len(&self) -> usize {
        self.which.len()
    }

    /// Number of distinct `(script, line, column)`.
    pub fn distinct_len(&self) -> usize {
        self.distinct.len()
    }

    pub fn is_empty(&self) -> bool {
        self.which.is_empty()
    }

    pub fn heap_bytes(&self) -> usize {
        self.located.capacity() * 8
            + self.rank.capacity() * 4
            + self.which.capacity() * 4
            + self.distinct.capacity() * 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_node_gets_back_its_location() {
        let n = 5000u32;
        // Located nodes spread over many words and samples; locations repeat.
        let sorted: Vec<Location> = (0..n)
            .filter(|v| v % 3 == 0 || v % 7 == 1 || *v == n - 1)
            .map(|node| Location {
                node,
                script_id: node % 5,
                line: node % 11,
                column: node % 2,
            })
            .collect();
        let locations = Locations::new(n as usize, &sorted);
        assert_eq!(locations.len(), sorted.len());
        assert!(locations.distinct.len() <= 5 * 11 * 2);
        assert_eq!(locations.iter().collect::<Vec<_>>(), sorted);
        for node in 0..n + 70 {
            let want = sorted.iter().find(|l| l.node == node).copied();
            assert_eq!(locations.get(node), want, "node {node}");
        }
        assert!(Locations::new(10, &[]).get(3).is_none());
        // The all-ones key is a key like any other.
        let max = Location {
            node: 2,
            script_id: u32::MAX,
            line: u32::MAX,
            column: u32::MAX,
        };
        assert_eq!(Locations::new(3, &[max]).get(2), Some(max));
        assert!(Locations::default().get(0).is_none());
    }
}
