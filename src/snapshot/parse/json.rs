//! The JSON token reader over [`Reader`]: keys, strings (escapes decoded, lone surrogates made
//! U+FFFD as V8's broken UTF-16 needs), and values of any shape skipped without recursion.

use crate::snapshot::error::LoadErrorKind;
use crate::snapshot::reader::{self, Reader};

pub(super) fn truncated(r: &Reader, section: &str) -> LoadErrorKind {
    LoadErrorKind::Truncated {
        section: section.to_string(),
        offset: r.offset(),
    }
}

pub(super) fn syntax(r: &Reader, what: String) -> LoadErrorKind {
    LoadErrorKind::Syntax {
        offset: r.offset(),
        what,
    }
}

/// Reads `"key" :`.
pub(super) fn read_key(r: &mut Reader) -> Result<String, LoadErrorKind> {
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
pub(super) fn read_string(
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
pub(super) fn skip_value(
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
                c if reader::is_ws(c) => {
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
