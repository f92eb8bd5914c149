//! How late a list page is answered: the benchmarks' stand-in for the network and the
//! server, for Google's `events.list` and Graph's `calendarView/delta` alike.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fixed part per page plus a part per item, as a real page's time grows with its
/// size. All zeros means no model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListLatency {
    #[serde(default)]
    pub page_ms: u64,
    #[serde(default)]
    pub per_item_us: u64,
}

impl ListLatency {
    /// Longest a page may be held (a model beyond it is refused).
    pub const MAX_PER_PAGE: Duration = Duration::from_secs(60);

    /// The delay of a page of `items` items.
    pub fn of(&self, items: usize) -> Duration {
        Duration::from_millis(self.page_ms)
            + Duration::from_micros(self.per_item_us.saturating_mul(items as u64))
    }

    /// `Some(model)`, `None` for all zeros (which removes a model), or an error when a
    /// page of `max_items` would be held over [`Self::MAX_PER_PAGE`].
    pub fn checked(self, max_items: usize) -> Result<Option<ListLatency>, String> {
        if self.of(max_items) > Self::MAX_PER_PAGE {
            return Err(format!(
                "list_latency must stay under {} s per page",
                Self::MAX_PER_PAGE.as_secs()
            ));
        }
        Ok((self != ListLatency::default()).then_some(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_takes_its_fixed_part_plus_its_items() {
        let l = ListLatency {
            page_ms: 300,
            per_item_us: 200,
        };
        assert_eq!(l.of(0), Duration::from_millis(300));
        assert_eq!(l.of(2500), Duration::from_millis(800));
        assert_eq!(l.checked(2500), Ok(Some(l)));
        assert_eq!(ListLatency::default().checked(2500), Ok(None));
        let slow = ListLatency {
            page_ms: 0,
            per_item_us: 30_000,
        };
        assert!(slow
            .checked(2500)
            .expect_err("a full page over a minute")
            .contains("under 60 s"));
        assert_eq!(slow.checked(1000), Ok(Some(slow)));
    }
}
