//! axum's extractors with this API's error format: a malformed body, path or
//! query is answered from the error table like every other failure, never with
//! axum's plain-text rejections.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{ApiError, ErrorCode};

/// A JSON body in, or a JSON response out.
#[derive(Debug, Clone, Copy, Default, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ),
            JsonRejection::JsonSyntaxError(error) => {
                ApiError::bad_request(format!("the body is not valid JSON: {}", error.body_text()))
            }
            JsonRejection::JsonDataError(error) => ApiError::new(
                ErrorCode::ValidationFailed,
                format!("the body does not fit: {}", error.body_text()),
            ),
            JsonRejection::BytesRejection(error) => {
                if error.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the body is too large")
                } else {
                    ApiError::bad_request(format!("cannot read the body: {}", error.body_text()))
                }
            }
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("the address is not right: {}", rejection.body_text()),
        )
    }
}

/// Query parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> ApiError {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("a query parameter is not right: {}", rejection.body_text()),
        )
    }
}
