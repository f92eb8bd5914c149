#!/usr/bin/env bash
# Tray and single-instance checks on the real app binary (run inside run.sh's Xvfb +
# D-Bus session): the tray offers Open and Quit, names the next meeting and joins it,
# a second launch on the same data directory hands over and exits, and Quit in the
# tray ends the app.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$1"
pass=0 fail=0
check() { if eval "$2"; then echo "ok   $1"; pass=$((pass+1)); else echo "FAIL $1"; fail=$((fail+1)); fi; }
log="$(mktemp -d)"

command -p python3 "$here/sni_watcher.py" --click "Join Tray check & call" --click "Quit" \
    --delay 8 --timeout 40 >"$log/watcher.out" 2>&1 &
watcher=$!
until grep -q "watcher ready" "$log/watcher.out" 2>/dev/null; do sleep 0.1; done

# A data directory of its own, with one meeting 90 minutes from now (in UTC, as the
# app is told): the tray's next-meeting line names it, and Join opens its Teams link
# (given to the row as a sync would write it: an event made here has no online
# meeting) through the stand-in browser, which only logs it.
export ALMANAC_DATA_DIR="$log/data"
cli="$(dirname "$app")/almanac"
want_next=""
if [ -x "$cli" ]; then
    at="$(date -u -d '+90 min' +%s)"
    day=""; [ "$(date -u -d "@$at" +%F)" = "$(date -u +%F)" ] || day="tomorrow "
    want_next="Next: $day$(date -u -d "@$at" +%H:%M) Tray check & call"
    "$cli" --tz UTC events add --title "Tray check & call" \
        --start "$(date -u -d "@$at" +%Y-%m-%dT%H:%M)" >"$log/cli-add.out" 2>&1
    command -p python3 - "$ALMANAC_DATA_DIR/almanac.sqlite3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE events SET online_provider = 'teams', "
           "online_join_url = 'https://teams.microsoft.com/l/meetup-join/tray-check?context=x' "
           "WHERE title = 'Tray check & call'")
db.commit()
PY
fi
export BROWSER="$here/browser.py" BROWSER_LOG="$log/browser.log"

# Without the caller's own choice of painter, so that the app's is seen (below).
env -u WEBKIT_SKIA_ENABLE_CPU_RENDERING TZ=UTC "$app" >"$log/app1.out" 2>&1 &
app1=$!
sleep 4
# The painter (src-tauri/renderer.rs): with no GPU render node this user can open,
# WebKit's web process is started asked for CPU rendering; with one, it is not.
gpu=no
for node in /dev/dri/renderD*; do [ -r "$node" ] && [ -w "$node" ] && gpu=yes; done
want=""; [ "$gpu" = no ] && want="WEBKIT_SKIA_ENABLE_CPU_RENDERING=1"
webproc="$(pgrep -P "$app1" -f WebKitWebProcess | head -n 1)"
painter="$( [ -n "$webproc" ] && tr '\0' '\n' <"/proc/$webproc/environ" | grep '^WEBKIT_SKIA_ENABLE_CPU_RENDERING=' )"
check "the web process paints as the machine allows (GPU render node: $gpu; ${painter:-no CPU-rendering switch})" \
    '[ -n "$webproc" ] && [ "$painter" = "$want" ]'
# The second launch must not open a second window: it forwards to the first and exits.
timeout 20 "$app" >"$log/app2.out" 2>&1
second=$?
check "second launch on the same data directory exits at once (code $second)" '[ "$second" -eq 0 ]'
check "first instance keeps running after a second launch" 'kill -0 $app1 2>/dev/null'
if [ -x "$cli" ]; then
    "$cli" events add --title "From the CLI" --start 2030-01-02T09:00 >"$log/cli.out" 2>&1
    cli_status=$?
    check "a CLI command that writes is refused with a clear message while the app holds the data directory" \
        '[ "$cli_status" -eq 1 ] && grep -q "already running" "$log/cli.out"'
    "$cli" calendars list >"$log/cli-read.out" 2>&1
    cli_status=$?
    check "a CLI command that only looks reads beside the app" \
        '[ "$cli_status" -eq 0 ] && grep -q "On this computer" "$log/cli-read.out"'
fi

wait "$watcher"
check "tray menu lists Open and Quit" 'grep -q "\"Open Almanac\"" "$log/watcher.out" && grep -q "\"Quit\"" "$log/watcher.out"'
check "tray status line says no account is connected" 'grep -qF "\"Sync: no accounts connected\"" "$log/watcher.out"'
if [ -n "$want_next" ]; then
    check "tray menu names the next meeting ($want_next)" 'grep -qF "\"$want_next\"" "$log/watcher.out"'
    check "Join in the tray opens the next meeting's link" \
        'grep -qF "clicked \"Join Tray check & call\"" "$log/watcher.out" && grep -qxF "opened https://teams.microsoft.com/l/meetup-join/tray-check" "$log/browser.log"'
fi
for _ in $(seq 1 50); do kill -0 $app1 2>/dev/null || break; sleep 0.2; done
check "Quit in the tray ends the app" '! kill -0 $app1 2>/dev/null'
check "Quit stops the sync loop before the app exits" 'grep -qF "sync stopped; quitting" "$log/app1.out"'
kill $app1 2>/dev/null || true
[ "$fail" -eq 0 ] || { echo "--- watcher ---"; cat "$log/watcher.out"; echo "--- app ---"; tail -n 20 "$log/app1.out"; }
echo "tray: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
