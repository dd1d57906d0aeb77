//! History: calls by local date and campaign over a half-open period.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
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
