#!/usr/bin/env python3
"""Stand-in system browser for Almanac's end-to-end sign-in test.

Usage: browser.py URL        (the app runs "$BROWSER URL")

Returns at once (like a real browser launcher) and, in a detached background
process, walks the authorization request: GET the URL with a cookie jar,
follow 3xx redirects by hand (relative or absolute Location) across the
authorization server's pages, up to 20 hops, and stop at the first redirect
to a loopback address on a port other than the authorization server's: that
is the app's loopback redirect (RFC 8252), fetched exactly once.

If BROWSER_LOG is set, one line per run is appended to that file: the final
callback's status code and path (never its query, which holds the code), or
the error. Python 3 standard library only.
"""

import http.cookiejar
import ipaddress
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

MAX_HOPS = 20
TIMEOUT = 15


def log(line):
    path = os.environ.get("BROWSER_LOG")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%H:%M:%S')} browser.py {line}\n")
    except OSError:
        pass


def is_loopback(host):
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def effective_port(parts):
    if parts.port is not None:
        return parts.port
    return 443 if parts.scheme == "https" else 80


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # let the 3xx come back as an HTTPError; redirects are followed by hand


def fetch(opener, url):
    """GET url; return (status, headers). 3xx/4xx/5xx are responses, not failures."""
    req = urllib.request.Request(url, method="GET", headers={
        "User-Agent": "almanac-test-browser/1",
        "Accept": "text/html,application/json;q=0.9,*/*;q=0.8",
    })
    try:
        with opener.open(req, timeout=TIMEOUT) as resp:
            resp.read()
            return resp.status, resp.headers
    except urllib.error.HTTPError as e:
        try:
            e.read()
        except Exception:  # noqa: BLE001 - body is irrelevant
            pass
        return e.code, e.headers


def walk(start_url):
    start = urllib.parse.urlsplit(start_url)
    if start.scheme not in ("http", "https") or not start.hostname:
        raise ValueError(f"not an http(s) URL: scheme={start.scheme!r}")
    as_host, as_port = start.hostname, effective_port(start)

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}),  # never send loopback traffic through a proxy
        urllib.request.HTTPCookieProcessor(jar),
        NoRedirect(),
    )

    url = start_url
    for hop in range(MAX_HOPS + 1):
        status, headers = fetch(opener, url)
        here = urllib.parse.urlsplit(url)
        if not (300 <= status < 400):
            log(f"stopped status={status} path={here.path} hops={hop} "
                f"(no redirect to a loopback callback)")
            return 1
        location = headers.get("Location")
        if not location:
            log(f"stopped status={status} path={here.path} hops={hop} (redirect without Location)")
            return 1
        target = urllib.parse.urljoin(url, location)
        t = urllib.parse.urlsplit(target)
        # The app's loopback redirect: a loopback address that is not the
        # authorization server itself (which, in tests, is on loopback too).
        if t.scheme == "http" and is_loopback(t.hostname) and (
            not is_loopback(as_host) or effective_port(t) != as_port
        ):
            cb_status, _ = fetch(opener, target)
            log(f"callback status={cb_status} path={t.path} hops={hop + 1}")
            return 0 if cb_status < 400 else 1
        if t.scheme not in ("http", "https"):
            log(f"stopped at a redirect to a {t.scheme!r} URL hops={hop + 1}")
            return 1
        url = target
    log(f"error: more than {MAX_HOPS} redirects without reaching a loopback callback")
    return 1


def main(argv):
    if len(argv) >= 3 and argv[1] == "--run":
        try:
            return walk(argv[2])
        except Exception as e:  # noqa: BLE001 - report anything to the log
            log(f"error: {type(e).__name__}: {e}")
            return 1
    if len(argv) < 2:
        print("usage: browser.py URL", file=sys.stderr)
        return 2
    url = argv[-1]
    # Detach: a new session, no inherited stdio, so the caller returns at once.
    with open(os.devnull, "r+b") as devnull:
        subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--run", url],
            stdin=devnull, stdout=devnull, stderr=devnull,
            start_new_session=True, close_fds=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
