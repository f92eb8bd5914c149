#!/usr/bin/env bash
# Runs the desktop end-to-end tests: the real app binary in a real WebKitGTK window
# under Xvfb, driven by tauri-driver + WebKitWebDriver, in a private D-Bus session and
# private XDG/data directories. Usage: tests/e2e/run.sh [path/to/almanac-desktop]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
app="${1:-$target_dir/debug/almanac-desktop}"
[ -x "$app" ] || { echo "e2e: app binary $app not found; build it with 'cargo build -p almanac-desktop'" >&2; exit 1; }

. "$root/scripts/secret-service.sh"
if [ -z "${E2E_INSIDE:-}" ]; then
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    # A throwaway, unlocked Secret Service for the account tokens, which the bus
    # starts again if it stops (reference/tauri-linux.md §9).
    secret_service_prepare "$tmp/keyring" almanac-e2e
    export E2E_INSIDE="$tmp"
    status=0
    xvfb-run -a -s '-screen 0 1280x800x24' \
        dbus-run-session --config-file="$tmp/keyring/bus.conf" -- "$0" "$app" || status=$?
    exit "$status"
fi

tmp="$E2E_INSIDE"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
export ALMANAC_DATA_DIR="$tmp/almanac" ALMANAC_APP="$app"
export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$root/target/e2e-artifacts}"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$E2E_ARTIFACTS"

secret_service_start "$tmp/keyring"
# A notification server, and a monitor that records every Notify call for the tests.
export E2E_NOTIFY_LOG="$tmp/notify.log"
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" >"$E2E_NOTIFY_LOG" 2>&1 &
dunst >/dev/null 2>&1 &
# The fake cloud, and the app's config pointing at it: Google over loopback,
# Microsoft over the almanac:// deep link.
fakecloud="$target_dir/debug/almanac-fakecloud"
[ -x "$fakecloud" ] || { echo "e2e: $fakecloud not found; build it with 'cargo build -p almanac-fakecloud'" >&2; exit 1; }
"$fakecloud" --port 0 >"$tmp/fakecloud.out" 2>"$tmp/fakecloud.err" &
for _ in $(seq 1 100); do [ -s "$tmp/fakecloud.out" ] && break; sleep 0.1; done
export E2E_FAKECLOUD="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["base_url"])' <"$tmp/fakecloud.out")"
export E2E_CANARY="CANARYe2e$RANDOM"
mkdir -p "$XDG_CONFIG_HOME/almanac"
cat >"$XDG_CONFIG_HOME/almanac/config.toml" <<TOML
[microsoft]
client_id = "almanac-test-ms"
authority = "$E2E_FAKECLOUD"
graph_url = "$E2E_FAKECLOUD/v1.0"
redirect = "deep-link"

[google]
client_id = "almanac-test-google.apps.googleusercontent.com"
client_secret = "almanac-test-google-secret"
auth_url = "$E2E_FAKECLOUD/o/oauth2/v2/auth"
token_url = "$E2E_FAKECLOUD/token"
revoke_url = "$E2E_FAKECLOUD/revoke"
calendar_url = "$E2E_FAKECLOUD/calendar/v3"
TOML
export BROWSER="$here/browser.py" BROWSER_LOG="$tmp/browser.log"

tauri-driver --port 4444 --native-driver "$(command -v WebKitWebDriver)" >"$tmp/driver.log" 2>&1 &
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:4444/status >/dev/null 2>&1 && break; sleep 0.2; done

status=0
command -p python3 "$here/test_desktop.py" || status=$?
command -p python3 "$here/test_accounts.py" || status=$?
# After the accounts scenario, which leaves the Google account connected.
command -p python3 "$here/test_sync.py" || status=$?
# Leak sweep: the canary tokens the fake cloud issued must not appear in any log.
if grep -l "$E2E_CANARY" "$tmp"/*.log "$tmp"/fakecloud.err >/dev/null 2>&1; then
    echo "FAIL a canary token appears in: $(grep -l "$E2E_CANARY" "$tmp"/*.log "$tmp"/fakecloud.err)"; status=1
else
    echo "ok   no canary token in the app, driver, browser or server logs"
fi
"$here/test_tray_and_instance.sh" "$app" || status=$?
if [ "$status" -ne 0 ]; then
    # Kept for a look after the run (the scratch directory goes away).
    cp "$tmp"/*.log "$tmp"/fakecloud.err "$E2E_ARTIFACTS"/ 2>/dev/null || true
    echo "--- tauri-driver log ---"; tail -n 50 "$tmp/driver.log"
    echo "--- browser log ---"; cat "$tmp/browser.log" 2>/dev/null || true
fi
secret_service_report "$tmp/keyring"
echo "screenshots: $E2E_ARTIFACTS"
exit "$status"
