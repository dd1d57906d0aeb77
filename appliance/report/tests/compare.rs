//! Campaigns side by side.

mod common;

use common::{at, call, calls, campaign};
use proptest::prelude::*;
use shofar_report::{CallRow, Report, Totals, compare};

fn report_alone(id: i64, rows: &[CallRow]) -> Report {
    let own: Vec<&CallRow> = rows
        .iter()
        .filter(|row| row.campaign_id == Some(id))
        .collect();
    Report::from_rows(
        campaign(id, &format!("קמפיין {id}")),
        Some(at("2025-01-01T00:00:00Z")),
        Some(at("2028-01-01T00:00:00Z")),
        at("2028-01-02T00:00:00Z"),
        own,
    )
}

/// The indexes holding the best of `rates` (highest, or lowest), by plain f64.
fn expected_best(rates: &[Option<f64>], highest: bool) -> Vec<usize> {
    let present = rates.iter().flatten().copied();
    let best = if highest {
        present.fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.max(r))))
    } else {
        present.fold(None, |m: Option<f64>, r| Some(m.map_or(r, |m| m.min(r))))
    };
    rates
        .iter()
        .enumerate()
        .filter(|(_, rate)| rate.is_some() && **rate == best)
        .map(|(i, _)| i)
        .collect()
}

proptest! {
    /// Property 47 (campaign comparison correctness): each column of a
    /// comparison equals that campaign's report computed alone (counts, rates,
    /// campaign, period), in the order given, and the leaders on each rate are
    /// the columns with the best rate.
    #[test]
    fn property_47_each_column_equals_the_campaign_alone(
        rows in calls(120),
        ids in proptest::sample::subsequence(vec![1i64, 2, 3, 4], 0..=4).prop_shuffle(),
    ) {
        let reports: Vec<Report> = ids.iter().map(|&id| report_alone(id, &rows)).collect();
        let comparison = compare(&reports);
        prop_assert_eq!(comparison.columns.len(), ids.len());
        for (column, &id) in comparison.columns.iter().zip(&ids) {
            let alone = report_alone(id, &rows);
            let recount = Totals::from_rows(rows.iter().filter(|row| row.campaign_id == Some(id)));
            prop_assert_eq!(&column.campaign, &alone.campaign);
            prop_assert_eq!(column.from, alone.from);
            prop_assert_eq!(column.to, alone.to);
            prop_assert_eq!(&column.totals, &recount);
            prop_assert_eq!(column.rates.answer_rate, recount.answer_rate());
            prop_assert_eq!(column.rates.conversion_rate, recount.conversion_rate());
            prop_assert_eq!(column.rates.opt_out_rate, recount.opt_out_rate());
        }
        let rates = |pick: fn(&Totals) -> Option<f64>| -> Vec<Option<f64>> {
            comparison.columns.iter().map(|column| pick(&column.totals)).collect()
        };
        prop_assert_eq!(&comparison.best.answer_rate, &expected_best(&rates(Totals::answer_rate), true));
        prop_assert_eq!(&comparison.best.conversion_rate, &expected_best(&rates(Totals::conversion_rate), true));
        prop_assert_eq!(&comparison.best.opt_out_rate, &expected_best(&rates(Totals::opt_out_rate), false));
    }
}

#[test]
fn ties_lead_together_and_missing_rates_never_lead() {
    let with = |id: i64, outcomes: &[&str]| {
        let rows: Vec<CallRow> = outcomes
            .iter()
            .enumerate()
            .map(|(i, outcome)| {
                let mut row = call(
                    &format!("{id}-{i}"),
                    "+972525551234",
                    Some(outcome),
                    "2026-11-22T10:00:00Z",
                );
                row.campaign_id = Some(id);
                row
            })
            .collect();
        report_alone(id, &rows)
    };
    let reports = [
        with(1, &["answered", "busy"]),
        with(2, &["answered", "answered", "busy", "no_answer"]),
        with(3, &["blacklisted"]),
        with(4, &["busy"]),
    ];
    let comparison = compare(&reports);
    assert_eq!(
        comparison.best.answer_rate,
        [0, 1],
        "1/2 and 2/4 tie exactly"
    );
    assert_eq!(
        comparison.best.opt_out_rate,
        [0, 1],
        "no opt-outs: both lead at 0%"
    );
    assert!(compare(&[]).columns.is_empty());
}
