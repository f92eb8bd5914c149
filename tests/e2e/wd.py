"""A minimal W3C WebDriver client (stdlib only) for the desktop end-to-end tests."""
import base64
import http.client
import json
import time
import urllib.error
import urllib.request


class WebDriverError(Exception):
    pass


class Session:
    def __init__(self, url, capabilities):
        self.url = url.rstrip("/")
        value = self._call("POST", "/session", {"capabilities": capabilities}, timeout=60)
        self.id = value["sessionId"]

    def _call(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        # tauri-driver sometimes drops a proxied connection (seen in about 1 of 15
        # runs); a dropped request is retried, an HTTP error answer is not.
        for attempt in range(3):
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return json.loads(resp.read() or b"{}").get("value")
            except urllib.error.HTTPError as e:
                raise WebDriverError(f"{method} {path}: {e.code} {e.read()[:500]!r}") from e
            except (http.client.RemoteDisconnected, ConnectionResetError, urllib.error.URLError):
                if attempt == 2:
                    raise
                time.sleep(0.5)

    def cmd(self, method, path, body=None):
        return self._call(method, f"/session/{self.id}{path}", body)

    def execute(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        # WebKitWebDriver answers "stale element reference" when a matching node goes
        # away while it builds the handles (a dialog closing as sync re-renders the
        # week): the query is asked again.
        for attempt in range(5):
            try:
                els = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
                return [next(iter(e.values())) for e in els]
            except WebDriverError as e:
                if "stale element reference" not in str(e) or attempt == 4:
                    raise
                time.sleep(0.1)

    def wait_for(self, css, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(css)
            if found:
                return found[0]
            time.sleep(0.2)
        raise WebDriverError(f"timed out waiting for {css}")

    def wait_gone(self, css, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.find(css):
                return
            time.sleep(0.2)
        raise WebDriverError(f"{css} still present")

    def click(self, css):
        el = self.wait_for(css)
        self.cmd("POST", f"/element/{el}/click", {})

    def text(self, css):
        el = self.wait_for(css)
        return self.cmd("GET", f"/element/{el}/text")

    def set_value(self, css, value):
        """Sets an input's value the way React notices (native setter + input event)."""
        self.wait_for(css)
        self.execute(
            """
            const el = document.querySelector(arguments[0]);
            const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype
                : el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
            Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, arguments[1]);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
            """,
            css, value)

    def drag(self, points):
        """Presses the left mouse button at the first (x, y) viewport point, moves through
        the others and releases at the last: real pointer events, as a user's drag."""
        (x0, y0), rest = points[0], points[1:]
        acts = [{"type": "pointerMove", "duration": 0, "origin": "viewport", "x": round(x0), "y": round(y0)},
                {"type": "pointerDown", "button": 0}]
        for x, y in rest:
            acts.append({"type": "pointerMove", "duration": 150, "origin": "viewport", "x": round(x), "y": round(y)})
        acts.append({"type": "pointerUp", "button": 0})
        self.cmd("POST", "/actions", {"actions": [
            {"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": acts}]})
        self.cmd("DELETE", "/actions")

    def hover(self, x, y):
        self.cmd("POST", "/actions", {"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
                                                   "actions": [{"type": "pointerMove", "duration": 100, "origin": "viewport",
                                                                "x": round(x), "y": round(y)}]}]})

    def press(self, *keys):
        """Presses `keys` together (WebDriver key codes: "\ue004" Tab, "\ue008" Shift,
        "\ue007" Enter, "\ue00c" Escape) and releases them: real key events, which move
        focus as a user's do (a dispatched KeyboardEvent does not)."""
        acts = [{"type": "keyDown", "value": k} for k in keys]
        acts += [{"type": "keyUp", "value": k} for k in reversed(keys)]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "keyboard", "actions": acts}]})
        self.cmd("DELETE", "/actions")

    def screenshot(self, path, settle=1.0):
        # WebKit's screenshot can lag the DOM right after a change: let it paint.
        time.sleep(settle)
        png = self.cmd("GET", "/screenshot")
        with open(path, "wb") as f:
            f.write(base64.b64decode(png))

    def quit(self):
        try:
            self._call("DELETE", f"/session/{self.id}", timeout=30)
        except Exception:  # the app may already be gone
            pass
