//! The dashboard's forms: log in, log out, approve an action, abandon one a run
//! left running. Each checks its CSRF token before it does anything.

use super::layout::{page, path_segment, slow_down};
use super::session::{cookie, random_hex, secure, sessions, set_flash, FormSession, LoggedIn, LoginAttempt, Session};
use super::session::{LOGIN_CSRF, SESSION};
use crate::body::FormBody;
use crate::error::ApiError;
use crate::limits::take_all;
use crate::{actions, AppState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use std::time::Instant;
use takedown_store::{kind_str, subject_key};

pub(super) async fn login_form(State(state): State<AppState>) -> Response {
    let csrf = random_hex();
    let form = html! {
        form method="post" action="/ui/login" {
            label { "API token " input type="password" name="token" id="token" autocomplete="off" size="72"; }
            input type="hidden" name="csrf" value=(csrf);
            " "
            button id="login" { "Log in" }
        }
    };
    let mut response = page("log in", None, form).into_response();
    let cookie = format!("{LOGIN_CSRF}={csrf}; HttpOnly; SameSite=Strict; Path=/ui/{}", secure(&state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct LoginForm {
    token: String,
    csrf: String,
}

pub(super) async fn login(
    State(state): State<AppState>,
    _: LoginAttempt,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    // Double submit: the form's CSRF token must equal the cookie set with the form.
    if cookie(&headers, LOGIN_CSRF) != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return (
            StatusCode::FORBIDDEN,
            page("log in", None, html! { p { "The form expired; " a href="/ui/login" { "log in again" } "." } }),
        )
            .into_response();
    }
    let token = form.token.trim().to_string();
    let principal = match state.with(move |store| Ok(store.authenticate(&token)?)).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                page("log in", None, html! { p { "Unknown token. " a href="/ui/login" { "Try again" } "." } }),
            )
                .into_response()
        }
        Err(e) => return e.into_response(),
    };
    let taken = take_all::<_, ()>((&mut state.rates().login_by_token, &principal.token), None, Instant::now());
    if let Err(wait) = taken {
        return slow_down("too many log-ins with this token", wait);
    }
    let id = random_hex();
    sessions(&state).open(id.clone(), principal, Instant::now());
    let mut response = Redirect::to("/ui/").into_response();
    let cookie = format!("{SESSION}={id}; HttpOnly; SameSite=Strict; Path=/{}", secure(&state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct CsrfForm {
    /// Missing reads as empty, which is refused like a wrong one.
    #[serde(default)]
    csrf: String,
}

pub(super) async fn logout(
    State(state): State<AppState>,
    LoggedIn(s): LoggedIn,
    headers: HeaderMap,
    FormBody(form): FormBody<CsrfForm>,
) -> Response {
    if s.csrf != form.csrf {
        return ApiError::Forbidden.into_response();
    }
    if let Some(id) = cookie(&headers, SESSION) {
        sessions(&state).close(id);
    }
    Redirect::to("/ui/login").into_response()
}

/// The 403 to answer when the form does not carry the session's CSRF token (`what`
/// says what was therefore not done).
fn csrf_refusal(s: &Session, csrf: &str, what: &str) -> Option<Response> {
    if csrf.is_empty() || csrf != s.csrf {
        let text = html! {
            p { "The form did not carry this session's token; nothing was " (what) ". Reload the page and try again." }
        };
        return Some((StatusCode::FORBIDDEN, page("refused", Some(s), text)).into_response());
    }
    None
}

/// After a form: what came of it as the next page's message, and back to the top of
/// the campaign page, where the message is. `refused` starts the message of a
/// refusal; a campaign or action the viewer may not see stays a 404.
fn back_with(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    result: Result<String, ApiError>,
    refused: &str,
) -> Response {
    let text = match result {
        Ok(text) => text,
        Err(e @ ApiError::Internal(_)) => return e.into_response(),
        Err(ApiError::NotFound) => return ApiError::NotFound.into_response(),
        Err(e) => format!("{refused}: {e}"),
    };
    set_flash(state, headers, text);
    Redirect::to(&format!("/ui/campaigns/{}", path_segment(name))).into_response()
}

pub(super) async fn approve(
    State(state): State<AppState>,
    FormSession(s): FormSession,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    FormBody(form): FormBody<CsrfForm>,
) -> Response {
    if let Some(answer) = csrf_refusal(&s, &form.csrf, "approved") {
        return answer;
    }
    let p = s.principal.clone();
    let campaign = name.clone();
    let result = state
        .with(move |store| actions::approve(store, &p, &campaign, &id))
        .await
        .map(|a| format!("approved: {} {}", kind_str(a.action.kind), subject_key(&a.action.target)));
    back_with(&state, &headers, &name, result, "not approved")
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct AbandonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Gives up an action a run left running, as `takedown abandon` does.
pub(super) async fn abandon(
    State(state): State<AppState>,
    FormSession(s): FormSession,
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    FormBody(form): FormBody<AbandonForm>,
) -> Response {
    if let Some(answer) = csrf_refusal(&s, &form.csrf, "abandoned") {
        return answer;
    }
    let reason = Some(form.reason.trim().to_string())
        .filter(|r| !r.is_empty())
        .ok_or_else(|| ApiError::BadRequest("say why (the run that took it stopped, and when)".into()));
    let p = s.principal.clone();
    let campaign = name.clone();
    let result = state
        .with(move |store| actions::abandon(store, &p, &campaign, &id, reason))
        .await
        .map(|o| format!("abandoned: {} {} is failed; approve it again to rerun it", o.kind, o.target));
    back_with(&state, &headers, &name, result, "not abandoned")
}
