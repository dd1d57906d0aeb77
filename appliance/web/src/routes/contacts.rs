//! A campaign's contacts, contact imports (as jobs), and their rejected rows.

use std::path::PathBuf;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use shofar_import::{ContactImportOptions, DuplicateRule, import_contacts};
use shofar_store::campaigns::CampaignId;
use shofar_store::contacts::ContactQuery;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Manager};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::jobs::{self, Failure, Finished, JobKind, JobOut};
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use crate::upload;

/// A contact as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactOut {
    pub id: i64,
    /// E.164: `+972525551234`.
    pub number: String,
    /// `mobile`, `fixed_line`, `voip`, `toll_free` or `other`.
    pub line_type: String,
    pub sms_capable: bool,
    /// The row's other columns, header → text.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// `given`, `refused` or null.
    pub consent: Option<String>,
    pub consent_at: Option<String>,
    pub blacklisted: bool,
    /// `pending`, `in_progress`, `completed`, `failed` or `blacklisted`.
    pub status: String,
    pub attempts: u32,
    /// The spreadsheet row it came from.
    pub source_row: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ContactListQuery {
    /// Digits of the number (`0525551234`, any part) or text in the values of
    /// other columns (not their headers); `%` and `_` are literal.
    pub search: Option<String>,
    /// `pending`, `in_progress`, `completed`, `failed` or `blacklisted`.
    #[param(pattern = "^(pending|in_progress|completed|failed|blacklisted)$")]
    pub status: Option<String>,
}

const CONTACT_STATUSES: [&str; 5] = [
    "pending",
    "in_progress",
    "completed",
    "failed",
    "blacklisted",
];

/// A campaign's contacts in import order, a page at a time, searchable.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}/contacts", operation_id = "contacts_list", tag = "contacts",
    params(("id" = i64, Path, description = "The campaign's id"), ContactListQuery, PageQuery),
    responses((status = 200, body = Page<ContactOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(id): Path<i64>,
    Query(query): Query<ContactListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ContactOut>>> {
    let (offset, limit) = page.window()?;
    if let Some(status) = &query.status
        && !CONTACT_STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::field(
            "status",
            format!("use one of {}", CONTACT_STATUSES.join(", ")),
        ));
    }
    let filter = ContactQuery {
        search: query.search,
        status: query.status,
    };
    let (contacts, total) = state
        .pool
        .run(move |store| {
            let campaign = store.campaign(CampaignId(id))?;
            Ok(store.contact_page(campaign.id, &filter, offset, limit)?)
        })
        .await?;
    let items = contacts
        .into_iter()
        .map(|c| ContactOut {
            id: c.id,
            number: c.e164,
            line_type: c.line_type,
            sms_capable: c.sms_capable,
            metadata: c.metadata,
            consent: c.consent,
            consent_at: c.consent_at,
            blacklisted: c.blacklisted,
            status: c.status,
            attempts: c.attempts,
            source_row: c.source_row,
        })
        .collect();
    Ok(Json(page.of(items, total)))
}

/// The form of a contact import.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the multipart form; the handler reads the parts.
pub struct ContactImportForm {
    /// `.xlsx`, `.xls`, `.ods` or `.csv`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The sheet to read (default: the first).
    sheet: Option<String>,
    /// The phone column's header or letter (default: found by header).
    phone_column: Option<String>,
    /// `keep_first` or `merge` (default: the box's setting).
    duplicates: Option<String>,
}

/// Import contacts into a campaign from a spreadsheet. The import runs as a job:
/// 202 with the job, then follow it at GET /api/v1/jobs/{id} (or on the live
/// socket). It is all or nothing; its summary and rejected-rows file are the
/// CLI's.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/imports", operation_id = "contacts_import", tag = "contacts",
    params(("id" = i64, Path, description = "The campaign's id")),
    request_body(content = ContactImportForm, content_type = "multipart/form-data"),
    responses((status = 202, description = "Started", body = JobOut))
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(id): Path<i64>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let multipart = upload::form(multipart)?;
    let campaign = state
        .pool
        .run(move |store| Ok(store.campaign(CampaignId(id))?))
        .await?;
    if campaign.status.is_final() {
        return Err(ApiError::conflict(format!(
            "campaign {id} is {}: it takes no more contacts",
            campaign.status
        )));
    }
    let uploads = state.config.data_dir.join("uploads");
    let mut upload =
        upload::receive(multipart, "file", &uploads, state.config.max_upload_bytes).await?;
    let file = upload.require_file("file")?;
    let duplicates = match upload.text("duplicates").as_deref() {
        None => state.config.duplicates,
        Some("keep_first") => DuplicateRule::KeepFirst,
        Some("merge") | Some("merge_metadata") => DuplicateRule::MergeMetadata,
        Some(other) => {
            return Err(ApiError::field(
                "duplicates",
                format!("{other:?}: use keep_first or merge"),
            ));
        }
    };
    let (job, folder) = state
        .jobs
        .start(JobKind::ContactImport, Some(id), &file.name)
        .map_err(|error| ApiError::internal(format!("cannot start the import: {error}")))?;
    let path = file.keep_in(&folder)?;
    let options = ContactImportOptions {
        sheet: upload.text("sheet"),
        phone_column: upload.text("phone_column"),
        duplicates,
        actor: caller.actor(),
        rejected_fallback_dir: Some(state.config.data_dir.join("rejected")),
        invalid_rows_in_summary: state.config.invalid_rows_in_summary,
        ..ContactImportOptions::new(campaign.name.clone())
    };
    let snapshot = job.snapshot();
    let dnc = state.dnc.clone();
    let normalizer = state.config.normalizer.clone();
    let upload = path.clone();
    jobs::run(
        job,
        state.pool.path().to_owned(),
        upload,
        "nothing was imported",
        move |store, job| {
            let summary = import_contacts(store, &dnc, &normalizer, &path, &options, job)
                .map_err(Failure::from)?;
            Ok(Finished {
                rejected: summary.rejected_rows_file.is_some(),
                import_id: Some(summary.import_id),
                summary: serde_json::to_value(&summary).unwrap_or_default(),
            })
        },
    )
    .map_err(|error| ApiError::internal(format!("cannot start the import: {error}")))?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/v1/jobs/{}", snapshot.id))],
        Json(snapshot),
    )
        .into_response())
}

/// An import as recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportOut {
    pub id: i64,
    pub campaign_id: i64,
    /// `contacts` or `blacklist`.
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub total_rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    pub invalid: u64,
    pub blacklisted: u64,
    #[schema(value_type = Option<Object>)]
    pub summary: Option<serde_json::Value>,
    /// Where to download the rejected rows, when there were any.
    pub rejected_rows_url: Option<String>,
    pub actor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ImportListQuery {
    /// Only this campaign's imports.
    pub campaign: Option<i64>,
}

/// Recorded imports, newest first (at most 200).
#[utoipa::path(
    get, path = "/api/v1/imports", operation_id = "contacts_imports", tag = "contacts",
    params(ImportListQuery),
    responses((status = 200, body = Vec<ImportOut>))
)]
pub async fn imports(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Query(query): Query<ImportListQuery>,
) -> ApiResult<Json<Vec<ImportOut>>> {
    let records = state
        .pool
        .run(move |store| Ok(store.imports(query.campaign.map(CampaignId), 200)?))
        .await?;
    Ok(Json(
        records
            .into_iter()
            .map(|r| {
                let rejected_rows_url = r
                    .rejected_file
                    .as_ref()
                    .map(|_| format!("/api/v1/imports/{}/rejected", r.id));
                ImportOut {
                    summary: r.summary.map(|s| {
                        jobs::public_summary(s, &r.file_name, rejected_rows_url.as_deref())
                    }),
                    rejected_rows_url,
                    id: r.id,
                    campaign_id: r.campaign_id,
                    kind: r.kind,
                    file_name: r.file_name,
                    status: r.status,
                    started_at: r.started_at,
                    finished_at: r.finished_at,
                    total_rows: r.total_rows,
                    imported: r.imported,
                    duplicates: r.duplicates,
                    invalid: r.invalid,
                    blacklisted: r.blacklisted,
                    actor: r.actor,
                }
            })
            .collect(),
    ))
}

/// Every invalid and duplicate row of an import, with its row number and reason
/// (English and Hebrew): a CSV that opens in Excel with Hebrew intact.
#[utoipa::path(
    get, path = "/api/v1/imports/{id}/rejected", operation_id = "contacts_rejected", tag = "contacts",
    params(("id" = i64, Path, description = "The import's id")),
    responses((status = 200, description = "The rejected rows", content_type = "text/csv", body = String))
)]
pub async fn rejected(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let record = state
        .pool
        .run(move |store| Ok(store.import_record(id)?))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no import {id}")))?;
    let path = record
        .rejected_file
        .map(PathBuf::from)
        .ok_or_else(|| ApiError::not_found(format!("import {id} rejected no row")))?;
    // Only files this box wrote under its data directory are served.
    let data_dir = state
        .config
        .data_dir
        .canonicalize()
        .unwrap_or_else(|_| state.config.data_dir.clone());
    let canonical = path.canonicalize().map_err(|_| {
        ApiError::not_found(format!(
            "the rejected-rows file of import {id} is gone ({})",
            path.display()
        ))
    })?;
    if !canonical.starts_with(&data_dir) {
        return Err(ApiError::not_found(format!(
            "the rejected-rows file of import {id} was written outside the box's data folder \
             ({}); find it there",
            path.display()
        )));
    }
    let bytes = tokio::fs::read(&canonical)
        .await
        .map_err(|error| ApiError::internal(format!("cannot read {}: {error}", path.display())))?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("import-{id}.rejected.csv"),
    ))
}

/// A file to download, with its name.
pub fn download(bytes: Vec<u8>, content_type: &str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Jobs of this run of the box, newest first.
#[utoipa::path(
    get, path = "/api/v1/jobs", operation_id = "contacts_jobs", tag = "contacts",
    responses((status = 200, body = Vec<JobOut>))
)]
pub async fn jobs(State(state): State<AppState>, _: Caller<Manager>) -> Json<Vec<JobOut>> {
    Json(state.jobs.list())
}

/// Where a job stands: progress while it runs, then its summary or why it failed.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", operation_id = "contacts_job", tag = "contacts",
    params(("id" = u64, Path, description = "The job's id")),
    responses((status = 200, body = JobOut))
)]
pub async fn job(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(id): Path<u64>,
) -> ApiResult<Json<JobOut>> {
    state.jobs.get(id).map(Json).ok_or_else(|| {
        ApiError::not_found(format!(
            "no job {id} (jobs are remembered until the box restarts; finished imports are at \
             GET /api/v1/imports)"
        ))
    })
}
