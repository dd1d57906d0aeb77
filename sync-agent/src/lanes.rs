//! What has been delivered, as ranges of positions: the bookkeeping behind "a
//! position moves past something only once it was acknowledged".
//!
//! A [`Lane`] follows one stream of numbered items (feed positions of records,
//! history ids of opt-outs) over one link. It holds the ranges the far end
//! acknowledged (persisted) and the ranges sent but not yet acknowledged (in memory
//! only: after a restart or a lost connection they are simply sent again). Its
//! guarantee: a position counts as delivered only after [`Lane::acked`] was called
//! for a range that contains it — never because something after it was — so
//! acknowledgements arriving in any order never skip an item. Gaps are found
//! oldest first from any starting point, which is how live items go before the
//! backlog. Pure: no I/O, no clock.

use serde::{Deserialize, Serialize};

/// Disjoint, sorted, inclusive ranges, merged when they touch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ranges(Vec<(i64, i64)>);

impl Ranges {
    pub fn insert(&mut self, first: i64, last: i64) {
        if first > last {
            return;
        }
        let (mut lo, mut hi) = (first, last);
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b.saturating_add(1) < lo || hi.saturating_add(1) < a {
                kept.push((a, b));
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        kept.push((lo, hi));
        kept.sort_unstable();
        self.0 = kept;
    }

    pub fn remove(&mut self, first: i64, last: i64) {
        if first > last {
            return;
        }
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(a, b) in &self.0 {
            if b < first || last < a {
                kept.push((a, b));
                continue;
            }
            if a < first {
                kept.push((a, first - 1));
            }
            if last < b {
                kept.push((last + 1, b));
            }
        }
        self.0 = kept;
    }

    pub fn contains(&self, n: i64) -> bool {
        self.0.iter().any(|&(a, b)| a <= n && n <= b)
    }

    /// The first position ≥ `from` that is not in a range.
    pub fn first_gap_from(&self, from: i64) -> i64 {
        let mut n = from;
        for &(a, b) in &self.0 {
            if a <= n && n <= b {
                n = b + 1;
            }
        }
        n
    }

    /// The first range starting after `n`, if any.
    fn next_start_after(&self, n: i64) -> Option<i64> {
        self.0.iter().map(|&(a, _)| a).find(|&a| a > n)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One stream over one link: acknowledged (persisted by the caller) and in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lane {
    /// Everything at or below `floor` is done (where the stream started).
    pub floor: i64,
    acked: Ranges,
    #[serde(skip)]
    inflight: Ranges,
}

impl Lane {
    pub fn starting_after(floor: i64) -> Lane {
        Lane {
            floor,
            ..Lane::default()
        }
    }

    /// The highest position such that it and everything before it are acknowledged.
    pub fn done_through(&self) -> i64 {
        self.acked.first_gap_from(self.floor + 1) - 1
    }

    /// The next range to send within `from..=head` (positions that are neither
    /// acknowledged nor in flight), as `(first, last)`: `last` is the end of that
    /// gap, capped at `head`. The caller sends the items in it (or a prefix of
    /// them) and calls [`Lane::sent`] with what it sent.
    pub fn next_gap(&self, from: i64, head: i64) -> Option<(i64, i64)> {
        let mut n = from.max(self.floor + 1);
        loop {
            if n > head {
                return None;
            }
            let after_acked = self.acked.first_gap_from(n);
            let after_inflight = self.inflight.first_gap_from(after_acked);
            if after_inflight == n {
                break;
            }
            n = after_inflight;
        }
        let next_taken = [
            self.acked.next_start_after(n),
            self.inflight.next_start_after(n),
        ]
        .into_iter()
        .flatten()
        .min();
        let last = next_taken.map_or(head, |t| (t - 1).min(head));
        Some((n, last))
    }

    pub fn sent(&mut self, first: i64, last: i64) {
        self.inflight.insert(first, last);
    }

    /// The far end acknowledged `first..=last`.
    pub fn acked(&mut self, first: i64, last: i64) {
        self.inflight.remove(first, last);
        self.acked.insert(first, last);
        // Keep the persisted form small: what is contiguous with the floor moves it.
        let done = self.done_through();
        if done > self.floor {
            self.acked.remove(i64::MIN, done);
            self.floor = done;
        }
    }

    /// The connection was lost: whatever was in flight is sent again.
    pub fn lost(&mut self) {
        self.inflight = Ranges::default();
    }

    /// Positions acknowledged out of order, above the floor (for status).
    pub fn islands(&self) -> usize {
        self.acked.len()
    }

    pub fn in_flight(&self) -> bool {
        !self.inflight.is_empty()
    }

    pub fn is_acked(&self, n: i64) -> bool {
        n <= self.floor || self.acked.contains(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn live_first_then_backlog() {
        let mut lane = Lane::starting_after(0);
        // 1..=100 waiting; live starts at 90.
        assert_eq!(lane.next_gap(91, 100), Some((91, 100)));
        lane.sent(91, 100);
        assert_eq!(lane.next_gap(91, 100), None);
        assert_eq!(lane.next_gap(1, 100), Some((1, 90)));
        lane.sent(1, 40);
        lane.acked(91, 100);
        assert_eq!(lane.done_through(), 0);
        lane.acked(1, 40);
        assert_eq!(lane.done_through(), 40);
        assert_eq!(lane.next_gap(1, 100), Some((41, 90)));
        lane.lost();
        assert_eq!(lane.next_gap(1, 100), Some((41, 90)));
        lane.acked(41, 90);
        assert_eq!(lane.done_through(), 100);
        assert_eq!(lane.islands(), 0);
    }

    proptest! {
        /// The outbox never counts as delivered what was not acknowledged: whatever
        /// order acknowledgements come in, lost connections included, `done_through`
        /// is exactly the longest acknowledged prefix, and `next_gap` offers every
        /// unacknowledged position again after a loss.
        #[test]
        fn done_is_exactly_the_acknowledged_prefix(
            steps in proptest::collection::vec((0u8..4, 1i64..60, 0i64..8), 1..80)
        ) {
            let head = 60;
            let mut lane = Lane::starting_after(0);
            let mut acked = std::collections::BTreeSet::new();
            let mut sent: Vec<(i64, i64)> = Vec::new();
            for (kind, at, len) in steps {
                match kind {
                    0 | 1 => {
                        if let Some((a, b)) = lane.next_gap(at, head) {
                            let b = b.min(a + len);
                            lane.sent(a, b);
                            sent.push((a, b));
                        }
                    }
                    2 => {
                        if !sent.is_empty() {
                            let (a, b) = sent.remove(at as usize % sent.len());
                            lane.acked(a, b);
                            acked.extend(a..=b);
                        }
                    }
                    _ => {
                        lane.lost();
                        sent.clear();
                    }
                }
                let mut prefix = 0;
                while acked.contains(&(prefix + 1)) {
                    prefix += 1;
                }
                prop_assert_eq!(lane.done_through(), prefix);
                for n in 1..=head {
                    prop_assert_eq!(lane.is_acked(n), acked.contains(&n));
                }
            }
            lane.lost();
            let mut offered = std::collections::BTreeSet::new();
            let mut from = 1;
            while let Some((a, b)) = lane.next_gap(from, head) {
                offered.extend(a..=b);
                from = b + 1;
            }
            let missing: std::collections::BTreeSet<i64> =
                (1..=head).filter(|n| !acked.contains(n)).collect();
            prop_assert_eq!(offered, missing);
        }
    }
}
