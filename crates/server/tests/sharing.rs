//! Sharing without trust, through the router (`oneshot`): a member's TAXII write
//! never replaces another owner's object or the built-in pack, tells the writer
//! nothing about ids it cannot see, passes the same checks as `intel import`, and
//! granular TLP markings are applied on every member read path.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use takedown_intel::{builtin, IntelObject};
use takedown_model::Tlp;
use takedown_server::{app, AppState};
use takedown_store::{ImportBatch, Role, StixRow, Store};
use tower::ServiceExt;

const TAXII: &str = "application/taxii+json;version=2.1";
const COLLECTION: &str = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01";

const MSFT_GREEN: &str = "malware--10000000-0000-4000-8000-000000000001";
const MSFT_RED: &str = "malware--10000000-0000-4000-8000-000000000002";
const UNUSED: &str = "malware--10000000-0000-4000-8000-000000000003";
const MARKED: &str = "malware--10000000-0000-4000-8000-000000000004";
const MARKED_PATTERN: &str = "indicator--10000000-0000-4000-8000-000000000005";
const STAMP: &str = "2020-01-01T00:00:00.000Z";

struct World {
    state: AppState,
    db: std::path::PathBuf,
    _dir: tempfile::TempDir,
    tokens: std::collections::BTreeMap<&'static str, String>,
}

fn malware(id: &str, modified: &str, name: &str, tlp: Tlp) -> Value {
    json!({
        "type": "malware", "spec_version": "2.1", "id": id, "created": STAMP, "modified": modified,
        "name": name, "is_family": true, "object_marking_refs": [tlp.marking_id()],
    })
}

fn row(value: Value) -> StixRow {
    takedown_intel::validate(value, "test").unwrap().to_row()
}

/// The built-in pack's indicator of WannaCry's ransom note.
fn ransom_note() -> Value {
    let note = builtin::objects()
        .into_iter()
        .find(|o| o.json.get("pattern").and_then(Value::as_str) == Some("[file:name = '@Please_Read_Me@.txt']"))
        .unwrap();
    Value::Object(note.json)
}

/// msft holds a GREEN and a RED malware and two GREEN objects with granular RED
/// markings; the server holds the built-in pack; fb and other are members (fb
/// writes), msft and fb each have an analyst.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut store = Store::open(&db).unwrap();
    for org in ["msft", "fb", "other"] {
        store.add_org(org, Tlp::Amber, "t").unwrap();
    }
    let pack = builtin::objects().iter().map(IntelObject::to_row).collect();
    store.import(&ImportBatch { actor: "takedown".into(), org: None, files: vec![], objects: pack }).unwrap();
    let red = Tlp::Red.marking_id();
    let mut marked = malware(MARKED, STAMP, "Marked", Tlp::Green);
    marked["description"] = json!("only msft may read this");
    marked["labels"] = json!(["public", "secret", "also public"]);
    marked["granular_markings"] = json!([
        { "selectors": ["description", "labels.[1]"], "marking_ref": red },
        { "selectors": ["labels.[2]"], "marking_ref": Tlp::Green.marking_id() },
    ]);
    let pattern = json!({
        "type": "indicator", "spec_version": "2.1", "id": MARKED_PATTERN, "created": STAMP, "modified": STAMP,
        "pattern": "[file:name = 'secret.exe']", "pattern_type": "stix", "valid_from": STAMP,
        "object_marking_refs": [Tlp::Green.marking_id()],
        "granular_markings": [{ "selectors": ["pattern"], "marking_ref": red }],
    });
    let objects = vec![
        row(malware(MSFT_GREEN, STAMP, "Original", Tlp::Green)),
        row(malware(MSFT_RED, STAMP, "Secret", Tlp::Red)),
        row(marked),
        row(pattern),
    ];
    store.import(&ImportBatch { actor: "t".into(), org: Some("msft".into()), files: vec![], objects }).unwrap();
    let mut tokens = std::collections::BTreeMap::new();
    for org in ["msft", "fb", "other"] {
        tokens.insert(org, store.create_token(org, "reader", Role::Viewer, "t").unwrap());
    }
    tokens.insert("msft-analyst", store.create_token("msft", "ana", Role::Analyst, "t").unwrap());
    tokens.insert("fb-analyst", store.create_token("fb", "eve", Role::Analyst, "t").unwrap());
    World { state: AppState::new(store), db, _dir: dir, tokens }
}

async fn call(w: &World, req: Request<Body>) -> (StatusCode, Value) {
    let response = app(w.state.clone()).oneshot(req).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap() };
    (status, body)
}

async fn get(w: &World, path: &str, who: &str) -> (StatusCode, Value) {
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens[who]))
        .header(header::ACCEPT, TAXII)
        .body(Body::empty())
        .unwrap();
    call(w, req).await
}

async fn post(w: &World, who: &str, objects: Vec<Value>) -> Value {
    let req = Request::post(format!("{COLLECTION}/objects/"))
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens[who]))
        .header(header::ACCEPT, TAXII)
        .header(header::CONTENT_TYPE, TAXII)
        .body(Body::from(json!({ "objects": objects }).to_string()))
        .unwrap();
    let (status, body) = call(w, req).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    body
}

/// The objects of a TAXII or REST answer with this id.
fn with_id<'v>(objects: &'v Value, id: &str) -> Vec<&'v Value> {
    objects.as_array().into_iter().flatten().filter(|o| o["id"] == id).collect()
}

fn stored_versions(w: &World) -> i64 {
    Store::open(&w.db).unwrap().version_count().unwrap() as i64
}

#[tokio::test]
async fn a_member_cannot_replace_another_owners_object_or_the_pack() {
    let w = world();
    let note = ransom_note();
    let note_id = note["id"].as_str().unwrap().to_string();
    let mut fake = note.clone();
    fake["modified"] = json!("2099-01-01T00:00:00.000Z");
    fake["pattern"] = json!("[file:name = 'nothing-to-see.txt']");
    fake.as_object_mut().unwrap().remove("created_by_ref");
    let status =
        post(&w, "fb-analyst", vec![malware(MSFT_GREEN, "2099-01-01T00:00:00.000Z", "Replaced", Tlp::Green), fake])
            .await;
    assert_eq!((status["success_count"].as_u64(), status["failure_count"].as_u64()), (Some(2), Some(0)), "{status}");

    for reader in ["msft", "other", "fb"] {
        // Every other reader sees only the owner's versions; fb's write is fb's own
        // copy, shown to fb alone, never beside the owner's as a newer version.
        let (_, objects) =
            get(&w, &format!("{COLLECTION}/objects/?match[id]={MSFT_GREEN}&match[version]=all"), reader).await;
        let names: Vec<&Value> = with_id(&objects["objects"], MSFT_GREEN).iter().map(|o| &o["name"]).collect();
        let want = if reader == "fb" { json!("Replaced") } else { json!("Original") };
        assert_eq!(names, [&want], "{reader}");
        let (_, objects) = get(&w, &format!("{COLLECTION}/objects/{note_id}/versions/"), reader).await;
        // One owner's one version each: the pack's for msft and other, fb's own for fb.
        assert_eq!(objects["versions"].as_array().map(Vec::len), Some(1), "{reader}: {objects}");
        let (_, objects) = get(&w, &format!("{COLLECTION}/objects/{note_id}/"), reader).await;
        let patterns: Vec<&Value> = with_id(&objects["objects"], &note_id).iter().map(|o| &o["pattern"]).collect();
        let want =
            if reader == "fb" { "[file:name = 'nothing-to-see.txt']" } else { "[file:name = '@Please_Read_Me@.txt']" };
        assert_eq!(patterns, [&json!(want)], "{reader}");
    }
    // A single-object read: the reader's own, else the server's, else the first owner's.
    let (_, one) = get(&w, &format!("/api/v1/intel/{MSFT_GREEN}"), "msft").await;
    assert_eq!(one["name"], "Original");
    let (_, one) = get(&w, &format!("/api/v1/intel/{MSFT_GREEN}"), "other").await;
    assert_eq!(one["name"], "Original");
    let (_, one) = get(&w, &format!("/api/v1/intel/{MSFT_GREEN}"), "fb").await;
    assert_eq!(one["name"], "Replaced");
    let (_, one) = get(&w, &format!("/api/v1/intel/{note_id}"), "other").await;
    assert_eq!(one["pattern"], "[file:name = '@Please_Read_Me@.txt']");
    // The owner's versions endpoint still lists its version; the owner can go on
    // writing its own history.
    let (status, versions) = get(&w, &format!("{COLLECTION}/objects/{MSFT_GREEN}/versions/"), "msft").await;
    assert_eq!(status, StatusCode::OK);
    assert!(versions["versions"].as_array().unwrap().contains(&json!(STAMP)), "{versions}");
    post(&w, "msft-analyst", vec![malware(MSFT_GREEN, "2021-01-01T00:00:00.000Z", "Updated", Tlp::Green)]).await;
    let (_, one) = get(&w, &format!("/api/v1/intel/{MSFT_GREEN}"), "other").await;
    assert_eq!(one["name"], "Updated");
    // The server's own lookups (sweep, show, why) keep the pack's version.
    let store = Store::open(&w.db).unwrap();
    assert!(store.object(&note_id).unwrap().unwrap().json.contains("@Please_Read_Me@.txt"));
    assert_eq!(store.object(MSFT_GREEN).unwrap().unwrap().org.as_deref(), Some("msft"));
}

/// Replaces what differs between two runs that should look alike: the id written,
/// status ids and timestamps.
fn normalise(mut v: Value, id: &str) -> Value {
    fn walk(v: &mut Value, id: &str) {
        match v {
            Value::String(s) if s == id => *s = "ID".into(),
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, id)),
            Value::Object(m) => {
                for key in ["request_timestamp", "date_added"] {
                    if m.contains_key(key) {
                        m.insert(key.into(), json!("T"));
                    }
                }
                if m.contains_key("status") {
                    m.insert("id".into(), json!("STATUS"));
                }
                m.values_mut().for_each(|i| walk(i, id));
            }
            _ => {}
        }
    }
    walk(&mut v, id);
    v
}

#[tokio::test]
async fn a_write_does_not_tell_whether_a_hidden_id_exists() {
    let w = world();
    let mut runs = Vec::new();
    for target in [MSFT_RED, UNUSED] {
        // fb cannot see msft's RED object.
        assert_eq!(get(&w, &format!("{COLLECTION}/objects/{target}/"), "fb").await.0, StatusCode::NOT_FOUND);
        let mut seen = Vec::new();
        for modified in ["2000-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"] {
            let status = post(&w, "fb-analyst", vec![malware(target, modified, "Probe", Tlp::Green)]).await;
            assert_eq!((status["success_count"].as_u64(), status["failure_count"].as_u64()), (Some(1), Some(0)));
            let status_id = status["id"].as_str().unwrap().to_string();
            seen.push(normalise(status, target));
            let (code, again) = get(&w, &format!("/taxii2/root/status/{status_id}/"), "fb-analyst").await;
            assert_eq!(code, StatusCode::OK);
            seen.push(normalise(again, target));
            for path in [
                format!("{COLLECTION}/objects/{target}/"),
                format!("{COLLECTION}/objects/{target}/versions/"),
                format!("{COLLECTION}/objects/?match[id]={target}&match[version]=all"),
                format!("{COLLECTION}/manifest/?match[id]={target}"),
                format!("/api/v1/intel/{target}"),
            ] {
                let (code, body) = get(&w, &path, "fb").await;
                assert_eq!(code, StatusCode::OK, "{path}");
                seen.push(normalise(body, target));
            }
        }
        // fb reads its own copy: both versions, the newer current.
        let (_, one) = get(&w, &format!("/api/v1/intel/{target}"), "fb").await;
        assert_eq!((&one["name"], &one["modified"]), (&json!("Probe"), &json!("2099-01-01T00:00:00.000Z")));
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1], "writing a hidden id and an unused one must look the same");
    // And msft's RED object is as it was, for msft.
    let (_, one) = get(&w, &format!("/api/v1/intel/{MSFT_RED}"), "msft").await;
    assert_eq!(one["name"], "Secret");
}

#[tokio::test]
async fn taxii_writes_pass_the_checks_of_intel_import() {
    let w = world();
    let before = stored_versions(&w);
    let indicator = |id: &str, pattern: &str, pattern_type: &str| {
        json!({
            "type": "indicator", "spec_version": "2.1", "id": id, "created": STAMP, "modified": STAMP,
            "pattern": pattern, "pattern_type": pattern_type, "valid_from": STAMP,
        })
    };
    let mut huge = malware("malware--20000000-0000-4000-8000-000000000004", STAMP, "Huge", Tlp::Green);
    huge["description"] = json!("x".repeat(takedown_intel::MAX_OBJECT_BYTES));
    let mut old = malware("malware--20000000-0000-4000-8000-000000000005", STAMP, "Old", Tlp::Green);
    old["spec_version"] = json!("2.0");
    let mut bad_marking = malware("malware--20000000-0000-4000-8000-000000000006", STAMP, "M", Tlp::Green);
    bad_marking["granular_markings"] = json!([{ "selectors": [7], "marking_ref": "tlp-red" }]);
    let objects = vec![
        indicator("indicator--20000000-0000-4000-8000-000000000001", "[file:name = 'x'", "stix"),
        indicator(
            "indicator--20000000-0000-4000-8000-000000000002",
            "rule broken { strings: $a = \"x\" condition: $b }",
            "yara",
        ),
        json!("not an object"),
        huge,
        old,
        bad_marking,
    ];
    let status = post(&w, "fb-analyst", objects).await;
    assert_eq!(
        (status["total_count"].as_u64(), status["success_count"].as_u64(), status["failure_count"].as_u64()),
        (Some(6), Some(0), Some(6)),
        "{status}"
    );
    let failures = status["failures"].as_array().unwrap();
    let message = |i: usize| failures[i]["message"].as_str().unwrap().to_string();
    assert_eq!(failures[0]["id"], "indicator--20000000-0000-4000-8000-000000000001");
    assert_eq!(failures[0]["version"], STAMP);
    assert!(message(0).contains("not a valid STIX pattern"), "{}", message(0));
    assert!(message(1).contains("YARA rule does not compile") && message(1).contains("$b"), "{}", message(1));
    assert!(message(2).contains("not a JSON object"), "{}", message(2));
    assert!(message(3).contains("over the limit"), "{}", message(3));
    assert!(message(4).contains("STIX 2.1 only"), "{}", message(4));
    assert!(message(5).contains("must be a string") && message(5).contains("marking_ref"), "{}", message(5));
    assert_eq!(stored_versions(&w), before, "nothing refused is stored");

    // A good object beside a bad one: the good one is stored, counted apart.
    let good = indicator("indicator--20000000-0000-4000-8000-000000000003", "rule ok { condition: true }", "yara");
    let status = post(&w, "fb-analyst", vec![good, json!(42)]).await;
    assert_eq!((status["success_count"].as_u64(), status["failure_count"].as_u64()), (Some(1), Some(1)));
    assert_eq!(status["successes"][0]["id"], "indicator--20000000-0000-4000-8000-000000000003");
    assert_eq!(stored_versions(&w), before + 1);
}

#[tokio::test]
async fn granular_markings_hide_fields_and_withhold_what_cannot_go() {
    let w = world();
    let marked = |objects: &Value| with_id(objects, MARKED).first().map(|o| (*o).clone());
    let pattern_shown = |objects: &Value| !with_id(objects, MARKED_PATTERN).is_empty();
    for reader in ["msft", "other"] {
        let owner = reader == "msft";
        let (_, taxii) = get(&w, &format!("{COLLECTION}/objects/?limit=1000"), reader).await;
        assert_eq!(taxii["more"], false);
        let (_, export) = get(&w, "/api/v1/export", reader).await;
        let (_, rest) = get(&w, "/api/v1/intel?limit=1000", reader).await;
        let rest_objects =
            Value::Array(rest["objects"].as_array().unwrap().iter().map(|o| o["object"].clone()).collect());
        let (_, single) = get(&w, &format!("{COLLECTION}/objects/{MARKED}/"), reader).await;
        for (path, objects) in [
            ("TAXII objects", &taxii["objects"]),
            ("REST export", &export["objects"]),
            ("REST intel", &rest_objects),
            ("TAXII object", &single["objects"]),
        ] {
            let m = marked(objects).unwrap();
            if owner {
                assert_eq!(m["description"], "only msft may read this", "{path}");
                assert_eq!(m["labels"], json!(["public", "secret", "also public"]), "{path}");
                assert_eq!(m["granular_markings"].as_array().unwrap().len(), 2, "{path}");
            } else {
                assert!(m.get("description").is_none(), "{path}: {m}");
                assert_eq!(m["labels"], json!(["public", "also public"]), "{path}");
                // The GREEN marking kept still names "also public", now at [1].
                assert_eq!(
                    m["granular_markings"],
                    json!([{ "selectors": ["labels.[1]"], "marking_ref": Tlp::Green.marking_id() }]),
                    "{path}"
                );
            }
        }
        for (path, objects) in
            [("TAXII objects", &taxii["objects"]), ("REST export", &export["objects"]), ("REST intel", &rest_objects)]
        {
            assert_eq!(pattern_shown(objects), owner, "{path} for {reader}");
        }
        let (_, manifest) = get(&w, &format!("{COLLECTION}/manifest/?limit=1000"), reader).await;
        assert_eq!(pattern_shown(&manifest["objects"]), owner, "manifest for {reader}");
        let want = if owner { StatusCode::OK } else { StatusCode::NOT_FOUND };
        for path in [
            format!("{COLLECTION}/objects/{MARKED_PATTERN}/"),
            format!("{COLLECTION}/objects/{MARKED_PATTERN}/versions/"),
            format!("/api/v1/intel/{MARKED_PATTERN}"),
        ] {
            assert_eq!(get(&w, &path, reader).await.0, want, "{path} for {reader}");
        }
    }
    // The single REST read is redacted too.
    let (_, one) = get(&w, &format!("/api/v1/intel/{MARKED}"), "other").await;
    assert!(one.get("description").is_none() && one["name"] == "Marked", "{one}");
}
