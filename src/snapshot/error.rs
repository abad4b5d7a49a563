//! Load errors: typed, with the file and the place in it.

use std::fmt;

/// What is wrong with a snapshot file.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file is empty")]
    Empty,
    #[error("not a heap snapshot: {0}")]
    NotSnapshot(String),
    #[error("invalid JSON at byte {offset}: {what}")]
    Syntax { offset: u64, what: String },
    #[error("unexpected end of file inside \"{section}\" at byte {offset}")]
    Truncated { section: String, offset: u64 },
    #[error("bad \"snapshot.meta\": {0}")]
    BadMeta(String),
    #[error("bad number in \"{section}\" at byte {offset}: {what}")]
    BadNumber {
        section: String,
        offset: u64,
        what: String,
    },
    #[error("\"{section}\" has {len} values, not a multiple of its {fields} fields")]
    Misaligned {
        section: String,
        len: u64,
        fields: usize,
    },
    #[error("header says {header} {what} but the file has {actual}")]
    CountMismatch {
        what: &'static str,
        header: u64,
        actual: u64,
    },
    #[error("node {node}: {what}")]
    BadNode { node: u64, what: String },
    #[error("edge {edge}: {what}")]
    BadEdge { edge: u64, what: String },
    #[error("the snapshot is too large: {0}")]
    TooLarge(String),
    #[error("cancelled")]
    Cancelled,
}

/// A load error naming the file it came from.
#[derive(Debug)]
pub struct LoadError {
    pub file: String,
    pub kind: LoadErrorKind,
}

impl LoadError {
    pub fn new(file: impl Into<String>, kind: LoadErrorKind) -> LoadError {
        LoadError {
            file: file.into(),
            kind,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, LoadErrorKind::Cancelled)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.kind)
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
