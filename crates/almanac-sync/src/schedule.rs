//! When each account syncs next (DESIGN §4 "Scheduler"): the interval with jitter
//! (shorter while the window has focus), exponential backoff with a cap after
//! failures, `Retry-After` honoured, a slow probe while offline, nothing while sign-in
//! is needed. Pure — the loop in [`crate::scheduler`] passes the clock and the random
//! sample in — so the timing rules are table-tested.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduleOptions {
    /// Between runs of a healthy account (default 2 minutes)…
    pub interval: Duration,
    /// …and while the window has focus (default 30 s).
    pub focused_interval: Duration,
    /// ± this share of the interval, so accounts (and machines) do not sync in step.
    pub jitter: f64,
    /// The first wait after a failure; doubles per failure in a row…
    pub backoff_base: Duration,
    /// …up to this.
    pub backoff_cap: Duration,
    /// How often to try while the network is down (no error shown meanwhile).
    pub offline_probe: Duration,
    /// A local edit is pushed this long after it (the edits made meanwhile go
    /// with it).
    pub edit_debounce: Duration,
    /// The loop begins paused: the desktop app keeps the user's Pause across a
    /// restart (a Pause sent after the start would come after the first runs).
    pub start_paused: bool,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(120),
            focused_interval: Duration::from_secs(30),
            jitter: 0.1,
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(30 * 60),
            offline_probe: Duration::from_secs(60),
            edit_debounce: Duration::from_secs(2),
            start_paused: false,
        }
    }
}

/// How a run ended, as far as timing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    Ok,
    /// The network is down: probe slowly, say nothing.
    Offline,
    /// Sign-in needed: no runs until the user reconnects (or asks for one).
    ActionRequired,
    /// Anything else (throttled, provider down, partial): back off.
    Failed {
        retry_after: Option<Duration>,
    },
}

/// One account's place in the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountClock {
    pub next_at: DateTime<Utc>,
    /// Failed runs in a row.
    pub failures: u32,
    pub offline: bool,
    pub action_required: bool,
    /// The end of the wait a provider asked for (`Retry-After`): nothing brings a
    /// run of this account before it but the user asking for one.
    pub not_before: Option<DateTime<Utc>>,
}

impl AccountClock {
    /// A new account: due now.
    pub fn due(now: DateTime<Utc>) -> Self {
        Self {
            next_at: now,
            failures: 0,
            offline: false,
            action_required: false,
            not_before: None,
        }
    }

    /// Due at `now` (the network or the machine came back) — not before the wait a
    /// provider asked for, and not at all while sign-in is needed.
    pub fn brought_forward(self, now: DateTime<Utc>) -> Self {
        if self.action_required {
            return self;
        }
        let at = self.not_before.map_or(now, |t| t.max(now));
        Self {
            next_at: self.next_at.min(at),
            ..self
        }
    }
}

/// The longest `Retry-After` obeyed: a provider's (or a proxy's) hint of years would
/// silence the account for good, and past chrono's range it would not even compute.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// The account's clock after a run that ended with `result` at `now`. `sample` is
/// uniform in [0, 1).
pub fn after_run(
    prev: AccountClock,
    result: RunResult,
    now: DateTime<Utc>,
    focused: bool,
    opts: &ScheduleOptions,
    sample: f64,
) -> AccountClock {
    let sample = sample.clamp(0.0, 1.0);
    match result {
        RunResult::Ok => {
            let base = if focused {
                opts.focused_interval
            } else {
                opts.interval
            };
            // Spread over [1 - jitter, 1 + jitter) of the interval.
            let factor = 1.0 + opts.jitter * (2.0 * sample - 1.0);
            AccountClock {
                next_at: now + delta(base.mul_f64(factor.max(0.0))),
                failures: 0,
                offline: false,
                action_required: false,
                not_before: None,
            }
        }
        RunResult::Offline => {
            // Nothing reached the provider: a wait it asked for before still holds.
            let not_before = prev.not_before.filter(|t| *t > now);
            let probe = now + delta(opts.offline_probe);
            AccountClock {
                next_at: not_before.map_or(probe, |t| t.max(probe)),
                failures: prev.failures,
                offline: true,
                action_required: false,
                not_before,
            }
        }
        RunResult::ActionRequired => AccountClock {
            next_at: DateTime::<Utc>::MAX_UTC,
            failures: prev.failures.saturating_add(1),
            offline: false,
            action_required: true,
            not_before: None,
        },
        RunResult::Failed { retry_after } => {
            let failures = prev.failures.saturating_add(1);
            let exp = opts
                .backoff_base
                .saturating_mul(1u32.checked_shl(failures - 1).unwrap_or(u32::MAX))
                .min(opts.backoff_cap);
            // Between half and all of the backoff: spread, never shorter than half.
            let wait = exp.mul_f64(0.5 + 0.5 * sample);
            let asked = retry_after.map(|r| r.min(MAX_RETRY_AFTER));
            let wait = asked.map_or(wait, |r| wait.max(r));
            AccountClock {
                next_at: now + delta(wait),
                failures,
                offline: false,
                action_required: false,
                not_before: asked.map(|r| now + delta(r)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("time")
    }

    fn secs(c: &AccountClock) -> i64 {
        (c.next_at - t0()).num_seconds()
    }

    #[test]
    fn healthy_accounts_run_every_interval_with_jitter() {
        let o = ScheduleOptions::default();
        let low = after_run(AccountClock::due(t0()), RunResult::Ok, t0(), false, &o, 0.0);
        let mid = after_run(AccountClock::due(t0()), RunResult::Ok, t0(), false, &o, 0.5);
        let high = after_run(
            AccountClock::due(t0()),
            RunResult::Ok,
            t0(),
            false,
            &o,
            0.999,
        );
        assert_eq!(secs(&low), 108);
        assert_eq!(secs(&mid), 120);
        assert_eq!(secs(&high), 131);
        let focused = after_run(AccountClock::due(t0()), RunResult::Ok, t0(), true, &o, 0.5);
        assert_eq!(secs(&focused), 30);
    }

    #[test]
    fn failures_back_off_exponentially_up_to_the_cap_and_success_resets() {
        let o = ScheduleOptions::default();
        let mut c = AccountClock::due(t0());
        let mut waits = Vec::new();
        for _ in 0..8 {
            c = after_run(
                c,
                RunResult::Failed { retry_after: None },
                t0(),
                false,
                &o,
                0.999,
            );
            waits.push(secs(&c));
        }
        assert_eq!(waits[..4], [29, 59, 119, 239]);
        assert_eq!(*waits.last().expect("last"), 1799); // capped at 30 minutes
        assert_eq!(c.failures, 8);
        let half = after_run(
            AccountClock { failures: 0, ..c },
            RunResult::Failed { retry_after: None },
            t0(),
            false,
            &o,
            0.0,
        );
        assert_eq!(secs(&half), 15);
        let ok = after_run(c, RunResult::Ok, t0(), false, &o, 0.5);
        assert_eq!((ok.failures, secs(&ok)), (0, 120));
    }

    #[test]
    fn retry_after_is_honoured_when_longer_than_the_backoff() {
        let o = ScheduleOptions::default();
        let c = after_run(
            AccountClock::due(t0()),
            RunResult::Failed {
                retry_after: Some(Duration::from_secs(600)),
            },
            t0(),
            false,
            &o,
            0.0,
        );
        assert_eq!(secs(&c), 600);
    }

    #[test]
    fn a_comeback_brings_runs_forward_but_not_past_a_retry_after() {
        let o = ScheduleOptions::default();
        let at = |c: AccountClock| (c.next_at - t0()).num_seconds();
        let later = t0() + TimeDelta::seconds(100);
        // Backing off (no Retry-After): due at once.
        let backing_off = after_run(
            AccountClock::due(t0()),
            RunResult::Failed { retry_after: None },
            t0(),
            false,
            &o,
            0.5,
        );
        assert_eq!(at(backing_off.brought_forward(t0())), 0);
        // Asked to wait 600 s: not before then, also after going offline meanwhile.
        let throttled = after_run(
            AccountClock::due(t0()),
            RunResult::Failed {
                retry_after: Some(Duration::from_secs(600)),
            },
            t0(),
            false,
            &o,
            0.0,
        );
        assert_eq!(at(throttled.brought_forward(later)), 600);
        let offline = after_run(throttled, RunResult::Offline, later, false, &o, 0.0);
        assert_eq!(at(offline), 600);
        assert_eq!(at(offline.brought_forward(later)), 600);
        // Past the wait: due at once; a healthy account's next run too.
        let past = t0() + TimeDelta::seconds(700);
        assert!(throttled.brought_forward(past).next_at <= past);
        let ok = after_run(throttled, RunResult::Ok, later, false, &o, 0.5);
        assert_eq!((ok.not_before, at(ok.brought_forward(later))), (None, 100));
        // Needing sign-in: nothing brings it forward.
        let signed_out = after_run(ok, RunResult::ActionRequired, later, false, &o, 0.5);
        assert_eq!(
            signed_out.brought_forward(later).next_at,
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn an_absurd_retry_after_is_capped_not_a_panic() {
        let o = ScheduleOptions::default();
        let c = after_run(
            AccountClock::due(t0()),
            RunResult::Failed {
                retry_after: Some(Duration::from_secs(9_999_999_999_999)),
            },
            t0(),
            false,
            &o,
            0.0,
        );
        assert_eq!(secs(&c), 24 * 3600);
    }

    #[test]
    fn offline_probes_quietly_and_action_required_waits_for_the_user() {
        let o = ScheduleOptions::default();
        let off = after_run(
            AccountClock::due(t0()),
            RunResult::Offline,
            t0(),
            false,
            &o,
            0.3,
        );
        assert!(off.offline);
        assert_eq!(secs(&off), 60);
        let auth = after_run(
            AccountClock::due(t0()),
            RunResult::ActionRequired,
            t0(),
            false,
            &o,
            0.3,
        );
        assert!(auth.action_required);
        assert_eq!(auth.next_at, DateTime::<Utc>::MAX_UTC);
    }
}
