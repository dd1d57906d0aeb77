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
    /// An SMS or hybrid campaign: SMS sending is not available on this box yet.
    SmsUnavailable,
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
        (ErrorCode::SmsUnavailable, 409, "conflict"),
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

    /// A validation failure naming its fields. The message names them and
    /// leaves why to `fields`: saying it twice would send any value a field's
    /// message quotes twice. At most [`MAX_FIELDS`] are listed.
    pub fn invalid(mut fields: Vec<FieldProblem>) -> ApiError {
        let count = fields.len();
        fields.truncate(MAX_FIELDS);
        for problem in &mut fields {
            problem.field = bounded(&problem.field, FIELD_CHARS);
        }
        let names = |fields: &[FieldProblem]| {
            fields
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let message = match fields.as_slice() {
            [one] => format!("{} is not acceptable (see fields for why)", one.field),
            many if count == many.len() => format!(
                "{count} fields are not acceptable: {} (see fields for why)",
                names(many)
            ),
            many => format!(
                "{count} fields are not acceptable: {} (see fields for why; the first \
                 {MAX_FIELDS} are listed)",
                names(many)
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

/// The most problems a validation failure lists.
pub const MAX_FIELDS: usize = 100;
/// The most characters of a value a person sent that an error quotes back.
pub const EXCERPT_CHARS: usize = 40;
/// The most characters of a message: a backstop for text that quotes a value
/// without quote marks.
pub const MESSAGE_CHARS: usize = 1000;
/// The most characters of a field's name (a request can name unknown ones).
pub const FIELD_CHARS: usize = 100;

/// Text as the API sends it back, at most `max_chars` long. Messages quote the
/// values they refuse the way Rust and serde print them (`"050-12": too short`,
/// `invalid type: string "…"`, ``unknown field `…` ``); a quoted value longer
/// than [`EXCERPT_CHARS`] keeps its first characters and ends in `…`, so an error
/// never carries a pasted megabyte back.
pub fn bounded(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    let mut written = 0;
    // Inside a quoted value: its closing mark, and how many characters were read.
    let mut quoted: Option<(char, usize)> = None;
    // The last character read inside a "quoted" value was an escaping `\`.
    let mut escaping = false;
    for c in text.chars() {
        if written == max_chars {
            out.push('…');
            break;
        }
        let keep = match quoted {
            None => {
                if c == '"' || c == '`' {
                    quoted = Some((c, 0));
                }
                true
            }
            Some((close, _)) if c == close && !escaping => {
                quoted = None;
                true
            }
            Some((close, read)) => {
                let escaped = escaping;
                escaping = close == '"' && c == '\\' && !escaping;
                quoted = Some((close, read + 1));
                if read == EXCERPT_CHARS {
                    // Not a lone `\` before the cut: it would escape nothing.
                    if escaped {
                        out.pop();
                        written -= 1;
                    }
                    out.push('…');
                    written += 1;
                }
                read < EXCERPT_CHARS
            }
        };
        if keep {
            out.push(c);
            written += 1;
        }
    }
    out
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = bounded(&self.message, MESSAGE_CHARS);
        if self.code == ErrorCode::Internal {
            tracing::error!(%message, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message,
                kind: self.code.kind().to_owned(),
                fields: self
                    .fields
                    .into_iter()
                    .map(|problem| FieldProblem {
                        message: bounded(&problem.message, MESSAGE_CHARS),
                        field: problem.field,
                    })
                    .collect(),
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

    /// Security probe: a refused value came back whole, twice.
    #[test]
    fn a_quoted_value_is_cut_to_an_excerpt_and_the_rest_kept() {
        let check = |text: &str, expected: &str| {
            assert_eq!(bounded(text, MESSAGE_CHARS), expected, "{text:?}");
        };
        let nines = "9".repeat(40);
        check(
            &format!("{:?}: too long: 1048576 digits", "9".repeat(1 << 20)),
            &format!("\"{nines}…\": too long: 1048576 digits"),
        );
        check(
            &format!("unknown field `{}`, expected `name`", "k".repeat(50)),
            &format!("unknown field `{}…`, expected `name`", "k".repeat(40)),
        );
        // An escaped quote does not end the value; an escape is not cut in two.
        let escaped = format!(
            "{:?} is not a date",
            format!("{}\"{}", "a".repeat(39), "b".repeat(9))
        );
        check(&escaped, &format!("\"{}…\" is not a date", "a".repeat(39)));
        // Short values and our own quoted examples are left alone.
        for text in [
            "\"050-12\": too short: 5 digits, a phone number has at least 7",
            "give a range like \"09:00-20:00\", a list of ranges, or \"closed\"",
            "no quotes at all",
            "",
        ] {
            check(text, text);
        }
        // Without quote marks, the whole is bounded.
        assert_eq!(
            bounded(&"z".repeat(5000), 100),
            format!("{}…", "z".repeat(100))
        );
    }

    #[test]
    fn a_validation_message_names_the_fields_and_leaves_why_to_them() {
        let problem = |field: &str| FieldProblem {
            field: field.to_owned(),
            message: "\"050-12\": too short".to_owned(),
        };
        let one = ApiError::invalid(vec![problem("caller_id")]);
        assert_eq!(
            one.message,
            "caller_id is not acceptable (see fields for why)"
        );
        let many = ApiError::invalid(
            (0..250)
                .map(|i| problem(&format!("numbers[{i}]")))
                .collect(),
        );
        assert_eq!(many.fields.len(), MAX_FIELDS);
        assert!(
            many.message
                .starts_with("250 fields are not acceptable: numbers[0], numbers[1]"),
            "{}",
            many.message
        );
        assert!(!many.message.contains("050-12"));
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
