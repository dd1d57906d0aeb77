use std::collections::HashSet;

use phonenumber::metadata::DATABASE;
use phonenumber::{Type, country};
use shofar_phone::{Normalizer, RawPhone};

use super::*;
use crate::blacklist::BLOCKS;

fn rows(spec: &ContactsSpec) -> Vec<GeneratedRow> {
    contacts(spec).collect()
}

/// A spec with many duplicates and invalid rows, to exercise every kind.
fn messy(rows: usize, seed: u64) -> ContactsSpec {
    ContactsSpec {
        rows,
        seed,
        duplicate_ratio: 0.15,
        invalid_ratio: 0.25,
        with_consent: true,
    }
}

#[test]
fn same_spec_same_rows() {
    let spec = ContactsSpec::new(3_000, 42);
    assert_eq!(rows(&spec), rows(&spec));
    let other = ContactsSpec::new(3_000, 43);
    assert_ne!(rows(&spec), rows(&other));
}

#[test]
fn rows_have_the_header_shape_and_never_are_empty() {
    for spec in [
        ContactsSpec::new(2_000, 1),
        ContactsSpec {
            with_consent: false,
            ..messy(2_000, 2)
        },
    ] {
        let header = headers(&spec);
        assert_eq!(header[PHONE_COLUMN], PHONE_HEADER);
        assert_eq!(header.contains(&CONSENT_HEADER), spec.with_consent);
        let generated = rows(&spec);
        assert_eq!(generated.len(), spec.rows);
        for row in generated {
            assert_eq!(row.cells.len(), header.len());
            assert!(
                row.cells[..2]
                    .iter()
                    .any(|c| matches!(c, Cell::Text(t) if !t.trim().is_empty())),
                "a row without a name: {row:?}"
            );
        }
    }
}

#[test]
fn valid_numbers_revalidate_with_libphonenumber() {
    let mut kinds = HashSet::new();
    for row in rows(&ContactsSpec::new(5_000, 9)) {
        let Expected::Valid { e164, line_type } = row.expected else {
            continue;
        };
        let number = phonenumber::parse(Some(country::IL), &e164).expect("parses");
        assert!(phonenumber::is_valid(&number), "{e164}");
        let expected_type = match number.number_type(&DATABASE) {
            Type::Mobile => "mobile",
            Type::FixedLine => "fixed_line",
            Type::Voip => "voip",
            Type::TollFree => "toll_free",
            other => panic!("{e164} has line type {other:?}"),
        };
        assert_eq!(line_type, expected_type, "{e164}");
        assert_eq!(
            number.format().mode(phonenumber::Mode::E164).to_string(),
            e164
        );
        kinds.insert(line_type);
    }
    assert_eq!(kinds.len(), 4, "all four line types occur: {kinds:?}");
}

/// "Obvious cleaning": drop spaces, dashes, parentheses and bidi marks.
fn obvious_clean(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '\u{200E}' | '\u{200F}'))
        .collect()
}

#[test]
fn invalid_cells_are_invalid() {
    let mut kinds = [0usize; 5]; // empty, no digits, star, digits only, letters and digits
    for row in rows(&messy(10_000, 5)) {
        if row.expected != Expected::Invalid {
            continue;
        }
        match row.phone() {
            Cell::Empty => kinds[0] += 1,
            Cell::Number(value) => {
                let digits = format!("{}", *value as u64);
                assert!(numbers::libphonenumber_rejects(&digits), "{value}");
                kinds[3] += 1;
            }
            Cell::Text(text) => {
                let cleaned = obvious_clean(text);
                if !cleaned.chars().any(|c| c.is_ascii_digit()) {
                    kinds[1] += 1;
                } else if cleaned.starts_with('*') {
                    kinds[2] += 1;
                } else if cleaned.chars().all(|c| c.is_ascii_digit()) {
                    // short or unallocated: libphonenumber says invalid
                    assert!(numbers::libphonenumber_rejects(&cleaned), "{text}");
                    kinds[3] += 1;
                } else {
                    // letters among the digits: neither with nor without the letters
                    let digits: String = cleaned.chars().filter(char::is_ascii_digit).collect();
                    assert!(numbers::libphonenumber_rejects(&cleaned), "{text}");
                    assert!(numbers::libphonenumber_rejects(&digits), "{text}");
                    kinds[4] += 1;
                }
            }
        }
    }
    assert!(
        kinds.iter().all(|&n| n > 50),
        "every kind of invalid cell occurs: {kinds:?}"
    );
    // the brief's example of an unallocated range
    assert!(numbers::libphonenumber_rejects("050-1234567"));
}

/// The product's own normalizer agrees with the expectation on every row.
#[test]
fn shofar_phone_agrees_with_every_expectation() {
    let normalizer = Normalizer::israel();
    for spec in [ContactsSpec::new(10_000, 3), messy(10_000, 4)] {
        for row in rows(&spec) {
            let result = match row.phone() {
                Cell::Text(text) => normalizer.normalize(RawPhone::Text(text)),
                Cell::Number(value) => normalizer.normalize(RawPhone::Number(*value)),
                Cell::Empty => normalizer.normalize(RawPhone::Text("")),
            };
            match (&row.expected, result) {
                (Expected::Valid { e164, line_type }, Ok(normalized)) => {
                    assert_eq!(&normalized.e164.to_string(), e164, "{:?}", row.phone());
                    assert_eq!(
                        normalized.line_type.as_str(),
                        *line_type,
                        "{:?}",
                        row.phone()
                    );
                }
                (Expected::Invalid, Err(_)) => {}
                (expected, result) => {
                    panic!(
                        "{:?}: expected {expected:?}, normalizer says {result:?}",
                        row.phone()
                    )
                }
            }
        }
    }
}

#[test]
fn every_spelling_occurs() {
    let texts: Vec<String> = rows(&ContactsSpec::new(20_000, 11))
        .into_iter()
        .filter(|row| row.expected != Expected::Invalid)
        .map(|row| match row.phone() {
            Cell::Text(text) => text.clone(),
            Cell::Number(value) => format!("number:{value}"),
            Cell::Empty => panic!("valid row with an empty phone"),
        })
        .collect();
    let has = |what: &str, test: &dyn Fn(&str) -> bool| {
        assert!(texts.iter().any(|t| test(t)), "no spelling like {what}");
    };
    let digits_dashes = |t: &str, pattern: &[usize]| {
        let parts: Vec<&str> = t.split('-').collect();
        parts.len() == pattern.len()
            && parts
                .iter()
                .zip(pattern)
                .all(|(p, &n)| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()))
    };
    has("052-5551234", &|t| {
        t.starts_with("05") && digits_dashes(t, &[3, 7])
    });
    has("0525551234", &|t| {
        t.len() == 10 && t.starts_with("05") && t.bytes().all(|b| b.is_ascii_digit())
    });
    has("052 555 1234", &|t| {
        t.starts_with("05") && t.split(' ').map(str::len).eq([3, 3, 4])
    });
    has("(03) 6123456", &|t| t.starts_with("(0") && t.len() == 12);
    has("+972-52-555-1234", &|t| t.starts_with("+972-5"));
    has("972525551234", &|t| t.len() == 12 && t.starts_with("9725"));
    has("+972 52 5551234", &|t| t.starts_with("+972 5"));
    has("00972-52-5551234", &|t| t.starts_with("00972-"));
    has("  052-5551234 ", &|t| {
        t.ends_with(' ') && t.trim().len() == 11
    });
    has("052-5551234 משרד", &|t| {
        t.starts_with("05") && t.contains(" מ")
    });
    has("RLM 052-5551234", &|t| t.starts_with('\u{200F}'));
    has("1-800-123-456", &|t| t.starts_with("1-800-"));
    has("number 525551234", &|t| {
        t.starts_with("number:5") && t.len() == 16
    });
    has("number 972525551234", &|t| t.starts_with("number:9725"));
    has("number 36123456", &|t| {
        t.starts_with("number:") && t.len() == 15
    });
}

#[test]
fn truth_adds_up() {
    let spec = ContactsSpec::new(20_000, 8);
    let truth = truth(&spec);
    assert_eq!(truth.total_rows, 20_000);
    assert_eq!(
        truth.imported + truth.duplicates + truth.invalid,
        truth.total_rows
    );
    assert_eq!(truth.line_types.values().sum::<u64>(), truth.imported);
    let share = |n: u64| n as f64 / truth.total_rows as f64;
    assert!(
        (0.025..0.035).contains(&share(truth.duplicates)),
        "{truth:?}"
    );
    assert!((0.015..0.025).contains(&share(truth.invalid)), "{truth:?}");
    assert!(share(truth.line_types["mobile"]) > 0.7, "{truth:?}");
    for kind in ["fixed_line", "voip", "toll_free"] {
        assert!(truth.line_types[kind] > 0, "{truth:?}");
    }

    // Recount by hand: first occurrence of an E.164 is imported, later ones duplicates.
    let mut seen = HashSet::new();
    let (mut imported, mut duplicates, mut invalid) = (0, 0, 0);
    for row in contacts(&spec) {
        match row.expected {
            Expected::Valid { e164, .. } if seen.insert(e164.clone()) => imported += 1,
            Expected::Valid { .. } => duplicates += 1,
            Expected::Invalid => invalid += 1,
        }
    }
    assert_eq!(
        (imported, duplicates, invalid),
        (truth.imported, truth.duplicates, truth.invalid)
    );
}

#[test]
fn ratios_at_the_extremes() {
    let none = truth(&ContactsSpec {
        duplicate_ratio: 0.0,
        invalid_ratio: 0.0,
        ..ContactsSpec::new(2_000, 3)
    });
    assert_eq!(none.invalid, 0);
    assert!(none.duplicates <= 2, "only accidental repeats: {none:?}");
    let all_invalid = truth(&ContactsSpec {
        duplicate_ratio: 0.0,
        invalid_ratio: 1.0,
        ..ContactsSpec::new(500, 3)
    });
    assert_eq!(all_invalid.invalid, 500);
    assert!(
        ContactsSpec {
            invalid_ratio: 0.7,
            duplicate_ratio: 0.4,
            ..ContactsSpec::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn csv_text_of_numbers_is_what_excel_exports() {
    assert_eq!(Cell::Number(525551234.0).to_csv_text(), "525551234");
    assert_eq!(Cell::Number(972525551234.0).to_csv_text(), "972525551234");
    assert_eq!(Cell::Number(1.5).to_csv_text(), "1.5");
    assert_eq!(Cell::Empty.to_csv_text(), "");
}

#[test]
fn blacklist_numbers_are_distinct_and_valid() {
    let numbers: Vec<u64> = blacklist_numbers(100_000, 7).collect();
    assert_eq!(numbers.len(), 100_000);
    let distinct: HashSet<u64> = numbers.iter().copied().collect();
    assert_eq!(distinct.len(), numbers.len());
    for &number in numbers.iter().step_by(50) {
        let e164 = format!("+{number}");
        let parsed = phonenumber::parse(Some(country::IL), &e164).expect("parses");
        assert!(phonenumber::is_valid(&parsed), "{e164}");
        assert_eq!(parsed.number_type(&DATABASE), Type::Mobile, "{e164}");
    }
    assert_eq!(numbers, blacklist_numbers(100_000, 7).collect::<Vec<_>>());
    assert_ne!(
        numbers[..100],
        blacklist_numbers(100, 8).collect::<Vec<_>>()[..]
    );
}

#[test]
fn blacklist_permutation_covers_every_position_once() {
    // The permutation behind the numbers, over the whole capacity: every position
    // is hit exactly once.
    let numbers = blacklist_numbers(BLACKLIST_CAPACITY, 3);
    let mut seen = vec![0u64; BLACKLIST_CAPACITY.div_ceil(64)];
    for index in 0..BLACKLIST_CAPACITY as u64 {
        let position = numbers.permute(index);
        let (word, bit) = ((position / 64) as usize, position % 64);
        assert_eq!(seen[word] & (1 << bit), 0, "position {position} twice");
        seen[word] |= 1 << bit;
    }
    let hits: u64 = seen.iter().map(|w| u64::from(w.count_ones())).sum();
    assert_eq!(hits, BLACKLIST_CAPACITY as u64);

    // And the order is not block by block: the first numbers span every block.
    let blocks: HashSet<u64> = blacklist_numbers(BLACKLIST_CAPACITY, 3)
        .take(10_000)
        .map(|n| (n - 972_000_000_000) / 1_000_000)
        .collect();
    assert_eq!(blocks.len(), BLOCKS.len());
}

/// Every block is valid throughout: every 4th and 5th digit combination, with
/// the lowest and highest remaining digits, is a valid mobile.
#[test]
fn blacklist_blocks_are_wholly_valid() {
    for block in BLOCKS {
        for middle in 0..100u64 {
            for tail in [0u64, 5_555, 9_999] {
                let e164 = format!("+972{block}{middle:02}{tail:04}");
                let parsed = phonenumber::parse(Some(country::IL), &e164).expect("parses");
                assert!(phonenumber::is_valid(&parsed), "{e164}");
                assert_eq!(parsed.number_type(&DATABASE), Type::Mobile, "{e164}");
            }
        }
    }
}

#[test]
fn every_word_fits_windows_1255_and_community_cities_exist() {
    let mut all: Vec<&str> = Vec::new();
    for community in &words::COMMUNITIES {
        all.extend(community.first_names);
        all.extend(community.surnames);
        for &city in community.cities {
            assert_eq!(words::city(city).0, city);
        }
    }
    all.extend(words::CITIES.iter().map(|(name, _)| *name));
    all.extend(words::NOTES);
    all.extend(words::PHONE_NOTES);
    all.extend(words::GARBAGE);
    all.extend(HEADERS);
    let lookalikes: String = words::DIGIT_LOOKALIKES.iter().collect();
    all.push(&lookalikes);
    all.push("\u{200E}\u{200F}");
    for word in all {
        assert!(!encoding_rs::WINDOWS_1255.encode(word).2, "{word:?}");
    }
}
