//! A two-stage pipeline over numbered batches: a second core fills batches a few ahead while
//! the caller consumes them in order.
//!
//! The dominator tree's second phase gathers the retainers of a batch of nodes (independent
//! reads, on any core) and then processes them (one sequential chain). Handing each batch over
//! at a `rayon::join` made both sides wait for the slower one at every batch and paid a
//! thread wake-up per batch (on the 78 M-node synthetic heap: 19 K joins, 7.5 s where the two
//! sides took 5.0 and 5.7 s). Here the filler runs freely up to [`DEPTH`] batches ahead, and
//! whichever side gets to a batch first fills it: when no core is free (the other is busy with
//! the other snapshot of a pair) the caller fills every batch itself and nothing waits, and
//! when the filler is slower, the caller fills the batches after the one it waits for.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Batches filled ahead of the one being consumed, at most.
const DEPTH: usize = 4;

/// Runs `consume(b, batch)` for `b` in `0..batches`, in order, each after `fill(b, batch)`;
/// `fill` runs on another core when one is free. `consume` returns false to stop early
/// (cancelled); the result says whether every batch was consumed.
pub fn pipelined<S: Default + Send>(
    batches: usize,
    fill: impl Fn(usize, &mut S) + Sync,
    mut consume: impl FnMut(usize, &mut S) -> bool + Send,
) -> bool {
    let ring: Vec<Mutex<S>> = (0..DEPTH.min(batches)).map(|_| Mutex::default()).collect();
    // `ready[b % DEPTH]` is `b + 1` once batch b is filled.
    let ready: Vec<AtomicUsize> = (0..ring.len()).map(|_| AtomicUsize::new(0)).collect();
    // The next batch nobody has started to fill; the batches consumed so far.
    let claimed = AtomicUsize::new(0);
    let consumed = AtomicUsize::new(0);
    // Set when either side returns or unwinds: neither waits on a side that is gone.
    let consumer_done = AtomicBool::new(false);
    let filler_gone = AtomicBool::new(false);

    let fill_slot = |b: usize| {
        let slot = b % ring.len();
        // A poisoned slot only means a fill panicked; that panic reaches the caller at the join.
        let mut batch = ring[slot].lock().unwrap_or_else(|p| p.into_inner());
        fill(b, &mut batch);
        drop(batch);
        ready[slot].store(b + 1, Ordering::Release);
    };
    // Claims the next batch if its slot is free (the batch `DEPTH` before it is consumed);
    // `Err(true)` once every batch is claimed. Both sides claim ahead, so the room is checked
    // and taken in one step: a claim never lands on a slot whose batch is still to be consumed.
    let claim_ahead = || loop {
        let c = claimed.load(Ordering::Acquire);
        if c >= batches {
            return Err(true);
        }
        if c >= consumed.load(Ordering::Acquire) + ring.len() {
            return Err(false);
        }
        if claimed
            .compare_exchange(c, c + 1, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Ok(c);
        }
    };

    let consumer = || {
        let _done = SetOnDrop(&consumer_done);
        let mut all = true;
        for b in 0..batches {
            let filled = || ready[b % ring.len()].load(Ordering::Acquire) == b + 1;
            if claimed
                .compare_exchange(b, b + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                fill_slot(b);
            } else {
                // The filler has claimed it, so it is filling it now. Rather than wait, this
                // side fills the batches after it while there is room: where filling is the
                // slower half (the dominator tree's gathering on a graph without locality),
                // both cores fill. The waits are for a batch being filled now, tens of
                // microseconds: too short to park a thread.
                let mut spins = 0u32;
                while !filled() {
                    if filler_gone.load(Ordering::Acquire) {
                        break;
                    }
                    match claim_ahead() {
                        Ok(c) => fill_slot(c),
                        Err(_) => pause(&mut spins),
                    }
                }
                if !filled() {
                    // The filler unwound with this batch claimed: its panic is re-raised at
                    // the join.
                    all = false;
                    break;
                }
            }
            let mut batch = ring[b % ring.len()]
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let go_on = consume(b, &mut batch);
            drop(batch);
            consumed.store(b + 1, Ordering::Release);
            if !go_on {
                all = false;
                break;
            }
        }
        all
    };

    let filler = || {
        let _gone = SetOnDrop(&filler_gone);
        loop {
            // The next batch reuses the slot of the batch DEPTH before it: claim it only once
            // that one is consumed, so that the filler never waits holding a claim (the
            // consumer would wait for it) and may run other work of the pool meanwhile (a
            // pair's other snapshot) instead of keeping its thread from it.
            let mut spins = 0u32;
            loop {
                if consumer_done.load(Ordering::Acquire) {
                    return;
                }
                if claimed.load(Ordering::Acquire) < consumed.load(Ordering::Acquire) + ring.len() {
                    break;
                }
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    pause(&mut spins);
                }
            }
            match claim_ahead() {
                Ok(b) => fill_slot(b),
                Err(true) => return,
                // The consumer took the room first.
                Err(false) => {}
            }
        }
    };

    if batches == 0 {
        return true;
    }
    rayon::join(consumer, filler).0
}

/// One step of a wait: a spin-loop hint the first few hundred times, then a yield to the OS.
fn pause(spins: &mut u32) {
    if *spins < 256 {
        *spins += 1;
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Sets its flag when dropped, including while unwinding.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_batch_is_filled_once_and_consumed_in_order() {
        for batches in [0, 1, 3, 4, 5, 100, 1000] {
            let filled: Vec<AtomicUsize> = (0..batches).map(|_| AtomicUsize::new(0)).collect();
            let mut seen = Vec::new();
            let all = pipelined(
                batches,
                |b, s: &mut Vec<usize>| {
                    filled[b].fetch_add(1, Ordering::Relaxed);
                    s.clear();
                    s.extend([b, b * 2]);
                },
                |b, s| {
                    assert_eq!(s[..], [b, b * 2]);
                    seen.push(b);
                    true
                },
            );
            assert!(all);
            assert_eq!(seen, (0..batches).collect::<Vec<_>>());
            assert!(filled.iter().all(|f| f.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn a_slow_filler_is_helped_without_filling_a_batch_twice() {
        let filled: Vec<AtomicUsize> = (0..200).map(|_| AtomicUsize::new(0)).collect();
        let mut seen = Vec::new();
        let all = pipelined(
            filled.len(),
            |b, s: &mut usize| {
                filled[b].fetch_add(1, Ordering::Relaxed);
                // Slower than consuming, so the consumer fills ahead while it waits.
                std::thread::sleep(std::time::Duration::from_micros(200));
                *s = b;
            },
            |b, s| {
                assert_eq!(*s, b, "batch {b} was overwritten before it was consumed");
                seen.push(b);
                true
            },
        );
        assert!(all);
        assert_eq!(seen, (0..filled.len()).collect::<Vec<_>>());
        assert!(filled.iter().all(|f| f.load(Ordering::Relaxed) == 1));
    }

    #[test]
    fn a_stopped_consumer_ends_the_filler() {
        let filled = AtomicUsize::new(0);
        let mut seen = 0;
        let all = pipelined(
            10_000,
            |_, _: &mut ()| {
                filled.fetch_add(1, Ordering::Relaxed);
            },
            |b, _| {
                seen += 1;
                b < 9
            },
        );
        assert!(!all);
        assert_eq!(seen, 10);
        // The filler stops within its lead of the last consumed batch.
        assert!(filled.load(Ordering::Relaxed) <= 10 + DEPTH);
    }

    #[test]
    fn a_panic_on_either_side_reaches_the_caller_instead_of_hanging() {
        for bad in [0, 1, 50, 99] {
            let outcome = std::panic::catch_unwind(|| {
                pipelined(
                    100,
                    |b, _: &mut ()| assert!(b != bad, "fill {b} failed"),
                    |_, _| true,
                )
            });
            assert!(outcome.is_err(), "fill {bad}");
            let outcome = std::panic::catch_unwind(|| {
                pipelined(
                    100,
                    |_, _: &mut ()| {},
                    |b, _| {
                        assert!(b != bad, "consume {b} failed");
                        true
                    },
                )
            });
            assert!(outcome.is_err(), "consume {bad}");
        }
    }
}
