//! Hostile inputs: a seeded, dependency-free mutator of snapshot (and findings) bytes, and the
//! pipeline every mutant is pushed through. Shared by `tests/mutations.rs` and
//! `examples/fuzz.rs`, so the long fuzz run and the bounded test exercise the same code.

use crate::diff;
use crate::loaded::Loaded;
use crate::report::{self, ReportOptions};
use crate::snapshot::{self, class};
use crate::task::Hooks;

/// xorshift64*: tiny, seedable, good enough to pick mutation sites.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(super::generate::mix(seed, 0x5eed) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Numbers that sit on or across the limits the engine cares about.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "7",
    "255",
    "256",
    "65535",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "4294967297",
    "30064771072",
    "9223372036854775807",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "-1",
    "1.5",
    "1e9",
    "NaN",
    "",
    "00",
    "0x10",
];

/// Text replacements that break `snapshot.meta` (or the header) in realistic ways.
const META: &[(&str, &str)] = &[
    ("\"edge_count\"", "\"edge_cnt\""),
    ("\"to_node\"", "\"to\""),
    ("\"name_or_index\"", "\"name\""),
    ("\"node_fields\":[\"type\",", "\"node_fields\":["),
    (
        "\"node_fields\":[\"type\",",
        "\"node_fields\":[\"type\",\"type\",",
    ),
    ("\"node_fields\":[", "\"node_fields\":[\"extra\","),
    ("\"edge_fields\":[", "\"edge_fields\":[\"extra\","),
    ("\"node_types\":[[\"hidden\",", "\"node_types\":[["),
    ("\"node_types\":[[", "\"node_types\":[\"string\",["),
    ("\"edge_types\":[[\"context\",", "\"edge_types\":[["),
    ("\"edge_types\":[[", "\"edge_types\":[7,["),
    ("\"meta\":{", "\"meta\":{\"node_fields\":[],"),
    ("\"snapshot\":{", "\"snapshot\":{\"root_index\":4294967296,"),
    ("\"snapshot\":{", "\"snapshot\":{\"root_index\":5,"),
    (
        "\"snapshot\":{",
        "\"snapshot\":{\"node_count\":1000000000000000,",
    ),
    ("\"snapshot\":{", "\"snapshot\":{\"edge_count\":4294967296,"),
    ("\"snapshot\":{", "\"snapshot\":null,\"x\":{"),
    (
        "\"location_fields\":[\"object_index\",",
        "\"location_fields\":[",
    ),
    ("\"location_fields\":[", "\"location_fields\":[\"extra\","),
    ("\"synthetic\"", "\"synth\""),
    ("\"weak\"", "\"element\""),
    ("\"element\"", "\"property\""),
    ("\"detachedness\"", "\"trace_node_id\""),
    ("\"self_size\"", "\"size\""),
];

/// Section keys of a snapshot, for swapping and duplicating whole sections.
const KEYS: &[&str] = &[
    "\"snapshot\":",
    "\"nodes\":",
    "\"edges\":",
    "\"trace_function_infos\":",
    "\"trace_tree\":",
    "\"samples\":",
    "\"locations\":",
    "\"strings\":",
];

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn random_digit(data: &[u8], rng: &mut Rng) -> Option<usize> {
    (0..64)
        .map(|_| rng.below(data.len()))
        .find(|&i| data[i].is_ascii_digit())
}

/// The top-level sections as `(start of key, end of value)`, in file order.
fn sections(data: &[u8]) -> Vec<(usize, usize)> {
    let mut starts: Vec<usize> = KEYS
        .iter()
        .filter_map(|k| find(data, k.as_bytes()))
        .collect();
    starts.sort_unstable();
    let mut out = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        let limit = starts.get(i + 1).copied().unwrap_or(data.len());
        // The value ends at the last ',' (or '}' for the last section) before the limit.
        let end = data[s..limit]
            .iter()
            .rposition(|&c| c == b',' || (i + 1 == starts.len() && c == b'}'))
            .map_or(limit, |p| s + p);
        if end > s {
            out.push((s, end));
        }
    }
    out
}

/// Applies one randomly chosen mutation; returns its name (for reports).
pub fn mutate_once(data: &mut Vec<u8>, rng: &mut Rng) -> &'static str {
    if data.is_empty() {
        data.push(b'{');
        return "grow";
    }
    let len = data.len();
    match rng.below(18) {
        0 => {
            if let Some(i) = random_digit(data, rng) {
                data[i] = b'0' + ((data[i] - b'0' + 1 + rng.below(9) as u8) % 10);
            }
            "flip_digit"
        }
        1 => {
            if let Some(i) = random_digit(data, rng) {
                let mut s = i;
                while s > 0 && data[s - 1].is_ascii_digit() {
                    s -= 1;
                }
                let mut e = i;
                while e < len && data[e].is_ascii_digit() {
                    e += 1;
                }
                let n = rng.pick(NUMBERS).as_bytes();
                data.splice(s..e, n.iter().copied());
            }
            "huge_number"
        }
        2 => {
            data.truncate(rng.below(len));
            "truncate"
        }
        3 => {
            // Drop a few values of a number array: misaligned records, shifted fields.
            let key = rng.pick(&["\"nodes\":[", "\"edges\":[", "\"locations\":["]);
            if let Some(k) = find(data, key.as_bytes()) {
                let body = k + key.len();
                if let Some(end) = memchr::memchr(b']', &data[body..]).map(|e| body + e)
                    && end > body
                {
                    let a = body + rng.below(end - body);
                    let b = (a + 1 + rng.below(40)).min(end);
                    data.drain(a..b);
                }
            }
            "cut_array"
        }
        4 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(64)).min(len);
            data.drain(a..b);
            "delete_range"
        }
        5 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(256)).min(len);
            let copy = data[a..b].to_vec();
            let at = rng.below(len);
            data.splice(at..at, copy);
            "duplicate_range"
        }
        6 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(data.len());
                data[i] = rng.next_u64() as u8;
            }
            "random_bytes"
        }
        7 => {
            let c = *rng.pick(b"[]{},:\"\\ -.e0\n\x00\xff");
            let at = rng.below(len + 1);
            data.insert(at, c);
            "insert_byte"
        }
        8 => {
            let s = sections(data);
            if s.len() >= 2 {
                let i = rng.below(s.len());
                let j = rng.below(s.len());
                let (a, b) = (s[i.min(j)], s[i.max(j)]);
                if a != b {
                    let mut out = Vec::with_capacity(len);
                    out.extend_from_slice(&data[..a.0]);
                    out.extend_from_slice(&data[b.0..b.1]);
                    out.extend_from_slice(&data[a.1..b.0]);
                    out.extend_from_slice(&data[a.0..a.1]);
                    out.extend_from_slice(&data[b.1..]);
                    *data = out;
                }
            }
            "swap_sections"
        }
        9 => {
            let s = sections(data);
            if !s.is_empty() {
                let (a, b) = *rng.pick(&s);
                let (_, at) = *rng.pick(&s);
                let mut copy = vec![b','];
                copy.extend_from_slice(&data[a..b]);
                data.splice(at..at, copy);
            }
            "duplicate_key"
        }
        10 => {
            let s = sections(data);
            if !s.is_empty() {
                let (a, _) = *rng.pick(&s);
                let key = rng.pick(KEYS).as_bytes();
                if let Some(colon) = memchr::memchr(b':', &data[a..]) {
                    data.splice(a..a + colon + 1, key.iter().copied());
                }
            }
            "rename_key"
        }
        11 | 12 => {
            let (from, to) = *rng.pick(META);
            if let Some(i) = find(data, from.as_bytes()) {
                data.splice(i..i + from.len(), to.bytes());
            }
            "wrong_meta"
        }
        13 => {
            let key = rng.pick(&["\"node_count\":", "\"edge_count\":"]);
            if let Some(k) = find(data, key.as_bytes()) {
                let s = k + key.len();
                let e = data[s..]
                    .iter()
                    .position(|c| !c.is_ascii_digit())
                    .map_or(data.len(), |p| s + p);
                let n = rng.pick(NUMBERS).as_bytes();
                data.splice(s..e, n.iter().copied());
            }
            "header_counts"
        }
        14 => {
            let bad: &[&str] = &[
                "\\ud800",
                "\\udc00\\ud800",
                "\\u12",
                "\\x",
                "\\",
                "\u{1}",
                "\"",
                "\\uDBFF\\uDFFF",
                "\\u0000",
                "\u{feff}",
            ];
            let at = find(data, b"\"strings\":[")
                .map(|s| s + 11 + rng.below(len.saturating_sub(s + 11)))
                .unwrap_or_else(|| rng.below(len));
            let ins = rng.pick(bad).as_bytes();
            data.splice(at..at, ins.iter().copied());
            "bad_string"
        }
        15 => {
            let depth = 1 + rng.below(200_000);
            let mut ins = b"\"deep\":".to_vec();
            ins.extend(std::iter::repeat_n(b'[', depth));
            if rng.below(2) == 0 {
                ins.extend(std::iter::repeat_n(b']', depth));
            }
            ins.push(b',');
            let at = if rng.below(2) == 0 {
                find(data, b"\"meta\":").unwrap_or(1)
            } else {
                1
            };
            data.splice(at..at, ins);
            "deep_nesting"
        }
        16 => {
            let ws = rng
                .pick(&[" ", "\n", "\t", "\r\n", "\u{feff}", "  \n  "])
                .as_bytes();
            let at = rng.below(len + 1);
            data.splice(at..at, ws.iter().copied());
            "whitespace"
        }
        _ => {
            // Long runs: a huge string or a huge number array piece.
            let at = rng.below(len + 1);
            let filler = if rng.below(2) == 0 { b'9' } else { b'a' };
            data.splice(at..at, std::iter::repeat_n(filler, 1 + rng.below(1 << 16)));
            "long_run"
        }
    }
}

/// One to four stacked mutations, sometimes gzipped afterwards (and sometimes the gzip
/// stream itself damaged). Returns the mutated bytes and the names of what was done.
pub fn mutate(input: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    let mut data = input.to_vec();
    let mut names = Vec::new();
    for _ in 0..1 + rng.below(4) {
        names.push(mutate_once(&mut data, rng));
    }
    if rng.below(8) == 0 {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&data);
        data = gz.finish().unwrap_or_default();
        names.push("gzip");
        if rng.below(2) == 0 && !data.is_empty() {
            match rng.below(3) {
                0 => data.truncate(rng.below(data.len())),
                _ => {
                    let i = 10 + rng.below(data.len().saturating_sub(10).max(1));
                    if i < data.len() {
                        data[i] ^= 1 << rng.below(8);
                    }
                }
            }
            names.push("gzip_damage");
        }
    }
    (data, names.join("+"))
}

/// How one input ended (panics are the caller's to catch).
#[derive(Debug)]
pub enum Outcome {
    /// Loaded, analysed, summarised, compared and reported.
    Ok { nodes: usize },
    /// Refused with a typed error (its message).
    Refused(String),
    /// Loaded, but a later step disagreed with itself (e.g. the findings it wrote do not
    /// read back): a bug that is not a panic.
    Inconsistent(String),
}

/// Loads and analyses the unmutated input once, for [`exercise`] to compare against.
pub fn original(name: &str, bytes: &[u8]) -> Result<Loaded, String> {
    let snap = snapshot::load_bytes(name, bytes, &Hooks::default()).map_err(|e| e.to_string())?;
    Loaded::analyze(snap, Hooks::default(), None).map_err(|e| e.to_string())
}

/// Everything a user can do with one file: load it, analyse it, show its Summary, compare
/// it with `original` both ways and render every report of those comparisons (each
/// snapshot classified with its own interface definitions: the comparison only needs some
/// classification of each side).
pub fn exercise(name: &str, bytes: &[u8], original: &Loaded) -> Outcome {
    let snap = match snapshot::load_bytes(name, bytes, &Hooks::default()) {
        Ok(s) => s,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    let nodes = snap.node_count();
    let definitions = class::infer_interface_definitions(&snap);
    let loaded = match Loaded::analyze(snap, Hooks::default(), Some(&definitions)) {
        Ok(l) => l,
        Err(e) => return Outcome::Inconsistent(format!("analysis refused: {e}")),
    };
    let _ = loaded.summary();
    // The Retainers report of a few objects, and of the first closure (its allocation stack and
    // Context variables come from the file's traces and scope tables).
    let n = loaded.snapshot.node_count() as u32;
    let closure = (0..n).find(|&x| loaded.snapshot.node_kind(x) == snapshot::NodeKind::Closure);
    for node in [0, n / 2, n.saturating_sub(1)].into_iter().chain(closure) {
        if node < n {
            let report = report::retainers::build(&loaded, node, 2, 5);
            let _ = report::retainers::table(&report);
        }
    }
    for (b, a) in [(original, &loaded), (&loaded, original)] {
        let comparison = diff::compare(b, a, None);
        for include_strings in [false, true] {
            let findings =
                report::build(&comparison, b, a, None, ReportOptions { include_strings });
            let _ = report::markdown::render(&findings);
            let _ = report::html::render(&findings);
            let json = report::findings::to_json(&findings);
            match report::findings::parse("roundtrip.heapdiff.json", json.as_bytes()) {
                Ok(back) if back == findings => {}
                Ok(_) => {
                    return Outcome::Inconsistent("findings changed on a round trip".into());
                }
                Err(e) => {
                    return Outcome::Inconsistent(format!("own findings refused: {e}"));
                }
            }
        }
    }
    Outcome::Ok { nodes }
}

/// A findings file from a stranger: parse it, and render what parsed.
pub fn exercise_findings(bytes: &[u8]) -> Result<(), String> {
    let findings =
        report::findings::parse("stranger.heapdiff.json", bytes).map_err(|e| e.to_string())?;
    let _ = report::markdown::render(&findings);
    let _ = report::html::render(&findings);
    let _ = report::findings::to_json(&findings);
    Ok(())
}

/// JSON-aware mutations of a findings file on top of the byte-level ones.
pub fn mutate_findings(input: &[u8], rng: &mut Rng) -> (Vec<u8>, String) {
    if rng.below(2) == 0 {
        return mutate(input, rng);
    }
    let mut data = input.to_vec();
    let tweaks: &[(&str, &str)] = &[
        ("\"version\": 1", "\"version\": 4294967296"),
        ("\"version\": 1", "\"version\": -1"),
        ("\"format\": \"heapdiff-findings\"", "\"format\": \"x\""),
        ("\"added_count\": ", "\"added_count\": 18446744073709551615"),
        ("\"count_delta\": ", "\"count_delta\": -9223372036854775808"),
        ("\"after_share\": ", "\"after_share\": 1e999"),
        ("\"after_share\": ", "\"after_share\": -0.0"),
        ("\"steps\": [", "\"steps\": [[[[[[[[[[[[[[[[[["),
        (
            "\"name\": \"",
            "\"name\": \"<script>alert(1)</script>\\u0000\\ud800",
        ),
        (
            "\"edge_name\": \"",
            "\"edge_name\": \"\\\"><img src=x onerror=alert(1)>",
        ),
        ("\"class_name\": \"", "\"class_name\": \"\\u202e|```|\\n# x"),
        ("\"paths\": [", "\"paths\": null, \"x\": ["),
        ("\"classes\": [", "\"classes\": {}, \"y\": ["),
        (
            "\"example\": {",
            "\"example\": {\"id\": 4294967296, \"z\": {",
        ),
        ("\"count\": ", "\"count\": 1e3, \"w\": "),
        ("{", "{\"format\": \"heapdiff-findings\", "),
    ];
    for _ in 0..1 + rng.below(3) {
        let (from, to) = *rng.pick(tweaks);
        let hits: Vec<usize> = memchr::memmem::find_iter(&data, from.as_bytes()).collect();
        if !hits.is_empty() {
            let i = *rng.pick(&hits);
            data.splice(i..i + from.len(), to.bytes());
        }
    }
    (data, "findings_tweak".into())
}
