//! Candle-lighting, nightfall and the quiet periods they bound.

use chrono::{
    DateTime, Datelike, Days, LocalResult, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc, Weekday,
};

use crate::{Havdalah, Interval, IsraeliCalendar, QuietPeriod, QuietReason, hebrew, sun};

/// `at` with its seconds (and fractions) dropped.
fn floor_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at - TimeDelta::seconds(i64::from(at.second()))
        - TimeDelta::nanoseconds(i64::from(at.nanosecond()))
}

/// `at` to the nearest minute, half a minute and more rounding up (fractions of a
/// second are dropped first), as hebcal rounds havdalah.
fn round_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_minute(at);
    if at.second() >= 30 {
        floor + TimeDelta::minutes(1)
    } else {
        floor
    }
}

fn minutes(count: u32) -> TimeDelta {
    TimeDelta::minutes(i64::from(count))
}

impl IsraeliCalendar {
    /// The candle-lighting minutes in force: the rules' if set, else the location's.
    pub fn candle_lighting_minutes(&self) -> u32 {
        self.rules
            .candle_lighting_minutes
            .unwrap_or(self.location.candle_lighting_minutes)
    }

    /// Sea-level sunset at the location on `date`, unrounded; `None` if the sun does
    /// not set.
    pub fn sunset(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        sun::sunset(date, self.location.latitude, self.location.longitude)
    }

    /// Candle-lighting on `date`: sea-level sunset with its seconds dropped, minus the
    /// candle-lighting minutes (hebcal's rounding: never later than the exact time).
    /// `None` if the sun does not set.
    pub fn candle_lighting(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        floor_minute(self.sunset(date)?).checked_sub_signed(minutes(self.candle_lighting_minutes()))
    }

    /// Nightfall (havdalah) on `date` by `rules.havdalah`: tzeit at the angle rounded to
    /// the nearest minute, or sunset rounded to the nearest minute plus the minutes
    /// (both as hebcal rounds). `None` if the sun does not get there that evening.
    pub fn nightfall(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let location = &self.location;
        match self.rules.havdalah {
            Havdalah::Degrees(degrees) => {
                sun::tzeit(date, location.latitude, location.longitude, degrees).map(round_minute)
            }
            Havdalah::Minutes(after) => {
                round_minute(self.sunset(date)?).checked_add_signed(minutes(after))
            }
        }
    }

    /// The Israeli Yom Tov on `date`, whatever the rules (see [`hebrew::yom_tov`]).
    pub fn yom_tov(&self, date: NaiveDate) -> Option<QuietReason> {
        hebrew::yom_tov(date)
    }

    /// Whether the daytime of `date` is quiet under the rules, and why: a Yom Tov when
    /// `holidays` (it wins over Shabbat on the same day), else Shabbat when `shabbat`.
    pub fn quiet_day(&self, date: NaiveDate) -> Option<QuietReason> {
        self.rules
            .holidays
            .then(|| hebrew::yom_tov(date))
            .flatten()
            .or_else(|| {
                (self.rules.shabbat && date.weekday() == Weekday::Sat)
                    .then_some(QuietReason::Shabbat)
            })
    }

    /// Why `at` is quiet, or `None` if it is not.
    pub fn quiet_at(&self, at: DateTime<Utc>) -> Option<QuietReason> {
        let after = at.checked_add_signed(TimeDelta::nanoseconds(1))?;
        self.quiet_periods(at, after)
            .into_iter()
            .find(|period| period.interval.contains(at))
            .map(|period| period.reason)
    }

    /// Every quiet period overlapping `[from, to)`, sorted by start, not clipped (the
    /// caller clips). Empty when `to <= from`.
    ///
    /// Quiet periods:
    /// - *quiet day*: a quiet day D ([`Self::quiet_day`]) is quiet from candle-lighting
    ///   on D−1 until nightfall of D, labelled with D's reason;
    /// - *chains*: if D−1 is itself a quiet day, D starts at nightfall of D−1 instead,
    ///   so consecutive quiet days (Rosh Hashana's two days, a Yom Tov next to
    ///   Shabbat) form one contiguous chain, each segment labelled by its own day —
    ///   Shabbat followed by a Yom Tov on Sunday: the Yom Tov starts at nightfall
    ///   after Shabbat, as published calendars have it;
    /// - *erev*: with `erev_from = Some(t)`, the day before a chain is quiet from local
    ///   time `t` (in the location's zone) until candle-lighting, `ErevChag` before a
    ///   Yom Tov and `ErevShabbat` before Shabbat (nothing if `t` is after
    ///   candle-lighting);
    /// - *Yom HaZikaron*: with `yom_hazikaron`, from sunset (to the nearest minute) the
    ///   evening before until nightfall of the day ([`crate::yom_hazikaron_date`]);
    /// - *whole minutes*: every period starts and ends on a whole minute, the minute
    ///   the calendars print; every period is non-empty;
    /// - *split-invariant*: the periods of `[a, c)` are exactly those of `[a, b)` and
    ///   `[b, c)` together;
    /// - *fail-safe*: where the sun never sets or never gets dark enough (not in
    ///   Israel), candle-lighting and sunset fall back to local noon of the day before
    ///   and nightfall to the end of the day.
    ///
    /// Computed in UTC from per-day work only (one Hebrew date and at most a few sun
    /// positions per day), so DST switches need no special care; the zone is used
    /// only for civil dates and `erev_from`.
    pub fn quiet_periods(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<QuietPeriod> {
        if to <= from {
            return Vec::new();
        }
        let zone = self.location.time_zone;
        let first = from.with_timezone(&zone).date_naive();
        let last = to.with_timezone(&zone).date_naive();
        // A quiet day's periods lie between local midnight of the day before and the
        // end of the day, so days from first−2 to last+1 can overlap; one more day
        // before that for the "is the day before quiet" question.
        let (Some(lo), Some(hi)) = (
            first.checked_sub_days(Days::new(3)),
            last.checked_add_days(Days::new(1)),
        ) else {
            return Vec::new();
        };
        let days: Vec<(NaiveDate, Option<QuietReason>)> = lo
            .iter_days()
            .take_while(|day| *day <= hi)
            .map(|day| (day, self.quiet_day(day)))
            .collect();

        let mut periods = Vec::new();
        let mut push = |start: DateTime<Utc>, end: DateTime<Utc>, reason| {
            periods.push(QuietPeriod {
                interval: Interval::new(start, end),
                reason,
            });
        };
        for pair in days.windows(2) {
            let [(eve, eve_reason), (day, Some(reason))] = *pair else {
                continue;
            };
            let end = self.night_end(day);
            if eve_reason.is_some() {
                push(self.night_end(eve), end, reason);
                continue;
            }
            let start = self.candles_or_noon(eve);
            if let Some(from_time) = self.rules.erev_from {
                let erev = if reason.is_yom_tov() {
                    QuietReason::ErevChag
                } else {
                    QuietReason::ErevShabbat
                };
                push(self.local_instant(eve, from_time), start, erev);
            }
            push(start, end, reason);
        }

        if self.rules.yom_hazikaron {
            let first_year = hebrew::hebrew_year(lo).unwrap_or(i32::MAX);
            let last_year = hebrew::hebrew_year(hi).unwrap_or(i32::MIN);
            for year in first_year..=last_year {
                let Some(day) = hebrew::yom_hazikaron_date(year) else {
                    continue;
                };
                let Some(eve) = day.pred_opt().filter(|eve| lo <= *eve && day <= hi) else {
                    continue;
                };
                let start = self
                    .sunset(eve)
                    .map(round_minute)
                    .unwrap_or_else(|| self.local_noon(eve));
                push(start, self.night_end(day), QuietReason::YomHazikaron);
            }
        }

        let query = Interval::new(from, to);
        periods.retain(|period| !period.interval.is_empty() && period.interval.overlaps(&query));
        periods.sort_by_key(|period| (period.interval, period.reason));
        periods
    }

    /// Nightfall of `date`, or (where it never gets dark enough) the end of the day.
    fn night_end(&self, date: NaiveDate) -> DateTime<Utc> {
        self.nightfall(date).unwrap_or_else(|| {
            let next = date.succ_opt().unwrap_or(date);
            self.local_instant(next, NaiveTime::MIN)
        })
    }

    /// Candle-lighting on `date`, or (where the sun does not set) local noon.
    fn candles_or_noon(&self, date: NaiveDate) -> DateTime<Utc> {
        self.candle_lighting(date)
            .unwrap_or_else(|| self.local_noon(date))
    }

    fn local_noon(&self, date: NaiveDate) -> DateTime<Utc> {
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap_or(NaiveTime::MIN);
        self.local_instant(date, noon)
    }

    /// The instant the location's clocks show `time` on `date`. A time shown twice
    /// (autumn) is the first; a time skipped (spring) is read on the clock from
    /// before the jump, i.e. that much after the jump.
    fn local_instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let zone = self.location.time_zone;
        let wall = date.and_time(time);
        match zone.from_local_datetime(&wall) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
            LocalResult::None => {
                // In a gap: the offset from just before it applies.
                let before = zone
                    .from_local_datetime(&(wall - TimeDelta::hours(3)))
                    .earliest()
                    .map(|at| at.offset().fix().local_minus_utc());
                let offset = before.unwrap_or(0);
                wall.and_utc() - TimeDelta::seconds(i64::from(offset))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Location, QuietRules};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|day| day.and_hms_opt(h, mi, s))
            .expect("valid")
            .and_utc()
    }

    #[test]
    fn rounding_matches_hebcal() {
        assert_eq!(
            floor_minute(utc(2025, 1, 1, 15, 59, 59)),
            utc(2025, 1, 1, 15, 59, 0)
        );
        assert_eq!(
            round_minute(utc(2025, 1, 1, 15, 59, 29)),
            utc(2025, 1, 1, 15, 59, 0)
        );
        assert_eq!(
            round_minute(utc(2025, 1, 1, 15, 59, 30)),
            utc(2025, 1, 1, 16, 0, 0)
        );
        let almost = utc(2025, 1, 1, 15, 59, 29) + TimeDelta::milliseconds(999);
        assert_eq!(
            round_minute(almost),
            utc(2025, 1, 1, 15, 59, 0),
            "millis dropped first"
        );
    }

    #[test]
    fn spring_gap_is_read_on_the_old_clock() {
        let calendar = IsraeliCalendar::new(Location::jerusalem(), QuietRules::default());
        // 2026-03-27 02:00 IST → 03:00 IDT: 02:30 does not exist.
        let day = NaiveDate::from_ymd_opt(2026, 3, 27).expect("valid");
        let half_past_two = NaiveTime::from_hms_opt(2, 30, 0).expect("valid");
        assert_eq!(
            calendar.local_instant(day, half_past_two),
            utc(2026, 3, 27, 0, 30, 0)
        );
        // 2026-10-25 02:00 IDT → 01:00 IST: 01:30 happens twice, the first is taken.
        let day = NaiveDate::from_ymd_opt(2026, 10, 25).expect("valid");
        let half_past_one = NaiveTime::from_hms_opt(1, 30, 0).expect("valid");
        assert_eq!(
            calendar.local_instant(day, half_past_one),
            utc(2026, 10, 24, 22, 30, 0)
        );
    }

    #[test]
    fn polar_custom_location_falls_back_to_whole_days() {
        let north = Location::custom("svalbard", 78.2, 15.6, 20);
        let calendar = IsraeliCalendar::new(north, QuietRules::default());
        // Midsummer: no sunset, no nightfall. Shabbat 2025-06-21.
        let periods = calendar.quiet_periods(utc(2025, 6, 20, 0, 0, 0), utc(2025, 6, 22, 0, 0, 0));
        assert_eq!(periods.len(), 1);
        let period = periods[0];
        assert_eq!(period.reason, QuietReason::Shabbat);
        // Local noon Friday (IDT) to local midnight after Saturday.
        assert_eq!(period.interval.start, utc(2025, 6, 20, 9, 0, 0));
        assert_eq!(period.interval.end, utc(2025, 6, 21, 21, 0, 0));
    }
}
