//! Exact totals: a fold over call records that can be merged, so per-campaign
//! figures and box-wide figures are the same arithmetic.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use shofar_vocab::{CallOutcome, Stored};

use crate::model::CallRow;

/// Counts over a set of call records. See the crate documentation for the
/// definitions; they are the product's.
///
/// `Totals` is a commutative monoid: `Totals::default()` is the empty set of
/// calls, `add` adds one record, `merge` adds another set, and the order of
/// adding and merging never changes the result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Every record.
    pub calls: u64,
    /// Records still in a call (no outcome yet).
    pub in_call: u64,
    /// Ended records by outcome; an unknown outcome is kept under its own name.
    /// Known outcomes come first, in their order, then unknown ones by name.
    pub by_outcome: BTreeMap<Stored<CallOutcome>, u64>,
    /// Ended records that were dialed: all of them except `blacklisted`.
    pub dialed: u64,
    /// Records that ended `answered`.
    pub answered: u64,
    /// Records that ended `voicemail`.
    pub voicemail: u64,
    /// Records flagged converted (whatever their outcome, also still in a call).
    pub converted: u64,
    /// Records flagged opted out (whatever their outcome, also still in a call).
    pub opted_out: u64,
    /// The sum of `talk_ms` (records without one add nothing).
    pub talk_ms: i64,
    /// The earliest `started_at`.
    pub first_call: Option<DateTime<Utc>>,
    /// The latest `started_at`.
    pub last_call: Option<DateTime<Utc>>,
}

/// The three rates, each `None` when its denominator is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub answer_rate: Option<f64>,
    pub conversion_rate: Option<f64>,
    pub opt_out_rate: Option<f64>,
}

/// An exact ratio of two counts, for comparing rates without rounding. Equal
/// fractions are equal (`1/2 == 2/4`).
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    pub numerator: u64,
    /// Never zero.
    pub denominator: u64,
}

impl Ratio {
    pub fn new(numerator: u64, denominator: u64) -> Option<Ratio> {
        (denominator != 0).then_some(Ratio {
            numerator,
            denominator,
        })
    }

    pub fn to_f64(self) -> f64 {
        self.numerator as f64 / self.denominator as f64
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Ratio) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Ratio) -> Ordering {
        // a/b against c/d is a·d against c·b; u64·u64 always fits in u128.
        let left = u128::from(self.numerator) * u128::from(other.denominator);
        let right = u128::from(other.numerator) * u128::from(self.denominator);
        left.cmp(&right)
    }
}

impl Totals {
    /// Totals over `rows`, in any order.
    pub fn from_rows<R: Borrow<CallRow>>(rows: impl IntoIterator<Item = R>) -> Totals {
        let mut totals = Totals::default();
        for row in rows {
            totals.add(row.borrow());
        }
        totals
    }

    /// Adds one record.
    pub fn add(&mut self, row: &CallRow) {
        self.calls = self.calls.saturating_add(1);
        match &row.outcome {
            None => self.in_call = self.in_call.saturating_add(1),
            Some(ended) => {
                let count = self.by_outcome.entry(ended.clone()).or_default();
                *count = count.saturating_add(1);
                // An unknown outcome was dialed: only the pre-dial check's refusal was not.
                if ended.known().is_none_or(CallOutcome::was_dialed) {
                    self.dialed = self.dialed.saturating_add(1);
                }
                if *ended == CallOutcome::Answered {
                    self.answered = self.answered.saturating_add(1);
                }
                if *ended == CallOutcome::Voicemail {
                    self.voicemail = self.voicemail.saturating_add(1);
                }
            }
        }
        if row.converted {
            self.converted = self.converted.saturating_add(1);
        }
        if row.opted_out {
            self.opted_out = self.opted_out.saturating_add(1);
        }
        if let Some(talk_ms) = row.talk_ms {
            self.talk_ms = self.talk_ms.saturating_add(talk_ms);
        }
        self.first_call = Some(
            self.first_call
                .map_or(row.started_at, |t| t.min(row.started_at)),
        );
        self.last_call = Some(
            self.last_call
                .map_or(row.started_at, |t| t.max(row.started_at)),
        );
    }

    /// Totals of ended records counted elsewhere (a database's `GROUP BY`): the
    /// counts per outcome, how many were flagged converted and opted out, their
    /// talk time and the first and last start. The derived figures (`dialed`,
    /// `answered`, `voicemail`) follow the same definitions as [`Totals::add`],
    /// so this equals adding the same records one by one.
    pub fn of_ended(
        by_outcome: BTreeMap<Stored<CallOutcome>, u64>,
        converted: u64,
        opted_out: u64,
        talk_ms: i64,
        first_call: Option<DateTime<Utc>>,
        last_call: Option<DateTime<Utc>>,
    ) -> Totals {
        let count = |outcome: CallOutcome| by_outcome.get(&outcome.into()).copied().unwrap_or(0);
        let calls = by_outcome
            .values()
            .fold(0u64, |sum, n| sum.saturating_add(*n));
        Totals {
            calls,
            in_call: 0,
            dialed: calls.saturating_sub(count(CallOutcome::Blacklisted)),
            answered: count(CallOutcome::Answered),
            voicemail: count(CallOutcome::Voicemail),
            by_outcome,
            converted,
            opted_out,
            talk_ms,
            first_call,
            last_call,
        }
    }

    /// Adds another set of records' totals (e.g. one campaign's to the box's).
    pub fn merge(&mut self, other: &Totals) {
        self.calls = self.calls.saturating_add(other.calls);
        self.in_call = self.in_call.saturating_add(other.in_call);
        for (name, count) in &other.by_outcome {
            let mine = self.by_outcome.entry(name.clone()).or_default();
            *mine = mine.saturating_add(*count);
        }
        self.dialed = self.dialed.saturating_add(other.dialed);
        self.answered = self.answered.saturating_add(other.answered);
        self.voicemail = self.voicemail.saturating_add(other.voicemail);
        self.converted = self.converted.saturating_add(other.converted);
        self.opted_out = self.opted_out.saturating_add(other.opted_out);
        self.talk_ms = self.talk_ms.saturating_add(other.talk_ms);
        self.first_call = earliest(self.first_call, other.first_call);
        self.last_call = latest(self.last_call, other.last_call);
    }

    /// The merge of several totals (e.g. every campaign's: the box's figures).
    pub fn merged<'a>(parts: impl IntoIterator<Item = &'a Totals>) -> Totals {
        let mut all = Totals::default();
        for part in parts {
            all.merge(part);
        }
        all
    }

    /// Whether `aggregate` is exactly the merge of `parts`: the check that the
    /// per-campaign figures and the box-wide figures tell the same story.
    pub fn check_consistency(parts: &[Totals], aggregate: &Totals) -> bool {
        Totals::merged(parts) == *aggregate
    }

    /// The count for one outcome (0 when none ended so).
    pub fn outcome_count(&self, outcome: impl Into<Stored<CallOutcome>>) -> u64 {
        self.by_outcome.get(&outcome.into()).copied().unwrap_or(0)
    }

    /// `answered / dialed`.
    pub fn answer_ratio(&self) -> Option<Ratio> {
        Ratio::new(self.answered, self.dialed)
    }

    /// `converted / answered`.
    pub fn conversion_ratio(&self) -> Option<Ratio> {
        Ratio::new(self.converted, self.answered)
    }

    /// `opted_out / answered`.
    pub fn opt_out_ratio(&self) -> Option<Ratio> {
        Ratio::new(self.opted_out, self.answered)
    }

    /// `answered / dialed`; `None` when nothing was dialed.
    pub fn answer_rate(&self) -> Option<f64> {
        self.answer_ratio().map(Ratio::to_f64)
    }

    /// `converted / answered`; `None` when nothing was answered.
    pub fn conversion_rate(&self) -> Option<f64> {
        self.conversion_ratio().map(Ratio::to_f64)
    }

    /// `opted_out / answered`; `None` when nothing was answered.
    pub fn opt_out_rate(&self) -> Option<f64> {
        self.opt_out_ratio().map(Ratio::to_f64)
    }

    pub fn rates(&self) -> Rates {
        Rates {
            answer_rate: self.answer_rate(),
            conversion_rate: self.conversion_rate(),
            opt_out_rate: self.opt_out_rate(),
        }
    }

    /// The outcome rows a report shows: the known outcomes first in their usual
    /// order, then unknown ones by name, then the calls still in progress
    /// (`None`). Only outcomes that occurred; the counts sum to `calls`.
    pub fn outcome_rows(&self) -> Vec<(Option<&Stored<CallOutcome>>, u64)> {
        // The map's order is that order.
        let mut rows: Vec<(Option<&Stored<CallOutcome>>, u64)> = self
            .by_outcome
            .iter()
            .map(|(outcome, &count)| (Some(outcome), count))
            .collect();
        if self.in_call > 0 {
            rows.push((None, self.in_call));
        }
        rows
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_compare_exactly() {
        let half = Ratio::new(1, 2).unwrap();
        assert_eq!(half, Ratio::new(2, 4).unwrap());
        assert!(Ratio::new(1, 3).unwrap() < half);
        assert!(Ratio::new(u64::MAX, u64::MAX - 1).unwrap() > Ratio::new(1, 1).unwrap());
        assert!(Ratio::new(1, 0).is_none());
    }
}
