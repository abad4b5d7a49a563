//! Small arrays of signed integers (Chromium 156's scope tables hold negative scope ids, which
//! the number parser of `nodes` and `edges` refuses), read value by value and bounded.

use crate::snapshot::error::LoadErrorKind;
use crate::snapshot::reader::Reader;

use super::json::{syntax, truncated};

/// Reads a JSON array of integers. `Ok(Err(problem))` when it was read to its end but holds
/// something else or more than `limit` values (the values are then not kept).
pub(super) fn read_int_array(
    r: &mut Reader,
    section: &str,
    limit: usize,
) -> Result<Result<Vec<i64>, String>, LoadErrorKind> {
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
    let mut values = Vec::new();
    let mut problem = None;
    loop {
        let Some(c) = r.peek()? else {
            return Err(truncated(r, section));
        };
        match c {
            b']' => {
                r.bump();
                break;
            }
            b',' => r.bump(),
            b'-' | b'0'..=b'9' => {
                let negative = c == b'-';
                if negative {
                    r.bump();
                }
                let mut v: i64 = 0;
                let mut digits = 0;
                loop {
                    if r.pos >= r.end && !r.fill()? {
                        return Err(truncated(r, section));
                    }
                    let b = r.window()[0];
                    if !b.is_ascii_digit() {
                        break;
                    }
                    v = v
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(i64::from(b - b'0')))
                        .ok_or_else(|| {
                            syntax(r, format!("a number in \"{section}\" is too large"))
                        })?;
                    digits += 1;
                    r.bump();
                }
                if digits == 0 {
                    return Err(syntax(r, format!("a lone '-' in \"{section}\"")));
                }
                if values.len() < limit {
                    values.push(if negative { -v } else { v });
                } else {
                    problem.get_or_insert_with(|| format!("more than {limit} values"));
                }
            }
            c => {
                return Err(syntax(
                    r,
                    format!("expected a number in \"{section}\", found {:?}", c as char),
                ));
            }
        }
    }
    Ok(match problem {
        Some(p) => Err(p),
        None => Ok(values),
    })
}
