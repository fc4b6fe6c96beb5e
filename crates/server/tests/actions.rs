//! Actions over REST and the dashboard's Approve button: roles, the owner rule, the
//! two-person rule as the CLI enforces it, run and undo with the server's connectors.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use takedown_model::{Action, ActionKind, ActionState, Campaign, Subject, Tlp};
use takedown_server::{app, ActConfig, AppState};
use takedown_store::{Role, Store};
use tower::ServiceExt;

struct World {
    state: AppState,
    tokens: std::collections::BTreeMap<&'static str, String>,
    ids: std::collections::BTreeMap<&'static str, String>,
}

fn action(id: &str, kind: ActionKind, target: Subject) -> Action {
    Action {
        id: id.into(),
        campaign: "zinc".into(),
        kind,
        target,
        state: ActionState::Proposed,
        proposed_by: "alice".into(),
        approved_by: None,
        reason: "test".into(),
        findings: vec![],
        created: chrono::Utc::now(),
        updated: chrono::Utc::now(),
    }
}

/// Campaign zinc (AMBER) is msft's and shared with fb; alice (msft) proposed its
/// actions. `outbox` gives the server a place for notices and account changes.
fn world(outbox: Option<std::path::PathBuf>) -> World {
    world_with(outbox, Vec::new())
}

/// The same, with `findings` filed under zinc by alice.
fn world_with(outbox: Option<std::path::PathBuf>, findings: Vec<takedown_model::Finding>) -> World {
    world_prepared(outbox, findings, |_, _| {})
}

/// The same, with `prepare` run on the store (given the action ids) before the server
/// takes it.
fn world_prepared(
    outbox: Option<std::path::PathBuf>,
    findings: Vec<takedown_model::Finding>,
    prepare: impl FnOnce(&Store, &std::collections::BTreeMap<&'static str, String>),
) -> World {
    let store = Store::open_in_memory().unwrap();
    for org in ["msft", "fb", "other"] {
        store.add_org(org, Tlp::Amber, "t").unwrap();
    }
    let c = Campaign {
        id: "grouping--22222222-0000-4000-8000-000000000000".into(),
        name: "zinc".into(),
        actor: None,
        description: None,
        tlp: Tlp::Amber,
        created: chrono::Utc::now(),
    };
    store.create_campaign(&c, "t").unwrap();
    store.set_campaign_owner("zinc", "msft", "t").unwrap();
    store.share_campaign("zinc", "fb", "t").unwrap();
    let mut ids = std::collections::BTreeMap::new();
    let actions = [
        ("disable", ActionKind::DisableAccount, Subject::Account { platform: None, id: "fake-1".into() }),
        ("notify", ActionKind::Notify, Subject::Person { id: "p1".into(), email: Some("p1@example.org".into()) }),
        ("block", ActionKind::Block, Subject::Endpoint { ip: "203.0.113.7".into(), port: None }),
        (
            "quarantine",
            ActionKind::Quarantine,
            Subject::File { host: Some("ws1".into()), path: "/x".into(), sha256: None },
        ),
    ];
    let list: Vec<Action> = actions
        .into_iter()
        .enumerate()
        .map(|(i, (name, kind, target))| {
            let id = format!("course-of-action--00000000-0000-4000-8000-{i:012}");
            ids.insert(name, id.clone());
            action(&id, kind, target)
        })
        .collect();
    store.propose_actions("zinc", &list, "alice").unwrap();
    store.record_findings("zinc", &findings, "alice").unwrap();
    let mut tokens = std::collections::BTreeMap::new();
    tokens.insert("alice", store.create_token("msft", "alice", Role::Approver, "t").unwrap());
    tokens.insert("bob", store.create_token("msft", "bob", Role::Approver, "t").unwrap());
    tokens.insert("ana", store.create_token("msft", "ana", Role::Analyst, "t").unwrap());
    tokens.insert("fb", store.create_token("fb", "fbadmin", Role::Admin, "t").unwrap());
    tokens.insert("other", store.create_token("other", "o", Role::Admin, "t").unwrap());
    prepare(&store, &ids);
    let act = ActConfig { outbox, ..ActConfig::default() };
    World { state: AppState::new(store).with_act(act), tokens, ids }
}

/// The same, where bob approved the block and a run took it, then died before
/// recording the outcome: the block is left running.
fn world_with_block_left_running() -> World {
    world_prepared(None, Vec::new(), |store, ids| {
        for to in [ActionState::Approved, ActionState::Running] {
            let t = takedown_store::Transition {
                to,
                who: "bob",
                approver: (to == ActionState::Approved).then_some("bob"),
                result: None,
                detail: serde_json::json!({}),
            };
            store.move_action(&ids["block"], t).unwrap();
        }
    })
}

async fn send(w: &World, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn post(w: &World, who: &str, action: &str, verb: &str) -> (StatusCode, Value) {
    let req = Request::post(format!("/api/v1/campaigns/zinc/actions/{}/{verb}", w.ids[action]))
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens[who]))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(w, req).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn audit(w: &World) -> Vec<(String, String, String)> {
    let req = Request::get("/api/v1/campaigns/zinc/audit")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["bob"]))
        .body(Body::empty())
        .unwrap();
    let (_, _, body) = send(w, req).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("actor"), s("verb"), s("object"))
        })
        .collect()
}

#[tokio::test]
async fn approve_follows_roles_ownership_and_the_two_person_rule() {
    let w = world(None);
    let disable = w.ids["disable"].clone();
    assert_eq!(post(&w, "ana", "disable", "approve").await.0, StatusCode::FORBIDDEN, "an analyst");
    let (status, body) = post(&w, "fb", "disable", "approve").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the sharing group sees, only the owner acts");
    assert!(body["title"].as_str().unwrap().contains("owns"), "{body}");
    assert_eq!(post(&w, "other", "disable", "approve").await.0, StatusCode::NOT_FOUND, "cannot see the campaign");
    let req = Request::post(format!("/api/v1/campaigns/zinc/actions/{disable}/approve")).body(Body::empty()).unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::UNAUTHORIZED);
    // A prefix is not enough over REST, nor an action of another campaign.
    let req = Request::post(format!("/api/v1/campaigns/zinc/actions/{}/approve", &disable[..30]))
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["bob"]))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&w, req).await.0, StatusCode::NOT_FOUND);

    // The proposer may not approve a destructive action; a non-destructive one, yes.
    let (status, body) = post(&w, "alice", "disable", "approve").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["title"].as_str().unwrap().contains("two-person rule"), "{body}");
    assert_eq!(post(&w, "alice", "notify", "approve").await.0, StatusCode::OK);
    let (status, body) = post(&w, "bob", "disable", "approve").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["action"]["state"].as_str(), body["action"]["approved_by"].as_str()),
        (Some("approved"), Some("bob"))
    );
    assert_eq!(post(&w, "bob", "disable", "approve").await.0, StatusCode::CONFLICT, "already approved");
    let events = audit(&w).await;
    assert!(events.contains(&("bob".into(), "action.approved".into(), disable.clone())), "{events:?}");
    // The refused attempt changed nothing: one approval of it in the trail.
    assert_eq!(events.iter().filter(|e| e.1 == "action.approved" && e.2 == disable).count(), 1);
}

#[tokio::test]
async fn the_openapi_document_has_the_action_routes_and_their_answers() {
    let w = world(None);
    let (status, _, body) = send(&w, Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&body).unwrap();
    for verb in ["approve", "run", "undo"] {
        let op = &doc["paths"][format!("/api/v1/campaigns/{{name}}/actions/{{id}}/{verb}")]["post"];
        for code in ["200", "401", "403", "404", "409", "501"] {
            assert!(op["responses"][code].is_object(), "{verb} documents {code}");
        }
    }
}

#[tokio::test]
async fn run_and_undo_use_only_connectors_safe_on_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let w = world(None);
    for a in ["disable", "notify", "block", "quarantine"] {
        assert_eq!(post(&w, "bob", a, "approve").await.0, StatusCode::OK, "{a}");
    }
    // Without an outbox: notices and accounts are left to the CLI, with the reason.
    let (status, body) = post(&w, "bob", "notify", "run").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(body["title"].as_str().unwrap().contains("--outbox"), "{body}");
    let (status, body) = post(&w, "bob", "quarantine", "run").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(body["title"].as_str().unwrap().contains("takedown run"), "{body}");
    assert_eq!(post(&w, "ana", "block", "run").await.0, StatusCode::FORBIDDEN);
    let (status, body) = post(&w, "bob", "block", "run").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["outcome"]["state"], "done");
    assert_eq!(post(&w, "bob", "block", "run").await.0, StatusCode::CONFLICT, "runs once");

    // The same store with an outbox.
    let w = World {
        state: w.state.clone().with_act(ActConfig { outbox: Some(outbox.clone()), ..ActConfig::default() }),
        ..w
    };
    let (status, body) = post(&w, "bob", "notify", "run").await;
    assert_eq!((status, body["outcome"]["state"].as_str()), (StatusCode::OK, Some("verified")), "{body}");
    let emls: Vec<_> = std::fs::read_dir(&outbox).unwrap().filter_map(|e| e.ok()).collect();
    assert!(emls.iter().any(|e| e.path().extension().is_some_and(|x| x == "eml")), "a notice was written");
    let (status, body) = post(&w, "bob", "disable", "run").await;
    assert_eq!((status, body["outcome"]["state"].as_str()), (StatusCode::OK, Some("verified")), "{body}");
    let log = std::fs::read_to_string(outbox.join("accounts-dry-run.jsonl")).unwrap();
    assert!(log.contains("PATCH /Users/fake-1") && log.contains("false"), "{log}");
    let (status, body) = post(&w, "bob", "disable", "undo").await;
    assert_eq!((status, body["outcome"]["state"].as_str()), (StatusCode::OK, Some("undone")), "{body}");
    assert_eq!(post(&w, "bob", "notify", "undo").await.0, StatusCode::CONFLICT, "a sent notice stays sent");
    let verbs: Vec<String> = audit(&w).await.into_iter().filter(|e| e.0 == "bob").map(|e| e.1).collect();
    assert!(verbs.contains(&"action.running".into()) && verbs.contains(&"action.undone".into()), "{verbs:?}");
}

/// Logs in through the form; the session cookie.
async fn login(w: &World, who: &str) -> String {
    let response = app(w.state.clone()).oneshot(Request::get("/ui/login").body(Body::empty()).unwrap()).await.unwrap();
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    let csrf_cookie = set.split(';').next().unwrap().to_string();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_string();
    let req = Request::post("/ui/login")
        .header(header::COOKIE, &csrf_cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={}&csrf={csrf}", w.tokens[who])))
        .unwrap();
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    response.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
}

async fn page(w: &World, cookie: &str) -> String {
    let req = Request::get("/ui/campaigns/zinc").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let (status, _, html) = send(w, req).await;
    assert_eq!(status, StatusCode::OK);
    html
}

fn form_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn the_dashboard_abandons_an_action_left_running_with_a_reason() {
    let w = world_with_block_left_running();
    let block = w.ids["block"].clone();
    let ana = login(&w, "ana").await;
    assert!(!page(&w, &ana).await.contains("class=\"abandon\""), "an analyst has no form");
    let bob = login(&w, "bob").await;
    let html = page(&w, &bob).await;
    assert!(html.contains(&format!("class=\"abandon\" data-action=\"{block}\"")), "{html}");
    let csrf = form_csrf(&html);
    let abandon = |body: String| {
        Request::post(format!("/ui/campaigns/zinc/actions/{block}/abandon"))
            .header(header::COOKIE, &bob)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(send(&w, abandon("csrf=forged&reason=x".into())).await.0, StatusCode::FORBIDDEN);
    // No reason: nothing changes, and the page says why.
    assert_eq!(send(&w, abandon(format!("csrf={csrf}&reason=+"))).await.0, StatusCode::SEE_OTHER);
    let html = page(&w, &bob).await;
    assert!(html.contains("id=\"flash\">not abandoned: say why"), "{html}");
    assert!(html.contains("class=\"abandon\""), "still running: {html}");

    let (status, _, _) = send(&w, abandon(format!("csrf={csrf}&reason=run+killed+at+14%3A02"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let html = page(&w, &bob).await;
    assert!(html.contains("id=\"flash\">abandoned: block"), "{html}");
    assert!(!html.contains("class=\"abandon\""), "{html}");
    let failed: Vec<_> = audit(&w).await.into_iter().filter(|e| e.1 == "action.failed").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "bob");
}

#[tokio::test]
async fn the_dashboard_approves_with_the_sessions_csrf_token_only() {
    let w = world(None);
    let disable = w.ids["disable"].clone();
    // The proposer sees the two-person rule where the button would be.
    let alice = login(&w, "alice").await;
    let html = page(&w, &alice).await;
    assert!(html.contains("id=\"action-queue\"") && html.contains("two-person rule"), "{html}");
    assert!(!html.contains(&format!("data-action=\"{disable}\"")));
    // An analyst sees the queue without buttons.
    let ana = login(&w, "ana").await;
    let html = page(&w, &ana).await;
    assert!(html.contains("may not approve") && !html.contains("class=\"approve\""));

    let bob = login(&w, "bob").await;
    let list = Request::get("/ui/").header(header::COOKIE, &bob).body(Body::empty()).unwrap();
    assert!(send(&w, list).await.2.contains("<td>4 action(s)</td></tr>"), "the list counts what waits");
    let html = page(&w, &bob).await;
    assert!(html.contains(&format!("data-action=\"{disable}\"")));
    let csrf = form_csrf(&html);
    let approve = |body: String| {
        Request::post(format!("/ui/campaigns/zinc/actions/{disable}/approve"))
            .header(header::COOKIE, &bob)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap()
    };
    assert_eq!(send(&w, approve(String::new())).await.0, StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(send(&w, approve("csrf=forged".into())).await.0, StatusCode::FORBIDDEN, "a forged one");
    // Another session's token is not this one's.
    let alice_csrf = form_csrf(&page(&w, &alice).await);
    assert_eq!(send(&w, approve(format!("csrf={alice_csrf}"))).await.0, StatusCode::FORBIDDEN);
    let still: Vec<_> = audit(&w).await.into_iter().filter(|e| e.1 == "action.approved").collect();
    assert!(still.is_empty(), "nothing approved by refused forms: {still:?}");

    let (status, headers, _) = send(&w, approve(format!("csrf={csrf}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[header::LOCATION].to_str().unwrap().starts_with("/ui/campaigns/zinc"));
    let html = page(&w, &bob).await;
    assert!(html.contains("id=\"flash\">approved: disable-account"), "{html}");
    assert!(html.contains("<td>bob</td><td>action.approved"), "the audit trail shows it");
    // The message is shown once.
    assert!(!page(&w, &bob).await.contains("id=\"flash\""));
}

#[tokio::test]
async fn the_campaign_page_draws_the_account_cluster_and_lists_notices_sent() {
    let dir = tempfile::tempdir().unwrap();
    let graph = |seeds: &[&str]| {
        let signals = [("rank".to_string(), 101.0), ("score".to_string(), 0.87)].into_iter().collect();
        vec![takedown_model::Evidence::Graph { signals, seeds: seeds.iter().map(|s| s.to_string()).collect() }]
    };
    let finding = |n: u32, subject: Subject, detector: &str, evidence| takedown_model::Finding {
        id: format!("sighting--00000000-0000-4000-8000-{n:012}"),
        campaign: None,
        subject,
        indicator: None,
        detector: detector.into(),
        summary: format!("seen by {detector}"),
        evidence,
        observed_at: chrono::Utc::now(),
        tlp: None,
    };
    let findings = vec![
        finding(
            1,
            Subject::Account { platform: None, id: "acct-7652".into() },
            "accounts.rank.triad",
            graph(&["seed-7560"]),
        ),
        finding(
            2,
            Subject::Person { id: "person-4039".into(), email: None },
            "accounts.exposure",
            graph(&["seed-7560"]),
        ),
    ];
    let w = world_with(Some(dir.path().join("outbox")), findings);
    let bob = login(&w, "bob").await;
    let html = page(&w, &bob).await;
    assert!(html.contains("<svg id=\"accountgraph\""), "the cluster is drawn");
    for id in ["acct-7652", "seed-7560", "person-4039"] {
        assert!(html.contains(id), "{id} is in the picture");
    }
    assert!(html.contains("1 known fake(s), 1 ranked account(s), 1 person(s) reached"));
    // The notify action, before and after the server's outbox sent it.
    assert!(html.contains("<td>p1</td><td>p1@example.org") && html.contains("not sent"));
    assert_eq!(post(&w, "bob", "notify", "approve").await.0, StatusCode::OK);
    assert_eq!(post(&w, "bob", "notify", "run").await.0, StatusCode::OK);
    let html = page(&w, &bob).await;
    let row = html.split("<td>p1</td><td>p1@example.org").nth(1).unwrap().split("</tr>").next().unwrap();
    assert!(row.contains("verified") && row.contains("<td>sent</td><td>1"), "{row}");
    // The notice's own events are in the campaign's trail and timeline.
    assert!(html.contains("audit · notice.sent"), "timeline");
    assert!(audit(&w).await.iter().any(|e| e.1 == "notice.sent"), "REST audit");
}

#[tokio::test]
async fn an_action_left_running_is_abandoned_with_a_reason_then_approved_again() {
    let w = world_with_block_left_running();
    let abandon = |who: &str, action: &str, body: &str| {
        Request::post(format!("/api/v1/campaigns/zinc/actions/{}/abandon", w.ids[action]))
            .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens[who]))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let reason = r#"{"reason": "run killed at 14:02"}"#;
    // An analyst may not, nor a partner's admin; the reason is required.
    assert_eq!(send(&w, abandon("ana", "block", reason)).await.0, StatusCode::FORBIDDEN);
    assert_eq!(send(&w, abandon("fb", "block", reason)).await.0, StatusCode::FORBIDDEN);
    for body in ["", "{}", r#"{"reason": "  "}"#, "not json"] {
        let (status, _, text) = send(&w, abandon("bob", "block", body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {text}");
    }
    // Only a running action can be abandoned.
    assert_eq!(send(&w, abandon("bob", "notify", reason)).await.0, StatusCode::CONFLICT);

    let (status, _, text) = send(&w, abandon("bob", "block", reason)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["outcome"]["state"], "failed", "{v}");
    assert!(v["outcome"]["detail"].as_str().unwrap().contains("abandoned: run killed at 14:02"), "{v}");
    assert_eq!(send(&w, abandon("bob", "block", reason)).await.0, StatusCode::CONFLICT);
    let failed: Vec<_> = audit(&w).await.into_iter().filter(|(_, verb, _)| verb == "action.failed").collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "bob", "{failed:?}");

    // Approved again, it runs to the end.
    assert_eq!(post(&w, "bob", "block", "approve").await.0, StatusCode::OK);
    let (status, v) = post(&w, "bob", "block", "run").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["outcome"]["state"], "done", "{v}");
}
