import type { Calendar } from "../platform";
import { calendarGroupDomId, calendarGroups, type AccountName } from "../lib/calendars";

export function Sidebar(props: {
  calendars: Calendar[];
  /** The connected accounts, to group their calendars under their addresses. */
  accounts: readonly AccountName[];
  visible: Record<string, boolean>;
  onToggle: (id: string, visible: boolean) => void;
}) {
  return (
    <aside id="sidebar" className="sidebar" aria-label="Calendars">
      <h2>Calendars</h2>
      {calendarGroups(props.calendars, props.accounts).map((g) => (
        <section key={g.key} id={calendarGroupDomId(g.key)} className="cal-group" aria-label={g.label}>
          {g.heading !== null && (
            <h3 className="cal-group-heading" title={g.label}>
              {g.heading}
            </h3>
          )}
          <ul>
            {g.calendars.map((c) => (
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
        </section>
      ))}
    </aside>
  );
}
