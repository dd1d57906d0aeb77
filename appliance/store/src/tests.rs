use proptest::prelude::*;
use shofar_dnc::SharedDnc;
use shofar_phone::{E164, LineType};

use crate::blacklist::{BlacklistSource, NewEntry};
use crate::contacts::{ImportCounts, NewContact};
use crate::*;

fn number(text: &str) -> E164 {
    text.parse().unwrap()
}

fn entry(text: &str, source: BlacklistSource) -> NewEntry {
    NewEntry {
        e164: number(text),
        reason: "asked not to be called".into(),
        source,
        checked_on: None,
        campaign: None,
    }
}

fn table_names(store: &Store) -> Vec<String> {
    let mut statement = store
        .connection()
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_new_database_has_the_whole_schema() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let tables = table_names(&store);
    for table in [
        "api_tokens",
        "audio_files",
        "audit_log",
        "blacklist",
        "blacklist_history",
        "call_records",
        "campaigns",
        "contacts",
        "import_jobs",
        "ivr_flows",
        "pacing_log",
        "settings",
        "sms_records",
        "sms_replies",
        "users",
    ] {
        assert!(tables.iter().any(|t| t == table), "missing table {table}");
    }
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/shofar.db");
    {
        let mut store = Store::open(&path).unwrap();
        store.create_campaign("donors", "test").unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.campaign_id("donors").unwrap().is_some());
    let mode: String = store
        .connection()
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_newer_database_is_refused_not_misread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let error = Store::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::TooNew { .. }), "{error}");
    assert!(error.to_string().contains("newer than this shofar"));
}

#[test]
fn an_interrupted_migration_leaves_the_old_version() {
    // A database at version 0 with a table the first migration also creates: the
    // migration fails, and nothing of it remains.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE users (x INTEGER)")
        .unwrap();
    drop(conn);
    let error = Store::open(&path).unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Migration {
                name: "0001_initial",
                ..
            }
        ),
        "{error}"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, 0);
    let campaigns: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'campaigns'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(campaigns, 0);
}

#[test]
fn campaigns_are_unique_by_name() {
    let mut store = Store::open_in_memory().unwrap();
    let id = store.create_campaign("donors", "test").unwrap();
    assert_eq!(store.require_campaign("donors").unwrap(), id);
    assert!(matches!(
        store.create_campaign("donors", "test"),
        Err(StoreError::CampaignExists(_))
    ));
    let missing = store.require_campaign("nope").unwrap_err();
    // The store's words fit every caller (the web UI too): no flag of one command.
    assert!(
        missing.to_string().contains("shofar campaign list"),
        "{missing}"
    );
    assert!(!missing.to_string().contains("--create"), "{missing}");
}

/// A contact of a test import: a mobile number, its metadata, not listed.
fn contact(e164: E164, metadata: &str, source_row: u64) -> NewContact {
    NewContact {
        e164,
        line_type: LineType::Mobile,
        metadata: metadata.into(),
        consent: None,
        blacklisted: false,
        source_row,
    }
}

/// Imports `contacts` into `campaign` (made if missing), committed.
fn import_all(store: &mut Store, campaign: &str, contacts: Vec<NewContact>) {
    let mut import = store
        .begin_contact_import(campaign, true, "t.csv", "test")
        .unwrap();
    for contact in contacts {
        import.insert(contact).unwrap();
    }
    import
        .finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "test",
        )
        .unwrap();
}

fn import_one(store: &mut Store, campaign: &str, e164: &str, blacklisted: bool) {
    let one = NewContact {
        blacklisted,
        ..contact(number(e164), r#"{"שם":"דנה"}"#, 2)
    };
    import_all(store, campaign, vec![one]);
}

#[test]
fn an_unfinished_import_leaves_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    {
        let mut import = store
            .begin_contact_import("donors", true, "t.csv", "test")
            .unwrap();
        import
            .insert(NewContact {
                e164: number("+972525551234"),
                line_type: LineType::Mobile,
                metadata: "{}".into(),
                consent: None,
                blacklisted: false,
                source_row: 2,
            })
            .unwrap();
        // dropped without finish()
    }
    assert_eq!(
        store.campaign_id("donors").unwrap(),
        None,
        "the created campaign is rolled back too"
    );
    let jobs: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM import_jobs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(jobs, 0);
}

#[test]
fn blacklisting_marks_contacts_in_every_campaign_and_removal_unmarks() {
    let mut store = Store::open_in_memory().unwrap();
    let dnc = SharedDnc::default();
    import_one(&mut store, "a", "+972525551234", false);
    import_one(&mut store, "b", "+972525551234", false);
    let (a, b) = (
        store.require_campaign("a").unwrap(),
        store.require_campaign("b").unwrap(),
    );
    let outcome = store
        .blacklist_add(
            &dnc,
            [entry("+972525551234", BlacklistSource::AdminImport)],
            "admin",
            serde_json::json!({}),
        )
        .unwrap();
    assert_eq!((outcome.added, outcome.contacts_marked), (1, 2));
    assert!(dnc.contains(number("+972525551234")));
    for campaign in [a, b] {
        assert!(store.contacts(campaign, 0, 10).unwrap()[0].blacklisted);
    }
    let again = store
        .blacklist_add(
            &dnc,
            [entry("+972525551234", BlacklistSource::UserOptout)],
            "ivr",
            serde_json::json!({}),
        )
        .unwrap();
    assert_eq!((again.added, again.already_listed), (0, 1));
    // The first entry is kept.
    let kept = store
        .blacklist_entry(number("+972525551234"))
        .unwrap()
        .unwrap();
    assert_eq!(kept.source, BlacklistSource::AdminImport);

    let removed = store
        .blacklist_remove(
            &dnc,
            &[number("+972525551234"), number("+97236123456")],
            "added by mistake",
            "admin",
        )
        .unwrap();
    assert_eq!(
        (
            removed.removed,
            removed.not_listed,
            removed.contacts_unmarked
        ),
        (1, 1, 2)
    );
    assert!(!dnc.contains(number("+972525551234")));
    assert!(
        store
            .blacklist_entry(number("+972525551234"))
            .unwrap()
            .is_none()
    );
    let history = store
        .blacklist_history(Some(number("+972525551234")), 10)
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, ["remove", "add"]);
    assert_eq!(history[0].reason, "added by mistake");
    let audit = store.audit_log(10).unwrap();
    assert_eq!(audit[0].action, "blacklist.remove");
    assert_eq!(audit[0].details["reason"], "added by mistake");
}

#[test]
fn another_process_catches_up_through_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let mut writer = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let (index, mut cursor) = reader.load_dnc().unwrap();
    let follower = SharedDnc::new(index);
    let writer_dnc = SharedDnc::default();
    writer
        .blacklist_add(
            &writer_dnc,
            [
                entry("+972525551234", BlacklistSource::UserOptout),
                entry("+97236123456", BlacklistSource::Compliance),
            ],
            "cli",
            serde_json::json!({}),
        )
        .unwrap();
    writer
        .blacklist_remove(&writer_dnc, &[number("+97236123456")], "mistake", "cli")
        .unwrap();
    assert_eq!(reader.dnc_catch_up(&follower, &mut cursor).unwrap(), 3);
    assert!(follower.contains(number("+972525551234")));
    assert!(!follower.contains(number("+97236123456")));
    assert_eq!(reader.dnc_catch_up(&follower, &mut cursor).unwrap(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Seed property 14 (blacklist persistence with timestamp): every number added
    /// stays stored — across reopening the database — with the time it was added,
    /// its reason and its source; the reloaded index lists exactly these numbers.
    #[test]
    fn property_14_entries_persist_with_their_timestamp(
        numbers in prop::collection::hash_set(972_520_000_000u64..972_529_999_999, 1..30),
        source in prop::sample::select(BlacklistSource::ALL.to_vec()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shofar.db");
        let before = now();
        {
            let mut store = Store::open(&path).unwrap();
            let entries = numbers.iter().map(|&n| NewEntry {
                e164: E164::from_u64(n).unwrap(),
                reason: format!("reason {n}"),
                source,
                checked_on: None,
                campaign: None,
            });
            store.blacklist_add(&SharedDnc::default(), entries, "prop", serde_json::json!({})).unwrap();
        }
        let after = now();
        let store = Store::open(&path).unwrap();
        prop_assert_eq!(store.blacklist_count().unwrap(), numbers.len() as u64);
        for &n in &numbers {
            let stored = store.blacklist_entry(E164::from_u64(n).unwrap()).unwrap().unwrap();
            prop_assert_eq!(stored.source, source);
            prop_assert_eq!(stored.reason, format!("reason {n}"));
            // Stored with millisecond precision.
            prop_assert!(stored.added_at >= before - chrono::Duration::milliseconds(1));
            prop_assert!(stored.added_at <= after);
        }
        let (index, _) = store.load_dnc().unwrap();
        prop_assert_eq!(index.len(), numbers.len());
        for &n in &numbers {
            prop_assert!(index.contains(E164::from_u64(n).unwrap()));
        }
    }
}

#[test]
fn batched_inserts_write_every_contact_exactly() {
    let mut store = Store::open_in_memory().unwrap();
    let mut import = store
        .begin_contact_import("donors", true, "t.csv", "test")
        .unwrap();
    // Two full batches and a remainder; reading in between writes what is queued.
    for i in 0..150u64 {
        import
            .insert(NewContact {
                e164: E164::from_u64(972_525_550_000 + i).unwrap(),
                line_type: if i % 2 == 0 {
                    LineType::Mobile
                } else {
                    LineType::FixedLine
                },
                metadata: format!(r#"{{"i":"{i}"}}"#),
                consent: (i % 3 == 0).then(|| contacts::Consent {
                    given: true,
                    at: Some("2024-03-15".into()),
                    source: format!("row {i}").into(),
                }),
                blacklisted: i == 7,
                source_row: i + 2,
            })
            .unwrap();
        if i == 70 {
            assert_eq!(import.existing_numbers().unwrap().len(), 71);
        }
    }
    import
        .finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "test",
        )
        .unwrap();
    let campaign = store.require_campaign("donors").unwrap();
    let contacts = store.contacts(campaign, 0, 1000).unwrap();
    assert_eq!(contacts.len(), 150);
    for (i, contact) in contacts.iter().enumerate() {
        assert_eq!(contact.e164, format!("+{}", 972_525_550_000 + i as u64));
        assert_eq!(contact.metadata["i"], i.to_string());
        assert_eq!(contact.source_row, Some(i as u64 + 2));
        assert_eq!(contact.sms_capable, i % 2 == 0);
        assert_eq!(contact.consent.as_deref(), (i % 3 == 0).then_some("given"));
        assert_eq!(contact.blacklisted, i == 7);
    }
}

/// Security probe: a contact search matched the stored JSON text of the
/// metadata, so `name`, `{` or `"` found every contact. It matches the values
/// (and the number) only, and `%` and `_` are literal.
#[test]
fn a_contact_search_matches_metadata_values_never_the_json_around_them() {
    let mut store = Store::open_in_memory().unwrap();
    let contacts = [
        r#"{"name":"Dana Cohen","city":"Tel Aviv"}"#,
        r#"{"name":"Moshe","note":"gave 100% in 2024"}"#,
        r#"{"name":"Rina","note":"first_one only"}"#,
    ]
    .into_iter()
    .zip(1..)
    .map(|(metadata, i)| {
        contact(
            E164::from_u64(972_525_550_000 + i).unwrap(),
            metadata,
            i + 1,
        )
    })
    .collect();
    import_all(&mut store, "donors", contacts);
    let campaign = store.require_campaign("donors").unwrap();
    let check = |search: &str, expected: &[u64]| {
        let query = contacts::ContactQuery {
            search: Some(search.to_owned()),
            status: None,
        };
        let (found, total) = store.contact_page(campaign, &query, 0, 100).unwrap();
        let found: Vec<u64> = found
            .iter()
            .map(|c| c.e164[c.e164.len() - 1..].parse().unwrap())
            .collect();
        assert_eq!(
            (found.as_slice(), total),
            (expected, expected.len() as u64),
            "search {search:?}"
        );
    };
    // The JSON around the values: keys, braces, quotes, separators.
    for search in ["name", "city", "{", "}", "\"", ":", ",", "\":\""] {
        check(search, &[]);
    }
    // A value's text, in any case, and the number's digits.
    check("cohen", &[1]);
    check("Tel Aviv", &[1]);
    check("0525550003", &[3]);
    // LIKE's wildcards are the characters themselves.
    check("%", &[2]);
    check("100%", &[2]);
    check("_", &[3]);
    check("c_hen", &[]);
    check("d%n", &[]);
}
