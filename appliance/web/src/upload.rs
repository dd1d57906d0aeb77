//! Receiving a multipart upload: the file streamed to disk under a size limit,
//! the other fields as text. A file over the limit is refused with 413 and
//! nothing of it is kept.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::jobs::safe_file_name;

/// The longest text field accepted.
const MAX_FIELD_BYTES: usize = 10 * 1024;

/// What a multipart request carried.
#[derive(Debug)]
pub struct Upload {
    pub fields: HashMap<String, String>,
    pub file: Option<ReceivedFile>,
}

/// The uploaded file, on disk.
#[derive(Debug)]
pub struct ReceivedFile {
    /// A temporary file; dropped with it unless kept.
    pub temp: tempfile::TempPath,
    /// The name the client gave, made safe as a path component.
    pub name: String,
    pub bytes: u64,
    /// Of the content, hex.
    pub sha256: String,
}

impl ReceivedFile {
    /// Moves the file to `folder/NAME` and returns the path.
    pub fn keep_in(self, folder: &Path) -> ApiResult<PathBuf> {
        let target = folder.join(&self.name);
        self.temp.persist(&target).map_err(|error| {
            ApiError::internal(format!(
                "cannot keep the upload as {}: {}",
                target.display(),
                error.error
            ))
        })?;
        Ok(target)
    }
}

fn multipart_error(error: MultipartError) -> ApiError {
    let status = error.status();
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(ErrorCode::PayloadTooLarge, "the upload is too large")
    } else {
        ApiError::bad_request(format!(
            "the upload is not a readable multipart form: {}",
            error.body_text()
        ))
    }
}

/// The multipart form a handler was sent, or why it is not one (415).
pub fn form(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Multipart> {
    multipart.map_err(|rejection| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the file as multipart/form-data: {}",
                rejection.body_text()
            ),
        )
    })
}

/// Reads every part: `file_field` is streamed into a temporary file in
/// `temp_dir` (at most `max_bytes`), every other part is kept as text.
pub async fn receive(
    mut multipart: Multipart,
    file_field: &str,
    temp_dir: &Path,
    max_bytes: u64,
) -> ApiResult<Upload> {
    let mut fields = HashMap::new();
    let mut file = None;
    while let Some(mut part) = multipart.next_field().await.map_err(multipart_error)? {
        let name = part.name().unwrap_or_default().to_owned();
        if name == file_field {
            if file.is_some() {
                return Err(ApiError::bad_request(format!(
                    "send one file in the {file_field:?} field"
                )));
            }
            let original = part.file_name().unwrap_or("upload").to_owned();
            std::fs::create_dir_all(temp_dir).map_err(|error| {
                ApiError::internal(format!("cannot create {}: {error}", temp_dir.display()))
            })?;
            let temp = tempfile::NamedTempFile::new_in(temp_dir)
                .map_err(|error| upload_io_error(error, temp_dir))?
                .into_temp_path();
            let mut out = tokio::fs::File::create(&temp)
                .await
                .map_err(|error| upload_io_error(error, temp_dir))?;
            let mut digest = Sha256::new();
            let mut bytes = 0u64;
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                bytes += chunk.len() as u64;
                if bytes > max_bytes {
                    return Err(ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!(
                            "the file is larger than the {} MB this box accepts",
                            max_bytes / (1024 * 1024)
                        ),
                    ));
                }
                digest.update(&chunk);
                out.write_all(&chunk)
                    .await
                    .map_err(|error| upload_io_error(error, temp_dir))?;
            }
            out.flush()
                .await
                .map_err(|error| upload_io_error(error, temp_dir))?;
            file = Some(ReceivedFile {
                temp,
                name: safe_file_name(&original),
                bytes,
                sha256: digest
                    .finalize()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
            });
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = part.chunk().await.map_err(multipart_error)? {
                text.extend_from_slice(&chunk);
                if text.len() > MAX_FIELD_BYTES {
                    return Err(ApiError::field(&name, "too long"));
                }
            }
            let text = String::from_utf8(text)
                .map_err(|_| ApiError::field(&name, "must be UTF-8 text"))?;
            fields.insert(name, text);
        }
    }
    Ok(Upload { fields, file })
}

/// A write failure while receiving: a full disk says so.
fn upload_io_error(error: std::io::Error, dir: &Path) -> ApiError {
    if error.raw_os_error() == Some(28) {
        ApiError::new(
            ErrorCode::DiskFull,
            "the box's disk is full: the upload was not kept; free space and try again",
        )
    } else {
        ApiError::internal(format!(
            "cannot write the upload in {}: {error}",
            dir.display()
        ))
    }
}

impl Upload {
    /// A text field, trimmed; `None` when absent or empty.
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn require_file(&mut self, field: &str) -> ApiResult<ReceivedFile> {
        self.file
            .take()
            .ok_or_else(|| ApiError::field(field, "attach the file (multipart/form-data)"))
    }
}
