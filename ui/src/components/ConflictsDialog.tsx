import { useCallback, useEffect, useRef, useState, type Ref } from "react";
import {
  listConflicts,
  resolveConflict,
  toAppError,
  type Calendar,
  type ConflictAnswer,
  type ConflictView,
  type FieldSide,
  type KeepSide,
  type Provider,
} from "../platform";
import {
  allFieldsPicked,
  canKeepBoth,
  canPickFields,
  conflictKindText,
  freshPicks,
  keepAnswer,
  pickedAnswer,
  providerOfCalendar,
  selectedConflict,
  syncedWhen,
  withPick,
  type Picks,
} from "../lib/sync";
import type { SyncModel } from "./useSync";
import { sanitizeId } from "../lib/ids";
import { useModal } from "./useModal";

/** Focus `el` if it is still in the page and can take focus, else `fallback`. */
function refocus(el: Element | null, fallback: string) {
  const usable = el instanceof HTMLElement && el !== document.body && el.isConnected && !(el as HTMLButtonElement).disabled;
  (usable ? el : document.getElementById(fallback))?.focus();
}

export type ConflictsPanelProps = {
  /** null while loading. */
  list: ConflictView[] | null;
  selectedId: string | null;
  /** Field picks per conflict id. */
  picks: Readonly<Record<string, Picks>>;
  busy: boolean;
  error: string;
  providerOf: (calendarId: string) => Provider | null;
  /** The provider no longer lets the user change this calendar: only Keep theirs can go. */
  readOnly: (calendarId: string) => boolean;
  now: Date;
  onSelect: (conflictId: string) => void;
  onPick: (conflictId: string, field: string, side: FieldSide) => void;
  onResolve: (answer: ConflictAnswer) => void;
  onClose: () => void;
  /** The backdrop, for the container to make the page behind it inert. */
  backdropRef?: Ref<HTMLDivElement>;
};

function FieldsTable(props: { conflict: ConflictView; picks: Picks; disabled: boolean; onPick: ConflictsPanelProps["onPick"] }) {
  const { conflict: c, picks } = props;
  return (
    <table id="conflict-fields" className="conflict-fields">
      <thead>
        <tr>
          <th scope="col">
            <span className="visually-hidden">Field</span>
          </th>
          <th scope="col">Before</th>
          <th scope="col">This computer</th>
          <th scope="col">Provider</th>
        </tr>
      </thead>
      <tbody>
        {c.fields.map((f) => {
          const name = `pick-${c.id}-${f.field}`;
          const cell = (side: FieldSide, value: string) => (
            <td className={picks[f.field] === side ? "picked" : undefined}>
              <label className="conflict-pick">
                <input
                  type="radio"
                  id={sanitizeId(`pick-${f.field}-${side}`)}
                  name={name}
                  value={side}
                  checked={picks[f.field] === side}
                  disabled={props.disabled}
                  onChange={() => props.onPick(c.id, f.field, side)}
                />
                <span className="conflict-value">{value}</span>
              </label>
            </td>
          );
          return (
            <tr key={f.field} id={sanitizeId(`conflict-field-${f.field}`)}>
              <th scope="row">{f.label}</th>
              <td className="conflict-base">
                <span className="conflict-value">{f.base}</span>
              </td>
              {cell("local", f.local)}
              {cell("remote", f.remote)}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function ConflictDetail(props: { conflict: ConflictView } & Omit<ConflictsPanelProps, "list" | "selectedId" | "error" | "onSelect" | "onClose">) {
  const { conflict: c } = props;
  const picks = props.picks[c.id] ?? {};
  const readOnly = props.readOnly(c.calendarId);
  const pickable = canPickFields(c) && !readOnly;
  const answer = (keep: KeepSide) => props.onResolve(keepAnswer(c, keep));
  const usePicked = () => {
    const a = pickedAnswer(c, picks);
    if (a) props.onResolve(a);
  };
  return (
    <section id="conflict-detail" className="conflict-detail" aria-labelledby="conflict-title">
      <h3 id="conflict-title" className="conflict-title">
        {c.title}
      </h3>
      <dl className="conflict-facts">
        <dt>Calendar</dt>
        <dd id="conflict-calendar">{c.calendarName}</dd>
        <dt>What happened</dt>
        <dd id="conflict-kind">{conflictKindText(c.kind, props.providerOf(c.calendarId), c.calendarName)}</dd>
        {c.detectedAt && (
          <>
            <dt>Noticed</dt>
            <dd>{syncedWhen(c.detectedAt, props.now)}</dd>
          </>
        )}
      </dl>

      {c.kind === "editEdit" ? (
        pickable ? (
          <>
            <p className="conflict-help">Choose, for each line, which version to keep — or keep one version as a whole.</p>
            <FieldsTable conflict={c} picks={picks} disabled={props.busy} onPick={props.onPick} />
          </>
        ) : (
          <p className="conflict-help">Both versions changed. Choose which one to keep.</p>
        )
      ) : (
        <dl className="conflict-summaries">
          <dt>This computer</dt>
          <dd id="conflict-local-summary">{c.localSummary ?? "Deleted"}</dd>
          <dt>Provider</dt>
          <dd id="conflict-remote-summary">{c.remoteSummary ?? "Deleted"}</dd>
        </dl>
      )}

      {readOnly && (
        <p id="conflict-read-only" className="conflict-help">
          The provider no longer lets you change this calendar: only Keep theirs can be carried out. Your version stays in the conflict's record.
        </p>
      )}
      <div className="dialog-buttons conflict-actions">
        <button
          id="keep-local"
          type="button"
          disabled={props.busy || readOnly}
          title={c.kind === "deleteEdit" ? "Delete the event at the provider too" : "Send this computer's version to the provider"}
          onClick={() => answer("local")}
        >
          Keep mine
        </button>
        <button
          id="keep-remote"
          type="button"
          disabled={props.busy}
          title={c.kind === "editDelete" ? "Delete the event on this computer too" : "Use the provider's version here"}
          onClick={() => answer("remote")}
        >
          Keep theirs
        </button>
        {canKeepBoth(c) && (
          <button
            id="keep-both"
            type="button"
            disabled={props.busy || readOnly}
            title="The provider's version stays; yours is kept as a copy of your own, with no attendees (nobody is invited again)"
            onClick={() => answer("both")}
          >
            Keep both
          </button>
        )}
        {c.kind === "editEdit" && (
          <button
            id="keep-picked"
            type="button"
            className="primary"
            disabled={props.busy || readOnly || !allFieldsPicked(c, picks)}
            title={allFieldsPicked(c, picks) ? "Keep the version you chose for each line" : "Choose a version on every line first"}
            onClick={usePicked}
          >
            Use my choices
          </button>
        )}
      </div>
    </section>
  );
}

/** The dialog's content (no loading or side effects: the container passes everything in). */
export function ConflictsPanel(props: ConflictsPanelProps) {
  const { list } = props;
  const selected = list ? selectedConflict(list, props.selectedId) : null;
  return (
    <div className="modal-backdrop" ref={props.backdropRef}>
      <div id="conflicts-dialog" className="dialog conflicts" role="dialog" aria-modal="true" aria-labelledby="conflicts-heading">
        <div className="settings-header">
          <h2 id="conflicts-heading">Conflicts</h2>
          <span className="spacer" />
          <button id="conflicts-close" type="button" className="secondary" onClick={props.onClose} title="Close (Esc)">
            Close
          </button>
        </div>
        <div id="conflicts-error" className="error conflicts-error" role="alert" hidden={!props.error}>
          {props.error}
        </div>
        {list === null && <p className="conflicts-note">Loading conflicts…</p>}
        {list !== null && list.length === 0 && (
          <p id="conflicts-empty" className="conflicts-note">
            No conflicts left.
          </p>
        )}
        {list !== null && list.length > 0 && selected && (
          <div className="conflicts-body">
            <ul id="conflicts-list" className="conflicts-list" aria-label="Open conflicts">
              {list.map((c) => (
                <li key={c.id}>
                  <button
                    id={`conflict-${c.id}`}
                    type="button"
                    aria-current={c.id === selected.id ? "true" : undefined}
                    onClick={() => props.onSelect(c.id)}
                  >
                    <span className="conflict-item-title">{c.title}</span>
                    <span className="conflict-item-calendar">{c.calendarName}</span>
                  </button>
                </li>
              ))}
            </ul>
            <ConflictDetail
              key={selected.id}
              conflict={selected}
              picks={props.picks}
              busy={props.busy}
              providerOf={props.providerOf}
              readOnly={props.readOnly}
              now={props.now}
              onPick={props.onPick}
              onResolve={props.onResolve}
            />
          </div>
        )}
      </div>
    </div>
  );
}

/** The Conflicts dialog: loads the open conflicts, reloads on every `sync-changed`, resolves them. */
export function ConflictsDialog(props: { sync: SyncModel; calendars: Calendar[]; onClose: () => void }) {
  const backdrop = useRef<HTMLDivElement>(null);
  useModal(backdrop);
  const [list, setList] = useState<ConflictView[] | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [picks, setPicks] = useState<Record<string, Picks>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const seq = useRef(0);
  const shown = useRef<ConflictView[] | null>(null);

  const load = useCallback(async () => {
    const n = ++seq.current;
    try {
      const l = await listConflicts();
      if (n !== seq.current) return;
      // A conflict refreshed by a newer version from the provider loses its picks.
      const before = shown.current;
      shown.current = l;
      setPicks((p) => freshPicks(before, l, p));
      setList(l);
    } catch (e) {
      if (n === seq.current) setError(toAppError(e).message);
    }
  }, []);

  // On open and after every sync-changed.
  useEffect(() => {
    void load();
  }, [load, props.sync.changes]);

  useEffect(() => {
    const before = document.activeElement;
    document.getElementById("conflicts-close")?.focus();
    return () => refocus(before, "sync-pause");
  }, []);

  const accounts = props.sync.overview?.accounts ?? [];
  const providerOf = (calendarId: string) => providerOfCalendar(calendarId, props.calendars, accounts);

  const onResolve = (answer: ConflictAnswer) => {
    if (busy) return;
    setBusy(true);
    setError("");
    resolveConflict(answer)
      .then(async () => {
        setPicks((p) => {
          const rest = { ...p };
          delete rest[answer.conflictId];
          return rest;
        });
        setSelectedId((id) => (id === answer.conflictId ? null : id));
        await load();
        // The button that had focus went away with the conflict: move on to the next one.
        requestAnimationFrame(() => {
          const active = document.activeElement;
          if (active && active !== document.body && active.isConnected) return;
          const next = document.querySelector<HTMLElement>("#conflicts-list button") ?? document.getElementById("conflicts-close");
          next?.focus();
        });
      })
      .catch((e) => {
        setError(toAppError(e).message);
        void load(); // it may have been resolved or refreshed meanwhile
      })
      .finally(() => setBusy(false));
  };

  return (
    <ConflictsPanel
      list={list}
      selectedId={selectedId}
      picks={picks}
      busy={busy}
      error={error}
      providerOf={providerOf}
      readOnly={(calendarId) => props.calendars.find((cal) => cal.id === calendarId)?.canEdit === false}
      now={new Date()}
      onSelect={(id) => {
        setSelectedId(id);
        setError("");
      }}
      onPick={(id, field, side) => setPicks((p) => ({ ...p, [id]: withPick(p[id] ?? {}, field, side) }))}
      onResolve={onResolve}
      onClose={props.onClose}
      backdropRef={backdrop}
    />
  );
}
