#!/usr/bin/env python3
"""Stand-in system browser for the desktop sign-in test ($BROWSER).

Detaches at once (the app does not wait for its browser), then in the background
follows the authorization server's redirects. A loopback callback is fetched once;
an `almanac:` deep link is handed to the OS the way a real browser does, through
`gio open`, so it travels through the registered x-scheme-handler .desktop file and
the single-instance forwarding into the running app. Logs the outcome, never the
query (it holds the code), to $BROWSER_LOG. Any other address (a meeting link) is
only logged, as "opened <scheme>://<host><path>".
"""
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def log(line):
    path = os.environ.get("BROWSER_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def follow(url):
    opener = urllib.request.build_opener(NoRedirect)
    for _ in range(20):
        if url.startswith("almanac:"):
            r = subprocess.run(["gio", "open", url], capture_output=True, timeout=30)
            log(f"deep-link handed to gio status={r.returncode}")
            return
        try:
            resp = opener.open(url, timeout=30)
            log(f"callback status={resp.status} path={urllib.parse.urlsplit(url).path}")
            return
        except urllib.error.HTTPError as e:
            if e.code in (301, 302, 303, 307, 308) and e.headers.get("Location"):
                url = urllib.parse.urljoin(url, e.headers["Location"])
                continue
            log(f"error status={e.code} path={urllib.parse.urlsplit(url).path}")
            return
    log("error too many redirects")


LOCAL = ("127.0.0.1", "localhost", "::1")


def main():
    if len(sys.argv) != 2:
        return 2
    parts = urllib.parse.urlsplit(sys.argv[1])
    if parts.hostname not in LOCAL:
        # Not a sign-in (those go to the local fake cloud): a page the user would read,
        # such as a meeting link. Logged without its query; nothing is fetched.
        log(f"opened {parts.scheme}://{parts.hostname}{parts.path}")
        return 0
    if os.path.exists(os.environ.get("BROWSER_LOG", "") + ".closed-tab"):
        # The test plays a user who closes the sign-in tab: nothing comes back.
        log("tab closed")
        return 0
    if os.fork() == 0:
        os.setsid()
        try:
            follow(sys.argv[1])
        except Exception as e:  # noqa: BLE001
            log(f"error {type(e).__name__}")
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
