//! The dashboard: server-rendered HTML, no script. Log in with an API token (a
//! session cookie follows); forms carry a CSRF token. Every page reads through the
//! same TLP rule as REST and TAXII.

use crate::error::ApiError;
use crate::pictures::{accounts_svg, host_edges, host_graph_svg, AccountCluster};
use crate::rest::{campaign_audit, visible_campaign, visible_campaigns, visible_findings};
use crate::{actions, AppState};
use axum::extract::{Form, Path, State};
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
/// its token is revoked (checked on every page); at most [`Sessions::MAX`] are kept.
#[derive(Debug, Default)]
pub struct Sessions {
    by_id: HashMap<String, Session>,
}

impl Sessions {
    /// A dashboard approves destructive actions: an unattended browser should not
    /// keep that power for long.
    pub const IDLE: Duration = Duration::from_secs(30 * 60);
    pub const LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);
    /// Each login with a valid token opens one; past this many the least recently
    /// used ones are closed, so memory stays bounded whoever logs in how often.
    pub const MAX: usize = 10_000;

    fn open(&mut self, id: String, principal: Principal, now: Instant) {
        self.by_id.retain(|_, s| !s.expired(now));
        while self.by_id.len() >= Self::MAX {
            let Some(oldest) = self.by_id.iter().min_by_key(|(_, s)| s.seen).map(|(k, _)| k.clone()) else { break };
            self.by_id.remove(&oldest);
        }
        self.by_id.insert(id, Session { principal, csrf: random_hex(), flash: None, opened: now, seen: now });
    }

    /// The live session `id`, marked as seen now; an expired one is closed.
    fn touch(&mut self, id: &str, now: Instant) -> Option<&mut Session> {
        if self.by_id.get(id)?.expired(now) {
            self.by_id.remove(id);
            return None;
        }
        let s = self.by_id.get_mut(id)?;
        s.seen = now;
        Some(s)
    }

    fn close(&mut self, id: &str) {
        self.by_id.remove(id);
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
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>{} · takedown</title><style>\
         body{{font:14px system-ui,sans-serif;margin:2em;max-width:84em}}table{{border-collapse:collapse}}\
         td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}}\
         .bar{{float:right}}.tlp{{font-weight:bold}}code{{font-size:90%}}h3{{margin-top:1.6em}}\
         .st{{padding:.1em .5em;border-radius:.8em;background:#eee}}.st-proposed{{background:#fff3cd}}\
         .st-approved{{background:#d1ecf1}}.st-done,.st-verified{{background:#d4edda}}.st-failed{{background:#f8d7da}}\
         .flash{{background:#eef5ff;border-left:4px solid #2c7fb8;padding:.5em 1em}}.note{{color:#8a5a00}}\
         .why{{color:#555;min-width:18em;max-width:30em}}code.path{{word-break:break-all}}code.t{{white-space:nowrap}}.destructive{{color:#c0392b}}button.approve{{cursor:pointer}}\
         table{{margin-bottom:1em}}</style></head><body>{bar}\
         <h1><a href=/ui/>takedown</a> · {}</h1>{body}</body></html>",
        esc(title),
        esc(title)
    ))
}

async fn login_form() -> Response {
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
    if let Ok(v) = HeaderValue::from_str(&format!("{LOGIN_CSRF}={csrf}; HttpOnly; SameSite=Strict; Path=/ui/")) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
struct LoginForm {
    token: String,
    csrf: String,
}

async fn login(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
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
    let id = random_hex();
    sessions(&state).open(id.clone(), principal, Instant::now());
    let mut response = Redirect::to("/ui/").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION}={id}; HttpOnly; SameSite=Strict; Path=/")) {
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

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let (Some(s), Some(id)) = (session(&state, &headers).await, cookie(&headers, SESSION)) {
        if s.csrf == form.csrf {
            sessions(&state).close(id);
        } else {
            return ApiError::Forbidden.into_response();
        }
    }
    Redirect::to("/ui/login").into_response()
}

async fn campaign_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(s) = session(&state, &headers).await else { return Redirect::to("/ui/login").into_response() };
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

async fn campaign_page(State(state): State<AppState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    let Some(s) = session(&state, &headers).await else { return Redirect::to("/ui/login").into_response() };
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

/// The session a form was posted in, or the answer to give instead: the login page
/// without one, 403 when the form does not carry the session's CSRF token (`what`
/// says what was therefore not done).
async fn form_session(state: &AppState, headers: &HeaderMap, csrf: &str, what: &str) -> Result<Session, Response> {
    let Some(s) = session(state, headers).await else { return Err(Redirect::to("/ui/login").into_response()) };
    if csrf.is_empty() || csrf != s.csrf {
        let text = format!(
            "<p>The form did not carry this session's token; nothing was {what}. Reload the page and try again.</p>"
        );
        return Err((StatusCode::FORBIDDEN, page("refused", Some(&s), &text)).into_response());
    }
    Ok(s)
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
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let s = match form_session(&state, &headers, &form.csrf, "approved").await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
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
    headers: HeaderMap,
    Path((name, id)): Path<(String, String)>,
    Form(form): Form<AbandonForm>,
) -> Response {
    let s = match form_session(&state, &headers, &form.csrf, "abandoned").await {
        Ok(s) => s,
        Err(answer) => return answer,
    };
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

    fn principal(user: &str) -> Principal {
        Principal { org: "msft".into(), user: user.into(), role: Role::Approver, token: "000000000000".into() }
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
            sessions.open(format!("s{i}"), principal("alice"), t0 + Duration::from_millis(i as u64));
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
}
