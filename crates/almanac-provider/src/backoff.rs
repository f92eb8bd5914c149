//! When to retry and how long to wait: exponential backoff with full jitter, capped,
//! and the server's `Retry-After` when it gives one. Pure, so it is table-tested.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Upper bound of the first wait; doubles per attempt.
    pub base: Duration,
    /// No computed wait exceeds this.
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited out in-line: the request fails
    /// as throttled and the caller (the sync scheduler) comes back later.
    pub max_retry_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    GiveUp,
}

impl Backoff {
    /// After failed attempt number `attempt` (1-based) of a retryable failure: wait
    /// and retry, or give up. `retry_after` is the server's hint; `jitter` is a
    /// uniform sample in [0, 1) (full jitter: spreads clients that failed together).
    pub fn decide(
        &self,
        attempt: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> RetryDecision {
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        if let Some(hint) = retry_after {
            return if hint > self.max_retry_after {
                RetryDecision::GiveUp
            } else {
                RetryDecision::RetryAfter(hint)
            };
        }
        let exp = self
            .base
            .saturating_mul(
                1u32.checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.cap);
        RetryDecision::RetryAfter(exp.mul_f64(jitter.clamp(0.0, 1.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_with_full_jitter_and_a_cap() {
        let b = Backoff::default();
        let wait = |attempt, jitter| match b.decide(attempt, None, jitter) {
            RetryDecision::RetryAfter(d) => d,
            RetryDecision::GiveUp => panic!("gave up at {attempt}"),
        };
        assert_eq!(
            wait(1, 0.999_999),
            Duration::from_millis(500).mul_f64(0.999_999)
        );
        assert_eq!(wait(2, 0.5), Duration::from_millis(500));
        assert_eq!(wait(3, 0.5), Duration::from_secs(1));
        assert_eq!(wait(4, 0.0), Duration::ZERO);
        let many = Backoff {
            max_attempts: 100,
            ..b
        };
        assert_eq!(many.decide(60, None, 1.0), RetryDecision::RetryAfter(b.cap));
        assert_eq!(b.decide(5, None, 0.5), RetryDecision::GiveUp);
    }

    #[test]
    fn retry_after_wins_unless_it_is_too_long() {
        let b = Backoff::default();
        assert_eq!(
            b.decide(1, Some(Duration::from_secs(7)), 0.1),
            RetryDecision::RetryAfter(Duration::from_secs(7))
        );
        assert_eq!(
            b.decide(1, Some(Duration::from_secs(3600)), 0.1),
            RetryDecision::GiveUp
        );
        assert_eq!(
            b.decide(5, Some(Duration::from_secs(1)), 0.1),
            RetryDecision::GiveUp
        );
    }
}
