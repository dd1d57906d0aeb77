//! Backups and restores (issue 16) against real SQLite files: a backup taken
//! while another connection keeps writing is a whole, consistent database; a
//! damaged, foreign or newer file is refused and the database in use is left as
//! it was; a restore keeps the database it replaced.

use std::path::Path;

use shofar_store::backup::{self, BackupInfo};
use shofar_store::{SCHEMA_VERSION, Store, StoreError};

fn campaigns(path: &Path) -> Vec<String> {
    Store::open(path)
        .unwrap()
        .list_campaigns()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

fn refused(result: Result<impl std::fmt::Debug, StoreError>, says: &str) {
    match result {
        Err(StoreError::Backup { problem, .. }) => {
            assert!(problem.contains(says), "{problem:?} does not say {says:?}")
        }
        other => panic!("expected a refusal saying {says:?}, got {other:?}"),
    }
}

#[test]
fn a_backup_taken_while_another_connection_writes_is_whole_and_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shofar.db");
    let mut store = Store::open(&db).unwrap();
    store.create_campaign("before", "test").unwrap();

    // Another connection keeps creating campaigns while the backup runs.
    let writer_db = db.clone();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_writer = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut other = Store::open(&writer_db).unwrap();
        let mut made = 0;
        while !stop_writer.load(std::sync::atomic::Ordering::Relaxed) {
            other
                .create_campaign(&format!("during {made}"), "test")
                .unwrap();
            made += 1;
        }
        made
    });
    let copy = dir.path().join("backups/one.db");
    let bytes = store.backup_to(&copy).unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let made = writer.join().unwrap();

    assert!(bytes > 0);
    assert!(!dir.path().join("backups/one.db.partial").exists());
    let info = backup::verify(&copy).unwrap();
    assert_eq!(info.schema_version, SCHEMA_VERSION);
    // A snapshot: "before" and a prefix of the campaigns made during it, in order.
    let names = campaigns(&copy);
    assert_eq!(names[0], "before");
    for (index, name) in names[1..].iter().enumerate() {
        assert_eq!(name, &format!("during {index}"));
    }
    assert!(names.len() <= made + 1);
    // A backup never overwrites a file.
    refused(store.backup_to(&copy), "exists already");
}

#[test]
fn a_damaged_foreign_or_newer_file_is_refused_and_the_database_is_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shofar.db");
    Store::open(&db)
        .unwrap()
        .create_campaign("in use", "test")
        .unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, b"this is not a database, it is a text file\n").unwrap();
    refused(backup::restore(&db, &garbage, "t1"), "database");

    let foreign = dir.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hi');")
        .unwrap();
    refused(
        backup::restore(&db, &foreign, "t2"),
        "not a Shofar database",
    );

    let newer = dir.path().join("newer.db");
    Store::open(&db).unwrap().backup_to(&newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    refused(
        backup::restore(&db, &newer, "t3"),
        "newer than this shofar knows",
    );

    // A backup cut short (a truncated copy) is refused too.
    let whole = dir.path().join("whole.db");
    Store::open(&db).unwrap().backup_to(&whole).unwrap();
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(backup::restore(&db, &cut, "t4").is_err());

    refused(
        backup::restore(&db, &dir.path().join("missing.db"), "t5"),
        "no such file",
    );

    assert_eq!(campaigns(&db), ["in use"]);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("before-restore") || name.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_restore_replaces_the_database_and_keeps_the_one_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shofar.db");
    let mut store = Store::open(&db).unwrap();
    store.create_campaign("kept in the backup", "test").unwrap();
    let copy = dir.path().join("monday.db");
    store.backup_to(&copy).unwrap();
    store
        .create_campaign("made after the backup", "test")
        .unwrap();
    drop(store);

    let (info, kept) = backup::restore(&db, &copy, "20261207-120000").unwrap();
    assert_eq!(
        info,
        BackupInfo {
            schema_version: SCHEMA_VERSION,
            campaigns: 1,
            contacts: 0,
            blacklist: 0,
        }
    );
    assert_eq!(campaigns(&db), ["kept in the backup"]);
    let kept = kept.expect("the replaced database is kept");
    assert_eq!(
        kept.file_name().unwrap().to_str().unwrap(),
        "shofar.db.before-restore-20261207-120000"
    );
    assert_eq!(
        campaigns(&kept),
        ["kept in the backup", "made after the backup"]
    );
}

/// A restore is refused while `shofar serve` holds the database (its claim is an
/// OS lock, gone when the process is), and goes through once it is released.
#[test]
fn a_restore_is_refused_while_serve_holds_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shofar.db");
    let store = Store::open(&db).unwrap();
    let copy = dir.path().join("copy.db");
    store.backup_to(&copy).unwrap();
    drop(store);

    let claim = backup::serving(&db).unwrap().expect("nobody serves yet");
    // A second serve does not get it.
    assert!(backup::serving(&db).unwrap().is_none());
    refused(
        backup::restore(&db, &copy, "t1"),
        "shofar serve is running on it",
    );
    drop(claim);
    backup::restore(&db, &copy, "t2").unwrap();
}

/// Only a name of the box's own form is one: a request's name can never reach
/// another file.
#[test]
fn a_backup_name_is_only_the_form_the_box_makes() {
    let made = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
        .unwrap()
        .and_hms_milli_opt(3, 4, 5, 6)
        .unwrap();
    let name = backup::BackupName::at(made);
    assert_eq!(name.as_str(), "shofar-20261207-030405-006.db");
    assert_eq!(backup::BackupName::parse(name.as_str()), Some(name));
    for text in [
        "",
        "shofar.db",
        "shofar-.db",
        "shofar-latest.db",
        "shofar-20261207-030405-006.db.partial",
        "shofar-20261207-030405-06.db",
        "shofar-20261307-030405-006.db",
        "shofar-20261207-250405-006.db",
        "../shofar-20261207-030405-006.db",
        "shofar-20261207-030405-006.db/..",
        "shofar-2026120７-030405-006.db",
        "shofar-20261207/030405-006.db",
    ] {
        assert_eq!(backup::BackupName::parse(text), None, "{text:?}");
    }
}

/// The box's own backups: named for their time (two in one millisecond get two
/// names), the newest `keep` kept, newest first; other files are left alone.
#[test]
fn backups_into_the_folder_rotate_and_leave_other_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("shofar.db")).unwrap();
    let folder = backup::BackupFolder::in_data_dir(dir.path());
    std::fs::create_dir_all(folder.path()).unwrap();
    std::fs::write(folder.path().join("shofar-before-update.db"), "mine").unwrap();
    let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
        .unwrap()
        .and_hms_opt(3, 0, 0)
        .unwrap();
    let mut names = Vec::new();
    for _ in 0..4 {
        let made = store.backup_into(&folder, at, 3, "test").unwrap();
        assert_eq!(made.backup.schema_version, Some(SCHEMA_VERSION));
        names.push(made.backup.name.to_string());
    }
    assert_eq!(
        names,
        [
            "shofar-20261207-030000-000.db",
            "shofar-20261207-030000-001.db",
            "shofar-20261207-030000-002.db",
            "shofar-20261207-030000-003.db",
        ]
    );
    let listed: Vec<String> = folder
        .list()
        .unwrap()
        .into_iter()
        .map(|b| b.name.to_string())
        .collect();
    assert_eq!(
        listed,
        [
            "shofar-20261207-030000-003.db",
            "shofar-20261207-030000-002.db",
            "shofar-20261207-030000-001.db",
        ]
    );
    assert!(folder.path().join("shofar-before-update.db").exists());
    let actions: Vec<String> = store
        .audit_log(10)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["backup.create"; 4]);
}
