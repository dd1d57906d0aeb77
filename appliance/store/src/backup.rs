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
//! The box keeps its own backups in DATA/backups ([`BackupFolder`]), named for
//! the time they were made ([`BackupName`]), the newest few kept. A restore
//! cannot replace the database under a running `shofar serve`, so the web UI
//! stages one there instead (`pending-restore.db`, checked first) and `shofar
//! serve` applies it at its next start, before it opens the database
//! ([`apply_pending`]); the outcome, either way, goes to the audit log.
//!
//! Guarantee: neither ever changes the database in use unless the new one was
//! verified whole; a failure leaves everything as it was and names the file and
//! the problem.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::{Result, SCHEMA_VERSION, Store, StoreError, audit};

/// What a verified backup holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
    // Reading a file in WAL mode makes its `-shm` (and `-wal`) beside it, which a
    // read-only connection leaves behind: those it made go when it is done.
    let made: Vec<PathBuf> = ["-wal", "-shm"]
        .into_iter()
        .map(|suffix| journal(path, suffix))
        .filter(|file| !file.exists())
        .collect();
    let result = check(path);
    for file in made {
        let _ = std::fs::remove_file(file);
    }
    result
}

fn check(path: &Path) -> Result<BackupInfo> {
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
    replace(database, backup, now)
}

/// [`restore`] once nobody serves the database (or the caller is the serve
/// itself, before it opens it).
fn replace(database: &Path, backup: &Path, now: &str) -> Result<(BackupInfo, Option<PathBuf>)> {
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

/// How many backups DATA/backups keeps unless told otherwise (`shofar db backup
/// --keep`): a week of the daily timer's.
pub const KEEP: usize = 7;

/// The name of one of the box's own backups, `shofar-YYYYMMDD-HHMMSS-mmm.db`: the
/// box's local time it was made at, so names sort by time. Nothing but such a name
/// is made, listed, served or pruned, so a name that came in a request can only
/// ever be a file directly in the backups folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BackupName(String);

impl BackupName {
    /// The name of a backup made at `time` (the box's local time).
    pub fn at(time: NaiveDateTime) -> BackupName {
        BackupName(format!("shofar-{}.db", time.format("%Y%m%d-%H%M%S-%3f")))
    }

    /// `text` if it is exactly such a name, of a real date and time.
    pub fn parse(text: &str) -> Option<BackupName> {
        let stamp = text.strip_prefix("shofar-")?.strip_suffix(".db")?;
        let shaped = stamp.len() == 19
            && stamp.char_indices().all(|(index, c)| match index {
                8 | 15 => c == '-',
                _ => c.is_ascii_digit(),
            });
        if !shaped {
            return None;
        }
        NaiveDateTime::parse_from_str(&stamp[..15], "%Y%m%d-%H%M%S").ok()?;
        Some(BackupName(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for BackupName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One backup in the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    pub name: BackupName,
    pub bytes: u64,
    /// When the file was written (its modification time).
    pub modified: DateTime<Utc>,
    /// From the file's header; `None` when it is not an SQLite file (not
    /// checked further: [`verify`] is what a restore relies on).
    pub schema_version: Option<u32>,
}

/// A backup just made by [`Store::backup_into`].
#[derive(Debug, Clone)]
pub struct MadeBackup {
    pub backup: Backup,
    pub path: PathBuf,
    /// Older backups removed to keep the newest few.
    pub removed: Vec<PathBuf>,
}

/// A restore waiting for the next start of `shofar serve`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingRestore {
    /// The name the file came with (an upload's).
    pub file_name: String,
    pub bytes: u64,
    pub staged_at: DateTime<Utc>,
    /// Who asked for it (`web:NAME`).
    pub staged_by: String,
    /// What it held when it was checked.
    pub info: BackupInfo,
}

/// What became of a pending restore when `shofar serve` started; kept in the
/// audit log of the database then in place (`backup.restore`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RestoreOutcome {
    pub at: DateTime<Utc>,
    pub file_name: String,
    pub staged_by: String,
    /// What the database holds now; `None` when the restore was refused.
    pub restored: Option<BackupInfo>,
    /// Where the database it replaced was kept.
    pub kept: Option<String>,
    /// Why it was refused (the database in use was kept); `None` when restored.
    pub problem: Option<String>,
}

/// The audit-log action of a restore's outcome.
const RESTORE_ACTION: &str = "backup.restore";

/// DATA/backups: the box's backups (`shofar db backup`, its daily timer, the web
/// UI's) and a restore waiting for the next start of `shofar serve`
/// (`pending-restore.db`, with what is known of it in `pending-restore.json`; a
/// restore is pending exactly when the `.db` is there).
#[derive(Debug, Clone)]
pub struct BackupFolder {
    path: PathBuf,
}

/// Stages, cancels and applies of a pending restore in this process, one at a
/// time. A `std` mutex held only around a few renames, never across an await.
static PENDING: Mutex<()> = Mutex::new(());

fn pending_lock() -> std::sync::MutexGuard<'static, ()> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl BackupFolder {
    /// `DATA/backups`.
    pub fn in_data_dir(data_dir: &Path) -> BackupFolder {
        BackupFolder {
            path: data_dir.join("backups"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn file(&self, name: &BackupName) -> PathBuf {
        self.path.join(name.as_str())
    }

    /// The backups, newest first; none when the folder does not exist yet.
    pub fn list(&self) -> Result<Vec<Backup>> {
        let entries = match std::fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(problem(&self.path, format!("cannot list it: {error}"))),
        };
        let mut backups: Vec<Backup> = entries
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                let name = BackupName::parse(entry.file_name().to_str()?)?;
                let meta = entry.metadata().ok().filter(|meta| meta.is_file())?;
                Some(Backup {
                    schema_version: schema_version_of(&entry.path()),
                    name,
                    bytes: meta.len(),
                    modified: meta.modified().map(DateTime::<Utc>::from).ok()?,
                })
            })
            .collect();
        backups.sort_by(|a, b| b.name.cmp(&a.name));
        Ok(backups)
    }

    /// Keeps the newest `keep` backups; returns those removed.
    pub fn prune(&self, keep: usize) -> Vec<PathBuf> {
        let Ok(backups) = self.list() else {
            return Vec::new();
        };
        backups
            .iter()
            .skip(keep)
            .map(|backup| self.file(&backup.name))
            .filter(|path| std::fs::remove_file(path).is_ok())
            .collect()
    }

    fn pending_file(&self) -> PathBuf {
        self.path.join("pending-restore.db")
    }

    fn pending_about(&self) -> PathBuf {
        self.path.join("pending-restore.json")
    }

    /// Whether a restore waits for the next start of `shofar serve`.
    pub fn has_pending_restore(&self) -> bool {
        self.pending_file().is_file()
    }

    /// The restore waiting for the next start of `shofar serve`, if one is.
    pub fn pending_restore(&self) -> Result<Option<PendingRestore>> {
        let _one_at_a_time = pending_lock();
        self.read_pending()
    }

    fn read_pending(&self) -> Result<Option<PendingRestore>> {
        if !self.pending_file().is_file() {
            return Ok(None);
        }
        let about = self.pending_about();
        let text = std::fs::read(&about)
            .map_err(|error| problem(&about, format!("cannot read it: {error}")))?;
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|error| problem(&about, format!("is not what it should be: {error}")))
    }

    /// Removes the pending restore; whether one waited.
    fn remove_pending(&self) -> Result<bool> {
        match std::fs::remove_file(self.pending_file()) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(error) => {
                return Err(problem(
                    &self.pending_file(),
                    format!("cannot remove it: {error}"),
                ));
            }
        }
        remove_journal(&self.pending_file());
        let _ = std::fs::remove_file(self.pending_about());
        Ok(true)
    }
}

/// The schema version in an SQLite file's header (`PRAGMA user_version`, the
/// big-endian 4 bytes at offset 60), read without opening it as a database.
pub fn schema_version_of(path: &Path) -> Option<u32> {
    let mut header = [0u8; 100];
    std::io::Read::read_exact(&mut File::open(path).ok()?, &mut header).ok()?;
    if &header[..16] != b"SQLite format 3\0" {
        return None;
    }
    Some(u32::from_be_bytes([
        header[60], header[61], header[62], header[63],
    ]))
}

impl Store {
    /// A backup into `folder`, named for `now` (the box's local time); then only
    /// the newest `keep` backups there are kept. Audited (`backup.create`) as
    /// `actor`; a failure to audit is logged, and the backup stands.
    pub fn backup_into(
        &self,
        folder: &BackupFolder,
        now: NaiveDateTime,
        keep: usize,
        actor: &str,
    ) -> Result<MadeBackup> {
        // Two backups in one millisecond (a double click): the later is named for
        // the next one.
        let mut name = BackupName::at(now);
        let mut made_at = now;
        while folder.file(&name).exists() {
            made_at += chrono::Duration::milliseconds(1);
            name = BackupName::at(made_at);
        }
        let path = folder.file(&name);
        let bytes = self.backup_to(&path)?;
        let removed = folder.prune(keep);
        let details = serde_json::json!({
            "name": name.as_str(),
            "bytes": bytes,
            "removed": removed
                .iter()
                .filter_map(|p| p.file_name()?.to_str())
                .collect::<Vec<_>>(),
        });
        if let Err(error) = audit::record(
            &self.conn,
            actor,
            "backup.create",
            Some(("backup", name.as_str())),
            &details,
        ) {
            tracing::warn!(%error, backup = %name, "the backup was made but not audited");
        }
        let modified = std::fs::metadata(&path)
            .and_then(|meta| meta.modified())
            .map(DateTime::<Utc>::from)
            .unwrap_or_else(|_| crate::now());
        Ok(MadeBackup {
            backup: Backup {
                schema_version: schema_version_of(&path),
                name,
                bytes,
                modified,
            },
            path,
            removed,
        })
    }

    /// Keeps `file`, checked with [`verify`] (what it held is in `about`), as the
    /// restore `shofar serve` applies when it next starts, replacing one that
    /// waited. The file is moved (it must be on the same disk as `folder`).
    /// Audited (`backup.restore_staged`).
    pub fn stage_restore(
        &self,
        folder: &BackupFolder,
        file: &Path,
        about: &PendingRestore,
    ) -> Result<()> {
        let _one_at_a_time = pending_lock();
        std::fs::create_dir_all(&folder.path)
            .map_err(|error| problem(&folder.path, format!("cannot create it: {error}")))?;
        // The old one goes first: whenever the process stops, the `.db` there is
        // described by the `.json` beside it, or nothing is pending.
        folder.remove_pending()?;
        let about_path = folder.pending_about();
        let text = serde_json::to_vec_pretty(about)
            .map_err(|error| problem(&about_path, error.to_string()))?;
        let temporary = partial(&about_path);
        std::fs::write(&temporary, text)
            .and_then(|()| std::fs::rename(&temporary, &about_path))
            .map_err(|error| problem(&about_path, format!("cannot write it: {error}")))?;
        std::fs::rename(file, folder.pending_file()).map_err(|error| {
            problem(
                &folder.pending_file(),
                format!("cannot keep the file there: {error}"),
            )
        })?;
        audit::record(
            &self.conn,
            &about.staged_by,
            "backup.restore_staged",
            None,
            &serde_json::to_value(about).unwrap_or_default(),
        )
    }

    /// Cancels the pending restore; whether one waited. Audited
    /// (`backup.restore_cancelled`).
    pub fn cancel_restore(&self, folder: &BackupFolder, actor: &str) -> Result<bool> {
        let _one_at_a_time = pending_lock();
        let about = folder.read_pending().ok().flatten();
        if !folder.remove_pending()? {
            return Ok(false);
        }
        audit::record(
            &self.conn,
            actor,
            "backup.restore_cancelled",
            None,
            &serde_json::to_value(about).unwrap_or_default(),
        )?;
        Ok(true)
    }

    /// What became of the last pending restore `shofar serve` applied or refused.
    pub fn last_restore(&self) -> Result<Option<RestoreOutcome>> {
        let details: Option<String> = self
            .conn
            .query_row(
                "SELECT details FROM audit_log WHERE action = ?1 ORDER BY id DESC LIMIT 1",
                [RESTORE_ACTION],
                |row| row.get(0),
            )
            .optional()?;
        Ok(details.and_then(|text| serde_json::from_str(&text).ok()))
    }
}

/// Applies the restore waiting in `folder` to `database`: `shofar serve` calls it
/// at its start, holding its claim (so no other serve runs on the database) and
/// with its own connection closed. Whatever happens, the waiting file is gone
/// afterwards — a refused one is not tried again at every start — and the
/// outcome is in the audit log of the database then in place (the restored one,
/// or the one kept because the file was refused). `None` when nothing waited.
pub fn apply_pending(
    database: &Path,
    folder: &BackupFolder,
    _claim: &Serving,
    now: &str,
) -> Option<RestoreOutcome> {
    let _one_at_a_time = pending_lock();
    if !folder.pending_file().is_file() {
        return None;
    }
    let about = folder.read_pending();
    let result = replace(database, &folder.pending_file(), now);
    let (file_name, staged_by) = match &about {
        Ok(Some(about)) => (about.file_name.clone(), about.staged_by.clone()),
        _ => ("pending-restore.db".to_owned(), "unknown".to_owned()),
    };
    let outcome = match result {
        Ok((info, kept)) => RestoreOutcome {
            at: crate::now(),
            file_name,
            staged_by,
            restored: Some(info),
            kept: kept.map(|path| path.display().to_string()),
            problem: None,
        },
        Err(error) => RestoreOutcome {
            at: crate::now(),
            file_name,
            staged_by,
            restored: None,
            kept: None,
            problem: Some(match error {
                StoreError::Backup { problem, .. } => problem,
                other => other.to_string(),
            }),
        },
    };
    if let Err(error) = folder.remove_pending() {
        tracing::warn!(%error, "cannot remove the pending restore");
    }
    let recorded = Store::open(database).and_then(|store| {
        audit::record(
            &store.conn,
            "serve",
            RESTORE_ACTION,
            None,
            &serde_json::to_value(&outcome).unwrap_or_default(),
        )
    });
    if let Err(error) = recorded {
        tracing::warn!(%error, "cannot record the restore's outcome in the audit log");
    }
    Some(outcome)
}
