import { describe, expect, it } from "vitest";
import type { Account } from "../platform/bindings";
import {
  PROVIDERS,
  accountDomId,
  connectedNotice,
  disconnectQuestion,
  disconnectedNotice,
  isConnectable,
  notConfiguredReason,
  pendingConnectText,
  providerName,
  reconnectEmphasised,
  revokeNoticeText,
  statusLabel,
  statusMessageFor,
} from "./accounts";

const acct = (over: Partial<Account> = {}): Account => ({
  id: "a1",
  provider: "microsoft",
  email: "ann@example.com",
  displayName: "Ann",
  status: "connected",
  statusMessage: null,
  createdAt: 0,
  ...over,
});

describe("labels", () => {
  it("names providers", () => {
    expect(providerName("microsoft")).toBe("Microsoft 365");
    expect(providerName("google")).toBe("Google");
    expect(PROVIDERS).toEqual(["microsoft", "google"]);
  });
  it("labels every status", () => {
    expect(statusLabel("connected")).toBe("Connected");
    expect(statusLabel("action_required")).toBe("Action required");
    expect(statusLabel("error")).toBe("Error");
    expect(statusLabel("paused")).toBe("Paused");
  });
  it("emphasises Reconnect only when action is required", () => {
    expect(reconnectEmphasised("action_required")).toBe(true);
    expect(reconnectEmphasised("error")).toBe(false);
    expect(reconnectEmphasised("connected")).toBe(false);
  });
});

describe("statusMessageFor", () => {
  it("shows the message for action_required and error only", () => {
    expect(statusMessageFor(acct({ status: "action_required", statusMessage: "Sign in again." }))).toBe("Sign in again.");
    expect(statusMessageFor(acct({ status: "error", statusMessage: " Boom " }))).toBe("Boom");
    expect(statusMessageFor(acct({ status: "connected", statusMessage: "stale" }))).toBe("");
    expect(statusMessageFor(acct({ status: "paused", statusMessage: "x" }))).toBe("");
    expect(statusMessageFor(acct({ status: "error", statusMessage: null }))).toBe("");
  });
});

describe("connectability", () => {
  it("follows configured_providers", () => {
    expect(isConnectable("microsoft", ["microsoft"])).toBe(true);
    expect(isConnectable("google", ["microsoft"])).toBe(false);
    expect(isConnectable("google", [])).toBe(false);
  });
  it("lets the back end decide when the configuration is unknown", () => {
    expect(isConnectable("google", null)).toBe(true);
  });
  it("explains a missing section", () => {
    expect(notConfiguredReason("microsoft")).toBe("Not set up: add a [microsoft] section to config.toml — see the README");
    expect(notConfiguredReason("google")).toBe("Not set up: add a [google] section to config.toml — see the README");
  });
});

describe("texts", () => {
  it("pending connect names the provider", () => {
    expect(pendingConnectText("google")).toContain("Google");
    expect(pendingConnectText("microsoft")).toContain("Waiting for you to finish signing in in your browser…");
  });
  it("confirmation question", () => {
    expect(disconnectQuestion(acct())).toBe(
      "Disconnect ann@example.com? Almanac will delete its local copy of this account's calendars. Events in Microsoft 365 are not changed.",
    );
  });
  it("confirmation question warns about changes not sent yet", () => {
    expect(disconnectQuestion(acct(), 1)).toContain("1 change made here has not been sent to Microsoft 365 yet and will be lost");
    expect(disconnectQuestion(acct(), 3)).toContain("3 changes made here have not been sent");
    expect(disconnectQuestion(acct(), 3)).toContain("Sync now to keep them");
    expect(disconnectQuestion(acct(), 0)).not.toContain("lost");
  });
  it("revoke outcomes", () => {
    expect(revokeNoticeText("revoked", "google")).toBe("Almanac's access was revoked.");
    expect(revokeNoticeText("not_supported", "microsoft")).toBe(
      "Microsoft does not let apps revoke their own access; you can remove Almanac at https://myaccount.microsoft.com (Privacy → Apps).",
    );
    expect(revokeNoticeText("failed", "google")).toBe(
      "Google could not be reached to revoke access; you can remove Almanac at https://myaccount.google.com/permissions.",
    );
    expect(revokeNoticeText("no_token", "google")).toBe("");
  });
  it("disconnect notice", () => {
    expect(disconnectedNotice({ account: acct({ provider: "google" }), revoked: "revoked" })).toBe(
      "Disconnected ann@example.com. Almanac's access was revoked.",
    );
    expect(disconnectedNotice({ account: acct(), revoked: "no_token" })).toBe("Disconnected ann@example.com.");
  });
  it("connect notice", () => {
    expect(connectedNotice(acct({ provider: "google" }))).toBe("Connected Google account ann@example.com.");
  });
});

describe("accountDomId", () => {
  it("builds stable ids", () => {
    expect(accountDomId("3f2a-01")).toBe("account-3f2a-01");
    expect(accountDomId("3f2a-01", "status")).toBe("account-3f2a-01-status");
    expect(accountDomId("a:b/c", "disconnect")).toBe("account-a_b_c-disconnect");
  });
});
