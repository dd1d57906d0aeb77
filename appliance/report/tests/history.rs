//! History by local date over a half-open period.

mod common;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Jerusalem;
use common::{at, call, calls, instant};
use proptest::prelude::*;
use shofar_report::{CallRow, DailyHistory, Timeline, Totals, history, in_period};

proptest! {
    /// Property 46 (historical data retrieval accuracy): a history over
    /// [from, to) counts every call in the period exactly once and none outside
    /// it, each on the local date it started, and its buckets sum to the
    /// period's totals.
    #[test]
    fn property_46_history_counts_every_call_in_the_period_once(
        rows in calls(80),
        start in instant(),
        days in 0i64..400,
        exact_edges in any::<bool>(),
    ) {
        let (from, to) = (start, start + Duration::days(days));
        let mut rows = rows;
        if exact_edges && rows.len() >= 2 {
            // Calls exactly on the edges: `from` is in, `to` is out.
            rows[0].started_at = from;
            rows[1].started_at = to;
        }
        let days = history(&rows, from, to, Jerusalem);
        let inside: Vec<&CallRow> = rows.iter().filter(|row| from <= row.started_at && row.started_at < to).collect();

        let bucket_sum = Totals::merged(days.iter().map(|day| &day.totals));
        prop_assert_eq!(&bucket_sum, &Totals::from_rows(inside.iter().copied()));
        prop_assert_eq!(bucket_sum.calls, inside.len() as u64);

        // Each bucket holds exactly the calls of its campaign that started on
        // its date in Jerusalem.
        let keys: BTreeSet<(NaiveDate, Option<i64>)> = days.iter().map(|day| (day.date, day.campaign_id)).collect();
        prop_assert_eq!(keys.len(), days.len(), "one bucket per date and campaign");
        for day in &days {
            let expected = inside
                .iter()
                .filter(|row| {
                    row.campaign_id == day.campaign_id
                        && row.started_at.with_timezone(&Jerusalem).date_naive() == day.date
                })
                .count() as u64;
            prop_assert_eq!(day.totals.calls, expected);
            prop_assert!(day.totals.calls > 0, "no empty buckets");
        }
        prop_assert!(days.windows(2).all(|pair| (pair[0].date, pair[0].campaign_id) < (pair[1].date, pair[1].campaign_id)));

        // The fold agrees with the function, and says which calls it counted.
        let mut fold = DailyHistory::new(from, to, Jerusalem);
        let counted = rows.iter().filter(|row| fold.add(row)).count();
        prop_assert_eq!(counted, inside.len());
        prop_assert_eq!(fold.total(), bucket_sum);
        prop_assert_eq!(fold.finish(), days);
        for row in &rows {
            prop_assert_eq!(in_period(Some(from), Some(to), row.started_at), from <= row.started_at && row.started_at < to);
        }
    }
}

proptest! {
    /// Property 46 for the dashboard's last hour: a timeline over [from, to) in
    /// slices of `step` counts every call of the period exactly once, in the
    /// slice it started in; its slices tile the period with no gap and sum to
    /// the period's totals, the same as the daily history's.
    #[test]
    fn property_46_timeline_slices_tile_the_period_and_sum_to_it(
        rows in calls(80),
        start in instant(),
        span_minutes in 0i64..(3 * 24 * 60),
        step_minutes in 1i64..240,
        exact_edges in any::<bool>(),
        offsets in proptest::collection::vec(any::<u64>(), 80),
    ) {
        let (from, to) = (start, start + Duration::minutes(span_minutes));
        let step = Duration::minutes(step_minutes);
        let mut rows = rows;
        // Most calls near the period (an hour either side), not years away.
        let window_ms = (span_minutes + 120) as u64 * 60_000;
        for (row, offset) in rows.iter_mut().zip(&offsets) {
            row.started_at = from - Duration::hours(1) + Duration::milliseconds((offset % window_ms) as i64);
        }
        if exact_edges && rows.len() >= 3 {
            rows[0].started_at = from;
            rows[1].started_at = to;
            rows[2].started_at = from + step;
        }
        let inside: Vec<&CallRow> = rows.iter().filter(|row| from <= row.started_at && row.started_at < to).collect();

        let mut timeline = Timeline::new(from, to, step).unwrap();
        let counted = rows.iter().filter(|row| timeline.add(row)).count();
        prop_assert_eq!(counted, inside.len());
        let total = timeline.total();
        prop_assert_eq!(&total, &Totals::from_rows(inside.iter().copied()));
        let days = history(&rows, from, to, Jerusalem);
        prop_assert_eq!(&total, &Totals::merged(days.iter().map(|day| &day.totals)));

        let slices = timeline.finish();
        prop_assert_eq!(slices.len() as i64, (span_minutes + step_minutes - 1) / step_minutes);
        let mut edge = from;
        for slice in &slices {
            prop_assert_eq!(slice.start, edge, "no gap, no overlap");
            prop_assert!(slice.start < slice.end && slice.end <= to);
            prop_assert!(slice.end - slice.start <= step);
            let expected = inside.iter().filter(|row| slice.start <= row.started_at && row.started_at < slice.end);
            prop_assert_eq!(&slice.totals, &Totals::from_rows(expected.copied()));
            edge = slice.end;
        }
        prop_assert_eq!(edge, if slices.is_empty() { from } else { to });
        prop_assert_eq!(Totals::merged(slices.iter().map(|slice| &slice.totals)), total);
    }
}

#[test]
fn a_timeline_refuses_a_step_that_is_not_positive_or_too_fine() {
    let t: DateTime<Utc> = at("2026-11-22T10:00:00Z");
    assert!(Timeline::new(t, t + Duration::hours(1), Duration::zero()).is_none());
    assert!(Timeline::new(t, t + Duration::hours(1), Duration::minutes(-5)).is_none());
    assert!(Timeline::new(t, t + Duration::days(30), Duration::seconds(1)).is_none());
    let hour = Timeline::new(t, t + Duration::hours(1), Duration::minutes(5)).unwrap();
    assert_eq!(hour.finish().len(), 12);
    let backwards = Timeline::new(t, t - Duration::hours(1), Duration::minutes(5)).unwrap();
    assert!(backwards.finish().is_empty());
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[test]
fn a_call_belongs_to_the_israeli_date_it_started_on() {
    let mut late = call(
        "c1",
        "+972525551234",
        Some("answered"),
        "2026-11-22T22:30:00Z",
    );
    late.campaign_id = Some(3);
    let mut summer = call("c2", "+97236123456", Some("busy"), "2026-07-01T21:30:00Z");
    summer.campaign_id = Some(3);
    let mut other = call(
        "c3",
        "+972525551235",
        Some("busy"),
        "2026-11-22T21:59:59.999Z",
    );
    other.campaign_id = None;
    let rows = [late, summer, other];
    let days = history(
        &rows,
        at("2026-01-01T00:00:00Z"),
        at("2027-01-01T00:00:00Z"),
        Jerusalem,
    );
    let keys: Vec<(NaiveDate, Option<i64>, u64)> = days
        .iter()
        .map(|d| (d.date, d.campaign_id, d.totals.calls))
        .collect();
    assert_eq!(
        keys,
        [
            // 00:30 on 2 July in summer time (+03:00).
            (day("2026-07-02"), Some(3), 1),
            // 23:59:59.999 on 22 November (+02:00).
            (day("2026-11-22"), None, 1),
            // 00:30 on 23 November.
            (day("2026-11-23"), Some(3), 1),
        ]
    );
}

#[test]
fn an_empty_or_backwards_period_has_no_history() {
    let rows = [call(
        "c1",
        "+972525551234",
        Some("answered"),
        "2026-11-22T10:00:00Z",
    )];
    let t: DateTime<Utc> = at("2026-11-22T10:00:00Z");
    assert!(history(&rows, t, t, Jerusalem).is_empty());
    assert!(history(&rows, t + Duration::days(1), t, Jerusalem).is_empty());
    assert_eq!(
        history(&rows, t, t + Duration::milliseconds(1), Jerusalem).len(),
        1
    );
}
