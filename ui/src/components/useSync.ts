import { useCallback, useEffect, useRef, useState } from "react";
import {
  confirmDeletions as confirmDeletionsIpc,
  onAccountsChanged,
  onEventsChanged,
  onSyncChanged,
  onSyncProgress,
  setSyncPaused,
  syncNow as syncNowIpc,
  syncOverview,
  toAppError,
  type CalendarProgress,
  type SyncOverview,
} from "../platform";
import { subscribeThen } from "../lib/subscribeThen";

export type SyncModel = {
  /** null until the first sync_overview has answered. */
  overview: SyncOverview | null;
  /** The last calendar a run in flight finished (null when none is running). */
  progress: CalendarProgress | null;
  /** Counts `sync-changed` events (the Conflicts panel reloads when it moves). */
  changes: number;
  /** A sync_now / set_sync_paused call is in flight. */
  busy: boolean;
  /** Calendars whose confirm_deletions is in flight. */
  confirming: ReadonlySet<string>;
  syncNow: () => void;
  setPaused: (paused: boolean) => void;
  confirmDeletions: (calendarId: string) => void;
  /** Load the overview again (e.g. after an account was connected or disconnected). */
  reload: () => void;
  /**
   * Resolves once sync's events are listened to: calendar data read after it misses no
   * change (see lib/subscribeThen.ts).
   */
  listening: Promise<void>;
};

const RETRY_MS = 2000;
const MAX_TRIES = 5;
const LISTEN_AT_MOST_MS = 5000;

/**
 * Sync's state for the status area: loaded once its events are listened to, replaced
 * by every `sync-changed`.
 * `onDataChanged` runs when sync changed calendar data (`events-changed`);
 * `onError` gets the AppError of a failed action.
 */
export function useSync(onDataChanged: () => void, onError: (e: unknown) => void): SyncModel {
  const [overview, setOverview] = useState<SyncOverview | null>(null);
  const [changes, setChanges] = useState(0);
  const [progress, setProgress] = useState<CalendarProgress | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<ReadonlySet<string>>(new Set());

  const dataRef = useRef(onDataChanged);
  dataRef.current = onDataChanged;
  const errorRef = useRef(onError);
  errorRef.current = onError;
  // Bumped by every event and load, so an older answer never replaces a newer one.
  const seq = useRef(0);
  const busyRef = useRef(false);

  const reload = useCallback(() => {
    const n = ++seq.current;
    syncOverview()
      .then((o) => {
        if (n === seq.current) setOverview(o);
      })
      .catch((e) => console.warn("sync_overview failed:", toAppError(e).message));
  }, []);

  // Resolved by the first subscriptions that stay (React's development mode mounts,
  // unmounts and mounts again).
  const listeningRef = useRef<{ promise: Promise<void>; resolve: () => void } | null>(null);
  if (!listeningRef.current) {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    listeningRef.current = { promise, resolve };
  }

  // Follow the back end: subscribe first, then load the overview (the sync loop may
  // still be starting: try again a few times), so no change falls in between.
  useEffect(() => {
    let gone = false;
    let timer = 0;
    const load = (tries: number) => {
      const n = ++seq.current;
      syncOverview()
        .then((o) => {
          if (!gone && n === seq.current) setOverview(o);
        })
        .catch((e) => {
          if (gone) return;
          if (tries + 1 < MAX_TRIES) timer = window.setTimeout(() => load(tries + 1), RETRY_MS);
          else console.warn("sync_overview failed:", toAppError(e).message);
        });
    };
    const stop = subscribeThen(
      [
        {
          what: "sync-changed",
          start: () =>
            onSyncChanged((o) => {
              seq.current++;
              setOverview(o);
              setChanges((c) => c + 1);
              if (!o.running) setProgress(null);
            }),
        },
        { what: "sync-progress", start: () => onSyncProgress((p) => setProgress(p)) },
        { what: "events-changed", start: () => onEventsChanged(() => dataRef.current()) },
        // A new or removed account, or a changed account status.
        { what: "accounts-changed", start: () => onAccountsChanged(() => reload()) },
      ],
      () => {
        listeningRef.current?.resolve();
        load(0);
      },
      (what, e) => console.warn(`${what} subscription failed:`, toAppError(e).message),
    );
    // Subscribing is one quick IPC call each; should one never answer, the calendar
    // still loads (at the risk lib/subscribeThen.ts describes) rather than never.
    const fallback = window.setTimeout(() => listeningRef.current?.resolve(), LISTEN_AT_MOST_MS);
    return () => {
      gone = true;
      window.clearTimeout(timer);
      window.clearTimeout(fallback);
      stop();
    };
  }, [reload]);

  const syncNow = useCallback(() => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    syncNowIpc()
      .catch((e) => errorRef.current(e))
      .finally(() => {
        busyRef.current = false;
        setBusy(false);
      });
  }, []);

  const setPaused = useCallback((paused: boolean) => {
    if (busyRef.current) return;
    busyRef.current = true;
    setBusy(true);
    setSyncPaused(paused)
      .then(() => {
        // The loop confirms with a sync-changed; show the new state at once.
        seq.current++;
        setOverview((o) => (o ? { ...o, paused } : o));
      })
      .catch((e) => errorRef.current(e))
      .finally(() => {
        busyRef.current = false;
        setBusy(false);
      });
  }, []);

  const confirmDeletions = useCallback(
    (calendarId: string) => {
      setConfirming((s) => new Set(s).add(calendarId));
      confirmDeletionsIpc(calendarId)
        .then(() => reload())
        .catch((e) => errorRef.current(e))
        .finally(() =>
          setConfirming((s) => {
            const next = new Set(s);
            next.delete(calendarId);
            return next;
          }),
        );
    },
    [reload],
  );

  const listening = listeningRef.current.promise;
  return { overview, progress, changes, busy, confirming, syncNow, setPaused, confirmDeletions, reload, listening };
}
