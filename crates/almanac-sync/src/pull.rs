//! Pull: a calendar's pages of changes, each applied together with its cursor, the pages
//! already fetched in one transaction (DESIGN §4 "Pull"; I6, I8).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use almanac_provider::{
    CalendarProvider, Change, ChangePage, Cursor, Lookup, OriginalStart, RemoteCalendar,
    RemoteEvent, RemoteKind, SeriesLink, Window,
};
use almanac_store::{CalendarHold, MasterKey, Store, SyncCalendar, SyncTx};

use crate::apply::{apply, Applied, Ctx};
use crate::convert::{normalise_owned, MasterInfo};
use crate::error::SyncError;
use crate::local::{load, Local};
use crate::plan::{
    change_id, listed_ids, plan_page, plan_reconcile, series_ids, MassDeleteGuard, Plan,
};
use crate::run::{lock, Clock, SyncOptions};

/// How far (days) a windowed lineage's end may fall behind a fresh window's before
/// the calendar is listed again (a full listing costs as many pages as the calendar).
const WINDOW_SLACK_DAYS: i64 = 30;

/// Stored cursors say whether their round is complete, so a run that resumes a
/// full listing half-way knows it did not see the whole listing; one in the middle of
/// a round also says how many pages the round has had (`more#N:`; `more:` from before
/// they were counted), so a round that never ends is told across runs.
const MORE: &str = "more:";
const MORE_COUNTED: &str = "more#";
const DONE: &str = "done:";

/// A stored cursor read: where to go on from, whether in the middle of a round, and
/// how many pages that round has had.
pub(crate) struct StoredCursor<'a> {
    pub cursor: Option<&'a str>,
    pub resumed: bool,
    pub pages: usize,
}

pub(crate) fn split_cursor(stored: Option<&str>) -> StoredCursor<'_> {
    let counted = stored
        .and_then(|c| c.strip_prefix(MORE_COUNTED))
        .and_then(|c| c.split_once(':'))
        .and_then(|(n, c)| Some((n.parse::<usize>().ok()?, c)));
    let (cursor, resumed, pages) = match (stored, counted) {
        (_, Some((pages, c))) => (Some(c), true, pages),
        (Some(c), None) => match (c.strip_prefix(MORE), c.strip_prefix(DONE)) {
            (Some(more), _) => (Some(more), true, 0),
            (None, Some(done)) => (Some(done), false, 0),
            (None, None) => (Some(c), false, 0),
        },
        (None, None) => (None, false, 0),
    };
    StoredCursor {
        cursor,
        resumed,
        pages,
    }
}

/// How a round's written set names an occurrence learnt gone from here (its instance's
/// id unknown: Graph's are opaque), beside the remote ids it holds.
pub(crate) fn occurrence_written(link: &SeriesLink) -> String {
    let at = match &link.original_start {
        OriginalStart::Timed(t) => t.to_rfc3339(),
        OriginalStart::AllDay(d) => d.to_string(),
    };
    format!("occurrence {} {at}", link.master_id)
}

/// How `round_written` names our create with idempotency key `key`, landed or found
/// deleted there by a push: a round under way may still show a copy the provider had
/// and deleted since, under an id this computer never learned (Google answers the
/// retry with `duplicate`; Outlook makes the event again, under a new id). Only an
/// event or a series carries the key a create sent, not an occurrence of it.
pub(crate) fn create_written(key: &str) -> String {
    format!("create {key}")
}

/// `c` as stored, `pages` into its round.
fn store_cursor(c: &Cursor, pages: usize) -> String {
    match c {
        Cursor::More(s) => format!("{MORE_COUNTED}{pages}:{s}"),
        Cursor::Done(s) => format!("{DONE}{s}"),
    }
}

/// A page asked for ahead of time: answered at once, or still on its way.
enum Ask<'a> {
    Ready(almanac_provider::Result<ChangePage>),
    Pending(almanac_provider::BoxFuture<'a, almanac_provider::Result<ChangePage>>),
}

/// Sends the request for the page at `cursor` (one poll), without waiting for it.
async fn ask<'a>(
    provider: &'a dyn CalendarProvider,
    remote: &'a RemoteCalendar,
    cursor: String,
    window: Window,
) -> Ask<'a> {
    let mut fut: almanac_provider::BoxFuture<'a, _> =
        Box::pin(async move { provider.changes(remote, Some(&cursor), window).await });
    match std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx))).await {
        std::task::Poll::Ready(r) => Ask::Ready(r),
        std::task::Poll::Pending => Ask::Pending(fut),
    }
}

/// Why pulling a calendar stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The mass-deletion guard tripped: nothing of the page was kept.
    Held(CalendarHold),
    Failed(SyncError),
}

impl From<SyncError> for Stop {
    fn from(e: SyncError) -> Self {
        Stop::Failed(e)
    }
}

impl From<almanac_store::StoreError> for Stop {
    fn from(e: almanac_store::StoreError) -> Self {
        Stop::Failed(e.into())
    }
}

pub(crate) struct Puller<'a> {
    pub store: &'a Mutex<Store>,
    pub provider: &'a dyn CalendarProvider,
    pub cal: &'a SyncCalendar,
    pub remote: &'a RemoteCalendar,
    pub opts: &'a SyncOptions,
    pub clock: &'a Clock<'a>,
    pub run_id: i64,
    /// Series masters fetched this run.
    pub masters: HashMap<String, Lookup>,
    /// What the pages committed so far applied — also when a later page fails, so the
    /// run reports what is in the store.
    pub applied: Applied,
    /// Why the round was given up, if it was: its listing did not end
    /// (`give_up_round`).
    pub gave_up: Option<String>,
}

impl Puller<'_> {
    fn window(&self) -> Window {
        match self.cal.window {
            Some((s, e)) => {
                let now = (self.clock)();
                Window {
                    start: chrono::DateTime::from_timestamp(s, 0).unwrap_or(now),
                    end: chrono::DateTime::from_timestamp(e, 0).unwrap_or(now),
                }
            }
            None => self.fresh_window(),
        }
    }

    /// The window a listing begun now covers.
    fn fresh_window(&self) -> Window {
        let now = (self.clock)();
        Window {
            start: now - chrono::TimeDelta::days(self.opts.days_back),
            end: now + chrono::TimeDelta::days(self.opts.days_ahead),
        }
    }

    /// A windowed lineage (Graph's delta) keeps the window it began with: once its end
    /// is this far behind where a new listing's would be, events that far ahead would
    /// never come, so the calendar is listed again over a fresh window.
    fn window_outdated(&self, window: Window) -> bool {
        self.opts.windowed
            && self.fresh_window().end - window.end > chrono::TimeDelta::days(WINDOW_SLACK_DAYS)
    }

    fn guard(&self) -> Option<MassDeleteGuard> {
        match self.cal.hold {
            Some(h) if h.confirmed => None,
            _ => Some(self.opts.guard),
        }
    }

    /// Pulls one round (to the provider's `Done` cursor), adding what each committed
    /// page applied to [`Self::applied`].
    pub async fn pull(&mut self) -> Result<(), Stop> {
        let (mut cursor, resumed, pages_before) = {
            let stored = split_cursor(self.cal.cursor.as_deref());
            (
                stored.cursor.map(str::to_owned),
                stored.resumed,
                stored.pages,
            )
        };
        // The window stays the lineage's: the provider restarts a listing with the
        // window it is given, and reconciling against another one would count events
        // between the two as gone.
        let mut window = self.window();
        // Only between rounds: a listing in progress finishes in its own window.
        if !resumed && cursor.is_some() && self.window_outdated(window) {
            cursor = None;
            window = self.fresh_window();
        }
        // Tombstones from before this run, if the round this run reads begins now
        // (not resumed from an earlier run): that round began after their creates
        // were sent, so one it does not show never landed.
        let tombstones: BTreeSet<i64> = if resumed {
            BTreeSet::new()
        } else {
            lock(self.store)
                .sync_step((self.clock)().timestamp(), |tx| tx.tombstones(&self.cal.id))?
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        let mut round = Round {
            tombstones,
            stored: (self.cal.cursor.clone(), self.cal.window),
            pending: Vec::new(),
            pending_events: 0,
        };
        let before = if resumed { pages_before } else { 0 };
        let pulled = self
            .pages(cursor, resumed, before, window, &mut round)
            .await;
        // Pages fetched before one failed are applied, as they were page by page.
        let applied = self.flush(&mut round).await;
        applied.and(pulled)
    }

    /// Fetches the round's pages from `cursor`, applying them as they come (see
    /// [`Self::flush`]).
    async fn pages(
        &mut self,
        mut cursor: Option<String>,
        resumed: bool,
        mut round_pages: usize,
        window: Window,
        round: &mut Round,
    ) -> Result<(), Stop> {
        // Whether the previous page belonged to a full listing; a stored `more:`
        // cursor continues one an earlier run began (its ids are in the store).
        let mut previous_full = resumed.then_some(true);
        let mut next: Option<Ask<'_>> = None;
        for n in 0..self.opts.max_pages {
            let mut page = match next.take() {
                Some(Ask::Pending(f)) => f.await,
                Some(Ask::Ready(r)) => r,
                None => {
                    self.provider
                        .changes(self.remote, cursor.as_deref(), window)
                        .await
                }
            }
            .map_err(SyncError::from)?;
            round_pages = if page.restarted { 1 } else { round_pages + 1 };
            // A round this long is not a calendar's (5,000 pages are half a million
            // events at Outlook's page size): the provider's listing goes round.
            let endless =
                matches!(page.cursor, Cursor::More(_)) && round_pages >= self.opts.longest_round;
            // Ask for the next page now: the provider prepares it while this one is
            // stored (with a multi-threaded runtime the request is on its way; a page
            // that never comes, or a page this run will not store, costs a read).
            if let (Cursor::More(c), true) = (&page.cursor, n + 1 < self.opts.max_pages && !endless)
            {
                next = Some(ask(self.provider, self.remote, c.clone(), window).await);
            }
            // A full listing starts here (the first one, or the provider reset the
            // cursor): the ids it shows are collected from this page on.
            let starts = page.full_listing && (page.restarted || previous_full != Some(true));
            // A round of changes starts here (its first request was sent this run, from
            // a finished cursor or none, or the provider restarted it).
            let round_starts = page.restarted || (n == 0 && !resumed);
            previous_full = Some(page.full_listing);
            // A windowed listing shows a series by its instances: it counts as shown.
            let listed: Vec<String> = if page.full_listing {
                let series = self.opts.windowed.then(|| series_ids(&page));
                // An event listed but unreadable is there all the same: not deleted.
                let unreadable = page.unreadable.iter().map(|(id, _)| id.as_str());
                let mut ids: Vec<String> = listed_ids(&page)
                    .chain(series.into_iter().flatten())
                    .chain(unreadable.filter(|id| !id.is_empty()))
                    .map(str::to_owned)
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            } else {
                Vec::new()
            };
            let page_cursor = page.cursor.clone();
            let starts = Starts {
                round: round_starts,
                listing: starts,
            };
            let ends_listing = page.full_listing && matches!(page_cursor, Cursor::Done(_));
            let gone_series = if ends_listing && self.opts.windowed {
                // It reads what the listing showed from the store: the pages before
                // this one must be there.
                if !self.flush(round).await? {
                    return Ok(());
                }
                self.gone_series(&listed, starts.listing).await
            } else {
                BTreeSet::new()
            };
            round.pending_events += page.changes.len();
            // Logged with the page, as the events the store cannot keep.
            let skipped = std::mem::take(&mut page.unreadable);
            round.pending.push(Fetched {
                page,
                round_pages,
                starts,
                listed,
                window,
                gone_series,
                skipped,
                unreadable_series: Vec::new(),
            });
            let last =
                matches!(page_cursor, Cursor::Done(_)) || n + 1 == self.opts.max_pages || endless;
            if (last || round.pending_events >= PENDING_EVENTS || !arrived(&mut next).await)
                && !self.flush(round).await?
            {
                return Ok(()); // its cursor is dropped: the next run lists it again
            }
            if endless {
                return self.give_up_round(round, round_pages);
            }
            match page_cursor {
                Cursor::More(c) => cursor = Some(c),
                Cursor::Done(_) => return Ok(()),
            }
        }
        // A provider that never ends its round: what was applied stays, with its
        // cursor; the next run goes on from there.
        Ok(())
    }

    /// Ends a round that has gone on for `pages` pages without ending (its pages so far
    /// applied): its cursor is dropped, so the next run lists the calendar from the
    /// start, and the run says so ([`Self::gave_up`]) — unbounded, it was read
    /// [`SyncOptions::max_pages`] pages at every run, each run "ok". The push goes on:
    /// nothing the listing showed is read as deleted.
    fn give_up_round(&mut self, round: &mut Round, pages: usize) -> Result<(), Stop> {
        let why = format!(
            "The provider listed {pages} pages of changes of \"{}\" without ending the list; \
             Almanac stopped reading it and lists the calendar again from the start at the \
             next sync.",
            self.cal.name
        );
        lock(self.store).sync_step((self.clock)().timestamp(), |tx| {
            tx.set_cursor(&self.cal.id, None, None)?;
            tx.action(
                self.run_id,
                None,
                &self.cal.id,
                "pull",
                "stopped",
                &[],
                &why,
            )
        })?;
        round.stored = (None, None);
        self.gave_up = Some(why);
        Ok(())
    }

    /// Prepares the pages fetched and not yet applied (see [`Self::prepare`]) and
    /// applies them, in order, in one step: each page with its cursor, as a part of the
    /// step that a failure undoes alone (the pages before it stay applied, the ones
    /// after it are not tried). Adds what they applied to [`Self::applied`];
    /// `Ok(false)` when the calendar must be listed again (the pages after the one that
    /// said so are dropped, with the cursor).
    ///
    /// One step, and one call for series masters, for what is already here rather
    /// than one of each per page: each commit writes every database page its inserts
    /// touched, and a page of events lands on pages of two indexes scattered across the
    /// calendar — with Graph's 100 events to a page, the commits were 43 % of applying
    /// a first sync, and nearly every page waited for a `$batch` of one or two masters.
    /// When the provider is slower than the store, this is one page at a time.
    async fn flush(&mut self, round: &mut Round) -> Result<bool, Stop> {
        if round.pending.is_empty() {
            return Ok(true);
        }
        let mut pages = std::mem::take(&mut round.pending);
        round.pending_events = 0;
        // The series masters the store holds, for both (read once: finding them
        // visits the calendar's events).
        let plain = pages.iter().any(|f| {
            f.page
                .changes
                .iter()
                .any(|c| matches!(c, Change::Upsert(ev) if ev.kind == RemoteKind::Occurrence))
        });
        let (known, exceptions) = {
            let store = lock(self.store);
            let known = store.sync_masters(&self.cal.id)?;
            let exceptions = match plain {
                true => store.sync_exception_ids(&self.cal.id)?,
                false => HashSet::new(),
            };
            (known, exceptions)
        };
        self.prepare(&mut pages, &known, &exceptions).await?;
        self.series_gone_with(&mut pages).await?;
        self.normalise(&mut pages, known);
        let now = (self.clock)().timestamp();
        let tombstones = &round.tombstones;
        let mut stored = round.stored.clone();
        let (applied, stop) = lock(self.store).pull_step(now, |tx| -> Result<_, Stop> {
            let mut total = Applied::default();
            for (i, fetched) in pages.into_iter().enumerate() {
                let span = Some((
                    fetched.window.start.timestamp(),
                    fetched.window.end.timestamp(),
                ));
                let cursor = store_cursor(&fetched.page.cursor, fetched.round_pages);
                // The first page fails with the whole step (nothing came before it);
                // only the pages after it need to be parts, which cost: SQLite keeps
                // a copy of each database page a part changes, to undo it.
                let applied = if i == 0 {
                    self.commit(tx, fetched, tombstones, &stored)?
                } else {
                    match tx.part(|tx| self.commit(tx, fetched, tombstones, &stored)) {
                        Ok(applied) => applied,
                        Err(stop) => return Ok((total, Some(stop))),
                    }
                };
                let relist = applied.relist;
                total += applied;
                if relist {
                    stored = (None, None);
                    break;
                }
                stored = (Some(cursor), span);
            }
            Ok((total, None))
        })?;
        round.stored = stored;
        let relist = applied.relist;
        self.applied += applied;
        match stop {
            Some(stop) => Err(stop),
            None => Ok(!relist),
        }
    }

    /// Applies a fetched page, its cursor and (at the end of a complete full listing)
    /// the reconcile, inside the step `tx`.
    fn commit(
        &self,
        tx: &mut SyncTx<'_, '_>,
        fetched: Fetched,
        expired: &BTreeSet<i64>,
        stored: &(Option<String>, Option<(i64, i64)>),
    ) -> Result<Applied, Stop> {
        let Fetched {
            mut page,
            round_pages,
            starts,
            listed,
            window,
            gone_series,
            skipped,
            unreadable_series,
        } = fetched;
        let policy = crate::run::policy_of(&self.cal.conflict_policy);
        let guard = self.guard();
        let cal = &self.cal;
        let windowed = self.opts.windowed;
        let left_out = skipped.len();
        for (remote_id, why) in skipped {
            tx.action(
                self.run_id,
                None,
                &self.cal.id,
                "pull",
                "skipped",
                &[],
                &format!("Event {remote_id} not kept locally: {why}."),
            )?;
        }
        // A round's pages can come from a snapshot of when it began: an event
        // written from here since (created, edited, deleted) is newer than what
        // they show of it, which would undo the write; the next round, begun after
        // it, shows the event as it is. (An instance's delete whose answer was lost
        // counts too, landed or not: if not, its series' removal still waits, and
        // its retry reads the instance as it is.)
        if starts.round {
            tx.round_start(&cal.id)?;
        } else {
            let written = tx.round_written(&cal.id)?;
            if !written.is_empty() {
                // (A create key costs a read of the provider's form: only when needed.)
                let creates = written.iter().any(|w| w.starts_with(&create_written("")));
                let provider = self.provider;
                page.changes.retain(|c| {
                    !matches!(c, Change::Upsert(ev) if written.contains(&ev.remote_id)
                        || ev.series.as_ref().is_some_and(|l| written.contains(&occurrence_written(l)))
                        || (creates && ev.series.is_none() && provider
                            .creation_key(ev)
                            .is_some_and(|k| written.contains(&create_written(&k)))))
                });
            }
        }
        // A listing that begins with nothing to reconcile keeps no ids (see
        // `listing_from_empty` in the schema); asked before its first page lands.
        let from_empty = if starts.listing {
            !tx.has_provider_copies(&cal.id)?
        } else {
            page.full_listing && tx.listing_from_empty(&cal.id)?
        };
        let tombstones = tx.tombstones(&cal.id)?;
        // Reading each listed event's create key costs (Graph keeps it among the
        // fields Almanac does not model); it matters only while a create awaits.
        let linked = if tombstones.is_empty() && !tx.creates_pending(&cal.id)? {
            HashMap::new()
        } else {
            self.linked_creates(&page)
        };
        // Our creates deleted here before their answer came: the listing shows
        // them by their key; they are deleted at the provider, not brought back.
        for (outbox_id, key) in tombstones {
            let Some(remote_id) = linked.get(&key) else {
                continue;
            };
            let etag = page.changes.iter().find_map(|c| match c {
                Change::Upsert(ev) if &ev.remote_id == remote_id => ev.etag.clone(),
                _ => None,
            });
            tx.aim_tombstone(outbox_id, remote_id, etag.as_deref())?;
            page.changes
                .retain(|c| !matches!(c, Change::Upsert(ev) if &ev.remote_id == remote_id));
        }
        // The page's events and the series its instances belong to.
        let masters = page.changes.iter().filter_map(|c| match c {
            Change::Upsert(ev) => ev.series.as_ref().map(|l| l.master_id.as_str()),
            Change::Removed { .. } => None,
        });
        let ids: Vec<&str> = page.changes.iter().map(change_id).chain(masters).collect();
        let mut local = load(tx.entries_for(&cal.id, &ids)?, &linked)?;
        // Outlook: a series listed with days cancelled since its base takes their
        // exceptions along (`Planner::exceptions_cancelled`), synced ones too, which
        // the page's entries lack (read only then: a long series is listed with every
        // page of its instances).
        let cancelling = if self.provider.exdates_in_rule() {
            Vec::new()
        } else {
            newly_cancelling(&page, &local)
        };
        if !cancelling.is_empty() {
            let more: Vec<_> = tx
                .linked_exceptions(&cal.id, &cancelling)?
                .into_iter()
                .filter(|e| local.index.by_local_id(&e.local_id).is_none())
                .collect();
            if !more.is_empty() {
                let entries = tx.entries_for(&cal.id, &ids)?.into_iter().chain(more);
                local = load(entries.collect(), &linked)?;
            }
        }
        local.index = local
            .index
            .with_removals_on_series(!self.provider.exdates_in_rule())
            .with_gone_series(gone_series.clone());
        // The guard's whole matters only to a page that removes something; counting
        // the calendar for every page made a listing quadratic in the calendar's
        // size (Graph's pages hold 100 events).
        if page
            .changes
            .iter()
            .any(|c| matches!(c, Change::Removed { .. }))
        {
            local.index = local.index.with_total(tx.counted(&cal.id)?);
        }
        let (full_listing, cursor) = (page.full_listing, page.cursor.clone());
        let read_again = series_read_again(tx, &cal.id, &page.changes)?;
        let plan = plan_page(&local.index, page, policy, guard);
        let mut applied = self.carry_out(tx, plan, &local)?;
        // Left out before planning: counted with what the plan could not keep.
        applied.skipped += left_out;
        tx.left_out_series_add(&cal.id, &unreadable_series)?;
        if !read_again.is_empty() {
            // A later round lists only what changes after it: the instances left out
            // with these series come with a listing from the start.
            tx.left_out_series_read(&cal.id, &read_again)?;
            tx.action(
                self.run_id,
                None,
                &cal.id,
                "pull",
                "relisted",
                &[],
                &format!(
                    "Series {} reads again: the calendar is listed again from the start, for \
                     its changes left out while it could not be read.",
                    read_again.join(", ")
                ),
            )?;
            applied.relist = true;
        }
        if starts.listing {
            tx.listing_start(&cal.id, from_empty)?;
        }
        if full_listing && !from_empty {
            tx.listing_add(&cal.id, listed.iter().map(String::as_str))?;
        }
        if full_listing && from_empty && matches!(cursor, Cursor::Done(_)) {
            // Every provider copy the calendar has came from this listing or from
            // a create of ours: nothing is unlisted.
            tx.listing_end(&cal.id)?;
        } else if full_listing && matches!(cursor, Cursor::Done(_)) {
            let listed = tx.listing_ids(&cal.id)?;
            // Only what the listing lacks can go. The guard's whole is the
            // calendar's count, or in a windowed listing what lies inside the
            // window: what it showed and what it lacks surely inside.
            let mut local = load(tx.unlisted_entries(&cal.id)?, &HashMap::new())?;
            local.index = if windowed {
                local
                    .index
                    .with_listed(tx.listed_counted(&cal.id)?)
                    .with_gone_series(gone_series)
            } else {
                local.index.with_total(tx.counted(&cal.id)?)
            };
            tx.listing_end(&cal.id)?;

            let plan = plan_reconcile(
                &local.index,
                &listed,
                windowed.then_some(window),
                policy,
                guard,
            );
            applied += self.carry_out(tx, plan, &local)?;
        }
        if matches!(cursor, Cursor::Done(_)) {
            // A round that began after these creates were sent did not show them:
            // they never landed, and there is nothing to delete.
            for (outbox_id, _) in tx.tombstones(&cal.id)? {
                if expired.contains(&outbox_id) {
                    tx.push_done(outbox_id)?;
                }
            }
        }
        let stored_form = store_cursor(&cursor, round_pages);
        let span = Some((window.start.timestamp(), window.end.timestamp()));
        if applied.relist {
            tx.set_cursor(&cal.id, None, None)?;
        } else if stored.0.as_deref() != Some(stored_form.as_str()) || stored.1 != span {
            tx.set_cursor(&cal.id, Some(&stored_form), span)?;
        }
        if matches!(cursor, Cursor::Done(_)) && cal.hold.is_some() {
            tx.set_hold(&cal.id, None)?;
        }
        Ok(applied)
    }

    /// Applies `plan`, made against `local`, unless the mass-deletion guard stopped it.
    fn carry_out(
        &self,
        tx: &mut SyncTx<'_, '_>,
        plan: Plan,
        local: &Local,
    ) -> Result<Applied, Stop> {
        if let Some(trip) = plan.guard {
            return Err(Stop::Held(hold_of(trip)));
        }
        let ctx = Ctx {
            calendar_id: &self.cal.id,
            run_id: Some(self.run_id),
            local,
            policy: crate::run::policy_of(&self.cal.conflict_policy),
        };
        Ok(apply(tx, &ctx, plan)?)
    }

    /// At the end of a windowed full listing, the series this computer has that the
    /// listing did not show (it shows a series by its instances: one with none in the
    /// window, or one deleted) and that the provider, asked, no longer has. If asking
    /// fails, none: nothing is taken for gone without the provider saying so.
    /// `listed_now` (this page's ids) is sorted.
    async fn gone_series(&self, listed_now: &[String], starts_here: bool) -> BTreeSet<String> {
        let now = (self.clock)().timestamp();
        let known = lock(self.store).sync_step(now, |tx| {
            let shown = if starts_here {
                BTreeSet::new() // this one page is the whole listing
            } else if tx.listing_from_empty(&self.cal.id)? {
                return Ok(None); // every series here came from it or from us
            } else {
                tx.listing_ids(&self.cal.id)?
            };
            Ok::<_, SyncError>(Some((shown, tx.series_remote_ids(&self.cal.id)?)))
        });
        let Ok(Some((shown, series))) = known else {
            return BTreeSet::new();
        };
        let unshown: Vec<String> = series
            .into_iter()
            .filter(|id| !shown.contains(id) && listed_now.binary_search(id).is_err())
            .collect();
        if unshown.is_empty() {
            return BTreeSet::new();
        }
        match self.provider.events(self.remote, &unshown).await {
            Ok(found) => unshown
                .into_iter()
                .zip(found)
                .filter(|(_, f)| f.is_gone())
                .map(|(id, _)| id)
                .collect(),
            Err(_) => BTreeSet::new(),
        }
    }

    /// Our creates whose answer was lost, recognised in this page by the key they
    /// carried: key → remote id.
    fn linked_creates(&self, page: &ChangePage) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for c in &page.changes {
            if let Change::Upsert(ev) = c {
                if let Some(key) = self.provider.creation_key(ev) {
                    out.insert(key, ev.remote_id.clone());
                }
            }
        }
        out
    }

    /// The pages as they will be applied: the series masters their instances point at
    /// fetched — for all of them in one call, and put first in the page that needs
    /// them first (Graph never lists masters in a calendar view; Google may list an
    /// instance before its series) — and unmodified instances dropped (the local
    /// expansion makes them).
    ///
    /// Kept is an unmodified instance under the id of an occurrence changed here, or
    /// deleted here (`exceptions`): that change is gone there. Outlook drops a
    /// series' changed occurrences when the series' times change, and a series moved
    /// back, or given another end, lists its instances under the same ids; merged like
    /// any version of the occurrence, it takes the row away where nothing of ours is
    /// left, and a deletion here stands.
    async fn prepare(
        &mut self,
        pages: &mut [Fetched],
        stored: &[MasterKey],
        exceptions: &HashSet<String>,
    ) -> Result<(), Stop> {
        let stored: BTreeSet<String> = stored.iter().filter_map(|m| m.remote_id.clone()).collect();
        let mut known = stored.clone();
        // Masters to fetch, per page: every series with a listed plain occurrence (Graph
        // lists the occurrences of a series that changed, never the master), and any
        // unknown one — not one fetched already this run, or for a page before.
        let mut wanted: Vec<Vec<String>> = Vec::with_capacity(pages.len());
        let mut asked: BTreeSet<String> = BTreeSet::new();
        for f in pages.iter() {
            let in_page: BTreeSet<&str> = f
                .page
                .changes
                .iter()
                .filter_map(|c| match c {
                    Change::Upsert(ev) if ev.kind == RemoteKind::Master => {
                        Some(ev.remote_id.as_str())
                    }
                    _ => None,
                })
                .collect();
            let mut here: Vec<String> = Vec::new();
            for c in &f.page.changes {
                let Change::Upsert(ev) = c else { continue };
                let Some(link) = &ev.series else { continue };
                let id = link.master_id.as_str();
                let needed = ev.kind == RemoteKind::Occurrence
                    || (!known.contains(id) && !in_page.contains(id));
                if needed
                    && !in_page.contains(id)
                    && !self.masters.contains_key(id)
                    && asked.insert(id.to_owned())
                {
                    here.push(id.to_owned());
                }
            }
            known.extend(in_page.into_iter().map(str::to_owned));
            wanted.push(here);
        }
        let all: Vec<String> = wanted.iter().flatten().cloned().collect();
        if !all.is_empty() {
            let got = self
                .provider
                .events(self.remote, &all)
                .await
                .map_err(SyncError::from)?;
            for (id, ev) in all.into_iter().zip(got) {
                self.masters.insert(id, ev);
            }
        }
        let unreadable = self
            .masters
            .values()
            .any(|m| matches!(m, Lookup::Unreadable(_)));
        let mut listed_masters: HashSet<String> = HashSet::new();
        for (f, here) in pages.iter_mut().zip(wanted) {
            // A series asked for and sent unreadable: its new version is not kept.
            for id in &here {
                if let Some(Lookup::Unreadable(why)) = self.masters.get(id) {
                    let why = match stored.contains(id) {
                        true => format!("{why}; the series stays as it was here"),
                        false => why.clone(),
                    };
                    f.skipped.push((id.clone(), why));
                }
            }
            let fetched: Vec<RemoteEvent> = here
                .iter()
                .filter_map(|id| self.masters.get(id).cloned().and_then(Lookup::found))
                .filter(|m| m.kind == RemoteKind::Master)
                .collect();
            let listed = std::mem::take(&mut f.page.changes);
            let (page_masters, rest) = masters_first(listed);
            f.page.changes = fetched
                .into_iter()
                .map(|m| Change::Upsert(Box::new(m)))
                .chain(page_masters)
                .chain(rest)
                .filter(|c| {
                    !matches!(c, Change::Upsert(ev) if ev.kind == RemoteKind::Occurrence
                        && !exceptions.contains(&ev.remote_id))
                })
                .collect();
            if unreadable {
                listed_masters.extend(f.page.changes.iter().filter_map(|c| match c {
                    Change::Upsert(ev) if ev.kind == RemoteKind::Master => {
                        Some(ev.remote_id.clone())
                    }
                    _ => None,
                }));
                let known = |id: &str| stored.contains(id) || listed_masters.contains(id);
                f.unreadable_series =
                    self.leave_out_unreadable_series(&mut f.page.changes, &mut f.skipped, known);
            }
        }
        Ok(())
    }

    /// Leaves out of `listed` the instances of a series the provider has but sent in a
    /// form Almanac cannot read, and that is not `known` (held here, or listed readable
    /// in this page or one before), adding them to `skipped`: without their series they
    /// cannot be placed, and an unreadable series is not a gone one. Like any
    /// unreadable event they count as listed (the caller collected the listing's ids
    /// before), so a full listing deletes nothing. The instances of a series held here
    /// are applied to it, as when their series is not asked for. Returns the series
    /// whose instances it left out.
    fn leave_out_unreadable_series(
        &self,
        listed: &mut Vec<Change>,
        skipped: &mut Vec<(String, String)>,
        known: impl Fn(&str) -> bool,
    ) -> Vec<String> {
        let mut series: Vec<String> = Vec::new();
        let unreadable = |id: &str| match self.masters.get(id) {
            Some(Lookup::Unreadable(why)) => Some(why.clone()),
            _ => None,
        };
        listed.retain(|c| {
            let Change::Upsert(ev) = c else { return true };
            let Some(link) = &ev.series else { return true };
            if known(&link.master_id) {
                return true;
            }
            match unreadable(&link.master_id) {
                Some(why) => {
                    let why = format!("its series {} cannot be read ({why})", link.master_id);
                    skipped.push((ev.remote_id.clone(), why));
                    if !series.contains(&link.master_id) {
                        series.push(link.master_id.clone());
                    }
                    false
                }
                None => true,
            }
        });
        series
    }

    /// The series gone at the provider whose occurrence changed here a page removes
    /// without them, added to that page's `gone_series`: the series' edit/delete
    /// then holds the change, as when the page removes the series too (see the
    /// planner's `removed_with_series`). Outlook lists a deleted series' instances
    /// first and the series last, so a series with more instances than a page has
    /// its changed occurrence's removal a page or more before its own; settled on its
    /// own, that occurrence became a conflict (or, by a policy, an event) of its own,
    /// and the series made again had that day twice. Gone: removed on a later page of
    /// these, or, asked, no longer at the provider (an ask that fails for a while
    /// fails the pages, to be listed again; one that fails for good: none gone, as
    /// before).
    async fn series_gone_with(&self, pages: &mut [Fetched]) -> Result<(), Stop> {
        // What each page removes (a series only so: a cancelled series at Graph is
        // a cancelled meeting, not a removal) and cancels (an occurrence at Google).
        let mut removed: Vec<HashSet<&str>> = Vec::with_capacity(pages.len());
        let mut ended: Vec<Vec<&str>> = Vec::with_capacity(pages.len());
        for f in pages.iter() {
            let mut gone = HashSet::new();
            let mut all = Vec::new();
            for c in &f.page.changes {
                match c {
                    Change::Removed { remote_id } => {
                        gone.insert(remote_id.as_str());
                        all.push(remote_id.as_str());
                    }
                    Change::Upsert(ev) if ev.cancelled => all.push(ev.remote_id.as_str()),
                    Change::Upsert(_) => {}
                }
            }
            removed.push(gone);
            ended.push(all);
        }
        if ended.iter().all(Vec::is_empty) {
            return Ok(());
        }
        let ids: Vec<&str> = ended.iter().flatten().copied().collect();
        let changed: HashMap<String, String> = lock(self.store)
            .changed_occurrences(&self.cal.id, &ids)?
            .into_iter()
            .collect();
        if changed.is_empty() {
            return Ok(());
        }
        let removed_after = |i: usize, m: &str| removed[i + 1..].iter().any(|r| r.contains(m));
        // Per page, the series of its ended changed occurrences it does not remove.
        let mut wanted: Vec<BTreeSet<String>> = Vec::with_capacity(pages.len());
        let mut ask: BTreeSet<String> = BTreeSet::new();
        for (i, here) in ended.iter().enumerate() {
            let series: BTreeSet<String> = here
                .iter()
                .filter_map(|id| changed.get(*id))
                .filter(|m| !removed[i].contains(m.as_str()))
                .cloned()
                .collect();
            ask.extend(series.iter().filter(|m| !removed_after(i, m)).cloned());
            wanted.push(series);
        }
        // Fetched already this run (`prepare`), or asked now.
        let mut gone: BTreeSet<String> = BTreeSet::new();
        ask.retain(|m| match self.masters.get(m) {
            Some(found) => {
                if found.is_gone() {
                    gone.insert(m.clone());
                }
                false
            }
            None => true,
        });
        let ask: Vec<String> = ask.into_iter().collect();
        if !ask.is_empty() {
            match self.provider.events(self.remote, &ask).await {
                Ok(found) => gone.extend(
                    ask.into_iter()
                        .zip(found)
                        .filter(|(_, f)| f.is_gone())
                        .map(|(id, _)| id),
                ),
                // Not knowing would settle the occurrence on its own for good: a
                // passing failure fails the pages, listed again from their cursor.
                Err(e) if crate::push::passing(&e) => return Err(SyncError::from(e).into()),
                // One that will not pass (no access to it, say): as before, rather
                // than stop the calendar for good.
                Err(_) => {}
            }
        }
        let marks: Vec<Vec<String>> = wanted
            .into_iter()
            .enumerate()
            .map(|(i, series)| {
                series
                    .into_iter()
                    .filter(|m| gone.contains(m) || removed_after(i, m))
                    .collect()
            })
            .collect();
        for (f, series) in pages.iter_mut().zip(marks) {
            f.gone_series.extend(series);
        }
        Ok(())
    }

    /// Every version of the prepared pages in the store's form, with the series
    /// masters the store holds (`stored`) and those of the pages before (a master a
    /// page removes is gone for the pages after it). An event the store cannot keep is
    /// left out, to be logged with its page. Done before the pages' step, so that
    /// another calendar's pages can be stored meanwhile.
    fn normalise(&self, pages: &mut [Fetched], stored: Vec<MasterKey>) {
        let mut masters: HashMap<String, MasterInfo> = stored
            .into_iter()
            .filter_map(MasterInfo::from_key)
            .map(|m| (m.remote_id.clone(), m))
            .collect();
        for f in pages {
            let listed = std::mem::take(&mut f.page.changes);
            let mut removed = Vec::new();
            for c in listed {
                let ev = match c {
                    Change::Removed { ref remote_id } => {
                        removed.push(remote_id.clone());
                        f.page.changes.push(c);
                        continue;
                    }
                    Change::Upsert(ev) => ev,
                };
                let master = ev
                    .series
                    .as_ref()
                    .and_then(|l| masters.get(&l.master_id))
                    .cloned();
                let remote_id = ev.remote_id.clone();
                match normalise_owned(*ev, &self.cal.id, master.as_ref()) {
                    Ok(n) => {
                        if n.kind == RemoteKind::Master {
                            let info = MasterInfo::of_remote("", &n);
                            masters.insert(info.remote_id.clone(), info);
                        }
                        f.page.changes.push(Change::Upsert(Box::new(n)));
                    }
                    Err(why) => f.skipped.push((remote_id, why)),
                }
            }
            for id in removed {
                masters.remove(&id);
            }
        }
    }
}

/// The series `changes` hold, readable, that a pull left instances of out while they
/// could not be read (see the store's `left_out_series`).
fn series_read_again(
    tx: &SyncTx<'_, '_>,
    calendar_id: &str,
    changes: &[Change],
) -> Result<Vec<String>, SyncError> {
    let mut masters = changes.iter().filter_map(|c| match c {
        Change::Upsert(ev) if ev.kind == RemoteKind::Master => Some(ev.remote_id.as_str()),
        _ => None,
    });
    let Some(first) = masters.next() else {
        return Ok(Vec::new());
    };
    let left_out = tx.left_out_series(calendar_id)?;
    if left_out.is_empty() {
        return Ok(Vec::new());
    }
    Ok(std::iter::once(first)
        .chain(masters)
        .filter(|id| left_out.iter().any(|l| l == id))
        .map(str::to_owned)
        .collect())
}

/// A page fetched, waiting to be prepared and applied with the pages fetched with it.
struct Fetched {
    page: ChangePage,
    /// How many pages its round has had, this one included.
    round_pages: usize,
    starts: Starts,
    /// The ids it shows, if it is part of a full listing (sorted).
    listed: Vec<String>,
    window: Window,
    /// Series the provider no longer has: of the last page of a windowed full
    /// listing, those it did not show; of any page, those whose changed occurrence
    /// it removes without them (see `Puller::series_gone_with`).
    gone_series: BTreeSet<String>,
    /// Events the store cannot keep (remote id, why), left out by `normalise`.
    skipped: Vec<(String, String)>,
    /// Series unreadable and not held here whose instances `prepare` left out.
    unreadable_series: Vec<String>,
}

/// A round being pulled.
struct Round {
    /// Outbox entries of creates deleted here before their answer came, from before
    /// this run (a round begun after them that does not show them: never landed).
    tombstones: BTreeSet<i64>,
    /// The cursor and window the store holds now, so an unchanged cursor is not
    /// written again (a run that finds nothing new writes nothing: DESIGN §7).
    stored: (Option<String>, Option<(i64, i64)>),
    /// Pages fetched and not applied yet, and how many changes they hold.
    pending: Vec<Fetched>,
    pending_events: usize,
}

/// Pages fetched ahead are applied together up to about this many changes (Google's
/// page size): more would hold the store's write lock longer, for little.
const PENDING_EVENTS: usize = 2_500;

/// Whether the page asked for ahead has come; a request on its way is polled once,
/// not waited for.
async fn arrived(next: &mut Option<Ask<'_>>) -> bool {
    let polled = match next {
        None => return false,
        Some(Ask::Ready(_)) => return true,
        Some(Ask::Pending(f)) => {
            std::future::poll_fn(|cx| std::task::Poll::Ready(f.as_mut().poll(cx))).await
        }
    };
    match polled {
        std::task::Poll::Ready(r) => {
            *next = Some(Ask::Ready(r));
            true
        }
        std::task::Poll::Pending => false,
    }
}

/// What begins with a page: a round of the calendar's changes, a full listing.
#[derive(Clone, Copy)]
struct Starts {
    round: bool,
    listing: bool,
}

/// Splits a page's changes into those to apply first — each series master with the
/// changes of its id listed before it, so that an older version listed earlier (a
/// single event not yet made a series, say) never lands after the newer one — and the
/// rest, both in page order.
fn masters_first(listed: Vec<Change>) -> (Vec<Change>, Vec<Change>) {
    let mut last_master: HashMap<String, usize> = HashMap::new();
    for (i, c) in listed.iter().enumerate() {
        if matches!(c, Change::Upsert(ev) if ev.kind == RemoteKind::Master) {
            last_master.insert(change_id(c).to_owned(), i);
        }
    }
    let (mut first, mut rest) = (Vec::new(), Vec::new());
    for (i, c) in listed.into_iter().enumerate() {
        if last_master
            .get(change_id(&c))
            .is_some_and(|last| i <= *last)
        {
            first.push(c);
        } else {
            rest.push(c);
        }
    }
    (first, rest)
}

fn hold_of(trip: crate::plan::GuardTrip) -> CalendarHold {
    CalendarHold {
        would_delete: trip.would_delete,
        total: trip.total,
        confirmed: false,
    }
}

/// The series `page` lists with a cancelled day its base here lacks (as text: the
/// planner compares the days themselves).
fn newly_cancelling<'p>(page: &'p ChangePage, local: &Local) -> Vec<&'p str> {
    page.changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert(ev) if ev.kind == RemoteKind::Master => Some(ev),
            _ => None,
        })
        .filter(|ev| {
            let Some(now) = &ev.recurrence else {
                return false;
            };
            let known = local
                .index
                .by_remote_id(&ev.remote_id)
                .and_then(|e| e.base.as_ref())
                .and_then(|b| b.recurrence.as_ref());
            known.is_some_and(|was| now.exdates.iter().any(|d| !was.exdates.contains(d)))
        })
        .map(|ev| ev.remote_id.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::change_id;

    fn up(id: &str, kind: RemoteKind) -> Change {
        let mut ev = crate::plan::tests::ev(id, "e1");
        ev.kind = kind;
        Change::Upsert(Box::new(ev))
    }

    fn kinds(v: &[Change]) -> Vec<(String, Option<RemoteKind>)> {
        v.iter()
            .map(|c| {
                let kind = match c {
                    Change::Upsert(ev) => Some(ev.kind),
                    Change::Removed { .. } => None,
                };
                (change_id(c).to_owned(), kind)
            })
            .collect()
    }

    #[test]
    fn stored_cursors_read_with_the_pages_of_their_round() {
        let read = |c: Option<&str>| {
            let s = split_cursor(c);
            (s.cursor.map(str::to_owned), s.resumed, s.pages)
        };
        let some = |c: &str| Some(c.to_owned());
        let link = "https://graph.microsoft.com/v1.0/me/delta?$skiptoken=a:b";
        let counted = store_cursor(&Cursor::More(link.into()), 12);
        assert_eq!(read(Some(&counted)), (some(link), true, 12));
        // Stored before rounds were counted.
        assert_eq!(read(Some("more:abc")), (some("abc"), true, 0));
        let done = store_cursor(&Cursor::Done("tok".into()), 7);
        assert_eq!(read(Some(&done)), (some("tok"), false, 0));
        assert_eq!(read(Some("tok")), (some("tok"), false, 0));
        assert_eq!(read(None), (None, false, 0));
    }

    #[test]
    fn masters_go_first_with_what_was_listed_of_them_before() {
        let page = vec![
            up("a", RemoteKind::Exception),
            up("s", RemoteKind::Single), // the series before it was one
            up("b", RemoteKind::Single),
            up("s", RemoteKind::Master),
            up("m", RemoteKind::Master),
            Change::Removed {
                remote_id: "m".into(),
            }, // after the master: stays after it
        ];
        let (first, rest) = masters_first(page);
        assert_eq!(
            kinds(&first),
            vec![
                ("s".into(), Some(RemoteKind::Single)),
                ("s".into(), Some(RemoteKind::Master)),
                ("m".into(), Some(RemoteKind::Master)),
            ]
        );
        assert_eq!(
            kinds(&rest),
            vec![
                ("a".into(), Some(RemoteKind::Exception)),
                ("b".into(), Some(RemoteKind::Single)),
                ("m".into(), None),
            ]
        );
    }
}
