//! The hot path: JSON arrays of non-negative integers (`nodes`, `edges`, `locations`), most of a
//! snapshot's bytes.
//!
//! A block of text is cut into regions that start and end on record boundaries. Counting the
//! commas of fixed byte ranges (memchr, in parallel, far faster than parsing) tells every region
//! the index of its first record, so each region writes its values straight into its own slice
//! of the final columns: no intermediate vector, no append.
//!
//! Within a region, the commas of each 64-byte chunk are found at once, as a bit mask: where a
//! value starts then no longer waits for the value before it to be parsed, and the CPU works on
//! several values at a time. Where the CPU has AVX2, [`avx2`] converts two values per
//! instruction instead of one per 8-byte word.
//!
//! Over 600 lines on purpose: this is one hot loop (about 500 lines of code, the rest its unit
//! tests). The block splitter ([`parse_block`]), the record fast path and the general parser it
//! falls back to share one `Stream` state and its inlining; spread over files they would only
//! expose each other's internals.

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
mod avx2;

/// A parse failure inside a block: byte offset relative to the block, and what was found.
#[derive(Debug)]
pub struct PieceError {
    pub at: usize,
    pub what: String,
}

/// Mutable views of the columns of a run of whole records: what the parser writes into.
pub trait Sink: Send + Sized {
    /// Stores `value` as field `field` of record `record` (counted from the start of the sink).
    fn put(&mut self, field: usize, record: usize, value: u64) -> Result<(), String>;
    /// Splits into the first `records` records and the rest.
    fn split_at(self, records: usize) -> (Self, Self);
    /// Stores a whole record at once when every value is in range; false leaves it to
    /// [`Sink::put`], field by field.
    #[inline(always)]
    fn put_record(&mut self, _record: usize, _values: &[u64]) -> bool {
        false
    }
    /// Called once its block is parsed, on every region's sink in text order: hands back what
    /// the sink kept beside its slices.
    fn done(self) {}
}

/// Columns that grow a block of records at a time.
pub trait Columns {
    type Sink<'a>: Sink
    where
        Self: 'a;
    /// Values per record.
    fn width(&self) -> usize;
    /// Appends `records` zeroed records and returns a sink over them.
    fn grow(&mut self, records: usize) -> Self::Sink<'_>;
}

/// Stores `value` at `slot[record]`; a value past the end means the block held more values than
/// its commas promised, which only malformed text can do.
#[inline(always)]
pub fn store<T>(slot: &mut [T], record: usize, value: T) -> Result<(), String> {
    match slot.get_mut(record) {
        Some(s) => {
            *s = value;
            Ok(())
        }
        None => Err("more values than separators".into()),
    }
}

/// Splits a column slice; absent columns are empty and stay empty on both sides.
pub fn split<T>(slot: &mut [T], records: usize) -> (&mut [T], &mut [T]) {
    let at = records.min(slot.len());
    slot.split_at_mut(at)
}

/// A sink and the position of the next value in it.
struct Out<S> {
    sink: S,
    width: usize,
    field: usize,
    record: usize,
}

impl<S: Sink> Out<S> {
    fn new(sink: S, width: usize) -> Out<S> {
        Out {
            sink,
            width,
            field: 0,
            record: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, value: u64) -> Result<(), String> {
        self.sink.put(self.field, self.record, value)?;
        self.field += 1;
        if self.field == self.width {
            self.field = 0;
            self.record += 1;
        }
        Ok(())
    }
}

/// One region being parsed: its text, the position in it, and where its values go.
struct Stream<'t, S> {
    text: &'t [u8],
    /// Offset of `text` in the block, for errors.
    start: usize,
    i: usize,
    /// The region ends the array (no comma after its last value).
    last: bool,
    out: Out<S>,
}

/// Bytes the fast path may look at: a newline (after the comma before), eight digits at most,
/// then the comma or V8's newline and comma.
const FAST: usize = 11;

impl<S: Sink> Stream<'_, S> {
    /// Whether [`Stream::step`] may run.
    #[inline(always)]
    fn room(&self) -> bool {
        self.i + FAST <= self.text.len()
    }

    /// Parses one value (or, at the end of an empty tail, nothing). Needs [`Stream::room`].
    ///
    /// The fast path takes the shape V8 writes almost everywhere — up to eight digits, then a
    /// comma or a newline and a comma — eight bytes at a time (SWAR: find the digits with a few
    /// masks, convert them with three multiplications); anything else (whitespace, long numbers,
    /// errors) goes through the general parser one value at a time, so both accept and reject
    /// exactly the same inputs.
    #[inline(always)]
    fn step(&mut self) -> Result<(), PieceError> {
        let text = self.text;
        // Writers other than V8 (heapdiff's own synth among them) put the newline after the
        // comma: `digits,\ndigits`.
        let i = self.i + usize::from(text[self.i] == b'\n');
        let chunk = load8(text, i);
        let digits = leading_digits(chunk);
        // V8 ends every node and edge record with a newline before the comma.
        let separator = match (text[i + digits], text[i + digits + 1]) {
            (b',', _) => 1,
            (b'\n', b',') => 2,
            _ => 0,
        };
        // A comma that ends the array's text is a trailing comma: the general parser says so.
        let ends = self.last && i + digits + separator == text.len();
        if digits == 0 || separator == 0 || ends {
            return self.general_one();
        }
        self.out
            .push(swar_value(chunk, digits))
            .map_err(|what| self.error(i, what))?;
        self.i = i + digits + separator;
        Ok(())
    }

    /// The fast path over whole 64-byte chunks: the commas of a chunk are found at once (a
    /// bit mask), so where each value starts no longer depends on parsing the one before, and
    /// the values of a chunk are parsed independently of each other. Stops, leaving `i` at the
    /// first record it did not store, at anything but V8's shapes `digits,` and `digits\n,`
    /// (at most fifteen digits), and where fewer than 80 bytes are left.
    fn run_commas(&mut self) {
        // Whole records only: gathered, then stored together (one range check per record, no
        // per-field dispatch). Anything else is left to the careful path. The usual widths
        // (edges 3, locations 4, nodes 6 or 7) get a loop of their own, unrolled over the
        // fields.
        if self.out.field != 0 {
            return;
        }
        // V8 puts a record's newline before the comma; other writers after it. Taking both in
        // one loop costs V8's files 5-9 % (a test on every value's first byte, on the path to
        // its load), so the loop is chosen by the next separator: either loop is exact, the
        // other shape only falls to the careful path.
        // (`i` is right after a comma, so a newline right there is one after a comma too.)
        let rest = &self.text[self.i..];
        let after = memchr::memchr(b'\n', rest).is_some_and(|n| n == 0 || rest[n - 1] == b',');
        match (self.out.width, after) {
            (1, false) => self.records::<1, false>(),
            (3, false) => self.records::<3, false>(),
            (4, false) => self.records::<4, false>(),
            (6, false) => self.records::<6, false>(),
            (7, false) => self.records::<7, false>(),
            (1, true) => self.records::<1, true>(),
            (3, true) => self.records::<3, true>(),
            (4, true) => self.records::<4, true>(),
            (6, true) => self.records::<6, true>(),
            (7, true) => self.records::<7, true>(),
            _ => {}
        }
    }

    /// The record loop for this CPU: AVX2 where it has it ([`avx2`]), else the portable one.
    #[inline(always)]
    fn records<const W: usize, const NEWLINE_AFTER: bool>(&mut self) {
        #[cfg(target_arch = "x86_64")]
        if avx2::enabled() {
            #[allow(unsafe_code)] // a function compiled for AVX2
            // SAFETY: the CPU has AVX2 (`enabled`).
            unsafe {
                self.run_records_avx2::<W, NEWLINE_AFTER>();
            }
            return;
        }
        self.run_records::<W, NEWLINE_AFTER>();
    }

    /// `NEWLINE_AFTER`: a newline may follow a comma (and precede the next value).
    #[inline(always)]
    fn run_records<const W: usize, const NEWLINE_AFTER: bool>(&mut self) {
        let text = self.text;
        let n = text.len();
        // A value starts at most 63 bytes into a chunk and is read in (at most two) words.
        let room = |chunk_at: usize| chunk_at + 64 + 16 <= n;
        let mut chunk_at = self.i;
        if !room(chunk_at) {
            return;
        }
        let mut mask = comma_mask(text, chunk_at);
        let mut next = self.i;
        loop {
            let mut values = [0u64; W];
            for value in &mut values {
                while mask == 0 {
                    chunk_at += 64;
                    if !room(chunk_at) {
                        return;
                    }
                    mask = comma_mask(text, chunk_at);
                }
                let comma = chunk_at + mask.trailing_zeros() as usize;
                mask &= mask - 1;
                // A newline after the comma (writers other than V8) is as usual as one before.
                let start = if NEWLINE_AFTER {
                    next + usize::from(text[next] == b'\n')
                } else {
                    next
                };
                let chunk = load8(text, start);
                let mut digits = leading_digits(chunk);
                let mut v = swar_value(chunk, digits);
                if digits == 8 {
                    // Nine to fifteen digits (edge targets past 14 million nodes): a second word.
                    let more = load8(text, start + 8);
                    let extra = leading_digits(more);
                    if extra == 8 {
                        return;
                    }
                    v = v * POW10[extra] + swar_value(more, extra);
                    digits += extra;
                }
                let len = comma - start;
                let usual = digits > 0
                    && (len == digits || (len == digits + 1 && text[start + digits] == b'\n'));
                if !usual {
                    return;
                }
                *value = v;
                next = comma + 1;
            }
            // A value out of range: the careful path finds it and says where.
            if !self.out.sink.put_record(self.out.record, &values) {
                return;
            }
            self.out.record += 1;
            self.i = next;
        }
    }

    fn error(&self, at: usize, what: String) -> PieceError {
        PieceError {
            at: self.start + at,
            what,
        }
    }

    /// One value and its separator through the general parser.
    fn general_one(&mut self) -> Result<(), PieceError> {
        let rest = &self.text[self.i..];
        // The value ends at the first comma; whitespace and junk are the general parser's to judge.
        let (used, last) = match memchr::memchr(b',', rest) {
            Some(comma) => {
                if self.last && self.i + comma + 1 == self.text.len() {
                    // Report what the general parser finds first, else the trailing comma.
                    parse_general(&rest[..comma + 1], false, &mut self.out)
                        .map_err(|e| self.error(self.i + e.at, e.what))?;
                    return Err(self.error(self.text.len(), "trailing ',' before ']'".into()));
                }
                (comma + 1, false)
            }
            None => (rest.len(), self.last),
        };
        parse_general(&rest[..used], last, &mut self.out)
            .map_err(|e| self.error(self.i + e.at, e.what))?;
        self.i += used;
        Ok(())
    }

    /// Parses the rest of the region.
    fn finish(&mut self) -> Result<(), PieceError> {
        loop {
            self.run_commas();
            if !self.room() {
                break;
            }
            // Something unusual (or the last 64 bytes): one value the careful way.
            self.step()?;
        }
        let rest = &self.text[self.i..];
        parse_general(rest, self.last, &mut self.out)
            .map_err(|e| self.error(self.i + e.at, e.what))?;
        self.i = self.text.len();
        Ok(())
    }
}

/// Bit `j` is set when `text[at + j]` is a comma. Needs 64 bytes from `at`.
#[inline(always)]
fn comma_mask(text: &[u8], at: usize) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut mask = 0u64;
    for k in 0..8 {
        // Comma bytes become zero; then the high bit of every byte that was a comma, exactly
        // (no borrow between lanes), gathered into eight bits by one multiplication.
        let x = load8(text, at + 8 * k) ^ 0x2c2c_2c2c_2c2c_2c2c;
        let commas = !(((x & LOW7).wrapping_add(LOW7) | x) & HIGH) & HIGH;
        let bits = (commas >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
        mask |= bits << (8 * k);
    }
    mask
}

#[inline(always)]
fn load8(text: &[u8], i: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&text[i..i + 8]);
    u64::from_le_bytes(bytes)
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

/// Powers of ten below 10^8.
const POW10: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// The value of the first `digits` (0..=8) ASCII digits of `chunk`, first digit in the lowest
/// byte.
#[inline(always)]
fn swar_value(chunk: u64, digits: usize) -> u64 {
    // Move the digits to the top bytes; the vacated low bytes read as leading zeros (none
    // are kept for zero digits).
    let kept = (chunk & 0x0f0f_0f0f_0f0f_0f0f).checked_shl(8 * (8 - digits) as u32);
    let mut v = kept.unwrap_or(0);
    v = (v.wrapping_mul(10 * 256 + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    v = (v.wrapping_mul(100 * 65536 + 1) >> 16) & 0x0000_ffff_0000_ffff;
    v.wrapping_mul(10000 * (1 << 32) + 1) >> 32
}

/// The general parser: any whitespace, any position; [`Stream::step`] hands it whatever its
/// fast path does not take. Parses `text`, a run of `number ,` pairs (whitespace allowed around
/// both), optionally ending in a last number without a comma when `last` is set. Returns the
/// number of values parsed.
fn parse_general<S: Sink>(text: &[u8], last: bool, out: &mut Out<S>) -> Result<u64, PieceError> {
    let mut i = 0;
    let n = text.len();
    let mut parsed = 0;
    loop {
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            // An empty tail is fine only for the last piece (e.g. `[]` or a trailing newline).
            return Ok(parsed);
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
        out.push(v).map_err(|what| PieceError { at: start, what })?;
        parsed += 1;
        while i < n && super::reader::is_ws(text[i]) {
            i += 1;
        }
        if i == n {
            if last {
                return Ok(parsed);
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

/// Below this many bytes a block is parsed as one region.
const SMALL_BLOCK: usize = 1 << 20;

/// Parses the whole records at the start of `text` into `columns` and returns how many values
/// and bytes it took. `text` starts on a record boundary; when `last` it runs to the closing
/// `]` (exclusive) and is taken whole, a final partial record included (the caller reports it);
/// otherwise it ends right after a comma and only whole records are taken — none if it holds
/// less than one, and the caller must supply more text.
pub fn parse_block<C: Columns>(
    text: &[u8],
    last: bool,
    columns: &mut C,
) -> Result<(u64, usize), PieceError> {
    let width = columns.width().max(1);
    let regions = if text.len() < SMALL_BLOCK {
        1
    } else {
        rayon::current_num_threads().max(1) * 4
    };
    // Commas per fixed byte range, in parallel.
    let bounds: Vec<usize> = (0..=regions).map(|k| text.len() * k / regions).collect();
    let counts: Vec<usize> = bounds
        .par_windows(2)
        .map(|w| memchr::memchr_iter(b',', &text[w[0]..w[1]]).count())
        .collect();
    let commas: usize = counts.iter().sum();

    // The values taken and the bytes they span.
    let (values, used) = if last {
        let tail = match memchr::memrchr(b',', text) {
            Some(c) => &text[c + 1..],
            None => text,
        };
        let open = tail.iter().any(|&b| !super::reader::is_ws(b));
        (commas + usize::from(open), text.len())
    } else {
        let values = commas - commas % width;
        (values, after_comma(text, values, commas))
    };
    if values == 0 && !last {
        return Ok((0, 0));
    }

    // Region k starts right after comma number starts[k] (a multiple of the width): the first
    // such comma at or after its fixed byte bound.
    let mut cuts = vec![0usize];
    let mut starts = vec![0usize];
    let mut before = 0;
    for k in 1..regions {
        before += counts[k - 1];
        let wanted = (before / width + 1) * width;
        if wanted >= values {
            break;
        }
        let mut at = bounds[k];
        for _ in 0..wanted - before {
            match memchr::memchr(b',', &text[at..]) {
                Some(c) => at += c + 1,
                None => at = text.len(),
            }
        }
        cuts.push(at);
        starts.push(wanted);
    }
    cuts.push(used);
    starts.push(values);

    let total_records = values.div_ceil(width);
    let mut sink = columns.grow(total_records);
    let mut streams = Vec::with_capacity(regions);
    for k in 0..cuts.len() - 1 {
        let records = (starts[k + 1] - starts[k]).div_ceil(width);
        let (mine, rest) = sink.split_at(records);
        sink = rest;
        streams.push(Stream {
            text: &text[cuts[k]..cuts[k + 1]],
            start: cuts[k],
            i: 0,
            last: last && k + 2 == cuts.len(),
            out: Out::new(mine, width),
        });
    }
    let results: Vec<Result<(), PieceError>> = streams.par_iter_mut().map(Stream::finish).collect();
    // Regions are in text order and each starts where the sequential parser would (right after
    // a comma), so the first failing region holds the first error.
    results.into_iter().collect::<Result<(), _>>()?;
    for stream in streams {
        stream.out.sink.done();
    }
    Ok((values as u64, used))
}

/// The offset right after comma number `n` (1-based) of `text`, which ends right after comma
/// number `commas`; 0 when `n` is 0.
fn after_comma(text: &[u8], n: usize, commas: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let mut end = text.len();
    for _ in n..commas {
        // The byte before `end` is a comma; find the one before it.
        end = memchr::memrchr(b',', &text[..end - 1]).map_or(0, |c| c + 1);
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects values in order, whatever their record; takes whole records when `records`.
    struct Collect {
        values: Vec<u64>,
        records: bool,
    }

    impl Sink for &mut Collect {
        fn put(&mut self, _field: usize, _record: usize, value: u64) -> Result<(), String> {
            self.values.push(value);
            Ok(())
        }
        fn split_at(self, _records: usize) -> (Self, Self) {
            unimplemented!("not split in tests")
        }
        fn put_record(&mut self, _record: usize, values: &[u64]) -> bool {
            if self.records {
                self.values.extend_from_slice(values);
            }
            self.records
        }
    }

    fn stream(text: &[u8], last: bool, width: usize) -> Result<Vec<u64>, PieceError> {
        let mut all = Collect {
            values: Vec::new(),
            records: width > 1,
        };
        let mut s = Stream {
            text,
            start: 0,
            i: 0,
            last,
            out: Out::new(&mut all, width),
        };
        s.finish()?;
        Ok(all.values)
    }

    /// Runs `check` with each record loop this machine has: AVX2 where the CPU has it, and
    /// the portable one.
    fn each_loop(check: impl Fn()) {
        #[cfg(target_arch = "x86_64")]
        for portable in [false, true] {
            avx2::PORTABLE.with(|p| p.set(portable));
            check();
        }
        #[cfg(target_arch = "x86_64")]
        avx2::PORTABLE.with(|p| p.set(false));
        #[cfg(not(target_arch = "x86_64"))]
        check();
    }

    fn general(text: &[u8], last: bool) -> Result<Vec<u64>, PieceError> {
        let mut all = Collect {
            values: Vec::new(),
            records: false,
        };
        parse_general(text, last, &mut Out::new(&mut all, 1))?;
        Ok(all.values)
    }

    #[test]
    fn comma_masks_mark_exactly_the_commas() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2_000 {
            let text: Vec<u8> = (0..64)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    [b',', b'0', b'9', b'\n', 0x2d, 0xac, 0x2b, 0xff][(seed % 8) as usize]
                })
                .collect();
            let naive = (0..64).fold(0u64, |m, j| m | (u64::from(text[j] == b',') << j));
            assert_eq!(comma_mask(&text, 0), naive, "{text:?}");
        }
    }

    /// Both writers' record shapes stay on the record loop: V8's newline before the comma and
    /// others' after it, from a start on either side of the newline.
    #[test]
    fn both_newline_shapes_take_the_record_loop() {
        struct Count(usize, usize);
        impl Sink for &mut Count {
            fn put(&mut self, _: usize, _: usize, _: u64) -> Result<(), String> {
                self.1 += 1;
                Ok(())
            }
            fn split_at(self, _: usize) -> (Self, Self) {
                unimplemented!("not split in tests")
            }
            fn put_record(&mut self, _: usize, _: &[u64]) -> bool {
                self.0 += 1;
                true
            }
        }
        let v8: String = (0..1000)
            .map(|i| format!("{i},{},{}\n,", i * 7, i))
            .collect();
        let other: String = (0..1000)
            .map(|i| format!("{i},{},{},\n", i * 7, i))
            .collect();
        each_loop(|| {
            for text in [&v8[..], &other[..], &other[other.find('\n').unwrap()..]] {
                let mut count = Count(0, 0);
                let mut s = Stream {
                    text: text.as_bytes(),
                    start: 0,
                    i: 0,
                    last: false,
                    out: Out::new(&mut count, 3),
                };
                s.finish().unwrap();
                // The last 80 bytes or so go value by value (and, with AVX2, the first record).
                assert!(
                    count.0 >= 990 && count.1 <= 30,
                    "{} records, {} values",
                    count.0,
                    count.1
                );
            }
        });
    }

    #[test]
    fn parses_with_whitespace_and_rejects_junk() {
        assert_eq!(stream(b"1, 2 ,\n3,", false, 1).unwrap(), [1, 2, 3]);
        assert_eq!(stream(b"1,2\n", true, 1).unwrap(), [1, 2]);
        assert!(stream(b"1,-2,", false, 1).is_err());
        assert!(stream(b"1.5,", false, 1).is_err());
        assert!(stream(b"1,", true, 1).is_err());
        assert!(stream(b"99999999999999999999999,", false, 1).is_err());
    }

    /// Each fast path (SWAR, AVX2) and the general parser agree on values, errors and error
    /// offsets.
    #[test]
    fn fast_path_agrees_with_the_general_parser() {
        each_loop(fast_path_agrees);
    }

    fn fast_path_agrees() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let pieces: [&[u8]; 15] = [
            b"0",
            b"7",
            b"42",
            b"1234567",
            b"12345678",
            b"123456789",
            b"123456789012345",
            b"1234567890123456",
            b"18446744073709551615",
            b" ",
            b"\n",
            b"\n,",
            b"-",
            b"a",
            b"99999999999999999999",
        ];
        for round in 0..20_000 {
            let mut text = Vec::new();
            // Long texts too, so the 64-byte chunk path runs, with and without whole records.
            let values = if round % 2 == 0 { 12 } else { 120 };
            let width = [1, 3, 7][round % 3];
            for _ in 0..(next() % values) {
                // Mostly V8's own shapes in half the rounds, so long runs reach the fast path.
                let usual = round % 4 < 2 && next() % 16 != 0;
                let piece = if usual { next() % 8 } else { next() % 15 };
                text.extend_from_slice(pieces[piece as usize]);
                // V8's newline before the comma, or other writers' after it.
                let newline = usual && next() % 5 == 0;
                let after = round % 8 < 4;
                if newline && !after {
                    text.push(b'\n');
                }
                if next() % 4 != 0 {
                    text.push(b',');
                }
                if newline && after {
                    text.push(b'\n');
                }
            }
            let last = next() % 2 == 0;
            let shown = String::from_utf8_lossy(&text).into_owned();
            match (stream(&text, last, width), general(&text, last)) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "{shown:?}"),
                (Err(x), Err(y)) => assert_eq!(x.at, y.at, "{shown:?}: {} vs {}", x.what, y.what),
                (x, y) => panic!("{shown:?}: {x:?} vs {y:?}"),
            }
        }
    }

    /// Records of `width` values; every value must be `7 * (record * width + field)`.
    struct Checked {
        width: usize,
        values: Vec<u64>,
    }

    struct CheckedSink<'a> {
        base: usize,
        width: usize,
        values: &'a mut [u64],
    }

    impl Sink for CheckedSink<'_> {
        fn put(&mut self, field: usize, record: usize, value: u64) -> Result<(), String> {
            let index = (self.base + record) * self.width + field;
            if value != index as u64 * 7 {
                return Err(format!("value {value} at index {index}"));
            }
            store(self.values, record * self.width + field, value)
        }
        fn split_at(self, records: usize) -> (Self, Self) {
            let (a, b) = split(self.values, records * self.width);
            let base = self.base + records;
            (
                CheckedSink {
                    base: self.base,
                    width: self.width,
                    values: a,
                },
                CheckedSink {
                    base,
                    width: self.width,
                    values: b,
                },
            )
        }
    }

    impl Columns for Checked {
        type Sink<'a> = CheckedSink<'a>;
        fn width(&self) -> usize {
            self.width
        }
        fn grow(&mut self, records: usize) -> CheckedSink<'_> {
            let from = self.values.len();
            self.values.resize(from + records * self.width, 0);
            CheckedSink {
                base: from / self.width,
                width: self.width,
                values: &mut self.values[from..],
            }
        }
    }

    fn sevens(n: u64) -> String {
        (0..n).map(|i| format!("{},\n", i * 7)).collect()
    }

    #[test]
    fn blocks_take_whole_records_and_write_every_value_in_place() {
        for width in [1, 3, 6, 7] {
            let text = sevens(400_003);
            // A block ends right after a comma.
            let text = &text[..text.len() - 1];
            let mut all = Checked {
                width,
                values: Vec::new(),
            };
            // Not the last block: only whole records, ending right after a comma.
            let (values, used) = parse_block(text.as_bytes(), false, &mut all).unwrap();
            assert_eq!(values, 400_003 - 400_003 % width as u64);
            assert_eq!(text.as_bytes()[used - 1], b',');
            assert_eq!(all.values.len() as u64, values);
            // The rest, as the last block (without its final comma).
            let rest = &text[used.min(text.len() - 1)..text.len() - 1];
            let (more, taken) = parse_block(rest.as_bytes(), true, &mut all).unwrap();
            assert_eq!((values + more, taken), (400_003, rest.len()));
            // A final partial record is taken whole (the loader reports it as misaligned).
            assert_eq!(all.values.len(), 400_003usize.div_ceil(width) * width);
            let values = &all.values[..400_003];
            assert!(values.iter().enumerate().all(|(i, &v)| v == i as u64 * 7));
        }
    }

    #[test]
    fn the_first_error_in_text_order_wins() {
        let mut text = sevens(400_000).into_bytes();
        // Commas turned into junk: every value before them is still right.
        let comma_after = |at: usize| at + text[at..].iter().position(|&b| b == b',').unwrap();
        let late = comma_after(text.len() * 7 / 8);
        let early = comma_after(text.len() / 3);
        text[late] = b'x';
        text[early] = b'y';
        let mut all = Checked {
            width: 3,
            values: Vec::new(),
        };
        let e = parse_block(&text, false, &mut all).expect_err("junk is refused");
        assert_eq!(e.at, early, "{}", e.what);
        assert!(e.what.contains('y'), "{}", e.what);
    }

    #[test]
    fn a_block_with_less_than_a_record_takes_nothing() {
        let mut all = Checked {
            width: 7,
            values: Vec::new(),
        };
        assert_eq!(parse_block(b"0,7,", false, &mut all).unwrap(), (0, 0));
        assert_eq!(parse_block(b"0,7", true, &mut all).unwrap(), (2, 3));
    }
}
