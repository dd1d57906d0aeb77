//! The do-not-call list: search, add, remove (with a reason), check, import,
//! export, and the history of every addition and removal.
//!
//! Additions go through the store with the running dialer's own index, in the safe
//! order (listed in memory before the commit), so a number added here is refused
//! by the very next pre-dial check.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use shofar_import::blacklist::{BlacklistImportOptions, export_blacklist_csv, import_blacklist};
use shofar_phone::E164;
use shofar_store::blacklist::{BlacklistEntry, BlacklistSource, HistoryEntry, NewEntry};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Caller, Manager};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::jobs::{self, Failure, Finished, JobKind, JobOut};
use crate::routes::contacts::download;
use crate::routes::{Page, PageQuery};
use crate::state::AppState;
use crate::upload;

/// A listed number.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryOut {
    /// E.164: `+972525551234`.
    pub number: String,
    pub reason: String,
    /// `user_optout`, `admin_import`, `compliance` or `central`.
    pub source: String,
    pub added_at: DateTime<Utc>,
    pub added_by: Option<String>,
    /// Compliance entries: the date the national registry was checked.
    pub checked_on: Option<String>,
}

impl From<BlacklistEntry> for EntryOut {
    fn from(entry: BlacklistEntry) -> EntryOut {
        EntryOut {
            number: entry.e164.to_string(),
            reason: entry.reason,
            source: entry.source.as_str().to_owned(),
            added_at: entry.added_at,
            added_by: entry.added_by,
            checked_on: entry.checked_on,
        }
    }
}

/// An addition or removal.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryOut {
    pub id: i64,
    pub number: String,
    /// `add` or `remove`.
    pub action: String,
    pub reason: String,
    pub source: Option<String>,
    pub at: DateTime<Utc>,
    pub actor: Option<String>,
}

impl From<HistoryEntry> for HistoryOut {
    fn from(entry: HistoryEntry) -> HistoryOut {
        HistoryOut {
            id: entry.id,
            number: entry.e164.to_string(),
            action: entry.action,
            reason: entry.reason,
            source: entry.source,
            at: entry.at,
            actor: entry.actor,
        }
    }
}

/// A number as typed (`052-5551234`, `+972 52 555 1234`), normalized, or a field
/// error saying what is wrong with it.
fn number(state: &AppState, field: &str, typed: &str) -> ApiResult<E164> {
    state
        .config
        .normalizer
        .normalize_str(typed)
        .map(|n| n.e164)
        .map_err(|rejection| ApiError::field(field, format!("{typed:?}: {rejection}")))
}

fn parse_source(field: &str, text: &str) -> ApiResult<BlacklistSource> {
    text.parse()
        .map_err(|message: String| ApiError::field(field, message))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Digits anywhere in the number (`0525551234` or `5551234`); other
    /// characters are ignored, but a search with no digit at all is refused
    /// (422 naming `search`) rather than listing everything.
    pub search: Option<String>,
    /// Only entries from this source: `user_optout`, `admin_import`,
    /// `compliance` or `central`.
    #[param(pattern = "^(user_optout|admin_import|compliance|central)$")]
    pub source: Option<String>,
}

/// The list, newest first, a page at a time; searchable by digits.
#[utoipa::path(
    get, path = "/api/v1/blacklist", operation_id = "blacklist_list", tag = "blacklist",
    params(ListQuery, PageQuery),
    responses((status = 200, body = Page<EntryOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Query(query): Query<ListQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<EntryOut>>> {
    let (offset, limit) = page.window()?;
    let digits = search_digits(query.search.as_deref())?;
    let source = query
        .source
        .as_deref()
        .map(|s| parse_source("source", s))
        .transpose()?;
    let (entries, total) = state
        .pool
        .run(move |store| {
            Ok(store.blacklist_page(
                digits.as_deref().filter(|d| !d.is_empty()),
                source,
                offset,
                limit,
            )?)
        })
        .await?;
    Ok(Json(
        page.of(entries.into_iter().map(Into::into).collect(), total),
    ))
}

/// The digits a list search looks for, from what was typed: `None` for no
/// search (none given, or blank). Text without a digit is refused: it would
/// otherwise match every number, and the list would look like a match.
fn search_digits(typed: Option<&str>) -> ApiResult<Option<String>> {
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let digits: String = typed.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Err(ApiError::field(
            "search",
            "type at least one digit of the number (the list is searched by number only)",
        ));
    }
    // A local number's leading 0 stands for the country code.
    Ok(Some(digits.strip_prefix('0').unwrap_or(&digits).to_owned()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRequest {
    /// One number or several, as people type them.
    pub numbers: Vec<String>,
    /// Why: kept forever.
    pub reason: String,
    /// `admin_import` (default), `user_optout`, `compliance` or `central`.
    pub source: Option<String>,
    /// Compliance entries: the date the registry was checked (`2026-11-01`).
    pub checked_on: Option<String>,
}

/// What an addition did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddOut {
    pub added: u64,
    pub already_listed: u64,
    /// Contacts, in any campaign, now marked and never dialed.
    pub contacts_marked: u64,
}

fn check_date(field: &str, text: &str) -> ApiResult<String> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|d| d.to_string())
        .map_err(|_| ApiError::field(field, format!("{text:?} is not a date like 2026-11-01")))
}

/// Add numbers to the list. They take effect at once, for running campaigns too:
/// the next pre-dial check refuses them. All or nothing: one bad number and
/// nothing is added.
#[utoipa::path(
    post, path = "/api/v1/blacklist", operation_id = "blacklist_add", tag = "blacklist",
    request_body = AddRequest,
    responses((status = 200, body = AddOut))
)]
pub async fn add(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Json(request): Json<AddRequest>,
) -> ApiResult<Json<AddOut>> {
    if request.numbers.is_empty() || request.numbers.len() > 10_000 {
        return Err(ApiError::field(
            "numbers",
            "give 1 to 10,000 numbers (import a file for more)",
        ));
    }
    let reason = request.reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::field("reason", "say why, in 1 to 500 characters"));
    }
    let source = match &request.source {
        Some(text) => parse_source("source", text)?,
        None => BlacklistSource::AdminImport,
    };
    let checked_on = request
        .checked_on
        .as_deref()
        .map(|d| check_date("checked_on", d))
        .transpose()?;
    let mut problems = Vec::new();
    let mut numbers = Vec::new();
    for (index, typed) in request.numbers.iter().enumerate() {
        match number(&state, &format!("numbers[{index}]"), typed) {
            Ok(number) => numbers.push(number),
            Err(error) => problems.extend(error.fields),
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(problems));
    }
    let dnc = state.dnc.clone();
    let actor = caller.actor();
    let outcome = state
        .pool
        .run(move |store| {
            let entries = numbers.into_iter().map(|e164| NewEntry {
                e164,
                reason: reason.clone(),
                source,
                checked_on: checked_on.clone(),
                campaign: None,
            });
            Ok(store.blacklist_add(&dnc, entries, &actor, serde_json::json!({ "via": "api" }))?)
        })
        .await?;
    Ok(Json(AddOut {
        added: outcome.added,
        already_listed: outcome.already_listed,
        contacts_marked: outcome.contacts_marked,
    }))
}

/// Whether a number is listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    pub number: String,
    pub listed: bool,
    pub entry: Option<EntryOut>,
}

/// Check one number: listed or not, with why and since when.
#[utoipa::path(
    get, path = "/api/v1/blacklist/{number}", operation_id = "blacklist_check", tag = "blacklist",
    params(("number" = String, Path, description = "The number as typed: 052-5551234, +972525551234")),
    responses((status = 200, body = CheckOut))
)]
pub async fn check(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path(typed): Path<String>,
) -> ApiResult<Json<CheckOut>> {
    let e164 = number(&state, "number", &typed)?;
    let entry = state
        .pool
        .run(move |store| Ok(store.blacklist_entry(e164)?))
        .await?;
    Ok(Json(CheckOut {
        number: e164.to_string(),
        listed: entry.is_some(),
        entry: entry.map(Into::into),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RemoveQuery {
    /// Why it comes off the list: required, kept in the history. (Missing, it is
    /// refused like an empty one: a field error, not an unreadable query.)
    #[serde(default)]
    #[param(required = true)]
    pub reason: String,
}

/// What a removal did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RemoveOut {
    pub removed: u64,
    pub not_listed: u64,
    pub contacts_unmarked: u64,
}

/// Take a number off the list, with the reason. The history keeps both the
/// addition and the removal.
#[utoipa::path(
    delete, path = "/api/v1/blacklist/{number}", operation_id = "blacklist_remove", tag = "blacklist",
    params(("number" = String, Path, description = "The number as typed"), RemoveQuery),
    responses((status = 200, body = RemoveOut))
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path(typed): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<Json<RemoveOut>> {
    let e164 = number(&state, "number", &typed)?;
    let reason = query.reason.trim().to_owned();
    if reason.chars().count() < 3 || reason.chars().count() > 500 {
        return Err(ApiError::field(
            "reason",
            "say why the number comes off the list (3 to 500 characters)",
        ));
    }
    let dnc = state.dnc.clone();
    let actor = caller.actor();
    let outcome = state
        .pool
        .run(move |store| Ok(store.blacklist_remove(&dnc, &[e164], &reason, &actor)?))
        .await?;
    if outcome.removed == 0 {
        return Err(ApiError::not_found(format!("{e164} is not on the list")));
    }
    Ok(Json(RemoveOut {
        removed: outcome.removed,
        not_listed: outcome.not_listed,
        contacts_unmarked: outcome.contacts_unmarked,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoryQuery {
    /// One number's history (as typed).
    pub number: Option<String>,
    /// `add` or `remove`.
    #[param(pattern = "^(add|remove)$")]
    pub action: Option<String>,
}

/// Every addition and removal (opt-outs pressed on calls among them), newest
/// first, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/blacklist/history", operation_id = "blacklist_history", tag = "blacklist",
    params(HistoryQuery, PageQuery),
    responses((status = 200, body = Page<HistoryOut>))
)]
pub async fn history(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Query(query): Query<HistoryQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<HistoryOut>>> {
    let (offset, limit) = page.window()?;
    let e164 = query
        .number
        .as_deref()
        .map(|typed| number(&state, "number", typed))
        .transpose()?;
    let action = match query.action.as_deref() {
        None => None,
        Some(action @ ("add" | "remove")) => Some(action.to_owned()),
        Some(other) => {
            return Err(ApiError::field(
                "action",
                format!("{other:?}: use add or remove"),
            ));
        }
    };
    let (entries, total) = state
        .pool
        .run(move |store| {
            Ok(store.blacklist_history_page(e164, action.as_deref(), offset, limit)?)
        })
        .await?;
    Ok(Json(
        page.of(entries.into_iter().map(Into::into).collect(), total),
    ))
}

/// The whole list as CSV (phone, reason, source, added_at, added_by, checked_on):
/// what the import reads back.
#[utoipa::path(
    get, path = "/api/v1/blacklist/export", operation_id = "blacklist_export", tag = "blacklist",
    responses((status = 200, description = "The list", content_type = "text/csv", body = String))
)]
pub async fn export(State(state): State<AppState>, _: Caller<Manager>) -> ApiResult<Response> {
    let bytes = state
        .pool
        .run(|store| {
            let mut bytes = Vec::new();
            export_blacklist_csv(store, &mut bytes)
                .map_err(|error| ApiError::internal(error.to_string()))?;
            Ok(bytes)
        })
        .await?;
    let name = format!("do-not-call-{}.csv", Utc::now().format("%Y-%m-%d"));
    Ok(download(bytes, "text/csv; charset=utf-8", &name))
}

/// The form of a do-not-call import.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the multipart form; the handler reads the parts.
pub struct BlacklistImportForm {
    /// `.xlsx`, `.xls`, `.ods` or `.csv` (a bare list of numbers works too).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `admin_import` (default), `compliance` (the national registry), `central`
    /// or `user_optout`.
    source: Option<String>,
    /// For rows without a reason column of their own.
    reason: Option<String>,
    /// Compliance imports: the date the registry was checked (`2026-11-01`).
    checked_on: Option<String>,
    sheet: Option<String>,
    phone_column: Option<String>,
}

/// Import a file of numbers onto the list, as a job (202; follow it at
/// GET /api/v1/jobs/{id}). It takes effect for running campaigns the moment it
/// commits; all or nothing.
#[utoipa::path(
    post, path = "/api/v1/blacklist/imports", operation_id = "blacklist_import", tag = "blacklist",
    request_body(content = BlacklistImportForm, content_type = "multipart/form-data"),
    responses((status = 202, description = "Started", body = JobOut))
)]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<Response> {
    let multipart = upload::form(multipart)?;
    let uploads = state.config.data_dir.join("uploads");
    let mut upload =
        upload::receive(multipart, "file", &uploads, state.config.max_upload_bytes).await?;
    let file = upload.require_file("file")?;
    let source = match upload.text("source") {
        Some(text) => parse_source("source", &text)?,
        None => BlacklistSource::AdminImport,
    };
    let checked_on = upload
        .text("checked_on")
        .map(|d| check_date("checked_on", &d))
        .transpose()?;
    if source == BlacklistSource::Compliance && checked_on.is_none() {
        return Err(ApiError::field(
            "checked_on",
            "a compliance import needs the date the national registry was checked",
        ));
    }
    let options = BlacklistImportOptions {
        source,
        reason: upload
            .text("reason")
            .unwrap_or_else(|| format!("imported from {}", file.name)),
        checked_on,
        sheet: upload.text("sheet"),
        phone_column: upload.text("phone_column"),
        actor: caller.actor(),
    };
    let (job, folder) = state
        .jobs
        .start(JobKind::BlacklistImport, None, &file.name)
        .map_err(|error| ApiError::internal(format!("cannot start the import: {error}")))?;
    let path = file.keep_in(&folder)?;
    let snapshot = job.snapshot();
    let dnc = state.dnc.clone();
    let normalizer = state.config.normalizer.clone();
    let upload = path.clone();
    jobs::run(
        job,
        state.pool.path().to_owned(),
        upload,
        "nothing was added",
        move |store, job| {
            let summary = import_blacklist(store, &dnc, &normalizer, &path, &options, job)
                .map_err(Failure::from)?;
            Ok(Finished {
                summary: serde_json::to_value(&summary).unwrap_or_default(),
                import_id: None,
                rejected: false,
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
