#!/usr/bin/env bash
# Runs the desktop end-to-end tests: the real app binary in a real WebKitGTK window
# under Xvfb, driven by tauri-driver + WebKitWebDriver, in a private D-Bus session and
# private XDG/data directories. Usage: tests/e2e/run.sh [path/to/almanac-desktop]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
app="${1:-$root/target/debug/almanac-desktop}"
[ -x "$app" ] || { echo "e2e: app binary $app not found; build it with 'cargo build -p almanac-desktop'" >&2; exit 1; }

if [ -z "${E2E_INSIDE:-}" ]; then
    export E2E_INSIDE=1
    exec xvfb-run -a -s '-screen 0 1280x800x24' dbus-run-session -- "$0" "$app"
fi

tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export ALMANAC_DATA_DIR="$tmp/almanac" ALMANAC_APP="$app"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$root/target/e2e-artifacts}"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$E2E_ARTIFACTS"

tauri-driver --port 4444 --native-driver "$(command -v WebKitWebDriver)" >"$tmp/driver.log" 2>&1 &
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:4444/status >/dev/null 2>&1 && break; sleep 0.2; done

status=0
command -p python3 "$here/test_desktop.py" || status=$?
"$here/test_tray_and_instance.sh" "$app" || status=$?
if [ "$status" -ne 0 ]; then echo "--- tauri-driver log ---"; tail -n 50 "$tmp/driver.log"; fi
echo "screenshots: $E2E_ARTIFACTS"
exit "$status"
