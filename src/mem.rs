//! Memory hints: prefetching for the random-access phases, and the allocator's handling of
//! large blocks.
//!
//! A multi-gigabyte graph does not fit in any cache, and on graphs without locality (a
//! synthetic heap whose edges point anywhere) every step of a walk waits for memory. Where the
//! walk knows what it will read next (the retainer lists of the nodes it will process, the
//! slots of their retainers) it asks for those lines early, so several misses are in flight at
//! once instead of one after another.

/// Asks the CPU to bring the cache line holding `slice[i]` closer. A hint only: an index past
/// the end is ignored, nothing is read, and the result never depends on it.
#[inline(always)]
#[allow(unsafe_code)] // the prefetch intrinsic is `unsafe` to call; see the SAFETY comment
pub fn prefetch<T>(slice: &[T], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if i < slice.len() {
        let p = slice.as_ptr().wrapping_add(i).cast::<i8>();
        // SAFETY: `prefetcht0` is a hint that never faults and has no architectural effect;
        // the address is inside `slice` anyway, and SSE is part of every x86_64 target.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p);
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (slice, i);
}

/// Lets every allocation of 1 MiB or more come from (and go back to) the system on its own.
///
/// glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), so the
/// analysis' temporaries of a few megabytes after the first large free are carved from the heap
/// and stay resident once freed, interleaved with what is kept. A fixed threshold returns them:
/// on a 142 MB out-of-memory snapshot (1.9 M small objects) `summary` peaked at 168 MB and
/// `diff` at 256 MB with the dynamic threshold, 151 and 230 MB with this one, at the same CPU
/// time. Front ends call it once at start-up (the library never changes process-wide settings
/// on its own).
#[allow(unsafe_code)] // mallopt is a libc call; see the SAFETY comment
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes a malloc tunable; glibc accepts it at any time, and a
        // refused value leaves the default in place.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        }
    }
}

/// Arrays smaller than this keep the kernel's default pages: a real heap's walks mostly stay
/// near where they were (V8 lays out neighbours together), and on the 1 GB scale pair huge
/// pages made `diff` slower (zeroing 2 MiB at a fault; 4.9 → 5.2 s), where its largest arrays
/// are ~200 MB. Past this size the TLB misses of a heap without locality win.
const HUGE_MIN_BYTES: usize = 256 << 20;

/// `n` copies of `value`, in memory the kernel may back with 2 MiB pages (transparent huge
/// pages, which Linux gives to regions that ask in its default `madvise` mode).
///
/// The analysis' walks read and write arrays of hundreds of megabytes at scattered places; with
/// 4 KiB pages nearly every such step also misses the TLB. On the 4.66 GB synthetic snapshot
/// (78 M nodes, no locality) huge pages behind these arrays and the edge columns took the
/// dominator tree from 13.8 to 10.0–11.3 s (loading its edges 0.5–1 s slower). A hint only:
/// where the kernel has no huge page to give (or refuses), the pages are the usual ones.
///
/// The copies are written on every free core: writing is what faults the pages in, and on
/// this VM (whose freed memory goes back to the host) a fault-in runs at about 0.5–1 GB/s, so
/// one thread took 1.5 s to fill the dominator tree's 938 MB of slots on that snapshot.
pub fn huge_vec<T: Clone + Send + Sync>(n: usize, value: T) -> Vec<T> {
    use rayon::prelude::*;
    let mut v = Vec::with_capacity(n);
    advise_huge(v.spare_capacity_mut());
    v.par_extend(rayon::iter::repeat_n(value, n));
    v
}

/// Whether [`advise_huge`] asks for huge pages behind an array of `bytes`.
pub fn wants_huge_pages(bytes: usize) -> bool {
    cfg!(target_os = "linux") && bytes >= HUGE_MIN_BYTES
}

/// Asks for huge pages behind `memory` (not yet written: pages already touched keep their size).
#[allow(unsafe_code)] // madvise is a system call; see the SAFETY comment
pub fn advise_huge<T>(memory: &[std::mem::MaybeUninit<T>]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = std::mem::size_of_val(memory);
        if !wants_huge_pages(bytes) {
            return;
        }
        let start = memory.as_ptr() as usize;
        let (first, last) = (start.next_multiple_of(HUGE), (start + bytes) / HUGE * HUGE);
        if last > first {
            // SAFETY: the range lies inside `memory`, the vector's own spare capacity, and
            // MADV_HUGEPAGE only changes the size of the pages that will back it, never what
            // the memory holds (a kernel without transparent huge pages refuses, harmlessly).
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = memory;
}
