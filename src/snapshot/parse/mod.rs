//! Streams a `.heapsnapshot` (plain or gzip) into a [`Snapshot`].
//!
//! The top level is read token by token; `snapshot` (the small header) goes through serde_json;
//! the number arrays go through the parallel block parser straight into columns; `strings` is
//! decoded in one pass; anything else (trace trees, samples, Chromium's `scopes`…) is skipped
//! without being kept. Every value that will be used as an index is checked before the snapshot
//! is handed out, so the rest of the engine can index without fear.
//!
//! Four files: this one drives the reading (the top-level keys, each section into its columns);
//! `json` is the JSON token reader (keys, strings and escapes, values skipped without recursion);
//! `header` resolves `snapshot.meta` into a layout; `finish` validates every count and index and
//! hands out the [`Snapshot`].

mod finish;
mod header;
mod ints;
mod json;
mod traces;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Snapshot;
use super::columns::{EdgeColumns, FlatColumns, LocationColumns, NodeColumns};
use super::error::{LoadError, LoadErrorKind};
use super::meta::Meta;
use super::numbers::{self, Columns, PieceError};
use super::reader::Reader;
use super::strings::Strings;
use super::traces::TraceNode;
use crate::task::Hooks;
use header::{Header, Layout, resolve_layout};
use json::{read_key, read_string, skip_value, syntax, truncated};

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

/// The first `byte` of `text`, searched on all cores in a large window (a number array's
/// closing bracket is looked for in every block of the window: one core scanning while the others
/// waited).
fn first_in(text: &[u8], byte: u8) -> Option<usize> {
    use rayon::prelude::*;
    const PIECE: usize = 1 << 20;
    if text.len() < 2 * PIECE {
        return memchr::memchr(byte, text);
    }
    (0..text.len().div_ceil(PIECE))
        .into_par_iter()
        .find_map_first(|k| {
            let from = k * PIECE;
            let piece = &text[from..(from + PIECE).min(text.len())];
            memchr::memchr(byte, piece).map(|i| from + i)
        })
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
    /// `trace_function_infos` and how many values it held.
    trace_functions: Option<(FlatColumns, u64)>,
    /// `trace_tree`, or why it is unusable.
    trace_tree: Option<Result<Vec<TraceNode>, String>>,
    /// Top-level keys JavaScriptCore's format has and V8's lacks, seen before any header.
    jsc_keys: bool,
    /// Top-level keys heapdiff does not know, in file order.
    unknown_sections: Vec<String>,
    /// `scopes`, `scope_context_vars`, `scope_uses` (Chromium 156+), or why each is unusable.
    scope_tables: [Option<Result<Vec<i64>, String>>; 3],
}

/// The scope tables' section names, in [`Builder::scope_tables`] order.
const SCOPE_SECTIONS: [&str; 3] = ["scopes", "scope_context_vars", "scope_uses"];

/// Values kept at most of each scope table.
const MAX_SCOPE_VALUES: usize = 8 << 20;

/// The top-level keys of JavaScriptCore's heap snapshot (`{"version":2|3,"type":"Inspector",
/// "nodes":[…],"nodeClassNames":[…],"edges":[…],"edgeTypes":[…],"edgeNames":[…]…}`, what Bun's
/// `Bun.generateHeapSnapshot()` gives without `"v8"`), none of which V8 writes.
const JSC_KEYS: [&str; 6] = [
    "version",
    "type",
    "nodeClassNames",
    "edgeTypes",
    "edgeNames",
    "labels",
];

/// Sections V8 writes that heapdiff skips on purpose: DevTools reads `samples` for its
/// allocation timeline only.
const SKIPPED_SECTIONS: [&str; 1] = ["samples"];

/// Values kept at most of `trace_function_infos` (six a function: a million functions).
const MAX_TRACE_FUNCTION_VALUES: usize = 6 << 20;

/// The refusal of a JavaScriptCore file.
fn jsc_format() -> LoadErrorKind {
    LoadErrorKind::NotSnapshot(
        "this is JavaScriptCore's heap snapshot format (Bun's `Bun.generateHeapSnapshot()`), \
         not V8's; take the snapshot with `Bun.generateHeapSnapshot(\"v8\")` and open that"
            .into(),
    )
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
        trace_functions: None,
        trace_tree: None,
        jsc_keys: false,
        unknown_sections: Vec::new(),
        scope_tables: [None, None, None],
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
        if b.header.is_none() && JSC_KEYS.contains(&key.as_str()) {
            b.jsc_keys = true;
        }
        match key.as_str() {
            "snapshot" => b.read_header(&mut r)?,
            "nodes" => b.read_nodes(&mut r)?,
            "edges" => b.read_edges(&mut r)?,
            "locations" => b.read_locations(&mut r)?,
            "strings" => b.read_strings(&mut r)?,
            "trace_function_infos" => b.read_trace_functions(&mut r)?,
            "trace_tree" => b.read_trace_tree(&mut r)?,
            k if SCOPE_SECTIONS.contains(&k) => b.read_scope_table(&mut r, &key)?,
            _ => {
                let known = SKIPPED_SECTIONS.contains(&key.as_str());
                if !known && !b.jsc_keys && !b.unknown_sections.contains(&key) {
                    b.unknown_sections.push(key.clone());
                }
                skip_value(&mut r, &key, None)?
            }
        }
    }
    b.finish()
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
        let keep_traces = header.trace_function_count.unwrap_or(0) > 0;
        let (layout, meta) = resolve_layout(&header.meta, keep_traces)?;
        self.snap.meta = meta.clone();
        self.header = Some((header, layout, meta));
        Ok(())
    }

    fn layout(&self, section: &str) -> Result<&Layout, LoadErrorKind> {
        match &self.header {
            Some((_, layout, _)) => Ok(layout),
            None if self.jsc_keys => Err(jsc_format()),
            None => Err(LoadErrorKind::NotSnapshot(format!(
                "\"{section}\" comes before the \"snapshot\" header"
            ))),
        }
    }

    /// `trace_function_infos`, `meta.trace_function_info_fields` values a function. Read
    /// whatever the header's `trace_function_count` says: Node's in-process tracking writes
    /// that count before the functions it runs while serialising (see `finish`).
    fn read_trace_functions(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let width = match &self.header {
            Some((header, _, _)) => header.meta.trace_function_info_fields.len(),
            None => return self.layout("trace_function_infos").map(|_| ()),
        };
        if self.trace_functions.is_some() {
            return Err(LoadErrorKind::NotSnapshot(
                "\"trace_function_infos\" appears twice".into(),
            ));
        }
        let mut columns = FlatColumns::new(width, MAX_TRACE_FUNCTION_VALUES);
        let values = self.read_number_array(
            r,
            "trace_function_infos",
            "reading allocation traces",
            &mut columns,
        )?;
        self.trace_functions = Some((columns, values));
        Ok(())
    }

    fn read_scope_table(&mut self, r: &mut Reader, key: &str) -> Result<(), LoadErrorKind> {
        self.layout(key)?;
        let Some(at) = SCOPE_SECTIONS.iter().position(|&s| s == key) else {
            return Ok(());
        };
        if self.scope_tables[at].is_some() {
            return Err(LoadErrorKind::NotSnapshot(format!(
                "\"{key}\" appears twice"
            )));
        }
        self.check_cancel()?;
        self.scope_tables[at] = Some(ints::read_int_array(r, key, MAX_SCOPE_VALUES)?);
        Ok(())
    }

    fn read_trace_tree(&mut self, r: &mut Reader) -> Result<(), LoadErrorKind> {
        let layout = match &self.header {
            Some((header, _, _)) => traces::TreeLayout::new(&header.meta.trace_node_fields),
            None => return self.layout("trace_tree").map(|_| ()),
        };
        if self.trace_tree.is_some() {
            return Err(LoadErrorKind::NotSnapshot(
                "\"trace_tree\" appears twice".into(),
            ));
        }
        self.check_cancel()?;
        self.trace_tree = Some(traces::read_trace_tree(r, layout)?);
        Ok(())
    }

    /// Reads a number array block by block into `columns`; returns how many values it held.
    fn read_number_array<C: Columns + Send>(
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
            let (text_len, last) = match first_in(window, b']') {
                Some(i) => (i, true),
                None => match memchr::memrchr(b',', window) {
                    Some(i) => (i + 1, false),
                    None => (0, false),
                },
            };
            let base = r.offset();
            let (parsed, used) = r
                .parse_reading_ahead(|window| {
                    numbers::parse_block(&window[..text_len], last, columns)
                })?
                .map_err(|PieceError { at, what }| LoadErrorKind::BadNumber {
                    section: section.to_string(),
                    offset: base + at as u64,
                    what,
                })?;
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
        let script_object_at = layout.script_object_at;
        let width = self.snap.meta.location_fields.len();
        let mut columns = self
            .locations
            .take()
            .unwrap_or_else(|| LocationColumns::new(width, &at, script_object_at, nf));
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
}
