//! RFC 5545 recurrence expansion on top of the `rrule` crate.
//!
//! The rule is expanded in *floating* wall-clock time (the wall times are fed to `rrule`
//! as if they were UTC) and each wall time is then resolved to an instant by
//! [`crate::time::resolve`]. That keeps "09:00 every Monday" at 09:00 across DST and
//! makes the gap/fold rules explicit instead of whatever the expander does.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, NWeekday, RRule, RRuleSet, Unvalidated};

use crate::time::{resolve, to_local};
use crate::ValidationError;

/// A series may produce at most this many instances in any year: more would make
/// queries unbounded in practice (a `FREQ=MINUTELY` rule has 525,600).
pub const MAX_PER_YEAR: usize = 1_000;

/// Hard cap on rule iterations in one expansion, whatever the window.
const MAX_ITERATIONS: usize = 200_000;

/// A series must reach this year within [`MAX_ITERATIONS`] (the expansion walks from
/// its first instance): a daily one from the year 1400 cannot list this year's
/// occurrences, and once stored it failed every listing of every calendar. A fixed
/// year, not today: validation reads no clock.
const MUST_REACH_YEAR: i32 = 2100;

/// How far past an UNTIL in UTC, read as a wall time, the rule is expanded before
/// each instance is compared with UNTIL as the instant it is: at a fold a wall time
/// later than UNTIL's own may start before it (02:30 on the night Berlin's clocks go
/// back starts before 01:00Z, which reads as 02:00). A fold is at most a day.
const UNTIL_SLACK: Duration = Duration::hours(26);

/// What is needed to expand a series.
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    /// Wall time of the first instance (all-day: the date at 00:00).
    pub start: NaiveDateTime,
    /// Zone of the wall times (all-day series are floating: pass UTC).
    pub tz: Tz,
    pub all_day: bool,
    /// Exact length of each instance (all-day: whole days).
    pub duration: Duration,
    /// RRULE value without the `RRULE:` prefix, as the user wrote it.
    pub rrule: String,
    /// Wall times removed from the set.
    pub exdates: Vec<NaiveDateTime>,
    /// Wall times added to the set.
    pub rdates: Vec<NaiveDateTime>,
    /// The first instance's exact start when its wall time is the second of two (a DST
    /// fold's second pass): the wall time alone reads as the first, an hour early.
    pub first: Option<DateTime<Utc>>,
}

/// One expanded instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    /// Wall time of the instance: the key of exceptions and EXDATEs.
    pub original: NaiveDateTime,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpandError {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("the repeat rule produced more than {0} instances in the requested range")]
    TooMany(usize),
}

impl SeriesSpec {
    /// Checks the rule parses, is one RFC 5545 allows, and stays within
    /// [`MAX_PER_YEAR`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.as_written()?;
        let set = self.rule_set()?;
        let first = Utc.from_utc_datetime(&self.start);
        let horizon = first + Duration::days(366);
        let mut count = 0usize;
        let mut beyond = false;
        for dt in &set {
            if dt.with_timezone(&Utc) >= horizon {
                beyond = true;
                break;
            }
            count += 1;
            if count > MAX_PER_YEAR {
                return Err(ValidationError::UnboundedRecurrence {
                    rule: self.rrule.clone(),
                    count,
                    max: MAX_PER_YEAR,
                });
            }
        }
        // A rule without an end whose walk ran out with nothing made (30 February,
        // the 29th of a February no year of it has) makes no occurrence ever: each
        // listing would walk it out again (a second or so apiece), for the start alone.
        if count == 0 && !beyond && !self.ends() {
            return Err(ValidationError::BadRecurrence {
                rule: self.rrule.clone(),
                reason: "no date matches all its parts (such as 30 February), so it makes \
                         no occurrence"
                    .to_owned(),
            });
        }
        self.reaches_the_years_ahead(&set, count)
    }

    /// Whether the rule ends by itself (COUNT or UNTIL).
    pub fn ends(&self) -> bool {
        let body = self.rrule.trim().to_ascii_uppercase();
        body.trim_start_matches("RRULE:")
            .split(';')
            .any(|p| p.trim().starts_with("COUNT=") || p.trim().starts_with("UNTIL="))
    }

    /// Refuses what RFC 5545 does not allow in a rule and the expander would read as
    /// something else: INTERVAL=0 and COUNT=0 as a series of one, BYMONTHDAY=0 as no
    /// such part, a numbered weekday in a DAILY or WEEKLY rule (`BYDAY=5MO`) as every
    /// day. Checked on rules given (validation), not on stored ones, which expand as
    /// they always did.
    fn as_written(&self) -> Result<(), ValidationError> {
        let floating = floating_rule(&self.rrule, self.tz, self.all_day)?;
        let bad = |reason: &str| ValidationError::BadRecurrence {
            rule: self.rrule.clone(),
            reason: reason.to_owned(),
        };
        let rule: RRule<Unvalidated> = floating
            .parse()
            .map_err(|e: rrule::RRuleError| bad(&e.to_string()))?;
        if rule.get_interval() == 0 {
            return Err(bad("its INTERVAL is 0; it must be 1 or more"));
        }
        if rule.get_count() == Some(0) {
            return Err(bad("its COUNT is 0; it must be 1 or more"));
        }
        if rule.get_by_month_day().contains(&0) {
            return Err(bad("BYMONTHDAY=0 names no day of the month"));
        }
        let numbered = (rule.get_by_weekday().iter()).any(|d| matches!(d, NWeekday::Nth(..)));
        if numbered && !matches!(rule.get_freq(), Frequency::Monthly | Frequency::Yearly) {
            return Err(bad(
                "a numbered weekday (BYDAY=1MO, -1FR) needs FREQ=MONTHLY or FREQ=YEARLY",
            ));
        }
        Ok(())
    }

    /// Whether expanding the series from its start reaches [`MUST_REACH_YEAR`] (or its
    /// end) within [`MAX_ITERATIONS`]. `first_year` instances in its first year bound
    /// each later year's (a rule repeats in periods of a year at most), so most
    /// series need no walk; one that might is walked, at most that far.
    fn reaches_the_years_ahead(
        &self,
        set: &RRuleSet,
        first_year: usize,
    ) -> Result<(), ValidationError> {
        let Some(reach) = chrono::NaiveDate::from_ymd_opt(MUST_REACH_YEAR, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
        else {
            return Ok(());
        };
        let years = usize::try_from(reach.year() - self.start.year()).unwrap_or(0);
        if first_year.max(1).saturating_mul(years + 1) <= MAX_ITERATIONS {
            return Ok(());
        }
        for (i, dt) in set.into_iter().enumerate() {
            if dt.naive_utc() >= reach {
                return Ok(());
            }
            if i >= MAX_ITERATIONS {
                return Err(ValidationError::TooFarToList {
                    rule: self.rrule.clone(),
                    start: self.start.date().to_string(),
                    steps: MAX_ITERATIONS,
                });
            }
        }
        Ok(())
    }

    /// Instances that overlap `[from, to)`, in start order, at most `max`.
    pub fn expand(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<Instance>, ExpandError> {
        let set = self.rule_set()?;
        let until = self.until();
        // Wall times differ from instants by at most ±26 h; widen by a day each side
        // plus the instance length, then filter on exact instants.
        let lo = (from - self.duration.max(Duration::zero()) - Duration::days(2)).naive_utc();
        let hi = (to + Duration::days(2)).naive_utc();
        let exdates: BTreeSet<NaiveDateTime> = self.exdates.iter().copied().collect();
        let mut walls: BTreeSet<NaiveDateTime> = BTreeSet::new();
        // DTSTART is always the first instance (Google and Outlook agree), even when
        // the rule alone would not produce it.
        walls.insert(self.start);
        walls.extend(self.rdates.iter().copied());
        for (i, dt) in (&set).into_iter().enumerate() {
            if i >= MAX_ITERATIONS {
                return Err(ExpandError::TooMany(MAX_ITERATIONS));
            }
            let wall = dt.naive_utc();
            if wall > hi {
                break;
            }
            if wall >= lo && until.is_none_or(|u| self.instant(wall) <= u) {
                walls.insert(wall);
                if walls.len() > max.saturating_add(self.rdates.len() + 1) {
                    return Err(ExpandError::TooMany(max));
                }
            }
        }
        let mut out = Vec::new();
        for wall in walls {
            if wall < lo || wall > hi || exdates.contains(&wall) {
                continue;
            }
            let start = match self.first {
                Some(first) if wall == self.start => first,
                _ => self.instant(wall),
            };
            let end = start + self.duration;
            if start < to && (end > from || (start == end && start >= from)) {
                if out.len() >= max {
                    return Err(ExpandError::TooMany(max));
                }
                out.push(Instance {
                    original: wall,
                    start,
                    end,
                });
            }
        }
        Ok(out)
    }

    /// Whether the series has an occurrence at `wall` (its EXDATEs aside): its start,
    /// an added date, or one its rule makes. False for a rule that does not parse.
    pub fn produces(&self, wall: NaiveDateTime) -> bool {
        if wall == self.start || self.rdates.contains(&wall) {
            return true;
        }
        let Ok(set) = self.rule_set() else {
            return false;
        };
        for (i, dt) in (&set).into_iter().enumerate() {
            let at = dt.naive_utc();
            if at >= wall || i >= MAX_ITERATIONS {
                return at == wall && self.until().is_none_or(|u| self.instant(wall) <= u);
            }
        }
        false
    }

    /// The rule's UNTIL as the instant it names, for a timed series whose UNTIL is in
    /// UTC (see [`UNTIL_SLACK`]); a floating or date UNTIL is a wall time already.
    fn until(&self) -> Option<DateTime<Utc>> {
        if self.all_day {
            return None;
        }
        let body = self.rrule.trim().to_ascii_uppercase();
        let value = body
            .split(';')
            .find_map(|p| p.trim_start_matches("RRULE:").strip_prefix("UNTIL="))?;
        let utc = value.strip_suffix('Z')?;
        NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .ok()
            .map(|t| Utc.from_utc_datetime(&t))
    }

    fn instant(&self, wall: NaiveDateTime) -> DateTime<Utc> {
        if self.all_day {
            Utc.from_utc_datetime(&wall)
        } else {
            resolve(wall, self.tz).instant()
        }
    }

    fn rule_set(&self) -> Result<RRuleSet, ValidationError> {
        let floating = floating_rule(&self.rrule, self.tz, self.all_day)?;
        let bad = |reason: String| ValidationError::BadRecurrence {
            rule: self.rrule.clone(),
            reason,
        };
        let rule: RRule<Unvalidated> = floating
            .parse()
            .map_err(|e: rrule::RRuleError| bad(e.to_string()))?;
        if self.until().is_some_and(|u| u < self.instant(self.start)) {
            return Err(bad("it ends (UNTIL) before the event starts".into()));
        }
        let start = rrule::Tz::UTC.from_utc_datetime(&self.start);
        let count = rule.get_count();
        let build = |rule: RRule<Unvalidated>| {
            rule.build(start).map_err(|e| match e {
                rrule::RRuleError::ValidationError(rrule::ValidationError::UntilBeforeStart {
                    ..
                }) => bad("it ends (UNTIL) before the event starts".into()),
                e => bad(e.to_string()),
            })
        };
        let set = build(rule.clone())?.limit();
        // DTSTART counts as the first of COUNT occurrences also where the rule would
        // not make it (RFC 5545 §3.3.10; `expand` adds it): the rule then makes one
        // fewer — "Mondays, 3 times" from a Tuesday is that Tuesday and two Mondays.
        match count {
            Some(n) if (&set).into_iter().next().map(|t| t.naive_utc()) != Some(self.start) => {
                if n <= 1 {
                    Ok(RRuleSet::new(start).limit())
                } else {
                    Ok(build(rule.count(n - 1))?.limit())
                }
            }
            _ => Ok(set),
        }
    }
}

/// Rewrites the user's rule for floating expansion: `UNTIL` becomes a wall time in the
/// event's zone written with `Z` (one in UTC [`UNTIL_SLACK`] later, compared as an
/// instant after expansion). Also the first line of defence against hostile input:
/// one line, RRULE grammar characters only.
fn floating_rule(rule: &str, tz: Tz, all_day: bool) -> Result<String, ValidationError> {
    let bad = |reason: &str| ValidationError::BadRecurrence {
        rule: rule.to_owned(),
        reason: reason.to_owned(),
    };
    let body = rule.trim();
    let body = body
        .strip_prefix("RRULE:")
        .or_else(|| body.strip_prefix("rrule:"))
        .unwrap_or(body)
        .to_ascii_uppercase();
    if body.is_empty() {
        return Err(bad("it is empty"));
    }
    if body.len() > 500 {
        return Err(bad("it is longer than 500 characters"));
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | ';' | ',' | '+' | '-'))
    {
        return Err(bad("it may contain only letters, digits and = ; , + -"));
    }
    let mut parts = Vec::new();
    for part in body.split(';').filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(bad("every part must look like KEY=VALUE"));
        };
        if key == "DTSTART" {
            return Err(bad("DTSTART belongs to the event, not the rule"));
        }
        if key == "UNTIL" {
            let mut wall = parse_until(value, tz, all_day).ok_or_else(|| {
                bad("UNTIL must be YYYYMMDD, YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSSZ")
            })?;
            if value.ends_with('Z') && !all_day {
                wall += UNTIL_SLACK;
            }
            parts.push(format!("UNTIL={}Z", wall.format("%Y%m%dT%H%M%S")));
        } else {
            parts.push(part.to_owned());
        }
    }
    Ok(parts.join(";"))
}

/// UNTIL as a wall time in `tz`. Its years are checked as written (see
/// [`crate::time::in_years`]), before any conversion, which may cross into the year
/// 10000 (and stays far inside chrono's range).
fn parse_until(value: &str, tz: Tz, all_day: bool) -> Option<NaiveDateTime> {
    let written = |t: &NaiveDateTime| crate::time::in_years(t.date());
    if let Some(utc) = value.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S")
            .ok()
            .filter(written)?;
        if all_day {
            return Some(t);
        }
        return Some(to_local(Utc.from_utc_datetime(&t), tz));
    }
    if let Some(t) = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
        .ok()
        .filter(written)
    {
        return Some(t);
    }
    // A date UNTIL includes that whole day.
    chrono::NaiveDate::parse_from_str(value, "%Y%m%d")
        .ok()
        .filter(|d| crate::time::in_years(*d))?
        .and_hms_opt(23, 59, 59)
}

#[cfg(test)]
mod tests;
