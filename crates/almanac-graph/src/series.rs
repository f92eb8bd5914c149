//! The recurrence of a series master between Graph JSON and [`RemoteRecurrence`],
//! on top of the pure pattern mapping in [`crate::recurrence`].

use almanac_provider::{RemoteRecurrence, Timing};
use serde_json::Value;

use crate::recurrence::{self, FromRrule, PatternedRecurrence};
use crate::windows_zones;

/// Graph's `recurrence` of a master whose first instance has `timing`, in `zone`.
pub fn from_graph(r: &Value, timing: &Timing, zone: &str) -> Result<RemoteRecurrence, String> {
    let mut p: PatternedRecurrence =
        serde_json::from_value(r.clone()).map_err(|e| format!("recurrence is malformed: {e}"))?;
    if let Some(range) = p.range.as_mut() {
        // The end date is a date in the recurrence's zone; Graph usually names it,
        // else it is the event's zone. A zone with no name (a legacy custom zone,
        // `tzone://Microsoft/Custom`) is read in the event's zone too: close, where
        // refusing it would leave the whole series unread.
        if range
            .recurrence_time_zone
            .as_deref()
            .is_none_or(|z| windows_zones::parse(z).is_none())
        {
            range.recurrence_time_zone = Some(zone.to_string());
        }
    }
    let text = match timing {
        Timing::AllDay { .. } => recurrence::to_rrule_all_day(&p),
        Timing::Timed { .. } => recurrence::to_rrule(&p),
    }
    .map_err(|e| format!("recurrence cannot be read: {e}"))?;
    Ok(RemoteRecurrence {
        rrule: text.rrule,
        // Graph lists removed and changed instances as separate items, not as dates.
        exdates: Vec::new(),
        rdates: Vec::new(),
    })
}

/// The `recurrence` to write for a master starting at `timing`. A rule Graph cannot
/// hold exactly is refused with the reason (the caller keeps it locally and flags
/// it) — never silently changed. EXDATEs are not part of it: Graph removes
/// instances by deleting occurrences, which the caller does after the write.
pub fn to_graph(r: &RemoteRecurrence, timing: &Timing) -> Result<Value, String> {
    if !r.rdates.is_empty() {
        return Err(
            "Microsoft 365 cannot hold extra dates (RDATE) in a repeating event; the series \
             stays on this computer as it is."
                .into(),
        );
    }
    let mapped = match timing {
        Timing::Timed {
            start, time_zone, ..
        } => {
            let tz = windows_zones::parse(time_zone)
                .ok_or_else(|| format!("unknown time zone {time_zone:?}"))?;
            let local = start.with_timezone(&tz).naive_local();
            recurrence::from_rrule_at(&r.rrule, local, time_zone)
        }
        Timing::AllDay { start, .. } => recurrence::from_rrule(&r.rrule, *start, "UTC"),
    };
    match mapped {
        FromRrule::Mapped(p) => serde_json::to_value(p).map_err(|e| e.to_string()),
        FromRrule::NotExpressible { reason } => Err(format!(
            "Microsoft 365 cannot hold this repeat rule ({reason}); the series stays on this \
             computer as it is."
        )),
    }
}
