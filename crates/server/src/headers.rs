//! Security headers: every answer says not to sniff its type; dashboard pages also
//! forbid script, framing, foreign form targets and referrers, and are not cached.

use crate::dashboard::STYLE;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// No script at all; the inline style sheet ([`STYLE`]) by its hash, computed here
/// from the same text the pages carry (the pictures are inline SVG, which
/// needs nothing more); forms post only here; no framing (clickjacking an Approve
/// button); no `<base>` to redirect relative links.
pub static DASHBOARD_CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

/// On every answer.
pub async fn nosniff(mut response: Response) -> Response {
    response.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// On every dashboard answer.
pub async fn dashboard(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&DASHBOARD_CSP) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // Pages show AMBER and RED findings: a shared browser's cache should not keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
