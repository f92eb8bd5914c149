import { useEffect, useState } from "react";
import {
  canSyncNow,
  conflictsButtonText,
  hasSyncAccounts,
  nextSyncText,
  progressText,
  heldCalendarText,
  heldCalendars,
  pauseButtonText,
  syncStatus,
} from "../lib/sync";
import type { SyncModel } from "./useSync";

/** The current time, refreshed every 30 s so "5 minutes ago" stays true. */
function useNow(fixed: Date | undefined): Date {
  const [now, setNow] = useState(() => fixed ?? new Date());
  useEffect(() => {
    if (fixed) return;
    const t = window.setInterval(() => setNow(new Date()), 30_000);
    return () => window.clearInterval(t);
  }, [fixed]);
  return fixed ?? now;
}

/**
 * The sync part of the toolbar: progress, one line of status, Sign in again (when an
 * account needs it: opens Settings › Accounts), Sync now, Pause/Resume and (when there
 * are any) the open conflicts. Hidden when no account is connected.
 */
export function SyncStatus(props: { sync: SyncModel; onOpenConflicts: () => void; onSignIn: () => void; now?: Date }) {
  const { sync } = props;
  const now = useNow(props.now);
  const o = sync.overview;
  if (!hasSyncAccounts(o)) return null;
  const status = syncStatus(o, now);
  return (
    <div id="sync-status" className="group sync-status" data-state={status.kind} aria-label="Sync">
      {o.running && <span id="sync-progress" className="sync-progress" role="progressbar" aria-label="Syncing" />}
      <span id="sync-status-text" className="sync-status-text" role="status" aria-live="polite" title={[status.text, nextSyncText(o)].filter(Boolean).join(" · ")}>
        {status.text}
        {status.kind === "syncing" && sync.progress && (
          <span id="sync-progress-text" className="sync-progress-text">
            {" "}
            ({progressText(sync.progress)})
          </span>
        )}
      </span>
      {status.kind === "action" && (
        <button id="sync-sign-in" type="button" className="attention" aria-haspopup="dialog" title="Settings › Accounts: Reconnect" onClick={props.onSignIn}>
          Sign in again…
        </button>
      )}
      <button id="sync-now" type="button" disabled={!canSyncNow(o) || sync.busy} onClick={sync.syncNow}>
        Sync now
      </button>
      <button
        id="sync-pause"
        type="button"
        aria-pressed={o.paused}
        disabled={sync.busy}
        title={o.paused ? "Start syncing again" : "Stop syncing until you resume"}
        onClick={() => sync.setPaused(!o.paused)}
      >
        {pauseButtonText(o.paused)}
      </button>
      {o.openConflicts > 0 && (
        <button id="open-conflicts" type="button" className="attention" aria-haspopup="dialog" onClick={props.onOpenConflicts}>
          {conflictsButtonText(o.openConflicts)}
        </button>
      )}
    </div>
  );
}

/** One warning per calendar the deletion guard stopped, each with its confirm button. */
export function HeldCalendarsNotice(props: { sync: SyncModel }) {
  const { sync } = props;
  const held = hasSyncAccounts(sync.overview) ? heldCalendars(sync.overview) : [];
  if (held.length === 0) return null;
  return (
    <div id="sync-held" className="sync-held" role="alert">
      {held.map((h) => (
        <div key={h.calendarId} id={`held-${h.calendarId}`} className="sync-held-item">
          <span className="sync-held-text">{heldCalendarText(h)}</span>
          <button
            id={`confirm-deletions-${h.calendarId}`}
            type="button"
            disabled={sync.confirming.has(h.calendarId)}
            title={`Let the next sync delete these events from ${h.name} on this computer too`}
            onClick={() => sync.confirmDeletions(h.calendarId)}
          >
            Confirm deletions
          </button>
        </div>
      ))}
    </div>
  );
}
