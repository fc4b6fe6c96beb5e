//! Every dashboard page and picture, through the router, with names that try to
//! break out of the markup: file paths, account ids, campaign and organisation names,
//! users, detectors and summaries, action ids, targets and reasons, notice recipients.
//! Whatever they hold comes out as text: no element or attribute of theirs, the
//! document's elements nest as written, and their escaped forms are where they belong.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use std::collections::BTreeMap;
use takedown_model::{Action, ActionKind, ActionState, Campaign, Evidence, Finding, Subject, Tlp};
use takedown_server::{app, AppState};
use takedown_store::{Role, Store, Transition};
use tower::ServiceExt;

/// An element with a handler, a way out of a double- and a single-quoted attribute
/// into a script, an entity that must stay as written, a second line, and the end of
/// the pictures.
const HOSTILE: &str = "<img src=x onerror=alert(1)>\"'><script>alert(2)</script>&amp;\nnext line</svg>";

/// `what`, made hostile: each name is told apart by what it starts with.
fn h(what: &str) -> String {
    format!("{what}{HOSTILE}")
}

/// Text as the pages must show it.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A URL path segment (a test's own, to reach the campaign page).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

struct World {
    state: AppState,
    /// bob, an approver of the owner organisation.
    token: String,
    /// The actions' ids by kind.
    ids: BTreeMap<&'static str, String>,
}

fn finding(n: u32, subject: Subject, detector: &str, evidence: Evidence) -> Finding {
    Finding {
        id: format!("sighting--00000000-0000-4000-8000-{n:012}"),
        campaign: None,
        subject,
        indicator: None,
        detector: detector.into(),
        summary: h(&format!("summary-{n}")),
        evidence: vec![evidence],
        observed_at: chrono::Utc::now(),
        tlp: None,
    }
}

/// A campaign of the organisation `h("org")` where every name shown is hostile:
/// findings of a sweep, a capture and the account ranking, four actions proposed by
/// `h("alice")` (the block left running), and notices with and without an action.
fn world() -> World {
    let store = Store::open_in_memory().unwrap();
    let org = h("org");
    store.add_org(&org, Tlp::Amber, "t").unwrap();
    let name = h("campaign");
    let c = Campaign {
        id: "grouping--33333333-0000-4000-8000-000000000000".into(),
        name: name.clone(),
        actor: Some(h("actor")),
        description: Some(h("description")),
        tlp: Tlp::Amber,
        created: chrono::Utc::now(),
    };
    store.create_campaign(&c, &h("creator")).unwrap();
    store.set_campaign_owner(&name, &org, "t").unwrap();

    let graph = |seeds: Vec<String>| {
        let signals = [("rank".to_string(), 3.0), ("score".to_string(), 0.5)].into_iter().collect();
        Evidence::Graph { signals, seeds }
    };
    let packets = Evidence::Packets {
        file: h("capture"),
        numbers: vec![1],
        fields: [("role".to_string(), "attacker".to_string()), ("peer".to_string(), h("peer"))].into_iter().collect(),
    };
    let findings = vec![
        finding(
            1,
            Subject::File { host: Some(h("host")), path: h("/path"), sha256: None },
            &h("sweep.detector"),
            Evidence::Note { text: h("note") },
        ),
        finding(2, Subject::Endpoint { ip: h("ip"), port: None }, "net.smb1", packets),
        finding(
            3,
            Subject::Account { platform: None, id: h("acct") },
            "accounts.rank.sybilrank",
            graph(vec![h("seed")]),
        ),
        finding(
            4,
            Subject::Person { id: h("person"), email: None },
            "accounts.exposure",
            graph(vec![h("acct"), h("seed")]),
        ),
    ];
    store.record_findings(&name, &findings, &h("auditor")).unwrap();

    let actions = [
        ("quarantine", ActionKind::Quarantine, Subject::File { host: Some(h("host")), path: h("/path"), sha256: None }),
        ("disable", ActionKind::DisableAccount, Subject::Account { platform: None, id: h("acct") }),
        ("notify", ActionKind::Notify, Subject::Person { id: h("person"), email: Some(h("mail")) }),
        ("block", ActionKind::Block, Subject::Endpoint { ip: h("ip"), port: None }),
    ];
    let mut ids = BTreeMap::new();
    let list: Vec<Action> = actions
        .into_iter()
        .map(|(kind_name, kind, target)| {
            let id = h(&format!("course-of-action--{kind_name}/?#%"));
            ids.insert(kind_name, id.clone());
            Action {
                id,
                campaign: name.clone(),
                kind,
                target,
                state: ActionState::Proposed,
                proposed_by: h("alice"),
                approved_by: None,
                reason: h("reason"),
                findings: vec![],
                created: chrono::Utc::now(),
                updated: chrono::Utc::now(),
            }
        })
        .collect();
    store.propose_actions(&name, &list, &h("alice")).unwrap();
    // The block was approved and a run took it, then died: the Abandon form shows.
    for to in [ActionState::Approved, ActionState::Running] {
        let who = h("runner");
        let approver = (to == ActionState::Approved).then_some(who.as_str());
        let t = Transition { to, who: &who, approver, result: None, detail: serde_json::json!({}) };
        store.move_action(&ids["block"], t).unwrap();
    }
    // The notify action's notice, answered; and one sent outside any action.
    let notice = store.claim_notice(&name, &h("person"), &h("mail"), Some(&ids["notify"]), &h("sender")).unwrap();
    store.record_delivery(&notice.idempotency_key, false, &h("answer"), None, false, &h("sender")).unwrap();
    let other = store.claim_notice(&name, &h("other-person"), &h("other-mail"), None, &h("sender")).unwrap();
    store.record_delivery(&other.idempotency_key, true, "ok", Some(&h("message-id")), false, &h("sender")).unwrap();

    let token = store.create_token(&org, &h("bob"), Role::Approver, "t").unwrap();
    World { state: AppState::new(store), token, ids }
}

async fn send(w: &World, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap()
}

fn post_form(path: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// The log-in form's CSRF cookie and token.
async fn login_form(w: &World) -> (String, String, String) {
    let (status, headers, html) = send(w, Request::get("/ui/login").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
    let csrf = cookie.split_once('=').unwrap().1.to_string();
    (cookie, csrf, html)
}

/// Logs in with `token`: the answer.
async fn login(w: &World, token: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    let (cookie, csrf, _) = login_form(w).await;
    send(w, post_form("/ui/login", &cookie, format!("token={token}&csrf={csrf}"))).await
}

/// The elements the dashboard writes; the void ones have no end tag.
const ELEMENTS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "a", "span", "code", "label", "form",
    "input", "button", "table", "tr", "th", "td", "details", "summary", "svg", "defs", "marker", "path", "line",
    "circle", "text", "g",
];
const VOID: &[&str] = &["meta", "input"];

/// Reads `html` tag by tag: only the dashboard's own elements, each attribute a plain
/// name (none an event handler) with a double-quoted value free of `<` and `>`, no
/// `>` or `"` in text, and every element ended in the order it was started.
fn well_formed(html: &str, page: &str) {
    let mut rest = html.strip_prefix("<!DOCTYPE html>").unwrap_or_else(|| panic!("{page}: no doctype"));
    let mut open: Vec<&str> = Vec::new();
    while let Some(at) = rest.find('<') {
        let text = &rest[..at];
        assert!(!text.contains('>') && !text.contains('"'), "{page}: raw > or \" in text {text:?}");
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('/') {
            let end = after.find('>').unwrap();
            let name = &after[..end];
            assert_eq!(open.pop(), Some(name), "{page}: </{name}> ends an element it did not start; open: {open:?}");
            rest = &after[end + 1..];
            continue;
        }
        let end = rest.find([' ', '>']).unwrap();
        let name = &rest[..end];
        assert!(ELEMENTS.contains(&name), "{page}: <{name}> is no element of the dashboard's");
        rest = &rest[end..];
        while let Some(attribute) = rest.strip_prefix(' ') {
            let end = attribute.find(['=', ' ', '>']).unwrap();
            let key = &attribute[..end];
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                "{page}: attribute {key:?} of <{name}>"
            );
            assert!(!key.to_ascii_lowercase().starts_with("on"), "{page}: an event handler {key} on <{name}>");
            rest = &attribute[end..];
            if let Some(value) = rest.strip_prefix("=\"") {
                let end = value.find('"').unwrap();
                assert!(!value[..end].contains(['<', '>']), "{page}: {key}={:?} of <{name}>", &value[..end]);
                rest = &value[end + 1..];
            }
        }
        rest = rest.strip_prefix('>').unwrap_or_else(|| panic!("{page}: <{name}> does not end where it should"));
        if name == "style" {
            // The style sheet is the server's own text, and ends only at its end tag.
            let end = rest.find("</style>").unwrap();
            assert!(!rest[..end].contains('<'), "{page}: markup in the style sheet");
            rest = &rest[end..];
        }
        if !VOID.contains(&name) {
            open.push(name);
        }
    }
    assert!(!rest.contains(['>', '"']), "{page}: raw > or \" in the closing text {rest:?}");
    assert!(open.is_empty(), "{page}: never ended: {open:?}");
}

/// No element of the data's, and its handler only inside escaped text.
fn nothing_unescaped(html: &str, page: &str) {
    well_formed(html, page);
    for raw in ["<img", "<script", "<IMG", "<Script"] {
        assert!(!html.contains(raw), "{page}: {raw} unescaped");
    }
    assert_eq!(
        html.matches("onerror=").count(),
        html.matches("&lt;img src=x onerror=").count(),
        "{page}: onerror= outside the escaped text"
    );
}

/// Each of `names` shown on `page`, escaped, in `part`.
fn shows(part: &str, page: &str, names: &[&str]) {
    for name in names {
        let want = escaped(&h(name));
        assert!(part.contains(&want), "{page}: {name} is not shown escaped ({want:?})");
    }
    // The entity in the data stays as written, and the data's </svg> is text.
    assert!(part.contains("&amp;amp;") && part.contains("&lt;/svg&gt;"), "{page}");
    assert!(part.contains("&lt;img src=x onerror=alert(1)&gt;&quot;'&gt;&lt;script&gt;"), "{page}");
}

/// The picture `id` of the page, from its start tag to its end tag.
fn picture<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<svg id=\"{id}\"")).unwrap_or_else(|| panic!("no picture {id}"));
    let end = start + html[start..].find("</svg>").unwrap() + "</svg>".len();
    &html[start..end]
}

#[tokio::test]
async fn every_page_and_picture_shows_hostile_names_as_text() {
    let w = world();
    let name = h("campaign");
    let page_path = format!("/ui/campaigns/{}", segment(&name));

    // Log-in pages: the form, a forged form, an unknown token.
    let (cookie, _, html) = login_form(&w).await;
    nothing_unescaped(&html, "log-in form");
    assert!(html.contains("id=\"token\"") && html.contains("id=\"login\""), "{html}");
    let (status, _, html) = send(&w, post_form("/ui/login", &cookie, "token=x&csrf=forged".into())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    nothing_unescaped(&html, "expired log-in form");
    let (status, _, html) = login(&w, "tdk_unknown").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    nothing_unescaped(&html, "unknown token");

    let (status, headers, _) = login(&w, &w.token).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let bob = headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();

    // The campaign list: the name, its link and the owner.
    let (status, _, html) = send(&w, get("/ui/", &bob)).await;
    assert_eq!(status, StatusCode::OK);
    nothing_unescaped(&html, "campaign list");
    shows(&html, "campaign list", &["campaign", "org", "bob"]);
    assert!(html.contains(&format!("href=\"{page_path}\"")), "the link is the encoded name: {html}");

    // The campaign page: queue, notices, both pictures, timeline and audit trail.
    let (status, _, html) = send(&w, get(&page_path, &bob)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    nothing_unescaped(&html, "campaign page");
    shows(
        &html,
        "campaign page",
        &[
            "campaign",
            "description",
            "org",
            "bob",
            "host",
            "/path",
            "acct",
            "person",
            "mail",
            "ip",
            "alice",
            "reason",
            "runner",
            "other-person",
            "other-mail",
            "message-id",
            "answer",
            "summary-1",
            "sweep.detector",
            "auditor",
            "creator",
        ],
    );
    for id in w.ids.values() {
        let id = escaped(id);
        assert!(html.contains(&format!("<tr id=\"{id}\">")), "the action's row: {id}");
    }
    assert_eq!(html.matches("<svg").count(), 2, "two pictures");
    assert_eq!(html.matches("</svg>").count(), 2, "two pictures, each ended once");
    let accounts = picture(&html, "accountgraph");
    shows(accounts, "account picture", &["acct", "seed", "person"]);
    let hosts = picture(&html, "hostgraph");
    shows(hosts, "host picture", &["ip", "peer"]);
    // The running block can be abandoned, the quarantine approved.
    let block = escaped(&w.ids["block"]);
    assert!(html.contains(&format!("class=\"abandon\" data-action=\"{block}\"")), "{html}");
    let quarantine = escaped(&w.ids["quarantine"]);
    let button = html.find(&format!("data-action=\"{quarantine}\" data-kind=\"quarantine\"")).unwrap();
    let form =
        html[..button].rfind("<form method=\"post\" action=\"").unwrap() + "<form method=\"post\" action=\"".len();
    let target = html[form..].split('"').next().unwrap().to_string();
    assert_eq!(target, format!("{page_path}/actions/{}/approve", segment(&w.ids["quarantine"])));
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // A forged form is refused on a page of its own.
    let (status, _, html) = send(&w, post_form(&target, &bob, "csrf=forged".into())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    nothing_unescaped(&html, "refused form");
    shows(&html, "refused form", &["org", "bob"]);

    // The form's own target approves the action its name and id name; the message
    // after it holds the target.
    let (status, headers, _) = send(&w, post_form(&target, &bob, format!("csrf={csrf}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], page_path.as_str());
    let (_, _, html) = send(&w, get(&page_path, &bob)).await;
    nothing_unescaped(&html, "campaign page after approving");
    let flash = html.split("id=\"flash\">").nth(1).unwrap().split("</p>").next().unwrap();
    assert!(flash.starts_with("approved: quarantine file:"), "{flash}");
    shows(flash, "message", &["host", "/path"]);

    // Too many log-ins: the 429 page.
    let mut answers = Vec::new();
    for _ in 0..10 {
        let (status, _, html) = login(&w, &w.token).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            nothing_unescaped(&html, "slow down");
            answers.push(status);
            break;
        }
    }
    assert_eq!(answers, [StatusCode::TOO_MANY_REQUESTS], "log-ins were never slowed down");
}

/// The checks themselves catch what they are for.
#[test]
fn the_checks_catch_an_element_a_handler_and_a_broken_nesting() {
    let page = |body: &str| format!("<!DOCTYPE html><html><body>{body}</body></html>");
    well_formed(&page("<p class=\"a\">x &lt;img&gt;</p>"), "fine");
    for bad in [
        "<img src=x onerror=alert(1)>",
        "<p title=\"\"><script>\">x</p>",
        "<p>x</svg></p>",
        "<p onclick=\"x\">x</p>",
        "<p>x\"y</p>",
        "<svg><line></svg>",
    ] {
        let html = page(bad);
        let caught = std::panic::catch_unwind(|| nothing_unescaped(&html, "bad"));
        assert!(caught.is_err(), "not caught: {bad}");
    }
}
