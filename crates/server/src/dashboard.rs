//! The dashboard: server-rendered HTML, no script. Log in with an API token (a
//! session cookie follows); forms carry a CSRF token. Every page reads through the
//! same TLP rule as REST and TAXII.

use crate::error::ApiError;
use crate::rest::{campaign_audit, visible_campaign, visible_campaigns, visible_findings};
use crate::AppState;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use takedown_model::{Evidence, Finding, Subject};
use takedown_store::Principal;

const SESSION: &str = "td_session";
const LOGIN_CSRF: &str = "td_login_csrf";

/// A logged-in browser: who, and the CSRF token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(login_form).post(login))
        .route("/ui/logout", axum::routing::post(logout))
        .route("/ui/", get(campaign_list))
        .route("/ui/campaigns/{name}", get(campaign_page))
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

fn session(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let id = cookie(headers, SESSION)?;
    state.sessions.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
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
         body{{font:14px system-ui,sans-serif;margin:2em;max-width:70em}}table{{border-collapse:collapse}}\
         td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}}\
         .bar{{float:right}}.tlp{{font-weight:bold}}code{{font-size:90%}}</style></head><body>{bar}\
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
    state
        .sessions
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id.clone(), Session { principal, csrf: random_hex() });
    let mut response = Redirect::to("/ui/").into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{SESSION}={id}; HttpOnly; SameSite=Strict; Path=/")) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[derive(Debug, serde::Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<CsrfForm>) -> Response {
    if let (Some(s), Some(id)) = (session(&state, &headers), cookie(&headers, SESSION)) {
        if s.csrf == form.csrf {
            state.sessions.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        } else {
            return ApiError::Forbidden.into_response();
        }
    }
    Redirect::to("/ui/login").into_response()
}

async fn campaign_list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(s) = session(&state, &headers) else { return Redirect::to("/ui/login").into_response() };
    let org = s.principal.org.clone();
    let rows = state
        .with(move |store| {
            let access = store.access(&org)?;
            visible_campaigns(store, &access)
        })
        .await;
    match rows {
        Ok(rows) => {
            let mut body =
                String::from("<h2>Campaigns</h2><table id=campaigns><tr><th>name<th>TLP<th>owner<th>created</tr>");
            for (c, owner) in &rows {
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/ui/campaigns/{}\">{}</a><td class=tlp>TLP:{}<td>{}<td>{}</tr>",
                    esc(&c.name),
                    esc(&c.name),
                    c.tlp.as_str().to_uppercase(),
                    esc(owner.as_deref().unwrap_or("-")),
                    c.created.format("%Y-%m-%d %H:%M")
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

/// Attacker → victim edges from capture findings (`net.*`): the finding's host and
/// the peer in its packet evidence, oriented by the host's role.
fn host_edges(findings: &[Finding]) -> BTreeSet<(String, String)> {
    let mut edges = BTreeSet::new();
    for f in findings.iter().filter(|f| f.detector.starts_with("net.")) {
        let Subject::Endpoint { ip, .. } = &f.subject else { continue };
        for e in &f.evidence {
            if let Evidence::Packets { fields, .. } = e {
                let (Some(role), Some(peer)) = (fields.get("role"), fields.get("peer")) else { continue };
                if role == "attacker" {
                    edges.insert((ip.clone(), peer.clone()));
                } else {
                    edges.insert((peer.clone(), ip.clone()));
                }
            }
        }
    }
    edges
}

/// The hosts on a circle, edges as arrows, attackers in red.
fn host_graph_svg(edges: &BTreeSet<(String, String)>) -> String {
    let nodes: BTreeSet<&String> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let attackers: BTreeSet<&String> = edges.iter().map(|(a, _)| a).collect();
    let n = nodes.len().max(1) as f64;
    let (w, h, r) = (640.0, 420.0, 160.0);
    let pos: BTreeMap<&String, (f64, f64)> = nodes
        .iter()
        .enumerate()
        .map(|(i, ip)| {
            let a = std::f64::consts::TAU * i as f64 / n;
            (*ip, (w / 2.0 + r * a.cos(), h / 2.0 + r * a.sin()))
        })
        .collect();
    let mut svg = format!(
        "<svg id=hostgraph xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <defs><marker id=arrow viewBox=\"0 0 10 10\" refX=\"18\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto\">\
         <path d=\"M0,0L10,5L0,10z\" fill=\"#555\"/></marker></defs>"
    );
    for (a, b) in edges {
        let ((x1, y1), (x2, y2)) = (pos[a], pos[b]);
        let _ = write!(svg, "<line x1=\"{x1:.0}\" y1=\"{y1:.0}\" x2=\"{x2:.0}\" y2=\"{y2:.0}\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>");
    }
    for (ip, (x, y)) in &pos {
        let fill = if attackers.contains(ip) { "#c0392b" } else { "#2c7fb8" };
        let _ = write!(
            svg,
            "<circle cx=\"{x:.0}\" cy=\"{y:.0}\" r=\"9\" fill=\"{fill}\"/><text x=\"{:.0}\" y=\"{:.0}\" font-size=\"12\">{}</text>",
            x + 12.0,
            y + 4.0,
            esc(ip)
        );
    }
    svg.push_str("</svg>");
    svg
}

async fn campaign_page(State(state): State<AppState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    let Some(s) = session(&state, &headers) else { return Redirect::to("/ui/login").into_response() };
    let org = s.principal.org.clone();
    let loaded = state
        .with(move |store| {
            let access = store.access(&org)?;
            let (c, owner) = visible_campaign(store, &access, &name)?;
            let findings = visible_findings(store, &access, &c, owner.as_deref())?;
            let audit = campaign_audit(store, &c)?;
            Ok((c, owner, findings, audit))
        })
        .await;
    let (c, owner, findings, audit) = match loaded {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let mut body = format!(
        "<h2 id=campaign>{}</h2><p>TLP:{} · owner {} · {}</p>",
        esc(&c.name),
        c.tlp.as_str().to_uppercase(),
        esc(owner.as_deref().unwrap_or("-")),
        esc(c.description.as_deref().unwrap_or(""))
    );
    // The timeline: findings and audit events together, oldest first.
    let mut timeline: Vec<(String, String, String)> = findings
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
    timeline.extend(audit.iter().map(|e| {
        (
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            format!("audit · {}", e.verb),
            format!("{} by {}", e.object, e.actor),
        )
    }));
    timeline.sort();
    body.push_str("<h3>Timeline</h3><table id=timeline><tr><th>when<th>what<th>detail</tr>");
    for (at, what, detail) in &timeline {
        let _ = write!(body, "<tr><td>{}<td>{}<td>{}</tr>", esc(at), esc(what), esc(detail));
    }
    body.push_str("</table><h3>Hosts (attacker → victim, from captures)</h3>");
    let edges = host_edges(&findings);
    if edges.is_empty() {
        body.push_str("<p>No capture findings in this campaign.</p>");
    } else {
        body.push_str(&host_graph_svg(&edges));
    }
    body.push_str("<h3>Audit trail</h3><table id=audit><tr><th>#<th>when<th>who<th>verb<th>object<th>hash</tr>");
    for e in &audit {
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
