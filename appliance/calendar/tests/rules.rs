//! The quiet-period rules: DST weeks, erev, Yom HaZikaron, the switches in
//! `QuietRules`, and the properties every answer has (proptest).

use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Jerusalem;
use proptest::prelude::*;
use shofar_calendar::{
    Havdalah, Interval, IsraeliCalendar, Location, QuietPeriod, QuietReason, QuietRules,
    yom_hazikaron_date,
};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("valid")
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid")
}

fn calendar(city: &str, rules: QuietRules) -> IsraeliCalendar {
    IsraeliCalendar::new(Location::named(city).expect("known"), rules)
}

/// The periods overlapping a whole local day.
fn periods_on(calendar: &IsraeliCalendar, day: NaiveDate) -> Vec<QuietPeriod> {
    let start = Jerusalem
        .from_local_datetime(&day.and_time(NaiveTime::MIN))
        .earliest()
        .expect("midnight exists in Israel")
        .with_timezone(&Utc);
    calendar.quiet_periods(start, start + TimeDelta::days(1))
}

/// Shabbat in the weeks Israel changes its clocks: published minutes (hebcal), as UTC
/// instants. Summer time starts at 02:00 on the Friday before the last Sunday of March,
/// so that Shabbat is entirely on +03:00; it ends at 02:00 on the last Sunday of
/// October, so the Shabbat before is still on +03:00 and the one after on +02:00.
#[test]
fn shabbat_in_dst_weeks() {
    // (city, Friday, candle-lighting UTC (h, m), havdalah UTC on Saturday (h, m))
    let table = [
        // The Friday summer time starts, 2026–2030: local 18:15 = 15:15 UTC, etc.
        ("jerusalem", date(2026, 3, 27), (15, 15), (16, 32)),
        ("tel_aviv", date(2026, 3, 27), (15, 37), (16, 34)),
        ("jerusalem", date(2027, 3, 26), (15, 14), (16, 31)),
        ("tel_aviv", date(2027, 3, 26), (15, 36), (16, 33)),
        ("jerusalem", date(2028, 3, 24), (15, 13), (16, 30)),
        ("tel_aviv", date(2028, 3, 24), (15, 35), (16, 32)),
        ("jerusalem", date(2029, 3, 23), (15, 12), (16, 30)),
        ("tel_aviv", date(2029, 3, 23), (15, 34), (16, 32)),
        ("jerusalem", date(2030, 3, 29), (15, 16), (16, 34)),
        ("tel_aviv", date(2030, 3, 29), (15, 38), (16, 36)),
        // The week before (winter time): local 17:10 = 15:10 UTC.
        ("jerusalem", date(2026, 3, 20), (15, 10), (16, 27)),
        // The Shabbat before summer time ends, still on +03:00.
        ("jerusalem", date(2025, 10, 24), (14, 17), (15, 33)),
        ("jerusalem", date(2026, 10, 23), (14, 18), (15, 34)),
        ("tel_aviv", date(2026, 10, 23), (14, 39), (15, 36)),
        ("jerusalem", date(2027, 10, 29), (14, 12), (15, 29)),
        ("jerusalem", date(2028, 10, 27), (14, 13), (15, 30)),
        ("jerusalem", date(2029, 10, 26), (14, 15), (15, 31)),
        ("jerusalem", date(2030, 10, 25), (14, 16), (15, 32)),
        // The Shabbat after, on +02:00: local 16:11 = 14:11 UTC.
        ("jerusalem", date(2026, 10, 30), (14, 11), (15, 28)),
        ("tel_aviv", date(2026, 10, 30), (14, 32), (15, 29)),
    ];
    for (city, friday, (ch, cm), (hh, hmin)) in table {
        let calendar = calendar(city, QuietRules::default());
        let saturday = friday.succ_opt().expect("next day");
        let candles = utc(2000, 1, 1, ch, cm) - utc(2000, 1, 1, 0, 0);
        let havdalah = utc(2000, 1, 1, hh, hmin) - utc(2000, 1, 1, 0, 0);
        let expected = Interval::new(
            friday.and_time(NaiveTime::MIN).and_utc() + candles,
            saturday.and_time(NaiveTime::MIN).and_utc() + havdalah,
        );
        assert_eq!(
            calendar.candle_lighting(friday),
            Some(expected.start),
            "{city} {friday}"
        );
        assert_eq!(
            calendar.nightfall(saturday),
            Some(expected.end),
            "{city} {saturday}"
        );
        let periods = periods_on(&calendar, saturday);
        assert_eq!(
            periods,
            vec![QuietPeriod {
                interval: expected,
                reason: QuietReason::Shabbat
            }],
            "{city} {friday}"
        );
    }
}

/// `erev_from` is a local wall time: on the Friday summer time starts it is three
/// hours ahead of UTC, the Friday before two.
#[test]
fn erev_from_is_local_and_dst_correct() {
    let rules = QuietRules {
        erev_from: Some(hm(12, 0)),
        ..QuietRules::default()
    };
    let calendar = calendar("jerusalem", rules);
    for (friday, erev_start) in [
        (date(2026, 3, 20), utc(2026, 3, 20, 10, 0)),
        (date(2026, 3, 27), utc(2026, 3, 27, 9, 0)),
        (date(2026, 10, 23), utc(2026, 10, 23, 9, 0)),
        (date(2026, 10, 30), utc(2026, 10, 30, 10, 0)),
    ] {
        let periods = periods_on(&calendar, friday);
        let candles = calendar.candle_lighting(friday).expect("sunset");
        assert_eq!(periods[0].reason, QuietReason::ErevShabbat, "{friday}");
        assert_eq!(
            periods[0].interval,
            Interval::new(erev_start, candles),
            "{friday}"
        );
        assert_eq!(periods[1].reason, QuietReason::Shabbat, "{friday}");
        assert_eq!(periods[1].interval.start, candles, "{friday}: no gap");
    }
}

#[test]
fn erev_chag_and_no_erev_inside_a_chain() {
    let rules = QuietRules {
        erev_from: Some(hm(13, 30)),
        ..QuietRules::default()
    };
    let calendar = calendar("jerusalem", rules);
    // Erev Pesach 5786, Wednesday 2026-04-01 (+03:00).
    let eve = date(2026, 4, 1);
    let periods = periods_on(&calendar, eve);
    assert_eq!(periods[0].reason, QuietReason::ErevChag);
    assert_eq!(
        periods[0].interval,
        Interval::new(
            utc(2026, 4, 1, 10, 30),
            calendar.candle_lighting(eve).expect("sunset")
        )
    );
    assert_eq!(periods[1].reason, QuietReason::Pesach);
    // Erev Pesach 5785 was Shabbat: Friday is erev Shabbat, and Shabbat's afternoon is
    // Shabbat, not erev — the Yom Tov starts at nightfall.
    let friday = periods_on(&calendar, date(2025, 4, 11));
    assert_eq!(friday[0].reason, QuietReason::ErevShabbat);
    let saturday = periods_on(&calendar, date(2025, 4, 12));
    let reasons: Vec<_> = saturday.iter().map(|p| p.reason).collect();
    assert_eq!(reasons, [QuietReason::Shabbat, QuietReason::Pesach]);
    assert_eq!(
        saturday[1].interval.start,
        calendar.nightfall(date(2025, 4, 12)).expect("dark")
    );
    // Erev from later than candle-lighting: nothing extra.
    let late = calendar_with_erev("jerusalem", hm(23, 0));
    let periods = periods_on(&late, date(2026, 3, 20));
    assert!(periods.iter().all(|p| p.reason == QuietReason::Shabbat));
}

fn calendar_with_erev(city: &str, from: NaiveTime) -> IsraeliCalendar {
    calendar(
        city,
        QuietRules {
            erev_from: Some(from),
            ..QuietRules::default()
        },
    )
}

#[test]
fn yom_hazikaron_only_when_asked() {
    // 5786: Yom HaZikaron Tuesday 2026-04-21, from sunset Monday.
    let day = yom_hazikaron_date(5786).expect("in range");
    assert_eq!(day, date(2026, 4, 21));
    let off = calendar("jerusalem", QuietRules::default());
    assert!(periods_on(&off, day).is_empty());
    let on = calendar(
        "jerusalem",
        QuietRules {
            yom_hazikaron: true,
            ..QuietRules::default()
        },
    );
    let periods = periods_on(&on, day);
    assert_eq!(periods.len(), 1);
    let period = periods[0];
    assert_eq!(period.reason, QuietReason::YomHazikaron);
    let sunset = on.sunset(date(2026, 4, 20)).expect("sunset");
    let start = period.interval.start;
    assert!(
        (start - sunset).abs() <= TimeDelta::seconds(30),
        "sunset to the minute"
    );
    assert_eq!(start.timestamp() % 60, 0);
    assert_eq!(period.interval.end, on.nightfall(day).expect("dark"));
}

#[test]
fn rules_switch_shabbat_and_holidays() {
    let yom_kippur_on_shabbat = date(2028, 9, 30);
    let only_shabbat = calendar(
        "haifa",
        QuietRules {
            holidays: false,
            ..QuietRules::default()
        },
    );
    assert_eq!(
        only_shabbat.quiet_day(yom_kippur_on_shabbat),
        Some(QuietReason::Shabbat)
    );
    // Rosh Hashana 5786 (Tue–Wed) is not quiet without holidays.
    assert!(periods_on(&only_shabbat, date(2025, 9, 23)).is_empty());
    let only_holidays = calendar(
        "haifa",
        QuietRules {
            shabbat: false,
            ..QuietRules::default()
        },
    );
    assert!(
        periods_on(&only_holidays, date(2026, 3, 21)).is_empty(),
        "a plain Shabbat"
    );
    assert_eq!(
        only_holidays.quiet_day(yom_kippur_on_shabbat),
        Some(QuietReason::YomKippur)
    );
    // Shavuot Friday 2026-05-22 without Shabbat: ends at its own nightfall.
    let shavuot = periods_on(&only_holidays, date(2026, 5, 22));
    assert_eq!(shavuot.len(), 1);
    assert_eq!(
        shavuot[0].interval.end,
        only_holidays.nightfall(date(2026, 5, 22)).expect("dark")
    );
    let neither = calendar(
        "haifa",
        QuietRules {
            shabbat: false,
            holidays: false,
            erev_from: Some(hm(12, 0)),
            ..QuietRules::default()
        },
    );
    let year = neither.quiet_periods(utc(2025, 1, 1, 0, 0), utc(2031, 1, 1, 0, 0));
    assert!(year.is_empty());
}

#[test]
fn candle_minutes_and_havdalah_minutes() {
    let rules = QuietRules {
        candle_lighting_minutes: Some(18),
        havdalah: Havdalah::Minutes(72),
        ..QuietRules::default()
    };
    let custom = calendar("jerusalem", rules);
    let standard = calendar("jerusalem", QuietRules::default());
    assert_eq!(custom.candle_lighting_minutes(), 18);
    assert_eq!(standard.candle_lighting_minutes(), 40);
    let friday = date(2026, 6, 12);
    let difference = custom.candle_lighting(friday).expect("sunset")
        - standard.candle_lighting(friday).expect("sunset");
    assert_eq!(difference, TimeDelta::minutes(22));
    // Rabbeinu Tam's 72 minutes: sunset to the nearest minute, plus 72.
    let saturday = date(2026, 6, 13);
    let sunset = custom.sunset(saturday).expect("sunset");
    let nightfall = custom.nightfall(saturday).expect("dark");
    assert_eq!(nightfall.timestamp() % 60, 0);
    let after = nightfall - sunset;
    assert!(after > TimeDelta::seconds(72 * 60 - 30) && after <= TimeDelta::seconds(72 * 60 + 30));
}

#[test]
fn quiet_at_agrees_with_the_periods() {
    let calendar = calendar("tel_aviv", QuietRules::default());
    let friday = date(2026, 3, 27);
    let candles = calendar.candle_lighting(friday).expect("sunset");
    assert_eq!(calendar.quiet_at(candles - TimeDelta::seconds(1)), None);
    assert_eq!(calendar.quiet_at(candles), Some(QuietReason::Shabbat));
    let end = calendar.nightfall(date(2026, 3, 28)).expect("dark");
    assert_eq!(
        calendar.quiet_at(end - TimeDelta::nanoseconds(1)),
        Some(QuietReason::Shabbat)
    );
    assert_eq!(calendar.quiet_at(end), None);
}

/// Per-day work only: a year of quiet periods is cheap even unoptimized. (A generous
/// bound, to catch per-minute work, not to benchmark.)
#[test]
fn a_year_is_cheap() {
    let calendar = calendar_with_erev("jerusalem", hm(12, 0));
    let started = Instant::now();
    let mut count = 0;
    for _ in 0..10 {
        count += calendar
            .quiet_periods(utc(2027, 1, 1, 0, 0), utc(2028, 1, 1, 0, 0))
            .len();
    }
    let elapsed = started.elapsed();
    assert!(count > 10 * 100, "{count}");
    assert!(
        elapsed < Duration::from_secs(2),
        "ten years took {elapsed:?}"
    );
}

/// A random set of rules and a location.
fn any_calendar() -> impl Strategy<Value = IsraeliCalendar> {
    let havdalah = prop_oneof![
        (6.0..16.1f64).prop_map(Havdalah::Degrees),
        (0..=90u32).prop_map(Havdalah::Minutes),
    ];
    (
        0..Location::known_names().len(),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of((0..24u32, 0..60u32)),
        any::<bool>(),
        proptest::option::of(0..=60u32),
        havdalah,
    )
        .prop_map(
            |(city, shabbat, holidays, erev, yom_hazikaron, candles, havdalah)| {
                let location = Location::named(Location::known_names()[city]).expect("known");
                let rules = QuietRules {
                    shabbat,
                    holidays,
                    erev_from: erev.map(|(h, m)| hm(h, m)),
                    yom_hazikaron,
                    candle_lighting_minutes: candles,
                    havdalah,
                };
                IsraeliCalendar::new(location, rules)
            },
        )
}

fn sorted(mut periods: Vec<QuietPeriod>) -> Vec<QuietPeriod> {
    periods.sort_by_key(|period| (period.interval, period.reason));
    periods.dedup();
    periods
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Quiet periods: sorted by start; each non-empty, on whole minutes, overlapping
    /// the query; splitting the query anywhere changes nothing; no period, and no
    /// chain of Shabbat and Yom Tov, is longer than three days and a few hours.
    #[test]
    fn quiet_periods_properties(
        calendar in any_calendar(),
        from in 1_704_067_200i64..1_924_992_000, // 2024-01-01 .. 2031-01-01
        length in 1i64..(40 * 86_400),
        split in 0.0..1.0f64,
    ) {
        let from = DateTime::from_timestamp(from, 0).expect("in range");
        let to = from + TimeDelta::seconds(length);
        let query = Interval::new(from, to);
        let periods = calendar.quiet_periods(from, to);

        for pair in periods.windows(2) {
            prop_assert!(pair[0].interval.start <= pair[1].interval.start);
        }
        for period in &periods {
            prop_assert!(!period.interval.is_empty());
            prop_assert!(period.interval.overlaps(&query));
            prop_assert_eq!(period.interval.start.timestamp() % 60, 0);
            prop_assert_eq!(period.interval.end.timestamp() % 60, 0);
            prop_assert!(period.interval.end - period.interval.start <= TimeDelta::hours(30));
        }

        let mid = from + TimeDelta::seconds(((length as f64) * split) as i64);
        let mut parts = calendar.quiet_periods(from, mid);
        parts.extend(calendar.quiet_periods(mid, to));
        prop_assert_eq!(sorted(parts), sorted(periods.clone()));

        // Chains of Shabbat and Yom Tov (erev and Yom HaZikaron aside).
        let mut chain: Option<Interval> = None;
        for period in periods.iter().filter(|p| p.reason == QuietReason::Shabbat || p.reason.is_yom_tov()) {
            chain = match chain {
                Some(open) if open.end == period.interval.start => Some(Interval::new(open.start, period.interval.end)),
                _ => Some(period.interval),
            };
            let open = chain.expect("just set");
            prop_assert!(open.end - open.start <= TimeDelta::days(3) + TimeDelta::hours(6), "{:?}", open);
        }
    }

    /// Quiet periods: `quiet_at` is true exactly inside some period.
    #[test]
    fn quiet_at_is_membership(
        calendar in any_calendar(),
        at in 1_704_067_200i64..1_924_992_000,
    ) {
        let at = DateTime::from_timestamp(at, 0).expect("in range");
        let periods = calendar.quiet_periods(at - TimeDelta::days(4), at + TimeDelta::days(4));
        let inside = periods.iter().any(|p| p.interval.contains(at));
        prop_assert_eq!(calendar.quiet_at(at).is_some(), inside);
    }
}
