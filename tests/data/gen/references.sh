#!/usr/bin/env bash
# Rewrites the DevTools references of tests/data/reference that ../shared/oracle/regenerate does
# not make (one rule each), and the committed fixtures they are taken on, with the real DevTools
# code of ../shared/oracle. Run from anywhere: bash tests/data/gen/references.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="$here/.."
oracle_dir="$here/../../../../shared/oracle"
export DEVTOOLS_DIR="$("$oracle_dir/setup")"
oracle() { node --max-old-space-size=8000 "$oracle_dir/devtools-oracle.mjs" --quiet "$@"; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
ref() { gzip -9 -n -c > "$data/reference/$1.gz"; }

# Retainers no root reaches (zero-size builtins leftovers in the Chromium fixture): @59147 has
# one among its 13 retainers.
zcat "$data/detached-dom.after.heapsnapshot.gz" > "$tmp/detached-dom.after.heapsnapshot"
oracle retainers "$tmp/detached-dom.after.heapsnapshot" 59147 --depth 3 --limit 25 \
  | ref detached-dom.after.retainers-unreachable.json

# Runtimes CI lacks (tests/data/runtimes/, see tests/data/gen/README.md).
zcat "$data/runtimes/node-8.heapsnapshot.gz" > "$tmp/node-8.heapsnapshot"
oracle summary "$tmp/node-8.heapsnapshot" | ref node-8.summary.json
for side in before after; do
  zcat "$data/runtimes/bun-1.4.$side.heapsnapshot.gz" > "$tmp/bun-1.4.$side.heapsnapshot"
done
oracle diff "$tmp/bun-1.4.before.heapsnapshot" "$tmp/bun-1.4.after.heapsnapshot" | ref bun-1.4.diff.json

# DevTools' context analysis (dead Context fields) of the Chromium 156 snapshot.
zcat "$data/runtimes/chromium-156.contexts.heapsnapshot.gz" > "$tmp/chromium-156.contexts.heapsnapshot"
node "$here/context-oracle.mjs" "$tmp/chromium-156.contexts.heapsnapshot" 2>/dev/null \
  | ref chromium-156.contexts.analysis.json
