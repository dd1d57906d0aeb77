//! Totals against a naive recount of the rows, and merging.

mod common;

use std::collections::BTreeMap;

use common::{calls, campaign, sample_calls};
use proptest::prelude::*;
use shofar_report::{CallOutcome, CallRow, Report, Stored, Totals};

/// The definitions, written out as plainly as possible.
struct Naive {
    calls: u64,
    in_call: u64,
    by_outcome: BTreeMap<String, u64>,
    dialed: u64,
    answered: u64,
    voicemail: u64,
    converted: u64,
    opted_out: u64,
    talk_ms: i64,
}

/// A row's outcome as its name.
fn name(row: &CallRow) -> Option<&str> {
    row.outcome.as_ref().map(Stored::as_str)
}

fn naive(rows: &[CallRow]) -> Naive {
    let count =
        |keep: &dyn Fn(&CallRow) -> bool| rows.iter().filter(|row| keep(row)).count() as u64;
    let mut by_outcome = BTreeMap::new();
    for row in rows {
        if let Some(name) = &row.outcome {
            *by_outcome.entry(name.as_str().to_owned()).or_insert(0) += 1;
        }
    }
    Naive {
        calls: rows.len() as u64,
        in_call: count(&|row| row.outcome.is_none()),
        by_outcome,
        dialed: count(&|row| row.outcome.is_some() && name(row) != Some("blacklisted")),
        answered: count(&|row| name(row) == Some("answered")),
        voicemail: count(&|row| name(row) == Some("voicemail")),
        converted: count(&|row| row.converted),
        opted_out: count(&|row| row.opted_out),
        talk_ms: rows.iter().filter_map(|row| row.talk_ms).sum(),
    }
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

proptest! {
    /// Property 45 (report metric calculation accuracy): the totals equal the
    /// counts recomputed naively from the rows, and the rates equal the ratios.
    #[test]
    fn property_45_totals_equal_a_naive_recount(rows in calls(80)) {
        let totals = Totals::from_rows(&rows);
        let expected = naive(&rows);
        prop_assert_eq!(totals.calls, expected.calls);
        prop_assert_eq!(totals.in_call, expected.in_call);
        let by_name: BTreeMap<String, u64> = totals
            .by_outcome
            .iter()
            .map(|(outcome, count)| (outcome.as_str().to_owned(), *count))
            .collect();
        prop_assert_eq!(&by_name, &expected.by_outcome);
        prop_assert_eq!(totals.dialed, expected.dialed);
        prop_assert_eq!(totals.answered, expected.answered);
        prop_assert_eq!(totals.voicemail, expected.voicemail);
        prop_assert_eq!(totals.converted, expected.converted);
        prop_assert_eq!(totals.opted_out, expected.opted_out);
        prop_assert_eq!(totals.talk_ms, expected.talk_ms);
        prop_assert_eq!(totals.first_call, rows.iter().map(|row| row.started_at).min());
        prop_assert_eq!(totals.last_call, rows.iter().map(|row| row.started_at).max());
        // Every record is either in a call or under exactly one outcome.
        prop_assert_eq!(totals.in_call + totals.by_outcome.values().sum::<u64>(), totals.calls);
        let shown: u64 = totals.outcome_rows().iter().map(|(_, count)| count).sum();
        prop_assert_eq!(shown, totals.calls);

        prop_assert_eq!(totals.answer_rate(), ratio(expected.answered, expected.dialed));
        prop_assert_eq!(totals.conversion_rate(), ratio(expected.converted, expected.answered));
        prop_assert_eq!(totals.opt_out_rate(), ratio(expected.opted_out, expected.answered));
    }

    /// Property 45 on the database's side: totals built from per-outcome counts
    /// (what a `GROUP BY` gives) equal the fold over the same ended records.
    #[test]
    fn property_45_totals_of_counted_ended_records_equal_the_fold(rows in calls(80)) {
        let ended: Vec<CallRow> = rows.into_iter().filter(|row| row.outcome.is_some()).collect();
        let folded = Totals::from_rows(&ended);
        let counted = Totals::of_ended(
            folded.by_outcome.clone(),
            ended.iter().filter(|row| row.converted).count() as u64,
            ended.iter().filter(|row| row.opted_out).count() as u64,
            ended.iter().filter_map(|row| row.talk_ms).sum(),
            ended.iter().map(|row| row.started_at).min(),
            ended.iter().map(|row| row.started_at).max(),
        );
        prop_assert_eq!(counted, folded);
    }

    /// Property 45, and properties 41/42 (per-campaign and box-wide figures):
    /// merging the totals of each campaign gives the totals over all rows, in
    /// any order and however the rows are split.
    #[test]
    fn property_45_merged_campaign_totals_equal_the_totals_of_all_rows(
        rows in calls(80),
        split in any::<prop::sample::Index>(),
    ) {
        let all = Totals::from_rows(&rows);
        let mut per_campaign: BTreeMap<Option<i64>, Totals> = BTreeMap::new();
        for row in &rows {
            per_campaign.entry(row.campaign_id).or_default().add(row);
        }
        let parts: Vec<Totals> = per_campaign.into_values().collect();
        prop_assert!(Totals::check_consistency(&parts, &all));
        let reversed: Vec<Totals> = parts.iter().rev().cloned().collect();
        prop_assert_eq!(Totals::merged(&reversed), all.clone());

        // An arbitrary split, merged, is the same as one fold.
        let at = split.index(rows.len() + 1);
        let mut left = Totals::from_rows(&rows[..at]);
        left.merge(&Totals::from_rows(&rows[at..]));
        prop_assert_eq!(&left, &all);
        // The empty set is the identity.
        let mut with_empty = all.clone();
        with_empty.merge(&Totals::default());
        prop_assert_eq!(&with_empty, &all);

        // A figure that does not add up is caught.
        let mut wrong = all.clone();
        wrong.answered += 1;
        prop_assert!(!Totals::check_consistency(&parts, &wrong));
    }
}

#[test]
fn the_sample_campaign() {
    let rows = sample_calls();
    let report = Report::from_rows(
        campaign(12, "תרומות חורף 2026"),
        None,
        None,
        common::at("2026-12-01T00:00:00Z"),
        &rows,
    );
    let totals = &report.totals;
    assert_eq!(totals.calls, 12);
    assert_eq!(totals.in_call, 1);
    assert_eq!(totals.dialed, 10, "the blacklisted number was never dialed");
    assert_eq!(totals.answered, 4);
    assert_eq!(totals.outcome_count(CallOutcome::Blacklisted), 1);
    assert_eq!(totals.answer_rate(), Some(0.4));
    assert_eq!(totals.conversion_rate(), Some(0.25));
    assert_eq!(totals.opt_out_rate(), Some(0.25));
    assert_eq!(totals.talk_ms, 4 * 88_000);
}

#[test]
fn rates_without_a_denominator_are_none() {
    let check = |rows: &[CallRow]| {
        let totals = Totals::from_rows(rows);
        (
            totals.answer_rate(),
            totals.conversion_rate(),
            totals.opt_out_rate(),
        )
    };
    assert_eq!(check(&[]), (None, None, None));
    let blacklisted_only = [common::call(
        "c1",
        "+972525551234",
        Some("blacklisted"),
        "2026-11-22T10:00:00Z",
    )];
    assert_eq!(check(&blacklisted_only), (None, None, None));
    let busy_only = [common::call(
        "c1",
        "+972525551234",
        Some("busy"),
        "2026-11-22T10:00:00Z",
    )];
    assert_eq!(check(&busy_only), (Some(0.0), None, None));
}

#[test]
fn an_unknown_outcome_is_counted_under_its_own_name() {
    let row = common::call(
        "c1",
        "+97236123456",
        Some("fax_tone"),
        "2026-11-22T10:00:00Z",
    );
    let totals = Totals::from_rows([&row]);
    assert_eq!(totals.outcome_count(Stored::parse("fax_tone")), 1);
    assert_eq!(totals.dialed, 1);
    assert_eq!(
        totals.outcome_rows(),
        vec![(Some(&Stored::parse("fax_tone")), 1)]
    );
}
