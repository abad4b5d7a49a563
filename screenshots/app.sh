#!/usr/bin/env bash
# Screenshots of the real window under Xvfb (Mesa's software GL), on the bundled ssr-di-leak pair:
#   start.png        the start screen
#   leaks.png        the Leaks view (what a comparison opens on), its likely leak selected
#   comparison.png   the Comparison table, ChildContainer (the first suspect) selected
#   retainers.png    its merged retainer paths (×1000) and the retainer tree, expanded
#   charts.png       the Charts tab
#   capture.png      File ▸ Capture… attached to a real leaky Node server (tests/node), the routine
#                    clicked through (before, load, GC, after) and its comparison opened beside it
# Each view is reached with HEAPDIFF_SCREENSHOT_VIEW (see src/app/startup.rs): the window sizes itself
# to the 1280×800 screen, ignores saved settings and says on stderr when the view is drawn; the
# whole screen is then grabbed with xwd and converted with netpbm.
# Run from anywhere: bash screenshots/app.sh [VIEW...] (all views when none is named; also called
# by screenshots/regenerate.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb xauth libegl1 libegl-mesa0 libgl1-mesa-dri libvulkan1 mesa-vulkan-drivers x11-apps netpbm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo build --release --quiet
data=tests/data
pair=("$data/ssr-di-leak.before.heapsnapshot.gz" "$data/ssr-di-leak.after.heapsnapshot.gz")
tmp=$(mktemp -d)
# The capture's server runs from a fixed scratch folder, so the target's name on screen says
# nothing about where this repository is checked out.
demo=/tmp/heapdiff-capture-demo
server=""
trap '[ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$tmp" "$demo"' EXIT

# shot VIEW [FILES...]: runs the window on VIEW and saves screenshots/VIEW.png.
shot() {
  local view=$1
  shift
  echo "screenshot: $view"
  # A fresh XDG_DATA_HOME: no saved window state or egui memory from earlier runs.
  XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp" HEAPDIFF_SCREENSHOT_VIEW="$view" \
    WGPU_BACKEND="${WGPU_BACKEND:-gl}" LOG="$tmp/$view.log" OUT="$PWD/screenshots/$view.png" \
    xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
      "$@" 2>"$LOG" &
      pid=$!
      for _ in $(seq 600); do
        grep -q "screenshot view ready" "$LOG" && break
        kill -0 "$pid" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
        sleep 0.1
      done
      grep -q "screenshot view ready" "$LOG" || { echo "timed out" >&2; kill "$pid"; exit 1; }
      sleep 1   # let the drawn frame reach the screen
      xwd -root -silent | xwdtopnm 2>/dev/null | pnmtopng >"$OUT"
      kill "$pid"
      wait "$pid" 2>/dev/null || true
    ' bash ./target/release/heapdiff "$@"
}

views=("$@")
want() { [ "${#views[@]}" -eq 0 ] || [[ " ${views[*]} " == *" $1 "* ]]; }

want start && shot start
want leaks && shot leaks "${pair[@]}"
want comparison && shot comparison "${pair[@]}"
want retainers && shot retainers "${pair[@]}"
want charts && shot charts "${pair[@]}"
want capture || exit 0

# capture: the leaky server with its inspector on a port the kernel picks; the window's
# screenshot view attaches to it (HEAPDIFF_SCREENSHOT_INSPECT), runs the load and writes to
# HEAPDIFF_SCREENSHOT_OUT, step by step as the buttons do (src/app/capture_script.rs).
rm -rf "$demo"
mkdir -p "$demo"
cp tests/node/leaky-server.js tests/node/load.js "$demo/"
node --inspect=127.0.0.1:0 "$demo/leaky-server.js" >"$tmp/server.out" 2>"$tmp/server.err" &
server=$!
port="" inspect=""
for _ in $(seq 300); do
  port=$(sed -n 's/^listening on //p' "$tmp/server.out")
  inspect=$(sed -n 's|^Debugger listening on ws://\([^/]*\)/.*|\1|p' "$tmp/server.err")
  [ -n "$port" ] && [ -n "$inspect" ] && break
  sleep 0.1
done
[ -n "$port" ] && [ -n "$inspect" ] || { cat "$tmp/server.err" >&2; exit 1; }
HEAPDIFF_SCREENSHOT_INSPECT="$inspect" HEAPDIFF_SCREENSHOT_OUT="$demo/snaps" \
  HEAPDIFF_SCREENSHOT_LOAD="node $demo/load.js http://127.0.0.1:$port/ 3000" shot capture
kill "$server"
server=""
