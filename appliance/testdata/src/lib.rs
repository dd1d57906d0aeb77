//! Realistic, deterministic Israeli contact spreadsheets whose correct import result
//! is known in advance.
//!
//! [`contacts`] streams rows the way an Israeli office types them into Excel:
//! Hebrew names and cities, phone numbers in every local spelling (`052-5551234`,
//! `(03) 6123456`, `+972-52-555-1234`, numeric cells that lost their leading 0),
//! some duplicates, some junk in the phone column. Each row carries the outcome a
//! correct import must reach for it ([`Expected`]), and [`truth`] adds those up.
//!
//! ```
//! use shofar_testdata::{ContactsSpec, Expected, contacts, truth};
//!
//! let spec = ContactsSpec::new(1_000, 7);
//! let valid = contacts(&spec)
//!     .filter(|row| matches!(row.expected, Expected::Valid { .. }))
//!     .count() as u64;
//! let truth = truth(&spec);
//! assert_eq!(truth.imported + truth.duplicates, valid);
//! assert_eq!(truth.imported + truth.duplicates + truth.invalid, 1_000);
//! ```
//!
//! Invariants:
//! - The same [`ContactsSpec`] always yields the same rows (ChaCha8, fixed seed),
//!   for a given version of this crate and of libphonenumber's metadata.
//! - Every number expected valid was checked valid with libphonenumber (the
//!   `phonenumber` crate), which also gave its line type; every cell expected
//!   invalid was built to be invalid and, where it has digits, checked invalid.
//! - Generation streams: memory does not grow with the number of rows (the
//!   duplicate source is a fixed-size ring of recent numbers). Only [`truth`]
//!   remembers every number, since accidental repeats count as duplicates too.
//! - No row is entirely empty: every row has at least a name.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashSet, VecDeque};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

mod blacklist;
mod numbers;
mod words;
mod write;

pub use blacklist::{BLACKLIST_CAPACITY, BlacklistNumbers, blacklist_numbers, write_blacklist_csv};
pub use write::{CsvEncoding, write_csv, write_csv_rows, write_xlsx, write_xlsx_rows};

use numbers::{Phone, draw_invalid, draw_valid, skewed, spell, weighted};

/// The header row, in column order. [`headers`] gives the columns of a given spec
/// (without [`CONSENT_HEADER`] when the spec has no consent column).
pub const HEADERS: [&str; 6] = ["שם פרטי", "שם משפחה", "טלפון", "עיר", "הסכמה", "הערות"];
/// Header of the phone column.
pub const PHONE_HEADER: &str = "טלפון";
/// Header of the consent column.
pub const CONSENT_HEADER: &str = "הסכמה";
/// Index of the phone column in every row (it comes before the optional consent column).
pub const PHONE_COLUMN: usize = 2;
/// Name of the worksheet [`write_xlsx`] writes.
pub const SHEET_NAME: &str = "אנשי קשר";

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactsSpec {
    /// Data rows, not counting the header.
    pub rows: usize,
    pub seed: u64,
    /// Share of rows that repeat the number of an earlier row (default 0.03).
    pub duplicate_ratio: f64,
    /// Share of rows whose phone cell a correct import rejects (default 0.02).
    pub invalid_ratio: f64,
    /// Whether the sheet has the consent column `הסכמה` (default true).
    pub with_consent: bool,
}

impl Default for ContactsSpec {
    fn default() -> ContactsSpec {
        ContactsSpec {
            rows: 1_000,
            seed: 1,
            duplicate_ratio: 0.03,
            invalid_ratio: 0.02,
            with_consent: true,
        }
    }
}

impl ContactsSpec {
    /// `rows` rows from `seed`, other settings at their defaults.
    pub fn new(rows: usize, seed: u64) -> ContactsSpec {
        ContactsSpec {
            rows,
            seed,
            ..ContactsSpec::default()
        }
    }

    /// Checks the ratios: each in 0..=1 and together at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let in_range = |r: f64| (0.0..=1.0).contains(&r);
        if !in_range(self.duplicate_ratio) || !in_range(self.invalid_ratio) {
            return Err(format!(
                "duplicate_ratio ({}) and invalid_ratio ({}) must each be between 0 and 1",
                self.duplicate_ratio, self.invalid_ratio
            ));
        }
        if self.duplicate_ratio + self.invalid_ratio > 1.0 {
            return Err(format!(
                "duplicate_ratio + invalid_ratio ({}) must be at most 1",
                self.duplicate_ratio + self.invalid_ratio
            ));
        }
        Ok(())
    }
}

/// The columns of the sheet for `spec`, in order.
pub fn headers(spec: &ContactsSpec) -> Vec<&'static str> {
    HEADERS
        .into_iter()
        .filter(|&h| spec.with_consent || h != CONSENT_HEADER)
        .collect()
}

/// One spreadsheet cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A numeric cell, as Excel stores a number typed without quotes.
    Number(f64),
    Empty,
}

impl Cell {
    /// The cell as text the way Excel exports it to CSV: whole numbers without a
    /// decimal point (`525551234`), empty cells as an empty string.
    pub fn to_csv_text(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Number(value) if value.fract() == 0.0 && value.abs() < 1e15 => {
                format!("{}", *value as i64)
            }
            Cell::Number(value) => value.to_string(),
            Cell::Empty => String::new(),
        }
    }
}

/// What a correct import must conclude about a row's phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// A valid number; the row is imported unless an earlier row holds the same
    /// number, then it is a duplicate.
    Valid {
        /// E.164, e.g. `+972525551234`.
        e164: String,
        /// `mobile`, `fixed_line`, `voip` or `toll_free`, as libphonenumber classifies it.
        line_type: &'static str,
    },
    /// The phone cell is empty or not a valid number: the row is rejected.
    Invalid,
}

/// One data row: its cells in [`headers`] order, and the expected import outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedRow {
    pub cells: Vec<Cell>,
    pub expected: Expected,
}

impl GeneratedRow {
    /// The phone cell.
    pub fn phone(&self) -> &Cell {
        &self.cells[PHONE_COLUMN]
    }
}

/// How many recent valid numbers duplicates are drawn from.
const RECENT: usize = 4_096;

/// The rows of a spec, generated on the fly. See [`contacts`].
#[derive(Debug, Clone)]
pub struct Contacts {
    rng: ChaCha8Rng,
    spec: ContactsSpec,
    emitted: usize,
    recent: VecDeque<Phone>,
}

/// Streams the data rows of `spec` (the header is [`headers`]).
///
/// # Panics
/// If the spec's ratios are out of range (see [`ContactsSpec::validate`]).
pub fn contacts(spec: &ContactsSpec) -> Contacts {
    if let Err(problem) = spec.validate() {
        panic!("invalid ContactsSpec: {problem}");
    }
    Contacts {
        rng: ChaCha8Rng::seed_from_u64(spec.seed),
        spec: spec.clone(),
        emitted: 0,
        recent: VecDeque::with_capacity(RECENT),
    }
}

impl Contacts {
    fn row(&mut self) -> GeneratedRow {
        let rng = &mut self.rng;

        // Names: almost always both, from one community; a few rows have only one.
        let community = &words::COMMUNITIES[weighted(rng, &words::COMMUNITY_WEIGHTS)];
        let (mut first, mut last) = (
            Some(*skewed(rng, community.first_names)),
            Some(*skewed(rng, community.surnames)),
        );
        match weighted(rng, &[94, 4, 2]) {
            1 => last = None,
            2 => first = None,
            _ => {}
        }
        let city = if rng.random_bool(0.06) {
            None
        } else if community.cities.is_empty() || rng.random_bool(0.2) {
            Some(*skewed(rng, words::CITIES))
        } else {
            Some(words::city(skewed::<_, &str>(rng, community.cities)))
        };

        let roll: f64 = rng.random();
        let (phone, expected) = if roll < self.spec.invalid_ratio {
            // "Empty phone while the name is filled": make sure the name is.
            first = first.or(Some(*skewed(rng, community.first_names)));
            (draw_invalid(rng), Expected::Invalid)
        } else {
            let duplicate = roll < self.spec.invalid_ratio + self.spec.duplicate_ratio
                && !self.recent.is_empty();
            let number = if duplicate {
                // Half the time a copy-paste of a row just above, else any recent row.
                let back = if rng.random_bool(0.5) {
                    rng.random_range(0..self.recent.len().min(16))
                } else {
                    rng.random_range(0..self.recent.len())
                };
                self.recent[self.recent.len() - 1 - back]
            } else {
                let number = draw_valid(rng, city.map(|(_, area)| area));
                if self.recent.len() == RECENT {
                    self.recent.pop_front();
                }
                self.recent.push_back(number);
                number
            };
            let expected = Expected::Valid {
                e164: number.e164(),
                line_type: number.kind.as_str(),
            };
            (spell(rng, number), expected)
        };

        let consent = self
            .spec
            .with_consent
            .then(|| match weighted(rng, &[78, 7, 6, 9]) {
                0 => Cell::Text("כן".to_owned()),
                1 => Cell::Text("לא".to_owned()),
                2 => {
                    let (year, month) = (rng.random_range(2022..=2025), rng.random_range(1..=12));
                    let day = rng.random_range(1..=28);
                    Cell::Text(format!("{year}-{month:02}-{day:02}"))
                }
                _ => Cell::Empty,
            });
        let note = if rng.random_bool(0.12) {
            Cell::Text((*skewed(rng, words::NOTES)).to_owned())
        } else {
            Cell::Empty
        };

        let text = |value: Option<&str>| value.map_or(Cell::Empty, |v| Cell::Text(v.to_owned()));
        let mut cells = Vec::with_capacity(HEADERS.len());
        cells.push(text(first));
        cells.push(text(last));
        cells.push(phone);
        cells.push(text(city.map(|(name, _)| name)));
        cells.extend(consent);
        cells.push(note);
        GeneratedRow { cells, expected }
    }
}

impl Iterator for Contacts {
    type Item = GeneratedRow;

    fn next(&mut self) -> Option<GeneratedRow> {
        if self.emitted == self.spec.rows {
            return None;
        }
        self.emitted += 1;
        Some(self.row())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.spec.rows - self.emitted;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Contacts {}

/// What a correct import of a generated sheet reports. Every data row is exactly
/// one of imported, duplicate (an earlier row has the same E.164; the first one
/// is kept) or invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Truth {
    pub total_rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub invalid: u64,
    /// Imported rows by line type (`mobile`, `fixed_line`, `voip`, `toll_free`);
    /// adds up to `imported`.
    pub line_types: BTreeMap<String, u64>,
}

/// Adds up [`Expected`] outcomes row by row; [`truth`] uses it, and so can a
/// caller that writes the rows and wants the truth in the same pass.
#[derive(Debug, Clone, Default)]
pub struct TruthTally {
    truth: Truth,
    seen: HashSet<u64>,
}

impl TruthTally {
    pub fn new() -> TruthTally {
        TruthTally::default()
    }

    /// Counts one row.
    pub fn record(&mut self, expected: &Expected) {
        self.truth.total_rows += 1;
        match expected {
            Expected::Invalid => self.truth.invalid += 1,
            Expected::Valid { e164, line_type } => {
                let digits: u64 = e164[1..].parse().expect("generated E.164 is +digits");
                if self.seen.insert(digits) {
                    self.truth.imported += 1;
                    *self
                        .truth
                        .line_types
                        .entry((*line_type).to_owned())
                        .or_default() += 1;
                } else {
                    self.truth.duplicates += 1;
                }
            }
        }
    }

    pub fn finish(self) -> Truth {
        self.truth
    }
}

/// What a correct import of `contacts(spec)` reports (generates the rows again).
pub fn truth(spec: &ContactsSpec) -> Truth {
    let mut tally = TruthTally::new();
    for row in contacts(spec) {
        tally.record(&row.expected);
    }
    tally.finish()
}

#[cfg(test)]
mod tests;
