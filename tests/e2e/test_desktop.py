"""End-to-end tests of the real desktop app in a real WebKitGTK window.

Run by tests/e2e/run.sh inside Xvfb + a D-Bus session, with tauri-driver on :4444.
Creates an event through the UI, sees it in the week view, restarts the app and sees
it again; checks that a bad edit shows its error and keeps the dialog. Screenshots go
to tests/e2e/artifacts/.
"""
import os
import sys
import time
import traceback
import uuid

from common import ART, launch


TODAY_JS = """
const d = new Date();
const p = n => String(n).padStart(2, '0');
return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
"""


def create_event(s, title, day, start, end):
    s.click("#btn-new-event")
    s.wait_for("#event-editor")
    s.set_value("#ev-title", title)
    s.set_value("#ev-start-date", day)
    s.set_value("#ev-start-time", start)
    s.set_value("#ev-end-date", day)
    s.set_value("#ev-end-time", end)
    s.click("#ev-save")


def test_create_see_restart_still_there():
    title = f"E2E customer kickoff {uuid.uuid4().hex[:6]}"
    sel = f'[data-title="{title}"]'
    s = launch()
    try:
        s.screenshot(os.path.join(ART, "01-empty-week.png"))
        assert "fc-timeGridWeek-view" in s.execute(
            "return document.querySelector('.fc-view').className"), "week view is the default"
        day = s.execute(TODAY_JS)
        assert not s.find(sel), "not there before it is created"
        create_event(s, title, day, "10:00", "11:00")
        s.wait_gone("#event-editor")
        s.wait_for(sel)
        s.screenshot(os.path.join(ART, "02-event-created.png"))
    finally:
        s.quit()
    time.sleep(1.5)  # let the first process release the data directory
    s = launch()
    try:
        s.wait_for(sel, timeout=20)
        s.screenshot(os.path.join(ART, "03-after-restart.png"))
        n = s.execute("return document.querySelectorAll(arguments[0]).length", sel)
        assert n == 1, f"expected the event once after restart, saw {n}"
    finally:
        s.quit()
    time.sleep(1.5)


def test_bad_input_shows_error_and_keeps_dialog():
    s = launch()
    try:
        day = s.execute(TODAY_JS)
        create_event(s, "Backwards meeting", day, "15:00", "14:00")
        msg = ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not msg.strip():
            msg = s.text("#ev-error")
            time.sleep(0.2)
        assert "ends before it starts" in msg, f"error shown: {msg!r}"
        assert s.find("#event-editor"), "the dialog stays open"
        title = s.execute("return document.querySelector('#ev-title').value")
        assert title == "Backwards meeting", "the input is kept"
        s.screenshot(os.path.join(ART, "04-validation-error.png"))
        s.execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))")
        s.wait_gone("#event-editor")
        assert not s.find('[data-title="Backwards meeting"]'), "nothing was saved"
    finally:
        s.quit()
    time.sleep(1.5)


def main():
    tests = [v for k, v in sorted(globals().items()) if k.startswith("test_")]
    passed = failed = 0
    for t in tests:
        # One retry for transport failures of the driver, never for a failed assertion.
        for attempt in (1, 2):
            try:
                t()
                passed += 1
                print(f"ok   {t.__name__}", flush=True)
                break
            except AssertionError:
                failed += 1
                print(f"FAIL {t.__name__}", flush=True)
                traceback.print_exc()
                break
            except Exception:  # noqa: BLE001
                traceback.print_exc()
                if attempt == 2:
                    failed += 1
                    print(f"FAIL {t.__name__}", flush=True)
                else:
                    print(f"retry {t.__name__} after a driver error", flush=True)
                    time.sleep(2)
    print(f"e2e: {passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
