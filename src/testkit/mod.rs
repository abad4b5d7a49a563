//! Test support, compiled only with the `testkit` feature: the tests and examples get it through
//! the crate's dev-dependency on itself (`Cargo.toml`), so a plain `cargo test` or `cargo run
//! --example` has it and `cargo build` of the shipped binary does not.
//!
//! - [`generate`]: synthetic snapshots of any size, streamed ([`write`], [`Config`]);
//! - [`serialize`]: a loaded [`Snapshot`](crate::snapshot::Snapshot) back to JSON, and [`cut`]
//!   to shrink a real fixture;
//! - [`mutate`]: the seeded mutator and the "must not panic" pipeline of the mutation tests and
//!   the fuzz example;
//! - [`graph`]: hand-built snapshots for tests that check one rule each;
//! - [`alloc`]: the counting global allocator behind the tests' memory bounds;
//! - [`measure`]: CPU time and peak memory for the benchmarks and timing tests.
//!
//! V8's node and edge type lists live here once ([`NODE_TYPES`], [`EDGE_TYPES`]); the
//! generator's meta ([`node_meta`]) and the hand-built graphs' meta are made from them.

pub mod alloc;
pub mod generate;
pub mod graph;
pub mod measure;
pub mod mutate;
pub mod serialize;

pub use generate::{CLASSES, Config, Stats, to_vec, write};
pub use serialize::{cut, write_snapshot};

/// V8's node types in the order Node 20 and Chromium list them in `snapshot.meta`.
pub const NODE_TYPES: [&str; 16] = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
    "wasm object",
];

/// V8's edge types, in `snapshot.meta` order.
pub const EDGE_TYPES: [&str; 7] = [
    "context", "element", "property", "internal", "hidden", "shortcut", "weak",
];

/// Node 20's node fields (the layout of `tests/data/tiny.heapsnapshot`).
pub const NODE_FIELDS: [&str; 7] = [
    "type",
    "name",
    "id",
    "self_size",
    "edge_count",
    "trace_node_id",
    "detachedness",
];
pub const EDGE_FIELDS: [&str; 3] = ["type", "name_or_index", "to_node"];
pub const LOCATION_FIELDS: [&str; 4] = ["object_index", "script_id", "line", "column"];

/// The raw type index of node type `name` in [`NODE_TYPES`]; a `const fn`, so a misspelt type
/// fails the build.
pub const fn node_type(name: &str) -> u8 {
    position(&NODE_TYPES, name)
}

/// The raw type index of edge type `name` in [`EDGE_TYPES`].
pub const fn edge_type(name: &str) -> u8 {
    position(&EDGE_TYPES, name)
}

const fn position(list: &[&str], name: &str) -> u8 {
    let mut i = 0;
    while i < list.len() {
        if list[i].len() == name.len() {
            let (a, b) = (list[i].as_bytes(), name.as_bytes());
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i as u8;
            }
        }
        i += 1;
    }
    panic!("not a V8 node or edge type")
}

/// Node 20's `snapshot.meta` as V8 writes it: each type list at the position of its `type`
/// field, the other fields' kinds after it.
pub fn node_meta() -> String {
    let json = |v: &[&str]| serde_json::to_string(v).unwrap_or_default();
    format!(
        concat!(
            r#"{{"node_fields":{},"node_types":[{},"string","number","number","number","number","number"],"#,
            r#""edge_fields":{},"edge_types":[{},"string_or_number","node"],"#,
            r#""trace_function_info_fields":["function_id","name","script_name","script_id","line","column"],"#,
            r#""trace_node_fields":["id","function_info_index","count","size","children"],"#,
            r#""sample_fields":["timestamp_us","last_assigned_id"],"location_fields":{}}}"#
        ),
        json(&NODE_FIELDS),
        json(&NODE_TYPES),
        json(&EDGE_FIELDS),
        json(&EDGE_TYPES),
        json(&LOCATION_FIELDS),
    )
}
