//! The dashboard: server-rendered HTML, no script. Log in with an API token (a
//! session cookie follows); forms carry a CSRF token. Every page reads through the
//! same TLP rule as REST and TAXII.

use crate::auth::{charge_write, client};
use crate::body::FormBody;
use crate::error::ApiError;
use crate::limits::{retry_after, take_all};
use crate::pictures::{accounts_svg, host_edges, host_graph_svg, AccountCluster};
use crate::rest::{campaign_audit, visible_campaign, visible_campaigns, visible_findings};
use crate::{actions, AppState};
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use takedown_model::{ActionKind, ActionState, Subject};
use takedown_store::{kind_str, subject_key, Principal, Role};

const SESSION: &str = "td_session";
const LOGIN_CSRF: &str = "td_login_csrf";

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

    fn open(&mut self, id: String, principal: Principal, now: Instant) {
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

    fn close(&mut self, id: &str) {
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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", axum::routing::post(logout))
        .route("/ui/", get(campaign_list))
        .route("/ui/campaigns/{name}", get(campaign_page))
        .route("/ui/campaigns/{name}/actions/{id}/approve", axum::routing::post(approve))
        .route("/ui/campaigns/{name}/actions/{id}/abandon", axum::routing::post(abandon))
        .layer(axum::middleware::map_response(crate::headers::dashboard))
}

fn random_hex() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

fn sessions(state: &AppState) -> std::sync::MutexGuard<'_, Sessions> {
    state.sessions.lock().unwrap_or_else(|p| p.into_inner())
}

/// The request's live session. Its token is looked up again, so that revoking the
/// token (`takedown token revoke`, from any process) ends the session at its next
/// page; when the store cannot say, the browser is sent to log in again.
async fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
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
fn take_flash(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let id = cookie(headers, SESSION)?;
    sessions(state).touch(id, Instant::now())?.flash.take()
}

fn set_flash(state: &AppState, headers: &HeaderMap, text: String) {
    if let Some(id) = cookie(headers, SESSION) {
        if let Some(s) = sessions(state).touch(id, Instant::now()) {
            s.flash = Some(text);
        }
    }
}

/// A path segment, percent-encoded (campaign names and ids may hold anything).
fn seg(s: &str) -> String {
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
pub(crate) fn esc(s: &str) -> String {
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

fn page(title: &str, who: Option<&Session>, body: &str) -> Html<String> {
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

/// `; Secure` when the server is reached over HTTPS: the browser then never sends the
/// session over plain HTTP.
fn secure(state: &AppState) -> &'static str {
    if state.secure_cookies {
        "; Secure"
    } else {
        ""
    }
}

/// 429 as a page, with Retry-After.
fn slow_down(what: &str, wait: Duration) -> Response {
    let seconds = retry_after(wait);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        page("slow down", None, &format!("<p>{}; try again in {seconds} s.</p>", esc(what))),
    )
        .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A page's live session, checked before anything else of the request is read;
/// without one the browser is sent to log in.
struct LoggedIn(Session);

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<LoggedIn, Response> {
        session(state, &parts.headers).await.map(LoggedIn).ok_or_else(|| Redirect::to("/ui/login").into_response())
    }
}

/// The session a form is posted in, within its token's write rate: both checked
/// before the form is read.
struct FormSession(Session);

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
struct LoginAttempt;

impl FromRequestParts<AppState> for LoginAttempt {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<LoginAttempt, Response> {
        let address = client(parts);
        let taken = take_all::<_, ()>((&mut state.rates().login_by_address, &address), None, Instant::now());
        taken.map(|()| LoginAttempt).map_err(|wait| slow_down("too many log-in attempts from this address", wait))
    }
}

async fn login_form(State(state): State<AppState>) -> Response {
    let csrf = random_hex();
    let html = page(
        "log in",
        None,
        &format!(
            "<form method=post action=/ui/login><label>API token <input type=password name=token id=token \
             autocomplete=off size=72></label><input type=hidden name=csrf value=\"{csrf}\"> \
             <button id=login>Log in</button></form>"
        ),
    );
    let mut response = html.into_response();
    let cookie = format!("{LOGIN_CSRF}={csrf}; HttpOnly; SameSite=Strict; Path=/ui/{}", secure(&state));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    token: String,
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    _: LoginAttempt,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginForm>,
) -> Response {
    // Double submit: the form's CSRF token must equal the cookie set with the form.
    if cookie(&headers, LOGIN_CSRF) != Some(form.csrf.as_str()) || form.csrf.is_empty() {
        return (
            StatusCode::FORBIDDEN,
            page("log in", None, "<p>The form expired; <a href=/ui/login>log in again</a>.</p>"),
        )
            .into_response();
    }
    let token = form.token.trim().to_string();
    let principal = match state.with(move |store| Ok(store.authenticate(&token)?)).await {
        Ok(Some(p)) => p,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                page("log in", None, "<p>Unknown token. <a href=/ui/login>Try again</a>.</p>"),
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
struct CsrfForm {
    /// Missing reads as empty, which is refused like a wrong one.
    #[serde(default)]
    csrf: String,
}

async fn logout(
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

async fn campaign_list(State(state): State<AppState>, LoggedIn(s): LoggedIn) -> Response {
    let org = s.principal.org.clone();
    let rows = state
        .with(move |store| {
            let access = store.access(&org)?;
            let mut rows = Vec::new();
            for (c, owner) in visible_campaigns(store, &access)? {
                // Proposed actions the viewer may see: what waits for an approver.
                let waiting = store
                    .actions(&c.name)?
                    .iter()
                    .filter(|a| a.action.state == ActionState::Proposed)
                    .filter(|a| access.campaign_item(&c.id, owner.as_deref(), &a.action.id, c.tlp))
                    .count();
                rows.push((c, owner, waiting));
            }
            Ok(rows)
        })
        .await;
    match rows {
        Ok(rows) => {
            let mut body = String::from(
                "<h2>Campaigns</h2><table id=campaigns><tr><th>name<th>TLP<th>owner<th>created<th>waiting for approval</tr>",
            );
            for (c, owner, waiting) in &rows {
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/ui/campaigns/{}\">{}</a><td class=tlp>TLP:{}<td>{}<td>{}<td>{}</tr>",
                    seg(&c.name),
                    esc(&c.name),
                    c.tlp.as_str().to_uppercase(),
                    esc(owner.as_deref().unwrap_or("-")),
                    c.created.format("%Y-%m-%d %H:%M"),
                    match waiting {
                        0 => "—".to_string(),
                        n => format!("{n} action(s)"),
                    }
                );
            }
            body.push_str("</table>");
            if rows.is_empty() {
                body.push_str("<p>No campaign this organisation may see.</p>");
            }
            page("campaigns", Some(&s), &body).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// What the campaign page shows, read in one go under the store's lock.
struct CampaignView {
    campaign: takedown_model::Campaign,
    owner: Option<String>,
    findings: Vec<takedown_model::Finding>,
    actions: Vec<takedown_store::StoredAction>,
    notices: Vec<takedown_store::Notice>,
    audit: Vec<takedown_model::AuditEvent>,
}

async fn campaign_page(
    State(state): State<AppState>,
    LoggedIn(s): LoggedIn,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    let flash = take_flash(&state, &headers);
    let org = s.principal.org.clone();
    let loaded = state
        .with(move |store| {
            let access = store.access(&org)?;
            let (c, owner) = visible_campaign(store, &access, &name)?;
            let findings = visible_findings(store, &access, &c, owner.as_deref())?;
            // Actions and notices carry the campaign's level: they are its decisions.
            let actions: Vec<_> = store
                .actions(&c.name)?
                .into_iter()
                .filter(|a| access.campaign_item(&c.id, owner.as_deref(), &a.action.id, c.tlp))
                .collect();
            let notices = if access.campaign_item(&c.id, owner.as_deref(), &c.id, c.tlp) {
                store.notices(&c.name)?
            } else {
                Vec::new()
            };
            let audit = campaign_audit(store, &c)?;
            Ok(CampaignView { campaign: c, owner, findings, actions, notices, audit })
        })
        .await;
    let v = match loaded {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let c = &v.campaign;
    let mut body = format!(
        "<h2 id=campaign>{}</h2><p>TLP:{} · owner {} · {}</p>\
         <p class=nav><a href=#actions>Actions</a> · <a href=#notices>Notices</a> · <a href=#accounts>Accounts</a> · \
         <a href=#hosts>Hosts</a> · <a href=#timeline-h>Timeline</a> · <a href=#audit-h>Audit trail</a></p>",
        esc(&c.name),
        c.tlp.as_str().to_uppercase(),
        esc(v.owner.as_deref().unwrap_or("-")),
        esc(c.description.as_deref().unwrap_or(""))
    );
    if let Some(text) = flash {
        let _ = write!(body, "<p class=flash id=flash>{}</p>", esc(&text));
    }
    action_queue(&mut body, &s, &v);
    notices_sent(&mut body, &v);
    body.push_str("<h3 id=accounts>Suspicious accounts around the known fakes</h3>");
    let cluster = AccountCluster::from_findings(&v.findings);
    if cluster.is_empty() {
        body.push_str(
            "<p>No account findings in this campaign (<code>takedown accounts rank --campaign</code> files them).</p>",
        );
    } else {
        let _ = write!(
            body,
            "<p>{} known fake(s), {} ranked account(s), {} person(s) reached. Hover a node for its rank and score.</p>",
            cluster.seeds.len(),
            cluster.ranked.len(),
            cluster.exposed.len()
        );
        body.push_str(&accounts_svg(&cluster));
    }
    body.push_str("<h3 id=hosts>Hosts (attacker → victim, from captures)</h3>");
    let edges = host_edges(&v.findings);
    if edges.is_empty() {
        body.push_str("<p>No capture findings in this campaign.</p>");
    } else {
        body.push_str(&host_graph_svg(&edges));
    }
    timeline(&mut body, &v);
    body.push_str(
        "<h3 id=audit-h>Audit trail</h3><table id=audit><tr><th>#<th>when<th>who<th>verb<th>object<th>hash</tr>",
    );
    for e in &v.audit {
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td>{}<td>{}<td>{}<td><code>{}</code></tr>",
            e.seq,
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            esc(&e.actor),
            esc(&e.verb),
            esc(&e.object),
            esc(&e.hash[..e.hash.len().min(12)])
        );
    }
    body.push_str("</table>");
    page(&c.name, Some(&s), &body).into_response()
}

/// The action queue: one row per action, with an Approve button on proposed ones
/// for an approver of the owner organisation, and an Abandon form (with a reason) on
/// ones a run left running. A destructive action the viewer proposed shows the
/// two-person rule instead of a button.
fn action_queue(body: &mut String, s: &Session, v: &CampaignView) {
    let p = &s.principal;
    let may_approve = p.role.allows(Role::Approver) && v.owner.as_deref() == Some(p.org.as_str());
    body.push_str("<h3 id=actions>Action queue</h3>");
    if v.actions.is_empty() {
        body.push_str("<p>No actions proposed yet (<code>takedown plan --campaign NAME</code> proposes them).</p>");
        return;
    }
    if !may_approve {
        let why = if p.role.allows(Role::Approver) {
            format!("only {} (the owner) approves this campaign's actions", v.owner.as_deref().unwrap_or("its owner"))
        } else {
            format!("your role ({}) may not approve; an approver or admin may", p.role)
        };
        let _ = write!(body, "<p class=note>{}</p>", esc(&why));
    }
    body.push_str(
        "<table id=action-queue><tr><th>kind<th>target<th>state<th>proposed by<th>approved by<th>why<th></tr>",
    );
    for stored in &v.actions {
        let a = &stored.action;
        let button = if a.state == ActionState::Running && may_approve {
            // A run that died leaves it here; only a person can say the run is over.
            format!(
                "<form method=post action=\"/ui/campaigns/{}/actions/{}/abandon\"><input type=hidden name=csrf value=\"{}\">\
                 <input name=reason required placeholder=\"why: the run that took it stopped\" size=28> \
                 <button class=abandon data-action=\"{}\">Abandon</button></form>",
                seg(&v.campaign.name),
                seg(&a.id),
                esc(&s.csrf),
                esc(&a.id)
            )
        } else if a.state != ActionState::Proposed || !may_approve {
            String::new()
        } else if a.kind.is_destructive() && a.proposed_by == p.user {
            "<span class=note>two-person rule: you proposed this destructive action; another approver must approve it</span>"
                .to_string()
        } else {
            format!(
                "<form method=post action=\"/ui/campaigns/{}/actions/{}/approve\"><input type=hidden name=csrf value=\"{}\">\
                 <button class=approve data-action=\"{}\" data-kind=\"{}\">Approve</button></form>",
                seg(&v.campaign.name),
                seg(&a.id),
                esc(&s.csrf),
                esc(&a.id),
                kind_str(a.kind)
            )
        };
        let mut reason: String = a.reason.chars().take(100).collect();
        if reason.len() < a.reason.len() {
            reason.push('…');
        }
        let _ = write!(
            body,
            "<tr id=\"{}\"><td>{}{}<td><code class={}>{}</code><td><span class=\"st st-{}\">{}</span><td>{}<td>{}<td class=why>{}<td>{}</tr>",
            esc(&a.id),
            kind_str(a.kind),
            if a.kind.is_destructive() { " <span class=destructive title=\"needs two people\">⚠</span>" } else { "" },
            // File paths may be long enough to need breaking; addresses never.
            if matches!(a.target, Subject::File { .. }) { "path" } else { "t" },
            esc(&subject_key(&a.target)),
            a.state.as_str(),
            a.state.as_str(),
            esc(&a.proposed_by),
            esc(a.approved_by.as_deref().unwrap_or("—")),
            esc(&reason),
            button
        );
    }
    body.push_str("</table>");
}

/// Notices: the notify actions, with what their delivery recorded.
fn notices_sent(body: &mut String, v: &CampaignView) {
    body.push_str("<h3 id=notices>Notices</h3>");
    let notify: Vec<_> = v.actions.iter().filter(|a| a.action.kind == ActionKind::Notify).collect();
    if notify.is_empty() && v.notices.is_empty() {
        body.push_str(
            "<p>No notices planned (people reached by the fakes get one: <code>takedown accounts exposure</code>).</p>",
        );
        return;
    }
    body.push_str(
        "<table id=notices-table><tr><th>person<th>e-mail<th>action<th>notice<th>attempts<th>message id / last answer</tr>",
    );
    for stored in &notify {
        let a = &stored.action;
        let (person, email) = match &a.target {
            Subject::Person { id, email } => (id.clone(), email.clone().unwrap_or_default()),
            other => (subject_key(other), String::new()),
        };
        let n = v.notices.iter().find(|n| n.action_id.as_deref() == Some(a.id.as_str()) || n.person == person);
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td><span class=\"st st-{}\">{}</span><td>{}<td>{}<td><code>{}</code></tr>",
            esc(&person),
            esc(&email),
            a.state.as_str(),
            a.state.as_str(),
            esc(n.map_or("not sent", |n| n.state.as_str())),
            n.map_or(0, |n| n.attempts),
            esc(n.and_then(|n| n.message_id.as_deref().or(n.last_result.as_deref())).unwrap_or(""))
        );
    }
    // Notices sent outside a notify action (takedown run of an older plan).
    for n in v.notices.iter().filter(|n| {
        !notify.iter().any(|a| {
            n.action_id.as_deref() == Some(a.action.id.as_str())
                || matches!(&a.action.target, Subject::Person { id, .. } if *id == n.person)
        })
    }) {
        let _ = write!(
            body,
            "<tr><td>{}<td>{}<td>—<td>{}<td>{}<td><code>{}</code></tr>",
            esc(&n.person),
            esc(&n.email),
            esc(&n.state),
            n.attempts,
            esc(n.message_id.as_deref().or(n.last_result.as_deref()).unwrap_or(""))
        );
    }
    body.push_str("</table>");
}

/// Up to this many timeline entries are shown unfolded.
const TIMELINE_OPEN: usize = 40;

/// Findings and audit events together, oldest first.
fn timeline(body: &mut String, v: &CampaignView) {
    let c = &v.campaign;
    let mut rows: Vec<(String, String, String)> = v
        .findings
        .iter()
        .map(|f| {
            let level = f.tlp.unwrap_or(c.tlp).as_str().to_uppercase();
            (
                f.observed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                format!("finding · {}", f.detector),
                format!("{} (TLP:{level})", f.summary),
            )
        })
        .collect();
    rows.extend(v.audit.iter().map(|e| {
        (
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            format!("audit · {}", e.verb),
            format!("{} by {}", e.object, e.actor),
        )
    }));
    rows.sort();
    // A long timeline is folded (no script: a details element) so that the audit
    // trail below stays in reach.
    let _ = write!(
        body,
        "<h3 id=timeline-h>Timeline</h3><details{}><summary>{} entries: findings and audit events, oldest first</summary>\
         <table id=timeline><tr><th>when<th>what<th>detail</tr>",
        if rows.len() <= TIMELINE_OPEN { " open" } else { "" },
        rows.len()
    );
    for (at, what, detail) in &rows {
        let _ = write!(body, "<tr><td>{}<td>{}<td>{}</tr>", esc(at), esc(what), esc(detail));
    }
    body.push_str("</table></details>");
}

/// The 403 to answer when the form does not carry the session's CSRF token (`what`
/// says what was therefore not done).
fn csrf_refusal(s: &Session, csrf: &str, what: &str) -> Option<Response> {
    if csrf.is_empty() || csrf != s.csrf {
        let text = format!(
            "<p>The form did not carry this session's token; nothing was {what}. Reload the page and try again.</p>"
        );
        return Some((StatusCode::FORBIDDEN, page("refused", Some(s), &text)).into_response());
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
    Redirect::to(&format!("/ui/campaigns/{}", seg(name))).into_response()
}

async fn approve(
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
struct AbandonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Gives up an action a run left running, as `takedown abandon` does.
async fn abandon(
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
