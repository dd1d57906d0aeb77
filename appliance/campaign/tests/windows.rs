//! The calling-window calculus: Israel's DST switches 2026–2030 to the minute, and
//! properties 6 and 8 as agreement between the definition (`is_open`) and the
//! computed intervals (`plan`). Nothing here reads the clock.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use shofar_campaign::windows::TimeRange;
use shofar_campaign::{BlockReason, BoxCalendar, CallingPolicy, QuietSettings, WeeklyWindows};

const JERUSALEM: Tz = chrono_tz::Asia::Jerusalem;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn all_day() -> WeeklyWindows {
    WeeklyWindows::new(std::array::from_fn(|_| {
        vec![TimeRange {
            start: 0,
            end: 1440,
        }]
    }))
    .unwrap()
}

fn policy(windows: WeeklyWindows, quiet: bool) -> CallingPolicy {
    CallingPolicy {
        zone: JERUSALEM,
        windows,
        start: None,
        end: None,
        calendar: quiet.then(|| {
            BoxCalendar::default()
                .calendar(&QuietSettings::default())
                .unwrap()
        }),
    }
}

/// Israel's clock changes, 2026–2030 (Friday before the last Sunday of March at
/// 02:00 → 03:00; last Sunday of October at 02:00 → 01:00), as the instants they
/// happen, UTC.
const DST: [(&str, &str, &str); 5] = [
    ("2026-03-27", "2026-10-25", "2026"),
    ("2027-03-26", "2027-10-31", "2027"),
    ("2028-03-24", "2028-10-29", "2028"),
    ("2029-03-23", "2029-10-28", "2029"),
    ("2030-03-29", "2030-10-27", "2030"),
];

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// The tz database agrees with the published dates: the offset changes exactly at
/// 00:00 UTC (02:00 IST) on the spring date and 23:00 UTC the evening before the
/// autumn date (02:00 IDT).
#[test]
fn dst_switch_dates_2026_to_2030() {
    let offset = |at: DateTime<Utc>| at.with_timezone(&JERUSALEM).format("%z").to_string();
    for (spring, autumn, _) in DST {
        let spring = date(spring).and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert_eq!(offset(spring - Duration::seconds(1)), "+0200");
        assert_eq!(offset(spring), "+0300");
        let autumn = (date(autumn) - Duration::days(1))
            .and_hms_opt(23, 0, 0)
            .unwrap()
            .and_utc();
        assert_eq!(offset(autumn - Duration::seconds(1)), "+0300");
        assert_eq!(offset(autumn), "+0200");
    }
}

/// On the days the clocks change, a whole-day window lasts 23 and 25 hours, and a
/// 09:00–20:00 window is 11 hours at the right instants: no hour lost or doubled.
#[test]
fn windows_on_dst_days_follow_the_wall_clock() {
    let all = policy(all_day(), false);
    let office = policy(
        WeeklyWindows::new(std::array::from_fn(|_| {
            vec![TimeRange {
                start: 540,
                end: 1200,
            }]
        }))
        .unwrap(),
        false,
    );
    for (spring, autumn, _) in DST {
        for (day, hours) in [(date(spring), 23), (date(autumn), 25)] {
            let midnight = JERUSALEM
                .from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc);
            let next = JERUSALEM
                .from_local_datetime(&day.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!((next - midnight).num_hours(), hours, "{day}");
            let plan = all.plan(None, midnight, next);
            let allowed: Duration = plan.allowed.iter().map(|i| i.end - i.start).sum();
            assert_eq!(allowed.num_hours(), hours, "{day}");
            let plan = office.plan(None, midnight, next);
            assert_eq!(plan.allowed.len(), 1, "{day}");
            let window = plan.allowed[0];
            assert_eq!(window.end - window.start, Duration::hours(11), "{day}");
            assert_eq!(
                window
                    .start
                    .with_timezone(&JERUSALEM)
                    .format("%H:%M")
                    .to_string(),
                "09:00"
            );
        }
    }
}

/// A window over the hour the clock shows twice holds both showings, and a window
/// opening inside the skipped hour opens at the jump.
#[test]
fn windows_over_the_switch_itself() {
    let night = |start, end| {
        policy(
            WeeklyWindows::new(std::array::from_fn(|_| vec![TimeRange { start, end }])).unwrap(),
            false,
        )
    };
    // 2026-10-25: 01:00-02:00 is shown twice (22:00-23:00 and 23:00-24:00 UTC).
    let autumn = night(60, 120).plan(None, utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0));
    assert_eq!(autumn.allowed.len(), 1, "{autumn:?}");
    assert_eq!(autumn.allowed[0].start, utc(2026, 10, 24, 22, 0));
    assert_eq!(autumn.allowed[0].end, utc(2026, 10, 25, 0, 0));
    // 2026-03-27: 02:00-03:00 does not exist; 02:30-04:00 opens at 03:00 IDT.
    let spring = night(150, 240).plan(None, utc(2026, 3, 26, 12, 0), utc(2026, 3, 27, 12, 0));
    assert_eq!(spring.allowed.len(), 1);
    assert_eq!(spring.allowed[0].start, utc(2026, 3, 27, 0, 0));
    assert_eq!(spring.allowed[0].end, utc(2026, 3, 27, 1, 0));
}

/// The box's defaults over a week with Shabbat: Friday ends at 13:00, Saturday is
/// closed, and the plan names why.
#[test]
fn the_default_week_explains_itself() {
    let plan = policy(WeeklyWindows::israeli_default(), true).plan(
        None,
        utc(2027, 1, 9, 22, 0), // Sunday 10.01.2027 00:00 local
        utc(2027, 1, 16, 22, 0),
    );
    assert_eq!(plan.allowed.len(), 6, "{plan:?}"); // Sunday to Friday
    let friday = plan.allowed[5];
    assert_eq!(friday.start, utc(2027, 1, 15, 7, 0));
    assert_eq!(friday.end, utc(2027, 1, 15, 11, 0));
    // Shabbat starts Friday afternoon, after the window has closed: the evening
    // until candle-lighting reads as outside_window, then shabbat until nightfall.
    let shabbat: Vec<_> = plan
        .blocked
        .iter()
        .filter(|b| b.reason == BlockReason::Quiet(shofar_calendar::QuietReason::Shabbat))
        .collect();
    assert_eq!(shabbat.len(), 1, "{plan:?}");
    let local = |at: DateTime<Utc>| at.with_timezone(&JERUSALEM).format("%a %H").to_string();
    assert_eq!(local(shabbat[0].interval.start), "Fri 16");
    assert_eq!(local(shabbat[0].interval.end), "Sat 17");
    assert!(plan.blocked.iter().all(|b| matches!(
        b.reason,
        BlockReason::OutsideWindow | BlockReason::Quiet(shofar_calendar::QuietReason::Shabbat)
    )));
}

fn windows_strategy() -> impl Strategy<Value = WeeklyWindows> {
    proptest::collection::vec(proptest::collection::vec((0u16..1440, 1u16..720), 0..3), 7).prop_map(
        |days| {
            let mut ranges: [Vec<TimeRange>; 7] = Default::default();
            for (index, day) in days.into_iter().enumerate() {
                let mut taken: Vec<TimeRange> = Vec::new();
                for (start, length) in day {
                    let range = TimeRange {
                        start,
                        end: (start + length).min(1440),
                    };
                    if range.end > range.start
                        && taken
                            .iter()
                            .all(|t| range.end <= t.start || t.end <= range.start)
                    {
                        taken.push(range);
                    }
                }
                ranges[index] = taken;
            }
            WeeklyWindows::new(ranges).unwrap()
        },
    )
}

/// Instants around the DST switches and the holidays of 2026–2030, to the minute.
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (0i64..5 * 365 * 24 * 60).prop_map(|minutes| utc(2026, 1, 1, 0, 0) + Duration::minutes(minutes))
}

const ZONES: [Tz; 5] = [
    chrono_tz::Asia::Jerusalem,
    chrono_tz::America::New_York,
    chrono_tz::Europe::London,
    chrono_tz::Asia::Tokyo,
    chrono_tz::Australia::Sydney,
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// Property 6 (calling window enforcement): an instant is allowed by the
    /// computed plan exactly when the definition says calls may start then —
    /// inside a window, inside the schedule, outside every quiet period.
    #[test]
    fn property_6_plan_agrees_with_the_definition(
        windows in windows_strategy(),
        at in instant(),
        span_hours in 1i64..200,
        probes in proptest::collection::vec(0i64..200 * 60, 1..20),
        quiet in proptest::bool::ANY,
        schedule in proptest::option::of((-100i64..100, 1i64..300)),
    ) {
        let mut policy = policy(windows, quiet);
        if let Some((start, length)) = schedule {
            policy.start = Some(at + Duration::hours(start));
            policy.end = Some(at + Duration::hours(start + length));
        }
        let to = at + Duration::hours(span_hours);
        let plan = policy.plan(None, at, to);
        // Allowed and blocked cover [at, to) exactly, in order, without overlap.
        let mut pieces: Vec<(DateTime<Utc>, DateTime<Utc>)> = plan.allowed.iter().map(|i| (i.start, i.end))
            .chain(plan.blocked.iter().map(|b| (b.interval.start, b.interval.end)))
            .collect();
        pieces.sort();
        prop_assert_eq!(pieces.first().map(|p| p.0), Some(at));
        prop_assert_eq!(pieces.last().map(|p| p.1), Some(to));
        for pair in pieces.windows(2) {
            prop_assert_eq!(pair[0].1, pair[1].0);
        }
        for minutes in probes {
            let probe = at + Duration::minutes(minutes);
            if probe >= to { continue; }
            let allowed = plan.allowed.iter().any(|i| i.contains(probe));
            prop_assert_eq!(allowed, policy.is_open(None, probe), "at {}", probe);
        }
    }

    /// Property 8 (time-zone-aware windows): for a contact in any zone, the plan
    /// allows exactly the instants at which the wall clock *in that zone* reads
    /// inside a window.
    #[test]
    fn property_8_windows_in_the_contacts_zone(
        windows in windows_strategy(),
        zone in proptest::sample::select(ZONES.to_vec()),
        at in instant(),
        probes in proptest::collection::vec(0i64..72 * 60, 1..20),
    ) {
        let policy = policy(windows.clone(), false);
        let plan = policy.plan(Some(zone), at, at + Duration::hours(72));
        for minutes in probes {
            let probe = at + Duration::minutes(minutes);
            let local = probe.with_timezone(&zone).naive_local();
            let allowed = plan.allowed.iter().any(|i| i.contains(probe));
            prop_assert_eq!(allowed, windows.contains_local(local), "at {} in {}", probe, zone);
        }
    }

    /// Splitting a span does not change the answer.
    #[test]
    fn plans_compose(windows in windows_strategy(), at in instant(), split in 1i64..100, rest in 1i64..100) {
        let policy = policy(windows, true);
        let middle = at + Duration::hours(split);
        let end = middle + Duration::hours(rest);
        let mut parts = policy.plan(None, at, middle).allowed;
        for interval in policy.plan(None, middle, end).allowed {
            match parts.last_mut() {
                Some(last) if last.end == interval.start => last.end = interval.end,
                _ => parts.push(interval),
            }
        }
        prop_assert_eq!(parts, policy.plan(None, at, end).allowed);
    }
}
