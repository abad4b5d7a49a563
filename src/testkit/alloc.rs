//! A counting global allocator: the bytes a test binary holds now and at its peak, and an
//! optional limit past which allocations fail, so a runaway input ends one process with a
//! message instead of the machine's OOM killer ending everyone's builds.
//!
//! A binary opts in with
//! `#[global_allocator] static ALLOCATOR: heapdiff::testkit::alloc::Counting = Counting;`
//! and measures a stretch of work with [`Peak`].
//!
//! The only `unsafe` of the test support: implementing [`GlobalAlloc`] is an unsafe contract.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Forwards to the system allocator and counts what it hands out.
pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
static ON_REFUSE: OnceLock<fn()> = OnceLock::new();

/// Bytes allocated and not yet freed.
pub fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// From now on, refuse (return null for) any allocation that would take the bytes held past
/// `bytes`; the caller's allocation error handler then aborts naming the size.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// Runs `hook` each time an allocation is refused, before it fails. The hook runs inside the
/// allocator: it must not allocate (e.g. write saved bytes to an already open file).
pub fn on_refuse(hook: fn()) {
    let _ = ON_REFUSE.set(hook);
}

/// The peak of the bytes held since [`Peak::start`], above what was held then.
pub struct Peak {
    base: usize,
}

impl Peak {
    /// Starts measuring: the peak so far is forgotten.
    pub fn start() -> Peak {
        let base = current();
        PEAK.store(base, Ordering::Relaxed);
        Peak { base }
    }

    pub fn bytes(&self) -> usize {
        PEAK.load(Ordering::Relaxed).saturating_sub(self.base)
    }
}

/// Whether `more` bytes would take the count past the limit; runs the refusal hook if so.
fn refused(more: usize) -> bool {
    let over = current().saturating_add(more) > LIMIT.load(Ordering::Relaxed);
    if over && let Some(hook) = ON_REFUSE.get() {
        hook();
    }
    over
}

fn grew(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's own arguments, so `System`'s
// guarantees are the caller's; refusing returns null, which `GlobalAlloc` allows for failure.
// The counters are plain atomics and never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if refused(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: `layout` comes from the caller, who upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator, that is by `System`, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if refused(new_size.saturating_sub(layout.size())) {
            return std::ptr::null_mut();
        }
        // SAFETY: `ptr` was allocated by `System` with `layout`; `new_size` is the caller's,
        // who upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}
