# Sourced by scripts/with-keyring and tests/e2e/run.sh: a throwaway, unlocked Secret
# Service (gnome-keyring) on a private D-Bus session bus.
#
# The bus starts the daemon on demand from our own service file, listed before the
# system's. If the daemon stops mid-run (it has, on CI), the next call starts it again,
# unlocked, over the same keyring files, where the system's service file would start a
# locked one with no login keyring and every later keyring call would fail.

# secret_service_prepare DIR PASSWORD: writes DIR/bus.conf (for dbus-run-session
# --config-file) and exports XDG_DATA_HOME=DIR/data, where the keyring files live:
# the bus hands its own environment to the daemons it starts. Call it before
# dbus-run-session.
secret_service_prepare() {
    local dir="$1" password="$2"
    mkdir -p "$dir/services" "$dir/data"
    export XDG_DATA_HOME="$dir/data"
    cat >"$dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <!-- Listed first, so it wins over the system's org.freedesktop.secrets. -->
  <servicedir>$dir/services</servicedir>
  <include>/usr/share/dbus-1/session.conf</include>
</busconfig>
CONF
    cat >"$dir/services/org.freedesktop.secrets.service" <<SERVICE
[D-BUS Service]
Name=org.freedesktop.secrets
Exec=$dir/start-daemon
SERVICE
    # --unlock with the password on stdin creates or unlocks the "login" keyring (a bare
    # --start gives no usable Secret Service: reference/tauri-linux.md §9);
    # --foreground keeps its messages, which a forked daemon sends to /dev/null.
    cat >"$dir/start-daemon" <<START
#!/bin/sh
echo "started \$(date +%T)" >>"$dir/starts"
printf '%s' '$password' | gnome-keyring-daemon --unlock --components=secrets --foreground \
    >/dev/null 2>>"$dir/daemon.log"
# At the end of the session the directory may already be gone.
{ echo "exited with status \$? at \$(date +%T)" >>"$dir/starts"; } 2>/dev/null
START
    chmod +x "$dir/start-daemon"
}

# secret_service_start DIR: inside the session, starts the daemon and checks that the
# bus started ours.
secret_service_start() {
    local dir="$1"
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.StartServiceByName string:org.freedesktop.secrets uint32:0 >/dev/null
    if ! grep -q started "$dir/starts" 2>/dev/null; then
        echo "secret service: the bus started another org.freedesktop.secrets than $dir/start-daemon" >&2
        return 1
    fi
}

# secret_service_report DIR [EXPECTED]: says on stderr when the daemon was started more
# than EXPECTED times (default 1), that is, when it stopped during the run.
secret_service_report() {
    local dir="$1" expected="${2:-1}" starts
    starts="$(grep -c started "$dir/starts" 2>/dev/null || true)"
    if [ "${starts:-0}" -gt "$expected" ]; then
        echo "secret service: gnome-keyring-daemon stopped during the run and was started $starts times:" >&2
        cat "$dir/starts" "$dir/daemon.log" >&2 2>/dev/null || true
    fi
}
