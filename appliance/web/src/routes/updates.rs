//! Updates of the appliance image (admin): upload a signed bundle for the
//! installer, follow it, reboot into it. The handover is `shofar_update`'s; the
//! installer (root, RAUC) checks and installs; nothing here trusts the bundle.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Serialize;
use shofar_update::{LastUpdate, UpdateError, Updates};
use utoipa::ToSchema;

use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiResult};
use crate::extract::Json;
use crate::state::AppState;
use crate::upload;

/// The largest bundle accepted: a whole root file system, compressed.
const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Where updates stand.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdateStatus {
    /// Whether this box installs updates (the appliance image); false on a
    /// server, where the Debian package is upgraded instead.
    pub available: bool,
    /// The running image's version, when the image says it.
    pub version: Option<String>,
    /// The root slot that booted: `A` or `B`.
    pub slot: Option<String>,
    /// What the installer did last; null when no update was ever submitted.
    pub last: Option<LastUpdateOut>,
}

/// What the installer did last.
#[derive(Debug, Serialize, ToSchema)]
pub struct LastUpdateOut {
    /// `waiting`, `checking`, `installing`, `installed` (reboot to start it),
    /// `refused` (untrusted, for another box, not newer) or `failed`.
    pub state: String,
    /// In words (English, from the installer).
    pub message: String,
    pub version: Option<String>,
    pub at: Option<String>,
}

fn last_out(last: LastUpdate) -> LastUpdateOut {
    LastUpdateOut {
        state: serde_json::to_value(last.state)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default(),
        message: last.message,
        version: last.version,
        at: last.at,
    }
}

fn update_error(error: UpdateError) -> ApiError {
    match error {
        UpdateError::NotAnAppliance | UpdateError::NothingInstalled => {
            ApiError::conflict(error.to_string())
        }
        UpdateError::Io { .. } => ApiError::internal(error.to_string()),
    }
}

async fn status_of(updates: Updates) -> ApiResult<UpdateStatus> {
    tokio::task::spawn_blocking(move || {
        let running = shofar_update::running();
        Ok(UpdateStatus {
            available: updates.available(),
            version: running.version,
            slot: running.slot,
            last: updates.last().map_err(update_error)?.map(last_out),
        })
    })
    .await
    .map_err(|error| ApiError::internal(format!("the update status task failed: {error}")))?
}

/// What runs and what the last update did.
#[utoipa::path(
    get, path = "/api/v1/system/update", operation_id = "updates_status", tag = "system",
    responses((status = 200, body = UpdateStatus))
)]
pub async fn status(
    State(state): State<AppState>,
    _: Caller<Admin>,
) -> ApiResult<Json<UpdateStatus>> {
    Ok(Json(status_of(Updates::new(&state.config.data_dir)).await?))
}

/// Upload a signed bundle (`file`, multipart) for the installer. Answers at once
/// (202); `GET` follows the installer (checking, installing, then installed,
/// refused or failed, with why). 409 when this box does not take updates.
#[utoipa::path(
    post, path = "/api/v1/system/update", operation_id = "updates_install", tag = "system",
    request_body(content_type = "multipart/form-data", description = "`file`: the .raucb bundle"),
    responses((status = 202, body = UpdateStatus))
)]
pub async fn install(
    State(state): State<AppState>,
    caller: Caller<Admin>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<UpdateStatus>)> {
    let updates = Updates::new(&state.config.data_dir);
    if !updates.available() {
        return Err(update_error(UpdateError::NotAnAppliance));
    }
    let multipart = upload::form(multipart)?;
    let temp = state.config.data_dir.join("uploads");
    let mut form = upload::receive(multipart, "file", &temp, MAX_BUNDLE_BYTES).await?;
    let file = form.require_file("file")?;
    let (name, bytes, sha256) = (file.name.clone(), file.bytes, file.sha256.clone());
    let handover = updates.clone();
    tokio::task::spawn_blocking(move || -> ApiResult<()> {
        let mut reader = std::fs::File::open(&file.temp)
            .map_err(|error| ApiError::internal(format!("cannot read the upload: {error}")))?;
        handover.submit(&mut reader).map_err(update_error)?;
        Ok(())
    })
    .await
    .map_err(|error| ApiError::internal(format!("the update handover failed: {error}")))??;
    let actor = caller.actor();
    let details = serde_json::json!({"file": name, "bytes": bytes, "sha256": sha256});
    state
        .pool
        .run(move |store| Ok(store.record_audit(&actor, "update.submit", &details)?))
        .await?;
    Ok((StatusCode::ACCEPTED, Json(status_of(updates).await?)))
}

/// Reboot into the installed update (every call that is up ends). 409 when
/// nothing is installed.
#[utoipa::path(
    post, path = "/api/v1/system/reboot", operation_id = "updates_reboot", tag = "system",
    responses((status = 202, body = UpdateStatus))
)]
pub async fn reboot(
    State(state): State<AppState>,
    caller: Caller<Admin>,
) -> ApiResult<(StatusCode, Json<UpdateStatus>)> {
    let updates = Updates::new(&state.config.data_dir);
    let asked = updates.clone();
    tokio::task::spawn_blocking(move || asked.request_reboot().map_err(update_error))
        .await
        .map_err(|error| ApiError::internal(format!("the reboot request failed: {error}")))??;
    let actor = caller.actor();
    state
        .pool
        .run(move |store| {
            Ok(store.record_audit(&actor, "update.reboot", &serde_json::json!({}))?)
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(status_of(updates).await?)))
}
