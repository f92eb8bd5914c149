import { useCallback, useEffect, useRef, useState } from "react";
import {
  cancelSignIn,
  configuredProviders,
  connectAccount,
  disconnectAccount,
  listAccounts,
  onAccountsChanged,
  onSignInUrl,
  toAppError,
  type Account,
  type Provider,
} from "../platform";
import { connectedNotice, disconnectedNotice, providerName } from "../lib/accounts";

export type AccountsModel = {
  accounts: Account[];
  /** The first list_accounts of this opening has answered (successfully or not). */
  loaded: boolean;
  /** configured_providers, or null while unknown (not loaded / failed). */
  configured: Provider[] | null;
  /** A connect_account in flight (accountId set for a Reconnect). */
  connecting: { provider: Provider; accountId: string | null } | null;
  /** The address the sign-in in flight opened in the browser, to open by hand. */
  signInUrl: string | null;
  /** A disconnect_account in flight. */
  disconnecting: Account | null;
  /** The account whose disconnect is waiting for confirmation. */
  confirm: Account | null;
  error: string;
  notice: string;
  connect: (provider: Provider, accountId?: string | null) => void;
  /** Ends the sign-in waiting for the browser (the user closed its tab, say). */
  cancelConnect: () => void;
  askDisconnect: (account: Account) => void;
  cancelDisconnect: () => void;
  /** `discardUnpushed`: how many unsent changes the confirmation told the user of. */
  confirmDisconnect: (discardUnpushed?: number) => void;
};

const errorText = (prefix: string, e: unknown) => {
  const err = toAppError(e);
  return `${prefix}: ${err.message || err.code}`;
};

/**
 * State of the Settings → Accounts page. Lives in App (not in the dialog) so a sign-in
 * that is still pending in the browser survives closing and reopening Settings.
 * While `active` (Settings open) the list is loaded and `accounts-changed` reloads it.
 * `onAltered` runs after anything that may have added or removed calendars.
 */
export function useAccounts(active: boolean, onAltered: () => void): AccountsModel {
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [configured, setConfigured] = useState<Provider[] | null>(null);
  const [connecting, setConnecting] = useState<AccountsModel["connecting"]>(null);
  const [signInUrl, setSignInUrl] = useState<string | null>(null);
  const [disconnecting, setDisconnecting] = useState<Account | null>(null);
  const [confirm, setConfirm] = useState<Account | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");

  const activeRef = useRef(active);
  activeRef.current = active;
  const alteredRef = useRef(onAltered);
  alteredRef.current = onAltered;
  const loadSeq = useRef(0);
  const busyRef = useRef({ connecting: false, disconnecting: false });
  /** The user cancelled the sign-in now in flight: its failure is no error. */
  const cancelledRef = useRef(false);

  const reload = useCallback(async () => {
    const n = ++loadSeq.current;
    const [list, conf] = await Promise.allSettled([listAccounts(), configuredProviders()]);
    if (n !== loadSeq.current) return; // a newer load has started
    if (list.status === "fulfilled") setAccounts(list.value);
    else setError(errorText("Could not load accounts", list.reason));
    if (conf.status === "fulfilled") setConfigured(conf.value);
    else {
      setConfigured(null);
      if (list.status === "fulfilled") setError(errorText("Could not read the provider configuration", conf.reason));
    }
    setLoaded(true);
  }, []);

  // Load on open, follow back-end changes while open, tidy up on close.
  useEffect(() => {
    if (!active) {
      setConfirm(null);
      setError("");
      setNotice("");
      setLoaded(false);
      return;
    }
    void reload();
    let unsub: (() => void) | null = null;
    let gone = false;
    // A status change does not add or remove calendars (connect/disconnect call onAltered).
    onAccountsChanged(() => void reload())
      .then((u) => (gone ? u() : (unsub = u)))
      .catch((e) => console.warn("accounts-changed subscription failed:", toAppError(e).message));
    return () => {
      gone = true;
      unsub?.();
    };
  }, [active, reload]);

  // Listened to from the start: the address comes while connect_account is pending.
  useEffect(() => {
    let gone = false;
    let unsub: (() => void) | undefined;
    onSignInUrl((url) => {
      if (busyRef.current.connecting) setSignInUrl(url);
    })
      .then((u) => (gone ? u() : (unsub = u)))
      .catch((e) => console.warn("sign-in-url subscription failed:", toAppError(e).message));
    return () => {
      gone = true;
      unsub?.();
    };
  }, []);

  const connect = useCallback(
    (provider: Provider, accountId: string | null = null) => {
      if (busyRef.current.connecting || busyRef.current.disconnecting) return;
      busyRef.current.connecting = true;
      cancelledRef.current = false;
      setConnecting({ provider, accountId });
      setError("");
      setNotice("");
      connectAccount(provider)
        .then((a) => {
          setNotice(connectedNotice(a));
          alteredRef.current();
        })
        .catch((e) => {
          if (cancelledRef.current) setNotice("Sign-in cancelled.");
          else setError(errorText(`Could not connect ${providerName(provider)}`, e));
        })
        .finally(() => {
          busyRef.current.connecting = false;
          setConnecting(null);
          setSignInUrl(null);
          if (activeRef.current) void reload();
        });
    },
    [reload],
  );

  const cancelConnect = useCallback(() => {
    if (!busyRef.current.connecting) return;
    cancelledRef.current = true;
    // A sign-in only just asked for may not be listening for Cancel yet: ask again
    // until it is, or it has ended.
    const ask = (tries: number) => {
      cancelSignIn()
        .then((heard) => {
          if (!heard && tries > 0 && busyRef.current.connecting) setTimeout(() => ask(tries - 1), 200);
        })
        .catch((e) => {
          cancelledRef.current = false;
          setError(errorText("Could not cancel the sign-in", e));
        });
    };
    ask(25);
  }, []);

  const askDisconnect = useCallback((account: Account) => setConfirm(account), []);
  const cancelDisconnect = useCallback(() => setConfirm(null), []);

  const confirmDisconnect = useCallback((discardUnpushed = 0) => {
    const account = confirm;
    setConfirm(null);
    if (!account || busyRef.current.disconnecting) return;
    busyRef.current.disconnecting = true;
    setDisconnecting(account);
    setError("");
    setNotice("");
    disconnectAccount(account.id, discardUnpushed)
      .then((d) => {
        setNotice(disconnectedNotice(d));
        alteredRef.current();
      })
      .catch((e) => setError(errorText(`Could not disconnect ${account.email}`, e)))
      .finally(() => {
        busyRef.current.disconnecting = false;
        setDisconnecting(null);
        if (activeRef.current) void reload();
      });
  }, [confirm]);

  return {
    accounts,
    loaded,
    configured,
    connecting,
    signInUrl,
    disconnecting,
    confirm,
    error,
    notice,
    connect,
    cancelConnect,
    askDisconnect,
    cancelDisconnect,
    confirmDisconnect,
  };
}
