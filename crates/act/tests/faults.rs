//! The issue's "bad input and faults": connectors that answer errors are retried
//! with backoff and then fail the action with the reason; a retry never flips an
//! account twice or warns a person twice; a SCIM 412 stops an undo with a clear
//! message. Against scim2-server and aiosmtpd (started by .ci/setup.d/60-act.sh;
//! skipped without them, failing under TAKEDOWN_REQUIRE_PEERS) and, where a real
//! server cannot be made to fail on demand, small fault injectors on 127.0.0.1.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use takedown_act::notice::{Smtp, SmtpTls};
use takedown_act::plan::{approve, plan, Policy};
use takedown_act::run::{run_approved, undo, Connectors};
use takedown_act::scim::Scim;
use takedown_act::ActError;
use takedown_model::{ActionState, Campaign, Finding, Subject, Tlp};
use takedown_store::Store;

mod common;
use common::{approved, finding, peer, quick, unique};

fn connectors<'a>(
    directory: Option<&'a dyn takedown_act::directory::AccountDirectory>,
    mailer: Option<&'a dyn takedown_act::notice::Mailer>,
) -> Connectors<'a> {
    let notice = takedown_act::notice::NoticeContext {
        organisation: "Example Org".into(),
        from: "security@example.org".into(),
        accounts: vec![],
    };
    Connectors { directory, mailer, vault: None, cleaner: None, notice, retry: quick() }
}

fn verbs(store: &Store) -> Vec<String> {
    store.audit_events().unwrap().into_iter().map(|e| e.verb).collect()
}

/// One HTTP/1.1 message off a stream: head and body (Content-Length framed).
fn read_http(r: &mut BufReader<TcpStream>) -> Option<(String, Vec<u8>)> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((head, body))
}

/// An HTTP server that answers every request 503, counting them.
fn always_503() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}/v2", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let mut w = conn;
            while read_http(&mut r).is_some() {
                seen.fetch_add(1, Ordering::SeqCst);
                let body = "{\"detail\":\"maintenance\"}";
                let answer = format!(
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                if w.write_all(answer.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (base, count)
}

#[test]
fn scim_answering_503_is_retried_with_backoff_then_the_action_fails() {
    let (base, count) = always_503();
    let store = approved(&[finding(Subject::Account { platform: None, id: "u1".into() }, "accounts.confirmed")]);
    let scim = Scim::new(&base, None, quick());
    let started = Instant::now();
    let out = run_approved(&store, "zinc", "bob", &connectors(Some(&scim), None)).unwrap();
    let took = started.elapsed();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    assert!(out[0].detail.contains("after 3 attempt(s)") && out[0].detail.contains("503"), "{}", out[0].detail);
    // The first read of the user is what fails: three tries, nothing written.
    assert_eq!(count.load(Ordering::SeqCst), 3);
    // Waits of 50 and 100 ms between the three tries.
    assert!(took >= Duration::from_millis(150), "no backoff: {took:?}");
    let stored = store.action(&out[0].id).unwrap().unwrap();
    assert_eq!(stored.action.state, ActionState::Failed);
    assert!(stored.result.unwrap()["error"].as_str().unwrap().contains("503"));
    assert!(verbs(&store).iter().any(|v| v == "action.failed"));
}

/// A proxy in front of the SCIM server that forwards everything, but the first
/// time the server accepts a PATCH, closes the connection instead of passing the
/// answer on: the change is made and the client does not hear of it. Counts the
/// PATCHes the server accepted.
fn losing_proxy(upstream: &str) -> (String, Arc<AtomicUsize>) {
    let upstream = upstream.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { return };
            let seen = seen.clone();
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let mut from_client = BufReader::new(client.try_clone().unwrap());
                let mut to_client = client;
                let server = TcpStream::connect(&upstream).unwrap();
                let mut from_server = BufReader::new(server.try_clone().unwrap());
                let mut to_server = server;
                while let Some((head, body)) = read_http(&mut from_client) {
                    to_server.write_all(head.as_bytes()).unwrap();
                    to_server.write_all(&body).unwrap();
                    let Some((answer, answer_body)) = read_http(&mut from_server) else { return };
                    let ok = answer.split(' ').nth(1).is_some_and(|c| c.starts_with('2'));
                    if head.starts_with("PATCH ") && ok && seen.fetch_add(1, Ordering::SeqCst) == 0 {
                        return; // the answer is lost
                    }
                    if to_client.write_all(answer.as_bytes()).and_then(|_| to_client.write_all(&answer_body)).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/v2"), accepted)
}

fn scim_user(url: &str, token: &str) -> String {
    let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": unique("fake-"), "active": true });
    let resp = ureq::post(&format!("{url}/Users"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .send_string(&body.to_string())
        .unwrap();
    let v: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn scim_active(url: &str, token: &str, id: &str) -> bool {
    let resp = ureq::get(&format!("{url}/Users/{id}")).set("Authorization", &format!("Bearer {token}")).call().unwrap();
    let v: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    v["active"].as_bool().unwrap()
}

#[test]
fn a_lost_scim_answer_is_retried_without_flipping_the_account_twice() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token);
    let (proxied, accepted) = losing_proxy(&url);
    let store = approved(&[finding(Subject::Account { platform: None, id: user.clone() }, "accounts.judged")]);
    let scim = Scim::new(&proxied, Some(token.clone()), quick());
    let out = run_approved(&store, "zinc", "bob", &connectors(Some(&scim), None)).unwrap();
    // The retried PATCH carries the ETag read before the first: the server refuses
    // it (412), the connector reads the user again and finds it already disabled.
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "the server accepted more than one PATCH");
    assert!(!scim_active(&url, &token, &user));
    // Takedown disabled it, so undo enables it again.
    let c = connectors(Some(&scim), None);
    assert_eq!(undo(&store, &out[0].id, "bob", &c).unwrap().state, ActionState::Undone);
    assert!(scim_active(&url, &token, &user));
}

#[test]
fn a_failed_disable_approved_again_flips_once() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token);
    let store = approved(&[finding(Subject::Account { platform: None, id: user.clone() }, "accounts.judged")]);
    let (down, _) = always_503();
    let out = run_approved(&store, "zinc", "bob", &connectors(Some(&Scim::new(&down, None, quick())), None)).unwrap();
    assert_eq!(out[0].state, ActionState::Failed);
    // Approved again once the server is back; run twice.
    approve(&store, &out[0].id, "bob", Policy::default()).unwrap();
    let scim = Scim::new(&url, Some(token.clone()), quick());
    let out = run_approved(&store, "zinc", "bob", &connectors(Some(&scim), None)).unwrap();
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    assert!(run_approved(&store, "zinc", "bob", &connectors(Some(&scim), None)).unwrap().is_empty());
    let flips = verbs(&store).iter().filter(|v| *v == "action.done").count();
    assert_eq!(flips, 1);
    assert!(!scim_active(&url, &token, &user));
}

#[test]
fn a_scim_412_stops_the_undo_and_leaves_the_action_as_it_was() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token);
    let store = approved(&[finding(Subject::Account { platform: None, id: user.clone() }, "accounts.judged")]);
    let scim = Scim::new(&url, Some(token.clone()), quick());
    let c = connectors(Some(&scim), None);
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    // An administrator changes the account on the server meanwhile.
    let patch = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{ "op": "replace", "path": "displayName", "value": "looked at by the IdP team" }] });
    ureq::request("PATCH", &format!("{url}/Users/{user}"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .send_string(&patch.to_string())
        .unwrap();
    let err = undo(&store, &out[0].id, "bob", &c).unwrap_err();
    assert!(matches!(err, ActError::Conflict(_)), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("undo stopped") && msg.contains("412") && msg.contains("by hand"), "{msg}");
    assert_eq!(store.action(&out[0].id).unwrap().unwrap().action.state, ActionState::Verified);
    assert!(!scim_active(&url, &token, &user), "the account must stay disabled");
    let trail = store.audit_events().unwrap();
    let refused = trail.iter().find(|e| e.verb == "action.undo-refused").expect("the refusal is audited");
    assert!(refused.detail.contains("412"), "{}", refused.detail);
}

/// An SMTP server that answers 421 (try later) to every greeting, counting them.
fn smtp_421() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = conn.write_all(b"421 4.3.2 busy, try again later\r\n");
        }
    });
    (port, count)
}

#[test]
fn smtp_421_is_retried_then_fails_and_a_later_run_sends_once() {
    let (Some(smtp), Some(mailbox)) = (peer("TAKEDOWN_SMTP"), peer("TAKEDOWN_SMTP_MAILBOX")) else { return };
    let email = format!("{}@example.org", unique("busy-"));
    let store = approved(&[finding(Subject::Person { id: unique("p-"), email: Some(email.clone()) }, "x.exposure")]);
    let (port, count) = smtp_421();
    let busy = Smtp::new("127.0.0.1", port, SmtpTls::Auto, None).unwrap();
    let out = run_approved(&store, "zinc", "bob", &connectors(None, Some(&busy))).unwrap();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    assert!(out[0].detail.contains("421") && out[0].detail.contains("after 3 attempt(s)"), "{}", out[0].detail);
    assert_eq!(count.load(Ordering::SeqCst), 3);
    let n = &store.notices("zinc").unwrap()[0];
    assert_eq!((n.state.as_str(), n.attempts), ("failed", 3));

    // Approved again, run against the real relay twice: one message.
    approve(&store, &out[0].id, "bob", Policy::default()).unwrap();
    let (host, port) = smtp.rsplit_once(':').unwrap();
    let relay = Smtp::new(host, port.parse().unwrap(), SmtpTls::Auto, None).unwrap();
    let out = run_approved(&store, "zinc", "bob", &connectors(None, Some(&relay))).unwrap();
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    assert!(run_approved(&store, "zinc", "bob", &connectors(None, Some(&relay))).unwrap().is_empty());
    std::thread::sleep(Duration::from_millis(300));
    let arrived: usize = ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(std::path::Path::new(&mailbox).join(d)).ok())
        .flatten()
        .flatten()
        .filter(|e| std::fs::read_to_string(e.path()).unwrap_or_default().contains(&email))
        .count();
    assert_eq!(arrived, 1);
    let n = &store.notices("zinc").unwrap()[0];
    assert_eq!((n.state.as_str(), n.attempts), ("sent", 4));
}

/// A proxy in front of the SMTP relay that passes everything on, but once the
/// message has been handed over (the lone "." after DATA), closes the connection
/// instead of passing on the relay's answer: the relay has the message and the
/// client does not know it.
fn smtp_losing_answer(upstream: &str) -> u16 {
    let upstream = upstream.to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { return };
            let server = TcpStream::connect(&upstream).unwrap();
            let handed_over = Arc::new(AtomicUsize::new(0));
            // Relay to client, line by line, until the answer after the message.
            let (mut to_client, from_server) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let done = handed_over.clone();
            let down = std::thread::spawn(move || {
                let mut r = BufReader::new(from_server);
                let mut line = Vec::new();
                while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                    if done.load(Ordering::SeqCst) == 1 {
                        // The relay's answer to the message: lost.
                        let _ = to_client.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    if to_client.write_all(&line).is_err() {
                        return;
                    }
                    line.clear();
                }
            });
            let mut r = BufReader::new(client);
            let mut to_server = server;
            let mut in_data = false;
            let mut line = Vec::new();
            while r.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                if in_data && line == b".\r\n" {
                    handed_over.store(1, Ordering::SeqCst);
                }
                if line.eq_ignore_ascii_case(b"DATA\r\n") {
                    in_data = true;
                }
                if to_server.write_all(&line).is_err() {
                    break;
                }
                line.clear();
            }
            let _ = down.join();
        }
    });
    port
}

#[test]
fn a_notice_whose_answer_was_lost_is_never_sent_again() {
    let (Some(smtp), Some(mailbox)) = (peer("TAKEDOWN_SMTP"), peer("TAKEDOWN_SMTP_MAILBOX")) else { return };
    let email = format!("{}@example.org", unique("lost-"));
    let store = approved(&[finding(Subject::Person { id: unique("p-"), email: Some(email.clone()) }, "x.exposure")]);
    let port = smtp_losing_answer(&smtp);
    let lossy = Smtp::new("127.0.0.1", port, SmtpTls::None, None).unwrap();
    let out = run_approved(&store, "zinc", "bob", &connectors(None, Some(&lossy))).unwrap();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    assert!(
        out[0].detail.contains("may have been delivered") && out[0].detail.contains("Message-ID"),
        "{}",
        out[0].detail
    );
    let n = &store.notices("zinc").unwrap()[0];
    assert_eq!((n.state.as_str(), n.attempts), ("failed", 1), "not retried");
    assert!(n.message_id.is_some());

    // Approved again and run against the relay itself: still not sent again.
    approve(&store, &out[0].id, "bob", Policy::default()).unwrap();
    let (host, port) = smtp.rsplit_once(':').unwrap();
    let relay = Smtp::new(host, port.parse().unwrap(), SmtpTls::None, None).unwrap();
    let out = run_approved(&store, "zinc", "bob", &connectors(None, Some(&relay))).unwrap();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    assert!(out[0].detail.contains("not sent again"), "{}", out[0].detail);
    std::thread::sleep(Duration::from_millis(300));
    let arrived: usize = ["new", "cur"]
        .iter()
        .filter_map(|d| std::fs::read_dir(std::path::Path::new(&mailbox).join(d)).ok())
        .flatten()
        .flatten()
        .filter(|e| std::fs::read_to_string(e.path()).unwrap_or_default().contains(&email))
        .count();
    assert_eq!(arrived, 1, "the relay got the message once");
}

/// A mailer that takes its time and counts what it delivered.
struct SlowCounter(Arc<AtomicUsize>);

impl takedown_act::notice::Mailer for SlowCounter {
    fn describe(&self) -> String {
        "slow counter".into()
    }
    fn deliver(&self, _: &lettre::Message, _: &str) -> takedown_act::notice::Delivery {
        std::thread::sleep(Duration::from_millis(150));
        self.0.fetch_add(1, Ordering::SeqCst);
        takedown_act::notice::Delivery::Delivered("250 counted".into())
    }
}

#[test]
fn two_runs_at_once_send_each_notice_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    {
        let store = Store::open(&db).unwrap();
        let c = Campaign {
            id: "grouping--8".into(),
            name: "zinc".into(),
            actor: None,
            description: None,
            tlp: Tlp::Amber,
            created: chrono::Utc::now(),
        };
        store.create_campaign(&c, "alice").unwrap();
        let people: Vec<Finding> = (0..4)
            .map(|n| {
                let email = format!("p{n}@example.org");
                finding(Subject::Person { id: format!("p{n}"), email: Some(email) }, "x.exposure")
            })
            .collect();
        store.record_findings("zinc", &people, "alice").unwrap();
        let actions = plan("zinc", &people, "alice");
        store.propose_actions("zinc", &actions, "alice").unwrap();
        for a in &actions {
            approve(&store, &a.id, "bob", Policy::default()).unwrap();
        }
    }
    let sent = Arc::new(AtomicUsize::new(0));
    let runs: Vec<_> = ["bob", "carol"]
        .into_iter()
        .map(|who| {
            let (db, sent) = (db.clone(), sent.clone());
            std::thread::spawn(move || {
                let store = Store::open(&db).unwrap();
                let mailer = SlowCounter(sent);
                run_approved(&store, "zinc", who, &connectors(None, Some(&mailer))).unwrap()
            })
        })
        .collect();
    let outcomes: Vec<_> = runs.into_iter().flat_map(|r| r.join().unwrap()).collect();
    assert_eq!(sent.load(Ordering::SeqCst), 4, "{outcomes:?}");
    let store = Store::open(&db).unwrap();
    assert!(store.actions("zinc").unwrap().iter().all(|s| s.action.state == ActionState::Verified));
    assert!(store.notices("zinc").unwrap().iter().all(|n| n.attempts == 1));
}

/// A proxy in front of the SCIM server standing in for a provider that refuses a
/// PATCH with a `path` on `active` (400 invalidPath, as some do) and passes
/// everything else on. Counts the refusals.
fn path_refusing_proxy(upstream: &str) -> (String, Arc<AtomicUsize>) {
    let upstream = upstream.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let refused = Arc::new(AtomicUsize::new(0));
    let seen = refused.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { return };
            let (seen, upstream) = (seen.clone(), upstream.clone());
            std::thread::spawn(move || {
                let mut from_client = BufReader::new(client.try_clone().unwrap());
                let mut to_client = client;
                while let Some((head, body)) = read_http(&mut from_client) {
                    let answer = if head.starts_with("PATCH ") && String::from_utf8_lossy(&body).contains("\"path\"") {
                        seen.fetch_add(1, Ordering::SeqCst);
                        let b = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidPath"}"#;
                        format!("HTTP/1.1 400 Bad Request\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{b}", b.len())
                            .into_bytes()
                    } else {
                        // One exchange per upstream connection, answer read to its end.
                        let mut server = TcpStream::connect(&upstream).unwrap();
                        let head = head.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                        server.write_all(head.as_bytes()).unwrap();
                        server.write_all(&body).unwrap();
                        let mut r = BufReader::new(server);
                        let Some((h, b)) = read_http(&mut r) else { return };
                        [h.into_bytes(), b].concat()
                    };
                    if to_client.write_all(&answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}/v2"), refused)
}

#[test]
fn a_provider_that_refuses_the_path_form_gets_the_pathless_form() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token);
    let (proxied, refused) = path_refusing_proxy(&url);
    let store = approved(&[finding(Subject::Account { platform: None, id: user.clone() }, "accounts.judged")]);
    let scim = Scim::new(&proxied, Some(token.clone()), quick());
    let c = connectors(Some(&scim), None);
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    assert_eq!(refused.load(Ordering::SeqCst), 1, "the path form first, then the pathless one");
    // The real server took the pathless form: the account is disabled there.
    assert!(!scim_active(&url, &token, &user));
    assert_eq!(undo(&store, &out[0].id, "bob", &c).unwrap().state, ActionState::Undone);
    assert!(scim_active(&url, &token, &user));
    assert_eq!(refused.load(Ordering::SeqCst), 2);
}
