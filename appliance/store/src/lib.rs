//! The box's SQLite store: schema, versioned migrations and data operations.
//!
//! One database file in the data directory, in WAL mode so readers (the web UI, the
//! CLI) never block the dialer's writes. The schema is a versioned format:
//! `PRAGMA user_version` holds the number of migrations applied, each migration runs
//! in its own transaction, and a database newer than this binary is refused rather
//! than misread.
//!
//! Invariants:
//! - Only this crate writes SQL.
//! - No write holds the write lock for long. An import writes in short
//!   transactions under its job and lands whole or not at all: nothing of it is
//!   visible before its one small last commit, and a failed or abandoned job's
//!   rows are removed ([`imports`]). An import of the do-not-call list writes in
//!   short transactions too, each chunk in the safe order below. Every other
//!   multi-row operation is one transaction.
//! - The do-not-call index handed to [`Store`] operations is changed in the safe
//!   order: listed in memory before the addition commits, unlisted only after the
//!   removal committed.
#![forbid(unsafe_code)]

pub mod accounts;
mod audit;
pub mod backup;
pub mod blacklist;
pub mod calls;
pub mod campaigns;
pub mod contacts;
pub mod dispatch;
pub mod imports;
pub mod library;
pub mod pacing;
mod settings;
pub mod sync;
mod time;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

pub use audit::AuditEntry;
pub use time::{format_time, now, parse_time};

/// The migrations, in order; the schema version is how many have run.
const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_initial", include_str!("migrations/0001_initial.sql")),
    (
        "0002_scheduler",
        include_str!("migrations/0002_scheduler.sql"),
    ),
    ("0003_calls", include_str!("migrations/0003_calls.sql")),
    ("0004_dialer", include_str!("migrations/0004_dialer.sql")),
    (
        "0005_accounts",
        include_str!("migrations/0005_accounts.sql"),
    ),
    (
        "0006_pacing_reason",
        include_str!("migrations/0006_pacing_reason.sql"),
    ),
    (
        "0007_staged_imports",
        include_str!("migrations/0007_staged_imports.sql"),
    ),
    (
        "0008_sync_feed",
        include_str!("migrations/0008_sync_feed.sql"),
    ),
];

/// 64 MiB of page cache (allocated as used): a million-row import inserts into an
/// index in random order, and with SQLite's 2 MiB default every insert spills
/// pages to the WAL and reads them back.
pub(crate) const CACHE_SIZE_PRAGMA: &str = "PRAGMA cache_size = -65536";

/// The schema version this binary writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the database has schema version {found}, newer than this shofar knows ({known}); \
         run a newer shofar or restore a backup"
    )]
    TooNew { found: u32, known: u32 },
    #[error("migration {name} failed: {source}")]
    Migration {
        name: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "no campaign named {0:?}; `shofar campaign list` lists the campaigns, `shofar campaign create` makes one"
    )]
    NoSuchCampaign(String),
    #[error("a campaign named {0:?} already exists")]
    CampaignExists(String),
    #[error("no campaign with id {0}; list campaigns with `shofar campaign list`")]
    NoSuchCampaignId(i64),
    #[error("campaign {id}: {source}")]
    Transition {
        id: i64,
        #[source]
        source: shofar_campaign::IllegalTransition,
    },
    #[error("campaign {id} has settings this shofar cannot read: {source}")]
    StoredSettings {
        id: i64,
        #[source]
        source: shofar_campaign::InvalidSettings,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("a user named {0:?} already exists")]
    UserExists(String),
    #[error("no user {0}")]
    NoSuchUser(String),
    #[error("{0:?} is the last admin: make another user admin first")]
    LastAdmin(String),
    #[error("no API token with id {0}")]
    NoSuchToken(i64),
    #[error("the box is set up already: log in, or ask an admin for an account")]
    SetupDone,
    #[error(
        "the setup link is wrong, used or expired; restart shofar serve for a new one, or run `shofar user add NAME --role admin`"
    )]
    SetupTokenInvalid,
    #[error("no IVR flow named {0:?}")]
    NoSuchFlow(String),
    #[error("an IVR flow named {0:?} already exists")]
    FlowExists(String),
    #[error("no audio file named {0:?}")]
    NoSuchAudio(String),
    #[error("{0}")]
    InUse(String),
    #[error("corrupt row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
    #[error("the store's writer has stopped (the supervisor is shutting down)")]
    WriterStopped,
    /// Another write's error, told to every write of a batch that failed as a
    /// whole (see [`StoreError::copy`]).
    #[error("{0}")]
    Copied(String),
    #[error(
        "the database stayed busy for {} s (another program kept writing to it); \
         try again in a minute", waited.as_secs()
    )]
    Busy { waited: Duration },
    #[error(
        "another import into campaign {campaign:?} is running (import {job}); wait for it \
         to finish, then import again"
    )]
    ImportRunning { campaign: String, job: i64 },
    #[error(
        "import {job} was stopped while it ran (the box's cleanup took it for abandoned); \
         run it again"
    )]
    ImportStopped { job: i64 },
    /// A backup that cannot be written, or a file that cannot be restored: the
    /// file and what is wrong with it; the database in use is untouched.
    #[error("{}: {problem}", path.display())]
    Backup { path: PathBuf, problem: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A condition of the database itself, not of the data: what a caller tells a
/// person differently from "it failed".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// The disk is full; the write was rolled back.
    DiskFull,
    /// Another writer held the database longer than the busy timeout.
    Busy,
    /// The database cannot be written or opened (permissions, a read-only disk).
    Unwritable,
}

impl StoreError {
    /// The same error again, for each of several callers that share it (a batch
    /// that did not commit): SQLite's own errors keep their code, so
    /// [`StoreError::condition`] answers the same; others keep their message.
    pub fn copy(&self) -> StoreError {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(code, message)) => {
                StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
            }
            StoreError::WriterStopped => StoreError::WriterStopped,
            StoreError::Busy { waited } => StoreError::Busy { waited: *waited },
            other => StoreError::Copied(other.to_string()),
        }
    }

    pub fn condition(&self) -> Option<Condition> {
        use rusqlite::ErrorCode as Sqlite;
        let sqlite = match self {
            StoreError::Sqlite(error) | StoreError::Open { source: error, .. } => error,
            StoreError::Migration { source, .. } => source,
            StoreError::Busy { .. } => return Some(Condition::Busy),
            _ => return None,
        };
        match sqlite.sqlite_error_code()? {
            Sqlite::DiskFull => Some(Condition::DiskFull),
            Sqlite::DatabaseBusy | Sqlite::DatabaseLocked => Some(Condition::Busy),
            Sqlite::ReadOnly | Sqlite::CannotOpen | Sqlite::PermissionDenied => {
                Some(Condition::Unwritable)
            }
            _ => None,
        }
    }
}

/// How long SQLite itself waits for another writer before it answers "busy".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a short write of a long job (an import's chunk) waits in all for
/// the write lock, retrying after SQLite's own wait, before the job gives up.
pub const BUSY_PATIENCE: Duration = Duration::from_secs(60);

/// An open database. Not `Sync`: each thread or task that writes owns its own
/// `Store` (SQLite serialises writers; WAL lets readers run beside them).
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
    /// SQLite's own wait for the write lock, and the patience of
    /// [`Store::begin_patiently`] around it; shorter only in tests.
    busy_timeout: Duration,
    busy_patience: Duration,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up
    /// to date.
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        Store::prepare(conn, Some(path.to_owned()))
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::prepare(Connection::open_in_memory()?, None)
    }

    fn prepare(conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        let open_error = |source| StoreError::Open {
            path: path.clone().unwrap_or_else(|| PathBuf::from(":memory:")),
            source,
        };
        // journal_mode returns a row, so it is queried rather than executed.
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(open_error)?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;",
        )
        .and_then(|()| conn.busy_timeout(BUSY_TIMEOUT))
        .and_then(|()| conn.execute_batch(CACHE_SIZE_PRAGMA))
        .map_err(open_error)?;
        let mut store = Store {
            conn,
            path,
            busy_timeout: BUSY_TIMEOUT,
            busy_patience: BUSY_PATIENCE,
        };
        // Every `transaction()` here writes, most after reading first. A deferred
        // one takes the write lock only at its first write, and if another
        // connection (the dialer's) committed since its read, SQLite answers
        // SQLITE_BUSY at once, without waiting: a user's change failed as "busy"
        // while a campaign dialed. Taking the lock at BEGIN waits for it instead
        // (busy_timeout). Read snapshots ask for Deferred explicitly.
        store
            .conn
            .set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                found,
                known: SCHEMA_VERSION,
            });
        }
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let version = index + 1;
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", version))
                .and_then(|()| tx.commit())
                .map_err(|source| StoreError::Migration { name, source })?;
            tracing::info!(migration = name, version, "applied database migration");
        }
        Ok(())
    }

    /// Runs `work` in one write transaction (`BEGIN IMMEDIATE`): everything it
    /// writes commits together, or, on an error, nothing does. Inside another
    /// transaction (the writer's batch, an operation calling another) it is a
    /// savepoint: an error undoes `work` alone, and it commits with the outer one.
    pub fn transaction<T>(&mut self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            return self.savepoint(work);
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let result = work(self);
        self.end(result)
    }

    /// [`Store::transaction`] for one short step of a long job: begun with
    /// [`Store::begin_patiently`], so a busy database is waited out.
    pub(crate) fn patient_transaction<T>(
        &mut self,
        work: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        self.begin_patiently()?;
        let result = work(self);
        self.end(result)
    }

    /// Ends the open transaction: commits it when `result` is a success (and
    /// rolls back if the commit fails), rolls it back otherwise.
    pub(crate) fn end<T>(&mut self, result: Result<T>) -> Result<T> {
        match result {
            Ok(value) => match self.conn.execute_batch("COMMIT") {
                Ok(()) => Ok(value),
                Err(error) => {
                    let _ = self.conn.execute_batch("ROLLBACK");
                    Err(error.into())
                }
            },
            Err(error) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    /// The write transaction of one operation: `BEGIN IMMEDIATE`, or inside
    /// another transaction (the writer's batch) a savepoint, so an operation's
    /// error undoes it alone either way.
    pub(crate) fn tx(&mut self) -> Result<Tx<'_>> {
        Ok(if self.conn.is_autocommit() {
            Tx::Top(self.conn.transaction()?)
        } else {
            Tx::Nested(self.conn.savepoint()?)
        })
    }

    fn savepoint<T>(&mut self, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("SAVEPOINT shofar_work")?;
        match work(self) {
            Ok(value) => {
                self.conn.execute_batch("RELEASE shofar_work")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self
                    .conn
                    .execute_batch("ROLLBACK TO shofar_work; RELEASE shofar_work");
                Err(error)
            }
        }
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE`) for one short step of a
    /// long job. When another writer holds the database past SQLite's own wait,
    /// tries again with growing pauses, up to [`BUSY_PATIENCE`] in all; then
    /// [`StoreError::Busy`]. A busy database is a moment, not a failure.
    pub(crate) fn begin_patiently(&self) -> Result<()> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let left = self.busy_patience.saturating_sub(started.elapsed());
            self.conn.busy_timeout(self.busy_timeout.min(left))?;
            let begun = self.conn.execute_batch("BEGIN IMMEDIATE");
            self.conn.busy_timeout(self.busy_timeout)?;
            match begun {
                Ok(()) => return Ok(()),
                Err(error) if is_busy(&error) => {
                    let waited = started.elapsed();
                    if waited >= self.busy_patience {
                        return Err(StoreError::Busy { waited });
                    }
                    tracing::debug!(
                        waited_ms = waited.as_millis() as u64,
                        "the database is busy; waiting"
                    );
                    std::thread::sleep(pause.min(self.busy_patience.saturating_sub(waited)));
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// How long SQLite waits for the write lock before answering "busy", and
    /// how long [`Store::begin_patiently`] keeps trying in all (tests make both
    /// short).
    pub fn set_busy_waits(&mut self, timeout: Duration, patience: Duration) -> Result<()> {
        self.busy_timeout = timeout;
        self.busy_patience = patience;
        Ok(self.conn.busy_timeout(timeout)?)
    }

    /// Runs `work` in one read transaction: every query in it sees the database
    /// as it was when the first one ran, whatever is written meanwhile (a report's
    /// totals and its list of calls describe the same records).
    pub fn read_snapshot<T, E: From<StoreError>>(
        &mut self,
        work: impl FnOnce(&Store) -> Result<T, E>,
    ) -> Result<T, E> {
        self.conn
            .execute_batch("BEGIN DEFERRED")
            .map_err(|error| E::from(error.into()))?;
        let result = work(self);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let _ = self.conn.execute_batch(end);
        result
    }

    /// For tests and tools that need a raw look at the database.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// See [`Store::tx`]. Rolled back when dropped uncommitted.
pub(crate) enum Tx<'a> {
    Top(rusqlite::Transaction<'a>),
    Nested(rusqlite::Savepoint<'a>),
}

impl Tx<'_> {
    pub(crate) fn commit(self) -> rusqlite::Result<()> {
        match self {
            Tx::Top(tx) => tx.commit(),
            Tx::Nested(savepoint) => savepoint.commit(),
        }
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Tx::Top(tx) => tx,
            Tx::Nested(savepoint) => savepoint,
        }
    }
}

/// Whether SQLite answered that another connection holds what was asked for.
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests;
