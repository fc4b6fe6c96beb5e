//! A member of the sharing community playing the hostile partner against a real
//! `takedown serve` over loopback: writing another's ids (TAXII and `intel import
//! --org`), probing for hidden ids, posting objects that would break the store, and
//! reading everything it can; the owner's intel must come out unchanged, the probe
//! must learn nothing, and no read path may give it what TLP (object or granular
//! markings) keeps from it.
#![allow(clippy::unwrap_used)]

use crate::common::serve::{request, serial, Server};
use crate::common::{json, takedown};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use takedown_model::Tlp;

const OBJECTS: &str = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/";
const MANIFEST: &str = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/manifest/";
const STAMP: &str = "2020-01-01T00:00:00.000Z";
const LATER: &str = "2099-01-01T00:00:00.000Z";
const UNUSED: &str = "malware--30000000-0000-4000-8000-0000000000ff";
/// A GREEN malware of msft whose description is TLP:RED by a granular marking.
const MARKED: &str = "malware--30000000-0000-4000-8000-000000000010";
const SECRET_TEXT: &str = "only msft may read this description";

/// msft's malware, one per TLP level.
fn msft_id(tlp: Tlp) -> String {
    let n = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red].iter().position(|t| *t == tlp).unwrap();
    format!("malware--30000000-0000-4000-8000-00000000000{n}")
}

fn malware(id: &str, modified: &str, name: &str, tlp: Tlp) -> Value {
    json!({
        "type": "malware", "spec_version": "2.1", "id": id, "created": STAMP, "modified": modified,
        "name": name, "is_family": true, "object_marking_refs": [tlp.marking_id()],
    })
}

/// A store where msft holds one malware at each TLP level and the granularly marked
/// one, fb is a member with an analyst (who writes) and a viewer, and the server is
/// running.
struct World {
    dir: tempfile::TempDir,
    db: PathBuf,
    fb_analyst: String,
    fb: String,
    msft: String,
    server: Server,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for org in ["msft", "fb"] {
        assert_eq!(takedown(&db, &["org", "add", org]).code, 0);
    }
    let mut objects: Vec<Value> = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red]
        .into_iter()
        .map(|tlp| malware(&msft_id(tlp), STAMP, &format!("msft {tlp:?}"), tlp))
        .collect();
    let mut marked = malware(MARKED, STAMP, "Marked", Tlp::Green);
    marked["description"] = json!(SECRET_TEXT);
    marked["granular_markings"] = json!([{ "selectors": ["description"], "marking_ref": Tlp::Red.marking_id() }]);
    objects.push(marked);
    let file = dir.path().join("msft.json");
    let bundle = json!({ "type": "bundle", "id": "bundle--30000000-0000-4000-8000-000000000000", "objects": objects });
    std::fs::write(&file, bundle.to_string()).unwrap();
    let r = takedown(&db, &["intel", "import", "--org", "msft", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = |org: &str, role: &str| {
        let r = takedown(&db, &["token", "create", "--org", org, "--role", role]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout.trim().to_string()
    };
    let (fb_analyst, fb, msft) = (token("fb", "analyst"), token("fb", "viewer"), token("msft", "viewer"));
    let server = Server::start(&db, &[]);
    World { dir, db, fb_analyst, fb, msft, server }
}

impl World {
    fn get(&self, path: &str, token: &str) -> (u16, String) {
        let a = request(self.server.port, "GET", path, token, "");
        (a.status, a.body)
    }

    /// A TAXII add by fb's analyst: the status resource.
    fn post(&self, objects: Vec<Value>) -> Value {
        let body = json!({ "objects": objects }).to_string();
        let a = request(self.server.port, "POST", OBJECTS, &self.fb_analyst, &body);
        assert_eq!(a.status, 202, "{}", a.body);
        json(&a.body)
    }
}

/// Every member read path over intel, with the ids given asked for one by one.
fn read_paths(ids: &[String]) -> Vec<String> {
    let mut paths = vec![
        format!("{OBJECTS}?limit=1000&match[version]=all"),
        format!("{OBJECTS}?limit=1000"),
        format!("{MANIFEST}?limit=1000&match[version]=all"),
        "/api/v1/intel?limit=1000".to_string(),
        "/api/v1/export".to_string(),
    ];
    for id in ids {
        paths.push(format!("{OBJECTS}{id}/"));
        paths.push(format!("{OBJECTS}{id}/versions/"));
        paths.push(format!("{OBJECTS}?match[id]={id}&match[version]=all"));
        paths.push(format!("/api/v1/intel/{id}"));
    }
    paths
}

fn sweep_finds_the_ransom_note(dir: &Path, db: &Path, note_id: &str) {
    let host = dir.join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("@Please_Read_Me@.txt"), "Ooops, your files have been encrypted!").unwrap();
    let r = takedown(db, &["sweep", "--output-format", "ndjson", host.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let by_intel = r.stdout.lines().map(json).any(|f| f["kind"] == "filename" && f["indicator"] == note_id);
    assert!(by_intel, "the built-in indicator no longer finds the ransom note:\n{}", r.stdout);
}

#[test]
fn no_read_path_gives_a_partner_what_tlp_keeps_from_it() {
    let _serial = serial();
    let w = world();
    let all: Vec<String> =
        [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red].into_iter().map(msft_id).collect();
    let mut requests = 0;
    for path in read_paths(&all) {
        let (status, body) = w.get(&path, &w.fb);
        requests += 1;
        assert!(status == 200 || status == 404, "{path}: {status} {body}");
        for tlp in [Tlp::Amber, Tlp::AmberStrict, Tlp::Red] {
            assert!(!body.contains(&msft_id(tlp)), "{path} gave fb msft's {tlp:?} object: {body}");
        }
        assert!(!body.contains(SECRET_TEXT), "{path} gave fb a description marked RED: {body}");
        if path.ends_with(&format!("{}/", msft_id(Tlp::Red))) || path.ends_with(&msft_id(Tlp::Red)) {
            assert_eq!(status, 404, "{path}");
        }
    }
    // What may go does go: CLEAR, GREEN and the marked object without its description.
    let (_, listed) = w.get(&format!("{OBJECTS}?limit=1000"), &w.fb);
    for id in [msft_id(Tlp::Clear), msft_id(Tlp::Green), MARKED.to_string()] {
        assert!(listed.contains(&id), "fb does not get {id}");
    }
    let (status, marked) = w.get(&format!("/api/v1/intel/{MARKED}"), &w.fb);
    assert_eq!(status, 200);
    let marked = json(&marked);
    assert!(marked.get("description").is_none() && marked["name"] == "Marked", "{marked}");
    // And the owner gets everything, the marked description and its marking included.
    for path in read_paths(&[]) {
        let (_, body) = w.get(&path, &w.msft);
        requests += 1;
        for id in &all {
            assert!(body.contains(id.as_str()), "{path} hides msft's own {id} from msft");
        }
        if !path.starts_with(MANIFEST) {
            assert!(body.contains(SECRET_TEXT), "{path} hides msft's own description from msft");
        }
    }
    assert!(requests > 25);
}

#[test]
fn a_partner_cannot_replace_another_members_object_or_the_built_in_pack() {
    let _serial = serial();
    let w = world();
    // The built-in pack's indicator for WannaCry's ransom note.
    let r = takedown(&w.db, &["intel", "export"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let note = json(&r.stdout)["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["pattern"] == "[file:name = '@Please_Read_Me@.txt']")
        .unwrap()
        .clone();
    let note_id = note["id"].as_str().unwrap().to_string();
    let mut fake = note;
    fake["modified"] = json!(LATER);
    fake["pattern"] = json!("[file:name = 'nothing-to-see-here.txt']");
    let green = msft_id(Tlp::Green);
    let status = w.post(vec![fake, malware(&green, LATER, "Replaced", Tlp::Green)]);
    assert_eq!((status["success_count"].as_u64(), status["failure_count"].as_u64()), (Some(2), Some(0)), "{status}");

    // The owner still reads its own object, on every path, and never fb's.
    for path in read_paths(std::slice::from_ref(&green)) {
        let (_, body) = w.get(&path, &w.msft);
        assert!(!body.contains("Replaced"), "{path} shows msft fb's version of its object: {body}");
    }
    let (status, mine) = w.get(&format!("/api/v1/intel/{green}"), &w.msft);
    assert_eq!((status, json(&mine)["name"].clone()), (200, json!("msft Green")));
    let (_, versions) = w.get(&format!("{OBJECTS}{green}/versions/"), &w.msft);
    assert_eq!(json(&versions)["versions"], json!([STAMP]));
    // The server's own lookups keep the pack: the sweep still finds the ransom note.
    sweep_finds_the_ransom_note(w.dir.path(), &w.db, &note_id);
    let r = takedown(&w.db, &["--output-format", "json", "intel", "show", &green]);
    assert_eq!(json(&r.stdout)["name"], "msft Green");
}

/// Replaces what differs between two runs that should look alike: the id written,
/// status ids and timestamps.
fn normalise(body: &str, id: &str) -> Value {
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
    let mut v = if body.is_empty() { Value::Null } else { json(body) };
    walk(&mut v, id);
    v
}

#[test]
fn writing_an_id_tells_the_partner_nothing_about_whether_it_exists() {
    let _serial = serial();
    let w = world();
    let mut runs = Vec::new();
    for target in [msft_id(Tlp::Red), UNUSED.to_string()] {
        let mut seen = Vec::new();
        seen.push(w.get(&format!("{OBJECTS}{target}/"), &w.fb).0.to_string());
        for modified in ["2000-01-01T00:00:00.000Z", LATER] {
            let status = w.post(vec![malware(&target, modified, "Probe", Tlp::Green)]);
            let status_id = status["id"].as_str().unwrap().to_string();
            seen.push(normalise(&status.to_string(), &target).to_string());
            let (code, again) = w.get(&format!("/taxii2/root/status/{status_id}/"), &w.fb_analyst);
            seen.push(format!("{code} {}", normalise(&again, &target)));
            for path in read_paths(std::slice::from_ref(&target)) {
                let (code, body) = w.get(&path, &w.fb);
                if path.contains(&target) {
                    seen.push(format!("{path} {code} {}", normalise(&body, &target)).replace(&target, "ID"));
                }
            }
        }
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1], "writing a hidden id and an unused one must look the same");
    let (_, mine) = w.get(&format!("/api/v1/intel/{}", msft_id(Tlp::Red)), &w.msft);
    assert_eq!(json(&mine)["name"], "msft Red");
}

#[test]
fn objects_that_would_break_the_store_are_refused_with_their_reasons() {
    let _serial = serial();
    let w = world();
    let indicator = |n: u32, pattern: &str, pattern_type: &str| {
        json!({
            "type": "indicator", "spec_version": "2.1", "id": format!("indicator--30000000-0000-4000-8000-0000000001{n:02}"),
            "created": STAMP, "modified": STAMP, "pattern": pattern, "pattern_type": pattern_type, "valid_from": STAMP,
        })
    };
    let deep = 100_000;
    let deep_yara = format!("rule deep {{ condition: {}true{} }}", "(".repeat(deep), ")".repeat(deep));
    let deep_stix = format!("{}[file:name = 'x']{}", "(".repeat(deep), ")".repeat(deep));
    let objects = vec![
        indicator(1, "[file:name = 'x'", "stix"),
        indicator(2, "rule broken { strings: $a = \"x\" condition: $b }", "yara"),
        indicator(3, &deep_yara, "yara"),
        indicator(4, &deep_stix, "stix"),
    ];
    let status = w.post(objects);
    assert_eq!(
        (status["total_count"].as_u64(), status["success_count"].as_u64(), status["failure_count"].as_u64()),
        (Some(4), Some(0), Some(4)),
        "{status}"
    );
    let reasons: Vec<String> =
        status["failures"].as_array().unwrap().iter().map(|f| f["message"].as_str().unwrap().to_string()).collect();
    assert!(reasons[0].contains("not a valid STIX pattern"), "{}", reasons[0]);
    assert!(reasons[1].contains("does not compile"), "{}", reasons[1]);
    assert!(reasons[2].contains("nest"), "{}", reasons[2]);
    assert!(reasons[3].contains("nest") || reasons[3].contains("deep"), "{}", reasons[3]);
    assert!(reasons.iter().all(|r| r.len() < 1000), "reasons quote at most an excerpt: {reasons:?}");
    // The server is still up, and the store still sweeps.
    assert_eq!(w.get("/taxii2/", &w.fb).0, 200);
    let clean = w.dir.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(clean.join("notes.txt"), "nothing here").unwrap();
    let r = takedown(&w.db, &["sweep", clean.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

fn bundle(path: &Path, id: &str, modified: &str, description: &str) {
    let mut object = malware(id, modified, "WannaCry", Tlp::Green);
    object["description"] = json!(description);
    let bundle = json!({ "type": "bundle", "id": "bundle--6b1b8b4a-53b8-4b5d-9a4a-1b0b2f7e9c11", "objects": [object] });
    std::fs::write(path, bundle.to_string()).unwrap();
}

#[test]
fn importing_another_organisations_id_leaves_its_object_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for org in ["msft", "fb"] {
        assert_eq!(takedown(&db, &["org", "add", org]).code, 0);
    }
    let wannacry = "malware--0b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d";
    let a = dir.path().join("a.json");
    bundle(&a, wannacry, "2017-05-12T00:00:00.000Z", "as msft wrote it");
    let r = takedown(&db, &["intel", "import", "--org", "msft", a.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = dir.path().join("b.json");
    bundle(&b, wannacry, "2030-01-01T00:00:00.000Z", "as fb would have it");
    let r = takedown(&db, &["--output-format", "json", "intel", "import", "--org", "fb", b.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Counted as fb's own first version: nothing says msft holds the id.
    let summary = &json(&r.stdout)["summary"];
    assert_eq!((summary["new_objects"].as_u64(), summary["new_versions"].as_u64()), (Some(1), Some(0)), "{summary}");

    let r = takedown(&db, &["--output-format", "json", "intel", "show", wannacry]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["description"], "as msft wrote it");
    let r = takedown(&db, &["intel", "export"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exported = json(&r.stdout);
    let ours: Vec<&Value> = exported["objects"].as_array().unwrap().iter().filter(|o| o["id"] == wannacry).collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["description"], "as msft wrote it");
    // Both versions are kept, each its owner's current one.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT org, is_current FROM stix_objects WHERE id = ?1 ORDER BY org").unwrap();
    let rows: Vec<(String, i64)> =
        stmt.query_map([wannacry], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows, [("fb".to_string(), 1), ("msft".to_string(), 1)]);
}
