//! IPC commands: thin adapters from the window to the store. Argument and result
//! types are the model's (generated for TypeScript); errors are `{code, message}`.

use almanac_model::{
    AppError, Calendar, ErrorCode, EventChange, EventInput, EventMove, EventTarget, EventView,
    Occurrence, RangeQuery,
};
use almanac_store::{Source, Store};
use tauri::State;

use crate::AppState;

type CmdResult<T> = Result<T, AppError>;

fn with_store<T>(
    state: &AppState,
    f: impl FnOnce(&mut Store) -> Result<T, almanac_store::StoreError>,
) -> CmdResult<T> {
    let mut store = state.store.lock().map_err(|_| {
        AppError::new(
            ErrorCode::Internal,
            "The store is unavailable after an earlier failure; restart Almanac.",
        )
    })?;
    f(&mut store).map_err(AppError::from)
}

#[tauri::command]
pub async fn list_calendars(state: State<'_, AppState>) -> CmdResult<Vec<Calendar>> {
    with_store(&state, |s| s.list_calendars())
}

/// Shows or hides a calendar; kept across restarts, and the tray's next meeting
/// follows (it lists shown calendars only).
#[tauri::command]
pub async fn set_calendar_visible(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    calendar_id: String,
    visible: bool,
) -> CmdResult<()> {
    with_store(&state, |s| s.set_calendar_visible(&calendar_id, visible))?;
    crate::next_meeting::refresh_soon(&app);
    Ok(())
}

#[tauri::command]
pub async fn list_occurrences(
    state: State<'_, AppState>,
    query: RangeQuery,
) -> CmdResult<Vec<Occurrence>> {
    with_store(&state, |s| s.list_occurrences(&query))
}

#[tauri::command]
pub async fn get_event(state: State<'_, AppState>, id: String) -> CmdResult<EventView> {
    with_store(&state, |s| s.get_event(&id))
}

#[tauri::command]
pub async fn create_event(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    input: EventInput,
) -> CmdResult<EventView> {
    let now = chrono::Utc::now();
    let out = with_store(&state, |s| s.create_event(input, Source::UserWindow, now))?;
    crate::sync::local_edit(&app);
    Ok(out)
}

#[tauri::command]
pub async fn update_event(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    change: EventChange,
) -> CmdResult<EventView> {
    let now = chrono::Utc::now();
    let out = with_store(&state, |s| s.update_event(change, Source::UserWindow, now))?;
    crate::sync::local_edit(&app);
    Ok(out)
}

#[tauri::command]
pub async fn move_event(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    change: EventMove,
) -> CmdResult<EventView> {
    let now = chrono::Utc::now();
    let out = with_store(&state, |s| s.move_event(change, Source::UserWindow, now))?;
    crate::sync::local_edit(&app);
    Ok(out)
}

#[tauri::command]
pub async fn delete_event(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    target: EventTarget,
) -> CmdResult<()> {
    let now = chrono::Utc::now();
    with_store(&state, |s| s.delete_event(target, Source::UserWindow, now))?;
    crate::sync::local_edit(&app);
    Ok(())
}

/// Opens the online meeting of event `id` in the browser. It takes the event, not an
/// address: the window cannot make Almanac open a link of its choosing, and the
/// provider's link is opened only when it is a web address (`OnlineMeeting::web_link`).
#[tauri::command]
pub async fn join_meeting(state: State<'_, AppState>, id: String) -> CmdResult<()> {
    open_meeting(&state, &id)
}

/// Opens the online meeting of event `id` in the system browser (the editor's Join
/// and the tray's).
pub(crate) fn open_meeting(state: &AppState, id: &str) -> CmdResult<()> {
    let event = with_store(state, |s| s.get_event(id))?;
    let Some(meeting) = event.meeting.online_meeting else {
        return Err(AppError::new(
            ErrorCode::NotFound,
            format!("\"{}\" has no online meeting.", event.input.title),
        ));
    };
    let url = meeting.web_link().ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidInput,
            format!(
                "The meeting link of \"{}\" is not a web address (https://…), so Almanac \
                 does not open it.",
                event.input.title
            ),
        )
    })?;
    almanac_auth::browser::open(url).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

#[tauri::command]
pub async fn list_time_zones() -> CmdResult<Vec<String>> {
    Ok(chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| tz.name().to_owned())
        .collect())
}

/// The system's IANA zone, or UTC when it cannot be determined.
#[tauri::command]
pub async fn default_time_zone() -> CmdResult<String> {
    let zone = iana_time_zone::get_timezone().unwrap_or_default();
    Ok(if zone.parse::<chrono_tz::Tz>().is_ok() {
        zone
    } else {
        "UTC".into()
    })
}

/// The UI's "week view painted with the first events" signal. Under
/// `ALMANAC_STARTUP_PROBE=1` it prints `startup_ms=…` and quits (see
/// `scripts/bench-startup`); otherwise it does nothing.
#[tauri::command]
pub fn report_ready(app: tauri::AppHandle) {
    if crate::startup_probe::report() {
        app.exit(0);
    }
}
