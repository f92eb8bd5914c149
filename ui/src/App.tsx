import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import FullCalendar from "@fullcalendar/react";
import dayGridPlugin from "@fullcalendar/daygrid";
import timeGridPlugin from "@fullcalendar/timegrid";
import listPlugin from "@fullcalendar/list";
import interactionPlugin, { type EventResizeDoneArg } from "@fullcalendar/interaction";
import type {
  DatesSetArg,
  DateSelectArg,
  EventClickArg,
  EventDropArg,
  EventMountArg,
  EventSourceFuncArg,
  EventInput as FcEventInput,
} from "@fullcalendar/core";
import {
  createEvent,
  defaultTimeZone,
  deleteEvent,
  getEvent,
  joinMeeting,
  listCalendars,
  listOccurrences,
  listSettledConflicts,
  listTimeZones,
  moveEvent,
  reportReady,
  setCalendarVisible,
  setConflictPolicy,
  toAppError,
  updateEvent,
  type Calendar,
  type EditScope,
  type EventView,
  type Occurrence,
} from "./platform";
import { Toolbar, type ViewName } from "./components/Toolbar";
import { Sidebar } from "./components/Sidebar";
import { EventEditor } from "./components/EventEditor";
import { ScopeDialog, type ScopeAction } from "./components/ScopeDialog";
import { SettingsDialog } from "./components/SettingsDialog";
import { useAccounts } from "./components/useAccounts";
import { useSync } from "./components/useSync";
import { HeldCalendarsNotice, SyncStatus } from "./components/SyncStatus";
import { ConflictsDialog } from "./components/ConflictsDialog";
import { occurrenceToEvent } from "./lib/mapping";
import { occurrenceDomId } from "./lib/ids";
import { shortcutFor } from "./lib/keyboard";
import {
  blankForm,
  formToInput,
  dayShift,
  inputToForm,
  mergeWithFresh,
  occurrenceWallRange,
  rebaseOnSeries,
  shiftRuleByDays,
  withOccurrenceTimes,
  type FormState,
} from "./lib/editorForm";
import { instantToWall, localDateString, nextFullHour, wallToInstant } from "./lib/time";

type EditorState = {
  key: number;
  mode: "create" | "edit";
  initial: FormState;
  view: EventView | null;
  occurrence: Occurrence | null;
};

const CALENDAR_PLUGINS = [dayGridPlugin, timeGridPlugin, listPlugin, interactionPlugin];

/** Is this occurrence an instance of a series (not a standalone exception)? */
const isSeriesInstance = (o: Occurrence) => o.recurring && !o.exception;
const seriesIdOf = (o: Occurrence) => o.seriesId ?? o.eventId;

/** The IANA zone the web view draws the grid in, if it names a real one. */
const gridZone = (): string | null => {
  const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    return z && new Intl.DateTimeFormat("en", { timeZone: z }) ? z : null;
  } catch {
    return null;
  }
};

export default function App() {
  const calRef = useRef<FullCalendar>(null);
  const api = () => calRef.current?.getApi();

  const [calendars, setCalendars] = useState<Calendar[]>([]);
  const [visible, setVisible] = useState<Record<string, boolean>>({});
  const [timeZones, setTimeZones] = useState<string[]>([]);
  const [defaultTz, setDefaultTz] = useState<string>(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const [title, setTitle] = useState("");
  const [view, setView] = useState<ViewName>("timeGridWeek");
  const [editor, setEditor] = useState<EditorState | null>(null);
  const [scopePrompt, setScopePrompt] = useState<{ action: ScopeAction; resolve: (s: EditScope | null) => void } | null>(null);
  const [toast, setToast] = useState<string>("");
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [conflictsOpen, setConflictsOpen] = useState(false);

  // Refs read by FullCalendar callbacks (which must keep a stable identity).
  const calendarsRef = useRef<Map<string, Calendar>>(new Map());
  const visibleRef = useRef<Record<string, boolean>>({});
  const loadedRef = useRef(false);
  // Sync changed data before the first load was done: it reads again.
  const missedRef = useRef(false);
  // Startup probe: the number of events of the first real fetch until FullCalendar has
  // rendered them (null before that fetch, "done" after the report).
  const firstFetchRef = useRef<number | null | "done">(null);

  const showToast = useCallback((e: unknown) => {
    setToast(typeof e === "string" ? e : toAppError(e).message);
  }, []);

  useEffect(() => {
    if (!toast) return;
    const t = window.setTimeout(() => setToast(""), 6000);
    return () => window.clearTimeout(t);
  }, [toast]);

  const refetch = useCallback(() => api()?.refetchEvents(), []);

  /** Take a new calendar list, keeping the user's visibility toggles for known calendars. */
  const applyCalendars = useCallback((cals: Calendar[]) => {
    const prev = visibleRef.current;
    calendarsRef.current = new Map(cals.map((c) => [c.id, c]));
    const vis = Object.fromEntries(cals.map((c) => [c.id, prev[c.id] ?? c.visible]));
    visibleRef.current = vis;
    setCalendars(cals);
    setVisible(vis);
  }, []);

  // An account was connected or disconnected: its calendars may have come or gone.
  const reloadCalendars = useCallback(() => {
    if (!loadedRef.current) {
      missedRef.current = true; // the first load reads again when it is done
      return;
    }
    listCalendars()
      .then((cals) => {
        applyCalendars(cals);
        refetch();
      })
      .catch(showToast);
  }, [applyCalendars, refetch, showToast]);

  // Sync changed calendar data: refetch the events (and the calendar list, which the
  // first sync of a new account fills).
  const sync = useSync(reloadCalendars, showToast);
  const syncReload = sync.reload;
  const listening = sync.listening;

  // Initial load, once sync's events are listened to: a sync that finishes meanwhile
  // is then either in what is read or announced after it (and read again).
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        await listening;
        const [cals, tz] = await Promise.all([listCalendars(), defaultTimeZone()]);
        if (cancelled) return;
        applyCalendars(cals);
        loadedRef.current = true;
        // The zone the grid is drawn in (the web view's) wins: a new event must keep
        // the times clicked. The back end's reading of the system zone (which can
        // differ from $TZ, and falls back to UTC) is the fallback.
        setDefaultTz(gridZone() ?? tz);
        if (missedRef.current) {
          missedRef.current = false;
          reloadCalendars();
        } else {
          refetch();
        }
      } catch (e) {
        showToast(e);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, [listening, applyCalendars, reloadCalendars, refetch, showToast]);
  const afterAccountsAltered = useCallback(() => {
    reloadCalendars();
    syncReload();
  }, [reloadCalendars, syncReload]);

  const accounts = useAccounts(settingsOpen, afterAccountsAltered);

  // The zone list (~600 names) is only needed by the editor: load it when the editor
  // first opens, so it does not re-render the calendar during startup.
  useEffect(() => {
    if (!editor || timeZones.length > 0) return;
    let cancelled = false;
    listTimeZones()
      .then((zones) => {
        if (!cancelled) setTimeZones(zones);
      })
      .catch(showToast);
    return () => {
      cancelled = true;
    };
  }, [editor, timeZones.length, showToast]);

  const eventSource = useCallback(
    (info: EventSourceFuncArg, success: (events: FcEventInput[]) => void, failure: (e: Error) => void) => {
      if (!loadedRef.current) {
        success([]);
        return;
      }
      const ids = [...calendarsRef.current.keys()].filter((id) => visibleRef.current[id] !== false);
      listOccurrences({ from: info.start.toISOString(), to: info.end.toISOString(), calendarIds: ids })
        .then((occs) => {
          if (firstFetchRef.current === null) firstFetchRef.current = occs.length;
          success(occs.map((o) => occurrenceToEvent(o, calendarsRef.current)));
        })
        .catch((e) => {
          failure(toAppError(e));
          showToast(e);
        });
    },
    [showToast],
  );
  const eventSources = useMemo(() => [{ events: eventSource }], [eventSource]);

  const toggleCalendar = (id: string, on: boolean) => {
    visibleRef.current = { ...visibleRef.current, [id]: on };
    setVisible(visibleRef.current);
    refetch();
    // Kept for the next start (and the tray's next meeting); shown at once, put back
    // if it cannot be kept.
    setCalendarVisible(id, on).catch((e) => {
      visibleRef.current = { ...visibleRef.current, [id]: !on };
      setVisible(visibleRef.current);
      refetch();
      showToast(e);
    });
  };

  // ----- scope prompt -----
  const askScope = (action: ScopeAction) =>
    new Promise<EditScope | null>((resolve) => setScopePrompt({ action, resolve }));
  const chooseScope = (s: EditScope | null) => {
    scopePrompt?.resolve(s);
    setScopePrompt(null);
  };

  // ----- editor -----
  const editorKey = useRef(0);
  const defaultCalendarId = () => {
    const editable = calendars.filter((c) => c.canEdit);
    return (editable.find((c) => c.isPrimary) ?? editable[0])?.id ?? "";
  };

  const openCreate = (start: Date, end: Date, allDay: boolean) => {
    setEditor({
      key: ++editorKey.current,
      mode: "create",
      initial: blankForm({ start, end, allDay, timeZone: defaultTz, calendarId: defaultCalendarId() }),
      view: null,
      occurrence: null,
    });
  };

  const newEventNow = () => {
    const start = nextFullHour(new Date());
    openCreate(start, new Date(start.getTime() + 3600000), false);
  };

  const openExisting = async (o: Occurrence) => {
    try {
      // A drag just dropped is shown moved before it is saved: read it once saved.
      // An occurrence of a series is known by what the view held when it was
      // clicked, its old times: the refreshed view has it right, so that click waits.
      const series = isSeriesInstance(o);
      if (movesSaving.current > 0) {
        await moving.current;
        if (series) return;
      }
      const ev = await getEvent(series ? seriesIdOf(o) : o.eventId);
      let initial = inputToForm(ev.input);
      if (series) initial = withOccurrenceTimes(initial, o);
      setEditor({ key: ++editorKey.current, mode: "edit", initial, view: ev, occurrence: o });
    } catch (e) {
      showToast(e);
    }
  };

  const closeEditor = () => setEditor(null);

  const saveEditor = async (mine: FormState) => {
    if (!editor) return;
    const { view: opened, occurrence: o } = editor;
    if (!opened) {
      await createEvent(formToInput(mine, null));
      setEditor(null);
      refetch();
      return;
    }
    // The event as it is now: a sync may have brought a change since the editor
    // opened, which saving the opening copy whole would undo (here and online).
    const series = o !== null && isSeriesInstance(o);
    const ev = await getEvent(opened.id);
    let fresh = inputToForm(ev.input);
    if (series && o) fresh = withOccurrenceTimes(fresh, o);
    const { form, clashes } = mergeWithFresh(editor.initial, mine, fresh);
    if (clashes.length > 0) {
      // Asked once: the next Save keeps the user's version of those fields.
      setEditor({ ...editor, initial: fresh, view: ev });
      throw new Error(
        `While you were editing, this event's ${clashes.join(", ")} changed elsewhere ` +
          `(by a sync). Save again to keep yours, or Cancel to keep the new version.`,
      );
    }
    if (o && series) {
      const input = formToInput(form, ev.input.recurrence);
      const scope = await askScope("save");
      if (!scope) return; // keep the editor open with the user's input
      if (scope === "occurrence") {
        // One occurrence has no calendar or rule of its own: the store would keep the
        // series' and say "saved".
        if (form.calendarId !== editor.initial.calendarId || form.rrule.trim() !== editor.initial.rrule.trim()) {
          throw new Error(
            "The calendar and the repeat rule belong to the whole series: save with All occurrences to change them.",
          );
        }
        await updateEvent({ id: seriesIdOf(o), scope, originalStart: o.originalStart, input: { ...input, recurrence: null } });
      } else {
        const occ = occurrenceWallRange(o, ev.input.timeZone);
        const r = rebaseOnSeries(ev.input, occ.start, occ.end, input.start, input.end, input.allDay);
        // The rule as it was moves with the series' days; one the user rewrote is theirs.
        const rule = ev.input.recurrence?.rrule;
        const recurrence =
          input.recurrence && rule !== undefined && input.recurrence.rrule === rule.trim()
            ? { ...input.recurrence, rrule: shiftRuleByDays(rule, dayShift(occ.start, input.start)) }
            : input.recurrence;
        await updateEvent({ id: seriesIdOf(o), scope, originalStart: null, input: { ...input, ...r, recurrence } });
      }
    } else {
      await updateEvent({ id: ev.id, scope: "all", originalStart: null, input: formToInput(form, ev.input.recurrence) });
    }
    setEditor(null);
    refetch();
  };

  const deleteFromEditor = async () => {
    if (!editor?.view) return;
    const { view: ev, occurrence: o } = editor;
    if (o && isSeriesInstance(o)) {
      const scope = await askScope("delete");
      if (!scope) return;
      await deleteEvent({ id: seriesIdOf(o), scope, originalStart: scope === "occurrence" ? o.originalStart : null });
    } else if (o && o.exception && o.seriesId) {
      // An occurrence changed before is still one of its series': the whole series can
      // go from it too.
      const scope = await askScope("delete");
      if (!scope) return;
      await deleteEvent(
        scope === "occurrence"
          ? { id: ev.id, scope: "all", originalStart: null }
          : { id: o.seriesId, scope: "all", originalStart: null },
      );
    } else {
      await deleteEvent({ id: ev.id, scope: "all", originalStart: null });
    }
    setEditor(null);
    refetch();
  };

  // ----- FullCalendar callbacks -----
  // Fires after FullCalendar has committed an event set to the DOM. The first time that
  // set is the first real fetch, wait two frames (so it has been painted) and report
  // readiness once (measured by scripts/bench-startup; a no-op otherwise).
  const onEventsSet = (events: unknown[]) => {
    const expected = firstFetchRef.current;
    if (typeof expected !== "number" || events.length !== expected) return;
    firstFetchRef.current = "done";
    requestAnimationFrame(() => requestAnimationFrame(() => void reportReady().catch(() => {})));
  };

  const onDatesSet = (arg: DatesSetArg) => {
    setTitle(arg.view.title);
    setView(arg.view.type as ViewName);
  };

  const onSelect = (info: DateSelectArg) => {
    api()?.unselect();
    openCreate(info.start, info.end, info.allDay);
  };

  const onEventClick = (info: EventClickArg) => {
    info.jsEvent.preventDefault();
    const o = info.event.extendedProps.occurrence as Occurrence | undefined;
    if (o) void openExisting(o);
  };

  const onEventDidMount = (info: EventMountArg) => {
    const o = info.event.extendedProps.occurrence as Occurrence | undefined;
    if (!o) return;
    const id = occurrenceDomId(o.eventId, o.originalStart);
    // One element per occurrence has its id: FullCalendar mounts an event once per
    // segment (across midnight, a week's end), again in a "+N more" list and as the
    // drag's mirror. Every one says which occurrence it shows.
    info.el.setAttribute("data-occurrence", id);
    if (info.isStart && !info.isMirror && !info.el.closest(".fc-popover")) info.el.id = id;
    info.el.setAttribute("data-title", o.title);
  };

  // The moves and resizes being saved, if any (see `openExisting`).
  const moving = useRef<Promise<void>>(Promise.resolve());
  const movesSaving = useRef(0);
  const onMove = (info: EventDropArg | EventResizeDoneArg) => {
    movesSaving.current += 1;
    const saved = saveMove(info).finally(() => {
      movesSaving.current -= 1;
    });
    moving.current = Promise.all([moving.current, saved]).then(() => {});
    return saved;
  };

  const saveMove = async (info: EventDropArg | EventResizeDoneArg) => {
    const o = info.event.extendedProps.occurrence as Occurrence | undefined;
    const start = info.event.start;
    if (!o || !start) return info.revert();
    const allDay = info.event.allDay;
    // FullCalendar drops the end of an event without length: it keeps its length (none),
    // not an hour.
    const length = Date.parse(o.end) - Date.parse(o.start);
    const end =
      info.event.end ??
      (allDay
        ? new Date(start.getFullYear(), start.getMonth(), start.getDate() + 1)
        : new Date(start.getTime() + (Number.isFinite(length) && length >= 0 ? length : 3600000)));
    const fmt = (d: Date) => (allDay ? localDateString(d) : d.toISOString());
    try {
      if (isSeriesInstance(o)) {
        const scope = await askScope("move");
        if (!scope) return info.revert();
        if (scope === "occurrence") {
          await moveEvent({ id: seriesIdOf(o), scope, originalStart: o.originalStart, allDay, start: fmt(start), end: fmt(end) });
        } else {
          // Shift the whole series by the same amount, starting from its own first occurrence.
          const master = await getEvent(seriesIdOf(o));
          const tz = master.input.timeZone;
          const old = occurrenceWallRange(o, tz);
          const nw = allDay
            ? { start: localDateString(start), end: localDateString(end) }
            : { start: instantToWall(start, tz), end: instantToWall(end, tz) };
          const r = rebaseOnSeries(master.input, old.start, old.end, nw.start, nw.end, allDay);
          const rec = master.input.recurrence;
          const rule = rec ? shiftRuleByDays(rec.rrule, dayShift(old.start, nw.start)) : null;
          if (rec && rule !== null && rule !== rec.rrule) {
            // Moved to other days: the rule's days move with it (shiftRuleByDays).
            const input = { ...master.input, allDay, start: r.start, end: r.end, recurrence: { ...rec, rrule: rule } };
            await updateEvent({ id: seriesIdOf(o), scope, originalStart: null, input });
          } else {
            const toWire = (w: string) => (allDay ? w.slice(0, 10) : wallToInstant(w, tz).toISOString());
            await moveEvent({ id: seriesIdOf(o), scope, originalStart: null, allDay, start: toWire(r.start), end: toWire(r.end) });
          }
        }
      } else {
        await moveEvent({ id: o.eventId, scope: "all", originalStart: null, allDay, start: fmt(start), end: fmt(end) });
      }
      refetch();
    } catch (e) {
      info.revert();
      showToast(e);
    }
  };

  // ----- keyboard -----
  const keyState = useRef({ dialogOpen: false, closeTop: () => {}, newEvent: () => {}, openSettings: () => {} });
  keyState.current = {
    dialogOpen: editor !== null || scopePrompt !== null || settingsOpen || conflictsOpen,
    closeTop: () => {
      if (scopePrompt) chooseScope(null);
      else if (editor) closeEditor();
      else if (accounts.confirm) accounts.cancelDisconnect();
      else if (settingsOpen) setSettingsOpen(false);
      else if (conflictsOpen) setConflictsOpen(false);
    },
    newEvent: newEventNow,
    openSettings: () => setSettingsOpen(true),
  };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const action = shortcutFor(e, keyState.current.dialogOpen);
      if (!action) return;
      const cal = api();
      switch (action) {
        case "escape":
          if (!keyState.current.dialogOpen) return;
          keyState.current.closeTop();
          break;
        case "today":
          cal?.today();
          break;
        case "new":
          keyState.current.newEvent();
          break;
        case "prev":
          cal?.prev();
          break;
        case "next":
          cal?.next();
          break;
        case "settings":
          keyState.current.openSettings();
          break;
        case "search":
          break; // reserved
      }
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // FullCalendar re-renders the whole view, every event included, whenever one of its
  // options changes identity, and App re-renders on every sync status, toast or dialog
  // change: so the calendar element is built once per event source, and its callbacks
  // call the latest handlers through a ref.
  const calHandlers = useRef({ onDatesSet, onEventsSet, onSelect, onEventClick, onEventDidMount, onMove });
  calHandlers.current = { onDatesSet, onEventsSet, onSelect, onEventClick, onEventDidMount, onMove };
  // FullCalendar measures itself on window resizes only; its box also changes when the
  // toolbar wraps to another row or a notice comes and goes above it.
  const calBoxRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const box = calBoxRef.current;
    if (!box || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(() => calRef.current?.getApi().updateSize());
    observer.observe(box);
    return () => observer.disconnect();
  }, []);
  const calendarView = useMemo(
    () => (
      <FullCalendar
        ref={calRef}
        plugins={CALENDAR_PLUGINS}
        initialView="timeGridWeek"
        headerToolbar={false}
        timeZone="local"
        height="100%"
        firstDay={1}
        nowIndicator
        selectable
        selectMirror
        editable
        dayMaxEvents
        eventMaxStack={3}
        scrollTime="08:00:00"
        eventSources={eventSources}
        datesSet={(a) => calHandlers.current.onDatesSet(a)}
        eventsSet={(events) => calHandlers.current.onEventsSet(events)}
        select={(i) => calHandlers.current.onSelect(i)}
        eventClick={(i) => calHandlers.current.onEventClick(i)}
        eventDidMount={(i) => calHandlers.current.onEventDidMount(i)}
        eventDrop={(i) => void calHandlers.current.onMove(i)}
        eventResize={(i) => void calHandlers.current.onMove(i)}
      />
    ),
    [eventSources],
  );

  const editorReadOnly = editor?.view ? calendarsRef.current.get(editor.view.input.calendarId)?.canEdit === false : false;

  return (
    <div className="app">
      <Sidebar
        calendars={calendars}
        accounts={sync.overview?.accounts ?? []}
        visible={visible}
        onToggle={toggleCalendar}
      />
      <main className="main">
        <Toolbar
          title={title}
          view={view}
          onToday={() => api()?.today()}
          onPrev={() => api()?.prev()}
          onNext={() => api()?.next()}
          onView={(v) => api()?.changeView(v)}
          onNew={newEventNow}
          onSettings={() => setSettingsOpen(true)}
          status={<SyncStatus sync={sync} onOpenConflicts={() => setConflictsOpen(true)} onSignIn={() => setSettingsOpen(true)} />}
        />
        <HeldCalendarsNotice sync={sync} />
        <div id="calendar" className="calendar" ref={calBoxRef}>
          {calendarView}
        </div>
      </main>

      {editor && (
        <EventEditor
          key={editor.key}
          mode={editor.mode}
          initial={editor.initial}
          calendars={calendars}
          accounts={sync.overview?.accounts ?? []}
          timeZones={timeZones}
          readOnly={editorReadOnly}
          meeting={editor.view?.meeting}
          formattedDescription={editor.view?.formattedDescription ?? false}
          onJoin={async () => {
            if (editor.view) await joinMeeting(editor.view.id);
          }}
          onSave={saveEditor}
          onDelete={deleteFromEditor}
          onCancel={closeEditor}
        />
      )}
      {scopePrompt && <ScopeDialog action={scopePrompt.action} onChoose={chooseScope} />}
      {settingsOpen && (
        <SettingsDialog
          accounts={accounts}
          unsentOf={(id) => sync.overview?.accounts.find((a) => a.accountId === id)?.pendingPushes ?? 0}
          calendars={calendars}
          onPolicy={async (calendarId, policy) => {
            await setConflictPolicy(calendarId, policy);
            reloadCalendars();
          }}
          loadSettled={listSettledConflicts}
          onClose={() => setSettingsOpen(false)}
        />
      )}
      {conflictsOpen && <ConflictsDialog sync={sync} calendars={calendars} onClose={() => setConflictsOpen(false)} />}

      <div id="toast" className={toast ? "toast visible" : "toast"} role="status" aria-live="polite" onClick={() => setToast("")}>
        {toast}
      </div>
    </div>
  );
}
