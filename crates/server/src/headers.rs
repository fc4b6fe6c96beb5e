//! Security headers: every answer says not to sniff its type; dashboard pages also
//! forbid script, framing, foreign form targets and referrers, and are not cached.

use axum::http::{header, HeaderValue};
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The dashboard's one style sheet, inline in every page; the Content-Security-Policy
/// allows exactly this text by its hash, and nothing else.
pub const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:84em}table{border-collapse:collapse}\
td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}\
.bar{float:right}.tlp{font-weight:bold}code{font-size:90%}h3{margin-top:1.6em}\
.st{padding:.1em .5em;border-radius:.8em;background:#eee}.st-proposed{background:#fff3cd}\
.st-approved{background:#d1ecf1}.st-done,.st-verified{background:#d4edda}.st-failed{background:#f8d7da}\
.flash{background:#eef5ff;border-left:4px solid #2c7fb8;padding:.5em 1em}.note{color:#8a5a00}\
.why{color:#555;min-width:18em;max-width:30em}code.path{word-break:break-all}code.t{white-space:nowrap}.destructive{color:#c0392b}button.approve{cursor:pointer}\
table{margin-bottom:1em}";

/// No script at all; the inline style sheet by hash (the pictures are inline SVG, which
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
