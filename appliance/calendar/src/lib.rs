//! The Israeli calendar the box keeps quiet on, computed, never typed in: Shabbat and
//! the Israeli Yom Tov days from candle-lighting (minutes before sea-level sunset) to
//! nightfall (the sun a configured angle below the horizon), at the box's location.
//!
//! No I/O and no clock: every function takes the instant or date it is about.
//!
//! # Decisions
//!
//! - **Sun**: the NOAA solar equations (Meeus), evaluated step for step as the NOAA
//!   calculators of KosherJava and hebcal (`@hebcal/noaa`) evaluate them, so that our
//!   times are the times Israeli calendars publish. Sunset is *sea-level* sunset
//!   (elevation ignored), as hebcal uses for candle-lighting in Israel; nightfall is
//!   tzeit at 8.5° below the horizon by default. See [`sun`].
//! - **Rounding**: as hebcal rounds. Candle-lighting is sunset with its seconds
//!   dropped, minus the minutes (never later than the true time); havdalah is
//!   rounded to the nearest minute, half a minute rounding up. Every quiet period
//!   therefore starts and ends on a whole minute, the minute printed in the calendars.
//! - **Hebrew dates**: `icu_calendar`'s arithmetic Hebrew calendar, no locale data.
//! - **Israel**: one day of Yom Tov; Yom HaZikaron moved by the Knesset's rules.
//! - **Licences**: `icu_calendar` is Unicode-3.0 and the NOAA equations are public;
//!   the firmware binary is statically linked, so the LGPL ports of zmanim
//!   (KosherJava, `@hebcal/noaa`) and GPL hebcal are not linked or copied in. hebcal
//!   only generated the reference times the tests check us against
//!   (`tests/data/hebcal_reference.mjs`).

pub mod hebrew;
mod location;
mod quiet;
pub mod sun;

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

pub use hebrew::{yom_haatzmaut_date, yom_hazikaron_date};
pub use location::Location;

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

impl QuietReason {
    /// Whether this is one of the Yom Tov days (not Shabbat, an erev or Yom HaZikaron).
    pub fn is_yom_tov(self) -> bool {
        matches!(
            self,
            QuietReason::RoshHashana
                | QuietReason::YomKippur
                | QuietReason::Sukkot
                | QuietReason::SheminiAtzeret
                | QuietReason::Pesach
                | QuietReason::Shavuot
        )
    }
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
