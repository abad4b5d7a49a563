//! The findings file (`.heapdiff.json`): the comparison without the snapshots, reopened by the
//! app. It comes from strangers like snapshots do, so reading it is bounded and validated.

use std::path::Path;

use super::{FORMAT, Findings, OLDEST_VERSION, VERSION};

/// Larger than any real findings file (they hold class rows and a few paths), small enough that
/// a hostile one cannot exhaust memory.
pub const MAX_BYTES: u64 = 256 << 20;

#[derive(Debug, thiserror::Error)]
pub enum FindingsError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: larger than {MAX_BYTES} bytes; not a findings file")]
    TooLarge { file: String },
    #[error("{file}: not a heapdiff findings file: {what}")]
    Invalid { file: String, what: String },
}

/// Serialises findings as the documented JSON (pretty, stable field order).
pub fn to_json(findings: &Findings) -> String {
    serde_json::to_string_pretty(findings).unwrap_or_default()
}

/// Reads and validates a findings file.
pub fn read(path: &Path) -> Result<Findings, FindingsError> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let meta = std::fs::metadata(path).map_err(|source| FindingsError::Io {
        file: file.clone(),
        source,
    })?;
    if meta.len() > MAX_BYTES {
        return Err(FindingsError::TooLarge { file });
    }
    let bytes = std::fs::read(path).map_err(|source| FindingsError::Io {
        file: file.clone(),
        source,
    })?;
    parse(&file, &bytes)
}

/// Parses findings from bytes (`file` names them in errors).
pub fn parse(file: &str, bytes: &[u8]) -> Result<Findings, FindingsError> {
    let invalid = |what: String| FindingsError::Invalid {
        file: file.to_string(),
        what,
    };
    if bytes.len() as u64 > MAX_BYTES {
        return Err(FindingsError::TooLarge {
            file: file.to_string(),
        });
    }
    // serde_json bounds nesting depth itself, so a deeply nested document is an error, not a
    // stack overflow.
    let findings: Findings = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
    if findings.format != FORMAT {
        return Err(invalid(format!(
            "\"format\" is {:?}, expected {FORMAT:?}",
            findings.format
        )));
    }
    if !(OLDEST_VERSION..=VERSION).contains(&findings.version) {
        return Err(invalid(format!(
            "version {} (this heapdiff reads versions {OLDEST_VERSION} to {VERSION})",
            findings.version
        )));
    }
    // i128: hostile values near u64::MAX must not overflow the check itself.
    let adds_up =
        |added: u64, removed: u64, delta: i64| added as i128 - removed as i128 == delta as i128;
    let t = &findings.totals;
    if !adds_up(t.added_count, t.removed_count, t.count_delta)
        || !adds_up(t.added_size, t.removed_size, t.size_delta)
    {
        return Err(invalid("totals do not add up".into()));
    }
    for c in &findings.classes {
        if !adds_up(c.added_count, c.removed_count, c.count_delta)
            || !adds_up(c.added_size, c.removed_size, c.size_delta)
        {
            return Err(invalid(format!("class row {:?} does not add up", c.name)));
        }
        if !c.after_share.is_finite() {
            return Err(invalid(format!("class row {:?} has a bad share", c.name)));
        }
    }
    Ok(findings)
}
