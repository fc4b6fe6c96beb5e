//! The frame every dashboard page shares, its one style sheet, and the pages that are
//! only a message.

use super::session::Session;
use crate::limits::retry_after;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::fmt::Write as _;
use std::time::Duration;

/// The dashboard's one style sheet, inline in every page; the Content-Security-Policy
/// ([`crate::headers::DASHBOARD_CSP`]) allows exactly this text by its hash, and
/// nothing else. It holds no `<`, so it cannot end its element early.
pub(crate) const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;max-width:84em}table{border-collapse:collapse}\
td,th{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}\
.bar{float:right}.tlp{font-weight:bold}code{font-size:90%}h3{margin-top:1.6em}\
.st{padding:.1em .5em;border-radius:.8em;background:#eee}.st-proposed{background:#fff3cd}\
.st-approved{background:#d1ecf1}.st-done,.st-verified{background:#d4edda}.st-failed{background:#f8d7da}\
.flash{background:#eef5ff;border-left:4px solid #2c7fb8;padding:.5em 1em}.note{color:#8a5a00}\
.why{color:#555;min-width:18em;max-width:30em}code.path{word-break:break-all}code.t{white-space:nowrap}.destructive{color:#c0392b}button.approve{cursor:pointer}\
table{margin-bottom:1em}";

/// A URL path segment, percent-encoded: campaign names and action ids may hold
/// anything, and in a link or a form's target a `/`, `?`, `#` or `%` of theirs would
/// change which route is reached. maud escapes for HTML, not for URLs, so this comes
/// first and maud's escaping after (a no-op on what this leaves).
pub(super) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A whole page: the title, the logged-in bar with its log-out form, then `body`.
pub(super) fn page(title: &str, who: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · takedown" }
                // CSS is not HTML text: escaping it would change the bytes the
                // Content-Security-Policy's hash allows.
                style { (PreEscaped(STYLE)) }
            }
            body {
                @if let Some(s) = who {
                    form method="post" action="/ui/logout" class="bar" {
                        span { (s.principal.user) " (" (s.principal.org) ", " (s.principal.role) ")" }
                        input type="hidden" name="csrf" value=(s.csrf);
                        button { "Log out" }
                    }
                }
                h1 { a href="/ui/" { "takedown" } " · " (title) }
                (body)
            }
        }
    }
}

/// 429 as a page, with Retry-After.
pub(super) fn slow_down(what: &str, wait: Duration) -> Response {
    let seconds = retry_after(wait);
    let body = html! { p { (what) "; try again in " (seconds) " s." } };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, page("slow down", None, body)).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    #[test]
    fn the_page_carries_the_style_sheet_the_policy_allows_byte_for_byte() {
        let html = page("t", None, html! {}).into_string();
        let inline = html.split("<style>").nth(1).unwrap().split("</style>").next().unwrap();
        assert_eq!(inline, STYLE);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(inline.as_bytes()));
        assert!(crate::headers::DASHBOARD_CSP.contains(&format!("style-src 'sha256-{hash}'")));
        assert!(!STYLE.contains('<'));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("zinc"), "zinc");
        assert_eq!(path_segment("a/b?c#d%e f\"<"), "a%2Fb%3Fc%23d%25e%20f%22%3C");
        assert_eq!(path_segment("é"), "%C3%A9");
    }
}
