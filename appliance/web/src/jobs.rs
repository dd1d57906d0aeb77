//! Long work started by a request: contact and do-not-call imports. Each runs on
//! a thread of its own with its own database connection, reports progress here,
//! and ends with the same summary and rejected-rows file as the CLI.
//!
//! A job's record of progress lives in memory (the last [`KEEP`] jobs); what an
//! import did is also in the store's `import_jobs` table for good. A contact
//! import that fails changed nothing (it is all or nothing) and says why.
//!
//! [`housekeeping`] is what `shofar serve` runs beside the jobs: it finishes or
//! removes what imports left in the store (a process killed mid-import, rows of
//! a completed import still joining the dispatch order) at start and every
//! minute, and keeps the uploads and rejected-rows files bounded at start and
//! every day.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use serde::Serialize;
use shofar_import::{Progress, ProgressUnit};
use utoipa::ToSchema;

/// How many finished jobs are remembered.
const KEEP: usize = 200;

/// What kind of work a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    ContactImport,
    BlacklistImport,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Completed,
    Failed,
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JobOut {
    pub id: u64,
    pub kind: JobKind,
    pub status: JobStatus,
    pub campaign_id: Option<i64>,
    /// The uploaded file's name.
    pub file_name: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// How far reading has come, in `unit`s (`rows` or `bytes`) of `total`.
    pub done: u64,
    pub total: Option<u64>,
    pub unit: Option<String>,
    /// 0 to 100, when the total is known.
    pub percent: Option<f64>,
    /// True while the last rows are written and committed.
    pub finishing: bool,
    /// The import's summary, when completed: the same as `shofar import --json`.
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// Why it failed, in English; nothing was imported.
    pub error: Option<String>,
    /// The same as a code, for a UI to word: `unsupported_type`,
    /// `no_phone_column`, `sheet_not_found`, `damaged_workbook`, `disk_full`, …
    /// (`other` when the import gave none).
    pub error_code: Option<String>,
    /// The values the error names (`headers`, `sheet`, `available`, `row`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub error_params: BTreeMap<String, String>,
    /// The import's id in the store (GET /api/v1/imports/{id}).
    pub import_id: Option<i64>,
    /// Where to download every invalid and duplicate row with its reason.
    pub rejected_rows_url: Option<String>,
}

/// One job's live state.
pub struct Job {
    snapshot: Mutex<JobOut>,
}

impl Job {
    pub fn snapshot(&self) -> JobOut {
        self.snapshot.lock().clone()
    }

    pub fn id(&self) -> u64 {
        self.snapshot.lock().id
    }

    /// The job ended well.
    pub fn complete(&self, summary: serde_json::Value, import_id: Option<i64>, rejected: bool) {
        let mut job = self.snapshot.lock();
        job.status = JobStatus::Completed;
        job.finished_at = Some(Utc::now());
        job.finishing = false;
        job.percent = Some(100.0);
        if let Some(total) = job.total {
            job.done = total;
        }
        job.import_id = import_id;
        job.rejected_rows_url = match (import_id, rejected) {
            (Some(id), true) => Some(format!("/api/v1/imports/{id}/rejected")),
            _ => None,
        };
        job.summary = Some(public_summary(
            summary,
            &job.file_name,
            job.rejected_rows_url.as_deref(),
        ));
    }

    /// The job failed; `error` says why and what to do.
    pub fn fail(&self, error: String, code: &str, params: BTreeMap<String, String>) {
        let mut job = self.snapshot.lock();
        job.error_code = Some(code.to_owned());
        job.error_params = params;
        job.status = JobStatus::Failed;
        job.finished_at = Some(Utc::now());
        job.finishing = false;
        job.error = Some(error);
    }
}

impl Progress for Job {
    fn start(&self, total: u64, unit: ProgressUnit) {
        let mut job = self.snapshot.lock();
        job.total = Some(total);
        job.unit = Some(
            match unit {
                ProgressUnit::Rows => "rows",
                ProgressUnit::Bytes => "bytes",
            }
            .to_owned(),
        );
        job.percent = Some(0.0);
    }

    fn advance(&self, position: u64) {
        let mut job = self.snapshot.lock();
        job.done = position;
        if let Some(total) = job.total.filter(|t| *t > 0) {
            job.percent =
                Some((position.min(total) as f64 * 100.0 / total as f64 * 10.0).round() / 10.0);
        }
    }

    fn finishing(&self) {
        self.snapshot.lock().finishing = true;
    }
}

/// The jobs of this process.
pub struct Jobs {
    next: AtomicU64,
    /// By id. A `std`-style mutex around map operations only.
    jobs: Mutex<BTreeMap<u64, Arc<Job>>>,
    /// Where uploads are kept: one folder per job.
    root: PathBuf,
}

impl Jobs {
    pub fn new(upload_root: PathBuf) -> Jobs {
        Jobs {
            next: AtomicU64::new(1),
            jobs: Mutex::new(BTreeMap::new()),
            root: upload_root,
        }
    }

    /// A new running job, and the folder its upload goes in.
    pub fn start(
        &self,
        kind: JobKind,
        campaign_id: Option<i64>,
        file_name: &str,
    ) -> std::io::Result<(Arc<Job>, PathBuf)> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        // The time in the folder name: ids restart with the process, the folders
        // stay.
        let folder = self
            .root
            .join(format!("{}-{id}", Utc::now().format("%Y%m%dT%H%M%S%.3f")));
        std::fs::create_dir_all(&folder)?;
        let job = Arc::new(Job {
            snapshot: Mutex::new(JobOut {
                id,
                kind,
                status: JobStatus::Running,
                campaign_id,
                file_name: file_name.to_owned(),
                started_at: Utc::now(),
                finished_at: None,
                done: 0,
                total: None,
                unit: None,
                percent: None,
                finishing: false,
                summary: None,
                error: None,
                error_code: None,
                error_params: BTreeMap::new(),
                import_id: None,
                rejected_rows_url: None,
            }),
        });
        let mut jobs = self.jobs.lock();
        jobs.insert(id, job.clone());
        while jobs.len() > KEEP {
            let oldest_done = jobs
                .iter()
                .find(|(_, job)| job.snapshot().status != JobStatus::Running)
                .map(|(id, _)| *id);
            match oldest_done {
                Some(id) => jobs.remove(&id),
                None => break,
            };
        }
        Ok((job, folder))
    }

    pub fn get(&self, id: u64) -> Option<JobOut> {
        self.jobs.lock().get(&id).map(|job| job.snapshot())
    }

    /// Every remembered job, newest first.
    pub fn list(&self) -> Vec<JobOut> {
        self.jobs
            .lock()
            .values()
            .rev()
            .map(|job| job.snapshot())
            .collect()
    }

    /// Jobs still running.
    pub fn running(&self) -> Vec<JobOut> {
        self.jobs
            .lock()
            .values()
            .map(|job| job.snapshot())
            .filter(|job| job.status == JobStatus::Running)
            .collect()
    }
}

/// An import's summary as the API shows it: the CLI's, but with the upload's
/// name for `file` and the download URL for `rejected_rows_file` — never a
/// path on the box, which its sender cannot use and should not learn.
pub fn public_summary(
    mut summary: serde_json::Value,
    file_name: &str,
    rejected_rows_url: Option<&str>,
) -> serde_json::Value {
    if let Some(fields) = summary.as_object_mut() {
        if fields.contains_key("file") {
            fields.insert("file".into(), file_name.into());
        }
        if fields.contains_key("rejected_rows_file") {
            fields.insert("rejected_rows_file".into(), rejected_rows_url.into());
        }
    }
    summary
}

/// Why a job's work failed: the message (in English, saying what to do), and
/// the same as a code and the values it names.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub code: &'static str,
    pub params: BTreeMap<String, String>,
    /// Whether the failed work changed nothing (a do-not-call import that
    /// stopped half way keeps what it listed, and says so).
    pub nothing_done: bool,
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure {
            message,
            code: "other",
            params: BTreeMap::new(),
            nothing_done: true,
        }
    }
}

impl From<shofar_import::ImportError> for Failure {
    fn from(error: shofar_import::ImportError) -> Failure {
        Failure {
            nothing_done: !matches!(
                error,
                shofar_import::ImportError::BlacklistPartlyAdded { .. }
            ),
            code: error.code(),
            params: error
                .params()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
            message: error.to_string(),
        }
    }
}

/// What a job's work produced.
pub struct Finished {
    /// The summary the CLI prints with `--json`.
    pub summary: serde_json::Value,
    /// The import's id in the store, when it records one.
    pub import_id: Option<i64>,
    /// Whether it wrote a rejected-rows file.
    pub rejected: bool,
}

/// Runs `work` on a thread of its own, with its own connection to the database
/// at `db` (an import writes for seconds, in short transactions). The job ends
/// completed with what `work` returns, or failed with its error — the upload's
/// path on the box replaced by the file's name, which is all its sender knows,
/// and `nothing_done` said.
pub fn run(
    job: Arc<Job>,
    db: PathBuf,
    upload: PathBuf,
    nothing_done: &'static str,
    work: impl FnOnce(&mut shofar_store::Store, &Job) -> Result<Finished, Failure> + Send + 'static,
) -> std::io::Result<()> {
    let id = job.id();
    std::thread::Builder::new()
        .name(format!("job-{id}"))
        .spawn(move || {
            let outcome = shofar_store::Store::open(&db)
                .map_err(|error| Failure::from(error.to_string()))
                .and_then(|mut store| work(&mut store, &job));
            match outcome {
                Ok(finished) => {
                    tracing::info!(job = id, import = ?finished.import_id, "job finished");
                    job.complete(finished.summary, finished.import_id, finished.rejected);
                }
                Err(failure) => {
                    tracing::warn!(job = id, code = failure.code, error = %failure.message, "job failed");
                    let error = failure
                        .message
                        .replace(&upload.display().to_string(), &job.snapshot().file_name);
                    let error = if failure.nothing_done {
                        format!("{error}; {nothing_done}")
                    } else {
                        error
                    };
                    job.fail(error, failure.code, failure.params);
                }
            }
        })?;
    Ok(())
}

/// How often [`housekeeping`] recovers unfinished imports in the store.
const RECOVER_EVERY: Duration = Duration::from_secs(60);

/// How often [`housekeeping`] sweeps old upload and rejected-rows files.
const SWEEP_EVERY: Duration = Duration::from_secs(24 * 3600);

/// `shofar serve`'s upkeep of imports, until `stop`: what imports left in the
/// store at `db` is recovered ([`shofar_store::Store::recover_imports`]) at
/// start and every minute; `data_dir`'s `uploads/` and `rejected/` are swept
/// ([`shofar_import::cleanup::sweep`]) at start and every day. Each pass runs on
/// the blocking pool; a failed pass is logged and tried again next time.
pub async fn housekeeping(
    db: PathBuf,
    data_dir: PathBuf,
    stop: tokio_util::sync::CancellationToken,
) {
    let mut recover = tokio::time::interval(RECOVER_EVERY);
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    loop {
        let work: Box<dyn FnOnce() + Send> = tokio::select! {
            _ = stop.cancelled() => return,
            _ = recover.tick() => {
                let db = db.clone();
                Box::new(move || {
                    let recovered = shofar_store::Store::open(&db)
                        .and_then(|mut store| store.recover_imports());
                    if let Err(error) = recovered {
                        tracing::warn!(%error, "cannot recover unfinished imports yet");
                    }
                })
            }
            _ = sweep.tick() => {
                let dirs = [data_dir.join("uploads"), data_dir.join("rejected")];
                Box::new(move || {
                    let retention = shofar_import::cleanup::Retention::default();
                    for dir in &dirs {
                        let swept = shofar_import::cleanup::sweep(dir, &retention, std::time::SystemTime::now());
                        if let Err(error) = swept {
                            tracing::warn!(dir = %dir.display(), %error, "cannot sweep old import files");
                        }
                    }
                })
            }
        };
        if let Err(error) = tokio::task::spawn_blocking(work).await {
            tracing::error!(%error, "an import upkeep pass failed");
        }
    }
}

/// A file name from an upload, made safe to use as a path component: its last
/// component, without control characters, at most 120 characters, keeping the
/// extension (the import reads the format from it).
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_owned();
    let cleaned = if cleaned.is_empty() {
        "upload".to_owned()
    } else {
        cleaned
    };
    if cleaned.chars().count() <= 120 {
        return cleaned;
    }
    let extension = Path::new(&cleaned)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| format!(".{e}"))
        .unwrap_or_default();
    let stem: String = cleaned
        .chars()
        .take(120 - extension.chars().count())
        .collect();
    format!("{stem}{extension}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_cannot_escape_their_folder() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\דנה\\תורמים.xlsx"), "תורמים.xlsx");
        assert_eq!(safe_file_name(".hidden.csv"), "hidden.csv");
        assert_eq!(safe_file_name(""), "upload");
        assert_eq!(safe_file_name("..."), "upload");
        let long = format!("{}.xlsx", "א".repeat(300));
        let safe = safe_file_name(&long);
        assert_eq!(safe.chars().count(), 120);
        assert!(safe.ends_with(".xlsx"));
    }

    #[test]
    fn a_job_reports_progress_then_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(dir.path().to_owned());
        let (job, folder) = jobs
            .start(JobKind::ContactImport, Some(3), "donors.xlsx")
            .unwrap();
        assert!(folder.is_dir());
        job.start(200, ProgressUnit::Rows);
        job.advance(50);
        let snapshot = jobs.get(job.id()).unwrap();
        assert_eq!((snapshot.done, snapshot.percent), (50, Some(25.0)));
        assert_eq!(jobs.running().len(), 1);
        job.complete(
            serde_json::json!({
                "imported": 190,
                "file": "/var/lib/shofar/uploads/job-1/donors.xlsx",
                "rejected_rows_file": "/var/lib/shofar/rejected/donors.rejected.csv",
            }),
            Some(7),
            true,
        );
        let done = jobs.get(job.id()).unwrap();
        assert_eq!(done.status, JobStatus::Completed);
        assert_eq!((done.done, done.percent), (200, Some(100.0)));
        // The summary names the upload as its sender knows it, never a path on the box.
        assert_eq!(
            done.summary,
            Some(serde_json::json!({
                "imported": 190,
                "file": "donors.xlsx",
                "rejected_rows_file": "/api/v1/imports/7/rejected",
            }))
        );
        assert_eq!(
            done.rejected_rows_url.as_deref(),
            Some("/api/v1/imports/7/rejected")
        );
        assert!(jobs.running().is_empty());
    }
}
