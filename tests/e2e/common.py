"""What the desktop end-to-end scripts share: where things are (from run.sh's
environment), the WebDriver capabilities, the fake cloud's control API and launching
the app until its week view is up."""

import json
import os
import time
import urllib.request

from wd import Session

APP = os.environ["ALMANAC_APP"]
DRIVER = os.environ.get("WEBDRIVER_URL", "http://127.0.0.1:4444")
ART = os.environ.get("E2E_ARTIFACTS", os.path.join(os.path.dirname(__file__), "artifacts"))
os.makedirs(ART, exist_ok=True)
CAPS = {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": APP}}}


def control(path, body=None):
    """GET (no body) or POST JSON to the fake cloud's `/_control/<path>`."""
    req = urllib.request.Request(
        f"{os.environ['E2E_FAKECLOUD']}/_control/{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def launch():
    """A WebDriver session on a fresh app, once its week view is painted."""
    last = None
    for _ in range(3):  # tauri-driver occasionally drops the first connection
        try:
            s = Session(DRIVER, CAPS)
            s.wait_for("#calendar", timeout=30)
            s.wait_for(".fc-timegrid", timeout=15)  # week view painted
            return s
        except Exception as e:  # noqa: BLE001
            last = e
            time.sleep(1)
    raise last
