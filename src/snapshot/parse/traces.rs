//! `trace_tree`: nested arrays `[id, function_info_index, count, size, [children…], …]` (fields
//! as `meta.trace_node_fields` orders them), read without recursion into flat [`TraceNode`]s.
//!
//! A tree whose shape is wrong (a value where the children belong, a record cut short, a string)
//! or that nests deeper than [`MAX_DEPTH`] is skipped to its end and reported as a problem,
//! which the loader turns into a warning: allocation stacks are extra, the heap graph stays
//! good. Only broken JSON (the file ends inside the tree) is an error.

use crate::snapshot::error::LoadErrorKind;
use crate::snapshot::reader::Reader;
use crate::snapshot::traces::{NO_PARENT, TraceNode};

use super::json::{syntax, truncated};

/// Levels of nesting kept. V8 records at most 64 frames of a stack (`AllocationTracker`'s
/// `kMaxAllocationTraceLength`), so real trees are some 65 levels deep.
pub(super) const MAX_DEPTH: usize = 1024;

/// Where the fields sit in a trace node record.
#[derive(Clone, Copy, Debug)]
pub(super) struct TreeLayout {
    pub(super) width: usize,
    pub(super) id: usize,
    pub(super) function: usize,
    pub(super) children: usize,
}

impl TreeLayout {
    /// From `meta.trace_node_fields`; None when it lacks `id`, `function_info_index` or
    /// `children`.
    pub(super) fn new(fields: &[String]) -> Option<TreeLayout> {
        let at = |name: &str| fields.iter().position(|f| f == name);
        Some(TreeLayout {
            width: fields.len(),
            id: at("id")?,
            function: at("function_info_index")?,
            children: at("children")?,
        })
    }
}

/// One open array: the trace node whose children it lists, and the field the next value of
/// the current record fills.
struct Level {
    parent: u32,
    field: usize,
    /// Position of the current record's node, once its first value was read.
    node: Option<u32>,
}

fn raw_peek(r: &mut Reader) -> Result<Option<u8>, LoadErrorKind> {
    if r.pos >= r.end && !r.fill()? {
        return Ok(None);
    }
    Ok(Some(r.window()[0]))
}

/// Reads the tree value (the reader is before it). `Ok(Err(problem))` when the tree was read
/// to its end but is unusable.
pub(super) fn read_trace_tree(
    r: &mut Reader,
    layout: Option<TreeLayout>,
) -> Result<Result<Vec<TraceNode>, String>, LoadErrorKind> {
    match r.peek()? {
        Some(b'[') => r.bump(),
        None => return Err(truncated(r, "trace_tree")),
        Some(c) => {
            return Err(syntax(
                r,
                format!("\"trace_tree\" must be an array, found {:?}", c as char),
            ));
        }
    }
    let Some(layout) = layout else {
        discard(r, 1)?;
        return Ok(Err(
            "meta.trace_node_fields lacks id, function_info_index or children".into(),
        ));
    };
    let mut nodes: Vec<TraceNode> = Vec::new();
    let mut stack = vec![Level {
        parent: NO_PARENT,
        field: 0,
        node: None,
    }];
    let problem = loop {
        let Some(c) = r.peek()? else {
            return Err(truncated(r, "trace_tree"));
        };
        let depth = stack.len();
        let Some(level) = stack.last_mut() else {
            break None;
        };
        if level.field == layout.children && !matches!(c, b'[' | b',' | b']') {
            break Some("a trace node's children are not a list".to_string());
        }
        match c {
            b',' => r.bump(),
            b'0'..=b'9' => {
                let value = read_number(r)?;
                let Ok(value) = u32::try_from(value) else {
                    break Some(format!("trace node value {value} is out of range"));
                };
                let node = match level.node {
                    Some(n) => n,
                    None => {
                        nodes.push(TraceNode {
                            id: 0,
                            function: 0,
                            parent: level.parent,
                        });
                        let n = nodes.len() as u32 - 1;
                        level.node = Some(n);
                        n
                    }
                };
                if level.field == layout.id {
                    nodes[node as usize].id = value;
                } else if level.field == layout.function {
                    nodes[node as usize].function = value;
                }
                advance(level, layout.width);
            }
            b'[' => {
                if level.field != layout.children {
                    break Some("a list where a trace node's number belongs".to_string());
                }
                if depth >= MAX_DEPTH {
                    break Some(format!("it nests deeper than {MAX_DEPTH} levels"));
                }
                let parent = match level.node {
                    Some(n) => n,
                    None => {
                        nodes.push(TraceNode {
                            id: 0,
                            function: 0,
                            parent: level.parent,
                        });
                        let n = nodes.len() as u32 - 1;
                        level.node = Some(n);
                        n
                    }
                };
                r.bump();
                stack.push(Level {
                    parent,
                    field: 0,
                    node: None,
                });
            }
            b']' => {
                if level.field != 0 {
                    break Some("a trace node record is cut short".to_string());
                }
                r.bump();
                stack.pop();
                match stack.last_mut() {
                    Some(outer) => advance(outer, layout.width),
                    None => break None,
                }
            }
            c => break Some(format!("{:?} in the tree", c as char)),
        }
    };
    match problem {
        None => Ok(Ok(nodes)),
        Some(p) => {
            discard(r, stack.len())?;
            Ok(Err(p))
        }
    }
}

/// Moves a level to its next field, to the next record after the last.
fn advance(level: &mut Level, width: usize) {
    level.field += 1;
    if level.field == width {
        level.field = 0;
        level.node = None;
    }
}

/// A run of digits (at most 20: more is refused as a syntax error).
fn read_number(r: &mut Reader) -> Result<u64, LoadErrorKind> {
    let mut value: u64 = 0;
    let mut digits = 0;
    while let Some(b @ b'0'..=b'9') = raw_peek(r)? {
        digits += 1;
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or_else(|| syntax(r, "a number in \"trace_tree\" is too large".into()))?;
        r.bump();
    }
    debug_assert!(digits > 0);
    Ok(value)
}

/// Consumes the rest of a value nested `depth` arrays deep, strings and objects included.
fn discard(r: &mut Reader, mut depth: usize) -> Result<(), LoadErrorKind> {
    let mut in_string = false;
    let mut escaped = false;
    while depth > 0 {
        let Some(c) = raw_peek(r)? else {
            return Err(truncated(r, "trace_tree"));
        };
        r.bump();
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}
