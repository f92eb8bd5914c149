import { useEffect, useRef, useState } from "react";
import type { Calendar, EventMeeting, Importance, ShowAs } from "../platform";
import { keptOffsets, REPEAT_OPTIONS, repeatFromRrule, rruleForRepeat, type FormState, type Repeat } from "../lib/editorForm";
import { calendarGroups, type AccountName } from "../lib/calendars";
import { hasMeeting } from "../lib/meeting";
import { MeetingDetails } from "./MeetingDetails";
import { useModal } from "./useModal";

const SHOW_AS: ReadonlyArray<[ShowAs, string]> = [
  ["busy", "Busy"],
  ["tentative", "Tentative"],
  ["free", "Free"],
  ["oof", "Out of office"],
  ["workingElsewhere", "Working elsewhere"],
];
const IMPORTANCE: ReadonlyArray<[Importance, string]> = [
  ["low", "Low"],
  ["normal", "Normal"],
  ["high", "High"],
];

export type EditorProps = {
  mode: "create" | "edit";
  initial: FormState;
  calendars: Calendar[]; // all calendars; only editable ones (plus the current one) are offered
  /** The connected accounts: a calendar is offered under its account's address. */
  accounts: readonly AccountName[];
  timeZones: string[];
  readOnly: boolean;
  /** A synced event's organizer, attendees and online meeting, shown read-only. */
  meeting?: EventMeeting;
  /**
   * The provider keeps the description formatted (links, tables, join details); the
   * editor shows its text, and an edit sends that text in its place to everyone.
   */
  formattedDescription?: boolean;
  /** Opens the online meeting; rejects with an error shown in ev-error. */
  onJoin: () => Promise<void>;
  /** Resolves when done; rejects with an error whose message is shown in ev-error. */
  onSave: (form: FormState) => Promise<void>;
  onDelete: (form: FormState) => Promise<void>;
  onCancel: () => void;
};

export function EventEditor(props: EditorProps) {
  const backdrop = useRef<HTMLDivElement>(null);
  useModal(backdrop, true);
  const [form, setForm] = useState<FormState>(props.initial);
  const [error, setError] = useState<string>("");
  const [busy, setBusy] = useState(false);
  // A formatted description is edited only once the user says so: a typo fixed here
  // replaces the invitation's links, tables and join details with plain text.
  const [plainEdit, setPlainEdit] = useState(false);
  const descriptionLocked = props.formattedDescription === true && !plainEdit;
  const titleRef = useRef<HTMLInputElement>(null);

  useEffect(() => titleRef.current?.focus(), []);

  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setForm((f) => ({ ...f, [k]: v }));

  const run = async (fn: (f: FormState) => Promise<void>) => {
    setBusy(true);
    setError("");
    try {
      await fn(form);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const calendarOptions = props.calendars.filter((c) => c.canEdit || c.id === form.calendarId);

  return (
    <div className="modal-backdrop" ref={backdrop}>
      <form
        id="event-editor"
        className="dialog editor"
        role="dialog"
        aria-modal="true"
        aria-labelledby="ev-heading"
        onSubmit={(e) => {
          e.preventDefault();
          void run(props.onSave);
        }}
      >
        <h2 id="ev-heading">{props.mode === "create" ? "New event" : props.readOnly ? "Event (read-only)" : "Edit event"}</h2>

        <fieldset className="editor-fields" disabled={props.readOnly}>
          <label className="field wide">
            <span>Title</span>
            <input id="ev-title" ref={titleRef} value={form.title} onChange={(e) => set("title", e.target.value)} placeholder="Add title" />
          </label>

          <label className="field checkbox">
            <input id="ev-all-day" type="checkbox" checked={form.allDay} onChange={(e) => set("allDay", e.target.checked)} />
            <span>All day</span>
          </label>

          <div className="row">
            <label className="field">
              <span>Start</span>
              <input id="ev-start-date" value={form.startDate} onChange={(e) => set("startDate", e.target.value)} placeholder="YYYY-MM-DD" inputMode="numeric" />
            </label>
            <label className="field time" hidden={form.allDay}>
              <span>&nbsp;</span>
              <input id="ev-start-time" value={form.startTime} onChange={(e) => set("startTime", e.target.value)} placeholder="HH:MM" inputMode="numeric" />
            </label>
            <label className="field">
              <span>{form.allDay ? "End (last day)" : "End"}</span>
              <input id="ev-end-date" value={form.endDate} onChange={(e) => set("endDate", e.target.value)} placeholder="YYYY-MM-DD" inputMode="numeric" />
            </label>
            <label className="field time" hidden={form.allDay}>
              <span>&nbsp;</span>
              <input id="ev-end-time" value={form.endTime} onChange={(e) => set("endTime", e.target.value)} placeholder="HH:MM" inputMode="numeric" />
            </label>
          </div>
          {foldNote(form)}

          <div className="row">
            <label className="field">
              <span>Time zone</span>
              <input id="ev-time-zone" list="ev-time-zone-list" value={form.timeZone} onChange={(e) => set("timeZone", e.target.value)} autoComplete="off" />
              <datalist id="ev-time-zone-list">
                {props.timeZones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </label>
            <label className="field grow">
              <span>Calendar</span>
              <select id="ev-calendar" value={form.calendarId} onChange={(e) => set("calendarId", e.target.value)}>
                {calendarGroups(calendarOptions, props.accounts).map((g) => {
                  const options = g.calendars.map((c) => (
                    <option key={c.id} value={c.id} disabled={!c.canEdit}>
                      {c.name}
                    </option>
                  ));
                  return g.heading === null ? (
                    options
                  ) : (
                    <optgroup key={g.key} label={g.heading}>
                      {options}
                    </optgroup>
                  );
                })}
              </select>
            </label>
          </div>

          <div className="row">
            <label className="field repeat">
              <span>Repeat</span>
              <select
                id="ev-repeat"
                value={form.repeat}
                onChange={(e) => {
                  const repeat = e.target.value as Repeat;
                  setForm((f) => ({ ...f, repeat, rrule: rruleForRepeat(repeat, f.rrule) }));
                }}
              >
                {REPEAT_OPTIONS.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field grow">
              <span>Recurrence rule (RRULE)</span>
              <input
                id="ev-rrule"
                value={form.rrule}
                placeholder="e.g. FREQ=WEEKLY;BYDAY=MO"
                spellCheck={false}
                onChange={(e) => {
                  const rrule = e.target.value;
                  // Keep "custom" while the user is typing into an empty rule.
                  setForm((f) => ({ ...f, rrule, repeat: rrule.trim() ? repeatFromRrule(rrule) : f.repeat === "custom" ? "custom" : "none" }));
                }}
              />
            </label>
          </div>
        </fieldset>

        {hasMeeting(props.meeting) && <MeetingDetails meeting={props.meeting} onJoin={() => run(props.onJoin)} />}

        <fieldset className="editor-fields" disabled={props.readOnly}>
          <label className="field wide">
            <span>Location</span>
            <input id="ev-location" value={form.location} onChange={(e) => set("location", e.target.value)} />
          </label>

          <label className="field wide">
            <span>Description</span>
            <textarea
              id="ev-description"
              rows={4}
              value={form.description}
              readOnly={descriptionLocked}
              aria-describedby={props.formattedDescription ? "ev-description-note" : undefined}
              onChange={(e) => set("description", e.target.value)}
            />
          </label>
          {props.formattedDescription && (
            <div className="field-note">
              <span id="ev-description-note">
                {descriptionLocked
                  ? "This description is formatted (links, tables, joining details); it is shown here as text."
                  : "Saved as plain text: the formatting goes, for everyone the event is shared with."}
              </span>{" "}
              {descriptionLocked && (
                <button id="ev-description-edit" type="button" className="link" onClick={() => setPlainEdit(true)}>
                  Edit as plain text
                </button>
              )}
            </div>
          )}

          <div className="row">
            <label className="field">
              <span>Show as</span>
              <select id="ev-show-as" value={form.showAs} onChange={(e) => set("showAs", e.target.value as ShowAs)}>
                {SHOW_AS.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Importance</span>
              <select id="ev-importance" value={form.importance} onChange={(e) => set("importance", e.target.value as Importance)}>
                {IMPORTANCE.map(([v, label]) => (
                  <option key={v} value={v}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field grow">
              <span>Categories</span>
              <input id="ev-categories" value={form.categories} onChange={(e) => set("categories", e.target.value)} placeholder="comma, separated" />
            </label>
          </div>
        </fieldset>

        <div id="ev-error" className="error" role="alert" hidden={!error}>
          {error}
        </div>

        <div className="dialog-buttons">
          {props.mode === "edit" && !props.readOnly && (
            <button id="ev-delete" type="button" className="danger" disabled={busy} onClick={() => void run(props.onDelete)}>
              Delete
            </button>
          )}
          <span className="spacer" />
          <button id="ev-cancel" type="button" className="secondary" onClick={props.onCancel}>
            {props.readOnly ? "Close" : "Cancel"}
          </button>
          {!props.readOnly && (
            <button id="ev-save" type="submit" className="primary" disabled={busy}>
              Save
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

/** Says which of two equal clock times the event keeps on a DST fall-back night. */
function foldNote(form: FormState) {
  const kept = keptOffsets(form);
  const which = [
    kept.start && `starts at the second ${form.startTime} (UTC${kept.start})`,
    kept.end && `ends at the second ${form.endTime} (UTC${kept.end})`,
  ].filter(Boolean);
  if (which.length === 0) return null;
  return (
    <p id="ev-fold-note" className="hint">
      The clocks go back that night, so these times happen twice: the event {which.join(" and ")}.
    </p>
  );
}
