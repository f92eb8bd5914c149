// Pure helpers for the Settings → Accounts page (no React, no platform calls).
import type { Account, AccountStatus, Disconnected, Provider, RevokeOutcome } from "../platform/bindings";
import { sanitizeId } from "./ids";

/** Providers in the order the Connect buttons are shown. */
export const PROVIDERS: readonly Provider[] = ["microsoft", "google"];

const PROVIDER_NAMES: Record<Provider, string> = {
  microsoft: "Microsoft 365",
  google: "Google",
};

/** The company, as named in sentences about its account pages ("Microsoft does not …"). */
const COMPANY_NAMES: Record<Provider, string> = {
  microsoft: "Microsoft",
  google: "Google",
};

/** Where the user can remove Almanac's access themselves (plain text, never a link). */
const ACCESS_PAGES: Record<Provider, string> = {
  microsoft: "https://myaccount.microsoft.com (Privacy → Apps)",
  google: "https://myaccount.google.com/permissions",
};

const STATUS_LABELS: Record<AccountStatus, string> = {
  connected: "Connected",
  action_required: "Action required",
  error: "Error",
  paused: "Paused",
};

export function providerName(p: Provider): string {
  return PROVIDER_NAMES[p] ?? String(p);
}

export function statusLabel(s: AccountStatus): string {
  return STATUS_LABELS[s] ?? String(s);
}

/** The account's status message, when its status warrants showing one (else ""). */
export function statusMessageFor(a: Pick<Account, "status" | "statusMessage">): string {
  if (a.status !== "action_required" && a.status !== "error") return "";
  return (a.statusMessage ?? "").trim();
}

/** Is the Reconnect button the thing the user should do next? */
export function reconnectEmphasised(s: AccountStatus): boolean {
  return s === "action_required";
}

/**
 * Can a Connect/Reconnect for this provider be started? `configured` is the result of
 * configured_providers, or null when it is unknown (could not be loaded): then the
 * back end decides (it answers with a `config` error if the section is missing).
 */
export function isConnectable(p: Provider, configured: readonly Provider[] | null): boolean {
  return configured === null || configured.includes(p);
}

/** Why a provider cannot be connected (shown next to its disabled Connect button). */
export function notConfiguredReason(p: Provider): string {
  return `Not set up: add a [${p}] section to config.toml — see the README`;
}

/** Text shown while connect_account is pending. */
export function pendingConnectText(p: Provider): string {
  return `${providerName(p)}: Waiting for you to finish signing in in your browser…`;
}

/**
 * Body of the disconnect confirmation. `unsent`: changes made here to this account's
 * calendars that were not sent yet (they are discarded, so the question says so).
 */
export function disconnectQuestion(a: Pick<Account, "email" | "provider">, unsent = 0): string {
  const base = `Disconnect ${a.email}? Almanac will delete its local copy of this account's calendars. Events in ${providerName(a.provider)} are not changed.`;
  if (unsent <= 0) return base;
  const what = unsent === 1 ? "1 change made here has" : `${unsent} changes made here have`;
  return `${base} ${what} not been sent to ${providerName(a.provider)} yet and will be lost — choose Cancel and Sync now to keep ${unsent === 1 ? "it" : "them"}.`;
}

/** The part of the disconnect notice that explains what happened to the grant ("" for no_token). */
export function revokeNoticeText(outcome: RevokeOutcome, provider: Provider): string {
  switch (outcome) {
    case "revoked":
      return "Almanac's access was revoked.";
    case "not_supported":
      return `${COMPANY_NAMES[provider]} does not let apps revoke their own access; you can remove Almanac at ${ACCESS_PAGES[provider]}.`;
    case "failed":
      return `${COMPANY_NAMES[provider]} could not be reached to revoke access; you can remove Almanac at ${ACCESS_PAGES[provider]}.`;
    case "no_token":
    default:
      return "";
  }
}

/** Full notice after a successful disconnect_account. */
export function disconnectedNotice(d: Disconnected): string {
  const extra = revokeNoticeText(d.revoked, d.account.provider);
  return extra ? `Disconnected ${d.account.email}. ${extra}` : `Disconnected ${d.account.email}.`;
}

/** Notice after a successful connect_account. */
export function connectedNotice(a: Pick<Account, "email" | "provider">): string {
  return `Connected ${providerName(a.provider)} account ${a.email}.`;
}

/** DOM id of an account row; suffixed ids (-status, -message, -reconnect, -disconnect) build on it. */
export function accountDomId(accountId: string, suffix?: "status" | "message" | "reconnect" | "disconnect"): string {
  return sanitizeId(suffix ? `account-${accountId}-${suffix}` : `account-${accountId}`);
}
