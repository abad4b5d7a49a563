//! The record loop with AVX2, where the CPU has it: the same values, stops and records as
//! [`Stream::run_records`], 1.6-1.8 times the throughput.
//!
//! Where the portable loop finds each value's digits in an 8-byte word and converts them with a
//! chain of three dependent multiplications, this one reads the value's span off the commas
//! (a comma, and V8's newline before it, end a value; the last comma starts the next), loads
//! the 16 bytes that end the span into one half of a 256-bit register, two values at a time,
//! and checks and converts all their digits at once: subtract `'0'`, keep the span's bytes,
//! reject any byte above 9, then multiply-add pairs, quads and octets of digits. Spans of one to
//! sixteen digits; anything else stops the loop for the careful path, as the portable one does.

#![allow(unsafe_code)] // SIMD loads through raw pointers; every block says why it stays in bounds

use std::arch::x86_64::{
    __m128i, __m256i, _mm_loadu_si128, _mm256_add_epi64, _mm256_and_si256, _mm256_cmpeq_epi8,
    _mm256_extract_epi64, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_maddubs_epi16,
    _mm256_max_epu8, _mm256_movemask_epi8, _mm256_mul_epu32, _mm256_packus_epi32, _mm256_set_m128i,
    _mm256_set1_epi8, _mm256_set1_epi16, _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_srli_epi64,
    _mm256_sub_epi8,
};
use std::sync::OnceLock;

use super::{Sink, Stream};

/// Whether the record loop uses AVX2: the CPU has it (asked once) and, in tests, the portable
/// loop is not asked for instead ([`PORTABLE`]).
pub(super) fn enabled() -> bool {
    static AVX2: OnceLock<bool> = OnceLock::new();
    #[cfg(test)]
    if PORTABLE.with(std::cell::Cell::get) {
        return false;
    }
    *AVX2.get_or_init(|| std::arch::is_x86_feature_detected!("avx2"))
}

#[cfg(test)]
thread_local! {
    /// Set by a test to run the portable loop on this thread.
    pub(super) static PORTABLE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `KEEP[len]`: the last `len` of 16 bytes set, the others clear: a value's span at the end of
/// a 16-byte window.
static KEEP: [[u8; 16]; 17] = {
    let mut table = [[0u8; 16]; 17];
    let mut len = 0;
    while len <= 16 {
        let mut j = 16 - len;
        while j < 16 {
            table[len][j] = 0xff;
            j += 1;
        }
        len += 1;
    }
    table
};

/// Longest span the loop converts.
const MAX_DIGITS: usize = 16;

impl<S: Sink> Stream<'_, S> {
    /// [`Stream::run_records`] with AVX2: stops at the same records, for the careful path.
    ///
    /// # Safety
    /// The CPU must have AVX2 ([`enabled`]).
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn run_records_avx2<const W: usize, const NEWLINE_AFTER: bool>(&mut self) {
        let text = self.text;
        let n = text.len();
        // Every load below stays inside `text`: a chunk is read only when it and 16 more bytes
        // fit (`room`); a value's window ends at its span's end, which lies before its comma
        // (so inside the chunk), and starts 16 bytes earlier, which `ends[0] >= 16` (the spans
        // of a record ascend) guarantees.
        let room = |chunk_at: usize| chunk_at + 64 + 16 <= n;
        let mut chunk_at = self.i;
        if !room(chunk_at) {
            return;
        }
        let mut mask = commas(text, chunk_at);
        let mut next = self.i;
        loop {
            // Each value's span: its end and length (0 or over 16: not this loop's to take).
            let mut ends = [0usize; W];
            let mut lens = [0usize; W];
            let mut usual = true;
            for k in 0..W {
                while mask == 0 {
                    chunk_at += 64;
                    if !room(chunk_at) {
                        return;
                    }
                    mask = commas(text, chunk_at);
                }
                let comma = chunk_at + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                // V8 ends a record with a newline before its comma; other writers put it after
                // the comma, before the next value. (`comma - 1` is at least `next - 1`, the
                // comma before or the byte before the region; `next < comma + 1 <= n`.)
                let start = if NEWLINE_AFTER {
                    next + usize::from(text[next] == b'\n')
                } else {
                    next
                };
                let end = comma - usize::from(comma > 0 && text[comma - 1] == b'\n');
                let len = end.wrapping_sub(start);
                usual &= len.wrapping_sub(1) < MAX_DIGITS;
                ends[k] = end;
                lens[k] = len.min(MAX_DIGITS);
                next = comma + 1;
            }
            if !usual || ends[0] < MAX_DIGITS {
                return;
            }
            let mut values = [0u64; W];
            let mut k = 0;
            while k + 1 < W {
                // SAFETY: see `room` above; `lens` are at most 16.
                let (a, b, digits) =
                    unsafe { pair(text, (ends[k], lens[k]), (ends[k + 1], lens[k + 1])) };
                usual &= digits;
                values[k] = a;
                values[k + 1] = b;
                k += 2;
            }
            if k < W {
                // SAFETY: as above.
                let (a, _, digits) = unsafe { pair(text, (ends[k], lens[k]), (ends[k], lens[k])) };
                usual &= digits;
                values[k] = a;
            }
            // A byte that is no digit, or a value out of range: the careful path finds it and
            // says where.
            if !usual || !self.out.sink.put_record(self.out.record, &values) {
                return;
            }
            self.out.record += 1;
            self.i = next;
        }
    }
}

/// Bit `j` is set when `text[at + j]` is a comma. Needs 64 bytes from `at`.
#[target_feature(enable = "avx2")]
fn commas(text: &[u8], at: usize) -> u64 {
    assert!(at + 64 <= text.len());
    let comma = _mm256_set1_epi8(b',' as i8);
    // SAFETY: the assertion above keeps both 32-byte loads inside `text`; `loadu` reads
    // unaligned memory.
    let (a, b) = unsafe {
        let p = text.as_ptr().add(at);
        (
            _mm256_loadu_si256(p.cast::<__m256i>()),
            _mm256_loadu_si256(p.add(32).cast::<__m256i>()),
        )
    };
    let low = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a, comma)) as u32;
    let high = _mm256_movemask_epi8(_mm256_cmpeq_epi8(b, comma)) as u32;
    u64::from(low) | (u64::from(high) << 32)
}

/// The values of two spans, each `(end, len)`, and whether every byte of both is a digit.
///
/// # Safety
/// `16 <= end <= text.len()` and `len <= 16` for both.
#[target_feature(enable = "avx2")]
unsafe fn pair(
    text: &[u8],
    (e0, l0): (usize, usize),
    (e1, l1): (usize, usize),
) -> (u64, u64, bool) {
    debug_assert!(e0 >= 16 && e1 >= 16 && e0.max(e1) <= text.len() && l0.max(l1) <= 16);
    // SAFETY: the caller's bounds keep both 16-byte loads inside `text`; `l0, l1 <= 16` index
    // the 17 rows of `KEEP`.
    let (x, keep) = unsafe {
        let p = text.as_ptr();
        let load = |at: usize| _mm_loadu_si128(p.add(at).cast::<__m128i>());
        let row = |len: usize| _mm_loadu_si128(KEEP.as_ptr().add(len).cast::<__m128i>());
        (
            _mm256_set_m128i(load(e1 - 16), load(e0 - 16)),
            _mm256_set_m128i(row(l1), row(l0)),
        )
    };
    // Digit values in the span's bytes, 0 elsewhere; a byte that was no digit is above 9.
    let d = _mm256_and_si256(_mm256_sub_epi8(x, _mm256_set1_epi8(b'0' as i8)), keep);
    let nine = _mm256_set1_epi8(9);
    let digits = _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(d, nine), nine)) == -1;
    // Pairs (10a + b), quads (100p + q), then per 128-bit half the high and low eight digits
    // side by side in its first 64 bits: high * 10^8 + low.
    let pairs = _mm256_maddubs_epi16(d, _mm256_set1_epi16(0x010a));
    let quads = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x0001_0064));
    let packed = _mm256_packus_epi32(quads, quads);
    let octets = _mm256_madd_epi16(packed, _mm256_set1_epi32(0x0001_2710));
    let values = _mm256_add_epi64(
        _mm256_mul_epu32(octets, _mm256_set1_epi64x(100_000_000)),
        _mm256_srli_epi64(octets, 32),
    );
    (
        _mm256_extract_epi64(values, 0) as u64,
        _mm256_extract_epi64(values, 2) as u64,
        digits,
    )
}
