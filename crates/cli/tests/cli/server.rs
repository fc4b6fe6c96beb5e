//! `org add`, `token create`, `intel import --org --tlp` and `serve` through the
//! binary: the server answers TAXII discovery with the token, refuses without it,
//! and stops on SIGTERM.
#![allow(clippy::unwrap_used)]

use crate::common::takedown;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A raw HTTP/1.1 GET on loopback: status and body.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/taxii+json;version=2.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split_whitespace().nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

#[test]
fn org_token_import_and_serve() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["org", "add", "msft"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = takedown(&db, &["org", "add", "msft"]);
    assert_eq!(r.code, 2, "a second org of the same name is refused");
    let r = takedown(&db, &["token", "create", "--org", "msft", "--role", "viewer"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let token = r.stdout.trim().to_string();
    assert!(token.starts_with("tdk_") && !token.contains(char::is_whitespace), "only the token: {:?}", r.stdout);
    assert_eq!(takedown(&db, &["token", "create", "--org", "nobody", "--role", "viewer"]).code, 2);
    assert_eq!(takedown(&db, &["token", "create", "--org", "msft", "--role", "king"]).code, 2);

    // A small STIX bundle, imported as msft's at TLP:GREEN.
    let bundle = dir.path().join("b.json");
    std::fs::write(
        &bundle,
        r#"{"type":"bundle","id":"bundle--6b1b8b4a-53b8-4b5d-9a4a-1b0b2f7e9c11","objects":[
        {"type":"malware","spec_version":"2.1","id":"malware--0b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d",
         "created":"2017-05-12T00:00:00.000Z","modified":"2017-05-12T00:00:00.000Z","name":"WannaCry","is_family":true}]}"#,
    )
    .unwrap();
    let b = bundle.to_str().unwrap();
    assert_eq!(takedown(&db, &["intel", "import", "--org", "nobody", "--tlp", "green", b]).code, 2);
    let r = takedown(&db, &["intel", "import", "--org", "msft", "--tlp", "green", b]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let discovery = loop {
        if let Some(answer) = http_get(port, "/taxii2/", Some(&token)) {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the server did not answer within 20 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(discovery.0, 200, "{}", discovery.1);
    let body = crate::common::json(&discovery.1);
    assert!(body["api_roots"][0].as_str().unwrap().ends_with("/taxii2/root/"));
    assert_eq!(http_get(port, "/taxii2/", None).unwrap().0, 401);
    let (status, objects) = http_get(
        port,
        "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/?match[type]=malware",
        Some(&token),
    )
    .unwrap();
    assert_eq!(status, 200);
    assert!(objects.contains("malware--0b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d"), "{objects}");

    // SIGTERM: a graceful stop.
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "serve exited with {status}");
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "serve did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `takedown serve`, stopped when dropped.
struct Server {
    child: std::process::Child,
    port: u16,
}

impl Server {
    fn start(db: &std::path::Path, token: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_takedown"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while http_get(port, "/taxii2/", Some(token)).is_none() {
            assert!(started.elapsed() < Duration::from_secs(20), "the server did not answer within 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
        Server { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn campaign_share_opens_amber_to_a_partner_and_remove_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for org in ["msft", "fb"] {
        assert_eq!(takedown(&db, &["org", "add", org]).code, 0);
    }
    let bundle = dir.path().join("b.json");
    std::fs::write(
        &bundle,
        r#"{"type":"bundle","id":"bundle--6b1b8b4a-53b8-4b5d-9a4a-1b0b2f7e9c12","objects":[
        {"type":"malware","spec_version":"2.1","id":"malware--1b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d",
         "created":"2017-05-12T00:00:00.000Z","modified":"2017-05-12T00:00:00.000Z","name":"Brambul","is_family":true}]}"#,
    )
    .unwrap();
    let r = takedown(&db, &["intel", "import", "--org", "msft", "--tlp", "amber", bundle.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(takedown(&db, &["campaign", "create", "zinc", "--org", "nobody"]).code, 2, "an unknown owner");
    let r = takedown(&db, &["campaign", "create", "zinc", "--org", "msft", "--tlp", "amber"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let store = takedown_store::Store::open(&db).unwrap();
    let finding = takedown_model::Finding {
        id: "sighting--00000000-0000-4000-8000-0000000000aa".into(),
        campaign: None,
        subject: takedown_model::Subject::Host { name: "ws-07".into() },
        indicator: None,
        detector: "sweep.hash".into(),
        summary: "Brambul on ws-07".into(),
        evidence: vec![],
        observed_at: chrono::Utc::now(),
        tlp: None,
    };
    store.record_findings("zinc", &[finding], "tester").unwrap();
    drop(store);
    let fb = takedown(&db, &["token", "create", "--org", "fb", "--role", "viewer"]).stdout.trim().to_string();

    let server = Server::start(&db, &fb);
    let objects = "/taxii2/root/collections/365fed99-08fa-fdcd-a1b3-fb247eb41d01/objects/?match[type]=malware";
    let sees = |port| {
        let (status, findings) = http_get(port, "/api/v1/campaigns/zinc/findings", Some(&fb)).unwrap();
        let rest = status == 200 && findings.contains("Brambul on ws-07");
        assert!(status == 200 || status == 404, "{status} {findings}");
        let (status, taxii) = http_get(port, objects, Some(&fb)).unwrap();
        assert_eq!(status, 200, "{taxii}");
        (rest, taxii.contains("malware--1b1a5c0e-9f4f-4b55-8a0a-6f1f2a3b4c5d"))
    };
    assert_eq!(sees(server.port), (false, false), "before sharing");

    let r = takedown(&db, &["campaign", "share", "zinc", "--with", "fb"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("now shared with fb"), "{}", r.stdout);
    assert_eq!(sees(server.port), (true, true), "after sharing");

    let r = takedown(&db, &["campaign", "share", "zinc", "--with", "fb", "--remove"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("no longer shared with fb"), "{}", r.stdout);
    assert_eq!(sees(server.port), (false, false), "after removing");
    drop(server);

    assert_eq!(takedown(&db, &["campaign", "share", "zinc", "--with", "nobody"]).code, 2);
    assert_eq!(takedown(&db, &["campaign", "share", "nope", "--with", "fb"]).code, 2);
    let r = takedown(&db, &["campaign", "share", "zinc", "--with", "msft"]);
    assert_eq!(r.code, 2, "the owner is not its own partner");
    assert!(r.stderr.contains("owns"), "{}", r.stderr);
    let store = takedown_store::Store::open(&db).unwrap();
    let verbs: Vec<String> = store.audit_events().unwrap().into_iter().map(|e| e.verb).collect();
    assert!(verbs.contains(&"campaign.share".into()) && verbs.contains(&"campaign.unshare".into()), "{verbs:?}");
}

/// A raw HTTP/1.1 request with a bearer token: status and body.
fn http(port: u16, method: &str, path: &str, token: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}

#[test]
fn demo_serve_prints_an_address_and_a_token_that_approves() {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(["demo", "--serve"])
        .env("NO_COLOR", "1")
        .env("TAKEDOWN_USER", "tester")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Read on a thread, so that a demo that never prints cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut addr = None;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix("dashboard: http://") {
                addr = rest.split('/').next().map(str::to_string);
            }
            if let Some(token) = line.strip_prefix("token: ") {
                let _ = tx.send((addr.clone(), token.trim().to_string()));
            }
        }
    });
    let received = rx.recv_timeout(Duration::from_secs(120));
    let stop = |mut child: std::process::Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    let Ok((Some(addr), token)) = received else {
        stop(child);
        panic!("demo --serve printed no address and token within 120 s");
    };
    let port: u16 = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let (status, login) = http(port, "GET", "/ui/login", "x");
    assert_eq!(status, 200);
    assert!(login.contains("API token"));
    let (status, body) = http(port, "GET", "/api/v1/campaigns", &token);
    assert_eq!(status, 200, "{body}");
    let name = crate::common::json(&body)["campaigns"][0]["name"].as_str().unwrap().to_string();
    let (_, body) = http(port, "GET", &format!("/api/v1/campaigns/{name}/actions"), &token);
    let actions = crate::common::json(&body)["actions"].as_array().unwrap().clone();
    // Hardening (a check of the capture's hosts over SMB) stays proposed in the tour too.
    let waiting: Vec<&serde_json::Value> =
        actions.iter().filter(|a| a["state"] == "proposed" && a["kind"] != "harden").collect();
    assert_eq!(waiting.len(), 1, "one action waits for approval: {actions:?}");
    assert_eq!(waiting[0]["proposed_by"], "alice");
    let id = waiting[0]["id"].as_str().unwrap();
    let (status, body) = http(port, "POST", &format!("/api/v1/campaigns/{name}/actions/{id}/approve"), &token);
    stop(child);
    assert_eq!(status, 200, "the printed token approves alice's proposal: {body}");
    assert_eq!(crate::common::json(&body)["action"]["approved_by"], "carol");
}
