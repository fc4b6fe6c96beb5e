//! The server through its router (`oneshot`): TLP 2.0 on every read path, TAXII 2.1
//! behaviour (auth, media types, filters, paging, adding objects), REST.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::Engine as _;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use takedown_model::{Campaign, Evidence, Finding, Subject, Tlp};
use takedown_server::{app, AppState};
use takedown_store::{ImportBatch, Role, StixRow, Store};
use tower::ServiceExt;

const TAXII: &str = "application/taxii+json;version=2.1";
const COLLECTION: &str = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01";

fn level_uuid(level: Tlp, n: u32) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", Tlp::ALL.iter().position(|l| *l == level).unwrap() + 1, n)
}

fn object(id: &str, tlp: Option<Tlp>, modified: &str) -> StixRow {
    let mut json = json!({
        "type": "malware", "spec_version": "2.1", "id": id, "created": "2017-05-12T00:00:00.000Z",
        "modified": modified, "name": id, "is_family": true,
    });
    if let Some(t) = tlp {
        json["object_marking_refs"] = json!([t.marking_id()]);
    }
    StixRow {
        id: id.into(),
        type_: "malware".into(),
        modified: chrono::DateTime::parse_from_rfc3339(modified)
            .unwrap()
            .to_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        spec_version: "2.1".into(),
        tlp,
        name: Some(id.into()),
        source_ref: None,
        target_ref: None,
        relationship_type: None,
        source: "test".into(),
        json: json.to_string(),
    }
}

struct World {
    state: AppState,
    tokens: std::collections::BTreeMap<&'static str, String>,
}

/// msft owns everything, at every level; fb is in the campaign's sharing group; gov
/// is a named recipient of the RED objects; other is a member and nothing more.
fn world() -> World {
    let mut store = Store::open_in_memory().unwrap();
    for org in ["msft", "fb", "gov", "other"] {
        store.add_org(org, Tlp::Amber, "t").unwrap();
    }
    let mut objects = Vec::new();
    for level in Tlp::ALL {
        objects.push(object(&format!("malware--{}", level_uuid(level, 1)), Some(level), "2017-05-12T00:00:00.000Z"));
    }
    // Unmarked: follows msft's default, AMBER.
    objects.push(object("malware--00000009-0000-4000-8000-000000000001", None, "2017-05-12T00:00:00.000Z"));
    store.import(&ImportBatch { actor: "t".into(), org: Some("msft".into()), files: vec![], objects }).unwrap();
    store.add_recipient(&format!("malware--{}", level_uuid(Tlp::Red, 1)), "gov", "t").unwrap();
    let campaign = Campaign {
        id: "grouping--11111111-0000-4000-8000-000000000000".into(),
        name: "zinc".into(),
        actor: None,
        description: None,
        tlp: Tlp::Green,
        created: chrono::Utc::now(),
    };
    store.create_campaign(&campaign, "t").unwrap();
    store.set_campaign_owner("zinc", "msft", "t").unwrap();
    store.share_campaign("zinc", "fb", "t").unwrap();
    let findings: Vec<Finding> = Tlp::ALL
        .iter()
        .map(|level| Finding {
            id: format!("sighting--{}", level_uuid(*level, 2)),
            campaign: Some("zinc".into()),
            subject: Subject::File { host: Some("ws-01".into()), path: format!("/{}", level.as_str()), sha256: None },
            indicator: None,
            detector: "sweep.hash".into(),
            summary: format!("finding at {} here", level.as_str()),
            evidence: vec![Evidence::Note { text: "test".into() }],
            observed_at: chrono::Utc::now(),
            tlp: Some(*level),
        })
        .collect();
    store.record_findings("zinc", &findings, "t").unwrap();
    store.add_recipient(&format!("sighting--{}", level_uuid(Tlp::Red, 2)), "gov", "t").unwrap();
    let mut tokens = std::collections::BTreeMap::new();
    for org in ["msft", "fb", "gov", "other"] {
        tokens.insert(org, store.create_token(org, "reader", Role::Viewer, "t").unwrap());
    }
    tokens.insert("analyst", store.create_token("msft", "ana", Role::Analyst, "t").unwrap());
    World { state: AppState::new(store), tokens }
}

async fn call(w: &World, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, headers, body)
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, TAXII)
        .body(Body::empty())
        .unwrap()
}

fn levels_in(ids: impl Iterator<Item = String>, kind: &str, n: u32) -> Vec<Tlp> {
    let ids: Vec<String> = ids.collect();
    Tlp::ALL.into_iter().filter(|l| ids.contains(&format!("{kind}--{}", level_uuid(*l, n)))).collect()
}

fn expected(org: &str) -> Vec<Tlp> {
    use Tlp::*;
    match org {
        "msft" => vec![Clear, Green, Amber, AmberStrict, Red],
        "fb" => vec![Clear, Green, Amber],
        "gov" => vec![Clear, Green, Red],
        _ => vec![Clear, Green],
    }
}

fn ids_of(objects: &Value) -> impl Iterator<Item = String> + '_ {
    objects.as_array().into_iter().flatten().filter_map(|o| o["id"].as_str().map(str::to_string))
}

/// Logs in through the dashboard's form, with its CSRF cookie; the session cookie.
async fn login(w: &World, token: &str) -> String {
    let response = app(w.state.clone()).oneshot(Request::get("/ui/login").body(Body::empty()).unwrap()).await.unwrap();
    let set = response.headers()[header::SET_COOKIE].to_str().unwrap().to_string();
    let csrf_cookie = set.split(';').next().unwrap().to_string();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_string();
    let form = |csrf: &str| {
        Request::post("/ui/login")
            .header(header::COOKIE, &csrf_cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={token}&csrf={csrf}")))
            .unwrap()
    };
    // A forged form (wrong CSRF token) is refused.
    assert_eq!(app(w.state.clone()).oneshot(form("forged")).await.unwrap().status(), StatusCode::FORBIDDEN);
    let response = app(w.state.clone()).oneshot(form(&csrf)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    response.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn every_tlp_level_on_every_read_path() {
    let w = world();
    for org in ["msft", "fb", "gov", "other"] {
        let token = &w.tokens[org];
        let want = expected(org);
        let (_, _, taxii) = call(&w, get(&format!("{COLLECTION}/objects/"), token)).await;
        assert_eq!(levels_in(ids_of(&taxii["objects"]), "malware", 1), want, "TAXII objects for {org}");
        let (_, _, manifest) = call(&w, get(&format!("{COLLECTION}/manifest/"), token)).await;
        assert_eq!(levels_in(ids_of(&manifest["objects"]), "malware", 1), want, "TAXII manifest for {org}");
        let (_, _, rest) = call(&w, get("/api/v1/intel", token)).await;
        assert_eq!(levels_in(ids_of(&rest["objects"]), "malware", 1), want, "REST intel for {org}");
        let (_, _, export) = call(&w, get("/api/v1/export", token)).await;
        assert_eq!(levels_in(ids_of(&export["objects"]), "malware", 1), want, "export for {org}");
        for level in Tlp::ALL {
            let id = format!("malware--{}", level_uuid(level, 1));
            let (status, _, _) = call(&w, get(&format!("/api/v1/intel/{id}"), token)).await;
            let (taxii_status, _, _) = call(&w, get(&format!("{COLLECTION}/objects/{id}/"), token)).await;
            let visible = want.contains(&level);
            assert_eq!(status == StatusCode::OK, visible, "REST object {level:?} for {org}");
            assert_eq!(taxii_status == StatusCode::OK, visible, "TAXII object {level:?} for {org}");
        }
        // The unmarked object follows its owner's default (AMBER).
        let unmarked = ids_of(&taxii["objects"]).any(|id| id == "malware--00000009-0000-4000-8000-000000000001");
        assert_eq!(unmarked, org == "msft" || org == "fb", "unmarked for {org}");
        // The dashboard shows the same findings.
        let cookie = login(&w, token).await;
        let req = Request::get("/ui/campaigns/zinc").header(header::COOKIE, &cookie).body(Body::empty()).unwrap();
        let response = app(w.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let html = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        let shown: Vec<Tlp> =
            Tlp::ALL.into_iter().filter(|l| html.contains(&format!("finding at {} ", l.as_str()))).collect();
        assert_eq!(shown, want, "dashboard findings for {org}");
        // The campaign is GREEN: all see it; its findings follow their own levels.
        let (status, _, findings) = call(&w, get("/api/v1/campaigns/zinc/findings", token)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(levels_in(ids_of(&findings["findings"]), "sighting", 2), want, "REST findings for {org}");
    }
}

#[tokio::test]
async fn a_dashboard_session_ends_when_its_token_is_revoked_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let store = Store::open(&db).unwrap();
    store.add_org("msft", Tlp::Amber, "t").unwrap();
    let token = store.create_token("msft", "alice", Role::Approver, "t").unwrap();
    let w = World { state: AppState::new(store), tokens: Default::default() };
    let cookie = login(&w, &token).await;
    let page = |cookie: &str| Request::get("/ui/").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let response = app(w.state.clone()).oneshot(page(&cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // `takedown token revoke` in another process, on the same database.
    assert!(Store::open(&db).unwrap().revoke_token(&token, "admin").unwrap());
    let response = app(w.state.clone()).oneshot(page(&cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/ui/login");
    // The session is gone for good, and the token cannot open another.
    let response = app(w.state.clone()).oneshot(page(&cookie)).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, _, _) = call(&w, get("/api/v1/campaigns", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn taxii_authentication_and_media_types() {
    let w = world();
    let token = &w.tokens["msft"];
    let (status, headers, body) =
        call(&w, Request::get("/taxii2/").header(header::ACCEPT, TAXII).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.contains_key(header::WWW_AUTHENTICATE));
    assert_eq!(body["http_status"], "401");
    let (status, _, _) = call(&w, get("/taxii2/", "tdk_0000")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // HTTP Basic: any user name, the token as password.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("anyone:{token}"));
    let req = Request::get("/taxii2/")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .header(header::ACCEPT, TAXII)
        .body(Body::empty())
        .unwrap();
    let (status, headers, body) = call(&w, req).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], TAXII);
    assert!(body["api_roots"][0].as_str().unwrap().ends_with("/taxii2/root/"));
    // Basic is not taken on REST.
    let req = Request::get("/api/v1/campaigns")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&w, req).await.0, StatusCode::UNAUTHORIZED);
    let req = Request::get("/taxii2/")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&w, req).await.0, StatusCode::NOT_ACCEPTABLE);
    let envelope = json!({ "objects": [] }).to_string();
    let post = |token: &str, content_type: &str| {
        Request::post(format!("{COLLECTION}/objects/"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::ACCEPT, TAXII)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(envelope.clone()))
            .unwrap()
    };
    assert_eq!(call(&w, post(&w.tokens["analyst"], "application/json")).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(call(&w, post(token, TAXII)).await.0, StatusCode::FORBIDDEN, "a viewer may not add");
    assert_eq!(call(&w, post(&w.tokens["analyst"], TAXII)).await.0, StatusCode::ACCEPTED);
    let (status, _, _) = call(&w, get("/taxii2/root/collections/not-a-collection/objects/", token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn taxii_paging_filters_versions_and_adding() {
    let w = world();
    let analyst = &w.tokens["analyst"];
    // Three adds, three versions of one object and ten new ones.
    let id = "indicator--aaaaaaaa-0000-4000-8000-000000000001";
    let mut status_ids = Vec::new();
    for (i, modified) in
        ["2020-01-01T00:00:00.000Z", "2021-01-01T00:00:00.000Z", "2022-01-01T00:00:00.000Z"].iter().enumerate()
    {
        let mut objects = vec![json!({
            "type": "indicator", "spec_version": "2.1", "id": id, "created": "2020-01-01T00:00:00.000Z",
            "modified": modified, "pattern": "[file:name = 'x']", "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z",
            "object_marking_refs": [Tlp::Clear.marking_id()],
        })];
        if i == 0 {
            objects.push(json!({ "type": "indicator", "id": "bad" }));
        }
        let req = Request::post(format!("{COLLECTION}/objects/"))
            .header(header::AUTHORIZATION, format!("Bearer {analyst}"))
            .header(header::ACCEPT, TAXII)
            .header(header::CONTENT_TYPE, TAXII)
            .body(Body::from(json!({ "objects": objects }).to_string()))
            .unwrap();
        let (status, _, body) = call(&w, req).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        status_ids.push(body["id"].as_str().unwrap().to_string());
        if i == 0 {
            assert_eq!((body["success_count"].as_u64(), body["failure_count"].as_u64()), (Some(1), Some(1)));
        }
        // Distinct import times for added_after.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let (status, _, body) = call(&w, get(&format!("/taxii2/root/status/{}/", status_ids[0]), analyst)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "complete");
    // Another organisation cannot read this status.
    assert_eq!(
        call(&w, get(&format!("/taxii2/root/status/{}/", status_ids[0]), &w.tokens["fb"])).await.0,
        StatusCode::NOT_FOUND
    );

    // Versions: all three, to another organisation too (CLEAR).
    let (_, _, body) = call(&w, get(&format!("{COLLECTION}/objects/{id}/versions/"), &w.tokens["other"])).await;
    assert_eq!(body["versions"].as_array().unwrap().len(), 3);
    let version = |v: &str| format!("{COLLECTION}/objects/?match[id]={id}&match[version]={v}");
    for (v, want) in [
        ("first", "2020-01-01T00:00:00.000Z"),
        ("last", "2022-01-01T00:00:00.000Z"),
        ("2021-01-01T00:00:00Z", "2021-01-01T00:00:00.000Z"),
    ] {
        let (_, _, body) = call(&w, get(&version(v), analyst)).await;
        assert_eq!(body["objects"][0]["modified"], want, "match[version]={v}");
    }
    let (_, _, body) = call(&w, get(&version("all"), analyst)).await;
    assert_eq!(body["objects"].as_array().unwrap().len(), 3);
    let (_, _, body) = call(&w, get(&format!("{COLLECTION}/objects/?match[type]=indicator"), analyst)).await;
    assert_eq!(ids_of(&body["objects"]).collect::<Vec<_>>(), vec![id.to_string()]);
    let (_, _, body) = call(&w, get(&format!("{COLLECTION}/objects/?match[spec_version]=2.0"), analyst)).await;
    assert!(body.get("objects").is_none());

    // Paging with next: 6 objects visible to msft (5 levels + unmarked) + 1 indicator.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = format!("{COLLECTION}/objects/?limit=2");
        if let Some(n) = &next {
            path.push_str(&format!("&next={n}"));
        }
        let (status, headers, body) = call(&w, get(&path, analyst)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers.contains_key("x-taxii-date-added-first") && headers.contains_key("x-taxii-date-added-last"));
        pages += 1;
        seen.extend(ids_of(&body["objects"]));
        if body["more"] == json!(true) {
            next = Some(body["next"].as_str().unwrap().to_string());
        } else {
            break;
        }
    }
    assert_eq!((pages, seen.len()), (4, 7));
    // Paging with added_after: each page starts after the last one's newest date.
    let mut after = "2000-01-01T00:00:00Z".to_string();
    let mut seen_versions = 0;
    for _ in 0..3 {
        let path =
            format!("{COLLECTION}/objects/?match[type]=indicator&match[version]=all&limit=1&added_after={after}");
        let (_, headers, body) = call(&w, get(&path, analyst)).await;
        seen_versions += body["objects"].as_array().map_or(0, |a| a.len());
        after = headers["x-taxii-date-added-last"].to_str().unwrap().to_string();
    }
    assert_eq!(seen_versions, 3);
    let (status, _, _) = call(&w, get(&format!("{COLLECTION}/objects/?limit=zero"), analyst)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rest_campaigns_audit_and_openapi() {
    let w = world();
    let (status, _, body) = call(&w, get("/api/v1/campaigns", &w.tokens["other"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["campaigns"][0]["name"], "zinc");
    let (_, _, body) = call(&w, get("/api/v1/campaigns/zinc/audit", &w.tokens["fb"])).await;
    let verbs: Vec<&str> = body["events"].as_array().unwrap().iter().filter_map(|e| e["verb"].as_str()).collect();
    assert!(verbs.contains(&"campaign.create") && verbs.contains(&"campaign.share"), "{verbs:?}");
    assert_eq!(call(&w, get("/api/v1/campaigns/nope", &w.tokens["fb"])).await.0, StatusCode::NOT_FOUND);
    let (status, _, doc) = call(&w, Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["paths"]["/api/v1/campaigns"].is_object());
    // An oversized body is refused before it is read whole.
    let big = vec![b' '; takedown_server::MAX_BODY + 1];
    let req = Request::post(format!("{COLLECTION}/objects/"))
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["analyst"]))
        .header(header::ACCEPT, TAXII)
        .header(header::CONTENT_TYPE, TAXII)
        .body(Body::from(big))
        .unwrap();
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_token_logging_in_past_its_session_cap_closes_only_its_own_oldest() {
    let w = world();
    // Log-in rates high enough that only the session cap is in play.
    let fast = takedown_server::Rate { burst: 1000, every: std::time::Duration::from_millis(1) };
    let limits = takedown_server::Limits { login_per_address: fast, login_per_token: fast, ..Default::default() };
    let w = World { state: w.state.with_limits(limits), tokens: w.tokens };
    let page = |cookie: &str| Request::get("/ui/").header(header::COOKIE, cookie).body(Body::empty()).unwrap();
    let partner = login(&w, &w.tokens["fb"]).await;
    let mut own = Vec::new();
    for _ in 0..25 {
        own.push(login(&w, &w.tokens["msft"]).await);
    }
    let status = |cookie: String| {
        let state = w.state.clone();
        async move { app(state).oneshot(page(&cookie)).await.unwrap().status() }
    };
    assert_eq!(status(partner).await, StatusCode::OK, "another token's session was closed");
    // The 20 newest of msft's are open; the 5 oldest were closed.
    for (i, cookie) in own.into_iter().enumerate() {
        let want = if i < 5 { StatusCode::SEE_OTHER } else { StatusCode::OK };
        assert_eq!(status(cookie).await, want, "session {i}");
    }
}

#[tokio::test]
async fn logins_and_writes_over_their_rate_get_429_with_retry_after() {
    let w = world();
    // Default limits: 5 log-ins with one token at once.
    let mut answers = Vec::new();
    for _ in 0..7 {
        let form = app(w.state.clone()).oneshot(Request::get("/ui/login").body(Body::empty()).unwrap()).await.unwrap();
        let cookie = form.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
        let csrf = cookie.split_once('=').unwrap().1.to_string();
        let req = Request::post("/ui/login")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("token={}&csrf={csrf}", w.tokens["gov"])))
            .unwrap();
        let response = app(w.state.clone()).oneshot(req).await.unwrap();
        answers.push((response.status(), response.headers().get(header::RETRY_AFTER).cloned()));
    }
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses[..5], [StatusCode::SEE_OTHER; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [StatusCode::TOO_MANY_REQUESTS; 2], "{statuses:?}");
    assert!(answers[5].1.is_some(), "no Retry-After");
    // Writes: a burst of 60 per token, then 429 before the body is looked at.
    let post = || {
        Request::post(format!("{COLLECTION}/objects/"))
            .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["analyst"]))
            .header(header::ACCEPT, TAXII)
            .header(header::CONTENT_TYPE, TAXII)
            .body(Body::from(json!({ "objects": [] }).to_string()))
            .unwrap()
    };
    for i in 0..60 {
        assert_eq!(call(&w, post()).await.0, StatusCode::ACCEPTED, "write {i}");
    }
    let (status, headers, body) = call(&w, post()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(headers.contains_key(header::RETRY_AFTER));
    // Another token is not held back by this one.
    let req = Request::post("/api/v1/campaigns/zinc/actions/none/approve")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["msft"]))
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&w, req).await.0, StatusCode::FORBIDDEN, "a viewer may not approve; not 429");
}
