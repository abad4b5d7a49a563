//! Memory hints for the random-access phases: prefetching.
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
