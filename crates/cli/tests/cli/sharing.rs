//! Ownership through the binary: `intel import --org` of another organisation's id
//! leaves that organisation's object as it was, and a member's TAXII post of a
//! newer version of a built-in indicator does not change what `sweep` finds.
#![allow(clippy::unwrap_used)]

use crate::common::{json, takedown};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WANNACRY: &str = "malware--0b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d";

fn bundle(path: &Path, modified: &str, description: &str) {
    let object = serde_json::json!({
        "type": "malware", "spec_version": "2.1", "id": WANNACRY, "created": "2017-05-12T00:00:00.000Z",
        "modified": modified, "name": "WannaCry", "is_family": true, "description": description,
    });
    let bundle = serde_json::json!({ "type": "bundle", "id": "bundle--6b1b8b4a-53b8-4b5d-9a4a-1b0b2f7e9c11", "objects": [object] });
    std::fs::write(path, bundle.to_string()).unwrap();
}

#[test]
fn importing_another_organisations_id_leaves_its_object_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for org in ["msft", "fb"] {
        assert_eq!(takedown(&db, &["org", "add", org]).code, 0);
    }
    let a = dir.path().join("a.json");
    bundle(&a, "2017-05-12T00:00:00.000Z", "as msft wrote it");
    let r = takedown(&db, &["intel", "import", "--org", "msft", a.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = dir.path().join("b.json");
    bundle(&b, "2030-01-01T00:00:00.000Z", "as fb would have it");
    let r = takedown(&db, &["--output-format", "json", "intel", "import", "--org", "fb", b.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // Counted as fb's own first version: nothing says msft holds the id.
    let summary = &json(&r.stdout)["summary"];
    assert_eq!((summary["new_objects"].as_u64(), summary["new_versions"].as_u64()), (Some(1), Some(0)), "{summary}");

    let r = takedown(&db, &["--output-format", "json", "intel", "show", WANNACRY]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["description"], "as msft wrote it");
    let r = takedown(&db, &["intel", "export"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let exported = json(&r.stdout);
    let ours: Vec<&serde_json::Value> =
        exported["objects"].as_array().unwrap().iter().filter(|o| o["id"] == WANNACRY).collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(ours[0]["description"], "as msft wrote it");
    // Both versions are kept, each its owner's current one.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn.prepare("SELECT org, is_current FROM stix_objects WHERE id = ?1 ORDER BY org").unwrap();
    let rows: Vec<(String, i64)> =
        stmt.query_map([WANNACRY], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    assert_eq!(rows, [("fb".to_string(), 1), ("msft".to_string(), 1)]);
}

/// A raw HTTP/1.1 request on loopback: status and body.
fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/taxii+json;version=2.1\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/taxii+json;version=2.1\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
}

#[test]
fn a_members_newer_built_in_indicator_does_not_blind_the_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert_eq!(takedown(&db, &["org", "add", "fb"]).code, 0);
    let r = takedown(&db, &["token", "create", "--org", "fb", "--role", "analyst"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = r.stdout.trim().to_string();
    // The built-in pack is in the store once any intel command has run.
    let r = takedown(&db, &["intel", "export"]);
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
    fake["modified"] = serde_json::json!("2099-01-01T00:00:00.000Z");
    fake["pattern"] = serde_json::json!("[file:name = 'nothing-to-see-here.txt']");

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let objects = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/";
    let envelope = serde_json::json!({ "objects": [fake] }).to_string();
    let started = Instant::now();
    let answer = loop {
        if let Some(answer) = http(port, "POST", objects, &token, &envelope) {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not answer within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer.0, 202, "{}", answer.1);
    assert_eq!(json(&answer.1)["success_count"], 1, "{}", answer.1);

    let host = dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("@Please_Read_Me@.txt"), "Ooops, your files have been encrypted!").unwrap();
    let r = takedown(&db, &["sweep", "--output-format", "ndjson", host.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let by_intel = r.stdout.lines().map(json).any(|f| f["kind"] == "filename" && f["indicator"] == note_id.as_str());
    assert!(by_intel, "the built-in indicator no longer finds the ransom note:\n{}", r.stdout);
}
