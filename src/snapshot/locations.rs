//! The source locations of nodes, stored by what they share.
//!
//! Most located nodes are closures, and every closure made from one function literal has that
//! literal's location: the 943 MB scale snapshot has 3 million locations but 2,318 distinct ones.
//! So each distinct `(script, line, column)` is kept once, each located node holds its index, and
//! which nodes are located is a bitmap with rank samples. That is 4 bytes per location and 1/8
//! per node, where a plain `Location` array takes 16 bytes per location (48 MB there, 14 MB here).

use rayon::prelude::*;

use super::Location;

/// Bitmap words per rank sample.
const WORDS_PER_SAMPLE: usize = 8;

/// Numbers the distinct `(script, line, column)` of `locations` in order of first appearance:
/// the keys in that order, and each location's number.
///
/// By sorting, not hashing: the keys are the file's own numbers, so a hash map would need a
/// keyed hash (SipHash) against crafted collisions, and its look-ups miss the cache once there
/// are hundreds of thousands of functions. The 9.75 M locations (800 K distinct) of the 4.66 GB
/// synthetic snapshot took 1.8 s so, 0.7 s with these two sorts on all cores; a sort's time
/// does not depend on the values.
fn number_distinct(locations: &[Location]) -> (Vec<[u32; 3]>, Vec<u32>) {
    // Each location's key above its position: once sorted, a key's locations are one run,
    // ascending by position, so a run's first entry is where the key first appears.
    let mut order: Vec<u128> = locations
        .par_iter()
        .enumerate()
        .map(|(at, l)| {
            u128::from(l.script_id) << 96
                | u128::from(l.line) << 64
                | u128::from(l.column) << 32
                | at as u128
        })
        .collect();
    order.par_sort_unstable();
    let runs = || order.chunk_by(|a, b| a >> 32 == b >> 32);
    // `(first position, run)` of every run, runs counted in key order; sorted, the runs in
    // order of first appearance.
    let mut firsts: Vec<u64> = runs()
        .enumerate()
        .map(|(run, r)| u64::from(r[0] as u32) << 32 | run as u64)
        .collect();
    firsts.par_sort_unstable();
    let mut number_of_run = vec![0u32; firsts.len()];
    let mut distinct = Vec::with_capacity(firsts.len());
    for (number, &f) in firsts.iter().enumerate() {
        number_of_run[f as u32 as usize] = number as u32;
        let l = &locations[(f >> 32) as usize];
        distinct.push([l.script_id, l.line, l.column]);
    }
    drop(firsts);
    let mut which = vec![0u32; locations.len()];
    for (r, &number) in runs().zip(&number_of_run) {
        for &v in r {
            which[v as u32 as usize] = number;
        }
    }
    (distinct, which)
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
    /// Distinct locations are numbered in order of first appearance ([`number_distinct`]).
    pub fn new(node_count: usize, sorted: &[Location]) -> Locations {
        debug_assert!(sorted.windows(2).all(|w| w[0].node < w[1].node));
        let mut located = vec![0u64; node_count.div_ceil(64)];
        for l in sorted {
            located[l.node as usize / 64] |= 1 << (l.node % 64);
        }
        let (mut distinct, which) = number_distinct(sorted);
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

    /// Every node's location or `None`, for nodes 0, 1, 2, … in turn (one bit test per node:
    /// what a walk over every node reads, where [`Locations::iter`] would be peeked at each).
    pub fn by_node(&self) -> impl Iterator<Item = Option<Location>> + '_ {
        let mut which = self.which.iter();
        (0..self.located.len() as u64 * 64).map(move |node| {
            let located = self.located[node as usize / 64] & (1 << (node % 64)) != 0;
            // Located nodes are `which`'s entries in node order.
            located.then(|| self.at(node as u32, *which.next().unwrap_or(&0)))
        })
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
    fn distinct_locations_are_numbered_in_order_of_first_appearance() {
        let at = |node, script_id, line| Location {
            node,
            script_id,
            line,
            column: 7,
        };
        let locations = [
            at(0, 2, 9),
            at(1, 1, 50),
            at(2, 2, 9),
            at(3, 1, 3),
            at(4, 1, 50),
        ];
        let (distinct, which) = number_distinct(&locations);
        assert_eq!(distinct, vec![[2, 9, 7], [1, 50, 7], [1, 3, 7]]);
        assert_eq!(which, vec![0, 1, 0, 2, 1]);
        assert_eq!(number_distinct(&[]), (Vec::new(), Vec::new()));
    }

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
        let by_node: Vec<Location> = locations.by_node().flatten().collect();
        assert_eq!(by_node, sorted);
        for (node, l) in locations.by_node().enumerate() {
            assert_eq!(l, locations.get(node as u32), "node {node}");
        }
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
