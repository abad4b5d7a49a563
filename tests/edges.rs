//! Edge types and names through the loader, which packs them into 3 bytes per edge: every
//! value reads back as the file wrote it (names too large for their bits included), whichever
//! path stores it (whole records, or field by field in any order), and an unknown type is
//! refused with its edge and value.

use heapdiff::snapshot::{self, LoadErrorKind, Snapshot};
use heapdiff::testkit::{EDGE_TYPES, NODE_TYPES};

/// How the edges are written.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// As V8 writes them: `type,name,to` records, a newline before each comma between records.
    V8,
    /// V8's fields with a space after every comma: the careful path, a field at a time.
    Spaced,
    /// `name_or_index, x, to_node, type, y`: the name before the type, five fields a record.
    NameFirst,
}

struct Doc {
    /// Edge types the meta lists.
    types: usize,
    strings: u32,
    targets: u32,
    /// `(type, name, target node)`, all edges of the root.
    edges: Vec<(u32, u32, u32)>,
}

impl Doc {
    fn edge_types(&self) -> Vec<String> {
        (0..self.types)
            .map(|t| match EDGE_TYPES.get(t) {
                Some(name) => name.to_string(),
                None => format!("t{t}"),
            })
            .collect()
    }

    fn text(&self, shape: Shape) -> String {
        let fields = match shape {
            Shape::V8 | Shape::Spaced => r#"["type","name_or_index","to_node"]"#,
            Shape::NameFirst => r#"["name_or_index","x","to_node","type","y"]"#,
        };
        let types = serde_json::to_string(&self.edge_types()).unwrap();
        let node_types = serde_json::to_string(&NODE_TYPES).unwrap();
        let at_type = if matches!(shape, Shape::NameFirst) {
            3
        } else {
            0
        };
        let edge_types = format!("[{}{types}]", "\"number\",".repeat(at_type));
        let nodes_count = self.targets + 1;
        let mut nodes = format!("9,0,1,0,{}", self.edges.len());
        for n in 1..nodes_count {
            nodes += &format!(",3,0,{},8,0", 2 * n + 1);
        }
        let records: Vec<String> = self
            .edges
            .iter()
            .map(|&(t, name, to)| match shape {
                Shape::V8 => format!("{t},{name},{}", to * 5),
                Shape::Spaced => format!("{t}, {name}, {}", to * 5),
                Shape::NameFirst => format!("{name},0,{},{t},1", to * 5),
            })
            .collect();
        let separator = if matches!(shape, Shape::V8) {
            "\n,"
        } else {
            ", "
        };
        let strings: Vec<String> = (0..self.strings).map(|i| format!("s{i}")).collect();
        format!(
            r#"{{"snapshot":{{"meta":{{"node_fields":["type","name","id","self_size","edge_count"],"node_types":[{node_types}],"edge_fields":{fields},"edge_types":{edge_types}}},"node_count":{nodes_count},"edge_count":{}}},
"nodes":[{nodes}],
"edges":[{}],
"strings":{}}}"#,
            self.edges.len(),
            records.join(separator),
            serde_json::to_string(&strings).unwrap()
        )
    }
}

fn load(text: &str) -> Result<Snapshot, snapshot::LoadError> {
    snapshot::load_bytes("edges.heapsnapshot", text.as_bytes(), &Default::default())
}

fn xorshift(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// `count` edges with names of every size: small, around the largest that fits beside the
/// meta's types, and up to `u32::MAX` for indexed edges (string names stay below `strings`).
fn edges(
    types: usize,
    strings: u32,
    targets: u32,
    count: usize,
    seed: u64,
) -> Vec<(u32, u32, u32)> {
    let type_bits = usize::BITS - (types - 1).leading_zeros();
    let escape = (1u64 << (24 - type_bits)) - 1;
    let mut seed = seed;
    (0..count)
        .map(|_| {
            let t = (xorshift(&mut seed) % types as u64) as u32;
            let indexed = t == 1 || t == 4;
            let r = xorshift(&mut seed);
            let near = escape - 2 + r % 5;
            let name = match (r >> 8) % 8 {
                0..=3 => r % 1000,
                4 | 5 => near,
                6 => r >> 32,
                _ => u64::from(u32::MAX),
            };
            let name = if indexed {
                name
            } else {
                name % u64::from(strings)
            };
            let to = 1 + (xorshift(&mut seed) % u64::from(targets)) as u32;
            (t, name as u32, to)
        })
        .collect()
}

/// Over a megabyte of edges (the block is cut into regions written side by side), for 1, 2, 7
/// and 256 edge types (24, 23, 21 and 16 name bits), in every shape.
#[test]
fn every_type_and_name_reads_back() {
    for (types, strings) in [(1, 10), (2, 10), (7, 70_000), (256, 70_000)] {
        let doc = Doc {
            types,
            strings,
            targets: 1000,
            edges: edges(types, strings, 1000, 120_000, 0x9e37_79b9 + types as u64),
        };
        for shape in [Shape::V8, Shape::Spaced, Shape::NameFirst] {
            let text = doc.text(shape);
            assert!(text.len() > 1 << 20, "{} bytes", text.len());
            let s = load(&text).unwrap_or_else(|e| panic!("{types} types, {shape:?}: {e}"));
            assert_eq!(s.edge_count(), doc.edges.len());
            for (e, &(t, name, to)) in doc.edges.iter().enumerate() {
                let e = e as u32;
                let got = (
                    u32::from(s.edge_type(e)),
                    s.edge_name_index(e),
                    s.edge_to[e as usize],
                );
                assert_eq!(got, (t, name, to), "{types} types, {shape:?}, edge {e}");
            }
        }
    }
}

/// The first edge of a type the meta does not list, in text order, is named with its type,
/// however far into the file and whichever path stores it.
#[test]
fn an_unknown_edge_type_is_refused_with_its_value() {
    let mut doc = Doc {
        types: 7,
        strings: 10,
        targets: 10,
        edges: edges(7, 10, 10, 200_000, 7),
    };
    doc.edges[150_001].0 = 200;
    doc.edges[150_000].0 = 7;
    doc.edges[190_000].0 = 7;
    for shape in [Shape::V8, Shape::Spaced, Shape::NameFirst] {
        let text = doc.text(shape);
        assert!(text.len() > 1 << 20, "{} bytes", text.len());
        let err = load(&text).expect_err("unknown type");
        match &err.kind {
            LoadErrorKind::BadEdge { edge, what } => {
                assert_eq!(*edge, 150_000, "{shape:?}: {err}");
                assert_eq!(what, "unknown edge type 7 (meta lists 7)", "{shape:?}");
            }
            other => panic!("{shape:?}: {other}"),
        }
    }
}

/// A string name past the table is refused even when it is too large for its bits.
#[test]
fn a_spilled_string_name_is_still_checked() {
    let mut doc = Doc {
        types: 256,
        strings: 70_000,
        targets: 10,
        edges: vec![(2, 5, 1); 10],
    };
    doc.edges[3].1 = 69_999;
    assert!(load(&doc.text(Shape::V8)).is_ok());
    doc.edges[6].1 = 70_000;
    let err = load(&doc.text(Shape::V8)).expect_err("name past the strings");
    assert!(
        matches!(err.kind, LoadErrorKind::BadEdge { edge: 6, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("name 70000 is past the end of the 70000 strings")
    );
}
