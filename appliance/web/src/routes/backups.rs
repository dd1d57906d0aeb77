//! Backups of the database, for admins: the box's own (DATA/backups, made daily
//! by its timer, by `shofar db backup`, or here), made now, downloaded; and a
//! restore, uploaded here and applied by `shofar serve` at its next start (the
//! running server holds the database, so it cannot be swapped under it).

use axum::body::Body;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use shofar_store::StoreError;
use shofar_store::backup::{
    self, Backup, BackupFolder, BackupInfo, BackupName, PendingRestore, RestoreOutcome,
};
use utoipa::ToSchema;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{Json, Path};
use crate::state::AppState;
use crate::upload;

/// One of the box's backups.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupOut {
    /// `shofar-YYYYMMDD-HHMMSS-mmm.db`: when it was made, in the box's time.
    pub name: String,
    pub bytes: u64,
    /// When the file was written.
    pub modified_at: DateTime<Utc>,
    /// The schema version in the file's header; null when the file is not an
    /// SQLite database.
    pub schema_version: Option<u32>,
    /// Where to download it.
    pub download_url: String,
}

impl From<Backup> for BackupOut {
    fn from(backup: Backup) -> BackupOut {
        BackupOut {
            download_url: format!("/api/v1/backups/{}", backup.name),
            name: backup.name.to_string(),
            bytes: backup.bytes,
            modified_at: backup.modified,
            schema_version: backup.schema_version,
        }
    }
}

/// What a backup holds, as checked.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupContents {
    pub schema_version: u32,
    pub campaigns: u64,
    pub contacts: u64,
    pub blacklist: u64,
}

impl From<BackupInfo> for BackupContents {
    fn from(info: BackupInfo) -> BackupContents {
        BackupContents {
            schema_version: info.schema_version,
            campaigns: info.campaigns,
            contacts: info.contacts,
            blacklist: info.blacklist,
        }
    }
}

/// A restore waiting for the next start of the server.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingRestoreOut {
    /// The name the file was uploaded with.
    pub file_name: String,
    pub bytes: u64,
    pub staged_at: DateTime<Utc>,
    /// Who uploaded it (`web:NAME`, `api:NAME/TOKEN`).
    pub staged_by: String,
    pub contents: BackupContents,
}

impl From<PendingRestore> for PendingRestoreOut {
    fn from(pending: PendingRestore) -> PendingRestoreOut {
        PendingRestoreOut {
            file_name: pending.file_name,
            bytes: pending.bytes,
            staged_at: pending.staged_at,
            staged_by: pending.staged_by,
            contents: pending.info.into(),
        }
    }
}

/// What became of the last pending restore when the server started.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestoreOutcomeOut {
    pub at: DateTime<Utc>,
    pub file_name: String,
    pub staged_by: String,
    /// `true`: the database was replaced; `false`: the file was refused and the
    /// database kept as it was (`problem` says why).
    pub restored: bool,
    /// What the restored database held.
    pub contents: Option<BackupContents>,
    /// Where the replaced database is kept, on the box.
    pub kept: Option<String>,
    /// Why the file was refused (English).
    pub problem: Option<String>,
}

impl From<RestoreOutcome> for RestoreOutcomeOut {
    fn from(outcome: RestoreOutcome) -> RestoreOutcomeOut {
        RestoreOutcomeOut {
            at: outcome.at,
            file_name: outcome.file_name,
            staged_by: outcome.staged_by,
            restored: outcome.restored.is_some(),
            contents: outcome.restored.map(Into::into),
            kept: outcome.kept,
            problem: outcome.problem,
        }
    }
}

/// The backups, the restore waiting, the last restore's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupsOut {
    /// Newest first.
    pub backups: Vec<BackupOut>,
    /// The folder on the box.
    pub folder: String,
    /// How many are kept: a new backup removes the oldest beyond it.
    pub keep: usize,
    /// The largest file accepted to restore, in bytes.
    pub max_restore_bytes: u64,
    /// A restore applied when the server next starts; null when none waits.
    pub pending_restore: Option<PendingRestoreOut>,
    /// The last restore the server applied or refused at its start.
    pub last_restore: Option<RestoreOutcomeOut>,
}

fn folder(state: &AppState) -> BackupFolder {
    BackupFolder::in_data_dir(&state.config.data_dir)
}

/// The backups on the box (newest first), the restore waiting for the next start
/// and what became of the last one.
#[utoipa::path(
    get, path = "/api/v1/backups", operation_id = "backups_list", tag = "backups",
    responses((status = 200, body = BackupsOut))
)]
pub async fn list(State(state): State<AppState>, _: Caller<Admin>) -> ApiResult<Json<BackupsOut>> {
    let folder = folder(&state);
    let last_restore = state.pool.run(|store| Ok(store.last_restore()?)).await?;
    let (backups, pending_restore) = {
        let folder = folder.clone();
        tokio::task::spawn_blocking(move || {
            Ok::<_, StoreError>((folder.list()?, folder.pending_restore()?))
        })
        .await
        .map_err(|error| ApiError::internal(format!("cannot list the backups: {error}")))??
    };
    Ok(Json(BackupsOut {
        backups: backups.into_iter().map(Into::into).collect(),
        folder: folder.path().display().to_string(),
        keep: backup::KEEP,
        max_restore_bytes: state.config.max_backup_bytes,
        pending_restore: pending_restore.map(Into::into),
        last_restore: last_restore.map(Into::into),
    }))
}

/// Back up the database now (a consistent copy while the box works), into the
/// box's backups; the oldest beyond `keep` are removed, as with the daily ones.
#[utoipa::path(
    post, path = "/api/v1/backups", operation_id = "backups_create", tag = "backups",
    responses((status = 201, body = BackupOut))
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller<Admin>,
) -> ApiResult<(StatusCode, Json<BackupOut>)> {
    let folder = folder(&state);
    let actor = caller.actor();
    let made = state
        .pool
        .run(move |store| {
            let now = chrono::Local::now().naive_local();
            Ok(store.backup_into(&folder, now, backup::KEEP, &actor)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(made.backup.into())))
}

/// Download a backup (an SQLite database: `shofar db restore FILE` or the upload
/// below restores it).
#[utoipa::path(
    get, path = "/api/v1/backups/{name}", operation_id = "backups_download", tag = "backups",
    params(("name" = String, Path, description = "`shofar-YYYYMMDD-HHMMSS-mmm.db`")),
    responses((status = 200, description = "The backup", content_type = "application/vnd.sqlite3", body = Vec<u8>))
)]
pub async fn download(
    State(state): State<AppState>,
    _: Caller<Admin>,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    // Only a backup's name, so never a path outside the folder.
    let not_found = || ApiError::not_found(format!("no backup {name:?}"));
    let name = BackupName::parse(&name).ok_or_else(not_found)?;
    let path = folder(&state).file(&name);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(error) => {
            return Err(ApiError::internal(format!(
                "cannot read {}: {error}",
                path.display()
            )));
        }
    };
    let bytes = file
        .metadata()
        .await
        .map_err(|error| ApiError::internal(format!("cannot read {}: {error}", path.display())))?
        .len();
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.sqlite3".to_owned()),
            (header::CONTENT_LENGTH, bytes.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(file)),
    )
        .into_response())
}

/// The form of a restore upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the multipart form; the handler reads the parts.
pub struct RestoreForm {
    /// A backup of a Shofar database (one downloaded here, or `shofar db backup`'s).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Upload a backup to restore. It is checked now (SQLite's integrity check, a
/// Shofar database, a schema not newer than this box's) and kept as the restore
/// the server applies when it next starts, replacing one that waited; the
/// database it replaces then is kept aside on the box.
#[utoipa::path(
    post, path = "/api/v1/backups/restore", operation_id = "backups_restore", tag = "backups",
    request_body(content = RestoreForm, content_type = "multipart/form-data"),
    responses((status = 201, body = PendingRestoreOut))
)]
pub async fn restore(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<PendingRestoreOut>)> {
    let multipart = upload::form(multipart)?;
    let temp = state.config.data_dir.join("uploads");
    let mut form = upload::receive(multipart, "file", &temp, state.config.max_backup_bytes).await?;
    let file = form.require_file("file")?;
    let (temp_path, file_name, bytes) = (file.temp, file.name, file.bytes);
    // The check reads the whole file: on the blocking pool, not a connection of
    // the pool's.
    let checked = tokio::task::spawn_blocking(move || {
        let info = backup::verify(&temp_path);
        (temp_path, info)
    })
    .await
    .map_err(|error| ApiError::internal(format!("the check failed: {error}")))?;
    let (temp_path, info) = checked;
    let info = info.map_err(|error| match error {
        StoreError::Backup { problem, .. } => ApiError::new(
            ErrorCode::UnprocessableFile,
            format!("{file_name:?} {problem}; nothing was changed"),
        ),
        other => ApiError::from(other),
    })?;
    let pending = PendingRestore {
        file_name,
        bytes,
        staged_at: Utc::now(),
        staged_by: caller.actor(),
        info,
    };
    let folder = folder(&state);
    let staged = pending.clone();
    state
        .pool
        .run(move |store| {
            store.stage_restore(&folder, &temp_path, &staged)?;
            // Moved into place; nothing of it is left to remove.
            drop(temp_path);
            Ok(())
        })
        .await?;
    Ok((StatusCode::CREATED, Json(pending.into())))
}

/// Cancel the restore waiting for the next start.
#[utoipa::path(
    delete, path = "/api/v1/backups/restore", operation_id = "backups_cancel_restore", tag = "backups",
    responses((status = 204, description = "Cancelled"))
)]
pub async fn cancel_restore(
    State(state): State<AppState>,
    caller: Caller<Admin>,
) -> ApiResult<StatusCode> {
    let folder = folder(&state);
    let actor = caller.actor();
    let cancelled = state
        .pool
        .run(move |store| Ok(store.cancel_restore(&folder, &actor)?))
        .await?;
    if cancelled {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no restore is waiting"))
    }
}
