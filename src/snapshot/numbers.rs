//! The hot path: JSON arrays of non-negative integers (`nodes`, `edges`, `locations`), most of a
//! snapshot's bytes.
//!
//! A block of text is cut at commas into a few pieces per core. Counting the commas of each piece
//! (memchr, far faster than parsing) tells every piece the index of its first value, so each piece
//! parses *and* deals its values into its own columns in parallel; the piece columns are then
//! appended in order, which is a memcpy. No intermediate vector of all values exists.

use rayon::prelude::*;

/// A parse failure inside a block: byte offset relative to the block, and what was found.
#[derive(Debug)]
pub struct PieceError {
    pub at: usize,
    pub what: String,
}

/// Where parsed values go: one implementation per section, holding column vectors.
pub trait Columns: Send {
    /// Takes value number `index` (counted from the start of the array).
    fn accept(&mut self, value: u64, index: u64) -> Result<(), String>;
    /// Moves everything `other` holds to the end of `self`, leaving `other` empty.
    fn append(&mut self, other: &mut Self);
    /// An empty set of columns of the same layout.
    fn empty_like(&self) -> Self;
}

/// Parses `text`, a run of `number ,` pairs (whitespace allowed around both), optionally ending
/// in a last number without a comma when `last` is set. Value indexes start at `first`.
/// Returns the number of values parsed.
///
/// The fast path takes the shape V8 writes almost everywhere — up to eight digits, then a comma or
/// a newline and a comma —
/// eight bytes at a time (SWAR: find the digits with a few masks, convert them with three
/// multiplications); anything else (whitespace, long numbers, the last few bytes, errors) goes
/// through the general parser one value at a time, so both accept and reject exactly the same
/// inputs.
pub fn parse_piece<C: Columns>(
    text: &[u8],
    last: bool,
    first: u64,
    out: &mut C,
) -> Result<u64, PieceError> {
    let mut i = 0;
    let mut index = first;
    let n = text.len();
    // Ten readable bytes: eight digits at most, then the comma or V8's newline and comma.
    while i + 10 <= n {
        let chunk = u64::from_le_bytes([
            text[i],
            text[i + 1],
            text[i + 2],
            text[i + 3],
            text[i + 4],
            text[i + 5],
            text[i + 6],
            text[i + 7],
        ]);
        let digits = leading_digits(chunk);
        // V8 ends every node and edge record with a newline before the comma.
        let separator = match (text[i + digits], text[i + digits + 1]) {
            (b',', _) => 1,
            (b'\n', b',') => 2,
            _ => 0,
        };
        if digits == 0 || separator == 0 {
            // Unusual shape: let the general parser take exactly one value and its separator.
            let (used, parsed) =
                parse_general_one(&text[i..], last, index, out).map_err(|e| PieceError {
                    at: i + e.at,
                    what: e.what,
                })?;
            if parsed == 0 {
                return Ok(index - first);
            }
            i += used;
            index += 1;
            continue;
        }
        out.accept(swar_value(chunk, digits), index)
            .map_err(|what| PieceError { at: i, what })?;
        index += 1;
        i += digits + separator;
    }
    let rest = parse_general(&text[i..], last, index, out).map_err(|e| PieceError {
        at: i + e.at,
        what: e.what,
    })?;
    Ok(index + rest - first)
}

/// How many of the eight bytes (first byte lowest) are ASCII digits before the first non-digit.
#[inline(always)]
fn leading_digits(chunk: u64) -> usize {
    const LOW: u64 = 0x0f0f_0f0f_0f0f_0f0f;
    const HIGH: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    // A digit byte is 0x30..=0x39: high nibble 3, and adding 6 to its low nibble does not
    // carry into the high one. Low nibble + 6 is at most 0x15, so no lane carries into another.
    let high = (chunk & HIGH) ^ THREES;
    let carry = (chunk & LOW).wrapping_add(0x0606_0606_0606_0606) & HIGH;
    let bad = high | carry;
    // High bit of each byte that is non-zero in `bad`.
    let nonzero = ((bad & 0x7f7f_7f7f_7f7f_7f7f).wrapping_add(0x7f7f_7f7f_7f7f_7f7f) | bad)
        & 0x8080_8080_8080_8080;
    (nonzero.trailing_zeros() / 8) as usize
}

/// The value of the first `digits` (1..=8) ASCII digits of `chunk`, first digit in the lowest byte.
#[inline(always)]
fn swar_value(chunk: u64, digits: usize) -> u64 {
    // Move the digits to the top bytes; the vacated low bytes read as leading zeros.
    let mut v = (chunk & 0x0f0f_0f0f_0f0f_0f0f) << (8 * (8 - digits));
    v = (v.wrapping_mul(10 * 256 + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    v = (v.wrapping_mul(100 * 65536 + 1) >> 16) & 0x0000_ffff_0000_ffff;
    v.wrapping_mul(10000 * (1 << 32) + 1) >> 32
}

/// One value through the general parser: returns the bytes used (value and its separator) and
/// whether a value was there (0 at the end of an empty tail).
fn parse_general_one<C: Columns>(
    text: &[u8],
    last: bool,
    index: u64,
    out: &mut C,
) -> Result<(usize, u64), PieceError> {
    // The value ends at the first comma; whitespace and junk are the general parser's to judge.
    match memchr::memchr(b',', text) {
        Some(comma) => {
            let parsed = parse_general(&text[..comma + 1], false, index, out)?;
            if last && comma + 1 == text.len() {
                return Err(PieceError {
                    at: comma + 1,
                    what: "trailing ',' before ']'".into(),
                });
            }
            Ok((comma + 1, parsed))
        }
        None => {
            let parsed = parse_general(text, last, index, out)?;
            Ok((text.len(), parsed))
        }
    }
}

/// The general parser: any whitespace, any position. [`parse_piece`] hands it whatever its fast
/// path does not take. Parses `text`, a run of `number ,` pairs (whitespace allowed around both), optionally ending
/// in a last number without a comma when `last` is set. Value indexes start at `first`.
/// Returns the number of values parsed.
fn parse_general<C: Columns>(
    text: &[u8],
    last: bool,
    first: u64,
    out: &mut C,
) -> Result<u64, PieceError> {
    let mut i = 0;
    let n = text.len();
    let mut index = first;
    loop {
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            // An empty tail is fine only for the last piece (e.g. `[]` or a trailing newline).
            return Ok(index - first);
        }
        let start = i;
        while i < n && text[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return Err(PieceError {
                at: start,
                what: describe(text, start),
            });
        }
        // 19 digits always fit in a u64, so the accumulation needs no overflow checks; longer
        // numbers are larger than any field can hold anyway (leading zeros do not occur).
        if digits > 19 {
            return Err(PieceError {
                at: start,
                what: "number too large".into(),
            });
        }
        let v = text[start..i]
            .iter()
            .fold(0u64, |v, &d| v * 10 + (d - b'0') as u64);
        out.accept(v, index)
            .map_err(|what| PieceError { at: start, what })?;
        index += 1;
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            if last {
                return Ok(index - first);
            }
            return Err(PieceError {
                at: i,
                what: "expected ','".into(),
            });
        }
        if text[i] != b',' {
            return Err(PieceError {
                at: i,
                what: describe(text, i),
            });
        }
        i += 1;
        if last && i == n {
            return Err(PieceError {
                at: i,
                what: "trailing ',' before ']'".into(),
            });
        }
    }
}

fn describe(text: &[u8], at: usize) -> String {
    let end = (at + 12).min(text.len());
    let shown = String::from_utf8_lossy(&text[at..end]);
    format!("expected a non-negative integer, found {shown:?}")
}

/// Parses a block into `target`. `text` ends right after a comma, or (when `last`) right before
/// the closing `]`. `first` is the index of the block's first value; `scratch` holds reusable
/// per-piece columns. Returns the number of values parsed, or the first error with its offset in
/// `text`.
pub fn parse_block<C: Columns>(
    text: &[u8],
    last: bool,
    first: u64,
    target: &mut C,
    scratch: &mut Vec<C>,
) -> Result<u64, PieceError> {
    let pieces = rayon::current_num_threads().max(1) * 2;
    if text.len() < 1 << 20 || pieces == 1 {
        return parse_piece(text, last, first, target);
    }
    // Cut points right after a comma near each even split.
    let mut cuts = vec![0usize];
    for k in 1..pieces {
        let target_at = text.len() * k / pieces;
        let from = (*cuts.last().unwrap_or(&0)).max(target_at);
        if let Some(p) = memchr::memchr(b',', &text[from..]) {
            cuts.push(from + p + 1);
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    // Every piece but the last ends with a comma, so its commas count its values exactly.
    let counts: Vec<u64> = ranges
        .par_iter()
        .map(|&(a, b)| memchr::memchr_iter(b',', &text[a..b]).count() as u64)
        .collect();
    let mut starts = Vec::with_capacity(ranges.len());
    let mut next = first;
    for c in &counts {
        starts.push(next);
        next += c;
    }
    while scratch.len() < ranges.len() {
        scratch.push(target.empty_like());
    }
    let count = ranges.len();
    let results: Vec<Result<u64, PieceError>> = scratch[..count]
        .par_iter_mut()
        .zip(ranges.par_iter())
        .zip(starts.par_iter())
        .enumerate()
        .map(|(k, ((columns, &(a, b)), &start))| {
            parse_piece(&text[a..b], last && k + 1 == count, start, columns).map_err(|e| {
                PieceError {
                    at: a + e.at,
                    what: e.what,
                }
            })
        })
        .collect();
    let mut parsed = 0;
    for (k, r) in results.into_iter().enumerate() {
        // On error the load is abandoned, so what the pieces still hold does not matter.
        parsed += r?;
        target.append(&mut scratch[k]);
    }
    Ok(parsed)
}

/// Plain values, for small sections (`locations`).
#[derive(Default)]
pub struct Values(pub Vec<u64>);

impl Columns for Values {
    fn accept(&mut self, value: u64, _index: u64) -> Result<(), String> {
        self.0.push(value);
        Ok(())
    }
    fn append(&mut self, other: &mut Self) {
        self.0.append(&mut other.0);
    }
    fn empty_like(&self) -> Self {
        Values(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(text: &[u8], last: bool) -> Result<Vec<u64>, PieceError> {
        let mut v = Values::default();
        parse_piece(text, last, 0, &mut v).map(|_| v.0)
    }

    #[test]
    fn parses_with_whitespace_and_rejects_junk() {
        assert_eq!(piece(b"1, 2 ,\n3,", false).unwrap(), [1, 2, 3]);
        assert_eq!(piece(b"1,2\n", true).unwrap(), [1, 2]);
        assert!(piece(b"1,-2,", false).is_err());
        assert!(piece(b"1.5,", false).is_err());
        assert!(piece(b"1,", true).is_err());
        assert!(piece(b"99999999999999999999999,", false).is_err());
    }

    /// The SWAR fast path and the general parser agree on values, errors and error offsets.
    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 13] = [
            b"0",
            b"7",
            b"42",
            b"1234567",
            b"12345678",
            b"123456789",
            b"18446744073709551615",
            b" ",
            b"\n",
            b"\n,",
            b"-",
            b"a",
            b"99999999999999999999",
        ];
        for _ in 0..20_000 {
            let mut text = Vec::new();
            for _ in 0..(next() % 12) {
                text.extend_from_slice(pieces[(next() % 13) as usize]);
                if next() % 4 != 0 {
                    text.push(b',');
                }
            }
            let last = next() % 2 == 0;
            let mut fast = Values::default();
            let mut slow = Values::default();
            let a = parse_piece(&text, last, 0, &mut fast);
            let b = parse_general(&text, last, 0, &mut slow);
            match (a, b) {
                (Ok(x), Ok(y)) => {
                    assert_eq!(x, y, "{:?}", String::from_utf8_lossy(&text));
                    assert_eq!(fast.0, slow.0, "{:?}", String::from_utf8_lossy(&text));
                }
                (Err(x), Err(y)) => assert_eq!(
                    x.at,
                    y.at,
                    "{:?}: {} vs {}",
                    String::from_utf8_lossy(&text),
                    x.what,
                    y.what
                ),
                (x, y) => panic!("{:?}: {x:?} vs {y:?}", String::from_utf8_lossy(&text)),
            }
        }
    }

    #[test]
    fn parallel_block_matches_sequential_with_exact_indexes() {
        struct Checked(Vec<u64>);
        impl Columns for Checked {
            fn accept(&mut self, value: u64, index: u64) -> Result<(), String> {
                if value != index * 7 {
                    return Err(format!("value {value} at index {index}"));
                }
                self.0.push(value);
                Ok(())
            }
            fn append(&mut self, other: &mut Self) {
                self.0.append(&mut other.0);
            }
            fn empty_like(&self) -> Self {
                Checked(Vec::new())
            }
        }
        let text: String = (0..400_000u64).map(|i| format!("{},\n", i * 7)).collect();
        let text = &text[..text.len() - 2];
        let mut all = Checked(Vec::new());
        let mut scratch = Vec::new();
        let n = parse_block(text.as_bytes(), true, 0, &mut all, &mut scratch).unwrap();
        assert_eq!(n, 400_000);
        assert_eq!(all.0.len(), 400_000);
        assert!(all.0.iter().enumerate().all(|(i, &v)| v == i as u64 * 7));
    }
}
