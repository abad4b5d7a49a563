#!/usr/bin/env bash
# Refreshes the gzipped copies of ../shared/fixtures that the tests read, so a clone without
# ../shared still tests everything. Run from anywhere: bash tests/data/refresh.sh
# (The snapshots of other runtimes in runtimes/ and the references of single rules are not
# from ../shared/fixtures: tests/data/gen/README.md says how they are made, and
# tests/data/gen/references.sh rewrites those references.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../../../shared/fixtures}"
[ -d "$src" ] || { echo "no fixtures at $src" >&2; exit 1; }
for f in "$src"/*.heapsnapshot; do
  gzip -9 -n -c "$f" > "$here/$(basename "$f").gz"
done
cp "$src/ground-truth.json" "$here/"
for f in "$src"/reference/*.json; do
  gzip -9 -n -c "$f" > "$here/reference/$(basename "$f").gz"
done
# Broken files stay byte for byte: compressing them would change what is wrong with them.
cp "$src"/broken/* "$here/broken/"
chmod u+w "$here"/broken/* "$here"/*.json
du -sh "$here"
