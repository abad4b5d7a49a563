#!/usr/bin/env bash
# Regenerates screenshots/: the HTML report in headless Chromium, and the real window under Xvfb.
# Needs the Debian packages that .ci/run installs (chromium, xvfb, Mesa). Run from the repository:
#   bash screenshots/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
data=tests/data
cargo build --release --quiet
tmp=$(mktemp -d)
./target/release/heapdiff diff "$data/ssr-di-leak.before.heapsnapshot.gz" "$data/ssr-di-leak.after.heapsnapshot.gz" \
  --format html -o "$tmp/report.html" || true
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --proxy-server=127.0.0.1:9 --user-data-dir="$tmp/profile" \
  --hide-scrollbars --window-size=1280,1500 --screenshot="$PWD/screenshots/report.png" "file://$tmp/report.html" 2>/dev/null
if [ -f screenshots/app.sh ]; then bash screenshots/app.sh; fi
rm -rf "$tmp"
ls -la screenshots/*.png
