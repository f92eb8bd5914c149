import type { ReactNode } from "react";

export type ViewName = "timeGridDay" | "timeGridWeek" | "dayGridMonth" | "listWeek";

const VIEWS: ReadonlyArray<[ViewName, string, string]> = [
  ["timeGridDay", "btn-view-day", "Day"],
  ["timeGridWeek", "btn-view-week", "Week"],
  ["dayGridMonth", "btn-view-month", "Month"],
  ["listWeek", "btn-view-agenda", "Agenda"],
];

export function Toolbar(props: {
  title: string;
  view: ViewName;
  onToday: () => void;
  onPrev: () => void;
  onNext: () => void;
  onView: (v: ViewName) => void;
  onNew: () => void;
  onSettings: () => void;
  /** The sync status area (renders nothing when no account is connected). */
  status?: ReactNode;
}) {
  return (
    <header className="toolbar">
      <div className="group">
        <button id="btn-new-event" className="primary" onClick={props.onNew} title="New event (n)">
          + New event
        </button>
        <button id="btn-today" onClick={props.onToday} title="Today (t)">
          Today
        </button>
        <button id="btn-prev" onClick={props.onPrev} aria-label="Previous" title="Previous (←)">
          ‹
        </button>
        <button id="btn-next" onClick={props.onNext} aria-label="Next" title="Next (→)">
          ›
        </button>
      </div>
      <h1 id="view-title" className="view-title" aria-live="polite">
        {props.title}
      </h1>
      <div className="group segmented" role="group" aria-label="View">
        {VIEWS.map(([name, id, label]) => (
          <button key={name} id={id} aria-pressed={props.view === name} onClick={() => props.onView(name)}>
            {label}
          </button>
        ))}
      </div>
      {props.status}
      <div className="group toolbar-end">
        <button id="btn-settings" onClick={props.onSettings} title="Settings (,)">
          Settings
        </button>
      </div>
    </header>
  );
}
