//! The hot path: JSON arrays of non-negative integers (`nodes`, `edges`, `locations`), most of a
//! snapshot's bytes. A block of text is cut at commas into one piece per core and parsed in
//! parallel; the values are then dealt into columns in order.

use rayon::prelude::*;

/// A parse failure inside a piece: byte offset relative to the piece, and what was found.
#[derive(Debug)]
pub struct PieceError {
    pub at: usize,
    pub what: String,
}

/// Parses `text`, a run of `number ,` pairs (whitespace allowed around both), optionally ending
/// in a last number without a comma when `last` is set. Appends the values to `out`.
pub fn parse_piece(text: &[u8], last: bool, out: &mut Vec<u64>) -> Result<(), PieceError> {
    let mut i = 0;
    let n = text.len();
    out.reserve(n / 4);
    loop {
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            // An empty tail is fine only for the last piece (e.g. `[]` or a trailing newline).
            return Ok(());
        }
        let start = i;
        let mut v: u64 = 0;
        while i < n {
            let d = text[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = match v.checked_mul(10).and_then(|v| v.checked_add(d as u64)) {
                Some(v) => v,
                None => {
                    return Err(PieceError {
                        at: start,
                        what: "number too large".into(),
                    });
                }
            };
            i += 1;
        }
        if i == start {
            return Err(PieceError {
                at: start,
                what: describe(text, start),
            });
        }
        out.push(v);
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            if last {
                return Ok(());
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
    format!("expected a non-negative integer, found {:?}", shown)
}

/// Parses a block in parallel. `text` ends right after a comma, or (when `last`) right before the
/// closing `]`. Returns the values in order, or the first error with its offset in `text`.
pub fn parse_block(text: &[u8], last: bool) -> Result<Vec<u64>, PieceError> {
    let pieces = rayon::current_num_threads().max(1) * 2;
    if text.len() < 1 << 20 || pieces == 1 {
        let mut out = Vec::new();
        parse_piece(text, last, &mut out)?;
        return Ok(out);
    }
    // Cut points right after a comma near each even split.
    let mut cuts = vec![0usize];
    for k in 1..pieces {
        let target = text.len() * k / pieces;
        let from = (*cuts.last().unwrap_or(&0)).max(target);
        if let Some(p) = memchr::memchr(b',', &text[from..]) {
            cuts.push(from + p + 1);
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    let count = ranges.len();
    let results: Vec<Result<Vec<u64>, PieceError>> = ranges
        .par_iter()
        .enumerate()
        .map(|(k, &(a, b))| {
            let mut out = Vec::new();
            parse_piece(&text[a..b], last && k + 1 == count, &mut out)
                .map(|_| out)
                .map_err(|e| PieceError {
                    at: a + e.at,
                    what: e.what,
                })
        })
        .collect();
    let mut all = Vec::with_capacity(results.iter().map(|r| r.as_ref().map_or(0, Vec::len)).sum());
    for r in results {
        all.extend_from_slice(&r?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_whitespace_and_rejects_junk() {
        let mut out = Vec::new();
        parse_piece(b"1, 2 ,\n3,", false, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3]);
        out.clear();
        parse_piece(b"1,2\n", true, &mut out).unwrap();
        assert_eq!(out, [1, 2]);
        assert!(parse_piece(b"1,-2,", false, &mut out).is_err());
        assert!(parse_piece(b"1.5,", false, &mut out).is_err());
        assert!(parse_piece(b"1,", true, &mut out).is_err());
        assert!(parse_piece(b"99999999999999999999999,", false, &mut out).is_err());
    }

    #[test]
    fn parallel_block_matches_sequential() {
        let text: String = (0..400_000u64).map(|i| format!("{},", i * 7)).collect();
        let text = &text[..text.len() - 1];
        let got = parse_block(text.as_bytes(), true).unwrap();
        assert_eq!(got.len(), 400_000);
        assert!(got.iter().enumerate().all(|(i, &v)| v == i as u64 * 7));
    }
}
