//! Import jobs: how an import writes a million rows without keeping the dialer
//! waiting, and still lands whole or not at all (issue 15).
//!
//! An import writes in short transactions (each holds the write lock for about
//! [`TRANSACTION_BUDGET`]) under a job of its own, and one small last commit —
//! the job becomes `completed` — makes all of it visible at once:
//!
//! - **Hidden until the commit.** Rows written into a campaign that already
//!   existed carry `contacts.staged_import` = the job. A campaign the import
//!   creates carries `campaigns.staged_import` = the job and is found by no
//!   lookup, so its contacts are hidden with it (and need no mark). A contact is
//!   visible when its mark is NULL or names a completed job ([`VISIBLE_CONTACT`]);
//!   every query that lists or counts contacts says so, and the dispatch index
//!   holds only unmarked rows, so the scheduler never even walks past them.
//! - **After the commit,** the marks of a completed job are cleared a chunk at a
//!   time (and merged duplicates applied to contacts that were there before), so
//!   its rows enter the dispatch order; until then they are listed and counted
//!   already, and [`Store::has_work_left`] counts them as work. Whoever finds a
//!   completed job not yet cleared finishes it: the import itself right after
//!   its commit, the next import, `shofar serve`'s housekeeping.
//! - **A failed job** (an error, a refused file, a panic) is marked `failed`, its
//!   rows deleted in short transactions, then its job row (and a campaign it was
//!   creating) — the database is as it was. A job whose process is gone (killed,
//!   crashed, the power cut) is found `running`; [`Store::recover_imports`] fails
//!   it and removes its rows. Gone means: its lock file (`<db>-imports/<job>.lock`,
//!   locked by the importing process for as long as it runs; the system releases
//!   it when the process dies) can be locked; or, without a lock file, no chunk
//!   was committed for [`ABANDONED_AFTER`] (`import_jobs.heartbeat_at`).
//! - **One import per campaign at a time.** A second one is refused
//!   ([`StoreError::ImportRunning`]): it could not know which of the first one's
//!   numbers will exist.
//! - **A busy database is waited for.** Each short transaction starts with
//!   [`Store::begin_patiently`]: another writer's lock is waited out, up to
//!   [`crate::BUSY_PATIENCE`] in all, before the job fails saying so.

use std::fs::File;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::campaigns::CampaignId;
use crate::{Result, Store, StoreError, format_time, parse_time};

/// SQL: the contact row in scope is visible — not written by an import that has
/// not committed (or failed). Campaign-level hiding is the campaign lookups' job.
pub(crate) const VISIBLE_CONTACT: &str = "(staged_import IS NULL OR staged_import IN \
     (SELECT id FROM import_jobs WHERE status = 'completed'))";

/// SQL: how many visible contacts the campaign `campaign` (an SQL expression)
/// holds. All its rows, read from the campaign index alone, less those of its
/// imports not completed, read from the staged index: no table read, as fast as
/// counting was before rows could be staged.
pub(crate) fn visible_count(campaign: &str) -> String {
    format!(
        "((SELECT count(*) FROM contacts WHERE campaign_id = {campaign})
          - (SELECT count(*) FROM contacts WHERE staged_import IN
               (SELECT id FROM import_jobs WHERE campaign_id = {campaign} AND status != 'completed')))"
    )
}

/// How long one short transaction of an import keeps the write lock, about:
/// the dialer's writes wait at most this long behind it. Each commit writes
/// again every index page its rows touched (a million random numbers touch
/// most of the number index each time), so shorter is slower: committing
/// every 100 ms or so made a 1,000,000-row import take 2–3 times as long as
/// one transaction did (docs/benchmarks.md).
pub const TRANSACTION_BUDGET: Duration = Duration::from_millis(200);

/// Rows one statement of a chunked delete or clear touches; statements repeat
/// within a transaction until [`TRANSACTION_BUDGET`] is spent.
const STEP_ROWS: i64 = 500;

/// A running job that committed nothing for this long, and whose lock file is
/// missing, is taken for abandoned. Its lock file says so at once when it exists.
pub const ABANDONED_AFTER: Duration = Duration::from_secs(5 * 60);

/// What a job abandoned by its process is failed with.
const ABANDONED: &str = "the importing process ended before the import finished (killed, \
     crashed or the power was cut); nothing of it was imported";

/// What [`Store::recover_imports`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Running jobs whose process was gone, now failed.
    pub abandoned: Vec<i64>,
    /// Failed jobs whose rows (and campaign) were removed.
    pub removed_jobs: u64,
    /// Contacts of failed jobs deleted.
    pub removed_contacts: u64,
    /// Contacts of completed jobs cleared into the dispatch order.
    pub cleared_contacts: u64,
}

impl Recovery {
    pub fn is_empty(&self) -> bool {
        *self == Recovery::default()
    }
}

/// The lock a running import holds on `<db>-imports/<job>.lock`: whoever can
/// lock the file knows the import's process is gone. Removed when dropped.
#[derive(Debug)]
pub(crate) struct JobLock {
    path: PathBuf,
    /// Holds the lock while open.
    _file: File,
}

impl Drop for JobLock {
    fn drop(&mut self) {
        // Removed while still locked: a cleaner that opened it just before
        // finds it locked or, locking it after, finds the job no longer running.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A job just begun: its id, its campaign and whether it creates it.
#[derive(Debug)]
pub(crate) struct BegunJob {
    pub job: i64,
    pub campaign: CampaignId,
    pub created: bool,
    pub lock: Option<JobLock>,
}

enum Begin {
    Begun(BegunJob),
    /// Another job held the campaign, and its process is gone (or it failed):
    /// recover, then try again.
    Retry(i64),
}

impl Store {
    /// Where running imports keep their lock files; `None` in memory.
    fn lock_dir(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let name = path.file_name()?.to_string_lossy();
        Some(path.with_file_name(format!("{name}-imports")))
    }

    fn lock_path(&self, job: i64) -> Option<PathBuf> {
        Some(self.lock_dir()?.join(format!("{job}.lock")))
    }

    /// Creates and locks the job's lock file; `None` (and the heartbeat alone
    /// tells whether it lives) when that cannot be done.
    fn lock_job(&self, job: i64) -> Option<JobLock> {
        let path = self.lock_path(job)?;
        let locked = (|| -> std::io::Result<File> {
            std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            file.try_lock().map_err(std::io::Error::from)?;
            Ok(file)
        })();
        match locked {
            Ok(file) => Some(JobLock { path, _file: file }),
            Err(error) => {
                tracing::warn!(job, path = %path.display(), %error, "cannot lock the import's lock file; its heartbeat alone will show it runs");
                None
            }
        }
    }

    /// Whether a running job's process is gone: its lock file can be locked,
    /// or (no lock file) it committed nothing for [`ABANDONED_AFTER`].
    fn job_abandoned(
        &self,
        job: i64,
        last_sign: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        if let Some(path) = self.lock_path(job) {
            match File::open(&path) {
                Ok(file) => match file.try_lock() {
                    Ok(()) => return true,
                    Err(std::fs::TryLockError::WouldBlock) => return false,
                    Err(std::fs::TryLockError::Error(error)) => {
                        tracing::warn!(job, %error, "cannot test the import's lock file");
                    }
                },
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => tracing::warn!(job, %error, "cannot open the import's lock file"),
            }
        }
        let stale = chrono::Duration::from_std(ABANDONED_AFTER).unwrap_or_default();
        last_sign.is_none_or(|at| now - at > stale)
    }

    /// Starts an import job into the campaign named `campaign` (creating it,
    /// hidden, when `create` is set), after recovering what earlier imports
    /// left. Refused while another import into the same campaign runs.
    pub(crate) fn begin_import_job(
        &mut self,
        campaign: &str,
        create: bool,
        file_name: &str,
        actor: &str,
    ) -> Result<BegunJob> {
        let mut holder = 0;
        for _ in 0..3 {
            self.recover_imports()?;
            let begun = self.patient_transaction(|store| {
                store.begin_in_transaction(campaign, create, file_name, actor)
            })?;
            match begun {
                Begin::Begun(job) => return Ok(job),
                Begin::Retry(job) => holder = job,
            }
        }
        Err(StoreError::ImportRunning {
            campaign: campaign.to_owned(),
            job: holder,
        })
    }

    fn begin_in_transaction(
        &mut self,
        name: &str,
        create: bool,
        file_name: &str,
        actor: &str,
    ) -> Result<Begin> {
        let now = crate::now();
        let at = format_time(now);
        let found: Option<(i64, Option<i64>)> = self
            .conn
            .query_row(
                "SELECT id, staged_import FROM campaigns WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let (campaign, created) = match found {
            Some((id, staged)) => {
                // Another import holds the campaign: one creating it, or one
                // writing into it.
                let holder: Option<(i64, String, Option<String>, String)> = self
                    .conn
                    .query_row(
                        "SELECT id, status, heartbeat_at, started_at FROM import_jobs
                          WHERE (id = ?2 OR (campaign_id = ?1 AND status = 'running'))
                            AND status != 'completed'
                          ORDER BY id LIMIT 1",
                        params![id, staged],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                    )
                    .optional()?;
                if let Some((job, status, heartbeat, started)) = holder {
                    let last_sign = heartbeat.as_deref().or(Some(&started)).and_then(parse_time);
                    if status != "running" || self.job_abandoned(job, last_sign, now) {
                        return Ok(Begin::Retry(job));
                    }
                    return Err(StoreError::ImportRunning {
                        campaign: name.to_owned(),
                        job,
                    });
                }
                if let Some(job) = staged {
                    // Removing a failed job removes its campaign first.
                    return Err(StoreError::Corrupt {
                        table: "campaigns",
                        detail: format!(
                            "campaign {id} is marked as being created by import {job}, which does not exist"
                        ),
                    });
                }
                (CampaignId(id), false)
            }
            None if create => {
                self.conn.execute(
                    "INSERT INTO campaigns (name, created_at, updated_at, created_by, staged_import)
                     VALUES (?1, ?2, ?2, ?3, 0)",
                    params![name, at, actor],
                )?;
                (CampaignId(self.conn.last_insert_rowid()), true)
            }
            None => return Err(StoreError::NoSuchCampaign(name.to_owned())),
        };
        self.conn.execute(
            "INSERT INTO import_jobs (campaign_id, kind, file_name, status, started_at, heartbeat_at, actor)
             VALUES (?1, 'contacts', ?2, 'running', ?3, ?3, ?4)",
            params![campaign.0, file_name, at, actor],
        )?;
        let job = self.conn.last_insert_rowid();
        if created {
            self.conn.execute(
                "UPDATE campaigns SET staged_import = ?2 WHERE id = ?1",
                params![campaign.0, job],
            )?;
        }
        // Locked before the job row commits: nobody can see the job running
        // without its lock held.
        let lock = self.lock_job(job);
        Ok(Begin::Begun(BegunJob {
            job,
            campaign,
            created,
            lock,
        }))
    }

    /// Records that a running job failed with `error`; false when it was not
    /// running (already failed by a cleaner, or completed).
    pub(crate) fn fail_job(&mut self, job: i64, error: &str) -> Result<bool> {
        self.patient_transaction(|store| {
            let changed = store.conn.execute(
                "UPDATE import_jobs SET status = 'failed', finished_at = ?2, error = ?3
                  WHERE id = ?1 AND status = 'running'",
                params![job, format_time(crate::now()), error],
            )?;
            Ok(changed == 1)
        })
    }

    /// Runs `step` (one statement over at most [`STEP_ROWS`] rows, returning how
    /// many it touched) until it touches none, in transactions of about
    /// [`TRANSACTION_BUDGET`] each. Returns the rows touched in all.
    fn in_short_transactions(
        &mut self,
        mut step: impl FnMut(&rusqlite::Connection) -> rusqlite::Result<usize>,
    ) -> Result<u64> {
        let mut total = 0u64;
        loop {
            let (touched, done) = self.patient_transaction(|store| {
                let started = Instant::now();
                let mut touched = 0u64;
                loop {
                    let n = step(&store.conn)?;
                    touched += n as u64;
                    if n == 0 || started.elapsed() >= TRANSACTION_BUDGET {
                        return Ok((touched, n == 0));
                    }
                }
            })?;
            total += touched;
            if done {
                return Ok(total);
            }
        }
    }

    /// Removes what a failed job wrote — its rows, a campaign it was creating,
    /// merges it kept aside — then the job itself, in short transactions.
    /// Returns the contacts deleted.
    pub(crate) fn remove_failed_job(&mut self, job: i64) -> Result<u64> {
        const FAILED: &str =
            "EXISTS (SELECT 1 FROM import_jobs WHERE id = ?1 AND status = 'failed')";
        let mut removed = self.in_short_transactions(|conn| {
            conn.prepare_cached(&format!(
                "DELETE FROM contacts WHERE id IN
                   (SELECT id FROM contacts WHERE staged_import = ?1 AND {FAILED} LIMIT ?2)"
            ))?
            .execute(params![job, STEP_ROWS])
        })?;
        let campaign: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM campaigns WHERE staged_import = ?1",
                [job],
                |row| row.get(0),
            )
            .optional()?;
        if let Some(campaign) = campaign {
            removed += self.in_short_transactions(|conn| {
                conn.prepare_cached(&format!(
                    "DELETE FROM contacts WHERE id IN
                       (SELECT id FROM contacts WHERE campaign_id = ?3 AND {FAILED} LIMIT ?2)"
                ))?
                .execute(params![job, STEP_ROWS, campaign])
            })?;
        }
        // The lock file goes before the job row: the id is free for the next
        // job only once the row is gone.
        if let Some(path) = self.lock_path(job) {
            let _ = std::fs::remove_file(path);
        }
        self.patient_transaction(|store| {
            // The campaign's rows go with it: its job and the merges kept aside.
            store.conn.execute(
                &format!("DELETE FROM campaigns WHERE staged_import = ?1 AND {FAILED}"),
                [job],
            )?;
            store.conn.execute(
                "DELETE FROM import_jobs WHERE id = ?1 AND status = 'failed'",
                [job],
            )?;
            Ok(())
        })?;
        Ok(removed)
    }

    /// Makes a completed job's rows part of the dispatch order: merges kept
    /// aside are applied, marks cleared, in short transactions. Returns the
    /// contacts cleared.
    pub(crate) fn clear_completed_job(&mut self, job: i64) -> Result<u64> {
        const COMPLETED: &str =
            "EXISTS (SELECT 1 FROM import_jobs WHERE id = ?1 AND status = 'completed')";
        self.in_short_transactions(|conn| {
            let next = format!(
                "SELECT contact_id FROM import_merges WHERE import_id = ?1 AND {COMPLETED}
                  ORDER BY contact_id LIMIT ?2"
            );
            conn.prepare_cached(&format!(
                "UPDATE contacts SET metadata =
                        (SELECT metadata FROM import_merges WHERE import_id = ?1 AND contact_id = contacts.id)
                  WHERE id IN ({next})"
            ))?
            .execute(params![job, STEP_ROWS])?;
            conn.prepare_cached(&format!(
                "DELETE FROM import_merges WHERE import_id = ?1 AND contact_id IN ({next})"
            ))?
            .execute(params![job, STEP_ROWS])
        })?;
        self.in_short_transactions(|conn| {
            conn.prepare_cached(&format!(
                "UPDATE contacts SET staged_import = NULL WHERE id IN
                   (SELECT id FROM contacts WHERE staged_import = ?1 AND {COMPLETED} LIMIT ?2)"
            ))?
            .execute(params![job, STEP_ROWS])
        })
    }

    /// Finishes what earlier imports left: running jobs whose process is gone
    /// are failed; failed jobs' rows, campaigns and job rows removed; completed
    /// jobs' rows cleared into the dispatch order. Each in short transactions;
    /// safe to run at any time, by several processes at once. `shofar serve`
    /// runs it at start and every minute, and every import before it begins.
    pub fn recover_imports(&mut self) -> Result<Recovery> {
        let now = crate::now();
        let mut recovery = Recovery::default();
        let running = self.job_ids(
            "SELECT id, coalesce(heartbeat_at, started_at) FROM import_jobs WHERE status = 'running'",
        )?;
        for (job, last_sign) in running {
            let last_sign = last_sign.as_deref().and_then(parse_time);
            if self.job_abandoned(job, last_sign, now) && self.fail_job(job, ABANDONED)? {
                tracing::warn!(job, "an import abandoned by its process is rolled back");
                recovery.abandoned.push(job);
            }
        }
        for (job, _) in self.job_ids("SELECT id, NULL FROM import_jobs WHERE status = 'failed'")? {
            recovery.removed_contacts += self.remove_failed_job(job)?;
            recovery.removed_jobs += 1;
        }
        let unfinished = self.job_ids(
            "SELECT id, NULL FROM import_jobs j WHERE status = 'completed'
               AND (EXISTS (SELECT 1 FROM contacts WHERE staged_import = j.id)
                    OR EXISTS (SELECT 1 FROM import_merges WHERE import_id = j.id))",
        )?;
        for (job, _) in unfinished {
            recovery.cleared_contacts += self.clear_completed_job(job)?;
        }
        if !recovery.is_empty() {
            tracing::info!(
                abandoned = recovery.abandoned.len(),
                removed_jobs = recovery.removed_jobs,
                removed_contacts = recovery.removed_contacts,
                cleared_contacts = recovery.cleared_contacts,
                "recovered unfinished imports"
            );
        }
        Ok(recovery)
    }

    fn job_ids(&self, sql: &str) -> Result<Vec<(i64, Option<String>)>> {
        let mut statement = self.conn.prepare(sql)?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
