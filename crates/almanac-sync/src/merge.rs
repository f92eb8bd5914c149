//! The three-way, field-by-field merge of one event (DESIGN §4 "Merge", "Conflict
//! policy"), and what a policy or the user's choice makes of a conflict.
//!
//! Inputs are [`RemoteEvent`]s: the **base** (the version both sides last agreed on),
//! the **local** row and the **remote** (provider) version. Each [`Field`] is compared
//! on its own: changed on one side → that side's value; changed on both to the same
//! value → that value; changed on both differently → a [`FieldConflict`] holding all
//! three versions. Identity and bookkeeping (`remote_id`, `etag`, `ical_uid`, `kind`,
//! `series`) are not merged: they always come from the remote version.
//!
//! Decisions (the why):
//! * **Lists merge by element.** Attendees are a set keyed by e-mail address (trimmed,
//!   case-insensitive), and an attendee both sides changed merges field by field
//!   (address, name, kind, response). Categories are a set of names. Graph and Google
//!   give list order no meaning, and whole-list merging would turn the most common
//!   case — someone answers remotely while the organizer adds a guest locally — into a
//!   conflict. Only an attendee (or one of its fields) changed differently on both
//!   sides, or removed on one side and changed on the other, is a conflict, and the
//!   conflict then covers the attendee list as a whole (all three lists kept). A list
//!   whose addresses are not unique (or empty) has no identity to merge by and falls
//!   back to whole-list merging.
//! * **Recurrence merges whole (rule + RDATEs), except EXDATEs**, which merge as a set
//!   and never conflict: the result is what remains of the base on both sides plus
//!   what either side added (`(B ∩ L ∩ R) ∪ (L \ B) ∪ (R \ B)`). An occurrence removed
//!   on either side stays removed, so a series edited on one side while an occurrence
//!   is cancelled on the other neither loses the exclusion nor grows a phantom
//!   instance; restoring a base exclusion is an explicit edit and also merges.
//! * **`extra` merges key by key** ([`Field::Extra`]); an absent key is a value of its
//!   own ("absent"), so a key added on one side is kept (and pushed when added
//!   locally), and a key the base had and one side removed is removed — or, if the
//!   other side changed it, a conflict. Absent values show as JSON `null`.
//! * **Lists and dates compare as sets** (categories, attendees by address, EXDATE and
//!   RDATE), so a provider reordering them is not a change (I4 quiescence).
//! * **`Ask` keeps the edit on screen and pushes nothing** ([`Resolution::Open`]): the
//!   local row shows the merge with *local* values in conflicting fields (the user's
//!   edit is never hidden, the other side's disjoint changes appear), nothing of the
//!   event is pushed, and the base stays where it was until the user decides — so the
//!   open conflict cannot later pass for a one-sided local change. Re-merging the
//!   shown version against the same base and remote yields the same conflicts.
//! * **Keep mine / keep theirs decide conflicts only**: disjoint changes of the other
//!   side still merge, since they contradict nothing; inside a list or a recurrence
//!   only the conflicting parts take the chosen side.
//! * **Keep both** keeps the remote version as the event and turns the local version
//!   into a new event with no provider identity for the caller to create (a copy of a
//!   meeting keeps its attendees: creating it may invite them again).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use almanac_model::{Attendee, Person};
use almanac_provider::{RemoteEvent, RemoteKind, RemoteRecurrence, Timing};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[cfg(test)]
mod tests;

/// A mergeable part of a [`RemoteEvent`]: every content field, and each key of `extra`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    Title,
    /// `body_text` and `body_html` together: they are two renderings of one text.
    Body,
    Timing,
    ShowAs,
    Importance,
    Sensitivity,
    Categories,
    Location,
    Attendees,
    Organizer,
    OnlineMeeting,
    /// Rule, EXDATEs and RDATEs (EXDATEs merge as a set, see the module doc).
    Recurrence,
    Reminder,
    Cancelled,
    /// One provider-only field of `extra`, by key.
    Extra(String),
}

impl Field {
    /// Every field but the `extra` keys, in display order.
    pub const MODELLED: [Field; 14] = [
        Field::Title,
        Field::Body,
        Field::Timing,
        Field::ShowAs,
        Field::Importance,
        Field::Sensitivity,
        Field::Categories,
        Field::Location,
        Field::Attendees,
        Field::Organizer,
        Field::OnlineMeeting,
        Field::Recurrence,
        Field::Reminder,
        Field::Cancelled,
    ];

    /// A stable name for display and the audit log; `extra.<key>` for provider fields.
    pub fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self {
            Field::Title => "title",
            Field::Body => "body",
            Field::Timing => "timing",
            Field::ShowAs => "showAs",
            Field::Importance => "importance",
            Field::Sensitivity => "sensitivity",
            Field::Categories => "categories",
            Field::Location => "location",
            Field::Attendees => "attendees",
            Field::Organizer => "organizer",
            Field::OnlineMeeting => "onlineMeeting",
            Field::Recurrence => "recurrence",
            Field::Reminder => "reminder",
            Field::Cancelled => "cancelled",
            Field::Extra(key) => return Cow::Owned(format!("extra.{key}")),
        })
    }

    /// This field of `ev` as JSON, for conflict display and the audit log (`null` for
    /// none / absent).
    pub fn value(&self, ev: &RemoteEvent) -> Value {
        match self {
            Field::Title => json!(ev.title),
            Field::Body => json!({ "text": ev.body_text, "html": ev.body_html }),
            Field::Timing => match &ev.timing {
                Timing::Timed {
                    start,
                    end,
                    time_zone,
                } => json!({
                    "start": start.to_rfc3339(),
                    "end": end.to_rfc3339(),
                    "timeZone": time_zone,
                }),
                Timing::AllDay { start, end } => {
                    json!({ "startDate": start.to_string(), "endDate": end.to_string() })
                }
            },
            Field::ShowAs => json!(ev.show_as),
            Field::Importance => json!(ev.importance),
            Field::Sensitivity => json!(ev.sensitivity),
            Field::Categories => json!(ev.categories),
            Field::Location => json!(ev.location),
            Field::Attendees => json!(ev.attendees),
            Field::Organizer => json!(ev.organizer),
            Field::OnlineMeeting => json!(ev.online_meeting),
            Field::Recurrence => match &ev.recurrence {
                Some(r) => json!({ "rrule": r.rrule, "exdates": r.exdates, "rdates": r.rdates }),
                None => Value::Null,
            },
            Field::Reminder => json!(ev.reminder_minutes),
            Field::Cancelled => json!(ev.cancelled),
            Field::Extra(key) => ev.extra.get(key).cloned().unwrap_or(Value::Null),
        }
    }

    /// Whether `a` and `b` agree on this field (lists and dates as sets).
    fn same(&self, a: &RemoteEvent, b: &RemoteEvent) -> bool {
        match self {
            Field::Title => a.title == b.title,
            // The text of a formatted body is read from its HTML (and a description
            // edited here drops the HTML): the same HTML is the same body, whatever
            // text an older reading of it derived.
            Field::Body => match (&a.body_html, &b.body_html) {
                (Some(x), Some(y)) => x == y,
                (x, y) => x == y && a.body_text == b.body_text,
            },
            Field::Timing => a.timing == b.timing,
            Field::ShowAs => a.show_as == b.show_as,
            Field::Importance => a.importance == b.importance,
            Field::Sensitivity => a.sensitivity == b.sensitivity,
            Field::Categories => set(&a.categories) == set(&b.categories),
            Field::Location => a.location == b.location,
            Field::Attendees => same_attendees(&a.attendees, &b.attendees),
            Field::Organizer => a.organizer == b.organizer,
            Field::OnlineMeeting => a.online_meeting == b.online_meeting,
            Field::Recurrence => same_recurrence(&a.recurrence, &b.recurrence),
            Field::Reminder => a.reminder_minutes == b.reminder_minutes,
            Field::Cancelled => a.cancelled == b.cancelled,
            Field::Extra(key) => a.extra.get(key) == b.extra.get(key),
        }
    }

    /// Sets this field of `to` to its value in `from`.
    fn copy(&self, from: &RemoteEvent, to: &mut RemoteEvent) {
        match self {
            Field::Title => to.title.clone_from(&from.title),
            Field::Body => {
                to.body_text.clone_from(&from.body_text);
                to.body_html.clone_from(&from.body_html);
            }
            Field::Timing => to.timing = from.timing.clone(),
            Field::ShowAs => to.show_as = from.show_as,
            Field::Importance => to.importance = from.importance,
            Field::Sensitivity => to.sensitivity = from.sensitivity,
            Field::Categories => to.categories.clone_from(&from.categories),
            Field::Location => to.location.clone_from(&from.location),
            Field::Attendees => to.attendees.clone_from(&from.attendees),
            Field::Organizer => to.organizer.clone_from(&from.organizer),
            Field::OnlineMeeting => to.online_meeting.clone_from(&from.online_meeting),
            Field::Recurrence => to.recurrence.clone_from(&from.recurrence),
            Field::Reminder => to.reminder_minutes = from.reminder_minutes,
            Field::Cancelled => to.cancelled = from.cancelled,
            Field::Extra(key) => match from.extra.get(key) {
                Some(v) => {
                    to.extra.insert(key.clone(), v.clone());
                }
                None => {
                    to.extra.remove(key);
                }
            },
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    Local,
    Remote,
}

/// The same field changed differently on both sides. Values as [`Field::value`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub field: Field,
    pub base: Value,
    pub local: Value,
    pub remote: Value,
}

/// The outcome of merging one event present on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Merge {
    /// Every field changed on one side from that side, fields changed alike on both
    /// sides with that value, and — for fields in `conflicts` — the remote value (or,
    /// in a list or recurrence, remote's parts where the sides disagree). Identity and
    /// bookkeeping from remote. With conflicts, act through [`resolve`], not on this.
    pub merged: RemoteEvent,
    /// Fields changed differently on both sides, in [`Field`] order.
    pub conflicts: Vec<FieldConflict>,
    /// `merged` differs from remote in some field: it must be pushed.
    pub push: bool,
    /// `merged` differs from local in some field: the local row must be updated.
    pub apply_locally: bool,
}

/// The fields in which `a` and `b` differ, in [`Field`] order (identity and
/// bookkeeping — `remote_id`, `etag`, `ical_uid`, `kind`, `series` — ignored).
pub fn changed_fields(a: &RemoteEvent, b: &RemoteEvent) -> Vec<Field> {
    fields(&[a, b])
        .into_iter()
        .filter(|f| !f.same(a, b))
        .collect()
}

/// `remote`, our own create as the provider has it, with each field that is none of
/// the versions `sent` (oldest first) as one sent has it: the base a merge needs to
/// take a change made there since the create landed (the field is `local`'s as sent),
/// and to keep ours. The provider holds whichever attempt arrived first, unknown
/// here: where the versions sent differ on the field, the base is one that `local`
/// is not, so a change there meets the change here as a conflict, never theirs
/// taken over ours. A field the provider merely writes its own way (a body as HTML,
/// times in another zone, a rule with its week start) matches what was sent.
pub(crate) fn as_sent(
    remote: RemoteEvent,
    sent: &[RemoteEvent],
    local: &RemoteEvent,
) -> RemoteEvent {
    let Some(first) = sent.first() else {
        return remote;
    };
    let mut all = vec![&remote];
    all.extend(sent);
    let mut base = remote.clone();
    for f in fields(&all) {
        if sent.iter().any(|s| landed_as(&f, &remote, s)) {
            continue;
        }
        let agreed = sent.iter().all(|s| f.same(s, first));
        let from = match agreed {
            true => first,
            false => sent.iter().find(|s| !f.same(s, local)).unwrap_or(first),
        };
        f.copy(from, &mut base);
    }
    base
}

/// The keys of `extra` a provider sets anew on every write to an event, whoever
/// makes it: Google's `sequence` and `updated`, Graph's `lastModifiedDateTime`.
const WRITE_STAMPS: &[&str] = &["sequence", "updated", "lastModifiedDateTime"];

/// Drops the provider's per-write stamps ([`WRITE_STAMPS`]) from `extra`: a version
/// of one event made into another's (an occurrence of a series made again).
pub(crate) fn drop_write_stamps(extra: &mut almanac_provider::Extra) {
    for key in WRITE_STAMPS {
        extra.remove(*key);
    }
}

impl Field {
    /// The keys of `extra` in which a provider keeps its own form of this field,
    /// rewritten with it: Google's remembered `transparency`, `visibility`,
    /// `reminders`, `recurrence`, `conferenceData`, `extendedProperties` (where
    /// importance, categories, another meeting's link and the rest of show-as and
    /// sensitivity live); Graph's `location`/`locations`, `onlineMeeting`,
    /// `cancelledOccurrences` (which a new pattern drops), the original zones; both
    /// mappings' attendees they cannot render (`almanacAttendees`).
    fn mirrors(&self) -> &'static [&'static str] {
        match self {
            Field::Timing => &["originalStartTimeZone", "originalEndTimeZone"],
            Field::ShowAs => &["transparency", "extendedProperties"],
            Field::Sensitivity => &["visibility", "extendedProperties"],
            Field::Importance | Field::Categories => &["extendedProperties"],
            Field::Location => &["location", "locations"],
            Field::Attendees => &["attendees", "almanacAttendees"],
            Field::Organizer => &["organizer"],
            Field::OnlineMeeting => &[
                "conferenceData",
                "hangoutLink",
                "extendedProperties",
                "onlineMeeting",
            ],
            Field::Recurrence => &["recurrence", "cancelledOccurrences"],
            Field::Reminder => &["reminders"],
            Field::Cancelled => &["status"],
            _ => &[],
        }
    }
}

/// For an event deleted here: `landed` (what [`as_landed`] made of `before`, the
/// base) with what the provider rewrote in `extra` along with our landed change —
/// its stamps, and its own form of each field credited to us — as `remote` has it:
/// no change made there to hold the deletion against. (A row still here keeps the
/// old forms: taken into the base they would read as changed here.)
pub(crate) fn with_landed_extra(
    before: &RemoteEvent,
    mut landed: RemoteEvent,
    remote: &RemoteEvent,
) -> RemoteEvent {
    let credited = changed_fields(before, &landed);
    if credited.is_empty() {
        return landed;
    }
    let keys = WRITE_STAMPS
        .iter()
        .chain(credited.iter().flat_map(Field::mirrors));
    for key in keys {
        match remote.extra.get(*key) {
            Some(v) => landed.extra.insert((*key).to_owned(), v.clone()),
            None => landed.extra.remove(*key),
        };
    }
    landed
}

/// `base` with each field that an update `sent` (any of its versions) changed and
/// `remote` has as sent, as `remote` has it: that update landed there, its answer
/// lost, and the provider's version holds our change, not one made there. Merged
/// against it, a change here since — an undo to the old value, a newer value, a
/// deletion — is ours to send rather than up against our own edit, and a field
/// changed there since is still theirs. A series' removed dates count one by one
/// (they merge as a set; Graph drops them when a pattern changes), its rule and
/// added dates apart from them. Other fields are taken whole: a list changed by us
/// and, since, there too (an invitee's answer) is none of ours landed.
pub(crate) fn as_landed(
    base: &RemoteEvent,
    sent: &[RemoteEvent],
    remote: &RemoteEvent,
) -> RemoteEvent {
    let mut all = vec![base, remote];
    all.extend(sent);
    let mut out = base.clone();
    for f in fields(&all) {
        if let (Field::Recurrence, Some(b), Some(r)) = (&f, &base.recurrence, &remote.recurrence) {
            out.recurrence = Some(recurrence_landed(b, sent, r));
            continue;
        }
        if sent
            .iter()
            .any(|s| !f.same(s, base) && landed_as(&f, remote, s))
        {
            f.copy(remote, &mut out);
        }
    }
    out
}

/// `base`'s recurrence with what `sent` changed in it and `remote` has as sent (see
/// [`as_landed`]): the rule and added dates together, each removed date alone.
fn recurrence_landed(
    base: &RemoteRecurrence,
    sent: &[RemoteEvent],
    remote: &RemoteRecurrence,
) -> RemoteRecurrence {
    let same_rule = |a: &RemoteRecurrence, b: &RemoteRecurrence| {
        rule_parts(&a.rrule) == rule_parts(&b.rrule) && set(&a.rdates) == set(&b.rdates)
    };
    let mut out = base.clone();
    for s in sent.iter().filter_map(|s| s.recurrence.as_ref()) {
        if !same_rule(base, s) && same_rule(s, remote) {
            out.rrule.clone_from(&remote.rrule);
            out.rdates.clone_from(&remote.rdates);
        }
        for d in &s.exdates {
            let added = !base.exdates.contains(d) && remote.exdates.contains(d);
            if added && !out.exdates.contains(d) {
                out.exdates.push(d.clone());
            }
        }
        for d in &base.exdates {
            if !s.exdates.contains(d) && !remote.exdates.contains(d) {
                out.exdates.retain(|x| x != d);
            }
        }
    }
    out
}

/// Whether field `f` of `remote` is what `sent` had, as a provider keeps it.
fn landed_as(f: &Field, remote: &RemoteEvent, sent: &RemoteEvent) -> bool {
    match f {
        // Plain text comes back rendered as HTML and read back: its lines and spaces
        // can change, its words cannot.
        Field::Body => words(&remote.body_text).eq(words(&sent.body_text)),
        Field::Timing => match (&remote.timing, &sent.timing) {
            (
                Timing::Timed { start, end, .. },
                Timing::Timed {
                    start: s2, end: e2, ..
                },
            ) => start == s2 && end == e2,
            (a, b) => a == b,
        },
        Field::Recurrence => match (&remote.recurrence, &sent.recurrence) {
            (Some(a), Some(b)) => {
                rule_parts(&a.rrule) == rule_parts(&b.rrule)
                    && set(&a.exdates) == set(&b.exdates)
                    && set(&a.rdates) == set(&b.rdates)
            }
            (a, b) => a.is_none() && b.is_none(),
        },
        f => f.same(remote, sent),
    }
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
}

/// A rule's parts as a provider may write it back: in any order, its days in any
/// order, no `INTERVAL=1`, a week start of its own where that changes no date (it
/// does with an interval or week numbers), its end as a day (Graph ends a series on a
/// date).
fn rule_parts(rule: &str) -> BTreeSet<String> {
    let parts: Vec<(String, String)> = rule
        .split(';')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().to_ascii_uppercase()))
        .collect();
    let week_start_matters = parts
        .iter()
        .any(|(k, v)| (k == "INTERVAL" && v != "1") || k == "BYWEEKNO");
    parts
        .into_iter()
        .filter(|(k, v)| !(k == "INTERVAL" && v == "1"))
        .filter(|(k, _)| k != "WKST" || week_start_matters)
        .map(|(k, v)| match k.as_str() {
            "UNTIL" => format!("UNTIL={}", v.get(..8).unwrap_or(&v)),
            "BYDAY" => {
                let mut days: Vec<&str> = v.split(',').map(str::trim).collect();
                days.sort_unstable();
                format!("BYDAY={}", days.join(","))
            }
            _ => format!("{k}={v}"),
        })
        .collect()
}

/// Three-way merge of one event present on all three sides (see the module doc).
pub fn merge(base: &RemoteEvent, local: &RemoteEvent, remote: &RemoteEvent) -> Merge {
    merge_with(base, local, remote, &|_| None)
}

/// The merge, with `tie` deciding each field (or each disagreeing part of a list or
/// recurrence) both sides changed differently; `None` leaves it in conflict.
fn merge_with(
    base: &RemoteEvent,
    local: &RemoteEvent,
    remote: &RemoteEvent,
    tie: &dyn Fn(&Field) -> Option<Side>,
) -> Merge {
    let mut merged = remote.clone();
    let mut conflicts = Vec::new();
    let cancelled_over_edit = cancelled_over_edit(base, local, remote);
    for field in fields(&[base, local, remote]) {
        let forced = field == Field::Cancelled && cancelled_over_edit;
        if !forced && (field.same(local, base) || field.same(local, remote)) {
            continue; // remote's value, already in `merged`
        }
        if !forced && field.same(remote, base) {
            field.copy(local, &mut merged);
            continue;
        }
        let tie = tie(&field);
        let open = match &field {
            Field::Categories => {
                merged.categories =
                    merge_set(&base.categories, &local.categories, &remote.categories);
                false
            }
            Field::Attendees => {
                let (list, open) =
                    merge_attendees(&base.attendees, &local.attendees, &remote.attendees, tie);
                merged.attendees = list;
                open
            }
            Field::Recurrence => {
                let (rec, open) =
                    merge_recurrence(&base.recurrence, &local.recurrence, &remote.recurrence, tie);
                merged.recurrence = rec;
                open
            }
            _ => {
                if tie == Some(Side::Local) {
                    field.copy(local, &mut merged);
                }
                tie.is_none()
            }
        };
        if open {
            conflicts.push(FieldConflict {
                base: field.value(base),
                local: field.value(local),
                remote: field.value(remote),
                field,
            });
        }
    }
    Merge {
        push: !changed_fields(&merged, remote).is_empty(),
        apply_locally: !changed_fields(&merged, local).is_empty(),
        merged,
        conflicts,
    }
}

/// An occurrence cancelled on one side and edited on the other: merged, the edit would
/// vanish with the occurrence, so `cancelled` counts as changed on both sides (the user
/// keeps the edit or the cancellation, as with a deletion against an edit).
fn cancelled_over_edit(base: &RemoteEvent, local: &RemoteEvent, remote: &RemoteEvent) -> bool {
    let cancels = |side: &RemoteEvent| side.cancelled && !base.cancelled;
    let edits = |side: &RemoteEvent| {
        !side.cancelled
            && Field::MODELLED
                .iter()
                .any(|f| *f != Field::Cancelled && !f.same(side, base))
    };
    (cancels(remote) && edits(local)) || (cancels(local) && edits(remote))
}

/// The modelled fields, then every `extra` key any of `events` has.
fn fields(events: &[&RemoteEvent]) -> Vec<Field> {
    let keys: BTreeSet<&String> = events.iter().flat_map(|e| e.extra.keys()).collect();
    Field::MODELLED
        .into_iter()
        .chain(keys.into_iter().map(|k| Field::Extra(k.clone())))
        .collect()
}

/// Which side's value a three-way merge of one value takes, and whether that is an
/// open conflict (both changed it differently and `tie` is `None`: remote's, for now).
fn pick<T: ?Sized>(
    base: &T,
    local: &T,
    remote: &T,
    eq: impl Fn(&T, &T) -> bool,
    tie: Option<Side>,
) -> (Side, bool) {
    if eq(local, base) || eq(local, remote) {
        (Side::Remote, false)
    } else if eq(remote, base) {
        (Side::Local, false)
    } else {
        (tie.unwrap_or(Side::Remote), tie.is_none())
    }
}

fn pick_value<T: PartialEq + Clone>(
    base: &T,
    local: &T,
    remote: &T,
    tie: Option<Side>,
    open: &mut bool,
) -> T {
    let (side, conflict) = pick(base, local, remote, T::eq, tie);
    *open |= conflict;
    match side {
        Side::Local => local.clone(),
        Side::Remote => remote.clone(),
    }
}

fn set(items: &[String]) -> BTreeSet<&str> {
    items.iter().map(String::as_str).collect()
}

/// Three-way set merge (never a conflict): what both sides kept of the base, plus what
/// either added. Remote's order first, then local additions in local order.
fn merge_set(base: &[String], local: &[String], remote: &[String]) -> Vec<String> {
    let (b, l, r) = (set(base), set(local), set(remote));
    let mut seen = BTreeSet::new();
    remote
        .iter()
        .chain(local)
        .filter(|x| {
            let x = x.as_str();
            let keep = if b.contains(x) {
                l.contains(x) && r.contains(x)
            } else {
                l.contains(x) || r.contains(x)
            };
            keep && seen.insert(x)
        })
        .cloned()
        .collect()
}

fn attendee_key(a: &Attendee) -> String {
    a.person.email.trim().to_lowercase()
}

/// The attendees by address; `None` when an address is empty or repeated.
fn by_address(list: &[Attendee]) -> Option<BTreeMap<String, &Attendee>> {
    let mut map = BTreeMap::new();
    for a in list {
        let key = attendee_key(a);
        if key.is_empty() || map.insert(key, a).is_some() {
            return None;
        }
    }
    Some(map)
}

fn same_attendees(a: &[Attendee], b: &[Attendee]) -> bool {
    match (by_address(a), by_address(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// Attendees both sides changed: per address, then per attendee field.
fn merge_attendees(
    base: &[Attendee],
    local: &[Attendee],
    remote: &[Attendee],
    tie: Option<Side>,
) -> (Vec<Attendee>, bool) {
    let (Some(b), Some(l), Some(r)) = (by_address(base), by_address(local), by_address(remote))
    else {
        let (side, open) = pick(base, local, remote, |x, y| x == y, tie);
        let list = match side {
            Side::Local => local.to_vec(),
            Side::Remote => remote.to_vec(),
        };
        return (list, open);
    };
    let mut open = false;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for key in remote.iter().chain(local).map(attendee_key) {
        if !seen.insert(key.clone()) {
            continue;
        }
        let (eb, el, er) = (
            b.get(&key).copied(),
            l.get(&key).copied(),
            r.get(&key).copied(),
        );
        let merged = match (eb, el, er) {
            // Both changed one attendee: merge its fields.
            (Some(b0), Some(l0), Some(r0)) if l0 != b0 && r0 != b0 && l0 != r0 => {
                Some(merge_attendee(b0, l0, r0, tie, &mut open))
            }
            _ => {
                let (side, conflict) = pick(&eb, &el, &er, |x, y| x == y, tie);
                open |= conflict;
                match side {
                    Side::Local => el.cloned(),
                    Side::Remote => er.cloned(),
                }
            }
        };
        out.extend(merged);
    }
    (out, open)
}

fn merge_attendee(
    b: &Attendee,
    l: &Attendee,
    r: &Attendee,
    tie: Option<Side>,
    open: &mut bool,
) -> Attendee {
    Attendee {
        person: Person {
            email: pick_value(&b.person.email, &l.person.email, &r.person.email, tie, open),
            name: pick_value(&b.person.name, &l.person.name, &r.person.name, tie, open),
        },
        kind: pick_value(&b.kind, &l.kind, &r.kind, tie, open),
        response: pick_value(&b.response, &l.response, &r.response, tie, open),
    }
}

/// Rule and RDATEs: the part of a recurrence that merges whole.
pub(crate) fn same_rule(a: &RemoteRecurrence, b: &RemoteRecurrence) -> bool {
    a.rrule == b.rrule && set(&a.rdates) == set(&b.rdates)
}

fn same_recurrence(a: &Option<RemoteRecurrence>, b: &Option<RemoteRecurrence>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => same_rule(a, b) && set(&a.exdates) == set(&b.exdates),
        (None, None) => true,
        _ => false,
    }
}

/// A recurrence both sides changed: rule + RDATEs whole, EXDATEs as a set. A series
/// made single (or made recurring) on one side against any change on the other is a
/// conflict of the whole recurrence.
fn merge_recurrence(
    base: &Option<RemoteRecurrence>,
    local: &Option<RemoteRecurrence>,
    remote: &Option<RemoteRecurrence>,
    tie: Option<Side>,
) -> (Option<RemoteRecurrence>, bool) {
    if let (Some(b), Some(l), Some(r)) = (base, local, remote) {
        let (side, open) = pick(b, l, r, same_rule, tie);
        let mut out = match side {
            Side::Local => l.clone(),
            Side::Remote => r.clone(),
        };
        out.exdates = merge_set(&b.exdates, &l.exdates, &r.exdates);
        return (Some(out), open);
    }
    let (side, open) = pick(base, local, remote, same_recurrence, tie);
    let out = match side {
        Side::Local => local.clone(),
        Side::Remote => remote.clone(),
    };
    (out, open)
}

/// What a conflict record is about (DESIGN §3 `conflicts.kind`); the first word is the
/// local side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConflictKind {
    /// The same field changed differently on both sides.
    #[serde(rename = "edit/edit")]
    EditEdit,
    /// Edited locally, deleted remotely.
    #[serde(rename = "edit/delete")]
    EditDelete,
    /// Deleted locally, edited remotely.
    #[serde(rename = "delete/edit")]
    DeleteEdit,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictKind::EditEdit => "edit/edit",
            ConflictKind::EditDelete => "edit/delete",
            ConflictKind::DeleteEdit => "delete/edit",
        }
    }

    /// The side that deleted the event, for the two delete kinds.
    pub fn deleted_on(self) -> Option<Side> {
        match self {
            ConflictKind::EditEdit => None,
            ConflictKind::EditDelete => Some(Side::Remote),
            ConflictKind::DeleteEdit => Some(Side::Local),
        }
    }
}

/// What to do about one event, given which sides have it.
// Produced once per event and consumed at once: boxing the large variants buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Presence {
    /// Absent everywhere, or deleted on both sides: nothing to write; forget the base.
    Gone,
    /// New on the provider: create the local row from the remote version.
    CreateLocal,
    /// New locally: create it on the provider.
    CreateRemote,
    /// Deleted on the provider, unchanged locally: delete the local row.
    DeleteLocal,
    /// Deleted locally, unchanged on the provider: delete it on the provider.
    DeleteRemote,
    /// On both sides: the field-by-field merge.
    Merge(Merge),
    /// Deleted on one side (`kind` says which), edited on the other: every version kept
    /// (`edited` is the surviving side's), settled by [`resolve_deleted`] or
    /// [`apply_deleted_choice`].
    Conflict {
        kind: ConflictKind,
        base: RemoteEvent,
        edited: RemoteEvent,
    },
    /// Created on both sides with no common base and different content: both stay, the
    /// local one as a separate event (never silently pick one).
    KeepBoth {
        local: RemoteEvent,
        remote: RemoteEvent,
    },
}

/// The presence part of the merge: who created, deleted or edited the event.
pub fn merge_presence(
    base: Option<&RemoteEvent>,
    local: Option<&RemoteEvent>,
    remote: Option<&RemoteEvent>,
) -> Presence {
    let unchanged = |a: &RemoteEvent, b: &RemoteEvent| changed_fields(a, b).is_empty();
    match (base, local, remote) {
        (_, None, None) => Presence::Gone,
        (None, None, Some(_)) => Presence::CreateLocal,
        (None, Some(_), None) => Presence::CreateRemote,
        (None, Some(l), Some(r)) if unchanged(l, r) => Presence::Merge(merge(l, l, r)),
        (None, Some(l), Some(r)) => Presence::KeepBoth {
            local: l.clone(),
            remote: r.clone(),
        },
        (Some(b), Some(l), None) if unchanged(b, l) => Presence::DeleteLocal,
        (Some(b), Some(l), None) => Presence::Conflict {
            kind: ConflictKind::EditDelete,
            base: b.clone(),
            edited: l.clone(),
        },
        (Some(b), None, Some(r)) if unchanged(b, r) => Presence::DeleteRemote,
        (Some(b), None, Some(r)) => Presence::Conflict {
            kind: ConflictKind::DeleteEdit,
            base: b.clone(),
            edited: r.clone(),
        },
        (Some(b), Some(l), Some(r)) => Presence::Merge(merge(b, l, r)),
    }
}

/// A calendar's conflict policy (DESIGN §3 `calendars`, §4): the model's, which the
/// window and the store name the same way.
pub use almanac_model::ConflictPolicy as Policy;

/// The user's answer to a conflict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// Conflicting fields (or parts of lists) from the local version.
    KeepMine,
    /// Conflicting fields (or parts of lists) from the remote version.
    KeepTheirs,
    /// A side per conflicting field; a conflicting field left out stays open.
    PerField(BTreeMap<Field, Side>),
    /// The remote version stays; the local one becomes a new event.
    KeepBoth,
}

/// What settling (or not settling) a conflict means for the two sides.
// As for `Presence`: short-lived, boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// Left to the user: write `shown` (if any) to the local row, push nothing for this
    /// event, keep the base and the conflict record. For edit/edit `shown` is the merge
    /// with local values in the still-conflicting fields; for edit/delete it is the
    /// local edit; for delete/edit `None` (the local deletion stands meanwhile).
    Open {
        kind: ConflictKind,
        shown: Option<RemoteEvent>,
        conflicts: Vec<FieldConflict>,
    },
    /// One version, no conflicts left: write `merged` locally if `apply_locally`, push
    /// it if `push`; it becomes the new base.
    Merged(Merge),
    /// The event becomes `remote` locally (nothing pushed); `copy` (the local version
    /// with no provider identity) is a new event for the caller to create.
    KeepBoth {
        remote: RemoteEvent,
        copy: RemoteEvent,
    },
    /// Edit/delete settled for the deletion: delete the event on the side that still
    /// has it.
    Delete,
    /// Edit/delete settled for the edit: give `event` back to the side `on` that deleted
    /// it — locally the remote version (same identity), remotely a new event (the local
    /// version with no provider identity: the deleted one cannot be reused).
    Restore { event: RemoteEvent, on: Side },
}

/// Settles an edit/edit `merge` by a calendar's policy (`Ask` leaves it open).
pub fn resolve(
    merge: &Merge,
    base: &RemoteEvent,
    local: &RemoteEvent,
    remote: &RemoteEvent,
    policy: Policy,
) -> Resolution {
    if merge.conflicts.is_empty() {
        return Resolution::Merged(merge.clone());
    }
    match policy_choice(policy) {
        Some(choice) => apply_choice(base, local, remote, &choice),
        None => Resolution::Open {
            kind: ConflictKind::EditEdit,
            shown: Some(merge_with(base, local, remote, &|_| Some(Side::Local)).merged),
            conflicts: merge.conflicts.clone(),
        },
    }
}

/// Settles an edit/edit conflict by the user's choice.
pub fn apply_choice(
    base: &RemoteEvent,
    local: &RemoteEvent,
    remote: &RemoteEvent,
    choice: &Choice,
) -> Resolution {
    let side = |s: Side| merge_with(base, local, remote, &move |_| Some(s));
    match choice {
        Choice::KeepMine => Resolution::Merged(side(Side::Local)),
        Choice::KeepTheirs => Resolution::Merged(side(Side::Remote)),
        Choice::PerField(picks) => {
            let settled = merge_with(base, local, remote, &|f| picks.get(f).copied());
            if settled.conflicts.is_empty() {
                return Resolution::Merged(settled);
            }
            let shown = merge_with(base, local, remote, &|f| {
                Some(picks.get(f).copied().unwrap_or(Side::Local))
            });
            Resolution::Open {
                kind: ConflictKind::EditEdit,
                shown: Some(shown.merged),
                conflicts: settled.conflicts,
            }
        }
        Choice::KeepBoth => {
            let m = merge(base, local, remote);
            if m.conflicts.is_empty() {
                Resolution::Merged(m)
            } else {
                Resolution::KeepBoth {
                    remote: remote.clone(),
                    copy: private_copy(local),
                }
            }
        }
    }
}

/// Settles an edit/delete (`deleted_on` = remote) or delete/edit (`deleted_on` =
/// local) conflict by a calendar's policy. `KeepBoth` keeps the edit: there is only
/// one version left to keep.
pub fn resolve_deleted(deleted_on: Side, edited: &RemoteEvent, policy: Policy) -> Resolution {
    match policy_choice(policy) {
        Some(choice) => apply_deleted_choice(deleted_on, edited, &choice),
        None => Resolution::Open {
            kind: match deleted_on {
                Side::Remote => ConflictKind::EditDelete,
                Side::Local => ConflictKind::DeleteEdit,
            },
            shown: (deleted_on == Side::Remote).then(|| edited.clone()),
            conflicts: Vec::new(),
        },
    }
}

/// Settles an edit/delete or delete/edit conflict by the user's choice. There are no
/// fields to pick between an edit and a deletion: `PerField`, like `KeepBoth`, keeps
/// the edit (nothing is lost).
pub fn apply_deleted_choice(deleted_on: Side, edited: &RemoteEvent, choice: &Choice) -> Resolution {
    let deletion_wins = match choice {
        Choice::KeepMine => deleted_on == Side::Local,
        Choice::KeepTheirs => deleted_on == Side::Remote,
        Choice::PerField(_) | Choice::KeepBoth => false,
    };
    if deletion_wins {
        return Resolution::Delete;
    }
    let event = match deleted_on {
        Side::Local => edited.clone(),
        Side::Remote => fresh_copy(edited),
    };
    Resolution::Restore {
        event,
        on: deleted_on,
    }
}

fn policy_choice(policy: Policy) -> Option<Choice> {
    match policy {
        Policy::Ask => None,
        Policy::PreferLocal => Some(Choice::KeepMine),
        Policy::PreferRemote => Some(Choice::KeepTheirs),
        Policy::KeepBoth => Some(Choice::KeepBoth),
    }
}

/// `ev` as the copy Keep both makes of it: a new event of the user's alone. Its
/// attendees, organizer and online meeting stay with the meeting: created with them,
/// the copy would invite every attendee again (Outlook sends the invitations) to a
/// duplicate with a new meeting link — the duplicate-meeting storm Almanac exists to
/// prevent. The rest, notes and room included, is kept for the user to compare.
fn private_copy(ev: &RemoteEvent) -> RemoteEvent {
    RemoteEvent {
        attendees: Vec::new(),
        organizer: None,
        online_meeting: None,
        ..fresh_copy(ev)
    }
}

/// `ev` as a new event: no provider identity (the provider assigns one on create),
/// no series link (a copied instance stands alone). `extra` is kept: the provider's
/// writer decides which of its fields a create may carry.
fn fresh_copy(ev: &RemoteEvent) -> RemoteEvent {
    RemoteEvent {
        remote_id: String::new(),
        etag: None,
        ical_uid: None,
        kind: if ev.recurrence.is_some() {
            RemoteKind::Master
        } else {
            RemoteKind::Single
        },
        series: None,
        ..ev.clone()
    }
}
