"""Sign-in in the real window: Settings → Accounts against the project's fake cloud.

Run by tests/e2e/run.sh, which starts the fake cloud, writes the app's config.toml
pointing at it (Google over loopback, Microsoft over the almanac:// deep link),
unlocks a throwaway Secret Service, runs a notification server with a D-Bus monitor,
and sets $BROWSER to tests/e2e/browser.py.

One scenario, in order: connect Google (loopback) and Microsoft (deep link) and see
the Connected badges; hostile deep links change nothing; a revoked grant shows
"Action required" after a restart with exactly one notification across restarts;
Reconnect fixes it; Disconnect asks first and removes the account; no canary token
reaches the page, the database or the logs.
"""
import os
import subprocess
import sys
import time
import traceback

from common import APP, ART, control, launch


CANARY = os.environ["E2E_CANARY"]
NOTIFY_LOG = os.environ["E2E_NOTIFY_LOG"]
DATA = os.environ["ALMANAC_DATA_DIR"]
STATUS = '[id^="account-"][id$="-status"]'


def open_settings(s):
    s.click("#btn-settings")
    s.wait_for("#settings-dialog")


def badges(s):
    return s.execute(
        f"""return [...document.querySelectorAll('{STATUS}')].map(e =>
              [e.closest('.account-row').querySelector('.account-email').textContent,
               e.dataset.status]);"""
    )


def wait_badges(s, want, timeout=40):
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = sorted(map(tuple, badges(s)))
        if got == sorted(want):
            return
        time.sleep(0.3)
    raise AssertionError(f"badges {got}, want {sorted(want)}")


def sidebar_groups(s):
    """The sidebar's calendars by group heading ('' for this computer's)."""
    return s.execute(
        """return Object.fromEntries([...document.querySelectorAll('#sidebar .cal-group')].map(g =>
              [g.querySelector('.cal-group-heading')?.textContent ?? '',
               [...g.querySelectorAll('.cal-name')].map(n => n.textContent)]));"""
    )


def page_has_canary(s):
    """The rendered page, and the raw IPC responses of the account commands."""
    return s.execute(
        """
        const canary = arguments[0];
        return Promise.all(['list_accounts', 'configured_providers']
            .map(c => window.__TAURI_INTERNALS__.invoke(c)))
          .then(ipc => (document.documentElement.outerHTML + JSON.stringify(ipc)).includes(canary));
        """,
        CANARY,
    )


def notifications():
    try:
        with open(NOTIFY_LOG) as f:
            return f.read().count("Almanac: sign in again")
    except FileNotFoundError:
        return 0


GOOGLE = "alex.kim@gmail.example"
MICROSOFT = "adele@contoso.example"


def scenario():
    # Access tokens shorter than the refresh-ahead margin: every start refreshes.
    control("config", {"token_prefix": CANARY, "access_token_lifetime_secs": 60})
    s = launch()
    try:
        open_settings(s)
        s.wait_for("#accounts-empty")
        # The user closes the sign-in tab and cancels: no waiting out the timeout.
        closed_tab = os.environ["BROWSER_LOG"] + ".closed-tab"
        open(closed_tab, "w").close()
        try:
            s.click("#connect-google")
            # No browser came up: the window offers the address to open by hand.
            s.wait_for("#accounts-sign-in-url")
            offered = s.execute("return document.getElementById('accounts-sign-in-url').value")
            assert offered.startswith(os.environ["E2E_FAKECLOUD"] + "/o/oauth2/v2/auth?"), offered
            assert "code_challenge=" in offered and "state=" in offered, offered
            s.click("#accounts-cancel-sign-in")
            s.wait_gone("#accounts-cancel-sign-in")
            assert "Sign-in cancelled." in s.text("#accounts-notice"), s.text("#accounts-notice")
            assert s.text("#accounts-error") == "", s.text("#accounts-error")
            s.wait_for("#accounts-empty")
            assert control("stats")["token"]["authorization_code"] == 0
        finally:
            os.remove(closed_tab)
        print("ok   a sign-in left in the browser offers its address, and is cancelled at once; no account", flush=True)
        s.click("#connect-google")
        wait_badges(s, [(GOOGLE, "connected")])
        s.screenshot(os.path.join(ART, "accounts-01-google-connected.png"))
        s.click("#connect-microsoft")
        wait_badges(s, [(GOOGLE, "connected"), (MICROSOFT, "connected")])
        assert control("stats")["token"]["authorization_code"] == 2
        print("ok   connect Google (loopback) and Microsoft (deep link)", flush=True)
        # Each account's calendars under its address: Microsoft names every mailbox's
        # calendar "Calendar".
        want = {"": ["On this computer"], GOOGLE: [GOOGLE], MICROSOFT: ["Calendar"]}
        deadline = time.monotonic() + 40
        while (groups := sidebar_groups(s)) != want and time.monotonic() < deadline:
            time.sleep(0.3)
        assert groups == want, groups
        s.screenshot(os.path.join(ART, "accounts-02-both-connected.png"))
        print("ok   the sidebar lists each account's calendars under its address", flush=True)

        # Hostile deep links through the OS and the command line: ignored.
        for argv in (
            [APP, "almanac://oauth/callback?code=forged&state=forged"],
            [APP, "--inject", "almanac://oauth/callback?code=x&state=y"],
            [APP, "almanac://oauth/../../etc/passwd"],
            [APP, "almanac://evil/callback?code=x"],
            [APP, "almanac://oauth/callback?" + "a" * 100_000],
        ) + tuple([APP, "almanac://oauth/callback?code=r&state=r"] for _ in range(10)):
            subprocess.run(argv, timeout=30, capture_output=True)
        subprocess.run(["gio", "open", "almanac://oauth/callback?code=gio&state=gio"],
                       timeout=30, capture_output=True)
        time.sleep(1)
        wait_badges(s, [(GOOGLE, "connected"), (MICROSOFT, "connected")])
        assert control("stats")["token"]["authorization_code"] == 2, "a hostile link caused a token request"
        print("ok   hostile deep links are ignored", flush=True)
        assert not page_has_canary(s), "a token reached the page or an IPC response"
    finally:
        s.quit()

    # The user (or an admin) revokes Almanac's access at Google: every token of the
    # grant is dead; a new sign-in makes a new grant.
    control("revoke_all", {"provider": "google", "email": GOOGLE})
    for round_ in (1, 2):
        s = launch()
        try:
            open_settings(s)
            wait_badges(s, [(GOOGLE, "action_required"), (MICROSOFT, "connected")])
            if round_ == 1:
                s.screenshot(os.path.join(ART, "accounts-03-action-required.png"))
            time.sleep(1)
        finally:
            s.quit()
    assert notifications() == 1, f"{notifications()} notifications, want exactly 1"
    print("ok   revoked grant: Action required, one notification across restarts", flush=True)

    # From the reconnect on, tokens of the usual hour. A 60 s token is inside the
    # refresh-ahead margin, so the app refreshes before every request; the fake's Google
    # rotates refresh tokens and revokes the grant when an old one comes back (RFC 9700
    # §4.14.2), so ending the app while a refresh is in flight — its answer never
    # stored — left the account needing a sign-in for test_sync.py (seen in CI).
    control("config", {"access_token_lifetime_secs": 3599})
    s = launch()
    try:
        # The status area says so and offers the way there: Settings › Accounts.
        s.wait_for("#sync-sign-in")
        s.click("#sync-sign-in")
        s.wait_for("#settings-dialog")
        wait_badges(s, [(GOOGLE, "action_required"), (MICROSOFT, "connected")])
        google_id = s.execute(
            f"""return [...document.querySelectorAll('.account-row')]
                 .find(r => r.querySelector('.account-email').textContent === '{GOOGLE}').id;""")
        microsoft_id = s.execute(
            f"""return [...document.querySelectorAll('.account-row')]
                 .find(r => r.querySelector('.account-email').textContent === '{MICROSOFT}').id;""")
        s.click(f"#{google_id}-reconnect")
        wait_badges(s, [(GOOGLE, "connected"), (MICROSOFT, "connected")])
        print("ok   Sign in again (status area) opens Accounts; Reconnect clears Action required", flush=True)

        s.click(f"#{microsoft_id}-disconnect")
        s.wait_for("#confirm-disconnect")
        s.click("#confirm-disconnect-cancel")
        s.wait_gone("#confirm-disconnect")
        wait_badges(s, [(GOOGLE, "connected"), (MICROSOFT, "connected")])
        s.click(f"#{microsoft_id}-disconnect")
        s.click("#confirm-disconnect-ok")
        wait_badges(s, [(GOOGLE, "connected")])
        notice = s.text("#accounts-notice")
        assert "does not let apps revoke" in notice, notice
        s.screenshot(os.path.join(ART, "accounts-04-disconnected.png"))
        assert not page_has_canary(s), "a token reached the page or an IPC response"
        print("ok   Disconnect asks first, then removes the account", flush=True)
    finally:
        s.quit()

    for name in os.listdir(DATA):
        path = os.path.join(DATA, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                assert CANARY.encode() not in f.read(), f"a token leaked into {path}"
    print("ok   no canary token in the page, IPC responses or the data directory", flush=True)


def main():
    try:
        scenario()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        print("accounts: 0 passed, 1 failed", flush=True)
        return 1
    print("accounts: 1 passed, 0 failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
