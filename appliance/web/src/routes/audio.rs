//! Prompts: uploaded WAV or MP3 converted once to what the trunk plays, listed,
//! played back in the browser, removed.

use std::path::Path as FsPath;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use shofar_audio::{AudioError, Limits};
use shofar_store::campaigns::CampaignId;
use shofar_store::library::AudioFile;
use shofar_telephony::prompts::{FORMATS, stem, valid_name};
use utoipa::ToSchema;

use crate::auth::{Caller, Manager};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::extract::{Json, Path};
use crate::routes::contacts::download;
use crate::state::AppState;
use crate::upload;

/// A prompt on the box.
#[derive(Debug, Serialize, ToSchema)]
pub struct AudioOut {
    /// `prompts` (the box's own) or `campaign-ID` (one campaign's, which wins).
    pub folder: String,
    /// What flows play it by (`campaign` is a campaign's message).
    pub name: String,
    pub campaign_id: Option<i64>,
    pub duration_ms: Option<i64>,
    /// Of the uploaded file.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<String>,
    /// A WAV to play in the browser.
    pub playback_url: String,
}

impl From<AudioFile> for AudioOut {
    fn from(file: AudioFile) -> AudioOut {
        let (folder, name) = file
            .key
            .split_once('/')
            .map(|(f, n)| (f.to_owned(), n.to_owned()))
            .unwrap_or_else(|| ("prompts".to_owned(), file.key.clone()));
        AudioOut {
            campaign_id: campaign_of(&folder),
            playback_url: format!("/api/v1/audio/{folder}/{}/playback", url_segment(&name)),
            folder,
            name,
            duration_ms: file.duration_ms,
            sha256: file.sha256,
            created_at: file.created_at,
            created_by: file.created_by,
        }
    }
}

/// `name` as one URL path segment (a Hebrew name, a space, percent-encoded).
fn url_segment(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn campaign_of(folder: &str) -> Option<i64> {
    folder
        .strip_prefix("campaign-")
        .and_then(|id| id.parse().ok())
}

/// `prompts` or `campaign-ID`, and a valid prompt name; else a 404 (such a prompt
/// cannot exist).
fn check_key(folder: &str, name: &str) -> ApiResult<String> {
    let folder_ok = folder == "prompts" || campaign_of(folder).is_some();
    if !folder_ok || !valid_name(name) {
        return Err(ApiError::not_found(format!("no prompt {folder}/{name}")));
    }
    Ok(format!("{folder}/{name}"))
}

/// Every prompt the box has converted.
#[utoipa::path(
    get, path = "/api/v1/audio", operation_id = "audio_list", tag = "audio",
    responses((status = 200, body = Vec<AudioOut>))
)]
pub async fn list(
    State(state): State<AppState>,
    _: Caller<Manager>,
) -> ApiResult<Json<Vec<AudioOut>>> {
    let files = state.pool.run(|store| Ok(store.audio_files()?)).await?;
    Ok(Json(files.into_iter().map(Into::into).collect()))
}

/// The form of an audio upload.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the multipart form; the handler reads the parts.
pub struct AudioForm {
    /// WAV or MP3, at most 10 minutes.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// The prompt's name: letters (Hebrew too), digits, spaces, `.`, `-`, `_`
    /// (stored on disk under an ASCII stem; `campaign` for a
    /// campaign's message, `menu`, `thanks`, …).
    name: String,
    /// Make it this campaign's own prompt (default: the box's).
    campaign_id: Option<i64>,
}

/// What an upload became.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadedAudio {
    pub audio: AudioOut,
    /// Of the uploaded file.
    pub source_format: String,
    pub source_sample_rate: u32,
    pub source_channels: u16,
    /// Loudest point of the converted audio, dBFS.
    pub peak_dbfs: f64,
    /// Almost silent: check the recording.
    pub silent: bool,
}

/// Upload a WAV or MP3 as a prompt: converted once to 8 kHz G.711 for the trunk,
/// replacing a prompt of the same name.
#[utoipa::path(
    post, path = "/api/v1/audio", operation_id = "audio_upload", tag = "audio",
    request_body(content = AudioForm, content_type = "multipart/form-data"),
    responses((status = 201, body = UploadedAudio))
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<UploadedAudio>)> {
    let multipart = upload::form(multipart)?;
    let temp = state.config.data_dir.join("uploads");
    let mut form = upload::receive(multipart, "file", &temp, state.config.max_audio_bytes).await?;
    let file = form.require_file("file")?;
    let name = form
        .text("name")
        .ok_or_else(|| ApiError::field("name", "name the prompt (campaign, menu, thanks, …)"))?;
    if !valid_name(&name) {
        return Err(ApiError::field(
            "name",
            "1 to 64 letters (Hebrew or English), digits, spaces, '.', '-' or '_', not starting with '.'",
        ));
    }
    let folder = match form.text("campaign_id") {
        None => "prompts".to_owned(),
        Some(text) => {
            let id: i64 = text
                .parse()
                .map_err(|_| ApiError::field("campaign_id", "a campaign's id, a number"))?;
            state
                .pool
                .run(move |store| Ok(store.campaign(CampaignId(id))?))
                .await?;
            format!("campaign-{id}")
        }
    };
    let out_dir = state.config.prompts.folder(&folder);
    let limits = Limits {
        max_bytes: state.config.max_audio_bytes,
        ..Limits::default()
    };
    let (stem, temp_path, sha256) = (stem(&name), file.temp, file.sha256);
    let converted = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&out_dir).map_err(|error| {
            ApiError::internal(format!("cannot create {}: {error}", out_dir.display()))
        })?;
        shofar_audio::convert_file(&temp_path, &out_dir, &stem, &limits).map_err(audio_error)
    })
    .await
    .map_err(|error| ApiError::internal(format!("the conversion failed: {error}")))??;
    let key = format!("{folder}/{name}");
    let path = state.config.prompts.folder(&folder).display().to_string();
    let duration_ms = (converted.duration_seconds * 1000.0).round() as i64;
    let actor = caller.actor();
    let registered = state
        .pool
        .run(move |store| Ok(store.audio_register(&key, &path, duration_ms, &sha256, &actor)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadedAudio {
            audio: registered.into(),
            source_format: converted.source.format.to_string(),
            source_sample_rate: converted.source.sample_rate,
            source_channels: converted.source.channels,
            peak_dbfs: converted.peak_dbfs,
            silent: converted.silent,
        }),
    ))
}

fn audio_error(error: AudioError) -> ApiError {
    match error {
        AudioError::TooLarge { .. } => ApiError::new(ErrorCode::PayloadTooLarge, error.to_string()),
        AudioError::InvalidStem { .. } => ApiError::field("name", error.to_string()),
        AudioError::WriteOutput { ref source, .. } if source.raw_os_error() == Some(28) => {
            ApiError::new(
                ErrorCode::DiskFull,
                format!("the box's disk is full: {error}"),
            )
        }
        AudioError::WriteOutput { .. } | AudioError::ReadInput { .. } | AudioError::Internal(_) => {
            ApiError::internal(error.to_string())
        }
        other => ApiError::new(ErrorCode::UnprocessableFile, other.to_string()),
    }
}

/// One prompt.
#[utoipa::path(
    get, path = "/api/v1/audio/{folder}/{name}", operation_id = "audio_show", tag = "audio",
    params(
        ("folder" = String, Path, description = "`prompts` or `campaign-ID`"),
        ("name" = String, Path, description = "The prompt's name")
    ),
    responses((status = 200, body = AudioOut))
)]
pub async fn show(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path((folder, name)): Path<(String, String)>,
) -> ApiResult<Json<AudioOut>> {
    let key = check_key(&folder, &name)?;
    let lookup = key.clone();
    let file = state
        .pool
        .run(move |store| Ok(store.audio(&lookup)?))
        .await?;
    file.map(|f| Json(f.into()))
        .ok_or_else(|| ApiError::not_found(format!("no prompt {key}")))
}

/// The prompt as the trunk will play it (8 kHz), as a WAV for the browser.
#[utoipa::path(
    get, path = "/api/v1/audio/{folder}/{name}/playback", operation_id = "audio_playback", tag = "audio",
    params(
        ("folder" = String, Path, description = "`prompts` or `campaign-ID`"),
        ("name" = String, Path, description = "The prompt's name")
    ),
    responses((status = 200, description = "8 kHz 16-bit mono WAV", content_type = "audio/wav", body = Vec<u8>))
)]
pub async fn playback(
    State(state): State<AppState>,
    _: Caller<Manager>,
    Path((folder, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let key = check_key(&folder, &name)?;
    let linear = state
        .config
        .prompts
        .folder(&folder)
        .join(format!("{}.sln", stem(&name)));
    let wav = tokio::task::spawn_blocking(move || wav_from_linear(&linear))
        .await
        .map_err(|error| ApiError::internal(format!("playback failed: {error}")))?
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => ApiError::not_found(format!("no prompt {key}")),
            _ => ApiError::internal(format!("cannot read the prompt {key}: {error}")),
        })?;
    let mut response = download(wav, "audio/wav", &format!("{}.wav", stem(&name)));
    // Played inline, not saved.
    response.headers_mut().insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("inline"),
    );
    Ok(response)
}

/// Wraps 8 kHz signed 16-bit little-endian samples (Asterisk's `.sln`) in a WAV
/// header.
fn wav_from_linear(path: &FsPath) -> std::io::Result<Vec<u8>> {
    let samples = std::fs::read(path)?;
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::with_capacity(samples.len() + 44));
    let mut writer = hound::WavWriter::new(&mut out, spec).map_err(std::io::Error::other)?;
    for pair in samples.chunks_exact(2) {
        writer
            .write_sample(i16::from_le_bytes([pair[0], pair[1]]))
            .map_err(std::io::Error::other)?;
    }
    writer.finalize().map_err(std::io::Error::other)?;
    Ok(out.into_inner())
}

/// Remove a prompt and its converted files. Flows that play it will refuse to
/// call until it is uploaded again.
#[utoipa::path(
    delete, path = "/api/v1/audio/{folder}/{name}", operation_id = "audio_delete", tag = "audio",
    params(
        ("folder" = String, Path, description = "`prompts` or `campaign-ID`"),
        ("name" = String, Path, description = "The prompt's name")
    ),
    responses((status = 204, description = "Removed"))
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller<Manager>,
    Path((folder, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let key = check_key(&folder, &name)?;
    let dir = state.config.prompts.folder(&folder);
    let actor = caller.actor();
    let lookup = key.clone();
    let existed = state
        .pool
        .run(move |store| Ok(store.audio_unregister(&lookup, &actor)?))
        .await?;
    let mut removed_file = false;
    for extension in FORMATS {
        let path = dir.join(format!("{}.{extension}", stem(&name)));
        match std::fs::remove_file(&path) {
            Ok(()) => removed_file = true,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(ApiError::internal(format!(
                    "cannot remove {}: {error}",
                    path.display()
                )));
            }
        }
    }
    if !existed && !removed_file {
        return Err(ApiError::not_found(format!("no prompt {key}")));
    }
    Ok(StatusCode::NO_CONTENT)
}
