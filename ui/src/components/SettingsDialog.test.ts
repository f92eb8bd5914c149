// Markup checks for the Settings dialog (static render; effects do not run).
import { describe, expect, it } from "vitest";
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import type { Account } from "../platform/bindings";
import { SettingsDialog } from "./SettingsDialog";
import type { AccountsModel } from "./useAccounts";

const noop = () => {};
const acct = (over: Partial<Account>): Account => ({
  id: "a1",
  provider: "microsoft",
  email: "ann@example.com",
  displayName: "Ann Example",
  status: "connected",
  statusMessage: null,
  createdAt: 0,
  ...over,
});
const model = (over: Partial<AccountsModel> = {}): AccountsModel => ({
  accounts: [],
  loaded: true,
  configured: ["microsoft", "google"],
  connecting: null,
  signInUrl: null,
  disconnecting: null,
  confirm: null,
  error: "",
  notice: "",
  connect: noop,
  cancelConnect: noop,
  askDisconnect: noop,
  cancelDisconnect: noop,
  confirmDisconnect: noop,
  ...over,
});
const render = (m: AccountsModel) => {
  const html = renderToStaticMarkup(
    createElement(SettingsDialog, {
      accounts: m,
      calendars: [],
      onPolicy: async () => {},
      loadSettled: async () => [],
      onClose: noop,
    }),
  );
  const doc = new DOMParserLite(html);
  return { html, doc };
};

/** Tiny attribute lookup on the rendered markup (no DOM in the node test environment). */
class DOMParserLite {
  constructor(readonly html: string) {}
  /** The opening tag of the element with this id, or null. */
  tag(id: string): string | null {
    const m = this.html.match(new RegExp(`<[a-z0-9]+[^>]*\\sid="${id}"[^>]*>`));
    return m ? m[0] : null;
  }
  has(id: string) {
    return this.tag(id) !== null;
  }
  disabled(id: string) {
    return / disabled=""/.test(this.tag(id) ?? "");
  }
  hidden(id: string) {
    return / hidden=""/.test(this.tag(id) ?? "");
  }
}

describe("SettingsDialog", () => {
  it("is an accessible modal with an Accounts tab", () => {
    const { doc } = render(model());
    expect(doc.tag("settings-dialog")).toMatch(/role="dialog"/);
    expect(doc.tag("settings-dialog")).toMatch(/aria-modal="true"/);
    expect(doc.tag("settings-dialog")).toMatch(/aria-labelledby="settings-heading"/);
    expect(doc.tag("settings-tab-accounts")).toMatch(/^<button[^>]*role="tab"[^>]*aria-selected="true"/);
    expect(doc.tag("settings-close")).toMatch(/^<button/);
    expect(doc.has("settings-panel-accounts")).toBe(true);
    expect(doc.tag("settings-tab-sync")).toMatch(/^<button[^>]*role="tab"[^>]*aria-selected="false"/);
  });

  it("shows the empty state and enabled Connect buttons", () => {
    const { doc, html } = render(model());
    expect(doc.has("accounts-empty")).toBe(true);
    expect(html).toContain(">Connect Microsoft 365<");
    expect(html).toContain(">Connect Google<");
    expect(doc.disabled("connect-microsoft")).toBe(false);
    expect(doc.disabled("connect-google")).toBe(false);
    expect(doc.hidden("accounts-error")).toBe(true);
    expect(doc.hidden("accounts-pending")).toBe(true);
    expect(doc.hidden("accounts-notice")).toBe(true);
    expect(doc.has("confirm-disconnect")).toBe(false);
  });

  it("disables and explains a provider that is not set up", () => {
    const { doc, html } = render(model({ configured: ["google"] }));
    expect(doc.disabled("connect-microsoft")).toBe(true);
    expect(doc.disabled("connect-google")).toBe(false);
    expect(html).toContain("Not set up: add a [microsoft] section to config.toml — see the README");
  });

  it("renders account rows with status, message and actions", () => {
    const { doc, html } = render(
      model({
        accounts: [
          acct({}),
          acct({ id: "g-2", provider: "google", email: "bo@gmail.com", status: "action_required", statusMessage: "Sign in <again>." }),
        ],
      }),
    );
    expect(doc.has("accounts-empty")).toBe(false);
    expect(doc.tag("account-a1-status")).toMatch(/data-status="connected"/);
    expect(html).toMatch(/id="account-a1-status"[^>]*>Connected</);
    expect(doc.has("account-a1-message")).toBe(false);
    expect(html).toMatch(/id="account-g-2-status"[^>]*>Action required</);
    // Plain text: the message is escaped, never parsed as HTML.
    expect(html).toMatch(/id="account-g-2-message"[^>]*>Sign in &lt;again&gt;\.</);
    expect(doc.tag("account-g-2-reconnect")).toMatch(/class="primary"/);
    expect(doc.tag("account-a1-reconnect")).not.toMatch(/class="primary"/);
    expect(doc.disabled("account-a1-disconnect")).toBe(false);
    expect(html).toContain("Microsoft 365");
    expect(html).toContain("Ann Example");
  });

  it("while connecting: shows the pending text and disables Connect/Reconnect", () => {
    const { doc, html } = render(model({ accounts: [acct({})], connecting: { provider: "google", accountId: null } }));
    expect(doc.hidden("accounts-pending")).toBe(false);
    expect(html).toContain("Google: Waiting for you to finish signing in in your browser…");
    expect(doc.disabled("connect-microsoft")).toBe(true);
    expect(doc.disabled("connect-google")).toBe(true);
    expect(doc.disabled("account-a1-reconnect")).toBe(true);
    expect(doc.disabled("account-a1-disconnect")).toBe(false);
    // The user who closed the browser's tab is not left waiting out the timeout.
    expect(doc.has("accounts-cancel-sign-in")).toBe(true);
    expect(doc.disabled("accounts-cancel-sign-in")).toBe(false);
  });

  it("offers Cancel only while a sign-in waits", () => {
    expect(render(model()).doc.has("accounts-cancel-sign-in")).toBe(false);
  });

  it("offers the sign-in address to open by hand once the sign-in has one", () => {
    const waiting = { provider: "google" as const, accountId: null };
    expect(render(model({ connecting: waiting })).doc.has("accounts-sign-in-url")).toBe(false);
    const url = "https://accounts.google.com/o/oauth2/v2/auth?client_id=x&state=s";
    const { doc, html } = render(model({ connecting: waiting, signInUrl: url }));
    expect(doc.tag("accounts-sign-in-url")).toContain("readOnly");
    expect(html).toContain(url.replace(/&/g, "&amp;"));
  });

  it("shows errors, notices and the disconnect confirmation", () => {
    const a = acct({});
    const { doc, html } = render(model({ accounts: [a], confirm: a, error: "Boom", notice: "Done." }));
    expect(doc.hidden("accounts-error")).toBe(false);
    expect(doc.tag("accounts-error")).toMatch(/role="alert"/);
    expect(doc.hidden("accounts-notice")).toBe(false);
    expect(doc.has("confirm-disconnect")).toBe(true);
    expect(doc.has("confirm-disconnect-ok")).toBe(true);
    expect(doc.has("confirm-disconnect-cancel")).toBe(true);
    expect(html).toContain(
      "Disconnect ann@example.com? Almanac will delete its local copy of this account&#x27;s calendars. Events in Microsoft 365 are not changed.",
    );
  });
});
