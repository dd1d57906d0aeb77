//! Every failure the API reports, from one table.
//!
//! A response body is always `{"error": {"code", "message", "type"}}` (plus
//! `fields` for validation failures): `code` is stable and meant for programs (the
//! web UI translates by it), `message` is for people and says what to do, `type`
//! groups codes, and the HTTP status is fixed per code by [`ErrorCode::TABLE`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shofar_store::{Condition, StoreError};
use utoipa::ToSchema;

/// What went wrong, as a program reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed: unreadable JSON, a wrong type, a bad query.
    BadRequest,
    /// The request is well-formed but its values are not acceptable; `fields`
    /// says which and why.
    ValidationFailed,
    /// No session cookie or token, or an expired one: log in.
    Unauthenticated,
    /// Wrong user name or password.
    InvalidCredentials,
    /// Logged in, but the role may not do this.
    Forbidden,
    /// A state-changing request without the session's X-CSRF-Token header.
    CsrfFailed,
    /// Too many failed logins: wait `Retry-After` seconds.
    TooManyAttempts,
    NotFound,
    RouteNotFound,
    MethodNotAllowed,
    /// The name is taken.
    AlreadyExists,
    /// The campaign cannot make this move from its current status.
    IllegalTransition,
    /// Something still uses it, or it is in a state that forbids the change.
    Conflict,
    /// The box already has users; setup is over.
    SetupDone,
    /// The one-time setup secret is wrong, used or expired.
    SetupTokenInvalid,
    PayloadTooLarge,
    UnsupportedMediaType,
    /// An uploaded file could not be used: the message says why.
    UnprocessableFile,
    /// The database is busy with a long write (an import): try again.
    Busy,
    /// Asterisk or another part the request needs is not reachable.
    Unavailable,
    /// The disk is full: nothing was changed; free space.
    DiskFull,
    /// A bug or an unexpected failure; the log has the details.
    Internal,
}

impl ErrorCode {
    /// Code → (HTTP status, type). The only place statuses are chosen.
    pub const TABLE: &'static [(ErrorCode, u16, &'static str)] = &[
        (ErrorCode::BadRequest, 400, "invalid_request"),
        (ErrorCode::ValidationFailed, 422, "invalid_request"),
        (ErrorCode::Unauthenticated, 401, "auth"),
        (ErrorCode::InvalidCredentials, 401, "auth"),
        (ErrorCode::Forbidden, 403, "auth"),
        (ErrorCode::CsrfFailed, 403, "auth"),
        (ErrorCode::TooManyAttempts, 429, "auth"),
        (ErrorCode::NotFound, 404, "invalid_request"),
        (ErrorCode::RouteNotFound, 404, "invalid_request"),
        (ErrorCode::MethodNotAllowed, 405, "invalid_request"),
        (ErrorCode::AlreadyExists, 409, "conflict"),
        (ErrorCode::IllegalTransition, 409, "conflict"),
        (ErrorCode::Conflict, 409, "conflict"),
        (ErrorCode::SetupDone, 409, "conflict"),
        (ErrorCode::SetupTokenInvalid, 403, "auth"),
        (ErrorCode::PayloadTooLarge, 413, "invalid_request"),
        (ErrorCode::UnsupportedMediaType, 415, "invalid_request"),
        (ErrorCode::UnprocessableFile, 422, "invalid_request"),
        (ErrorCode::Busy, 503, "unavailable"),
        (ErrorCode::Unavailable, 503, "unavailable"),
        (ErrorCode::DiskFull, 507, "system"),
        (ErrorCode::Internal, 500, "system"),
    ];

    fn row(self) -> (u16, &'static str) {
        ErrorCode::TABLE
            .iter()
            .find(|(code, _, _)| *code == self)
            .map(|(_, status, kind)| (*status, *kind))
            .unwrap_or((500, "system"))
    }

    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.row().0).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn kind(self) -> &'static str {
        self.row().1
    }
}

/// One field's problem in a [`ErrorCode::ValidationFailed`] error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldProblem {
    /// The field, as the request named it (`settings.windows.sunday`, `password`).
    pub field: String,
    pub message: String,
}

/// An API error: the body every failure has.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What happened and what to do, for a person.
    pub message: String,
    /// `invalid_request`, `auth`, `conflict`, `unavailable` or `system`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldProblem>,
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            fields: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Internal, message)
    }

    /// A validation failure naming its fields.
    pub fn invalid(fields: Vec<FieldProblem>) -> ApiError {
        let message = match fields.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            many => format!(
                "{} fields are not acceptable: {}",
                many.len(),
                many.iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
        ApiError {
            code: ErrorCode::ValidationFailed,
            message,
            fields,
            retry_after: None,
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::invalid(vec![FieldProblem {
            field: field.to_owned(),
            message: message.into(),
        }])
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code == ErrorCode::Internal {
            tracing::error!(message = %self.message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                kind: self.code.kind().to_owned(),
                fields: self.fields,
            },
        };
        let mut response = (self.code.status(), axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        let message = error.to_string();
        let code = match &error {
            StoreError::NoSuchCampaign(_)
            | StoreError::NoSuchCampaignId(_)
            | StoreError::NoSuchUser(_)
            | StoreError::NoSuchToken(_)
            | StoreError::NoSuchFlow(_)
            | StoreError::NoSuchAudio(_) => ErrorCode::NotFound,
            StoreError::CampaignExists(_)
            | StoreError::UserExists(_)
            | StoreError::FlowExists(_) => ErrorCode::AlreadyExists,
            StoreError::Transition { .. } => ErrorCode::IllegalTransition,
            StoreError::LastAdmin(_) | StoreError::InUse(_) => ErrorCode::Conflict,
            StoreError::SetupDone => ErrorCode::SetupDone,
            StoreError::SetupTokenInvalid => ErrorCode::SetupTokenInvalid,
            _ => match error.condition() {
                Some(Condition::DiskFull) => {
                    return ApiError::new(
                        ErrorCode::DiskFull,
                        "the box's disk is full: nothing was changed; free space (old uploads, \
                         logs) and try again",
                    );
                }
                Some(Condition::Busy) => {
                    return ApiError::new(
                        ErrorCode::Busy,
                        "the database is busy with a long write (an import?); try again in a few \
                         seconds",
                    );
                }
                Some(Condition::Unwritable) => ErrorCode::Unavailable,
                None => ErrorCode::Internal,
            },
        };
        ApiError::new(code, message)
    }
}

impl From<shofar_campaign::InvalidSettings> for ApiError {
    fn from(invalid: shofar_campaign::InvalidSettings) -> ApiError {
        ApiError::invalid(
            invalid
                .0
                .into_iter()
                .map(|problem| FieldProblem {
                    field: problem.field,
                    message: problem.message,
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_row_with_an_error_status() {
        let codes: std::collections::HashSet<_> =
            ErrorCode::TABLE.iter().map(|(code, _, _)| *code).collect();
        assert_eq!(
            codes.len(),
            ErrorCode::TABLE.len(),
            "a code is listed twice"
        );
        for (code, status, _) in ErrorCode::TABLE {
            assert!(
                (400..600).contains(status),
                "{code:?} has a non-error status"
            );
            assert_eq!(code.status().as_u16(), *status);
        }
    }

    #[test]
    fn the_body_has_code_message_and_type() {
        let body = ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::NotFound,
                message: "no campaign with id 9".into(),
                kind: ErrorCode::NotFound.kind().into(),
                fields: vec![],
            },
        };
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "no campaign with id 9", "type": "invalid_request"}})
        );
    }
}
