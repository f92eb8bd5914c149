import type { Calendar } from "../platform";

export function Sidebar(props: {
  calendars: Calendar[];
  visible: Record<string, boolean>;
  onToggle: (id: string, visible: boolean) => void;
}) {
  return (
    <aside id="sidebar" className="sidebar" aria-label="Calendars">
      <h2>Calendars</h2>
      <ul>
        {props.calendars.map((c) => (
          <li key={c.id}>
            <label className="cal-item" title={c.canEdit ? c.name : `${c.name} (read-only)`}>
              <input
                type="checkbox"
                id={`cal-visible-${c.id}`}
                checked={props.visible[c.id] ?? true}
                onChange={(e) => props.onToggle(c.id, e.target.checked)}
              />
              <span className="swatch" style={{ backgroundColor: c.color }} aria-hidden="true" />
              <span className="cal-name">{c.name}</span>
            </label>
          </li>
        ))}
      </ul>
    </aside>
  );
}
