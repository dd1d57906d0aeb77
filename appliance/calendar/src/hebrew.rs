//! Hebrew dates, by `icu_calendar`'s arithmetic Hebrew calendar (no data needed):
//! which civil dates are Israeli Yom Tov days, and when Yom HaZikaron falls.
//!
//! Months use icu's civil numbering: `M01` is Tishrei, `M07` Nisan, `M08` Iyar, `M09`
//! Sivan; in a leap year Adar I is the leap month `M05L`.

use chrono::{Datelike, NaiveDate, Weekday};
use icu_calendar::cal::Hebrew;
use icu_calendar::types::Month;
use icu_calendar::{Date, Iso};

use crate::QuietReason;

const TISHREI: u8 = 1;
const NISAN: u8 = 7;
const IYAR: u8 = 8;
const SIVAN: u8 = 9;

/// The first Hebrew year of the State of Israel (5708 = 1947/48).
const FIRST_YEAR_OF_THE_STATE: i32 = 5708;

/// A civil date as a Hebrew date: year, month (icu numbering, `is_leap` for Adar I)
/// and day of month. `None` outside icu's supported range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HebrewDate {
    pub year: i32,
    /// 1 (Tishrei) to 12 (Elul); Adar I is 5 with `leap_month` set.
    pub month: u8,
    pub leap_month: bool,
    pub day: u8,
}

impl HebrewDate {
    /// The Hebrew date whose daytime is the civil `date` (the evening before belongs
    /// to it by Jewish reckoning, but a civil date names the daytime).
    pub fn from_civil(date: NaiveDate) -> Option<HebrewDate> {
        let month = u8::try_from(date.month()).ok()?;
        let day = u8::try_from(date.day()).ok()?;
        let hebrew = Date::try_new_iso(date.year(), month, day)
            .ok()?
            .to_calendar(Hebrew);
        let month = hebrew.month().to_input();
        Some(HebrewDate {
            year: hebrew.year().extended_year(),
            month: month.number(),
            leap_month: month.is_leap(),
            day: hebrew.day_of_month().0,
        })
    }

    /// The civil date of a Hebrew date; `None` if it does not exist (e.g. 30 Iyar).
    pub fn to_civil(self) -> Option<NaiveDate> {
        let month = if self.leap_month {
            Month::leap(self.month)
        } else {
            Month::new(self.month)
        };
        let iso = Date::try_new_hebrew_v2(self.year, month, self.day)
            .ok()?
            .to_calendar(Iso);
        NaiveDate::from_ymd_opt(
            iso.year().extended_year(),
            u32::from(iso.month().ordinal),
            u32::from(iso.day_of_month().0),
        )
    }
}

/// The Israeli Yom Tov on civil `date`, if it is one: Rosh Hashana (1 and 2 Tishrei),
/// Yom Kippur (10 Tishrei), Sukkot (15 Tishrei), Shemini Atzeret / Simchat Torah (22
/// Tishrei), Pesach (15 and 21 Nisan) and Shavuot (6 Sivan): one day each, as in
/// Israel. Chol HaMoed and the modern days are not Yom Tov.
pub fn yom_tov(date: NaiveDate) -> Option<QuietReason> {
    yom_tov_of(HebrewDate::from_civil(date)?)
}

/// [`yom_tov`] for a date already converted.
pub fn yom_tov_of(date: HebrewDate) -> Option<QuietReason> {
    if date.leap_month {
        return None;
    }
    match (date.month, date.day) {
        (TISHREI, 1 | 2) => Some(QuietReason::RoshHashana),
        (TISHREI, 10) => Some(QuietReason::YomKippur),
        (TISHREI, 15) => Some(QuietReason::Sukkot),
        (TISHREI, 22) => Some(QuietReason::SheminiAtzeret),
        (NISAN, 15 | 21) => Some(QuietReason::Pesach),
        (SIVAN, 6) => Some(QuietReason::Shavuot),
        _ => None,
    }
}

/// The Hebrew year whose daytime includes civil `date`.
pub fn hebrew_year(date: NaiveDate) -> Option<i32> {
    HebrewDate::from_civil(date).map(|hebrew| hebrew.year)
}

/// Yom HaAtzmaut in `hebrew_year`, by the rule in force since 5764 (2004): 5 Iyar,
/// brought forward to Thursday 4 Iyar when 5 Iyar is a Friday and to Thursday 3 Iyar
/// when it is Shabbat, and put off to Tuesday 6 Iyar when it is a Monday (so that Yom
/// HaZikaron does not begin at the end of Shabbat).
///
/// `None` before the State (5708) or outside icu's range.
pub fn yom_haatzmaut_date(hebrew_year: i32) -> Option<NaiveDate> {
    if hebrew_year < FIRST_YEAR_OF_THE_STATE {
        return None;
    }
    let fifth = HebrewDate {
        year: hebrew_year,
        month: IYAR,
        leap_month: false,
        day: 5,
    }
    .to_civil()?;
    let moved = match fifth.weekday() {
        Weekday::Fri => -1,
        Weekday::Sat => -2,
        Weekday::Mon => 1,
        _ => 0,
    };
    fifth.checked_add_signed(chrono::TimeDelta::days(moved))
}

/// Yom HaZikaron in `hebrew_year`: the day before Yom HaAtzmaut (see
/// [`yom_haatzmaut_date`]). Its observance starts the evening before this date.
pub fn yom_hazikaron_date(hebrew_year: i32) -> Option<NaiveDate> {
    yom_haatzmaut_date(hebrew_year)?.pred_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn icu_numbering_is_civil_with_adar_i_as_m05l() {
        // 2025-09-23 is 1 Tishrei 5786.
        let rosh = HebrewDate::from_civil(date(2025, 9, 23)).expect("in range");
        assert_eq!(
            (rosh.year, rosh.month, rosh.leap_month, rosh.day),
            (5786, 1, false, 1)
        );
        // 2024-02-10 is 1 Adar I 5784 (a leap year).
        let adar1 = HebrewDate::from_civil(date(2024, 2, 10)).expect("in range");
        assert_eq!((adar1.month, adar1.leap_month, adar1.day), (5, true, 1));
        // 2024-04-23 is 15 Nisan 5784.
        assert_eq!(yom_tov(date(2024, 4, 23)), Some(QuietReason::Pesach));
        assert_eq!(adar1.to_civil(), Some(date(2024, 2, 10)));
    }

    #[test]
    fn yom_tov_days_of_5786() {
        let expected = [
            (date(2025, 9, 23), QuietReason::RoshHashana),
            (date(2025, 9, 24), QuietReason::RoshHashana),
            (date(2025, 10, 2), QuietReason::YomKippur),
            (date(2025, 10, 7), QuietReason::Sukkot),
            (date(2025, 10, 14), QuietReason::SheminiAtzeret),
            (date(2026, 4, 2), QuietReason::Pesach),
            (date(2026, 4, 8), QuietReason::Pesach),
            (date(2026, 5, 22), QuietReason::Shavuot),
        ];
        for (day, reason) in expected {
            assert_eq!(yom_tov(day), Some(reason), "{day}");
        }
        // Chol HaMoed, the second day of the diaspora, Chanukah: not Yom Tov.
        for day in [
            date(2025, 10, 8),
            date(2025, 10, 15),
            date(2026, 4, 3),
            date(2025, 12, 15),
        ] {
            assert_eq!(yom_tov(day), None, "{day}");
        }
    }

    #[test]
    fn yom_hazikaron_follows_the_knesset_moves() {
        // 5 Iyar on Shabbat (5785): Atzmaut Thu 3 Iyar, Zikaron Wed 2 Iyar.
        assert_eq!(yom_haatzmaut_date(5785), Some(date(2025, 5, 1)));
        assert_eq!(yom_hazikaron_date(5785), Some(date(2025, 4, 30)));
        // 5 Iyar on Wednesday (5786): no move.
        assert_eq!(yom_haatzmaut_date(5786), Some(date(2026, 4, 22)));
        assert_eq!(yom_hazikaron_date(5786), Some(date(2026, 4, 21)));
        // 5 Iyar on Monday (5784): Atzmaut Tue 6 Iyar, Zikaron Mon 5 Iyar.
        assert_eq!(yom_haatzmaut_date(5784), Some(date(2024, 5, 14)));
        assert_eq!(yom_hazikaron_date(5784), Some(date(2024, 5, 13)));
        // 5 Iyar on Friday (5789): Atzmaut Thu 4 Iyar, Zikaron Wed 3 Iyar.
        assert_eq!(yom_haatzmaut_date(5789), Some(date(2029, 4, 19)));
        assert_eq!(yom_hazikaron_date(5789), Some(date(2029, 4, 18)));
        assert_eq!(yom_hazikaron_date(5700), None);
        for year in 5764..5900 {
            let zikaron = yom_hazikaron_date(year).expect("in range");
            let weekday = zikaron.weekday();
            assert!(
                !matches!(weekday, Weekday::Fri | Weekday::Sat | Weekday::Sun),
                "{year}: {zikaron} is a {weekday}"
            );
        }
    }
}
