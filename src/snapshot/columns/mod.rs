//! Column sets the number parser writes `nodes` and `edges` values into: one field per vector,
//! but an edge's type and name share one 3-byte slot (`PackedEdges`). Each block grows the
//! columns by its whole records; every parallel region writes its own slice of them (the
//! `NodeSink`, `EdgeSink` and `LocationSink` of each file).
//!
//! One file per section: `nodes`, `edges`, `locations`; what they share (growing a column with
//! its pages populated, range checks, the reciprocal divisor) is here, and with it the only
//! `unsafe` of the loader's columns ([`populate`]'s system call).

mod edges;
mod flat;
mod locations;
mod nodes;

pub use edges::{EdgeColumns, EdgeField};
pub use flat::FlatColumns;
pub use locations::{LocationColumns, NOT_A_NODE};
pub use nodes::{NodeColumns, NodeField};

/// Grows `column` by `records` zeros when the layout has its field; returns the new tail.
pub(super) fn grow<T: Copy + Default + Send>(
    column: &mut Vec<T>,
    present: bool,
    records: usize,
) -> &mut [T] {
    if !present {
        return &mut [];
    }
    let from = column.len();
    extend_zeroed(column, records);
    &mut column[from..]
}

/// Appends `records` default values (zeros) to `column`, its new pages populated and zeroed on
/// all cores: a block's columns grow by megabytes, and one thread zeroing them while the
/// others waited was a sequential part of every block.
#[allow(unsafe_code)] // set_len once every new element is written; see the SAFETY comment
pub fn extend_zeroed<T: Copy + Default + Send>(column: &mut Vec<T>, records: usize) {
    use rayon::prelude::*;
    const CHUNK_BYTES: usize = 1 << 20;
    let from = column.len();
    column.reserve(records);
    // A column in huge pages (see `mem::advise_huge`) faults 2 MiB at a time: populating it a
    // megabyte per thread only makes two threads wait on one page.
    let huge = crate::mem::wants_huge_pages(column.capacity() * std::mem::size_of::<T>());
    let per_chunk = (CHUNK_BYTES / std::mem::size_of::<T>().max(1)).max(1);
    column.spare_capacity_mut()[..records]
        .par_chunks_mut(if huge { 2 * per_chunk } else { per_chunk })
        .for_each(|chunk| {
            if !huge {
                populate(chunk);
            }
            chunk.fill(std::mem::MaybeUninit::new(T::default()));
        });
    // SAFETY: `reserve` made room for `records` more elements and the loop above wrote every
    // one of them (the chunks cover `spare_capacity_mut()[..records]` exactly).
    unsafe { column.set_len(from + records) };
}

/// Backs `memory` with pages in one system call before it is written: a block's columns are
/// megabytes, and faulting them in a page at a time costs a trap per 4 KB.
#[allow(unsafe_code)] // madvise is a system call; see the SAFETY comment
pub fn populate<T>(memory: &[std::mem::MaybeUninit<T>]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let start = memory.as_ptr() as usize;
        let end = start + std::mem::size_of_val(memory);
        let (first, last) = (start.next_multiple_of(PAGE), end / PAGE * PAGE);
        if last > first {
            // SAFETY: the range lies inside `memory`, the vector's own spare capacity, and
            // MADV_POPULATE_WRITE only allocates the pages behind it: it never changes what
            // the memory holds (a kernel without it refuses the advice, which is harmless).
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_POPULATE_WRITE,
                );
            }
        }
    }
}

pub(super) fn narrow<T: TryFrom<u64>>(
    v: u64,
    what: &str,
    record: u64,
    kind: &str,
) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{kind} {record}: {what} {v} is out of range"))
}

/// Exact division by the node field count, without a hardware divide for the values that
/// matter (below 2^32, every real `to_node`): one multiplication by a precomputed reciprocal
/// (Lemire, Kaser & Kurz, "Faster remainder by direct computation", 2019).
#[derive(Clone, Copy)]
pub struct Divisor {
    d: u64,
    /// ceil(2^64 / d); 0 when d is 0 or 1 (handled apart).
    m: u64,
}

impl Divisor {
    pub fn new(d: u64) -> Divisor {
        let m = if d > 1 { u64::MAX / d + 1 } else { 0 };
        Divisor { d, m }
    }

    /// `v / d` when `d` divides `v`.
    #[inline(always)]
    pub fn divide(self, v: u64) -> Option<u64> {
        if self.d <= 1 {
            return (self.d == 1).then_some(v);
        }
        if v <= u64::from(u32::MAX) {
            let q = ((u128::from(self.m) * u128::from(v)) >> 64) as u64;
            return (q * self.d == v).then_some(q);
        }
        v.is_multiple_of(self.d).then(|| v / self.d)
    }
}

#[cfg(test)]
mod tests {
    use super::Divisor;

    #[test]
    fn reciprocal_division_is_exact() {
        for d in [1u64, 2, 3, 6, 7, 8, 13, 1000] {
            let div = Divisor::new(d);
            let probes = (0..10_000u64)
                .chain((u32::MAX as u64 - 10_000)..=(u32::MAX as u64 + 10_000))
                .chain([u64::MAX, u64::MAX - 1, u64::MAX / 7 * 7]);
            for v in probes {
                let want = v.is_multiple_of(d).then(|| v / d);
                assert_eq!(div.divide(v), want, "{v} / {d}");
            }
        }
        assert_eq!(Divisor::new(0).divide(5), None);
    }
}
