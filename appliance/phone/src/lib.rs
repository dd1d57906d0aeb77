//! Phone numbers as people type them, turned into E.164.
//!
//! Spreadsheets typed by hand hold numbers in every local spelling: `052-5551234`,
//! `(03) 6123456`, `+972-52-555-1234`, `972525551234`, numeric cells where Excel
//! dropped the leading zero (`525551234`) or stored a float (`525551234.0`), a number
//! followed by a note (`052-5551234 משרד`), invisible bidi marks copied from Hebrew
//! text. [`Normalizer::normalize`] cleans such input, hands the cleaned digits to
//! libphonenumber (the `phonenumber` crate) for parsing and validity, and classifies
//! the line type.
//!
//! Invariants:
//! - Validity is libphonenumber's: a number is accepted only if libphonenumber
//!   recognises it as a valid number of an allocated range. This crate never widens
//!   that; it only cleans the text before the parser sees it.
//! - Nothing here does I/O or panics on any input.
//! - [`E164`] holds only numbers that passed validation.
#![forbid(unsafe_code)]

mod fast;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use phonenumber::metadata::DATABASE;
use phonenumber::{Type, country};
use serde::{Deserialize, Serialize};

/// A validated phone number in E.164, stored as its digits (country code first).
///
/// E.164 numbers have at most 15 digits and never start with 0, so the integer is a
/// lossless and compact key: the do-not-call index keeps millions of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct E164(u64);

impl E164 {
    /// The number as an integer of its digits, e.g. `972525551234`.
    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// Rebuilds a number from [`E164::as_u64`] of a number that was validated
    /// before (for example one read back from the store).
    pub fn from_u64(digits: u64) -> Option<E164> {
        (10..1_000_000_000_000_000)
            .contains(&digits)
            .then_some(E164(digits))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

impl From<E164> for String {
    fn from(number: E164) -> String {
        number.to_string()
    }
}

/// Error for a string that is not in canonical `+digits` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an E.164 number of the form +972525551234")]
pub struct NotE164(String);

impl FromStr for E164 {
    type Err = NotE164;

    /// Parses the canonical form this type prints (`+972525551234`). Use
    /// [`Normalizer::normalize`] for anything a person typed.
    fn from_str(text: &str) -> Result<E164, NotE164> {
        let digits = text
            .strip_prefix('+')
            .filter(|d| !d.is_empty() && d.len() <= 15 && d.bytes().all(|b| b.is_ascii_digit()))
            .filter(|d| !d.starts_with('0'))
            .ok_or_else(|| NotE164(text.to_owned()))?;
        digits
            .parse()
            .ok()
            .and_then(E164::from_u64)
            .ok_or_else(|| NotE164(text.to_owned()))
    }
}

impl TryFrom<String> for E164 {
    type Error = NotE164;
    fn try_from(text: String) -> Result<E164, NotE164> {
        text.parse()
    }
}

/// The kind of line a number belongs to, as libphonenumber classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineType {
    Mobile,
    FixedLine,
    Voip,
    TollFree,
    Other,
}

impl LineType {
    pub const ALL: [LineType; 5] = [
        LineType::Mobile,
        LineType::FixedLine,
        LineType::Voip,
        LineType::TollFree,
        LineType::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LineType::Mobile => "mobile",
            LineType::FixedLine => "fixed_line",
            LineType::Voip => "voip",
            LineType::TollFree => "toll_free",
            LineType::Other => "other",
        }
    }

    /// Only mobile lines receive SMS; every other line gets its messages as a
    /// text-to-speech call (seed property 31). A line libphonenumber cannot tell
    /// apart (fixed line *or* mobile, as in some countries) counts as not
    /// SMS-capable: a call reaches it either way, an SMS might not.
    pub fn sms_capable(self) -> bool {
        self == LineType::Mobile
    }
}

impl FromStr for LineType {
    type Err = String;
    fn from_str(text: &str) -> Result<LineType, String> {
        LineType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| format!("unknown line type {text:?}"))
    }
}

impl fmt::Display for LineType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn line_type_of(kind: Type) -> Option<LineType> {
    match kind {
        Type::Unknown => None,
        Type::Mobile => Some(LineType::Mobile),
        Type::FixedLine => Some(LineType::FixedLine),
        Type::Voip => Some(LineType::Voip),
        Type::TollFree => Some(LineType::TollFree),
        _ => Some(LineType::Other),
    }
}

/// A number that passed cleaning and validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Normalized {
    pub e164: E164,
    pub line_type: LineType,
}

impl Normalized {
    pub fn sms_capable(&self) -> bool {
        self.line_type.sms_capable()
    }
}

/// Why a value is not a usable phone number. The messages are shown to the person
/// who typed the spreadsheet, so they say what is wrong with *their* value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("empty: no phone number in this cell")]
    Empty,
    #[error("no digits: this does not look like a phone number")]
    NoDigits,
    #[error("star number {0}: short business codes cannot be called in a campaign")]
    StarNumber(String),
    #[error("too short: {0} digits, a phone number has at least 7")]
    TooShort(usize),
    #[error("too long: {0} digits, a phone number has at most 15")]
    TooLong(usize),
    #[error("numeric cell {0} is not a whole number")]
    NotWholeNumber(String),
    #[error("not a valid phone number (libphonenumber: {0})")]
    Unparsable(String),
    /// A letter typed onto the digits (`052 555 1234x`, `052-55O1234`): a typo, not
    /// a note (a note follows the number after a space: `052-5551234 משרד`).
    #[error(
        "a letter in the number: read {read:?} and then {rest:?}; fix the number, \
         or put a space before a note (052-5551234 office)"
    )]
    LetterInNumber { read: String, rest: String },
    #[error("not a valid number: no operator has this range, or the length is wrong")]
    Unallocated,
    #[error(
        "country code +{code} is not allowed here (allowed: {allowed}); \
         add the country to import.allowed_regions in shofar.toml to accept it"
    )]
    RegionNotAllowed { code: u16, allowed: String },
}

impl Rejection {
    /// A stable, language-neutral code for the reason (for scripts, and for the
    /// web UI to show the reason in the user's language).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Empty => "empty",
            Rejection::NoDigits => "no_digits",
            Rejection::StarNumber(_) => "star_number",
            Rejection::TooShort(_) => "too_short",
            Rejection::TooLong(_) => "too_long",
            Rejection::NotWholeNumber(_) => "not_whole_number",
            Rejection::Unparsable(_) => "unparsable",
            Rejection::LetterInNumber { .. } => "letter_in_number",
            Rejection::Unallocated => "unallocated",
            Rejection::RegionNotAllowed { .. } => "region_not_allowed",
        }
    }

    /// The reason in Hebrew, for the staff who fix the spreadsheet.
    pub fn hebrew(&self) -> String {
        match self {
            Rejection::Empty => "ריק: אין מספר טלפון בתא".to_owned(),
            Rejection::NoDigits => "אין ספרות: זה לא נראה כמו מספר טלפון".to_owned(),
            Rejection::StarNumber(star) => {
                format!(
                    "מספר כוכבית \u{2066}{star}\u{2069}: אי אפשר לחייג בקמפיין למספרי שירות קצרים"
                )
            }
            Rejection::TooShort(digits) => {
                format!("קצר מדי: {digits} ספרות, במספר טלפון יש לפחות 7")
            }
            Rejection::TooLong(digits) => {
                format!("ארוך מדי: {digits} ספרות, במספר טלפון יש לכל היותר 15")
            }
            Rejection::NotWholeNumber(value) => {
                format!("התא המספרי \u{2066}{value}\u{2069} אינו מספר שלם")
            }
            Rejection::Unparsable(_) => "לא מספר טלפון תקין".to_owned(),
            Rejection::LetterInNumber { read, rest } => format!(
                "אות בתוך המספר: נקרא \u{2066}{read}\u{2069} ואחריו \u{2068}{rest}\u{2069}; יש לתקן את המספר, או להוסיף רווח לפני הערה (052-5551234 משרד)"
            ),
            Rejection::Unallocated => {
                "מספר לא תקין: אין מפעיל עם טווח כזה, או שהאורך שגוי".to_owned()
            }
            Rejection::RegionNotAllowed { code, .. } => format!(
                "קידומת המדינה \u{2066}+{code}\u{2069} אינה מורשית; אפשר להוסיף אותה ב־import.allowed_regions בקובץ shofar.toml"
            ),
        }
    }
}

/// A raw spreadsheet value that should hold a phone number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RawPhone<'a> {
    Text(&'a str),
    /// A numeric cell. Excel stores typed-in numbers as floats and drops a leading 0.
    Number(f64),
}

/// Turns what people type into [`Normalized`] numbers for one default region.
#[derive(Clone)]
pub struct Normalizer {
    default_region: country::Id,
    /// The default region's patterns, compiled for lock-free use across threads.
    fast: Option<Arc<fast::FastPath>>,
    /// Country calling codes accepted; empty means every country.
    allowed_codes: Vec<u16>,
    allowed_names: String,
}

/// Error for a region name that is not an ISO 3166 alpha-2 code libphonenumber knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown region {0:?}: use an ISO 3166 two-letter code such as \"IL\"")]
pub struct UnknownRegion(pub String);

fn region(code: &str) -> Result<country::Id, UnknownRegion> {
    code.to_ascii_uppercase()
        .parse::<country::Id>()
        .map_err(|_| UnknownRegion(code.to_owned()))
}

impl fmt::Debug for Normalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Normalizer")
            .field("default_region", &self.default_region)
            .field("allowed", &self.allowed_names)
            .field("fast_path", &self.fast.is_some())
            .finish()
    }
}

impl Normalizer {
    /// `default_region` reads numbers without a country code (`052-5551234`);
    /// `allowed_regions` limits which countries' numbers are accepted (empty: all).
    pub fn new(
        default_region: &str,
        allowed_regions: &[String],
    ) -> Result<Normalizer, UnknownRegion> {
        let default_region = region(default_region)?;
        let mut allowed_codes = Vec::new();
        for name in allowed_regions {
            let id = region(name)?;
            let code = DATABASE
                .by_id(id.as_ref())
                .map(|meta| meta.country_code())
                .ok_or_else(|| UnknownRegion(name.clone()))?;
            allowed_codes.push(code);
        }
        Ok(Normalizer {
            default_region,
            fast: fast::FastPath::new(default_region).map(Arc::new),
            allowed_codes,
            allowed_names: allowed_regions.join(", "),
        })
    }

    /// The normalizer the product uses by default: Israeli numbers only. Made
    /// once per process (its patterns take milliseconds to compile) and cloned.
    pub fn israel() -> Normalizer {
        static ISRAEL: std::sync::LazyLock<Normalizer> = std::sync::LazyLock::new(|| {
            Normalizer::new("IL", &["IL".to_owned()]).expect("IL is a known region")
        });
        ISRAEL.clone()
    }

    pub fn normalize(&self, raw: RawPhone<'_>) -> Result<Normalized, Rejection> {
        let cleaned = match raw {
            RawPhone::Text(text) => clean_text(text)?,
            RawPhone::Number(value) => clean_float(value)?,
        };
        self.parse_cleaned(&cleaned)
    }

    /// Shorthand for [`Normalizer::normalize`] of text.
    pub fn normalize_str(&self, text: &str) -> Result<Normalized, Rejection> {
        self.normalize(RawPhone::Text(text))
    }

    fn parse_cleaned(&self, cleaned: &Cleaned) -> Result<Normalized, Rejection> {
        let allowed = |code| self.allowed_codes.is_empty() || self.allowed_codes.contains(&code);
        if let Some(fast) = &self.fast
            && allowed(fast.country_code())
        {
            match fast.classify(&cleaned.text) {
                Some(Ok((e164, line_type))) => return Ok(Normalized { e164, line_type }),
                Some(Err(())) => return Err(Rejection::Unallocated),
                None => {}
            }
        }
        self.parse_with_libphonenumber(cleaned)
    }

    /// The reference path: libphonenumber parses and classifies.
    ///
    /// Digits that start with the country code but make no number with it may be
    /// a national number that lost its leading 0 in a spreadsheet (09-720-0000
    /// stored as 97200000): that reading is tried before giving up.
    fn parse_with_libphonenumber(&self, cleaned: &Cleaned) -> Result<Normalized, Rejection> {
        let first = self.parse_libphonenumber_once(cleaned);
        if first.is_ok() || !cleaned.text.bytes().all(|b| b.is_ascii_digit()) {
            return first;
        }
        let code = self
            .fast
            .as_ref()
            .map(|fast| fast.country_code().to_string());
        match code {
            Some(code) if cleaned.text.starts_with(&code) => {
                let national = Cleaned {
                    text: format!("0{}", cleaned.text),
                };
                self.parse_libphonenumber_once(&national).or(first)
            }
            _ => first,
        }
    }

    fn parse_libphonenumber_once(&self, cleaned: &Cleaned) -> Result<Normalized, Rejection> {
        let number = phonenumber::parse(Some(self.default_region), &cleaned.text)
            .map_err(|error| Rejection::Unparsable(error.to_string()))?;
        let code = number.code().value();
        // libphonenumber's validity is "the number matches one of its region's type
        // patterns": number_type() is Unknown exactly when is_valid() is false, so one
        // call gives both (a proptest holds this against phonenumber::is_valid).
        let line_type =
            line_type_of(number.number_type(&DATABASE)).ok_or(Rejection::Unallocated)?;
        if !self.allowed_codes.is_empty() && !self.allowed_codes.contains(&code) {
            return Err(Rejection::RegionNotAllowed {
                code,
                allowed: self.allowed_names.clone(),
            });
        }
        let formatted = number.format().mode(phonenumber::Mode::E164).to_string();
        let e164 = formatted
            .parse::<E164>()
            .map_err(|_| Rejection::Unallocated)?;
        Ok(Normalized { e164, line_type })
    }
}

/// Text ready for libphonenumber: digits with an optional leading `+`.
#[derive(Debug, PartialEq, Eq)]
struct Cleaned {
    text: String,
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '(' | ')' | '\u{00A0}' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\t'
    ) || is_invisible(c)
}

/// Extracts the first phone-number-shaped run from a cell's text.
fn clean_text(text: &str) -> Result<Cleaned, Rejection> {
    let text =
        text.trim_matches(|c: char| c.is_whitespace() || is_invisible(c) || c == '\'' || c == '"');
    if text.is_empty() {
        return Err(Rejection::Empty);
    }
    if let Some(star) = star_number(text) {
        return Err(Rejection::StarNumber(star));
    }
    if let Some(whole) = float_text(text) {
        return Ok(whole);
    }
    // The number starts at the first digit or '+' (or '(' of an area code) and runs
    // while the characters are digits or separators; whatever follows ("משרד",
    // "ext. 12", "/ 03-…") is a note, not part of the number.
    let start = text
        .char_indices()
        .find(|&(_, c)| c.is_ascii_digit() || c == '+')
        .map(|(index, _)| index)
        .ok_or(Rejection::NoDigits)?;
    // A letter glued to a digit (`1234x`, `55O1234`) is a typo, not a note: say
    // what was read rather than dial the digits around it.
    let mut out = String::with_capacity(16);
    let mut digits = 0usize;
    let mut after_digit = false;
    for (offset, c) in text[start..].char_indices() {
        if c.is_ascii_digit() {
            out.push(c);
            digits += 1;
        } else if c == '+' && offset == 0 {
            out.push('+');
        } else if (c == '+' && digits == 0) || is_separator(c) {
            after_digit = false;
            continue;
        } else {
            if after_digit && c.is_alphabetic() {
                return Err(Rejection::LetterInNumber {
                    read: text[start..start + offset].to_owned(),
                    rest: text[start + offset..].to_owned(),
                });
            }
            break;
        }
        after_digit = c.is_ascii_digit();
    }
    // "00972…" is how Israelis dial abroad; libphonenumber knows IL's exit codes
    // only when the region is IL, so spell it as '+' for every region.
    if let Some(rest) = out.strip_prefix("00") {
        out = format!("+{rest}");
        digits -= 2;
    }
    match digits {
        0 => Err(Rejection::NoDigits),
        n if n < 7 => Err(Rejection::TooShort(n)),
        n if n > 15 => Err(Rejection::TooLong(n)),
        _ => Ok(Cleaned { text: out }),
    }
}

/// `*2345`, `*6789#`: Israeli star numbers are business short codes, not lines.
fn star_number(text: &str) -> Option<String> {
    let rest = text.strip_prefix('*')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (2..=6)
        .contains(&digits.len())
        .then(|| format!("*{digits}"))
}

/// Text that is a number as Excel or a CSV export writes floats: `525551234.0`,
/// `9.72525551234E+11`. libphonenumber would read the `.0` as a digit.
fn float_text(text: &str) -> Option<Cleaned> {
    let looks_float = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+'))
        && text.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && (text.contains(['e', 'E'])
            || text
                .split_once('.')
                .is_some_and(|(_, frac)| frac.bytes().all(|b| b == b'0') && !frac.is_empty()));
    if !looks_float {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    clean_float(value).ok()
}

fn clean_float(value: f64) -> Result<Cleaned, Rejection> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return Err(Rejection::NotWholeNumber(value.to_string()));
    }
    if value >= 1e15 {
        return Err(Rejection::TooLong(format!("{value:.0}").len()));
    }
    let whole = value as u64;
    if whole == 0 {
        return Err(Rejection::NoDigits);
    }
    let text = whole.to_string();
    if text.len() < 7 {
        return Err(Rejection::TooShort(text.len()));
    }
    // A numeric cell lost the leading 0 (525551234) or holds the country code
    // (972525551234); libphonenumber reads both right with the default region.
    Ok(Cleaned { text })
}

#[cfg(test)]
mod tests;
