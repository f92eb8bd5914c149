import { useEffect, useState } from "react";
import type { Calendar, ConflictPolicy, SettledConflict } from "../platform";
import { sanitizeId } from "../lib/ids";
import { CONFLICT_POLICIES, policyCalendars, policyDomId, policyHelp, settledLines, syncedWhen } from "../lib/sync";

/** The conflicts policies settled, both versions each (`now` for "5 minutes ago"). */
export function SettledList(props: { settled: readonly SettledConflict[]; now: Date }) {
  if (props.settled.length === 0) {
    return (
      <p id="settled-empty" className="settings-help">
        No conflict has been settled by a policy yet.
      </p>
    );
  }
  return (
    <ul id="settled-list" className="settled-list">
      {props.settled.map((s) => {
        const { headline, details } = settledLines(s, syncedWhen(s.settledAt, props.now));
        return (
          <li key={s.conflict.id} id={sanitizeId(`settled-${s.conflict.id}`)} className="settled-row">
            <div className="settled-headline">{headline}</div>
            {details.map((d) => (
              <div key={d} className="settled-detail">
                {d}
              </div>
            ))}
          </li>
        );
      })}
    </ul>
  );
}

/** Settings › Sync: each synced calendar's conflict policy, and what the policies settled. */
export function PoliciesPanel(props: {
  calendars: readonly Calendar[];
  /** Saves a calendar's policy; rejects with the back end's error. */
  onChange: (calendarId: string, policy: ConflictPolicy) => Promise<void>;
  /** The conflicts policies settled, newest first. */
  loadSettled: () => Promise<SettledConflict[]>;
}) {
  const [saving, setSaving] = useState<string | null>(null);
  const [error, setError] = useState("");
  // Saved choices shown until the reloaded calendars carry them (no flicker back).
  const [chosen, setChosen] = useState<Record<string, ConflictPolicy>>({});
  const [settled, setSettled] = useState<SettledConflict[] | null>(null);
  const calendars = policyCalendars(props.calendars);
  const { loadSettled } = props;
  useEffect(() => {
    let live = true;
    loadSettled()
      .then((list) => live && setSettled(list))
      .catch((e: unknown) => live && setError((e as { message?: string }).message ?? String(e)));
    return () => {
      live = false;
    };
  }, [loadSettled]);

  const change = (calendarId: string, policy: ConflictPolicy) => {
    setSaving(calendarId);
    setError("");
    props
      .onChange(calendarId, policy)
      .then(() => setChosen((c) => ({ ...c, [calendarId]: policy })))
      .catch((e: unknown) => setError((e as { message?: string }).message ?? String(e)))
      .finally(() => setSaving(null));
  };

  return (
    <div className="policies-panel">
      <p className="settings-help">
        When an event is changed both here and online — the same detail on both sides, or changed on one side and deleted on
        the other — Almanac can ask you or settle it by itself. Either way every version stays on record.
      </p>
      <div id="policies-error" className="error" role="alert" hidden={!error}>
        {error}
      </div>
      {calendars.length === 0 ? (
        <p id="policies-empty" className="settings-help">
          No synced calendar yet: connect an account under Accounts.
        </p>
      ) : (
        <ul className="policy-list">
          {calendars.map((c) => {
            const id = policyDomId(c.id);
            const policy = chosen[c.id] ?? c.conflictPolicy ?? "ask";
            return (
              <li key={c.id} className="policy-row">
                <label htmlFor={id} className="policy-calendar">
                  <span className="swatch" style={{ backgroundColor: c.color }} aria-hidden="true" />
                  {c.name}
                </label>
                <select
                  id={id}
                  value={policy}
                  disabled={saving !== null}
                  aria-describedby={`${id}-help`}
                  onChange={(e) => change(c.id, e.target.value as ConflictPolicy)}
                >
                  {CONFLICT_POLICIES.map((p) => (
                    <option key={p.value} value={p.value}>
                      {p.label}
                    </option>
                  ))}
                </select>
                <div id={`${id}-help`} className="policy-help">
                  {policyHelp(policy)}
                </div>
              </li>
            );
          })}
        </ul>
      )}
      <h4 className="settings-subtitle">Settled by a policy</h4>
      {settled !== null ? (
        <SettledList settled={settled} now={new Date()} />
      ) : (
        // Not read (yet, or at all: the error above says why).
        !error && <p className="settings-help">Loading…</p>
      )}
    </div>
  );
}
