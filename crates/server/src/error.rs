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
    /// 403 with the reason, when the role is not what is missing.
    #[error("{0}")]
    ForbiddenBecause(String),
    #[error("not found")]
    NotFound,
    #[error("not acceptable: send Accept: application/taxii+json;version=2.1")]
    NotAcceptable,
    #[error("unsupported media type: send Content-Type: application/taxii+json;version=2.1")]
    UnsupportedMediaType,
    #[error("{0}")]
    BadRequest(String),
    /// The request is understood but the state of the thing forbids it (an action
    /// already approved, the two-person rule).
    #[error("{0}")]
    Conflict(String),
    /// This server does not do that; the message says what does.
    #[error("{0}")]
    NotImplemented(String),
    /// The body is larger than this route takes; the message says the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The body came too slowly.
    #[error("the request body stopped arriving for {0} s: send it whole, without pauses")]
    BodyTimeout(u64),
    /// A rate limit: the client may try again after this many seconds.
    #[error("{what}: try again in {retry_after} s")]
    TooManyRequests { what: String, retry_after: u64 },
    /// The server is busy or took too long; the client may try again after this many seconds.
    #[error("{what}: try again in {retry_after} s")]
    Unavailable { what: String, retry_after: u64 },
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::ForbiddenBecause(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<takedown_store::StoreError> for ApiError {
    fn from(e: takedown_store::StoreError) -> ApiError {
        ApiError::Internal(e.to_string())
    }
}

impl From<takedown_act::ActError> for ApiError {
    fn from(e: takedown_act::ActError) -> ApiError {
        use takedown_act::ActError as E;
        use takedown_store::StoreError as S;
        match e {
            E::Store(S::NoAction(_)) => ApiError::NotFound,
            E::Store(e @ S::BadTransition { .. }) => ApiError::Conflict(e.to_string()),
            E::Store(e) => ApiError::from(e),
            e @ (E::TwoPerson { .. } | E::Conflict(_)) => ApiError::Conflict(e.to_string()),
            e @ E::NoConnector { .. } => ApiError::NotImplemented(e.to_string()),
            e @ E::Input(_) => ApiError::Conflict(e.to_string()),
            // A connector that failed: the action is marked failed and the outcome
            // says why, so this is only reached for errors outside a run.
            e @ (E::Unreachable { .. } | E::Connector(_)) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<takedown_app::AppError> for ApiError {
    fn from(e: takedown_app::AppError) -> ApiError {
        use takedown_app::AppError as A;
        match e {
            A::Act(e) => ApiError::from(e),
            A::Store(e) => ApiError::from(e),
            // Setting up this server's own connectors (its outbox): not the client's doing.
            e => ApiError::Internal(e.to_string()),
        }
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
        if let ApiError::TooManyRequests { retry_after, .. } | ApiError::Unavailable { retry_after, .. } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        if matches!(self, ApiError::PayloadTooLarge(_) | ApiError::BodyTimeout(_)) {
            // The rest of the body is not read: the connection cannot carry another request.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
