//! Backups and restores of the database.
//!
//! A backup is SQLite's `VACUUM INTO` of the open database: one read
//! transaction, so it is a consistent copy taken while `shofar serve` dials and
//! writes (WAL: writers go on beside a reader). It is written under a temporary
//! name, synced, and only then renamed: a file with a backup's name is always a
//! whole backup.
//!
//! A restore replaces the database only with a file that passed
//! [`verify`] — SQLite's integrity check, a Shofar database, a schema this
//! program knows (a newer one is refused, never downgraded) — and brought to
//! the current schema under a temporary name first. The database it replaces is
//! checkpointed and kept beside it (`shofar.db.before-restore-…`), never deleted.
//!
//! Guarantee: neither ever changes the database in use unless the new one was
//! verified whole; a failure leaves everything as it was and names the file and
//! the problem.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::{Result, SCHEMA_VERSION, Store, StoreError};

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackupInfo {
    pub schema_version: u32,
    pub campaigns: u64,
    pub contacts: u64,
    pub blacklist: u64,
}

fn problem(path: &Path, problem: impl Into<String>) -> StoreError {
    StoreError::Backup {
        path: path.to_owned(),
        problem: problem.into(),
    }
}

/// A sibling of `path` for a file being written: `NAME.partial`.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".partial");
    path.with_file_name(name)
}

fn sync(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|error| problem(path, format!("cannot sync it to disk: {error}")))
}

impl Store {
    /// Writes a consistent copy of the database to `destination`, which must not
    /// exist yet. Returns its size in bytes.
    pub fn backup_to(&self, destination: &Path) -> Result<u64> {
        if destination.exists() {
            return Err(problem(destination, "exists already; choose another name"));
        }
        if let Some(parent) = destination.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| {
                problem(destination, format!("cannot create its folder: {error}"))
            })?;
        }
        let temporary = partial(destination);
        let _ = std::fs::remove_file(&temporary);
        let target = temporary
            .to_str()
            .ok_or_else(|| problem(destination, "the name is not UTF-8"))?;
        if let Err(error) = self.conn.execute("VACUUM INTO ?1", [target]) {
            let _ = std::fs::remove_file(&temporary);
            return Err(problem(destination, format!("the copy failed: {error}")));
        }
        sync(&temporary)?;
        std::fs::rename(&temporary, destination)
            .map_err(|error| problem(destination, format!("cannot name it: {error}")))?;
        if let Some(parent) = destination.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::File::open(parent).and_then(|dir| dir.sync_all());
        }
        std::fs::metadata(destination)
            .map(|meta| meta.len())
            .map_err(|error| problem(destination, error.to_string()))
    }
}

/// Checks that `path` is a whole Shofar database this program can use, without
/// changing it.
pub fn verify(path: &Path) -> Result<BackupInfo> {
    if !path.is_file() {
        return Err(problem(path, "no such file"));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| problem(path, format!("cannot be opened as a database: {error}")))?;
    let not_a_database =
        |error: rusqlite::Error| problem(path, format!("is not a readable database: {error}"));
    let check: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |row| row.get(0))
        .map_err(not_a_database)?;
    if check != "ok" {
        return Err(problem(
            path,
            format!("is damaged (integrity check: {check})"),
        ));
    }
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(not_a_database)?;
    let shofar: bool = conn
        .query_row(
            "SELECT count(*) = 1 FROM sqlite_master WHERE type = 'table' AND name = 'campaigns'",
            [],
            |row| row.get(0),
        )
        .map_err(not_a_database)?;
    if version == 0 || !shofar {
        return Err(problem(path, "is not a Shofar database"));
    }
    if version > SCHEMA_VERSION {
        return Err(problem(
            path,
            format!(
                "has schema version {version}, newer than this shofar knows ({SCHEMA_VERSION}); \
                 restore it with the newer shofar that made it"
            ),
        ));
    }
    let count = |table: &str| -> Result<u64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .map_err(not_a_database)
    };
    Ok(BackupInfo {
        schema_version: version,
        campaigns: count("campaigns")?,
        contacts: count("contacts")?,
        blacklist: count("blacklist")?,
    })
}

/// `shofar serve`'s claim on its database, held while it runs (an OS lock on
/// `shofar.db-serve.lock`, released when the process ends however it ends): a
/// restore is refused while it is held.
#[derive(Debug)]
pub struct Serving {
    _file: File,
}

fn serve_lock(database: &Path) -> PathBuf {
    journal(database, "-serve.lock")
}

/// Claims `database` for a running `shofar serve`; `None` when another process
/// holds it already (or the lock file cannot be made: then restores are not
/// guarded, and the caller says so).
pub fn serving(database: &Path) -> std::io::Result<Option<Serving>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(serve_lock(database))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Serving { _file: file })),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(error)) => Err(error),
    }
}

/// Whether a `shofar serve` holds `database` now.
fn served(database: &Path) -> bool {
    match File::open(serve_lock(database)) {
        Ok(file) => matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

/// Replaces the database at `database` with the backup at `backup` (see the
/// module doc). Refused while `shofar serve` runs on it ([`Serving`]); nothing
/// else may have it open either.
/// Returns what the restored database holds and where the replaced one was kept.
pub fn restore(database: &Path, backup: &Path, now: &str) -> Result<(BackupInfo, Option<PathBuf>)> {
    if served(database) {
        return Err(problem(
            database,
            "shofar serve is running on it; stop it first (systemctl stop shofar), then restore",
        ));
    }
    verify(backup)?;
    let incoming = partial(database);
    let _ = std::fs::remove_file(&incoming);
    std::fs::copy(backup, &incoming).map_err(|error| {
        problem(
            backup,
            format!("cannot copy it beside the database: {error}"),
        )
    })?;
    // Brought to this program's schema under its temporary name, then checked
    // again whole.
    let migrated = Store::open(&incoming)
        .and_then(|store| {
            store
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            Ok(())
        })
        .and_then(|()| verify(&incoming));
    let info = match migrated {
        Ok(info) => info,
        Err(error) => {
            remove_with_journal(&incoming);
            return Err(error);
        }
    };
    sync(&incoming)?;
    remove_journal(&incoming);
    // The database in use: its WAL folded in, then kept aside whole.
    let kept = if database.exists() {
        let conn = Connection::open(database)
            .map_err(|error| problem(database, format!("cannot open it: {error}")))?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|error| {
                problem(
                    database,
                    format!(
                        "cannot checkpoint it (is shofar serve running? stop it first): {error}"
                    ),
                )
            })?;
        drop(conn);
        let mut name = database.file_name().unwrap_or_default().to_owned();
        name.push(format!(".before-restore-{now}"));
        let kept = database.with_file_name(name);
        std::fs::rename(database, &kept)
            .map_err(|error| problem(database, format!("cannot keep it aside: {error}")))?;
        remove_journal(database);
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, database).map_err(|error| {
        problem(
            database,
            format!("cannot put the restored one in place: {error}"),
        )
    })?;
    Ok((info, kept))
}

fn journal(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

fn remove_journal(path: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(journal(path, suffix));
    }
}

fn remove_with_journal(path: &Path) {
    let _ = std::fs::remove_file(path);
    remove_journal(path);
}
