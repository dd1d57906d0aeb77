//! The Israeli calendar the box keeps quiet on, computed, never typed in: Shabbat and
//! the Israeli Yom Tov days from candle-lighting (minutes before sea-level sunset) to
//! nightfall (the sun a configured angle below the horizon), at the box's location.
//!
//! No I/O and no clock: every function takes the instant or date it is about.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

/// A half-open span of time, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self { start, end }
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// Why a span of time is quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuietReason {
    Shabbat,
    RoshHashana,
    YomKippur,
    Sukkot,
    SheminiAtzeret,
    Pesach,
    Shavuot,
    ErevShabbat,
    ErevChag,
    YomHazikaron,
}

/// When Shabbat and Yom Tov end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Havdalah {
    /// When the sun is this many degrees below the horizon (tzeit); 8.5 by default.
    Degrees(f64),
    /// A fixed number of minutes after sunset.
    Minutes(u32),
}

/// Which quiet periods apply.
#[derive(Debug, Clone, PartialEq)]
pub struct QuietRules {
    /// Shabbat, candle-lighting Friday to nightfall Saturday.
    pub shabbat: bool,
    /// The Israeli Yom Tov days, the same evening-to-nightfall rule.
    pub holidays: bool,
    /// When set, the afternoon before Shabbat or a Yom Tov is quiet too, from this
    /// local time until candle-lighting.
    pub erev_from: Option<NaiveTime>,
    /// Yom HaZikaron (with the Knesset's moves around Shabbat), sunset to nightfall.
    pub yom_hazikaron: bool,
    /// Minutes before sunset; `None` takes the location's custom.
    pub candle_lighting_minutes: Option<u32>,
    pub havdalah: Havdalah,
}

impl Default for QuietRules {
    fn default() -> Self {
        Self {
            shabbat: true,
            holidays: true,
            erev_from: None,
            yom_hazikaron: false,
            candle_lighting_minutes: None,
            havdalah: Havdalah::Degrees(8.5),
        }
    }
}

/// One quiet span and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct QuietPeriod {
    pub interval: Interval,
    pub reason: QuietReason,
}

/// Where the box is: sunset and nightfall are computed here.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    pub name: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The city's custom, used when the rules do not set one (40 in Jerusalem, 30 in
    /// Haifa, 20 elsewhere in Israel).
    pub candle_lighting_minutes: u32,
    pub time_zone: chrono_tz::Tz,
}

/// The calendar for one location and set of rules.
#[derive(Debug, Clone)]
pub struct IsraeliCalendar {
    location: Location,
    rules: QuietRules,
}

impl IsraeliCalendar {
    pub fn new(location: Location, rules: QuietRules) -> Self {
        Self { location, rules }
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub fn rules(&self) -> &QuietRules {
        &self.rules
    }
}

#[allow(dead_code)]
fn _api_shape(_: NaiveDate) {}
