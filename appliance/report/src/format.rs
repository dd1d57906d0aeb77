//! How instants, counts, rates and durations are written: exact RFC 3339 for
//! machines, the Israeli way (dd/mm/yyyy, thousands separators) for people.

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;

/// `instant` in `zone`'s offset at that instant. An instant so close to the end
/// of chrono's range that its local time does not exist stays in UTC (chrono
/// would panic formatting it).
pub(crate) fn in_zone(instant: DateTime<Utc>, zone: Tz) -> DateTime<FixedOffset> {
    let offset = zone.offset_from_utc_datetime(&instant.naive_utc()).fix();
    match instant.naive_utc().checked_add_offset(offset) {
        Some(_) => instant.with_timezone(&offset),
        None => instant.fixed_offset(),
    }
}

/// The wall-clock time of `instant` in `zone` (see [`in_zone`]).
pub(crate) fn local(instant: DateTime<Utc>, zone: Tz) -> NaiveDateTime {
    in_zone(instant, zone).naive_local()
}

/// RFC 3339 with milliseconds and the zone's offset at that instant:
/// `2026-11-22T12:05:00.123+02:00`. Sub-millisecond digits are dropped.
pub fn rfc3339_millis(instant: DateTime<Utc>, zone: Tz) -> String {
    in_zone(instant, zone).to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `22/11/2026 14:05` in `zone`.
pub fn date_time(instant: DateTime<Utc>, zone: Tz) -> String {
    local(instant, zone).format("%d/%m/%Y %H:%M").to_string()
}

/// `2026-11-22 14:05:09` in `zone`: the wall clock to the second, in the one
/// order every spreadsheet reads as a date and time whatever its locale.
pub fn spreadsheet_time(instant: DateTime<Utc>, zone: Tz) -> String {
    local(instant, zone).format("%Y-%m-%d %H:%M:%S").to_string()
}

/// A number as people in Israel write it, as the web UI shows it
/// (`webui/src/lib/format.ts`, `formatPhone`): `+972525551234` → `052-5551234`,
/// `+97236123456` → `03-6123456`, `+9721800123456` → `1-800-123-456`. Numbers of
/// other countries (and anything that is not `+972` and digits) stay as given.
/// Every export writes numbers through this one function.
pub fn phone(e164: &str) -> String {
    let Some(national) = e164.strip_prefix("+972") else {
        return e164.to_owned();
    };
    if national.is_empty() || !national.bytes().all(|b| b.is_ascii_digit()) {
        return e164.to_owned();
    }
    let first = national.as_bytes()[0];
    match (national.len(), first) {
        (10, b'1')
            if national[1..4].ends_with("00")
                && (b'5'..=b'9').contains(&national.as_bytes()[1]) =>
        {
            format!(
                "1-{}-{}-{}",
                &national[1..4],
                &national[4..7],
                &national[7..]
            )
        }
        (9, b'5' | b'7') => format!("0{}-{}", &national[..2], &national[2..]),
        (8, b'2'..=b'4' | b'8' | b'9') => format!("0{}-{}", &national[..1], &national[1..]),
        _ => format!("0{national}"),
    }
}

/// The last day a period's exclusive end `to` includes whole, when `to` is a
/// midnight in `zone` (as [`crate::day_range`] makes it): the day before. `None`
/// for any other instant, which is shown as the instant it is.
pub fn last_day(to: DateTime<Utc>, zone: Tz) -> Option<chrono::NaiveDate> {
    let wall = local(to, zone);
    (wall.time() == chrono::NaiveTime::MIN)
        .then(|| wall.date().pred_opt())
        .flatten()
}

/// How a period's end reads: `07/12/2026` under "until (inclusive)" when it is
/// the midnight after a day, else the instant under "until (exclusive)".
pub(crate) fn until(to: DateTime<Utc>, zone: Tz) -> (crate::labels::Text, String) {
    match last_day(to, zone) {
        Some(day) => (
            crate::labels::Text::PeriodUntil,
            day.format("%d/%m/%Y").to_string(),
        ),
        None => (crate::labels::Text::PeriodBefore, date_time(to, zone)),
    }
}

/// `1,234,567` (Israel writes thousands with commas).
pub fn count(value: u64) -> String {
    group_thousands(&value.to_string())
}

/// A signed count with thousands separators: `-1,234`.
pub fn signed(value: i64) -> String {
    let grouped = group_thousands(&value.unsigned_abs().to_string());
    if value < 0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn group_thousands(digits: &str) -> String {
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// A rate as a percentage with one decimal: `45.5%`; `—` when there is no rate.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) if rate.is_finite() => {
            let tenths = (rate * 1000.0).round();
            // Integer tenths keep the thousands separators and avoid "-0.0".
            let tenths = tenths.clamp(i64::MIN as f64, i64::MAX as f64) as i64;
            let whole = signed(tenths / 10);
            let sign = if tenths < 0 && tenths / 10 == 0 {
                "-"
            } else {
                ""
            };
            format!("{sign}{whole}.{}%", (tenths % 10).unsigned_abs())
        }
        _ => "—".to_owned(),
    }
}

/// A duration as `m:ss`, or `h:mm:ss` from an hour up (hours grow past 24).
pub fn duration(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let seconds = ms.unsigned_abs() / 1000;
    let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if hours > 0 {
        format!("{sign}{}:{minutes:02}:{seconds:02}", count(hours))
    } else {
        format!("{sign}{minutes}:{seconds:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Jerusalem;

    #[test]
    fn counts_have_thousands_separators() {
        let check = |value: u64, expected: &str| assert_eq!(count(value), expected);
        check(0, "0");
        check(999, "999");
        check(1_000, "1,000");
        check(1_234_567, "1,234,567");
        check(u64::MAX, "18,446,744,073,709,551,615");
        assert_eq!(signed(-1_234), "-1,234");
        assert_eq!(signed(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn percentages() {
        let check = |rate: Option<f64>, expected: &str| assert_eq!(percent(rate), expected);
        check(None, "—");
        check(Some(0.0), "0.0%");
        check(Some(0.4555), "45.6%");
        check(Some(1.0), "100.0%");
        check(Some(12.345), "1,234.5%");
        check(Some(-0.05), "-5.0%");
        check(Some(-0.0004), "0.0%");
        check(Some(-0.004), "-0.4%");
        check(Some(f64::NAN), "—");
    }

    #[test]
    fn durations() {
        let check = |ms: i64, expected: &str| assert_eq!(duration(ms), expected);
        check(0, "0:00");
        check(59_999, "0:59");
        check(61_000, "1:01");
        check(3_600_000, "1:00:00");
        check(90_061_000, "25:01:01");
        check(-61_000, "-1:01");
        check(i64::MIN, "-2,562,047,788,015:12:55");
    }

    /// The same cases as the web UI's `formatPhone` (webui/test/format.test.ts):
    /// exports and screens write a number the same way.
    #[test]
    fn phones_in_the_local_form() {
        let check = |e164: &str, expected: &str| assert_eq!(phone(e164), expected);
        check("+972525551234", "052-5551234");
        check("+972544431298", "054-4431298");
        check("+97236123456", "03-6123456");
        check("+97286123456", "08-6123456");
        check("+972722222222", "072-2222222");
        check("+9721800123456", "1-800-123-456");
        check("+9721700123456", "1-700-123-456");
        check("+12125551234", "+12125551234");
        check("+97212", "012");
        check("", "");
        check("+972abc", "+972abc");
    }

    #[test]
    fn instants_in_israel() {
        let winter = "2026-11-22T10:05:00.123456Z".parse().unwrap();
        assert_eq!(
            rfc3339_millis(winter, Jerusalem),
            "2026-11-22T12:05:00.123+02:00"
        );
        assert_eq!(date_time(winter, Jerusalem), "22/11/2026 12:05");
        assert_eq!(spreadsheet_time(winter, Jerusalem), "2026-11-22 12:05:00");
        let summer = "2026-07-01T21:30:00Z".parse().unwrap();
        assert_eq!(
            rfc3339_millis(summer, Jerusalem),
            "2026-07-02T00:30:00.000+03:00"
        );
        assert_eq!(date_time(summer, Jerusalem), "02/07/2026 00:30");
    }

    #[test]
    fn the_ends_of_time_do_not_panic() {
        for instant in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let _ = rfc3339_millis(instant, Jerusalem);
            let _ = date_time(instant, Jerusalem);
        }
    }
}
