//! `takedown plan | approve | run | undo | actions | block | harden` through the
//! binary.
#![allow(clippy::unwrap_used)]

use crate::common::{json, skip, takedown};
use std::io::Write;
use takedown_act::smb;
use takedown_model::{Finding, Subject};

fn finding(n: u32, subject: Subject, detector: &str) -> Finding {
    Finding {
        id: format!("sighting--00000000-0000-4000-8000-{n:012}"),
        campaign: None,
        subject,
        indicator: None,
        detector: detector.into(),
        summary: format!("seen by {detector}"),
        evidence: vec![],
        observed_at: chrono::Utc::now(),
        tlp: None,
    }
}

fn campaign_with_findings(db: &std::path::Path) {
    let r = takedown(db, &["campaign", "create", "zinc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let store = takedown_store::Store::open(db).unwrap();
    let fs = [
        finding(1, Subject::Account { platform: Some("scim".into()), id: "fake-1".into() }, "accounts.judged"),
        finding(2, Subject::Person { id: "p1".into(), email: Some("p1@example.org".into()) }, "accounts.exposure"),
        finding(3, Subject::Endpoint { ip: "evil.example".into(), port: None }, "net.c2"),
    ];
    store.record_findings("zinc", &fs, "alice").unwrap();
}

fn actions(db: &std::path::Path) -> Vec<serde_json::Value> {
    let r = takedown(db, &["--output-format", "json", "actions", "--campaign", "zinc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&r.stdout)["actions"].as_array().unwrap().clone()
}

fn id_of(list: &[serde_json::Value], kind: &str) -> String {
    list.iter().find(|a| a["action"]["kind"] == kind).unwrap()["action"]["id"].as_str().unwrap().to_string()
}

#[test]
fn plan_approve_run_twice_undo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    campaign_with_findings(&db);
    let r = takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("3 action(s) for 3 finding(s), 3 new"), "{}", r.stdout);
    let list = actions(&db);
    let (disable, notify, block) = (id_of(&list, "disable-account"), id_of(&list, "notify"), id_of(&list, "block"));

    // Two-person rule: alice proposed the disable, so alice cannot approve it.
    let r = takedown(&db, &["--user", "alice", "approve", &disable]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("two-person rule"), "{}", r.stderr);
    let r = takedown(&db, &["--user", "bob", "approve", &disable, &notify, &block]);
    assert_eq!(r.code, 0, "{}", r.stderr);

    let outbox = dir.path().join("outbox");
    let outbox_s = outbox.to_str().unwrap();
    let run = ["--user", "bob", "run", "--campaign", "zinc", "--outbox", outbox_s, "--dry-run-accounts"];
    let r = takedown(&db, &run);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let states: Vec<(String, String)> = actions(&db)
        .iter()
        .map(|a| (a["action"]["kind"].as_str().unwrap().into(), a["action"]["state"].as_str().unwrap().into()))
        .collect();
    assert!(states.contains(&("disable-account".into(), "verified".into())), "{states:?}");
    assert!(states.contains(&("notify".into(), "verified".into())), "{states:?}");
    assert!(states.contains(&("block".into(), "done".into())), "{states:?}");
    let emls = || {
        std::fs::read_dir(&outbox)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "eml"))
            .count()
    };
    assert_eq!(emls(), 1);
    let eml = std::fs::read_dir(&outbox)
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .unwrap();
    let text = std::fs::read_to_string(eml.path()).unwrap();
    assert!(text.contains("fake-1") && text.contains("p1@example.org"), "{text}");

    // Run again: nothing approved is left, nothing is sent twice.
    let r = takedown(&db, &run);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("no approved actions"), "{}", r.stdout);
    assert_eq!(emls(), 1);

    let r = takedown(&db, &["--user", "bob", "undo", &disable, "--dry-run-accounts", "--outbox", outbox_s]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let log = std::fs::read_to_string(outbox.join("accounts-dry-run.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2, "{log}");
    assert!(log.lines().last().unwrap().contains("\"value\":true"));
    // A notice cannot be unsent: a clear refusal, exit 2.
    let r = takedown(&db, &["--user", "bob", "undo", &notify]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be unsent"), "{}", r.stderr);
    let r = takedown(&db, &["audit", "verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn an_action_left_running_by_a_dead_run_is_abandoned_then_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    campaign_with_findings(&db);
    let r = takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let disable = id_of(&actions(&db), "disable-account");
    let r = takedown(&db, &["--user", "bob", "approve", &disable]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A run that took the action and was killed before it recorded the outcome.
    let store = takedown_store::Store::open(&db).unwrap();
    let running = takedown_store::Transition {
        to: takedown_model::ActionState::Running,
        who: "bob",
        approver: None,
        result: None,
        detail: serde_json::json!({}),
    };
    store.move_action(&disable, running).unwrap();
    drop(store);
    let state = |db: &std::path::Path| {
        let list = actions(db);
        list.iter().find(|a| a["action"]["id"] == disable.as_str()).unwrap()["action"]["state"].clone()
    };

    // A later run leaves it alone, and only an action that is running can be abandoned.
    let outbox = dir.path().join("outbox");
    let run =
        ["--user", "bob", "run", "--campaign", "zinc", "--outbox", outbox.to_str().unwrap(), "--dry-run-accounts"];
    let r = takedown(&db, &run);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(state(&db), "running");
    let r = takedown(&db, &["--user", "bob", "abandon", &disable]);
    assert_eq!(r.code, 2, "--reason is required");
    let r = takedown(&db, &["--user", "bob", "abandon", &disable, "--reason", "run killed at 14:02"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("abandoned: run killed at 14:02"), "{}", r.stdout);
    assert_eq!(state(&db), "failed");
    let r = takedown(&db, &["--user", "bob", "abandon", &disable, "--reason", "again"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is failed; only an action left running"), "{}", r.stderr);

    // Approved again, it runs to the end.
    let r = takedown(&db, &["--user", "bob", "approve", &disable]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = takedown(&db, &run);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(state(&db), "verified");
    let r = takedown(&db, &["--output-format", "ndjson", "audit", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let failed: Vec<&str> = r.stdout.lines().filter(|l| l.contains("\"action.failed\"")).collect();
    assert_eq!(failed.len(), 1, "{}", r.stdout);
    assert!(failed[0].contains("run killed at 14:02") && failed[0].contains("bob"), "{}", failed[0]);
    let r = takedown(&db, &["audit", "verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn block_export_sinkholes_the_kill_switch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = dir.path().join("zone.rpz");
    let kill = "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com";
    let r = takedown(
        &db,
        &[
            "block",
            "--indicator",
            "evil.example",
            "--indicator",
            kill,
            "--indicator",
            "198.51.100.7",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zone = std::fs::read_to_string(&out).unwrap();
    assert!(zone.contains(&format!("{kill} IN A 192.0.2.1")), "{zone}");
    assert!(zone.contains("kill switch") && zone.contains("evil.example IN CNAME ."));
    let r = takedown(&db, &["block", "--indicator", "not a domain"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("neither a domain name nor an IP address"), "{}", r.stderr);
    let r = takedown(&db, &["block", "--format", "suricata", "--indicator", kill]);
    assert!(r.stdout.contains("alert dns") && !r.stdout.contains("drop dns"), "{}", r.stdout);
}

#[test]
fn harden_check_contract_on_a_vulnerable_host() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let addr = smb::unpatched_responder().unwrap();
    let r = takedown(&db, &["harden", "check", "--output-format", "json", &addr]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v = json(&r.stdout);
    let t = &v["targets"][0];
    assert_eq!(t["target"], addr.as_str());
    assert_eq!(t["smb1"], true);
    assert_eq!(t["ms17_010"], "vulnerable");
    assert!(t["evidence"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().contains("0xC0000205")));
}

#[test]
fn harden_check_bad_target_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = takedown(&db, &["harden", "check", "--output-format", "json", &format!("127.0.0.1:{port}")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot connect") && r.stdout.is_empty(), "{}", r.stderr);
    let r = takedown(&db, &["harden", "check", "no such host name:445"]);
    assert_eq!(r.code, 2);
}

#[test]
fn harden_check_against_samba() {
    let (Ok(on), Ok(off)) = (std::env::var("TAKEDOWN_SMB1_ON"), std::env::var("TAKEDOWN_SMB1_OFF")) else {
        skip("TAKEDOWN_SMB1_ON / TAKEDOWN_SMB1_OFF are not set (.ci/setup.d/60-act.sh starts smbd)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["harden", "check", "--output-format", "json", &on]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(json(&r.stdout)["targets"][0]["smb1"], true);
    let r = takedown(&db, &["harden", "check", "--output-format", "json", &off]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(json(&r.stdout)["targets"][0]["smb1"], false);

    // As actions: planned from SMB1 findings, run, the fix marked applied.
    assert_eq!(takedown(&db, &["campaign", "create", "zinc"]).code, 0);
    let endpoint = |hp: &str| {
        let (ip, port) = hp.rsplit_once(':').unwrap();
        Subject::Endpoint { ip: ip.into(), port: Some(port.parse().unwrap()) }
    };
    let store = takedown_store::Store::open(&db).unwrap();
    let fs = [finding(1, endpoint(&on), "net.smb1"), finding(2, endpoint(&off), "net.smb1")];
    store.record_findings("zinc", &fs, "alice").unwrap();
    assert_eq!(takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]).code, 0);
    let list = actions(&db);
    let ids: Vec<&str> = list.iter().map(|a| a["action"]["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(takedown(&db, &[&["--user", "bob", "approve"][..], &ids].concat()).code, 0);
    let r = takedown(&db, &["--user", "bob", "run", "--campaign", "zinc"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let on_port: u16 = on.rsplit_once(':').unwrap().1.parse().unwrap();
    let on_action = list.iter().find(|a| a["action"]["target"]["port"] == on_port).unwrap();
    let on_id = on_action["action"]["id"].as_str().unwrap().to_string();
    let r = takedown(&db, &["actions", "--campaign", "zinc"]);
    assert!(r.stdout.contains("fix recorded"), "{}", r.stdout);
    let r = takedown(&db, &["--user", "carol", "harden", "applied", &on_id]);
    assert_eq!(r.code, 1, "still at risk: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("SMB1 still accepted"), "{}", r.stdout);
    let r = takedown(&db, &["actions", "--campaign", "zinc"]);
    assert!(r.stdout.contains("fix applied by carol; re-check: still at risk"), "{}", r.stdout);
}

/// A campaign with one person to warn at a fresh address; the notify action's id.
fn campaign_with_person(db: &std::path::Path, email: &str) -> String {
    assert_eq!(takedown(db, &["campaign", "create", "zinc"]).code, 0);
    let store = takedown_store::Store::open(db).unwrap();
    let person = Subject::Person { id: email.into(), email: Some(email.into()) };
    store.record_findings("zinc", &[finding(9, person, "accounts.exposure")], "alice").unwrap();
    assert_eq!(takedown(db, &["--user", "alice", "plan", "--campaign", "zinc"]).code, 0);
    let id = id_of(&actions(db), "notify");
    assert_eq!(takedown(db, &["--user", "bob", "approve", &id]).code, 0);
    id
}

#[test]
fn run_sends_over_starttls_with_smtp_ca() {
    let vars = ["TAKEDOWN_SMTP_STARTTLS", "TAKEDOWN_SMTP_CA", "TAKEDOWN_SMTP_MAILBOX"].map(std::env::var);
    let [Ok(relay), Ok(ca), Ok(mailbox)] = vars else {
        skip("TAKEDOWN_SMTP_STARTTLS / TAKEDOWN_SMTP_CA / TAKEDOWN_SMTP_MAILBOX are not set (.ci/setup.d/60-act.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let email = format!("cli-{}-{now}@example.org", std::process::id());
    campaign_with_person(&db, &email);
    // Plain SMTP to a relay that requires STARTTLS: the action fails (exit 1) and
    // says what to change; nothing is sent.
    let plain = ["--user", "bob", "run", "--campaign", "zinc", "--smtp", &relay, "--smtp-tls", "none"];
    let r = takedown(&db, &plain);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("failed") && r.stdout.contains("--smtp-tls starttls"), "{}", r.stdout);
    let arrived = || {
        ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(std::path::Path::new(&mailbox).join(d)).ok())
            .flatten()
            .flatten()
            .filter(|e| std::fs::read_to_string(e.path()).unwrap_or_default().contains(&email))
            .count()
    };
    assert_eq!(arrived(), 0);

    // STARTTLS with the relay's CA trusted: sent once, and the outcome says how.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    campaign_with_person(&db, &email);
    let tls = ["--smtp", relay.as_str(), "--smtp-tls", "starttls", "--smtp-ca", ca.as_str()];
    let r = takedown(&db, &[&["--user", "bob", "run", "--campaign", "zinc"][..], &tls].concat());
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("verified") && r.stdout.contains("starttls"), "{}", r.stdout);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(arrived(), 1);
}

#[test]
fn bad_smtp_options_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    campaign_with_person(&db, "x@example.org");
    let missing = dir.path().join("no-such-ca.pem");
    let base = ["--user", "bob", "run", "--campaign", "zinc", "--smtp", "127.0.0.1:25"];
    let r = takedown(&db, &[&base[..], &["--smtp-ca", missing.to_str().unwrap()]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--smtp-ca") && r.stderr.contains("no-such-ca.pem"), "{}", r.stderr);
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").unwrap();
    let r = takedown(&db, &[&base[..], &["--smtp-ca", junk.to_str().unwrap()]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not PEM"), "{}", r.stderr);
    let r = takedown(&db, &[&base[..], &["--smtp-tls", "maybe"]].concat());
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Nothing ran: the action is still approved.
    assert!(actions(&db).iter().all(|a| a["action"]["state"] == "approved"));
}

/// One HTTP/1.1 exchange with the SCIM server (`http://HOST:PORT/PATH`); the answer's body.
fn scim_http(method: &str, url: &str, token: &str, body: &serde_json::Value) -> String {
    use std::io::Read;
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let body = body.to_string();
    let req = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.split(' ').nth(1).is_some_and(|c| c.starts_with('2')), "{answer}");
    answer.split_once("\r\n\r\n").unwrap().1.to_string()
}

#[test]
fn undo_stops_on_a_scim_412_with_a_clear_message() {
    let (Ok(url), Ok(token)) = (std::env::var("TAKEDOWN_SCIM_URL"), std::env::var("TAKEDOWN_SCIM_TOKEN")) else {
        skip("TAKEDOWN_SCIM_URL / TAKEDOWN_SCIM_TOKEN are not set (.ci/setup.d/60-act.sh starts scim2-server)");
        return;
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("cli-fake-{}-{now}", std::process::id());
    let user = serde_json::json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name });
    let id = json(&scim_http("POST", &format!("{url}/Users"), &token, &user))["id"].as_str().unwrap().to_string();

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert_eq!(takedown(&db, &["campaign", "create", "zinc"]).code, 0);
    let store = takedown_store::Store::open(&db).unwrap();
    let account = Subject::Account { platform: Some("scim".into()), id: id.clone() };
    store.record_findings("zinc", &[finding(7, account, "accounts.confirmed")], "alice").unwrap();
    assert_eq!(takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]).code, 0);
    let action = id_of(&actions(&db), "disable-account");
    assert_eq!(takedown(&db, &["--user", "bob", "approve", &action]).code, 0);
    let r = takedown(&db, &["--user", "bob", "run", "--campaign", "zinc", "--scim", &url]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("verified"), "{}", r.stdout);

    let patch = serde_json::json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "path": "displayName", "value": "changed by the IdP team" }] });
    scim_http("PATCH", &format!("{url}/Users/{id}"), &token, &patch);
    let r = takedown(&db, &["--user", "bob", "undo", &action, "--scim", &url]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("undo stopped") && r.stderr.contains("412"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(actions(&db).iter().all(|a| a["action"]["state"] == "verified"));
}

#[test]
fn run_disables_through_the_webhook_receiver() {
    let vars = ["TAKEDOWN_WEBHOOK_URL", "TAKEDOWN_WEBHOOK_SECRET", "TAKEDOWN_WEBHOOK_LOG"].map(std::env::var);
    let [Ok(url), Ok(secret), Ok(log)] = vars else {
        skip("TAKEDOWN_WEBHOOK_URL / _SECRET / _LOG are not set (.ci/setup.d/60-act.sh starts webhook)");
        return;
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let setup = |account: &str| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        assert_eq!(takedown(&db, &["campaign", "create", "zinc"]).code, 0);
        let store = takedown_store::Store::open(&db).unwrap();
        let subject = Subject::Account { platform: None, id: account.into() };
        store.record_findings("zinc", &[finding(5, subject, "accounts.judged")], "alice").unwrap();
        assert_eq!(takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]).code, 0);
        let id = id_of(&actions(&db), "disable-account");
        assert_eq!(takedown(&db, &["--user", "bob", "approve", &id]).code, 0);
        (dir, db)
    };
    let received = |account: &str| {
        std::fs::read_to_string(&log).unwrap_or_default().lines().filter(|l| l.contains(account)).count()
    };

    let good = format!("cli-wh-{now}");
    let (_dir, db) = setup(&good);
    let r =
        takedown(&db, &["--user", "bob", "run", "--campaign", "zinc", "--webhook", &url, "--webhook-secret", &secret]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("done") && r.stdout.contains("webhook"), "{}", r.stdout);
    assert_eq!(received(&good), 1);

    let bad = format!("cli-wh-bad-{now}");
    let (_dir, db) = setup(&bad);
    let r = takedown(
        &db,
        &[
            "--user",
            "bob",
            "run",
            "--campaign",
            "zinc",
            "--webhook",
            &url,
            "--webhook-secret",
            "wrong",
            "--attempts",
            "1",
        ],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("failed") && r.stdout.contains("--webhook-secret"), "{}", r.stdout);
    assert_eq!(received(&bad), 0);
}
