//! Request bodies, read only after the caller is known, and only as much as the route
//! takes: a body announced larger than the route's limit is refused (413) before a byte
//! of it is read; a body that stalls is cut off (408).

use crate::error::ApiError;
use crate::limits::SMALL_BODY;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::header;
use axum::routing::MethodRouter;
use axum::Extension;

/// The largest body a route takes, as [`Bounded`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Sets the body limit of `route`'s handlers: for [`Bounded`] and for the framework's
/// own extractors alike.
pub fn limited<S: Clone + Send + Sync + 'static>(route: MethodRouter<S>, max: usize) -> MethodRouter<S> {
    route
        .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(max))
        .layer::<_, std::convert::Infallible>(Extension(BodyLimit(max)))
}

/// The whole body, within the route's limit ([`SMALL_BODY`] unless [`limited`] says).
#[derive(Debug)]
pub struct Bounded(pub Bytes);

fn too_large(limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the body is larger than this route takes ({limit} bytes); send less (TAXII: split the envelope)"
    ))
}

/// Whether reading failed because the body stopped arriving.
fn timed_out(rejection: &BytesRejection) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(rejection);
    while let Some(e) = source {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = e.source();
    }
    false
}

impl FromRequest<AppState> for Bounded {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Bounded, ApiError> {
        let limit = req.extensions().get::<BodyLimit>().map_or(SMALL_BODY, |l| l.0);
        let announced = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Bounded(bytes)),
            Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => Err(too_large(limit)),
            Err(e) if timed_out(&e) => Err(ApiError::BodyTimeout(state.limits.body_timeout.as_secs())),
            Err(e) => Err(ApiError::BadRequest(format!("the request body could not be read: {e}"))),
        }
    }
}

/// A URL-encoded form, within the route's body limit.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequest<AppState> for FormBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<FormBody<T>, ApiError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::BadRequest("send the form as application/x-www-form-urlencoded".into()));
        }
        let Bounded(bytes) = Bounded::from_request(req, state).await?;
        serde_urlencoded::from_bytes(&bytes)
            .map(FormBody)
            .map_err(|e| ApiError::BadRequest(format!("the form is not what this page sends: {e}")))
    }
}
