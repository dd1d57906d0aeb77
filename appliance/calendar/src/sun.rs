//! Sunset and nightfall from NOAA's solar equations (after Meeus, *Astronomical
//! Algorithms*), evaluated the way the NOAA calculators of KosherJava and hebcal
//! evaluate them, so our minutes are the minutes those calendars publish.
//!
//! For a civil date the sun's position is taken at the date's 0h UT, refined once at
//! solar noon and once more at the event itself. Results are accurate to about a
//! minute between ±72° latitude; near the poles, where the sun does not reach the
//! asked-for depression that day, the answer is `None`.
//!
//! Times come back to the millisecond, decomposed from fractional hours as the
//! reference calculators do; callers round to the minute (see
//! [`crate::IsraeliCalendar::candle_lighting`]).

use core::f64::consts::PI;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeDelta, Utc};

/// The zenith of the sun's centre when its upper edge touches a sea-level horizon:
/// 90° plus its apparent radius (16′) plus standard refraction (34′).
const SEA_LEVEL_SUNSET_ZENITH: f64 = 90.0 + (16.0 / 60.0 + 34.0 / 60.0);

/// Julian day of 2000-01-01 12:00 TT (J2000.0).
const J2000: f64 = 2_451_545.0;
/// Days in a Julian century.
const DAYS_PER_CENTURY: f64 = 36_525.0;

/// Sea-level sunset on `date` at `latitude`/`longitude` (degrees, north and east
/// positive): the upper edge of the sun meets a flat horizon, elevation ignored.
///
/// `None` when the sun does not set that day (polar day or night).
pub fn sunset(date: NaiveDate, latitude: f64, longitude: f64) -> Option<DateTime<Utc>> {
    evening(date, latitude, longitude, SEA_LEVEL_SUNSET_ZENITH)
}

/// Tzeit: when the sun's centre is `degrees` below the geometric horizon in the
/// evening of `date` (8.5 is three small stars, the Israeli custom for havdalah).
///
/// `None` when the sun does not get that low that evening.
pub fn tzeit(
    date: NaiveDate,
    latitude: f64,
    longitude: f64,
    degrees: f64,
) -> Option<DateTime<Utc>> {
    evening(date, latitude, longitude, 90.0 + degrees)
}

/// When the sun's centre reaches `zenith` (degrees from straight up) in the evening.
fn evening(date: NaiveDate, latitude: f64, longitude: f64, zenith: f64) -> Option<DateTime<Utc>> {
    if !(latitude.is_finite() && longitude.is_finite() && zenith.is_finite()) {
        return None;
    }
    let minutes = setting_minutes_utc(julian_day(date), latitude, -longitude, zenith);
    instant(date, minutes)
}

/// The Julian day at 0h UT of a civil (proleptic Gregorian) date.
///
/// Exactly Meeus's value. (From 2100 on, `@hebcal/noaa`'s JavaScript port takes
/// Meeus's century term with a float division and lands a day off; KosherJava and we
/// do not. For 2000–2099 all agree.)
fn julian_day(date: NaiveDate) -> f64 {
    // 2000-01-01 00:00 UT is JD 2451544.5; whole days on either side are exact in f64.
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let days = date.signed_duration_since(epoch).num_days();
    J2000 - 0.5 + days as f64
}

fn centuries_since_j2000(julian_day: f64) -> f64 {
    (julian_day - J2000) / DAYS_PER_CENTURY
}

fn julian_day_of_centuries(centuries: f64) -> f64 {
    centuries * DAYS_PER_CENTURY + J2000
}

fn radians(degrees: f64) -> f64 {
    degrees * PI / 180.0
}

fn degrees(radians: f64) -> f64 {
    radians * 180.0 / PI
}

/// Geometric mean longitude of the sun, degrees in `[0, 360)`.
fn mean_longitude(t: f64) -> f64 {
    let l0 = 280.46646 + t * (36000.76983 + 0.0003032 * t);
    l0.rem_euclid(360.0)
}

/// Geometric mean anomaly of the sun, degrees.
fn mean_anomaly(t: f64) -> f64 {
    357.52911 + t * (35999.05029 - 0.0001537 * t)
}

/// Eccentricity of the earth's orbit.
fn eccentricity(t: f64) -> f64 {
    0.016708634 - t * (0.000042037 + 0.0000001267 * t)
}

/// The sun's equation of centre, degrees.
fn equation_of_centre(t: f64) -> f64 {
    let m = radians(mean_anomaly(t));
    m.sin() * (1.914602 - t * (0.004817 + 0.000014 * t))
        + (m + m).sin() * (0.019993 - 0.000101 * t)
        + (m + m + m).sin() * 0.000289
}

/// Longitude of the moon's ascending node, for nutation, degrees.
fn node_longitude(t: f64) -> f64 {
    125.04 - 1934.136 * t
}

/// The sun's apparent longitude (corrected for nutation and aberration), degrees.
fn apparent_longitude(t: f64) -> f64 {
    let true_longitude = mean_longitude(t) + equation_of_centre(t);
    true_longitude - 0.00569 - 0.00478 * radians(node_longitude(t)).sin()
}

/// Obliquity of the ecliptic corrected for nutation, degrees.
fn obliquity(t: f64) -> f64 {
    let seconds = 21.448 - t * (46.815 + t * (0.00059 - t * 0.001813));
    let mean = 23.0 + (26.0 + seconds / 60.0) / 60.0;
    mean + 0.00256 * radians(node_longitude(t)).cos()
}

/// The sun's declination, degrees.
fn declination(t: f64) -> f64 {
    let sine = radians(obliquity(t)).sin() * radians(apparent_longitude(t)).sin();
    degrees(sine.asin())
}

/// Apparent minus mean solar time, minutes.
fn equation_of_time(t: f64) -> f64 {
    let l0 = radians(mean_longitude(t));
    let m = radians(mean_anomaly(t));
    let e = eccentricity(t);
    let half = (radians(obliquity(t)) / 2.0).tan();
    let y = half * half;
    let value = y * (2.0 * l0).sin() - 2.0 * e * m.sin() + 4.0 * e * y * m.sin() * (2.0 * l0).cos()
        - 0.5 * y * y * (4.0 * l0).sin()
        - 1.25 * e * e * (2.0 * m).sin();
    degrees(value) * 4.0
}

/// The hour angle, radians, at which the sun's centre is at `zenith` (setting side:
/// negative). NaN when it never gets there.
fn setting_hour_angle(latitude: f64, declination: f64, zenith: f64) -> f64 {
    let lat = radians(latitude);
    let dec = radians(declination);
    let cosine = radians(zenith).cos() / (lat.cos() * dec.cos()) - lat.tan() * dec.tan();
    -cosine.acos()
}

/// Solar noon, minutes after 0h UT of the Julian day's date, for a longitude in
/// degrees west.
fn solar_noon_minutes(t: f64, west: f64) -> f64 {
    let first = centuries_since_j2000(julian_day_of_centuries(t) + west / 360.0);
    let approximate = 720.0 + west * 4.0 - equation_of_time(first);
    let refined = centuries_since_j2000(julian_day_of_centuries(t) - 0.5 + approximate / 1440.0);
    720.0 + west * 4.0 - equation_of_time(refined)
}

/// Minutes after 0h UT of the date of `julian_day` when the setting sun's centre
/// reaches `zenith`, at `latitude` and `west` (degrees west of Greenwich). NaN when
/// it never does.
fn setting_minutes_utc(julian_day: f64, latitude: f64, west: f64, zenith: f64) -> f64 {
    let t = centuries_since_j2000(julian_day);
    // First estimate with the sun as it is at local solar noon...
    let noon = centuries_since_j2000(julian_day + solar_noon_minutes(t, west) / 1440.0);
    let at = |century: f64| {
        let hour_angle = setting_hour_angle(latitude, declination(century), zenith);
        720.0 + 4.0 * (west - degrees(hour_angle)) - equation_of_time(century)
    };
    let estimate = at(noon);
    // ...then again with the sun as it is at that estimate.
    at(centuries_since_j2000(
        julian_day_of_centuries(t) + estimate / 1440.0,
    ))
}

/// The instant `minutes` after 0h UT of `date`, decomposed into hours, minutes,
/// seconds and milliseconds (each truncated) as the reference calculators do.
fn instant(date: NaiveDate, minutes: f64) -> Option<DateTime<Utc>> {
    if !minutes.is_finite() {
        return None;
    }
    // Bring the time of day into [0, 24) hours, remembering the day it moved by.
    let mut hours = minutes / 60.0;
    let days = (hours / 24.0).floor();
    hours -= days * 24.0;
    if hours >= 24.0 {
        hours -= 24.0;
    }
    let whole_hours = hours.trunc();
    let mut rest = (hours - whole_hours) * 60.0;
    let whole_minutes = rest.trunc();
    rest = (rest - whole_minutes) * 60.0;
    let whole_seconds = rest.trunc();
    let millis = ((rest - whole_seconds) * 1000.0).trunc();

    let day = shift_days(date, days as i64)?;
    let offset = TimeDelta::hours(whole_hours as i64)
        + TimeDelta::minutes(whole_minutes as i64)
        + TimeDelta::seconds(whole_seconds as i64)
        + TimeDelta::milliseconds(millis as i64);
    day.and_time(NaiveTime::MIN)
        .and_utc()
        .checked_add_signed(offset)
}

fn shift_days(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    let magnitude = Days::new(days.unsigned_abs());
    if days >= 0 {
        date.checked_add_days(magnitude)
    } else {
        date.checked_sub_days(magnitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn julian_day_matches_meeus() {
        // Meeus, example 7.a: 1957-10-04.81 is JD 2436116.31.
        assert_eq!(julian_day(date(1957, 10, 4)), 2_436_115.5);
        assert_eq!(julian_day(date(2000, 1, 1)), 2_451_544.5);
        // Before March: the formula's year/month shift must not matter.
        assert_eq!(julian_day(date(2024, 2, 29)), 2_460_369.5);
    }

    #[test]
    fn jerusalem_equinox_sunset_is_near_six_local() {
        // 2025-03-20, Jerusalem: sunset about 15:5x UT (17:5x local, winter time).
        let at = sunset(date(2025, 3, 20), 31.76904, 35.21633).expect("sun sets");
        assert_eq!(at.date_naive(), date(2025, 3, 20));
        assert_eq!(at.hour(), 15);
        let nightfall = tzeit(date(2025, 3, 20), 31.76904, 35.21633, 8.5).expect("dark");
        let gap = (nightfall - at).num_minutes();
        assert!(
            (30..=40).contains(&gap),
            "8.5° is about 36 minutes after sunset: {gap}"
        );
    }

    #[test]
    fn polar_day_and_night_have_no_sunset() {
        assert_eq!(sunset(date(2025, 6, 21), 80.0, 15.0), None);
        assert_eq!(sunset(date(2025, 12, 21), 80.0, 15.0), None);
        assert_eq!(tzeit(date(2025, 6, 21), 60.0, 25.0, 8.5), None);
        assert_eq!(sunset(date(2025, 6, 21), f64::NAN, 15.0), None);
    }

    #[test]
    fn western_longitudes_set_after_midnight_utc() {
        // Honolulu: sunset about 19:00 local (UTC−10) = 05:00 UT the next day.
        let at = sunset(date(2025, 6, 21), 21.30694, -157.85833).expect("sun sets");
        assert_eq!(at.date_naive(), date(2025, 6, 22));
        assert_eq!(at.hour(), 5);
    }
}
