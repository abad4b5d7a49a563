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
pub fn parse_piece<C: Columns>(
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
