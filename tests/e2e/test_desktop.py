"""End-to-end tests of the real desktop app in a real WebKitGTK window.

Run by tests/e2e/run.sh inside Xvfb + a D-Bus session, with tauri-driver on :4444.
Creates an event through the UI, sees it in the week view, restarts the app and sees
it again; checks that a bad edit shows its error and keeps the dialog; creates an event
by drag-selecting a range, then moves and resizes it with the mouse; edits one
occurrence of a series ("only this occurrence") and then deletes the whole series;
edits an event in the repeated hour of a DST fall-back (seeded with the CLI) and checks
it kept its time; Tabs through the editor and back without leaving it, and gets focus
back where it was when it closes.
Screenshots go to tests/e2e/artifacts/.
"""
import datetime
import json
import os
import subprocess
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


def create_event(s, title, day, start, end, rule=None, end_day=None):
    s.click("#btn-new-event")
    s.wait_for("#event-editor")
    s.set_value("#ev-title", title)
    s.set_value("#ev-start-date", day)
    s.set_value("#ev-start-time", start)
    s.set_value("#ev-end-date", end_day or day)
    s.set_value("#ev-end-time", end)
    if rule:
        s.set_value("#ev-rrule", rule)
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


def count(s, sel):
    return s.execute("return document.querySelectorAll(arguments[0]).length", sel)


def wait_count(s, sel, n, timeout=15.0):
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = count(s, sel)
        if seen == n:
            return
        time.sleep(0.2)
    raise AssertionError(f"expected {n} of {sel}, saw {seen}")


def test_series_this_occurrence_then_all():
    tag = uuid.uuid4().hex[:6]
    title, moved = f"E2E daily sync {tag}", f"E2E daily sync moved {tag}"
    sel, moved_sel = f'[data-title="{title}"]', f'[data-title="{moved}"]'
    s = launch()
    try:
        # The first day the week view shows: three daily occurrences from there all
        # fall inside it, whatever today is.
        first = s.execute(
            "return document.querySelector('.fc-col-header-cell[data-date]').dataset.date")
        s.click("#btn-new-event")
        s.wait_for("#event-editor")
        s.set_value("#ev-title", title)
        s.set_value("#ev-start-date", first)
        s.set_value("#ev-start-time", "08:00")
        s.set_value("#ev-end-date", first)
        s.set_value("#ev-end-time", "09:30")
        s.set_value("#ev-rrule", "FREQ=DAILY;COUNT=3")
        s.click("#ev-save")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 3)

        # Only the second occurrence gets a new title.
        s.execute("document.querySelectorAll(arguments[0])[1].click()", sel)
        s.wait_for("#event-editor")
        s.set_value("#ev-title", moved)
        s.click("#ev-save")
        s.wait_for("#scope-dialog")
        s.screenshot(os.path.join(ART, "05-series-scope-prompt.png"))
        s.click("#scope-occurrence")
        s.wait_gone("#event-editor")
        wait_count(s, moved_sel, 1)
        wait_count(s, sel, 2)
        s.screenshot(os.path.join(ART, "06-one-occurrence-edited.png"))

        # Deleting "all occurrences" from an untouched one takes the series and its
        # edited occurrence with it.
        s.execute("document.querySelectorAll(arguments[0])[0].click()", sel)
        s.wait_for("#event-editor")
        s.click("#ev-delete")
        s.wait_for("#scope-dialog")
        s.click("#scope-all")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 0)
        wait_count(s, moved_sel, 0)
    finally:
        s.quit()
    time.sleep(1.5)


def test_a_changed_occurrence_can_take_its_whole_series_with_it():
    # An occurrence changed before still belongs to its series: Delete asks, and
    # "All occurrences" deletes the series from it.
    tag = uuid.uuid4().hex[:6]
    title, changed = f"E2E series {tag}", f"E2E series changed {tag}"
    sel, changed_sel = f'[data-title="{title}"]', f'[data-title="{changed}"]'
    s = launch()
    try:
        first = s.execute(
            "return document.querySelector('.fc-col-header-cell[data-date]').dataset.date")
        create_event(s, title, first, "13:00", "13:30", rule="FREQ=DAILY;COUNT=3")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 3)
        s.execute("document.querySelectorAll(arguments[0])[1].click()", sel)
        s.wait_for("#event-editor")
        s.set_value("#ev-title", changed)
        s.click("#ev-save")
        s.wait_for("#scope-dialog")
        s.click("#scope-occurrence")
        s.wait_gone("#event-editor")
        wait_count(s, changed_sel, 1)

        # One occurrence cannot move to another calendar or rule on its own: said.
        s.execute("document.querySelector(arguments[0]).click()", sel)
        s.wait_for("#event-editor")
        s.set_value("#ev-rrule", "FREQ=DAILY;COUNT=5")
        s.click("#ev-save")
        s.wait_for("#scope-dialog")
        s.click("#scope-occurrence")
        s.wait_for("#ev-error")
        deadline = time.monotonic() + 5
        while "belong to the whole series" not in s.text("#ev-error") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "belong to the whole series" in s.text("#ev-error"), s.text("#ev-error")
        s.click("#ev-cancel")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 2)

        s.execute("document.querySelector(arguments[0]).click()", changed_sel)
        s.wait_for("#event-editor")
        s.click("#ev-delete")
        s.wait_for("#scope-dialog")
        s.click("#scope-all")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 0)
        wait_count(s, changed_sel, 0)
    finally:
        s.quit()
    time.sleep(1.5)


def test_an_event_across_midnight_has_one_id():
    # FullCalendar draws it in two columns; every id in the window stays unique.
    tag = uuid.uuid4().hex[:6]
    title = f"E2E late {tag}"
    s = launch()
    try:
        header = s.execute("return [...document.querySelectorAll('.fc-col-header-cell[data-date]')]"
                           ".map(c => c.dataset.date)")
        create_event(s, title, header[2], "22:00", "02:00", end_day=header[3])
        s.wait_gone("#event-editor")
        wait_count(s, f'[data-title="{title}"]', 2)
        ids = s.execute("return [...document.querySelectorAll('[id]')].map(e => e.id)")
        dups = sorted({i for i in ids if ids.count(i) > 1})
        assert dups == [], dups
        shown = s.execute("return [...document.querySelectorAll(arguments[0])]"
                          ".map(e => e.dataset.occurrence)", f'[data-title="{title}"]')
        assert len(set(shown)) == 1 and shown[0], shown
        assert s.execute("return !!document.getElementById(arguments[0])", shown[0])
    finally:
        s.quit()
    time.sleep(1.5)


def test_a_hidden_calendar_stays_hidden_after_a_restart():
    title = f"E2E hidden {uuid.uuid4().hex[:6]}"
    sel = f'[data-title="{title}"]'
    checked = "return document.getElementById('cal-visible-local').checked"
    s = launch()
    try:
        day = s.execute(TODAY_JS)
        create_event(s, title, day, "15:00", "15:30")
        s.wait_gone("#event-editor")
        s.wait_for(sel)
        s.click("#cal-visible-local")
        s.wait_gone(sel)
        assert s.execute(checked) is False
    finally:
        s.quit()
    time.sleep(1.5)
    s = launch()
    try:
        s.wait_for("#cal-visible-local")
        time.sleep(1)
        assert s.execute(checked) is False, "the calendar is shown again after a restart"
        assert not s.find(sel), "its event is shown again after a restart"
        s.click("#cal-visible-local")
        s.wait_for(sel)
    finally:
        s.quit()
    time.sleep(1.5)


def test_a_weekly_series_moved_to_another_day_moves_every_week():
    # "All occurrences" of a Monday meeting moved to Tuesday: every week moves, with no
    # stray day left on the old weekday (the rule's BYDAY moves with the series).
    tag = uuid.uuid4().hex[:6]
    title = f"E2E weekly {tag}"
    sel = f'[data-title="{title}"]'
    days_js = ("return [...document.querySelectorAll(arguments[0])]"
               ".map(e => e.closest('[data-date]').dataset.date)")
    s = launch()
    try:
        header = s.execute("return [...document.querySelectorAll('.fc-col-header-cell[data-date]')]"
                           ".map(c => c.dataset.date)")
        day1, day2 = header[1], header[2]
        weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][
            datetime.date.fromisoformat(day1).weekday()]
        create_event(s, title, day1, "10:00", "11:00", rule=f"FREQ=WEEKLY;BYDAY={weekday};COUNT=3")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 1)

        s.execute("document.querySelector(arguments[0]).click()", sel)
        s.wait_for("#event-editor")
        s.set_value("#ev-start-date", day2)
        s.set_value("#ev-end-date", day2)
        s.click("#ev-save")
        s.wait_for("#scope-dialog")
        s.click("#scope-all")
        s.wait_gone("#event-editor")
        deadline = time.monotonic() + 15
        while s.execute(days_js, sel) != [day2] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert s.execute(days_js, sel) == [day2], s.execute(days_js, sel)
        one_day = datetime.timedelta(days=7)
        for week in (1, 2):
            s.click("#btn-next")
            want = (datetime.date.fromisoformat(day2) + week * one_day).isoformat()
            deadline = time.monotonic() + 15
            while s.execute(days_js, sel) != [want] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert s.execute(days_js, sel) == [want], (week, s.execute(days_js, sel))
        # Three in all: none in the fourth week.
        s.click("#btn-next")
        time.sleep(1)
        assert s.execute(days_js, sel) == [], s.execute(days_js, sel)
    finally:
        s.quit()
    time.sleep(1.5)


RECT_JS = """
const el = document.querySelector(arguments[0]);
if (!el) return null;
const r = el.getBoundingClientRect();
return [r.left, r.top, r.width, r.height];
"""


def rect(s, css):
    r = s.execute(RECT_JS, css)
    assert r, f"{css} is on screen"
    return r


def editor_fields(s):
    """(start date, start time, end time) in the open editor."""
    return tuple(s.execute("return ['#ev-start-date', '#ev-start-time', '#ev-end-time']"
                           ".map(id => document.querySelector(id).value)"))


def editor_times(s, sel):
    """Opens the event's editor and returns (start date, start time, end time) as saved."""
    s.execute("document.querySelector(arguments[0]).click()", sel)
    s.wait_for("#event-editor")
    got = editor_fields(s)
    s.execute("document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}))")
    s.wait_gone("#event-editor")
    return got


def wait_event_time(s, sel, text, timeout=15.0):
    """Waits until FullCalendar shows the event at `text` (its time label, e.g. "4:00 - 5:00")."""
    deadline = time.monotonic() + timeout
    seen = None
    while time.monotonic() < deadline:
        seen = s.execute("const e = document.querySelector(arguments[0]);"
                         "return e && e.querySelector('.fc-event-time') && "
                         "e.querySelector('.fc-event-time').textContent", sel)
        if seen == text:
            return
        time.sleep(0.2)
    raise AssertionError(f"expected {sel} at {text!r}, saw {seen!r}")


def test_drag_to_create_move_and_resize():
    title = f"E2E dragged review {uuid.uuid4().hex[:6]}"
    sel = f'[data-title="{title}"]'
    s = launch()
    try:
        day = s.execute(TODAY_JS)
        col = f'td.fc-timegrid-col[data-date="{day}"]'
        slot = 'td.fc-timegrid-slot-lane[data-time="{}"]'.format
        s.execute("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
                  slot("14:00:00"))
        time.sleep(0.3)
        x = rect(s, col)[0] + rect(s, col)[2] / 2
        top, half = rect(s, slot("14:00:00"))[1], rect(s, slot("14:00:00"))[3]

        # Drag-select today 14:00 → through the 14:30 slot: the editor opens on 14:00–15:00.
        s.drag([(x, top + 3), (x, top + half), (x, top + half * 1.5)])
        s.wait_for("#event-editor")
        got = editor_fields(s)
        assert got == (day, "14:00", "15:00"), f"the selected range: {got}"
        s.set_value("#ev-title", title)
        s.click("#ev-save")
        s.wait_gone("#event-editor")
        s.wait_for(sel)
        wait_event_time(s, sel, "2:00 - 3:00")

        # Drag the event two hours (four half-hour slots) down.
        ex, ey, ew, eh = rect(s, sel)
        cx, cy = ex + ew / 2, ey + eh / 2
        s.drag([(cx, cy), (cx, cy + 10), (cx, cy + half * 2), (cx, cy + half * 4)])
        wait_event_time(s, sel, "4:00 - 5:00")
        assert editor_times(s, sel) == (day, "16:00", "17:00"), "moved in the store"

        # Pull its bottom edge one hour (two slots) down.
        ex, ey, ew, eh = rect(s, sel)
        s.hover(ex + ew / 2, ey + eh / 2)
        rx, ry, rw, rh = rect(s, f"{sel} .fc-event-resizer-end")
        s.drag([(rx + rw / 2, ry + rh / 2), (rx + rw / 2, ry + rh / 2 + 10),
                (rx + rw / 2, ry + rh / 2 + half * 2)])
        wait_event_time(s, sel, "4:00 - 6:00")
        assert editor_times(s, sel) == (day, "16:00", "18:00"), "resized in the store"
        s.screenshot(os.path.join(ART, "07-dragged-and-resized.png"))

        s.execute("document.querySelector(arguments[0]).click()", sel)
        s.wait_for("#event-editor")
        s.click("#ev-delete")
        s.wait_gone("#event-editor")
        wait_count(s, sel, 0)
    finally:
        s.quit()
    time.sleep(1.5)


CLI = os.path.join(os.path.dirname(os.environ["ALMANAC_APP"]), "almanac")


def cli(*args):
    """The `almanac` CLI built beside the app, on the app's data directory (Berlin time)."""
    assert os.access(CLI, os.X_OK), f"{CLI} not found; build it with 'cargo build -p almanac-cli'"
    out = subprocess.run([CLI, "--tz", "Europe/Berlin", *args], check=True,
                         capture_output=True, text=True, timeout=30)
    return out.stdout


def test_an_event_in_the_repeated_hour_keeps_its_time_through_the_editor():
    # Berlin 2027-10-31: 03:00 CEST → 02:00 CET, so 02:10 happens twice. The event is
    # at the second 02:10–02:40 (01:10–01:40 UTC); the editor's fields show 02:10, and
    # saving another field must not move it to the first (an hour early).
    tag = uuid.uuid4().hex[:6]
    title, renamed = f"E2E night shift {tag}", f"E2E night shift renamed {tag}"
    cli("events", "add", "--title", title,
        "--start", "2027-10-31T01:10:00Z", "--end", "2027-10-31T01:40:00Z")
    s = launch()
    try:
        view_title = "return document.querySelector('#view-title').textContent.trim()"
        s.click("#btn-view-month")
        for _ in range(30):
            if s.execute(view_title) == "October 2027":
                break
            s.click("#btn-next")
            time.sleep(0.15)
        assert s.execute(view_title) == "October 2027", s.execute(view_title)
        s.wait_for(f'[data-title="{title}"]')
        s.execute("document.querySelector(arguments[0]).click()", f'[data-title="{title}"]')
        s.wait_for("#event-editor")
        assert editor_fields(s) == ("2027-10-31", "02:10", "02:40"), editor_fields(s)
        note = s.text("#ev-fold-note")
        assert "second 02:10 (UTC+01:00)" in note, f"the editor says which 02:10: {note!r}"
        s.screenshot(os.path.join(ART, "08-fold-editor.png"))
        s.set_value("#ev-title", renamed)
        s.click("#ev-save")
        s.wait_gone("#event-editor")
        s.wait_for(f'[data-title="{renamed}"]')
    finally:
        s.quit()
    time.sleep(1.5)  # let the app release the data directory
    listed = json.loads(cli("--json", "events", "list", "--from", "2027-10-31", "--to", "2027-10-31"))
    got = [(o["start"], o["end"]) for o in listed if o["title"] == renamed]
    assert got == [("2027-10-31T01:10:00Z", "2027-10-31T01:40:00Z")], f"saved: {listed}"


TAB, SHIFT, ENTER, ESCAPE = "\ue004", "\ue008", "\ue007", "\ue00c"
FOCUS_IN = "const a = document.activeElement; return !!a && !!a.closest(arguments[0])"
FOCUSED = "const a = document.activeElement; return a ? (a.id || a.outerHTML.slice(0, 120)) : null"


def test_tab_stays_in_a_dialog_and_focus_comes_back_when_it_closes():
    s = launch()
    try:
        s.wait_for("#btn-new-event")
        s.execute("document.getElementById('btn-new-event').focus()")
        s.press(ENTER)
        s.wait_for("#event-editor")
        assert s.execute(FOCUS_IN, "#event-editor"), f"opened with focus on {s.execute(FOCUSED)}"
        seen = set()
        # Round the whole form twice, forwards, then back: never out into the page.
        for i in range(60):
            s.press(TAB)
            assert s.execute(FOCUS_IN, "#event-editor"), f"Tab {i + 1} left the editor for {s.execute(FOCUSED)}"
            seen.add(s.execute(FOCUSED))
        for i in range(10):
            s.press(SHIFT, TAB)
            assert s.execute(FOCUS_IN, "#event-editor"), f"Shift+Tab {i + 1} left the editor for {s.execute(FOCUSED)}"
        assert len(seen) >= 8, f"Tab went round the form: {sorted(seen)}"
        s.screenshot(os.path.join(ART, "10-focus-kept-in-editor.png"))
        s.press(ESCAPE)
        s.wait_gone("#event-editor")
        assert s.execute(FOCUSED) == "btn-new-event", f"focus went back to {s.execute(FOCUSED)}"
        # The page is usable again: Tab moves on from the New button.
        s.press(TAB)
        assert s.execute(FOCUSED) != "btn-new-event", "focus moves on in the page"
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
