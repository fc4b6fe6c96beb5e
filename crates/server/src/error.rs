//! The one error type of the server. What a client sees says what to do; what went
//! wrong inside is logged, never sent.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("authentication required: send `Authorization: Bearer TOKEN` (TAXII also takes HTTP Basic with the token as password)")]
    Unauthorized,
    #[error("this token's role may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("not acceptable: send Accept: application/taxii+json;version=2.1")]
    NotAcceptable,
    #[error("unsupported media type: send Content-Type: application/taxii+json;version=2.1")]
    UnsupportedMediaType,
    #[error("{0}")]
    BadRequest(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<takedown_store::StoreError> for ApiError {
    fn from(e: takedown_store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(%detail, "request failed");
        }
        let status = self.status();
        // The shape of a TAXII 2.1 error message; REST uses the same one.
        let body = serde_json::json!({ "title": self.to_string(), "http_status": status.as_u16().to_string() });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"takedown\", Bearer"));
        }
        response
    }
}
