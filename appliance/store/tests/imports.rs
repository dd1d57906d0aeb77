//! Imports in short transactions (issue 15), against real SQLite files: what an
//! import writes is seen by nothing that lists, counts or dials until its last
//! commit; the write lock is free between its chunks; a failed or abandoned
//! import leaves the database as it was; a busy database is waited for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use proptest::prelude::*;
use shofar_dnc::SharedDnc;
use shofar_phone::{E164, LineType};
use shofar_store::blacklist::{AddOutcome, BlacklistSource, NewEntry};
use shofar_store::campaigns::CampaignId;
use shofar_store::contacts::{ContactImport, ContactQuery, ImportCounts, NewContact};
use shofar_store::dispatch::{CandidateQuery, Tier};
use shofar_store::{Store, StoreError};

fn contact(n: u64) -> NewContact {
    NewContact {
        e164: E164::from_u64(972_525_000_000 + n).unwrap(),
        line_type: LineType::Mobile,
        metadata: format!(r#"{{"n":"{n}"}}"#),
        consent: None,
        blacklisted: false,
        source_row: n + 2,
    }
}

fn finish(import: ContactImport<'_>) -> i64 {
    import
        .finish(
            ImportCounts::default(),
            &serde_json::json!({}),
            None,
            "test",
        )
        .unwrap()
}

/// A database file with campaign `name` holding contacts `numbers`.
fn database_with(dir: &Path, name: &str, numbers: std::ops::Range<u64>) -> PathBuf {
    let path = dir.join("shofar.db");
    let mut store = Store::open(&path).unwrap();
    let mut import = store
        .begin_contact_import(name, true, "first.csv", "test")
        .unwrap();
    for n in numbers {
        import.insert(contact(n)).unwrap();
    }
    finish(import);
    path
}

/// What every reader of contacts says about a campaign: listing, page total,
/// counts, the campaign list, and the dialable contacts in dispatch order.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    count: u64,
    listed: usize,
    page_total: u64,
    counts_total: u64,
    in_campaign_list: u64,
    dialable: usize,
}

fn seen(store: &Store, campaign: CampaignId) -> Seen {
    let now = chrono::Utc::now();
    let dialable = store
        .dispatch_candidates(&CandidateQuery {
            campaign,
            zone: None,
            now,
            max_attempts: 3,
            consent_required: false,
            tier: Tier::All,
            limit: 1_000_000,
        })
        .unwrap()
        .len();
    Seen {
        count: store.contact_count(campaign).unwrap(),
        listed: store.contacts(campaign, 0, 1_000_000).unwrap().len(),
        page_total: store
            .contact_page(campaign, &ContactQuery::default(), 0, 10)
            .unwrap()
            .1,
        counts_total: store.contact_counts(campaign, now, 3, false).unwrap().total,
        in_campaign_list: store
            .list_campaigns()
            .unwrap()
            .iter()
            .find(|c| c.id == campaign)
            .map_or(0, |c| c.contacts),
        dialable,
    }
}

fn all(n: u64) -> Seen {
    Seen {
        count: n,
        listed: n as usize,
        page_total: n,
        counts_total: n,
        in_campaign_list: n,
        dialable: n as usize,
    }
}

fn raw_count(store: &Store, sql: &str) -> i64 {
    store
        .connection()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

#[test]
fn an_import_into_a_campaign_is_invisible_until_its_commit_and_never_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..3);
    let mut importing = Store::open(&path).unwrap();
    let mut reader = Store::open(&path).unwrap();
    // The other connection (the dialer's, say) does not wait at all.
    reader
        .set_busy_waits(Duration::ZERO, Duration::ZERO)
        .unwrap();
    let campaign = reader.require_campaign("donors").unwrap();

    let mut import = importing
        .begin_contact_import("donors", false, "second.csv", "test")
        .unwrap();
    for n in 3..5003 {
        import.insert(contact(n)).unwrap();
    }
    import.commit_chunk().unwrap();
    assert_eq!(seen(&reader, campaign), all(3), "before the commit");
    assert!(reader.has_work_left(campaign, 3, false).unwrap());
    // Between chunks the write lock is free: a write of the reader's goes
    // through without waiting.
    reader.create_campaign("meanwhile", "test").unwrap();

    finish(import);
    assert_eq!(seen(&reader, campaign), all(5003), "after the commit");
    assert_eq!(
        raw_count(
            &reader,
            "SELECT count(*) FROM contacts WHERE staged_import IS NOT NULL"
        ),
        0,
        "the import cleared its rows into the dispatch order"
    );
}

#[test]
fn a_campaign_an_import_creates_is_found_by_nothing_until_its_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shofar.db");
    let mut importing = Store::open(&path).unwrap();
    let mut other = Store::open(&path).unwrap();
    let mut import = importing
        .begin_contact_import("new", true, "new.csv", "test")
        .unwrap();
    for n in 0..3000 {
        import.insert(contact(n)).unwrap();
    }
    import.commit_chunk().unwrap();
    let hidden = CampaignId(import.campaign().0);

    assert_eq!(other.campaign_id("new").unwrap(), None);
    assert!(other.list_campaigns().unwrap().is_empty());
    assert!(other.resolve_campaign("new").is_err());
    assert!(other.resolve_campaign(&hidden.0.to_string()).is_err());
    assert!(matches!(
        other.campaign(hidden),
        Err(StoreError::NoSuchCampaignId(_))
    ));
    assert!(other.running_campaigns().unwrap().is_empty());
    // Its name is taken meanwhile, and says by whom.
    let taken = other.create_campaign("new", "test").unwrap_err();
    assert!(matches!(taken, StoreError::ImportRunning { .. }), "{taken}");
    let second = other
        .begin_contact_import("new", true, "again.csv", "test")
        .err()
        .unwrap();
    assert!(
        second
            .to_string()
            .contains("another import into campaign \"new\" is running"),
        "{second}"
    );

    finish(import);
    let campaign = other.require_campaign("new").unwrap();
    assert_eq!(campaign, hidden);
    assert_eq!(seen(&other, campaign).count, 3000);
    let audit: Vec<String> = other
        .audit_log(10)
        .unwrap()
        .into_iter()
        .map(|entry| entry.action)
        .collect();
    assert_eq!(audit, ["contacts.import", "campaign.create"]);
}

#[test]
fn a_failed_import_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..10);
    let mut store = Store::open(&path).unwrap();
    let campaign = store.require_campaign("donors").unwrap();
    let before: Vec<_> = store.contacts(campaign, 0, 100).unwrap();
    {
        let mut import = store
            .begin_contact_import("donors", false, "second.csv", "test")
            .unwrap();
        for n in 5..4000 {
            if n < 10 {
                // A duplicate of an earlier contact, merged: kept aside.
                let kept = import.metadata_of(contact(n).e164).unwrap().unwrap();
                assert_eq!(kept, format!(r#"{{"n":"{n}"}}"#));
                import
                    .set_metadata(contact(n).e164, r#"{"n":"changed"}"#)
                    .unwrap();
            } else {
                import.insert(contact(n)).unwrap();
            }
        }
        import.commit_chunk().unwrap();
        // Dropped without finish: an error on the way.
    }
    {
        let mut import = store
            .begin_contact_import("created", true, "third.csv", "test")
            .unwrap();
        for n in 0..2000 {
            import.insert(contact(n)).unwrap();
        }
        import.commit_chunk().unwrap();
    }
    assert_eq!(store.contacts(campaign, 0, 100).unwrap(), before);
    assert_eq!(store.campaign_id("created").unwrap(), None);
    for (table, rows) in [
        ("contacts", 10),
        ("campaigns", 1),
        ("import_jobs", 1),
        ("import_merges", 0),
    ] {
        assert_eq!(
            raw_count(&store, &format!("SELECT count(*) FROM {table}")),
            rows,
            "{table}"
        );
    }
    let locks = std::fs::read_dir(dir.path().join("shofar.db-imports")).unwrap();
    assert_eq!(locks.count(), 0, "no lock file is left");
}

#[test]
fn merges_into_earlier_contacts_appear_with_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..3);
    let mut importing = Store::open(&path).unwrap();
    let reader = Store::open(&path).unwrap();
    let campaign = reader.require_campaign("donors").unwrap();
    let mut import = importing
        .begin_contact_import("donors", false, "second.csv", "test")
        .unwrap();
    import
        .set_metadata(contact(1).e164, r#"{"n":"1","עיר":"חיפה"}"#)
        .unwrap();
    // A second merge into the same contact starts from the first one.
    assert_eq!(
        import.metadata_of(contact(1).e164).unwrap().as_deref(),
        Some(r#"{"n":"1","עיר":"חיפה"}"#)
    );
    import.insert(contact(3)).unwrap();
    import.commit_chunk().unwrap();
    assert_eq!(
        reader.contacts(campaign, 0, 10).unwrap()[1].metadata["עיר"],
        serde_json::Value::Null
    );
    finish(import);
    assert_eq!(
        reader.contacts(campaign, 0, 10).unwrap()[1].metadata["עיר"],
        "חיפה"
    );
    assert_eq!(reader.contact_count(campaign).unwrap(), 4);
}

/// A job whose process is gone, as a kill -9 leaves it: running, rows written,
/// no lock held. Made with SQL, as the killed process left it.
fn abandoned_job(store: &Store, campaign: Option<i64>, heartbeat: &str, rows: u64) -> i64 {
    // Numbers no test imports, distinct for each job.
    let first: i64 = store
        .connection()
        .query_row(
            "SELECT coalesce(max(e164), 972540000000) FROM contacts WHERE e164 >= 972540000000",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let db = store.connection();
    let campaign = campaign.unwrap_or_else(|| {
        db.execute(
            "INSERT INTO campaigns (name, created_at, updated_at, staged_import)
             VALUES ('half made', ?1, ?1, 0)",
            [heartbeat],
        )
        .unwrap();
        db.last_insert_rowid()
    });
    db.execute(
        "INSERT INTO import_jobs (campaign_id, kind, file_name, status, started_at, heartbeat_at)
         VALUES (?1, 'contacts', 'killed.csv', 'running', ?2, ?2)",
        rusqlite::params![campaign, heartbeat],
    )
    .unwrap();
    let job = db.last_insert_rowid();
    let creates: bool = db
        .query_row(
            "UPDATE campaigns SET staged_import = ?2 WHERE id = ?1 AND staged_import = 0 RETURNING 1",
            rusqlite::params![campaign, job],
            |row| row.get(0),
        )
        .unwrap_or(false);
    db.execute(
        "WITH RECURSIVE series(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM series WHERE value < ?4)
         INSERT INTO contacts (campaign_id, e164, line_type, sms_capable, import_id, staged_import)
         SELECT ?1, ?5 + value, 'mobile', 1, ?2, CASE WHEN ?3 THEN NULL ELSE ?2 END FROM series",
        rusqlite::params![campaign, job, creates, rows, first],
    )
    .unwrap();
    job
}

#[test]
fn an_abandoned_import_is_removed_by_the_next_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..5);
    let mut store = Store::open(&path).unwrap();
    let campaign = store.require_campaign("donors").unwrap();
    let long_ago = shofar_store::format_time(chrono::Utc::now() - chrono::Duration::minutes(30));
    let just_now = shofar_store::format_time(chrono::Utc::now());
    // Silent for half an hour, no lock file: abandoned.
    let stale = abandoned_job(&store, Some(campaign.0), &long_ago, 3000);
    // A lock file nobody holds: its process is gone, however recent its beat.
    let unlocked = abandoned_job(&store, None, &just_now, 2500);
    std::fs::create_dir_all(dir.path().join("shofar.db-imports")).unwrap();
    std::fs::write(
        dir.path()
            .join(format!("shofar.db-imports/{unlocked}.lock")),
        "",
    )
    .unwrap();
    assert_eq!(seen(&store, campaign), all(5), "hidden while abandoned");
    assert_eq!(store.campaign_id("half made").unwrap(), None);

    let recovery = store.recover_imports().unwrap();
    assert_eq!(recovery.abandoned, [stale, unlocked]);
    assert_eq!(recovery.removed_contacts, 5500);
    assert_eq!(seen(&store, campaign), all(5));
    assert_eq!(raw_count(&store, "SELECT count(*) FROM contacts"), 5);
    assert_eq!(raw_count(&store, "SELECT count(*) FROM campaigns"), 1);
    assert_eq!(raw_count(&store, "SELECT count(*) FROM import_jobs"), 1);
    assert!(
        store.recover_imports().unwrap().is_empty(),
        "nothing left to do"
    );
}

#[test]
fn a_running_import_with_a_recent_heartbeat_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..5);
    let mut store = Store::open(&path).unwrap();
    let campaign = store.require_campaign("donors").unwrap();
    let just_now = shofar_store::format_time(chrono::Utc::now());
    abandoned_job(&store, Some(campaign.0), &just_now, 100);
    assert!(store.recover_imports().unwrap().is_empty());
    assert_eq!(raw_count(&store, "SELECT count(*) FROM contacts"), 105);
    assert_eq!(seen(&store, campaign), all(5));
}

#[test]
fn a_busy_database_is_waited_for_then_refused_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = database_with(dir.path(), "donors", 0..3);
    let hold = |for_how_long: Duration| {
        let path = path.clone();
        let (locked_tx, locked) = std::sync::mpsc::channel();
        let holder = std::thread::spawn(move || {
            let other = rusqlite::Connection::open(&path).unwrap();
            other.execute_batch("BEGIN IMMEDIATE").unwrap();
            locked_tx.send(()).unwrap();
            std::thread::sleep(for_how_long);
            other.execute_batch("COMMIT").unwrap();
        });
        locked.recv().unwrap();
        holder
    };
    let mut store = Store::open(&path).unwrap();

    // SQLite's own wait (50 ms here) runs out several times; the import waits on.
    store
        .set_busy_waits(Duration::from_millis(50), Duration::from_secs(30))
        .unwrap();
    let holder = hold(Duration::from_millis(400));
    let mut import = store
        .begin_contact_import("donors", false, "second.csv", "test")
        .unwrap();
    import.insert(contact(3)).unwrap();
    finish(import);
    holder.join().unwrap();
    assert_eq!(store.contact_count(CampaignId(1)).unwrap(), 4);

    // Past its patience it gives up, saying why and what to do.
    store
        .set_busy_waits(Duration::from_millis(50), Duration::from_millis(300))
        .unwrap();
    let holder = hold(Duration::from_millis(1500));
    let error = store
        .begin_contact_import("donors", false, "third.csv", "test")
        .err()
        .unwrap();
    holder.join().unwrap();
    assert!(matches!(error, StoreError::Busy { .. }), "{error}");
    assert_eq!(error.condition(), Some(shofar_store::Condition::Busy));
    assert!(error.to_string().contains("try again"), "{error}");
}

fn entries(range: std::ops::Range<u64>) -> Vec<NewEntry> {
    range
        .map(|n| NewEntry {
            e164: E164::from_u64(972_526_000_000 + n).unwrap(),
            reason: "asked".into(),
            source: BlacklistSource::Compliance,
            checked_on: None,
            campaign: None,
        })
        .collect()
}

/// A do-not-call import that fails half way keeps what it committed — listed in
/// the store and in the index, the safe side — and nothing after it is in the
/// index (it was unlisted when its chunk rolled back).
#[test]
fn a_do_not_call_import_in_chunks_keeps_exactly_what_committed() {
    const NUMBERS: u64 = 200_000;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("shofar.db")).unwrap();
    let dnc = SharedDnc::default();
    // The last number cannot be written: its chunk fails (a real SQLite
    // error, as a full disk would raise), after earlier chunks committed.
    store
        .connection()
        .execute_batch(&format!(
            "CREATE TRIGGER fail_last BEFORE INSERT ON blacklist
               WHEN NEW.e164 = {} BEGIN SELECT RAISE(ABORT, 'disk on fire'); END",
            972_526_000_000 + NUMBERS - 1
        ))
        .unwrap();
    let mut outcome = AddOutcome::default();
    let error = store
        .blacklist_add_in_chunks(
            &dnc,
            entries(0..NUMBERS),
            "test",
            serde_json::json!({}),
            &mut outcome,
        )
        .unwrap_err();
    assert!(error.to_string().contains("disk on fire"), "{error}");
    let stored = store.blacklist_count().unwrap();
    assert_eq!(outcome.added, stored, "the outcome counts what committed");
    assert!(
        stored > 0 && stored < NUMBERS,
        "{stored}: more than one chunk"
    );
    for entry in entries(0..NUMBERS) {
        let listed = store.blacklist_entry(entry.e164).unwrap().is_some();
        assert_eq!(dnc.contains(entry.e164), listed, "{}", entry.e164);
    }
    let audit = store.audit_log(1).unwrap();
    assert_eq!(audit[0].action, "blacklist.add");
    assert!(
        audit[0].details["incomplete"]
            .as_str()
            .unwrap()
            .contains("disk on fire")
    );
    assert_eq!(audit[0].details["outcome"]["added"], stored);

    // Run again without the fault: the rest are listed, the rest already were.
    store
        .connection()
        .execute_batch("DROP TRIGGER fail_last")
        .unwrap();
    let mut again = AddOutcome::default();
    store
        .blacklist_add_in_chunks(
            &dnc,
            entries(0..NUMBERS),
            "test",
            serde_json::json!({}),
            &mut again,
        )
        .unwrap();
    assert_eq!(
        (again.added, again.already_listed),
        (NUMBERS - stored, stored)
    );
    assert_eq!(dnc.len(), NUMBERS as usize);
}

/// What a test run does to a campaign that holds contacts 0..base.
#[derive(Debug, Clone)]
enum Step {
    /// An import of `rows` new contacts that completes.
    Completes { rows: u64 },
    /// One that fails after writing them.
    Fails { rows: u64 },
    /// One whose process is gone after writing them (its job left running).
    Abandoned { rows: u64 },
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Whatever imports complete, fail or are abandoned, in any order, the
    /// campaign shows exactly the contacts of those that completed — before and
    /// after recovery — and recovery leaves no trace of the others.
    #[test]
    fn only_completed_imports_are_ever_seen(
        steps in prop::collection::vec(
            prop_oneof![
                (1u64..300).prop_map(|rows| Step::Completes { rows }),
                (1u64..300).prop_map(|rows| Step::Fails { rows }),
                (1u64..300).prop_map(|rows| Step::Abandoned { rows }),
            ],
            1..6,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = database_with(dir.path(), "donors", 0..1);
        let mut store = Store::open(&path).unwrap();
        let campaign = store.require_campaign("donors").unwrap();
        let mut next = 1u64;
        let mut visible = 1u64;
        for step in steps {
            match step {
                Step::Completes { rows } | Step::Fails { rows } => {
                    let mut import = store.begin_contact_import("donors", false, "f.csv", "t").unwrap();
                    for n in next..next + rows {
                        import.insert(contact(n)).unwrap();
                    }
                    import.commit_chunk().unwrap();
                    if matches!(step, Step::Completes { .. }) {
                        finish(import);
                        visible += rows;
                        next += rows;
                    }
                }
                Step::Abandoned { rows } => {
                    let long_ago = shofar_store::format_time(chrono::Utc::now() - chrono::Duration::hours(1));
                    abandoned_job(&store, Some(campaign.0), &long_ago, rows);
                }
            }
            prop_assert_eq!(seen(&store, campaign), all(visible));
        }
        store.recover_imports().unwrap();
        prop_assert_eq!(seen(&store, campaign), all(visible));
        prop_assert_eq!(raw_count(&store, "SELECT count(*) FROM contacts"), visible as i64);
        prop_assert_eq!(
            raw_count(&store, "SELECT count(*) FROM import_jobs WHERE status != 'completed'"),
            0
        );
    }
}
