//! Calling windows: the weekly hours a campaign may call, in wall-clock time of a
//! zone, and the calculus that turns them — with the schedule and the quiet periods —
//! into the exact instants calls are allowed.
//!
//! A window is "the wall clock reads between these times": on the day Israel moves
//! its clocks forward, 00:00–24:00 lasts 23 hours; on the day it moves them back, 25.
//! A time the clock skips maps to the moment of the jump; a window over a time the
//! clock shows twice holds each instant it is shown.

use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike,
    Utc,
};
use chrono_tz::Tz;
use serde::Serialize;
use shofar_calendar::{Interval, IsraeliCalendar, QuietReason};

/// Minutes since local midnight, `0..=1440` (1440 is the end of the day, "24:00").
pub type Minute = u16;

/// One window of a day, `[start, end)` in wall-clock minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeRange {
    pub start: Minute,
    pub end: Minute,
}

impl TimeRange {
    /// Reads `HH:MM-HH:MM` (the end may be `24:00`).
    pub fn parse(text: &str) -> Result<TimeRange, String> {
        let (start, end) = text
            .split_once('-')
            .or_else(|| text.split_once('–'))
            .ok_or_else(|| format!("{text:?} is not a range like \"09:00-20:00\""))?;
        let range = TimeRange {
            start: parse_minute(start.trim())?,
            end: parse_minute(end.trim())?,
        };
        if range.end <= range.start {
            return Err(format!(
                "{range} ends before it starts (a window cannot cross midnight: give each \
                 day its own part)"
            ));
        }
        Ok(range)
    }

    pub fn contains(&self, minute: Minute) -> bool {
        self.start <= minute && minute < self.end
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            format_minute(self.start),
            format_minute(self.end)
        )
    }
}

/// Reads `HH:MM` (or `H:MM`), `00:00` to `24:00`.
pub fn parse_minute(text: &str) -> Result<Minute, String> {
    let bad = || format!("{text:?} is not a time like \"09:00\"");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes > 59 || hours > 24 || (hours == 24 && minutes > 0) {
        return Err(format!("{text:?} is not a time of day (00:00 to 24:00)"));
    }
    Ok(hours * 60 + minutes)
}

pub fn format_minute(minute: Minute) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// The windows of each day of the week, Sunday first (the Israeli week).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeeklyWindows {
    days: [Vec<TimeRange>; 7],
}

/// Day names as the settings spell them, Sunday first.
pub const DAY_NAMES: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

impl WeeklyWindows {
    /// Windows from each day's ranges, Sunday first. Ranges are sorted; overlapping
    /// ranges are an error naming the day and both ranges.
    pub fn new(mut days: [Vec<TimeRange>; 7]) -> Result<WeeklyWindows, (usize, String)> {
        for (index, ranges) in days.iter_mut().enumerate() {
            ranges.sort();
            for pair in ranges.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err((index, format!("{} overlaps {}", pair[0], pair[1])));
                }
            }
        }
        Ok(WeeklyWindows { days })
    }

    /// Common practice in Israel: Sunday–Thursday 09:00–20:00, Friday 09:00–13:00,
    /// nothing on Saturday.
    pub fn israeli_default() -> WeeklyWindows {
        let day = |start, end| vec![TimeRange { start, end }];
        WeeklyWindows {
            days: [
                day(540, 1200),
                day(540, 1200),
                day(540, 1200),
                day(540, 1200),
                day(540, 1200),
                day(540, 780),
                Vec::new(),
            ],
        }
    }

    /// The ranges of a day, `0` = Sunday.
    pub fn day(&self, days_from_sunday: usize) -> &[TimeRange] {
        &self.days[days_from_sunday % 7]
    }

    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Whether the wall clock at `local` reads inside a window.
    pub fn contains_local(&self, local: NaiveDateTime) -> bool {
        let day = local.weekday().num_days_from_sunday() as usize;
        let minute = (local.time().num_seconds_from_midnight() / 60) as Minute;
        self.days[day].iter().any(|range| range.contains(minute))
    }

    /// The instants inside a window, for the wall clock of `zone`, that overlap
    /// `[from, to)`; sorted, disjoint, not clipped.
    pub fn intervals(&self, zone: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Interval> {
        let mut out: Vec<Interval> = Vec::new();
        if to <= from {
            return out;
        }
        // A day's windows start on its own date; pad a day each side for zones far
        // from UTC.
        let first = from.with_timezone(&zone).date_naive().pred_opt();
        let last = to.with_timezone(&zone).date_naive().succ_opt();
        let (Some(first), Some(last)) = (first, last) else {
            return out;
        };
        for date in first.iter_days().take_while(|d| *d <= last) {
            let day = date.weekday().num_days_from_sunday() as usize;
            for range in &self.days[day] {
                for interval in wall_span(zone, date, *range) {
                    if interval.is_empty() || !interval.overlaps(&Interval::new(from, to)) {
                        continue;
                    }
                    // 20:00-24:00 then 00:00-09:00 the next day are one stretch.
                    match out.last_mut() {
                        Some(previous) if previous.end >= interval.start => {
                            previous.end = previous.end.max(interval.end)
                        }
                        _ => out.push(interval),
                    }
                }
            }
        }
        out
    }
}

/// The instants at which the wall clock of `zone` reads inside `range` on `date`.
///
/// Offsets change at most once within a day either side of a window in any real
/// zone, so the day is read with the offset before the change up to its instant and
/// with the offset after it from then on: a skipped time maps to the moment of the
/// jump, and a window over a time shown twice holds exactly the instants it is shown.
fn wall_span(zone: Tz, date: NaiveDate, range: TimeRange) -> Vec<Interval> {
    let midnight = date.and_time(NaiveTime::MIN);
    let open = midnight + Duration::minutes(i64::from(range.start));
    let close = midnight + Duration::minutes(i64::from(range.end));
    let offset_at = |at: DateTime<Utc>| {
        Duration::seconds(i64::from(
            zone.offset_from_utc_datetime(&at.naive_utc())
                .fix()
                .local_minus_utc(),
        ))
    };
    let span = |offset: Duration| Interval::new(utc(open - offset), utc(close - offset));
    let (before, after) = (
        utc(open - Duration::days(1)),
        utc(close + Duration::days(1)),
    );
    let (first, last) = (offset_at(before), offset_at(after));
    if first == last {
        return vec![span(first)];
    }
    // The instant of the change: the first whole second with the later offset
    // (every real zone changes on a whole second).
    let (mut low, mut high) = (before.timestamp(), after.timestamp());
    let at = |seconds: i64| DateTime::from_timestamp(seconds, 0).unwrap_or(before);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if offset_at(at(middle)) == first {
            low = middle;
        } else {
            high = middle;
        }
    }
    let change = at(high);
    let (early, late) = (span(first), span(last));
    [
        Interval::new(early.start, early.end.min(change)),
        Interval::new(late.start.max(change), late.end),
    ]
    .into_iter()
    .filter(|piece| !piece.is_empty())
    .collect()
}

fn utc(naive: NaiveDateTime) -> DateTime<Utc> {
    Utc.from_utc_datetime(&naive)
}

/// Why a stretch of time is not for calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockReason {
    BeforeStart,
    AfterEnd,
    Quiet(QuietReason),
    OutsideWindow,
}

impl BlockReason {
    /// The reason as `shofar calendar --json` and the API spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            BlockReason::BeforeStart => "before_start",
            BlockReason::AfterEnd => "after_end",
            BlockReason::OutsideWindow => "outside_window",
            BlockReason::Quiet(reason) => quiet_reason_str(*reason),
        }
    }

    /// Which reason names a stretch that several cover: the schedule first, then the
    /// holiday, then the weekly hours.
    fn rank(&self) -> u8 {
        match self {
            BlockReason::AfterEnd => 0,
            BlockReason::BeforeStart => 1,
            BlockReason::Quiet(_) => 2,
            BlockReason::OutsideWindow => 3,
        }
    }
}

impl Serialize for BlockReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for BlockReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub fn quiet_reason_str(reason: QuietReason) -> &'static str {
    match reason {
        QuietReason::Shabbat => "shabbat",
        QuietReason::RoshHashana => "rosh_hashana",
        QuietReason::YomKippur => "yom_kippur",
        QuietReason::Sukkot => "sukkot",
        QuietReason::SheminiAtzeret => "shemini_atzeret",
        QuietReason::Pesach => "pesach",
        QuietReason::Shavuot => "shavuot",
        QuietReason::ErevShabbat => "erev_shabbat",
        QuietReason::ErevChag => "erev_chag",
        QuietReason::YomHazikaron => "yom_hazikaron",
    }
}

/// A stretch of time that is not for calling, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Blocked {
    #[serde(flatten)]
    pub interval: Interval,
    pub reason: BlockReason,
}

/// When calls are allowed in a span of time, and why the rest is not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CallingPlan {
    pub allowed: Vec<Interval>,
    pub blocked: Vec<Blocked>,
}

/// Everything that decides whether a contact may be called at an instant: the
/// schedule, the weekly windows (in the contact's zone, else the campaign's) and the
/// quiet periods (computed at the box's location).
#[derive(Debug, Clone)]
pub struct CallingPolicy {
    pub zone: Tz,
    pub windows: WeeklyWindows,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// `None`: no quiet periods.
    pub calendar: Option<IsraeliCalendar>,
}

/// How far ahead [`CallingPolicy::next_open`] looks: longer than any run of
/// holidays, Shabbat and closed weekdays together.
pub const LOOKAHEAD_DAYS: i64 = 21;

impl CallingPolicy {
    /// Whether a call to a contact in `zone` (`None`: the campaign's) may start at
    /// `at`. Decided from the definitions directly, not from [`Self::plan`], so the two
    /// can be checked against each other.
    pub fn is_open(&self, zone: Option<Tz>, at: DateTime<Utc>) -> bool {
        if self.start.is_some_and(|start| at < start) || self.end.is_some_and(|end| at >= end) {
            return false;
        }
        let local = at.with_timezone(&zone.unwrap_or(self.zone)).naive_local();
        if !self.windows.contains_local(local) {
            return false;
        }
        match &self.calendar {
            None => true,
            Some(calendar) => calendar
                .quiet_periods(at, at + Duration::milliseconds(1))
                .iter()
                .all(|period| !period.interval.contains(at)),
        }
    }

    /// The allowed stretches of `[from, to)` and the blocked ones with their reasons,
    /// for a contact in `zone` (`None`: the campaign's). Together they cover the span
    /// exactly, without overlap.
    pub fn plan(&self, zone: Option<Tz>, from: DateTime<Utc>, to: DateTime<Utc>) -> CallingPlan {
        let mut plan = CallingPlan::default();
        if to <= from {
            return plan;
        }
        let windows = self.windows.intervals(zone.unwrap_or(self.zone), from, to);
        let quiet = match &self.calendar {
            None => Vec::new(),
            Some(calendar) => calendar.quiet_periods(from, to),
        };
        // Every instant where some answer may change, then each piece between two.
        let mut cuts = vec![from, to];
        cuts.extend(self.start.into_iter().chain(self.end));
        for interval in windows.iter().chain(quiet.iter().map(|p| &p.interval)) {
            cuts.push(interval.start);
            cuts.push(interval.end);
        }
        cuts.retain(|cut| *cut >= from && *cut <= to);
        cuts.sort();
        cuts.dedup();
        for piece in cuts.windows(2) {
            let (start, end) = (piece[0], piece[1]);
            let verdict = self.verdict_at(start, &windows, &quiet);
            let interval = Interval::new(start, end);
            match verdict {
                None => match plan.allowed.last_mut() {
                    Some(last) if last.end == start => last.end = end,
                    _ => plan.allowed.push(interval),
                },
                Some(reason) => match plan.blocked.last_mut() {
                    Some(last) if last.interval.end == start && last.reason == reason => {
                        last.interval.end = end
                    }
                    _ => plan.blocked.push(Blocked { interval, reason }),
                },
            }
        }
        plan
    }

    /// The reason the piece starting at `at` is blocked, or `None` if it is allowed.
    fn verdict_at(
        &self,
        at: DateTime<Utc>,
        windows: &[Interval],
        quiet: &[shofar_calendar::QuietPeriod],
    ) -> Option<BlockReason> {
        let mut reasons = Vec::with_capacity(2);
        if self.start.is_some_and(|start| at < start) {
            reasons.push(BlockReason::BeforeStart);
        }
        if self.end.is_some_and(|end| at >= end) {
            reasons.push(BlockReason::AfterEnd);
        }
        if let Some(period) = quiet.iter().find(|period| period.interval.contains(at)) {
            reasons.push(BlockReason::Quiet(period.reason));
        }
        if !windows.iter().any(|window| window.contains(at)) {
            reasons.push(BlockReason::OutsideWindow);
        }
        reasons.into_iter().min_by_key(BlockReason::rank)
    }

    /// Whether calls are allowed at `at`, and until when or from when.
    pub fn gate(&self, zone: Option<Tz>, at: DateTime<Utc>) -> Gate {
        if self.end.is_some_and(|end| at >= end) {
            return Gate::Ended;
        }
        let horizon = at + Duration::days(LOOKAHEAD_DAYS);
        let plan = self.plan(zone, at, horizon);
        match plan.allowed.first() {
            Some(first) if first.start == at => Gate::Open { until: first.end },
            Some(first) => Gate::Closed {
                reason: plan
                    .blocked
                    .first()
                    .map(|b| b.reason)
                    .unwrap_or(BlockReason::OutsideWindow),
                reopens: Some(first.start),
            },
            None => Gate::Closed {
                reason: plan
                    .blocked
                    .first()
                    .map(|b| b.reason)
                    .unwrap_or(BlockReason::OutsideWindow),
                reopens: None,
            },
        }
    }
}

/// Whether a campaign may dial now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Gate {
    /// Calls may start until `until` (the end of this allowed stretch).
    Open { until: DateTime<Utc> },
    /// No calls now; `reopens` is when they may (`None`: not within three weeks).
    Closed {
        reason: BlockReason,
        reopens: Option<DateTime<Utc>>,
    },
    /// The campaign's end has passed: no new calls, and calls still up are ended
    /// (property 7).
    Ended,
}
