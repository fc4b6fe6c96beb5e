//! Dashboard sessions: the cookie a log-in opens, its CSRF token and the message a
//! form leaves for the next page, and the extractors that check a request's session
//! (and its rates) before anything else of it is read.

use super::layout::slow_down;
use crate::auth::{charge_write, client};
use crate::error::ApiError;
use crate::limits::take_all;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use takedown_store::Principal;

pub(super) const SESSION: &str = "td_session";
pub(super) const LOGIN_CSRF: &str = "td_login_csrf";

/// A logged-in browser: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    /// What the last form did, shown once on the next page.
    pub flash: Option<String>,
    opened: Instant,
    seen: Instant,
}

/// The sessions of one server, by cookie value. A session ends at logout, after
/// [`Sessions::IDLE`] without a page, [`Sessions::LIFETIME`] after login, or as soon as
/// its token is revoked (checked on every page); at most [`Sessions::PER_TOKEN`] are
/// kept per token and [`Sessions::MAX`] in all.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<String, Session>,
    /// Sessions per token, kept with `by_id`.
    per_token: HashMap<String, usize>,
}

impl Sessions {
    /// A dashboard approves destructive actions: an unattended browser should not
    /// keep that power for long.
    pub const IDLE: Duration = Duration::from_secs(30 * 60);
    pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
    /// Each login with a valid token opens one; past this many the token with the most
    /// sessions loses its least recently used one, so memory stays bounded whoever
    /// logs in how often, and logging in never closes another token's session while
    /// any token holds more.
    pub const MAX: usize = 10_000;
    /// Sessions of one token: a person with a few browsers and devices. A new login
    /// past it closes that token's least recently used session, never another's.
    pub const PER_TOKEN: usize = 20;

    pub(super) fn open(&mut self, id: String, principal: Principal, now: Instant) {
        // Expired sessions are cleared when room is needed (a token's own expired ones
        // are its least recently used, so they go first at its cap too).
        if self.by_id.len() >= Self::MAX {
            self.by_id.retain(|_, s| !s.expired(now));
            self.per_token.clear();
            for s in self.by_id.values() {
                *self.per_token.entry(s.principal.token.clone()).or_default() += 1;
            }
        }
        let token = principal.token.clone();
        while self.per_token.get(&token).copied().unwrap_or(0) >= Self::PER_TOKEN {
            if !self.close_oldest(|s| s.principal.token == token) {
                break;
            }
        }
        while self.by_id.len() >= Self::MAX {
            let most = self.per_token.values().copied().max().unwrap_or(0);
            let counts = &self.per_token;
            let oldest = self
                .by_id
                .iter()
                .filter(|(_, s)| counts.get(&s.principal.token) == Some(&most))
                .min_by_key(|(_, s)| s.seen)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.close(&k),
                None => break,
            }
        }
        *self.per_token.entry(token).or_default() += 1;
        if let Some(old) =
            self.by_id.insert(id, Session { principal, csrf: random_hex(), flash: None, opened: now, seen: now })
        {
            self.forget(&old.principal.token);
        }
    }

    /// Closes the least recently used session that `which` picks; false if none.
    fn close_oldest(&mut self, which: impl Fn(&Session) -> bool) -> bool {
        let oldest = self.by_id.iter().filter(|(_, s)| which(s)).min_by_key(|(_, s)| s.seen).map(|(k, _)| k.clone());
        match oldest {
            Some(k) => {
                self.close(&k);
                true
            }
            None => false,
        }
    }

    /// One session of `token` fewer in the count.
    fn forget(&mut self, token: &str) {
        if let Some(n) = self.per_token.get_mut(token) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_token.remove(token);
            }
        }
    }

    /// The live session `id`, marked as seen now; an expired one is closed.
    fn touch(&mut self, id: &str, now: Instant) -> Option<&mut Session> {
        if self.by_id.get(id)?.expired(now) {
            self.close(id);
            return None;
        }
        let s = self.by_id.get_mut(id)?;
        s.seen = now;
        Some(s)
    }

    pub(super) fn close(&mut self, id: &str) {
        if let Some(s) = self.by_id.remove(id) {
            self.forget(&s.principal.token);
        }
    }
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.seen) > Sessions::IDLE || now.duration_since(self.opened) > Sessions::LIFETIME
    }
}

pub(super) fn random_hex() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

pub(super) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

pub(super) fn sessions(state: &AppState) -> std::sync::MutexGuard<'_, Sessions> {
    state.sessions.lock().unwrap_or_else(|p| p.into_inner())
}

/// The request's live session. Its token is looked up again, so that revoking the
/// token (`takedown token revoke`, from any process) ends the session at its next
/// page; when the store cannot say, the browser is sent to log in again.
pub(super) async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let id = cookie(headers, SESSION)?;
    let s = sessions(state).touch(id, Instant::now())?.clone();
    let lookup = s.principal.token.clone();
    match state.with(move |store| Ok(store.token_active(&lookup)?)).await {
        Ok(true) => Some(s),
        _ => {
            sessions(state).close(id);
            None
        }
    }
}

/// The session's message, taken: it is shown once.
pub(super) fn take_flash(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let id = cookie(headers, SESSION)?;
    sessions(state).touch(id, Instant::now())?.flash.take()
}

pub(super) fn set_flash(state: &AppState, headers: &HeaderMap, text: String) {
    if let Some(id) = cookie(headers, SESSION) {
        if let Some(s) = sessions(state).touch(id, Instant::now()) {
            s.flash = Some(text);
        }
    }
}

/// `; Secure` when the server is reached over HTTPS: the browser then never sends the
/// session over plain HTTP.
pub(super) fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

/// A page's live session, checked before anything else of the request is read;
/// without one the browser is sent to log in.
pub(super) struct LoggedIn(pub(super) Session);

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<LoggedIn, Response> {
        session(state, &parts.headers).await.map(LoggedIn).ok_or_else(|| Redirect::to("/ui/login").into_response())
    }
}

/// The session a form is posted in, within its token's write rate: both checked
/// before the form is read.
pub(super) struct FormSession(pub(super) Session);

impl FromRequestParts<AppState> for FormSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<FormSession, Response> {
        let LoggedIn(s) = LoggedIn::from_request_parts(parts, state).await?;
        match charge_write(state, parts, &s.principal) {
            Ok(()) => Ok(FormSession(s)),
            Err(ApiError::TooManyRequests { retry_after, .. }) => {
                Err(slow_down("too many forms sent with this token", Duration::from_secs(retry_after)))
            }
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A log-in within its address's rate, checked before the form is read.
pub(super) struct LoginAttempt;

impl FromRequestParts<AppState> for LoginAttempt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<LoginAttempt, Response> {
        let address = client(parts);
        let taken = take_all::<_, ()>((&mut state.rates().login_by_address, &address), None, Instant::now());
        taken.map(|()| LoginAttempt).map_err(|wait| slow_down("too many log-in attempts from this address", wait))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use takedown_store::Role;

    /// Each user has a token of their own.
    fn principal(user: &str) -> Principal {
        Principal { org: "msft".into(), user: user.into(), role: Role::Approver, token: format!("t-{user}") }
    }

    #[test]
    fn a_session_ends_when_idle_or_old() {
        let t0 = Instant::now();
        let mut sessions = Sessions::default();
        sessions.open("a".into(), principal("alice"), t0);
        // Used every 20 minutes it stays open, until its lifetime is over.
        let mut t = t0;
        while t + Duration::from_secs(20 * 60) <= t0 + Sessions::LIFETIME {
            t += Duration::from_secs(20 * 60);
            assert!(sessions.touch("a", t).is_some(), "{:?}", t - t0);
        }
        assert!(sessions.touch("a", t0 + Sessions::LIFETIME + Duration::from_secs(1)).is_none());
        assert!(sessions.by_id.is_empty());
        // Left alone for longer than IDLE, it is gone.
        sessions.open("b".into(), principal("bob"), t0);
        assert!(sessions.touch("b", t0 + Sessions::IDLE + Duration::from_secs(1)).is_none());
        assert!(sessions.touch("nobody", t0).is_none());
    }

    #[test]
    fn sessions_are_bounded_and_the_least_recently_used_go_first() {
        let t0 = Instant::now();
        let mut sessions = Sessions::default();
        for i in 0..Sessions::MAX {
            sessions.open(format!("s{i}"), principal(&format!("user{i}")), t0 + Duration::from_millis(i as u64));
        }
        // s0 is used again, so s1 is now the least recently used.
        let later = t0 + Duration::from_secs(60);
        assert!(sessions.touch("s0", later).is_some());
        sessions.open("new".into(), principal("bob"), later);
        assert_eq!(sessions.by_id.len(), Sessions::MAX);
        assert!(sessions.by_id.contains_key("s0") && sessions.by_id.contains_key("new"));
        assert!(!sessions.by_id.contains_key("s1"));
        // Expired sessions are cleared before anything live is closed.
        let much_later = later + Sessions::IDLE + Duration::from_secs(1);
        sessions.open("last".into(), principal("carol"), much_later);
        assert_eq!(sessions.by_id.len(), 1);
    }

    #[test]
    fn one_token_logging_in_again_and_again_closes_only_its_own_sessions() {
        let t0 = Instant::now();
        let mut sessions = Sessions::default();
        sessions.open("bob".into(), principal("bob"), t0);
        for i in 0..10_050u64 {
            sessions.open(format!("a{i}"), principal("alice"), t0 + Duration::from_millis(i + 1));
        }
        assert!(sessions.touch("bob", t0 + Duration::from_secs(20)).is_some(), "bob's session was pushed out");
        let alice = sessions.by_id.values().filter(|s| s.principal.user == "alice").count();
        assert_eq!(alice, Sessions::PER_TOKEN);
        // Alice's newest sessions are the ones kept.
        assert!(sessions.by_id.contains_key("a10049") && !sessions.by_id.contains_key("a0"));
    }

    #[test]
    fn at_the_global_cap_the_token_with_most_sessions_gives_one_up() {
        let t0 = Instant::now();
        let mut sessions = Sessions::default();
        // Tokens of one session each up to the cap, less a few that alice fills.
        for i in 0..Sessions::MAX - 5 {
            sessions.open(format!("s{i}"), principal(&format!("user{i}")), t0);
        }
        for i in 0..5u64 {
            sessions.open(format!("a{i}"), principal("alice"), t0 + Duration::from_millis(i + 1));
        }
        assert_eq!(sessions.by_id.len(), Sessions::MAX);
        // A newcomer takes alice's oldest, not the least recently used single session.
        sessions.open("new".into(), principal("newcomer"), t0 + Duration::from_secs(1));
        assert_eq!(sessions.by_id.len(), Sessions::MAX);
        assert!(!sessions.by_id.contains_key("a0") && sessions.by_id.contains_key("s0"));
    }
}
