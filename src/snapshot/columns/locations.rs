//! The `locations` records, read straight into [`Location`]s.

use super::{Divisor, grow};
use crate::snapshot::Location;
use crate::snapshot::numbers::{Columns, Sink, split};

/// A location's node when its object index is not a node's (not a multiple of the node field
/// count, or past every ordinal); the loader refuses the file when it meets one.
pub const NOT_A_NODE: u32 = u32::MAX;

/// `locations` records, read straight into [`Location`]s: the object index becomes a node
/// ordinal as it is read, script id, line and column saturate at `u32::MAX`.
pub struct LocationColumns {
    width: usize,
    /// Record positions of object_index, script_id, line and column; None when the meta lacks
    /// one (the loader then refuses any locations).
    at: Option<[usize; 4]>,
    node_fields: Divisor,
    /// Record position of `script_object_index` (Chromium 150+, Deno: the Script's own node),
    /// when the meta has it.
    script_object_at: Option<usize>,
    pub rows: Vec<Location>,
    /// Each row's script node ordinal ([`NOT_A_NODE`] when not a node's index); empty without
    /// `script_object_index`.
    pub script_objects: Vec<u32>,
}

impl LocationColumns {
    pub fn new(
        width: usize,
        at: &[usize],
        script_object_at: Option<usize>,
        node_fields: usize,
    ) -> LocationColumns {
        LocationColumns {
            width,
            at: at.try_into().ok(),
            node_fields: Divisor::new(node_fields as u64),
            script_object_at,
            rows: Vec::new(),
            script_objects: Vec::new(),
        }
    }
}

impl Columns for LocationColumns {
    type Sink<'a> = LocationSink<'a>;

    fn width(&self) -> usize {
        self.width
    }

    fn grow(&mut self, records: usize) -> LocationSink<'_> {
        LocationSink {
            at: self.at,
            node_fields: self.node_fields,
            script_object_at: self.script_object_at,
            rows: grow(&mut self.rows, true, records),
            script_objects: grow(
                &mut self.script_objects,
                self.script_object_at.is_some(),
                records,
            ),
        }
    }
}

/// The locations of a run of records.
pub struct LocationSink<'a> {
    at: Option<[usize; 4]>,
    node_fields: Divisor,
    script_object_at: Option<usize>,
    rows: &'a mut [Location],
    script_objects: &'a mut [u32],
}

impl LocationSink<'_> {
    #[inline(always)]
    fn node(&self, index: u64) -> u32 {
        match self.node_fields.divide(index) {
            Some(node) if node < u64::from(NOT_A_NODE) => node as u32,
            _ => NOT_A_NODE,
        }
    }
}

fn saturate(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl Sink for LocationSink<'_> {
    fn put(&mut self, field: usize, r: usize, v: u64) -> Result<(), String> {
        let Some(at) = self.at else { return Ok(()) };
        let node = self.node(v);
        if Some(field) == self.script_object_at
            && let Some(slot) = self.script_objects.get_mut(r)
        {
            *slot = node;
        }
        let Some(row) = self.rows.get_mut(r) else {
            return Err("more values than separators".into());
        };
        if field == at[0] {
            row.node = node;
        } else if field == at[1] {
            row.script_id = saturate(v);
        } else if field == at[2] {
            row.line = saturate(v);
        } else if field == at[3] {
            row.column = saturate(v);
        }
        Ok(())
    }

    #[inline(always)]
    fn put_record(&mut self, r: usize, v: &[u64]) -> bool {
        let Some(at) = self.at else { return false };
        let node = self.node(v[at[0]]);
        if let Some(so) = self.script_object_at {
            let script = self.node(v[so]);
            match self.script_objects.get_mut(r) {
                Some(slot) => *slot = script,
                None => return false,
            }
        }
        match self.rows.get_mut(r) {
            Some(row) => {
                *row = Location {
                    node,
                    script_id: saturate(v[at[1]]),
                    line: saturate(v[at[2]]),
                    column: saturate(v[at[3]]),
                };
                true
            }
            None => false,
        }
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (a, b) = split(self.rows, records);
        let (sa, sb) = split(self.script_objects, records);
        (
            LocationSink {
                at: self.at,
                node_fields: self.node_fields,
                script_object_at: self.script_object_at,
                rows: a,
                script_objects: sa,
            },
            LocationSink {
                at: self.at,
                node_fields: self.node_fields,
                script_object_at: self.script_object_at,
                rows: b,
                script_objects: sb,
            },
        )
    }
}
