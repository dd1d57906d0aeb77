//! Finding the phone and consent columns by their headers, in Hebrew or English.

use crate::source::{Cell, column_name};

/// Header words that name a phone column, after [`normalize_header`].
const PHONE_HEADERS: &[&str] = &[
    "טלפון",
    "נייד",
    "פלאפון",
    "פלאפון נייד",
    "מספר טלפון",
    "מספר נייד",
    "מספר פלאפון",
    "טלפון נייד",
    "טלפון סלולרי",
    "מס טלפון",
    "מס נייד",
    "טל",
    "סלולרי",
    "סלולר",
    "phone",
    "phone number",
    "phonenumber",
    "mobile",
    "mobile number",
    "mobile phone",
    "tel",
    "telephone",
    "cell",
    "cellphone",
    "cell phone",
    "msisdn",
];

/// Words that, inside a longer header, still mark a phone column
/// ("טלפון בבית", "Mobile (primary)").
const PHONE_WORDS: &[&str] = &["טלפון", "נייד", "פלאפון", "סלולר", "phone", "mobile", "tel"];

const CONSENT_HEADERS: &[&str] = &[
    "הסכמה",
    "הסכמה לדיוור",
    "הסכמה לפרסום",
    "אישור דיוור",
    "אישור",
    "מאשר",
    "מסכים",
    "consent",
    "opt in",
    "optin",
    "opt-in",
    "agreed",
];

const CONSENT_WORDS: &[&str] = &["הסכמ", "consent", "opt in", "optin", "opt-in"];

/// A header as compared: no bidi marks, quotes or punctuation, single spaces,
/// lower case (`מס' טלפון:` → `מס טלפון`).
pub fn normalize_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut space = false;
    for c in header.chars() {
        if c.is_alphanumeric() || c == '-' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '_' || c == '.' || c == '/' {
            space = true;
        }
        // Quotes, gershayim, colons, parentheses and bidi marks vanish.
    }
    out
}

/// The header row as the import uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    /// Every column's display name: its header, or its letter when the header cell
    /// is empty; repeated headers get " (2)", " (3)".
    pub names: Vec<String>,
    pub phone: usize,
    pub consent: Option<usize>,
    /// Other columns that also look like phone numbers; kept as metadata.
    pub other_phone_columns: Vec<String>,
}

/// Why the phone column could not be chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnError {
    NoPhoneColumn { headers: Vec<String> },
    GivenColumnMissing { given: String, headers: Vec<String> },
}

impl ColumnError {
    /// The import error for `path`, which names the file.
    pub fn in_file(self, path: &std::path::Path) -> crate::ImportError {
        let path = path.to_owned();
        match self {
            ColumnError::NoPhoneColumn { headers } => {
                crate::ImportError::NoPhoneColumn { path, headers }
            }
            ColumnError::GivenColumnMissing { given, headers } => {
                crate::ImportError::PhoneColumnMissing {
                    path,
                    given,
                    headers,
                }
            }
        }
    }
}

fn find(normalized: &[String], exact: &[&str], words: &[&str]) -> Vec<usize> {
    let exact_matches: Vec<usize> = normalized
        .iter()
        .enumerate()
        .filter(|(_, h)| exact.contains(&h.as_str()))
        .map(|(i, _)| i)
        .collect();
    if !exact_matches.is_empty() {
        return exact_matches;
    }
    normalized
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            words.iter().any(|w| {
                if w.is_ascii() {
                    h.split(' ').any(|part| part.starts_with(w))
                } else {
                    h.contains(w)
                }
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// Reads the header row. `phone_column` names the phone column explicitly (by
/// header text or column letter); otherwise it is found by its header.
pub fn detect(header: &[Cell], phone_column: Option<&str>) -> Result<Columns, ColumnError> {
    let mut names: Vec<String> = Vec::with_capacity(header.len());
    for (index, cell) in header.iter().enumerate() {
        let text = cell.to_text();
        let text = text.trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{FEFF}')
        });
        let base = if text.is_empty() {
            format!("column {}", column_name(index))
        } else {
            text.to_owned()
        };
        let mut name = base.clone();
        let mut copy = 2;
        while names.contains(&name) {
            name = format!("{base} ({copy})");
            copy += 1;
        }
        names.push(name);
    }
    let normalized: Vec<String> = names.iter().map(|n| normalize_header(n)).collect();
    let shown = || names.clone();

    let phone = match phone_column {
        Some(given) => {
            let wanted = normalize_header(given);
            normalized
                .iter()
                .position(|h| *h == wanted)
                .or_else(|| {
                    (0..names.len()).find(|&i| column_name(i).eq_ignore_ascii_case(given.trim()))
                })
                .ok_or_else(|| ColumnError::GivenColumnMissing {
                    given: given.to_owned(),
                    headers: shown(),
                })?
        }
        None => *find(&normalized, PHONE_HEADERS, PHONE_WORDS)
            .first()
            .ok_or_else(|| ColumnError::NoPhoneColumn { headers: shown() })?,
    };
    let other_phone_columns = find(&normalized, PHONE_HEADERS, PHONE_WORDS)
        .into_iter()
        .filter(|&i| i != phone)
        .map(|i| names[i].clone())
        .collect();
    let consent = find(&normalized, CONSENT_HEADERS, CONSENT_WORDS)
        .into_iter()
        .find(|&i| i != phone);
    Ok(Columns {
        names,
        phone,
        consent,
        other_phone_columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<Cell> {
        names.iter().map(|n| Cell::Text((*n).to_owned())).collect()
    }

    #[track_caller]
    fn check(names: &[&str], given: Option<&str>, phone: &str, consent: Option<&str>) {
        let columns = detect(&headers(names), given).unwrap();
        assert_eq!(columns.names[columns.phone], phone);
        assert_eq!(columns.consent.map(|i| columns.names[i].as_str()), consent);
    }

    #[test]
    fn hebrew_and_english_phone_headers() {
        check(&["שם פרטי", "טלפון", "עיר"], None, "טלפון", None);
        check(&["שם", "נייד"], None, "נייד", None);
        check(&["שם", "פלאפון"], None, "פלאפון", None);
        check(
            &["שם", "מספר טלפון", "הסכמה"],
            None,
            "מספר טלפון",
            Some("הסכמה"),
        );
        check(&["שם", "מס' טלפון:"], None, "מס' טלפון:", None);
        check(
            &["\u{200F}טל'\u{200F}", "שם"],
            None,
            "\u{200F}טל'\u{200F}".trim_matches('\u{200F}'),
            None,
        );
        check(
            &["Name", "Phone", "Consent"],
            None,
            "Phone",
            Some("Consent"),
        );
        check(&["name", "MOBILE"], None, "MOBILE", None);
        check(&["name", "Tel."], None, "Tel.", None);
        check(
            &["name", "Mobile (primary)", "Opt-in"],
            None,
            "Mobile (primary)",
            Some("Opt-in"),
        );
        check(
            &["שם", "טלפון בבית", "הסכמה לקבלת הודעות"],
            None,
            "טלפון בבית",
            Some("הסכמה לקבלת הודעות"),
        );
    }

    #[test]
    fn an_exact_header_beats_a_partial_one_and_the_rest_are_reported() {
        let columns = detect(&headers(&["טלפון בבית", "נייד", "שם"]), None).unwrap();
        assert_eq!(columns.names[columns.phone], "נייד");
        let columns = detect(&headers(&["טלפון", "נייד"]), None).unwrap();
        assert_eq!(columns.names[columns.phone], "טלפון");
        assert_eq!(columns.other_phone_columns, ["נייד"]);
    }

    #[test]
    fn an_explicit_column_by_header_or_letter() {
        check(&["שם", "מספר", "עוד"], Some("מספר"), "מספר", None);
        check(&["שם", "מספר", "עוד"], Some("C"), "עוד", None);
        assert_eq!(
            detect(&headers(&["שם", "עיר"]), Some("טלפון")),
            Err(ColumnError::GivenColumnMissing {
                given: "טלפון".into(),
                headers: vec!["שם".into(), "עיר".into()]
            })
        );
    }

    #[test]
    fn no_phone_column_lists_the_headers() {
        assert_eq!(
            detect(&headers(&["שם", "עיר"]), None),
            Err(ColumnError::NoPhoneColumn {
                headers: vec!["שם".into(), "עיר".into()]
            })
        );
    }

    #[test]
    fn empty_and_repeated_headers_get_names() {
        let columns = detect(
            &[
                Cell::Text("טלפון".into()),
                Cell::Empty,
                Cell::Text("שם".into()),
                Cell::Text("שם".into()),
            ],
            None,
        )
        .unwrap();
        assert_eq!(columns.names, ["טלפון", "column B", "שם", "שם (2)"]);
    }
}
