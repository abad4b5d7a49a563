//! Streams a `.heapsnapshot` (plain or gzip) into a [`Snapshot`].
//!
//! The top level is read token by token; `snapshot` (the small header) goes through serde_json;
//! the number arrays go through the parallel block parser straight into columns; `strings` is
//! decoded in one pass; anything else (trace trees, samples, Chromium's `scopes`…) is skipped
//! without being kept. Every value that will be used as an index is checked before the snapshot
//! is handed out, so the rest of the engine can index without fear.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::Deserialize;

use super::Snapshot;
use super::columns::{EdgeColumns, EdgeField, LocationColumns, NOT_A_NODE, NodeColumns, NodeField};
use super::error::{LoadError, LoadErrorKind};
use super::meta::Meta;
use super::numbers::{self, Columns, PieceError};
use super::reader::Reader;
use super::strings::Strings;
use crate::task::Hooks;

/// Loads a snapshot from a path. Gzip is detected by its magic bytes, not by the file name.
pub fn load(path: &Path, hooks: &Hooks) -> Result<Snapshot, LoadError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let fail = |kind| LoadError::new(name.clone(), kind);
    let mut file = File::open(path).map_err(|e| fail(LoadErrorKind::Io(e)))?;
    let metadata = file.metadata().map_err(|e| fail(LoadErrorKind::Io(e)))?;
    let file_bytes = metadata.len();
    let mut magic = [0u8; 2];
    let got = read_prefix(&mut file, &mut magic).map_err(|e| fail(LoadErrorKind::Io(e)))?;
    let file = File::open(path).map_err(|e| fail(LoadErrorKind::Io(e)))?;
    let count = Arc::new(AtomicU64::new(0));
    let counted = super::reader::Counting {
        inner: file,
        count: count.clone(),
    };
    let source: Box<dyn Read + Send> = if got == 2 && magic == [0x1f, 0x8b] {
        Box::new(super::reader::ReadAhead::new(Box::new(
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 20, counted)),
        )))
    } else {
        Box::new(counted)
    };
    let reader = Reader::new(source, count);
    let mut snap = parse(name.clone(), file_bytes, reader, hooks).map_err(fail)?;
    snap.modified = metadata.modified().ok();
    Ok(snap)
}

/// Loads a snapshot held in memory (plain or gzip), e.g. for tests and fuzzing.
pub fn load_bytes(name: &str, bytes: &[u8], hooks: &Hooks) -> Result<Snapshot, LoadError> {
    let owned = bytes.to_vec();
    let count = Arc::new(AtomicU64::new(0));
    let cursor = super::reader::Counting {
        inner: std::io::Cursor::new(owned),
        count: count.clone(),
    };
    let source: Box<dyn Read + Send> = if bytes.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(cursor))
    } else {
        Box::new(cursor)
    };
    parse(
        name.to_string(),
        bytes.len() as u64,
        Reader::new(source, count),
        hooks,
    )
    .map_err(|k| LoadError::new(name, k))
}

fn read_prefix(file: &mut File, out: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < out.len() {
        match file.read(&mut out[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

#[derive(Deserialize)]
struct Header {
    meta: RawMeta,
    node_count: Option<u64>,
    edge_count: Option<u64>,
    root_index: Option<u64>,
}

#[derive(Deserialize)]
struct RawMeta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    location_fields: Vec<String>,
}

/// Resolved layout: which column each position of a record feeds.
struct Layout {
    node_fields: Arc<[NodeField]>,
    edge_fields: Arc<[EdgeField]>,
    location_fields: Vec<usize>, // positions of object_index, script_id, line, column
    has_detachedness: bool,
}

struct Builder<'a> {
    name: String,
    file_bytes: u64,
    hooks: &'a Hooks<'a>,
    header: Option<(Header, Layout, Meta)>,
    snap: Snapshot,
    nodes: Option<NodeColumns>,
    edges: Option<EdgeColumns>,
    node_values: u64,
    edge_values: u64,
    locations: Option<LocationColumns>,
    location_values: u64,
    seen_strings: bool,
}

fn parse(
    name: String,
    file_bytes: u64,
    mut r: Reader,
    hooks: &Hooks,
) -> Result<Snapshot, LoadErrorKind> {
    let mut b = Builder {
        name,
        file_bytes,
        hooks,
        header: None,
        snap: Snapshot::default(),
        nodes: None,
        edges: None,
        node_values: 0,
        edge_values: 0,
        locations: None,
        location_values: 0,
        seen_strings: false,
    };
    match r.peek()? {
        None => return Err(LoadErrorKind::Empty),
        Some(b'{') => r.bump(),
        Some(_) => {
            return Err(LoadErrorKind::NotSnapshot(
                "the file does not start with a JSON object".into(),
            ));
        }
    }
    let mut first = true;
    loop {
        match r.peek()? {
            None => return Err(truncated(&r, "top level")),
            Some(b'}') => {
                r.bump();
                break;
            }
            Some(b',') if !first => r.bump(),
            Some(_) if first => {}
            Some(c) => {
                return Err(syntax(
                    &r,
                    format!("expected ',' or '}}', found {:?}", c as char),
                ));
            }
        }
        first = false;
        let key = read_key(&mut r)?;
        match key.as_str() {
            "snapshot" => b.read_header(&mut r)?,
            "nodes" => b.read_nodes(&mut r)?,
            "edges" => b.read_edges(&mut r)?,
            "locations" => b.read_locations(&mut r)?,
            "strings" => b.read_strings(&mut r)?,
            _ => skip_value(&mut r, &key, None)?,
        }
    }
    b.finish()
}

fn truncated(r: &Reader, section: &str) -> LoadErrorKind {
    LoadErrorKind::Truncated {
        section: section.to_string(),
        offset: r.offset(),
    }
}

fn syntax(r: &Reader, what: String) -> LoadErrorKind {
    LoadErrorKind::Syntax {
        offset: r.offset(),
        what,
    }
}

/// Reads `"key" :`.
fn read_key(r: &mut Reader) -> Result<String, LoadErrorKind> {
    match r.peek()? {
        Some(b'"') => {}
        None => return Err(truncated(r, "top level")),
        Some(c) => return Err(syntax(r, format!("expected a key, found {:?}", c as char))),
    }
    let mut scratch = Vec::new();
    read_string(r, &mut scratch, "top level", 1 << 10)?;
    match r.peek()? {
        Some(b':') => r.bump(),
        None => return Err(truncated(r, "top level")),
        Some(c) => return Err(syntax(r, format!("expected ':', found {:?}", c as char))),
    }
    Ok(String::from_utf8_lossy(&scratch).into_owned())
}

/// Decodes a JSON string (the reader is at its opening quote), appending its UTF-8 bytes to `out`.
/// Lone surrogates, which V8 writes for broken UTF-16, become U+FFFD.
fn read_string(
    r: &mut Reader,
    out: &mut Vec<u8>,
    section: &str,
    limit: usize,
) -> Result<(), LoadErrorKind> {
    let start = out.len();
    r.bump(); // opening quote
    loop {
        let window = r.window();
        match memchr::memchr2(b'"', b'\\', window) {
            Some(i) => {
                out.extend_from_slice(&window[..i]);
                let c = window[i];
                r.pos += i + 1;
                if c == b'"' {
                    return Ok(());
                }
                decode_escape(r, out, section)?;
            }
            None => {
                out.extend_from_slice(window);
                r.pos = r.end;
                if !r.fill()? {
                    return Err(truncated(r, section));
                }
            }
        }
        if out.len() - start > limit {
            return Err(syntax(
                r,
                format!("string in \"{section}\" longer than {limit} bytes"),
            ));
        }
    }
}

/// Decodes the escape after a backslash.
fn decode_escape(r: &mut Reader, out: &mut Vec<u8>, section: &str) -> Result<(), LoadErrorKind> {
    if !r.ensure(1)? {
        return Err(truncated(r, section));
    }
    let c = r.window()[0];
    r.pos += 1;
    let simple = match c {
        b'"' => Some(b'"'),
        b'\\' => Some(b'\\'),
        b'/' => Some(b'/'),
        b'b' => Some(8),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'u' => None,
        _ => return Err(syntax(r, format!("bad escape \\{}", c as char))),
    };
    if let Some(byte) = simple {
        out.push(byte);
        return Ok(());
    }
    let hi = read_hex4(r, section)?;
    let ch = if (0xD800..0xDC00).contains(&hi) {
        // A high surrogate: combine with a following low one if there is one.
        let pair = r.ensure(6)? && r.window()[0] == b'\\' && r.window()[1] == b'u';
        if pair {
            let save = r.pos;
            r.pos += 2;
            let lo = read_hex4(r, section)?;
            if (0xDC00..0xE000).contains(&lo) {
                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
            } else {
                r.pos = save;
                None
            }
        } else {
            None
        }
    } else {
        char::from_u32(hi)
    };
    let ch = ch.unwrap_or(char::REPLACEMENT_CHARACTER);
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    Ok(())
}

fn read_hex4(r: &mut Reader, section: &str) -> Result<u32, LoadErrorKind> {
    if !r.ensure(4)? {
        return Err(truncated(r, section));
    }
    let digits = &r.window()[..4];
    let mut v = 0u32;
    for &d in digits {
        let x = (d as char)
            .to_digit(16)
            .ok_or_else(|| syntax(r, "bad \\u escape".into()))?;
        v = v * 16 + x;
    }
    r.pos += 4;
    Ok(v)
}

/// Skips one JSON value of any shape without recursion, optionally copying its bytes (for the
/// header, bounded by `keep`'s limit).
fn skip_value(
    r: &mut Reader,
    section: &str,
    mut keep: Option<(&mut Vec<u8>, usize)>,
) -> Result<(), LoadErrorKind> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut started = false;
    loop {
        if r.pos >= r.end && !r.fill()? {
            return Err(truncated(r, section));
        }
        let window = r.window();
        let mut consumed = 0;
        let mut done = false;
        for (i, &c) in window.iter().enumerate() {
            if in_string {
                if escaped {
                    escaped = false;
                } else if c == b'\\' {
                    escaped = true;
                } else if c == b'"' {
                    in_string = false;
                    if depth == 0 {
                        consumed = i + 1;
                        done = true;
                        break;
                    }
                }
                continue;
            }
            match c {
                b'"' => {
                    in_string = true;
                    started = true;
                }
                b'{' | b'[' => {
                    depth += 1;
                    started = true;
                }
                b'}' | b']' => {
                    if depth == 0 {
                        // End of the enclosing container: a scalar value ended just before.
                        consumed = i;
                        done = true;
                        break;
                    }
                    depth -= 1;
                    if depth == 0 {
                        consumed = i + 1;
                        done = true;
                        break;
                    }
                }
                b',' if depth == 0 => {
                    consumed = i;
                    done = true;
                    break;
                }
                c if super::reader::is_ws(c) => {
                    if depth == 0 && started {
                        consumed = i;
                        done = true;
                        break;
                    }
                }
                _ => started = true,
            }
        }
        if !done {
            consumed = window.len();
        }
        if let Some((buf, limit)) = keep.as_mut() {
            buf.extend_from_slice(&window[..consumed]);
            if buf.len() > *limit {
                return Err(LoadErrorKind::NotSnapshot(format!(
                    "\"{section}\" is larger than {limit} bytes"
                )));
            }
        }
        r.pos += consumed;
        if done {
            return Ok(());
        }
    }
}

impl Builder<'_> {
    fn check_cancel(&self) -> Result<(), LoadErrorKind> {
        if self.hooks.is_cancelled() {
            Err(LoadErrorKind::Cancelled)
        } else {
            Ok(())
        }
    }

    fn report(&self, r: &Reader, phase: &'static str) {
        if self.hooks.progress.is_some() {
            let read = r.raw_read.load(Ordering::Relaxed) as f64;
            let fraction = if self.file_bytes > 0 {
                read / self.file_bytes as f64
            } else {
                1.0
            };
            self.hooks.report(phase, fraction as f32);
        }
    }

    fn read_header(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let start = r.offset();
        let mut text = Vec::new();
        skip_value(r, "snapshot", Some((&mut text, 64 << 20)))?;
        let header: Header = serde_json::from_slice(&text)
            .map_err(|e| LoadErrorKind::BadMeta(format!("{e} (header at byte {start})")))?;
        let (layout, meta) = resolve_layout(&header.meta)?;
        self.snap.meta = meta.clone();
        self.header = Some((header, layout, meta));
        Ok(())
    }

    fn layout(&self, section: &str) -> Result<&Layout, LoadErrorKind> {
        match &self.header {
            Some((_, layout, _)) => Ok(layout),
            None => Err(LoadErrorKind::NotSnapshot(format!(
                "\"{section}\" comes before the \"snapshot\" header"
            ))),
        }
    }

    /// Reads a number array block by block into `columns`; returns how many values it held.
    fn read_number_array<C: Columns>(
        &self,
        r: &mut Reader,
        section: &'static str,
        phase: &'static str,
        columns: &mut C,
    ) -> Result<u64, LoadErrorKind> {
        match r.peek()? {
            Some(b'[') => r.bump(),
            None => return Err(truncated(r, section)),
            Some(c) => {
                return Err(syntax(
                    r,
                    format!("\"{section}\" must be an array, found {:?}", c as char),
                ));
            }
        }
        let mut values = 0u64;
        loop {
            self.check_cancel()?;
            if r.pos >= r.end && !r.fill()? {
                return Err(truncated(r, section));
            }
            let window = r.window();
            let (text_len, last) = match memchr::memchr(b']', window) {
                Some(i) => (i, true),
                None => match memchr::memrchr(b',', window) {
                    Some(i) => (i + 1, false),
                    None => (0, false),
                },
            };
            let base = r.offset();
            let (parsed, used) = numbers::parse_block(&window[..text_len], last, columns).map_err(
                |PieceError { at, what }| LoadErrorKind::BadNumber {
                    section: section.to_string(),
                    offset: base + at as u64,
                    what,
                },
            )?;
            values += parsed;
            if last {
                r.pos += used + 1;
                self.report(r, phase);
                return Ok(values);
            }
            if used == 0 {
                // Not one whole record in the window: it needs more bytes to make progress.
                if !r.fill()? {
                    return Err(truncated(r, section));
                }
                continue;
            }
            r.pos += used;
            self.report(r, phase);
        }
    }

    /// An upper bound for a header count that the file could really hold (each value takes at
    /// least two bytes), so a lying header cannot make us reserve memory the file does not back.
    fn plausible(&self, header: Option<u64>, fields: usize) -> usize {
        let most = self.file_bytes / (2 * fields as u64).max(1);
        // A gzip file can hold far more than its size; reserve nothing rather than guess.
        let compressed = self.file_bytes > 0 && header.is_some_and(|h| h > most);
        if compressed {
            0
        } else {
            header.unwrap_or(0).min(most) as usize
        }
    }

    fn read_nodes(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let layout = self.layout("nodes")?;
        let mut columns = NodeColumns::new(layout.node_fields.clone());
        let width = layout.node_fields.len();
        if self.nodes.is_some() {
            return Err(LoadErrorKind::NotSnapshot("\"nodes\" appears twice".into()));
        }
        let header = self.header.as_ref().and_then(|h| h.0.node_count);
        columns.reserve(self.plausible(header, width));
        self.node_values = self.read_number_array(r, "nodes", "reading nodes", &mut columns)?;
        self.nodes = Some(columns);
        Ok(())
    }

    fn read_edges(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let layout = self.layout("edges")?;
        let mut columns = EdgeColumns::new(
            layout.edge_fields.clone(),
            layout.node_fields.len(),
            self.snap.meta.edge_types.len(),
        );
        let width = layout.edge_fields.len();
        if self.edges.is_some() {
            return Err(LoadErrorKind::NotSnapshot("\"edges\" appears twice".into()));
        }
        let header = self.header.as_ref().and_then(|h| h.0.edge_count);
        columns.reserve(self.plausible(header, width));
        self.edge_values = self.read_number_array(r, "edges", "reading edges", &mut columns)?;
        self.edges = Some(columns);
        Ok(())
    }

    fn read_locations(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let layout = self.layout("locations")?;
        let (at, nf) = (layout.location_fields.clone(), layout.node_fields.len());
        let width = self.snap.meta.location_fields.len();
        let mut columns = self
            .locations
            .take()
            .unwrap_or_else(|| LocationColumns::new(width, &at, nf));
        self.location_values +=
            self.read_number_array(r, "locations", "reading locations", &mut columns)?;
        self.locations = Some(columns);
        Ok(())
    }

    fn read_strings(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        if self.seen_strings {
            return Err(LoadErrorKind::NotSnapshot(
                "\"strings\" appears twice".into(),
            ));
        }
        self.seen_strings = true;
        match r.peek()? {
            Some(b'[') => r.bump(),
            None => return Err(truncated(r, "strings")),
            Some(c) => {
                return Err(syntax(
                    r,
                    format!("\"strings\" must be an array, found {:?}", c as char),
                ));
            }
        }
        let mut strings = Strings::new();
        let mut first = true;
        let mut since_report = 0usize;
        loop {
            match r.peek()? {
                None => return Err(truncated(r, "strings")),
                Some(b']') => {
                    r.bump();
                    break;
                }
                Some(b',') if !first => {
                    r.bump();
                    match r.peek()? {
                        Some(b'"') => {}
                        None => return Err(truncated(r, "strings")),
                        Some(c) => {
                            return Err(syntax(
                                r,
                                format!("expected a string in \"strings\", found {:?}", c as char),
                            ));
                        }
                    }
                }
                Some(b'"') if first => {}
                Some(c) => {
                    return Err(syntax(
                        r,
                        format!("expected a string in \"strings\", found {:?}", c as char),
                    ));
                }
            }
            first = false;
            // Decoded straight into the table: a 1 GB string is never held twice.
            let before = strings.byte_len();
            strings.push_with(|bytes| read_string(r, bytes, "strings", usize::MAX))?;
            since_report += strings.byte_len() - before + 3;
            if since_report > super::reader::BLOCK {
                since_report = 0;
                self.check_cancel()?;
                self.report(r, "reading strings");
            }
        }
        strings.shrink_to_fit();
        self.snap.strings = strings;
        Ok(())
    }

    /// Checks counts and every index, and turns edge counts into CSR offsets.
    fn finish(mut self) -> Result<Snapshot, LoadErrorKind> {
        let Some((header, layout, _)) = self.header.take() else {
            return Err(LoadErrorKind::NotSnapshot("no \"snapshot\" header".into()));
        };
        let (Some(nodes), Some(edges)) = (self.nodes.take(), self.edges.take()) else {
            let what = if self.nodes.is_none() {
                "nodes"
            } else {
                "edges"
            };
            return Err(LoadErrorKind::NotSnapshot(format!("no \"{what}\" section")));
        };
        if !self.seen_strings {
            return Err(LoadErrorKind::NotSnapshot("no \"strings\" section".into()));
        }
        let nf = layout.node_fields.len();
        let ef = layout.edge_fields.len();
        if !self.node_values.is_multiple_of(nf as u64) {
            return Err(LoadErrorKind::Misaligned {
                section: "nodes".into(),
                len: self.node_values,
                fields: nf,
            });
        }
        if !self.edge_values.is_multiple_of(ef as u64) {
            return Err(LoadErrorKind::Misaligned {
                section: "edges".into(),
                len: self.edge_values,
                fields: ef,
            });
        }
        let s = &mut self.snap;
        s.node_type = nodes.node_type;
        s.node_name = nodes.name;
        s.node_id = nodes.id;
        s.node_self_size = nodes.self_size;
        s.first_edge = nodes.edge_count;
        s.node_detachedness = nodes.detachedness;
        let edges = edges.into_edges();
        s.edges = edges.packed;
        s.edge_to = edges.to;
        let node_count = (self.node_values / nf as u64) as usize;
        let edge_count = (self.edge_values / ef as u64) as usize;
        if let Some(h) = header.node_count
            && h != node_count as u64
        {
            return Err(LoadErrorKind::CountMismatch {
                what: "nodes",
                header: h,
                actual: node_count as u64,
            });
        }
        if let Some(h) = header.edge_count
            && h != edge_count as u64
        {
            return Err(LoadErrorKind::CountMismatch {
                what: "edges",
                header: h,
                actual: edge_count as u64,
            });
        }
        if node_count == 0 {
            return Err(LoadErrorKind::NotSnapshot(
                "the snapshot has no nodes".into(),
            ));
        }
        if node_count >= u32::MAX as usize || edge_count >= u32::MAX as usize {
            return Err(LoadErrorKind::TooLarge(format!(
                "{node_count} nodes and {edge_count} edges; at most 2^32 - 1 of each are supported"
            )));
        }
        let strings = s.strings.len() as u64;
        // Node types and names.
        let types = s.meta.node_types.len();
        if let Some(i) = first_bad(&s.node_type, |&t| t as usize >= types) {
            return Err(LoadErrorKind::BadNode {
                node: i as u64,
                what: format!("unknown node type {} (meta lists {types})", s.node_type[i]),
            });
        }
        if let Some(i) = first_bad(&s.node_name, |&n| n as u64 >= strings) {
            return Err(LoadErrorKind::BadNode {
                node: i as u64,
                what: format!(
                    "name {} is past the end of the {strings} strings",
                    s.node_name[i]
                ),
            });
        }
        // Edge counts to CSR offsets.
        let mut total: u64 = 0;
        for slot in s.first_edge.iter_mut() {
            let count = *slot as u64;
            *slot = total as u32;
            total += count;
            if total > edge_count as u64 {
                break;
            }
        }
        if total != edge_count as u64 {
            return Err(LoadErrorKind::CountMismatch {
                what: "edges (sum of the nodes' edge_count fields)",
                header: total,
                actual: edge_count as u64,
            });
        }
        s.first_edge.push(total as u32);
        // Edge types, targets and names. The packed column has no room for a type the meta
        // does not list: the loader noted the first one as it read.
        let edge_types = s.meta.edge_types.len();
        if let Some((edge, t)) = edges.unknown_type {
            return Err(LoadErrorKind::BadEdge {
                edge,
                what: format!("unknown edge type {t} (meta lists {edge_types})"),
            });
        }
        if let Some(i) = first_bad(&s.edge_to, |&t| t as usize >= node_count) {
            return Err(LoadErrorKind::BadEdge {
                edge: i as u64,
                what: format!(
                    "to_node {} is past the last node",
                    s.edge_to[i] as u64 * nf as u64
                ),
            });
        }
        let meta = &s.meta;
        let string_named: Vec<bool> = (0..=255u8)
            .map(|t| meta.edge_kind(t).has_string_name())
            .collect();
        let bad_name = first_bad_index(edge_count, |e| {
            let e = e as u32;
            string_named[s.edge_type(e) as usize] && u64::from(s.edge_name_index(e)) >= strings
        });
        if let Some(i) = bad_name {
            return Err(LoadErrorKind::BadEdge {
                edge: i as u64,
                what: format!(
                    "name {} is past the end of the {strings} strings",
                    s.edge_name_index(i as u32)
                ),
            });
        }
        // Root.
        let root_index = header.root_index.unwrap_or(0);
        if root_index % nf as u64 != 0 || root_index / nf as u64 >= node_count as u64 {
            return Err(LoadErrorKind::BadMeta(format!(
                "root_index {root_index} is not a node"
            )));
        }
        s.root = (root_index / nf as u64) as u32;
        // Locations.
        let lf = &layout.location_fields;
        if self.location_values > 0 {
            let width = s.meta.location_fields.len();
            if width == 0 || lf.len() != 4 || !self.location_values.is_multiple_of(width as u64) {
                return Err(LoadErrorKind::Misaligned {
                    section: "locations".into(),
                    len: self.location_values,
                    fields: width,
                });
            }
            let mut locations = self.locations.take().map(|l| l.rows).unwrap_or_default();
            if let Some(i) = first_bad(&locations, |l| l.node as usize >= node_count) {
                let node = locations[i].node;
                let what = if node == NOT_A_NODE {
                    format!("location {i} does not point at a node")
                } else {
                    format!("location {i} points past the last node")
                };
                return Err(LoadErrorKind::BadNode {
                    node: u64::from(node),
                    what,
                });
            }
            // Node writes locations in runs of ascending nodes, not sorted; the stable sort
            // takes those runs as they are.
            if !locations.is_sorted_by_key(|l| l.node) {
                locations.par_sort_by_key(|l| l.node);
            }
            // A node has one location; should a file give one several, the smallest is kept,
            // whatever order the sort left them in.
            if locations.windows(2).any(|w| w[0].node == w[1].node) {
                let runs = locations.chunk_by(|a, b| a.node == b.node);
                let smallest = |run: &[super::Location]| {
                    run.iter()
                        .copied()
                        .min_by_key(|l| (l.script_id, l.line, l.column))
                };
                locations = runs.filter_map(smallest).collect();
            }
            s.locations = super::Locations::new(node_count, &locations);
        }
        // Node writes the field but leaves it 0 everywhere; an all-unknown column carries no
        // information (DOM state propagation starts from attached/detached nodes only), so it is
        // not kept.
        if !layout.has_detachedness || s.node_detachedness.iter().all(|&d| d == 0) {
            s.node_detachedness = Vec::new();
        }
        s.file_name = self.name;
        s.file_bytes = self.file_bytes;
        Ok(self.snap)
    }
}

/// Index of the first element for which `bad` holds.
fn first_bad<T: Sync>(values: &[T], bad: impl Fn(&T) -> bool + Sync) -> Option<usize> {
    first_bad_index(values.len(), |i| bad(&values[i]))
}

/// The first of `0..len` for which `bad` holds, checked on all cores in large chunks (a
/// per-element parallel search pays for an atomic check per element).
fn first_bad_index(len: usize, bad: impl Fn(usize) -> bool + Sync) -> Option<usize> {
    const CHUNK: usize = 1 << 18;
    (0..len.div_ceil(CHUNK))
        .into_par_iter()
        .find_map_first(|k| (k * CHUNK..len.min((k + 1) * CHUNK)).find(|&i| bad(i)))
}

fn type_list(
    values: &[serde_json::Value],
    offset: usize,
    what: &str,
) -> Result<Vec<String>, LoadErrorKind> {
    let list = values
        .get(offset)
        .and_then(|v| v.as_array())
        .ok_or_else(|| {
            LoadErrorKind::BadMeta(format!("{what}[{offset}] is not a list of type names"))
        })?;
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                LoadErrorKind::BadMeta(format!("{what} has a type name that is not a string"))
            })
        })
        .collect()
}

fn resolve_layout(raw: &RawMeta) -> Result<(Layout, Meta), LoadErrorKind> {
    let find = |fields: &[String], name: &str, what: &str| {
        fields
            .iter()
            .position(|f| f == name)
            .ok_or_else(|| LoadErrorKind::BadMeta(format!("{what} has no \"{name}\"")))
    };
    for name in ["type", "name", "id", "self_size", "edge_count"] {
        find(&raw.node_fields, name, "node_fields")?;
    }
    for name in ["type", "name_or_index", "to_node"] {
        find(&raw.edge_fields, name, "edge_fields")?;
    }
    let node_type_at = find(&raw.node_fields, "type", "node_fields")?;
    let edge_type_at = find(&raw.edge_fields, "type", "edge_fields")?;
    let node_types = type_list(&raw.node_types, node_type_at, "node_types")?;
    let edge_types = type_list(&raw.edge_types, edge_type_at, "edge_types")?;
    if node_types.len() > 256 || edge_types.len() > 256 {
        return Err(LoadErrorKind::BadMeta(
            "more than 256 node or edge types".into(),
        ));
    }
    let node_fields = raw
        .node_fields
        .iter()
        .map(|f| match f.as_str() {
            "type" => NodeField::Type,
            "name" => NodeField::Name,
            "id" => NodeField::Id,
            "self_size" => NodeField::SelfSize,
            "edge_count" => NodeField::EdgeCount,
            "detachedness" => NodeField::Detachedness,
            _ => NodeField::Ignored,
        })
        .collect::<Arc<[_]>>();
    let edge_fields = raw
        .edge_fields
        .iter()
        .map(|f| match f.as_str() {
            "type" => EdgeField::Type,
            "name_or_index" => EdgeField::Name,
            "to_node" => EdgeField::To,
            _ => EdgeField::Ignored,
        })
        .collect::<Arc<[_]>>();
    let duplicated = |v: &[String]| {
        let mut s: Vec<&String> = v.iter().collect();
        s.sort();
        s.windows(2).any(|w| w[0] == w[1])
    };
    if duplicated(&raw.node_fields) || duplicated(&raw.edge_fields) {
        return Err(LoadErrorKind::BadMeta("a field is listed twice".into()));
    }
    let location_fields = ["object_index", "script_id", "line", "column"]
        .iter()
        .filter_map(|name| raw.location_fields.iter().position(|f| f == name))
        .collect();
    let has_detachedness = node_fields.contains(&NodeField::Detachedness);
    let meta = Meta::new(
        raw.node_fields.clone(),
        node_types,
        raw.edge_fields.clone(),
        edge_types,
        raw.location_fields.clone(),
    );
    Ok((
        Layout {
            node_fields,
            edge_fields,
            location_fields,
            has_detachedness,
        },
        meta,
    ))
}
