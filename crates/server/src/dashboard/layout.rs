//! The frame every dashboard page shares, and the pages that are only a message.

use super::session::Session;
use crate::limits::retry_after;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::fmt::Write as _;
use std::time::Duration;

/// A path segment, percent-encoded (campaign names and ids may hold anything).
pub(super) fn seg(s: &str) -> String {
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

/// Escapes text for HTML element content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn page(title: &str, who: Option<&Session>, body: &str) -> Html<String> {
    let bar = match who {
        Some(s) => format!(
            "<form method=post action=/ui/logout class=bar><span>{} ({}, {})</span>\
             <input type=hidden name=csrf value=\"{}\"><button>Log out</button></form>",
            esc(&s.principal.user),
            esc(&s.principal.org),
            s.principal.role,
            esc(&s.csrf)
        ),
        None => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{} · takedown</title><style>{STYLE}</style></head><body>{bar}\
         <h1><a href=/ui/>takedown</a> · {}</h1>{body}</body></html>",
        esc(title),
        esc(title),
        STYLE = crate::headers::STYLE,
    ))
}

/// 429 as a page, with Retry-After.
pub(super) fn slow_down(what: &str, wait: Duration) -> Response {
    let seconds = retry_after(wait);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        page("slow down", None, &format!("<p>{}; try again in {seconds} s.</p>", esc(what))),
    )
        .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}
