//! Reading a consent cell: yes/no in Hebrew or English, a check mark, or the date
//! consent was given.

use chrono::NaiveDate;

use crate::source::Cell;

/// What a consent cell says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentValue {
    /// Consent given; with the date when the cell held one (`YYYY-MM-DD`).
    Given(Option<String>),
    Refused,
    /// An empty cell: nothing recorded.
    Unknown,
    /// Text we cannot read as yes, no or a date. Treated as no consent (the safe
    /// reading) and counted, so the user can fix the file.
    Unrecognized(String),
}

const YES: &[&str] = &[
    "כן",
    "כ",
    "מאשר",
    "מאשרת",
    "מסכים",
    "מסכימה",
    "אושר",
    "yes",
    "y",
    "true",
    "1",
    "v",
    "x",
    "✓",
    "✔",
    "ok",
    "agreed",
    "opt-in",
    "optin",
];
const NO: &[&str] = &[
    "לא",
    "ל",
    "לא מאשר",
    "לא מסכים",
    "no",
    "n",
    "false",
    "0",
    "opt-out",
    "optout",
];

/// Day-first formats, as Israelis write dates, then ISO.
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y",
];

fn parse_date(text: &str) -> Option<NaiveDate> {
    let date_part = text.split(['T', ' ']).next().unwrap_or(text);
    DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDate::parse_from_str(date_part, format).ok())
        .filter(|date| (1990..=2100).contains(&chrono::Datelike::year(date)))
}

pub fn read(cell: &Cell) -> ConsentValue {
    match cell {
        Cell::Empty => ConsentValue::Unknown,
        Cell::Bool(true) => ConsentValue::Given(None),
        Cell::Bool(false) => ConsentValue::Refused,
        Cell::Date(text) => match parse_date(text) {
            Some(date) => ConsentValue::Given(Some(date.to_string())),
            None => ConsentValue::Unrecognized(text.clone()),
        },
        Cell::Number(value) if *value == 1.0 => ConsentValue::Given(None),
        Cell::Number(value) if *value == 0.0 => ConsentValue::Refused,
        Cell::Number(value) => ConsentValue::Unrecognized(value.to_string()),
        Cell::Error(text) => ConsentValue::Unrecognized(text.clone()),
        Cell::Text(text) => {
            let folded = text
                .trim()
                .trim_matches(|c: char| matches!(c, '.' | '!' | '"' | '\''))
                .to_lowercase();
            if folded.is_empty() {
                ConsentValue::Unknown
            } else if YES.contains(&folded.as_str()) {
                ConsentValue::Given(None)
            } else if NO.contains(&folded.as_str()) {
                ConsentValue::Refused
            } else if let Some(date) = parse_date(&folded) {
                ConsentValue::Given(Some(date.to_string()))
            } else {
                ConsentValue::Unrecognized(text.trim().to_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(cell: Cell, expected: ConsentValue) {
        assert_eq!(read(&cell), expected, "{cell:?}");
    }

    fn text(t: &str) -> Cell {
        Cell::Text(t.to_owned())
    }

    #[test]
    fn consent_cells() {
        check(text("כן"), ConsentValue::Given(None));
        check(text(" Yes "), ConsentValue::Given(None));
        check(text("✓"), ConsentValue::Given(None));
        check(text("לא"), ConsentValue::Refused);
        check(text("NO"), ConsentValue::Refused);
        check(Cell::Empty, ConsentValue::Unknown);
        check(text("  "), ConsentValue::Unknown);
        check(Cell::Bool(true), ConsentValue::Given(None));
        check(Cell::Number(0.0), ConsentValue::Refused);
        check(
            text("2024-03-15"),
            ConsentValue::Given(Some("2024-03-15".into())),
        );
        check(
            text("15/03/2024"),
            ConsentValue::Given(Some("2024-03-15".into())),
        );
        check(
            text("15.3.2024"),
            ConsentValue::Given(Some("2024-03-15".into())),
        );
        check(
            Cell::Date("2024-03-15".into()),
            ConsentValue::Given(Some("2024-03-15".into())),
        );
        check(text("אולי"), ConsentValue::Unrecognized("אולי".into()));
        check(
            text("32/13/2024"),
            ConsentValue::Unrecognized("32/13/2024".into()),
        );
    }
}
