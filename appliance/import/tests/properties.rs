//! Property tests of the contact import through real files: seed properties 1, 4,
//! 5 and 13, plus the all-or-nothing guarantee.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use proptest::prelude::*;
use shofar_dnc::SharedDnc;
use shofar_import::blacklist::{BlacklistImportOptions, import_blacklist};
use shofar_import::{
    ContactImportOptions, DuplicateRule, ImportSummary, NoProgress, import_contacts,
};
use shofar_phone::{E164, Normalizer};
use shofar_store::Store;
use shofar_store::blacklist::BlacklistSource;

/// A pool of valid numbers (national form) and invalid values.
const VALID: &[&str] = &[
    "0525551234",
    "0545678901",
    "0502345678",
    "036123456",
    "026212345",
    "0774123456",
    "0722123456",
    "0733123456",
    "0587654321",
    "048123456",
];
const INVALID: &[&str] = &[
    "",
    "אין",
    "052-555",
    "*2345",
    "0501234567",
    "n/a",
    "12345678901234567890",
];

/// Built once: a normalizer compiles its patterns when it is made.
static NORMALIZER: std::sync::LazyLock<Normalizer> = std::sync::LazyLock::new(Normalizer::israel);

fn e164_of(national: &str) -> E164 {
    NORMALIZER.normalize_str(national).unwrap().e164
}

/// Spellings of one national number.
fn spelled(national: &str, style: u8) -> String {
    let rest = &national[1..];
    match style % 6 {
        0 => national.to_owned(),
        1 => format!("+972-{rest}"),
        2 => format!("972{rest}"),
        3 => format!("  {national} "),
        4 => format!("{national} משרד"),
        _ => rest.to_owned(),
    }
}

#[derive(Debug, Clone)]
struct GenRow {
    phone: String,
    /// Index into VALID, or None for an invalid value.
    valid: Option<usize>,
    name: String,
    city: String,
}

fn gen_row() -> impl Strategy<Value = GenRow> {
    let name = prop::sample::select(vec!["", "דנה", "משה", "Sarah", "יוסי, \"הגדול\""]);
    let city = prop::sample::select(vec!["", "חיפה", "ירושלים", "Tel Aviv"]);
    let valid =
        (0..VALID.len(), any::<u8>()).prop_map(|(i, style)| (spelled(VALID[i], style), Some(i)));
    let invalid = prop::sample::select(INVALID.to_vec()).prop_map(|v| (v.to_owned(), None));
    (prop_oneof![4 => valid, 1 => invalid], name, city).prop_map(|((phone, valid), name, city)| {
        GenRow {
            phone,
            valid,
            name: name.to_owned(),
            city: city.to_owned(),
        }
    })
}

/// A row with nothing in it is no data row: the import skips it (its row number
/// still counts, as in the spreadsheet).
fn is_blank(row: &GenRow) -> bool {
    row.phone.trim().is_empty() && row.name.is_empty() && row.city.is_empty()
}

fn write_csv(path: &Path, rows: &[GenRow]) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(["שם", "טלפון", "עיר"]).unwrap();
    for row in rows {
        writer
            .write_record([&row.name, &row.phone, &row.city])
            .unwrap();
    }
    writer.flush().unwrap();
}

fn import(store: &mut Store, dnc: &SharedDnc, path: &Path, rule: DuplicateRule) -> ImportSummary {
    let options = ContactImportOptions {
        create: true,
        duplicates: rule,
        invalid_rows_in_summary: 1000,
        ..ContactImportOptions::new("prop")
    };
    import_contacts(
        store,
        dnc,
        &Normalizer::israel(),
        path,
        &options,
        &NoProgress,
    )
    .unwrap()
}

fn metadata_of(row: &GenRow) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if !row.name.is_empty() {
        map.insert("שם".to_owned(), row.name.clone());
    }
    if !row.city.is_empty() {
        map.insert("עיר".to_owned(), row.city.clone());
    }
    map
}

fn stored(store: &Store) -> HashMap<String, (BTreeMap<String, String>, u64)> {
    let campaign = store.require_campaign("prop").unwrap();
    store
        .contacts(campaign, 0, 100_000)
        .unwrap()
        .into_iter()
        .map(|c| {
            let metadata = serde_json::from_value(c.metadata).unwrap();
            (c.e164, (metadata, c.source_row.unwrap()))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seed properties 1, 4 and 5 together, keep-first rule.
    ///
    /// Property 1 (contact extraction completeness): every valid number and its
    /// row's other columns are stored without loss. Property 4 (deduplication rule
    /// compliance): the first occurrence of a number is the one kept. Property 5
    /// (import summary accuracy): the summary's counts equal what was stored and
    /// what the rows hold, and add up to the row count.
    #[test]
    fn properties_1_4_5_keep_first(rows in prop::collection::vec(gen_row(), 1..60)) {
        prop_assume!(!rows.iter().all(is_blank));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.csv");
        write_csv(&path, &rows);
        let mut store = Store::open_in_memory().unwrap();
        let summary = import(&mut store, &SharedDnc::default(), &path, DuplicateRule::KeepFirst);

        // The model: first occurrence of each number, with its row number (header = 1).
        let mut first: BTreeMap<String, (usize, &GenRow)> = BTreeMap::new();
        let mut invalid = 0u64;
        for (index, row) in rows.iter().enumerate().filter(|(_, row)| !is_blank(row)) {
            match row.valid {
                Some(i) => { first.entry(e164_of(VALID[i]).to_string()).or_insert((index + 2, row)); }
                None => invalid += 1,
            }
        }
        let stored = stored(&store);
        let data_rows = rows.iter().filter(|row| !is_blank(row)).count() as u64;
        prop_assert_eq!(summary.total_rows, data_rows);
        prop_assert_eq!(summary.imported, first.len() as u64);
        prop_assert_eq!(summary.invalid, invalid);
        prop_assert_eq!(summary.duplicates, data_rows - invalid - first.len() as u64);
        prop_assert_eq!(summary.imported + summary.duplicates + summary.invalid, summary.total_rows);
        prop_assert_eq!(stored.len() as u64, summary.imported);
        prop_assert_eq!(summary.invalid_rows.len() as u64, summary.invalid);
        let types = summary.line_types;
        prop_assert_eq!(types.mobile + types.fixed_line + types.voip + types.toll_free + types.other, summary.imported);
        for (e164, (row_number, row)) in &first {
            let (metadata, source_row) = &stored[e164];
            prop_assert_eq!(*source_row, *row_number as u64);
            prop_assert_eq!(metadata, &metadata_of(row));
        }
        for invalid_row in &summary.invalid_rows {
            let row = &rows[invalid_row.row as usize - 2];
            prop_assert!(row.valid.is_none());
        }
    }

    /// Seed property 4 (deduplication rule compliance), merge rule: the first
    /// occurrence is kept, and each field takes the first non-empty value any
    /// occurrence of the number has.
    #[test]
    fn property_4_merge_takes_the_first_non_empty_value(rows in prop::collection::vec(gen_row(), 1..60)) {
        prop_assume!(!rows.iter().all(is_blank));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contacts.csv");
        write_csv(&path, &rows);
        let mut store = Store::open_in_memory().unwrap();
        let summary = import(&mut store, &SharedDnc::default(), &path, DuplicateRule::MergeMetadata);
        let mut expected: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for row in &rows {
            let Some(i) = row.valid else { continue };
            let merged = expected.entry(e164_of(VALID[i]).to_string()).or_default();
            for (key, value) in metadata_of(row) {
                merged.entry(key).or_insert(value);
            }
        }
        let stored = stored(&store);
        prop_assert_eq!(stored.len(), expected.len());
        prop_assert_eq!(summary.imported, expected.len() as u64);
        for (e164, metadata) in &expected {
            prop_assert_eq!(&stored[e164].0, metadata);
        }
    }

    /// Seed property 13 (blacklist import immediate application): after a
    /// blacklist file import, every number in it is refused by the pre-dial check
    /// at once, and already-imported contacts with those numbers are marked.
    #[test]
    fn property_13_blacklist_import_applies_to_existing_contacts(
        contacts in prop::collection::vec(gen_row(), 1..40),
        listed in prop::collection::btree_set(0..VALID.len(), 1..VALID.len()),
        style in any::<u8>(),
    ) {
        prop_assume!(!contacts.iter().all(is_blank));
        let dir = tempfile::tempdir().unwrap();
        let contacts_path = dir.path().join("contacts.csv");
        write_csv(&contacts_path, &contacts);
        let mut store = Store::open_in_memory().unwrap();
        let dnc = SharedDnc::default();
        import(&mut store, &dnc, &contacts_path, DuplicateRule::KeepFirst);

        let blacklist_path = dir.path().join("dnc.csv");
        let mut writer = csv::Writer::from_path(&blacklist_path).unwrap();
        writer.write_record(["phone", "reason"]).unwrap();
        for &i in &listed {
            writer.write_record([spelled(VALID[i], style), "registry".to_owned()]).unwrap();
        }
        writer.flush().unwrap();
        let options = BlacklistImportOptions {
            source: BlacklistSource::Compliance,
            reason: String::new(),
            checked_on: Some("2026-11-01".into()),
            sheet: None,
            phone_column: None,
            actor: "prop".into(),
        };
        let summary = import_blacklist(&mut store, &dnc, &NORMALIZER, &blacklist_path, &options, &NoProgress).unwrap();
        prop_assert_eq!(summary.added, listed.len() as u64);
        let listed_numbers: Vec<E164> = listed.iter().map(|&i| e164_of(VALID[i])).collect();
        for &number in &listed_numbers {
            prop_assert!(dnc.predial_check(number).is_err());
            prop_assert_eq!(store.blacklist_entry(number).unwrap().unwrap().reason, "registry");
        }
        let campaign = store.require_campaign("prop").unwrap();
        for contact in store.contacts(campaign, 0, 1000).unwrap() {
            let number: E164 = contact.e164.parse().unwrap();
            prop_assert_eq!(contact.blacklisted, listed_numbers.contains(&number));
        }
    }
}

#[test]
fn contacts_on_the_list_are_imported_marked_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contacts.csv");
    let rows: Vec<GenRow> = ["0525551234", "036123456", "0525551234"]
        .iter()
        .map(|p| GenRow {
            phone: (*p).to_owned(),
            valid: Some(0),
            name: "דנה".into(),
            city: String::new(),
        })
        .collect();
    write_csv(&path, &rows);
    let mut store = Store::open_in_memory().unwrap();
    let dnc = SharedDnc::default();
    dnc.update(|index| index.insert(e164_of("0525551234")));
    let summary = import(&mut store, &dnc, &path, DuplicateRule::KeepFirst);
    assert_eq!(
        (summary.imported, summary.duplicates, summary.blacklisted),
        (2, 1, 1)
    );
    let stored = stored(&store);
    assert_eq!(stored.len(), 2);
}
