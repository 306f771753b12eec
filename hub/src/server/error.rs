//! The one mapping from what went wrong to an HTTP answer: `{"error": "..."}` with the
//! status a client can act on. Handlers return [`ApiError`]; store and domain errors
//! convert into it here and nowhere else.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use crate::api::ErrorBody;
use crate::store::StoreError;

/// Every error a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// No, unknown, expired or revoked credentials.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Known caller, not allowed.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request does not fit the current state (e.g. claiming a closed incident).
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than {0} bytes")]
    TooLarge(usize),
    /// Our fault; details are logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        resp.json(ErrorBody {
            error: self.to_string(),
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::AlreadyExists(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::InvalidAction(why) => ApiError::Conflict(why),
            e @ (StoreError::Sled(_) | StoreError::Corrupt { .. }) => {
                ApiError::Internal(e.to_string())
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// JSON extractor errors (bad syntax, wrong content type, too large) as [`ApiError`].
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { limit, .. } | J::Overflow { limit } => {
            ApiError::TooLarge(limit).into()
        }
        J::ContentType => {
            ApiError::BadRequest("expected Content-Type: application/json".into()).into()
        }
        J::Deserialize(e) => ApiError::BadRequest(format!("invalid JSON: {e}")).into(),
        other => ApiError::BadRequest(format!("invalid JSON body: {other}")).into(),
    }
}

/// Query-string errors as [`ApiError`].
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid query: {err}")).into()
}

/// Path errors (e.g. a non-UUID id) as [`ApiError`].
pub fn path_error(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::BadRequest(format!("invalid path: {err}")).into()
}
