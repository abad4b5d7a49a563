//! Writing snapshot JSON: decimal and string encoders, the ordered parallel section writer the
//! generator streams through, and [`write_snapshot`], which serialises an already loaded
//! [`Snapshot`] back to JSON so tests can cut real fixtures down ([`cut`]).

use std::io::{self, Write};

use rayon::prelude::*;

use crate::snapshot::{Location, Locations, Snapshot};

/// Appends the decimal digits of `v`.
#[inline]
pub fn put(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `s` as a JSON string (with quotes), escaping what JSON requires.
pub fn put_json_string(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => buf.extend_from_slice(e),
            None => {
                buf.extend_from_slice(b"\\u00");
                buf.push(b"0123456789abcdef"[(b >> 4) as usize]);
                buf.push(b"0123456789abcdef"[(b & 15) as usize]);
            }
        }
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
    buf.push(b'"');
}

/// Items per parallel chunk, and chunks generated per round before they are written in order.
const CHUNK: u64 = 1 << 15;
const ROUND: u64 = 16;

/// Generates `0..count` in parallel chunks with `f(range, buffer)` and writes them in order.
/// Writing runs on its own thread, so the disk works while the next round is generated.
pub fn stream(
    out: &mut (impl Write + Send),
    count: u64,
    f: &(dyn Fn(std::ops::Range<u64>, &mut Vec<u8>) + Sync),
) -> io::Result<u64> {
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(1);
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || -> io::Result<u64> {
            let mut written = 0u64;
            for bufs in receive {
                for b in bufs {
                    out.write_all(&b)?;
                    written += b.len() as u64;
                }
            }
            Ok(written)
        });
        let mut start = 0u64;
        while start < count {
            let chunks: Vec<std::ops::Range<u64>> = (0..ROUND)
                .map(|j| start + j * CHUNK)
                .take_while(|&s| s < count)
                .map(|s| s..(s + CHUNK).min(count))
                .collect();
            start = chunks.last().map_or(count, |r| r.end);
            let bufs: Vec<Vec<u8>> = chunks
                .into_par_iter()
                .map(|r| {
                    let mut buf = Vec::with_capacity(CHUNK as usize * 24);
                    f(r, &mut buf);
                    buf
                })
                .collect();
            // A send fails only when the writer stopped on an error, which join reports.
            if send.send(bufs).is_err() {
                break;
            }
        }
        drop(send);
        writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")))
    })
}

/// Serialises a loaded snapshot with its own meta. Fields the loader does not keep
/// (`trace_node_id`, unknown ones) are written as 0, so the result loads to the same graph.
pub fn write_snapshot(s: &Snapshot, out: &mut impl Write) -> io::Result<()> {
    let meta = serde_json::json!({
        "node_fields": s.meta.node_fields,
        "node_types": [s.meta.node_types],
        "edge_fields": s.meta.edge_fields,
        "edge_types": [s.meta.edge_types],
        "location_fields": s.meta.location_fields,
    });
    // The type lists sit at the position of the "type" field, as V8 writes them.
    let mut meta = meta;
    let place = |fields: &[String], types: &[String]| {
        fields
            .iter()
            .map(|f| {
                if f == "type" {
                    serde_json::json!(types)
                } else {
                    serde_json::json!("number")
                }
            })
            .collect::<Vec<_>>()
    };
    meta["node_types"] = serde_json::json!(place(&s.meta.node_fields, &s.meta.node_types));
    meta["edge_types"] = serde_json::json!(place(&s.meta.edge_fields, &s.meta.edge_types));
    let nf = s.meta.node_fields.len() as u64;
    write!(
        out,
        "{{\"snapshot\":{{\"meta\":{meta},\"node_count\":{},\"edge_count\":{},\"root_index\":{}}},\n\"nodes\":[",
        s.node_count(),
        s.edge_count(),
        u64::from(s.root) * nf
    )?;
    let mut buf = Vec::with_capacity(1 << 16);
    for n in 0..s.node_count() {
        if n > 0 {
            buf.push(b',');
        }
        for (j, f) in s.meta.node_fields.iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            let v = match f.as_str() {
                "type" => u64::from(s.node_type[n]),
                "name" => u64::from(s.node_name[n]),
                "id" => u64::from(s.node_id[n]),
                "self_size" => u64::from(s.node_self_size[n]),
                "edge_count" => u64::from(s.first_edge[n + 1] - s.first_edge[n]),
                "detachedness" => u64::from(s.detachedness(n as u32)),
                _ => 0,
            };
            put(&mut buf, v);
        }
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\n\"edges\":[");
    for e in 0..s.edge_count() {
        if e > 0 {
            buf.push(b',');
        }
        for (j, f) in s.meta.edge_fields.iter().enumerate() {
            if j > 0 {
                buf.push(b',');
            }
            let v = match f.as_str() {
                "type" => u64::from(s.edge_type(e as u32)),
                "name_or_index" => u64::from(s.edge_name_index(e as u32)),
                "to_node" => u64::from(s.edge_to[e]) * nf,
                _ => 0,
            };
            put(&mut buf, v);
        }
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\n\"locations\":[");
    for (i, l) in s.locations.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        // The loader only keeps these four fields, in this order.
        for (j, v) in [
            u64::from(l.node) * nf,
            l.script_id.into(),
            l.line.into(),
            l.column.into(),
        ]
        .into_iter()
        .enumerate()
        {
            if j > 0 {
                buf.push(b',');
            }
            put(&mut buf, v);
        }
    }
    buf.extend_from_slice(b"],\n\"strings\":[");
    for i in 0..s.strings.len() {
        if i > 0 {
            buf.push(b',');
        }
        put_json_string(&mut buf, s.strings.get(i as u32));
        if buf.len() > 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"]}\n");
    out.write_all(&buf)
}

/// A valid snapshot made of the first `keep` nodes of `s` (edges to dropped nodes dropped,
/// unused strings kept): real structure at a size debug builds can mutate thousands of times.
pub fn cut(s: &Snapshot, keep: usize) -> Vec<u8> {
    let keep = keep.clamp(1, s.node_count());
    let mut t = Snapshot::default();
    t.meta = s.meta.clone();
    t.file_name = s.file_name.clone();
    t.node_type = s.node_type[..keep].to_vec();
    t.node_name = s.node_name[..keep].to_vec();
    t.node_id = s.node_id[..keep].to_vec();
    t.node_self_size = s.node_self_size[..keep].to_vec();
    if !s.node_detachedness.is_empty() {
        t.node_detachedness = s.node_detachedness[..keep].to_vec();
    }
    t.first_edge.push(0);
    let (mut types, mut names) = (Vec::new(), Vec::new());
    for n in 0..keep as u32 {
        for e in s.edges(n) {
            if (s.edge_to[e as usize] as usize) < keep {
                types.push(s.edge_type(e));
                names.push(s.edge_name_index(e));
                t.edge_to.push(s.edge_to[e as usize]);
            }
        }
        t.first_edge.push(t.edge_to.len() as u32);
    }
    t.set_edges(&types, &names);
    t.strings = (0..s.strings.len())
        .map(|i| s.strings.get(i as u32).to_string())
        .collect();
    let kept: Vec<Location> = s
        .locations
        .iter()
        .filter(|l| (l.node as usize) < keep)
        .collect();
    t.locations = Locations::new(keep, &kept);
    t.root = if (s.root as usize) < keep { s.root } else { 0 };
    let mut v = Vec::new();
    let _ = write_snapshot(&t, &mut v);
    v
}
