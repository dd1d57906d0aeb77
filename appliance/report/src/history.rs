//! History: calls by local date and campaign over a half-open period.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::format::local;
use crate::model::{CallRow, in_period};
use crate::totals::Totals;

/// One day's calls of one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRow {
    /// The date in the zone the history was asked for (a call belongs to the day
    /// it started on there).
    pub date: NaiveDate,
    pub campaign_id: Option<i64>,
    pub totals: Totals,
}

/// A fold that buckets calls by local date and campaign. A call counts iff
/// `from <= started_at < to`; every call in the period lands in exactly one
/// bucket, so the buckets sum to the period's totals.
#[derive(Debug, Clone)]
pub struct DailyHistory {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
    buckets: BTreeMap<(NaiveDate, Option<i64>), Totals>,
}

impl DailyHistory {
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, zone: Tz) -> DailyHistory {
        DailyHistory {
            from,
            to,
            zone,
            buckets: BTreeMap::new(),
        }
    }

    /// Adds a call; returns whether it is in the period (and so was counted).
    pub fn add(&mut self, row: &CallRow) -> bool {
        if !in_period(Some(self.from), Some(self.to), row.started_at) {
            return false;
        }
        let date = local(row.started_at, self.zone).date();
        self.buckets
            .entry((date, row.campaign_id))
            .or_default()
            .add(row);
        true
    }

    /// The totals over the whole period (the merge of every bucket).
    pub fn total(&self) -> Totals {
        Totals::merged(self.buckets.values())
    }

    /// The days that had calls, by date and then campaign (no campaign first).
    pub fn finish(self) -> Vec<DayRow> {
        self.buckets
            .into_iter()
            .map(|((date, campaign_id), totals)| DayRow {
                date,
                campaign_id,
                totals,
            })
            .collect()
    }
}

/// The calls of `rows` that started in `[from, to)`, by date in `zone` and by
/// campaign. Days without calls are left out.
pub fn history<R: Borrow<CallRow>>(
    rows: impl IntoIterator<Item = R>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Tz,
) -> Vec<DayRow> {
    let mut history = DailyHistory::new(from, to, zone);
    for row in rows {
        history.add(row.borrow());
    }
    history.finish()
}

/// One slice of a [`Timeline`]: the calls that started in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slice {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub totals: Totals,
}

/// A fold that cuts a half-open period into equal slices of `step` (the last
/// one shorter when `step` does not divide the period) and counts each call in
/// the slice it started in. Unlike [`DailyHistory`] it keeps empty slices — a
/// chart needs every one — and does not split by campaign. Every call in the
/// period lands in exactly one slice, so the slices sum to the period's totals.
#[derive(Debug, Clone)]
pub struct Timeline {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: TimeDelta,
    slices: Vec<Totals>,
}

impl Timeline {
    /// The most slices a timeline holds; a longer period or a shorter step is
    /// refused with [`None`].
    pub const MAX_SLICES: i64 = 10_000;

    /// `None` when `step` is not positive or the period would need more than
    /// [`Timeline::MAX_SLICES`] slices. An empty or backwards period has none.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>, step: TimeDelta) -> Option<Timeline> {
        let step_ms = step.num_milliseconds();
        if step_ms <= 0 {
            return None;
        }
        let span_ms = (to - from).num_milliseconds().max(0);
        let count = span_ms / step_ms + i64::from(span_ms % step_ms != 0);
        if count > Self::MAX_SLICES {
            return None;
        }
        Some(Timeline {
            from,
            to,
            step,
            slices: vec![Totals::default(); count as usize],
        })
    }

    /// The half-open period `[from, to)` it covers.
    pub fn period(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.from, self.to)
    }

    /// Adds a call; returns whether it is in the period (and so was counted).
    pub fn add(&mut self, row: &CallRow) -> bool {
        if !in_period(Some(self.from), Some(self.to), row.started_at) {
            return false;
        }
        let index = (row.started_at - self.from).num_milliseconds() / self.step.num_milliseconds();
        match self.slices.get_mut(index as usize) {
            Some(slice) => {
                slice.add(row);
                true
            }
            None => false,
        }
    }

    /// The totals over the whole period (the merge of every slice).
    pub fn total(&self) -> Totals {
        Totals::merged(&self.slices)
    }

    /// Every slice in order, empty ones included.
    pub fn finish(self) -> Vec<Slice> {
        let (from, to, step) = (self.from, self.to, self.step);
        self.slices
            .into_iter()
            .enumerate()
            .map(|(i, totals)| {
                // Inside the period, so before `to`: no overflow.
                let start = from + step * i as i32;
                let end = start.checked_add_signed(step).map_or(to, |end| end.min(to));
                Slice { start, end, totals }
            })
            .collect()
    }
}
