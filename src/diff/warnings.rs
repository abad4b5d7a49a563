//! What a Comparison's reader must know before trusting it: the files' own warnings, and the
//! Comparison's when object ids do not carry over from BEFORE to AFTER.

use super::Totals;
use crate::format;
use crate::loaded::Loaded;

/// Below this share of BEFORE's counted objects found again (same id, same class key) in
/// AFTER, the Comparison cannot match objects: one process's snapshots share nearly every old
/// object, while two processes' (or Bun 1.4's, which renumbers every object in every
/// snapshot) share a handful of ids by chance.
pub const MIN_MATCHED_PERCENT: u64 = 1;

/// BEFORE's, AFTER's and FINAL's warnings, then the Comparison's own. `before_counted` is how
/// many BEFORE objects the Comparison counted (non-zero size): every one it did not report
/// deleted was matched.
pub(super) fn collect(
    before: &Loaded,
    after: &Loaded,
    final_: Option<&Loaded>,
    before_counted: u64,
    totals: &Totals,
) -> Vec<String> {
    let mut warnings: Vec<String> = before.warnings().to_vec();
    warnings.extend_from_slice(after.warnings());
    if let Some(f) = final_ {
        warnings.extend_from_slice(f.warnings());
    }
    let matched = before_counted.saturating_sub(totals.removed_count);
    if before_counted > 0 && matched * 100 < before_counted * MIN_MATCHED_PERCENT {
        warnings.push(format!(
            "{} → {}: the Comparison cannot match objects; every object looks new: only {} of \
             BEFORE's {} objects keep their id in AFTER (under {MIN_MATCHED_PERCENT} %), so the \
             snapshots come from two processes or from a runtime that renumbers objects in \
             every snapshot (Bun 1.4 does); compare the Summaries' counts instead",
            format::one_line(&before.snapshot.file_name),
            format::one_line(&after.snapshot.file_name),
            format::thousands(matched),
            format::thousands(before_counted)
        ));
    }
    warnings
}

/// AFTER's `extra_native_bytes` minus BEFORE's, when both have it and either is not 0
/// (Chromium writes 0: nothing outside the heap to speak of).
pub(super) fn native_delta(before: &Loaded, after: &Loaded) -> Option<i64> {
    let (b, a) = (
        before.snapshot.extra_native_bytes?,
        after.snapshot.extra_native_bytes?,
    );
    (a > 0 || b > 0).then(|| a as i64 - b as i64)
}
