# Installs what Almanac needs to build, run and test, when it is missing.
# Sourced by scripts/desktop and scripts/test; safe to run again.

APT_BUILD=(build-essential pkg-config curl libwebkit2gtk-4.1-dev libayatana-appindicator3-dev libdbus-1-dev)
APT_TEST=(xvfb xauth webkit2gtk-driver dbus dbus-x11 gnome-keyring dunst libglib2.0-bin desktop-file-utils xdg-utils)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        echo "==> installing Debian packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

ensure_node() {
    if ! command -v npm >/dev/null 2>&1; then
        ensure_apt nodejs npm
    fi
    local major
    major="$(node -p 'process.versions.node.split(".")[0]')"
    if [ "$major" -lt 20 ]; then
        echo "Almanac's UI needs Node.js 20 or newer (found $(node --version)); install it and run this again." >&2
        exit 1
    fi
}

ensure_ui_packages() {
    if [ ! -d "$ROOT/ui/node_modules" ] || [ "$ROOT/ui/package-lock.json" -nt "$ROOT/ui/node_modules/.package-lock.json" ]; then
        echo "==> installing UI packages (npm ci)"
        (cd "$ROOT/ui" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

ensure_oauth_server_packages() {
    local d="$ROOT/tests/oauth-server"
    if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
        echo "==> installing the test authorization server's packages (npm ci)"
        (cd "$d" && npm ci --no-audit --no-fund --loglevel=error)
    fi
}

ensure_cargo_tool() { # binary, crate, version requirement
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "==> installing $2 ($3)"
        cargo install "$2" --version "$3" --locked --quiet
    fi
}
