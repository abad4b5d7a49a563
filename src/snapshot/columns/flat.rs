//! Small number sections kept as they are, record after record (`trace_function_infos`,
//! `scopes`, `scope_context_vars`, `scope_uses`): one `u32` vector, `width` values a record.

use super::grow;
use crate::snapshot::numbers::{Columns, Sink, split};

pub struct FlatColumns {
    width: usize,
    /// Values past this many are not kept (the reader counts them all; the loader then drops
    /// the section with a warning): these sections are metadata, not worth unbounded memory.
    limit: usize,
    pub values: Vec<u32>,
}

impl FlatColumns {
    pub fn new(width: usize, limit: usize) -> FlatColumns {
        FlatColumns {
            width: width.max(1),
            limit,
            values: Vec::new(),
        }
    }
}

impl Columns for FlatColumns {
    type Sink<'a> = FlatSink<'a>;

    fn width(&self) -> usize {
        self.width
    }

    fn grow(&mut self, records: usize) -> FlatSink<'_> {
        let room = self.limit.saturating_sub(self.values.len()) / self.width;
        let over = records > room;
        let records = records.min(room);
        FlatSink {
            width: self.width,
            over,
            values: grow(&mut self.values, true, records * self.width),
        }
    }
}

pub struct FlatSink<'a> {
    width: usize,
    /// The block held more records than the section's bound allows.
    over: bool,
    values: &'a mut [u32],
}

impl Sink for FlatSink<'_> {
    fn put(&mut self, field: usize, record: usize, value: u64) -> Result<(), String> {
        let Some(slot) = self.values.get_mut(record * self.width + field) else {
            return if self.over {
                Ok(())
            } else {
                Err("more values than separators".into())
            };
        };
        *slot = u32::try_from(value).map_err(|_| format!("value {value} is out of range"))?;
        Ok(())
    }

    fn split_at(self, records: usize) -> (Self, Self) {
        let (a, b) = split(self.values, records * self.width);
        (
            FlatSink {
                width: self.width,
                over: self.over,
                values: a,
            },
            FlatSink {
                width: self.width,
                over: self.over,
                values: b,
            },
        )
    }
}
