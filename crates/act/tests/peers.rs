//! The connectors against real peers on 127.0.0.1, started by `.ci/setup.d/60-act.sh`:
//! scim2-server (TAKEDOWN_SCIM_URL, TAKEDOWN_SCIM_TOKEN), aiosmtpd (TAKEDOWN_SMTP,
//! TAKEDOWN_SMTP_MAILBOX), smbd with and without SMB1 (TAKEDOWN_SMB1_ON,
//! TAKEDOWN_SMB1_OFF and their *_CONF files), Debian's webhook with a hook that checks
//! our signature (TAKEDOWN_WEBHOOK_URL, TAKEDOWN_WEBHOOK_SECRET, and
//! TAKEDOWN_WEBHOOK_LOG, where it records what it accepted). Without them the tests skip; under
//! TAKEDOWN_REQUIRE_PEERS they fail instead.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::time::Duration;
use takedown_act::directory::{AccountDirectory, Webhook};
use takedown_act::notice::{NoticeContext, Smtp, SmtpTls};
use takedown_act::plan::{approve, plan, Policy};
use takedown_act::run::{run_approved, undo, Connectors};
use takedown_act::scim::Scim;
use takedown_act::smb::{self, Ms17010};
use takedown_act::ActError;
use takedown_model::{ActionState, Subject};
use takedown_store::Store;

mod common;
use common::{approved, campaign, finding, peer, quick, unique};

fn notice_ctx() -> NoticeContext {
    NoticeContext {
        organisation: "Example Org".into(),
        from: "security@example.org".into(),
        accounts: vec!["@fake1".into()],
    }
}

/// Creates a SCIM user directly (as the identity provider would have it).
fn scim_user(url: &str, token: &str, name: &str) -> String {
    let body = json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name, "active": true });
    let resp = ureq::post(&format!("{url}/Users"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .send_string(&body.to_string())
        .unwrap();
    let v: Value = serde_json::from_str(&resp.into_string().unwrap()).unwrap();
    v["id"].as_str().unwrap().to_string()
}

fn scim_get(url: &str, token: &str, id: &str) -> Value {
    let resp = ureq::get(&format!("{url}/Users/{id}")).set("Authorization", &format!("Bearer {token}")).call().unwrap();
    serde_json::from_str(&resp.into_string().unwrap()).unwrap()
}

#[test]
fn scim_disable_verify_undo_through_the_runner() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token, &unique("fake-"));
    let store =
        approved(&[finding(Subject::Account { platform: Some("scim".into()), id: user.clone() }, "accounts.judged")]);
    let scim = Scim::new(&url, Some(token.clone()), quick());
    let c = Connectors {
        directory: Some(&scim),
        mailer: None,
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    // What the server holds, read independently of the connector.
    assert_eq!(scim_get(&url, &token, &user)["active"], false);
    // Running again finds nothing approved: the account is not flipped twice.
    assert!(run_approved(&store, "zinc", "bob", &c).unwrap().is_empty());
    let id = out[0].id.clone();
    let undone = undo(&store, &id, "bob", &c).unwrap();
    assert_eq!(undone.state, ActionState::Undone);
    assert_eq!(scim_get(&url, &token, &user)["active"], true);
    let verbs: Vec<String> = store.audit_events().unwrap().into_iter().map(|e| e.verb).collect();
    for v in ["action.propose", "action.approved", "action.running", "action.done", "action.verified", "action.undone"]
    {
        assert!(verbs.iter().any(|x| x == v), "no {v} in {verbs:?}");
    }
}

#[test]
fn scim_disable_twice_changes_once_and_a_412_stops_undo() {
    let (Some(url), Some(token)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let user = scim_user(&url, &token, &unique("fake-"));
    let scim = Scim::new(&url, Some(token.clone()), quick());
    let first = scim.disable(&user).unwrap();
    let version_after = scim_get(&url, &token, &user)["meta"]["version"].clone();
    let second = scim.disable(&user).unwrap();
    assert_eq!(second["already_inactive"], true);
    assert_eq!(scim_get(&url, &token, &user)["meta"]["version"], version_after, "a second disable wrote again");
    // Someone changes the user on the server meanwhile.
    let patch = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{ "op": "replace", "path": "displayName", "value": "changed" }] });
    ureq::request("PATCH", &format!("{url}/Users/{user}"))
        .set("Authorization", &format!("Bearer {token}"))
        .set("Content-Type", "application/scim+json")
        .send_string(&patch.to_string())
        .unwrap();
    let err = scim.enable(&user, &first).unwrap_err();
    assert!(matches!(err, ActError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("412") && err.to_string().contains("undo stopped"), "{err}");
    assert_eq!(scim_get(&url, &token, &user)["active"], false, "the undo must not have gone through");
}

#[test]
fn scim_wrong_token_is_a_clear_error() {
    let (Some(url), Some(_)) = (peer("TAKEDOWN_SCIM_URL"), peer("TAKEDOWN_SCIM_TOKEN")) else { return };
    let scim = Scim::new(&url, Some("wrong".into()), quick());
    let err = scim.disable("nobody").unwrap_err().to_string();
    assert!(err.contains("401") && err.contains("bearer token"), "{err}");
}

#[test]
fn scim_unreachable_fails_the_action_after_retries() {
    // A port nothing listens on: bind one, then drop it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = approved(&[finding(Subject::Account { platform: None, id: "u1".into() }, "accounts.confirmed")]);
    let scim = Scim::new(&format!("http://127.0.0.1:{port}/v2"), None, quick());
    let c = Connectors {
        directory: Some(&scim),
        mailer: None,
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Failed);
    assert!(out[0].detail.contains("after 3 attempt(s)"), "{}", out[0].detail);
}

/// The payloads the webhook receiver accepted for `account`.
fn webhook_received(log: &str, account: &str) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["account"] == account)
        .collect()
}

#[test]
fn webhook_disable_arrives_signed_and_a_wrong_secret_is_refused() {
    let (Some(url), Some(secret), Some(log)) =
        (peer("TAKEDOWN_WEBHOOK_URL"), peer("TAKEDOWN_WEBHOOK_SECRET"), peer("TAKEDOWN_WEBHOOK_LOG"))
    else {
        return;
    };
    let good = unique("fake-wh-");
    let store = approved(&[finding(Subject::Account { platform: None, id: good.clone() }, "accounts.judged")]);
    let hook = Webhook::new(&url, secret.as_bytes(), quick());
    let c = Connectors {
        directory: Some(&hook),
        mailer: None,
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    // A webhook cannot be asked afterwards: done, not verified.
    assert_eq!(out[0].state, ActionState::Done, "{}", out[0].detail);
    // The receiver answers after its command ran, so the payload is on disk now.
    let got = webhook_received(&log, &good);
    assert_eq!(got.len(), 1, "expected one payload for {good} in {log}");
    assert_eq!(got[0]["action"], "disable-account");
    let result = store.action(&out[0].id).unwrap().unwrap().result.unwrap();
    assert_eq!(result["status"], 200);
    assert_eq!(got[0]["request_id"], result["request_id"]);
    assert!(got[0]["sent_at"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()), "{got:?}");
    // Undo posts the enable, signed the same way.
    assert_eq!(undo(&store, &out[0].id, "bob", &c).unwrap().state, ActionState::Undone);
    let got = webhook_received(&log, &good);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[1]["action"], "enable-account");
    assert_ne!(got[1]["request_id"], got[0]["request_id"]);

    // The same request signed with another secret: the receiver refuses it and
    // runs nothing; the action fails with the receiver's answer as the reason.
    let bad = unique("fake-wh-");
    let store = approved(&[finding(Subject::Account { platform: None, id: bad.clone() }, "accounts.judged")]);
    let hook = Webhook::new(&url, b"not-the-secret", quick());
    let c = Connectors {
        directory: Some(&hook),
        mailer: None,
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    let why = &out[0].detail;
    assert!(why.contains(&url) && why.contains("answered") && why.contains("webhook-secret"), "{why}");
    let stored = store.action(&out[0].id).unwrap().unwrap();
    assert_eq!(stored.action.state, ActionState::Failed);
    assert_eq!(stored.result.unwrap()["error"], out[0].detail.as_str());
    assert!(webhook_received(&log, &bad).is_empty(), "a wrongly signed request was acted on");
    let verbs: Vec<String> = store.audit_events().unwrap().into_iter().map(|e| e.verb).collect();
    assert!(verbs.iter().any(|v| v == "action.failed"), "{verbs:?}");
}

fn mailbox_messages_to(mailbox: &str, address: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        let Ok(rd) = std::fs::read_dir(std::path::Path::new(mailbox).join(sub)) else { continue };
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.contains(address) {
                out.push(text);
            }
        }
    }
    out
}

#[test]
fn smtp_notice_arrives_once_even_when_run_twice() {
    let (Some(smtp), Some(mailbox)) = (peer("TAKEDOWN_SMTP"), peer("TAKEDOWN_SMTP_MAILBOX")) else { return };
    let (host, port) = smtp.rsplit_once(':').unwrap();
    let email = format!("{}@example.org", unique("person-"));
    let person = Subject::Person { id: unique("p-"), email: Some(email.clone()) };
    let store = approved(&[finding(person.clone(), "accounts.exposure")]);
    let mailer = Smtp::new(host, port.parse().unwrap(), SmtpTls::Auto, None).unwrap();
    let c = Connectors {
        directory: None,
        mailer: Some(&mailer),
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Verified, "{}", out[0].detail);
    // A second campaign run (the action approved again after a failure elsewhere,
    // or a second plan) must not send again: the key is per person and campaign.
    let Subject::Person { id, .. } = &person else { unreachable!() };
    let again =
        takedown_act::notice::send_once(&store, &mailer, "zinc", id, &email, None, &notice_ctx(), &quick(), "bob")
            .unwrap();
    assert!(matches!(again, takedown_act::notice::Sent::Before { .. }));
    std::thread::sleep(Duration::from_millis(300));
    let got = mailbox_messages_to(&mailbox, &email);
    assert_eq!(got.len(), 1, "expected one message to {email} in {mailbox}");
    let m = &got[0];
    assert!(m.contains("multipart/alternative") && m.contains("text/html") && m.contains("text/plain"));
    assert!(m.contains("two-step verification") && m.contains("@fake1"));
    assert!(!m.contains("http://") && !m.contains("https://"), "a notice carries no links");
    let notices = store.notices("zinc").unwrap();
    assert_eq!((notices[0].state.as_str(), notices[0].attempts), ("sent", 1));
    assert!(notices[0].last_result.as_deref().unwrap_or("").starts_with("250"), "{:?}", notices[0].last_result);
}

/// Runs a campaign with one notice through `mailer`; the outcome, the address and
/// the messages that arrived for it.
fn notice_through(mailer: &Smtp, mailbox: &str) -> (takedown_act::run::Outcome, String, Vec<String>, Store) {
    let email = format!("{}@example.org", unique("tls-"));
    let store =
        approved(&[finding(Subject::Person { id: unique("p-"), email: Some(email.clone()) }, "accounts.exposure")]);
    let c = Connectors {
        directory: None,
        mailer: Some(mailer),
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap().remove(0);
    std::thread::sleep(Duration::from_millis(300));
    let got = mailbox_messages_to(mailbox, &email);
    (out, email, got, store)
}

fn host_port(hp: &str) -> (String, u16) {
    let (h, p) = hp.rsplit_once(':').unwrap();
    (h.to_string(), p.parse().unwrap())
}

#[test]
fn smtp_starttls_and_smtps_deliver_with_the_extra_ca() {
    let (Some(starttls), Some(smtps), Some(ca), Some(mailbox)) = (
        peer("TAKEDOWN_SMTP_STARTTLS"),
        peer("TAKEDOWN_SMTPS"),
        peer("TAKEDOWN_SMTP_CA"),
        peer("TAKEDOWN_SMTP_MAILBOX"),
    ) else {
        return;
    };
    let ca = std::fs::read(ca).unwrap();
    let (host, port) = host_port(&starttls);
    // The relay refuses MAIL FROM before STARTTLS, so a message that arrives
    // went over TLS.
    for mode in [SmtpTls::StartTls, SmtpTls::Auto] {
        let mailer = Smtp::new(&host, port, mode, Some(&ca)).unwrap();
        let (out, email, got, _) = notice_through(&mailer, &mailbox);
        assert_eq!(out.state, ActionState::Verified, "{mode:?}: {}", out.detail);
        assert_eq!(got.len(), 1, "{mode:?}: one message to {email}");
        assert!(got[0].contains("two-step verification"));
    }
    let (host, port) = host_port(&smtps);
    let mailer = Smtp::new(&host, port, SmtpTls::Tls, Some(&ca)).unwrap();
    let (out, email, got, _) = notice_through(&mailer, &mailbox);
    assert_eq!(out.state, ActionState::Verified, "{}", out.detail);
    assert_eq!(got.len(), 1, "one message to {email} over SMTPS");
}

#[test]
fn smtp_never_falls_back_to_plain_text() {
    let (Some(starttls), Some(plain), Some(mailbox)) =
        (peer("TAKEDOWN_SMTP_STARTTLS"), peer("TAKEDOWN_SMTP"), peer("TAKEDOWN_SMTP_MAILBOX"))
    else {
        return;
    };
    let (host, port) = host_port(&starttls);
    // Plain to a relay that requires STARTTLS: refused before any message is sent,
    // not retried, and the reason says what to change.
    let mailer = Smtp::new(&host, port, SmtpTls::None, None).unwrap();
    let (out, email, got, store) = notice_through(&mailer, &mailbox);
    assert_eq!(out.state, ActionState::Failed, "{}", out.detail);
    assert!(out.detail.contains("530") && out.detail.contains("--smtp-tls starttls"), "{}", out.detail);
    assert!(got.is_empty(), "a notice to {email} went in clear");
    assert_eq!(store.notices("zinc").unwrap()[0].attempts, 1, "a refusal is not retried");

    // STARTTLS without trusting the relay's CA: the certificate is refused, and
    // trying again would not change that.
    let mailer = Smtp::new(&host, port, SmtpTls::StartTls, None).unwrap();
    let (out, email, got, store) = notice_through(&mailer, &mailbox);
    assert_eq!(out.state, ActionState::Failed, "{}", out.detail);
    assert!(out.detail.contains("certificate") && out.detail.contains("--smtp-ca"), "{}", out.detail);
    assert_eq!(store.notices("zinc").unwrap()[0].attempts, 1);
    assert!(got.is_empty(), "a notice to {email} was sent over an unverified connection");

    // STARTTLS required, and the relay does not offer it: nothing is sent in clear.
    let (host, port) = host_port(&plain);
    let mailer = Smtp::new(&host, port, SmtpTls::StartTls, None).unwrap();
    let (out, email, got, _) = notice_through(&mailer, &mailbox);
    assert_eq!(out.state, ActionState::Failed, "{}", out.detail);
    assert!(out.detail.contains("does not offer it"), "{}", out.detail);
    assert!(got.is_empty(), "a notice to {email} went in clear");
}

#[test]
fn smtp_ca_that_is_not_pem_is_a_clear_error() {
    let err = Smtp::new(
        "127.0.0.1",
        25,
        SmtpTls::StartTls,
        Some(b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("not PEM"), "{err}");
}

#[test]
fn smtp_unreachable_is_retried_recorded_and_failed() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = approved(&[finding(
        Subject::Person { id: "p9".into(), email: Some("p9@example.org".into()) },
        "accounts.exposure",
    )]);
    let mailer = Smtp::new("127.0.0.1", port, SmtpTls::Auto, None).unwrap();
    let c = Connectors {
        directory: None,
        mailer: Some(&mailer),
        vault: None,
        cleaner: None,
        notice: notice_ctx(),
        retry: quick(),
    };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(out[0].state, ActionState::Failed, "{}", out[0].detail);
    let n = &store.notices("zinc").unwrap()[0];
    assert_eq!((n.state.as_str(), n.attempts), ("failed", 3));
    assert_eq!(store.deliveries(&n.idempotency_key).unwrap().len(), 3);
}

#[test]
fn samba_with_nt1_accepts_smb1_and_with_smb2_refuses_it() {
    let (Some(on), Some(off)) = (peer("TAKEDOWN_SMB1_ON"), peer("TAKEDOWN_SMB1_OFF")) else { return };
    let yes = smb::check(&on).unwrap();
    assert!(yes.smb1, "{yes:?}");
    // Samba has no MS17-010 flaw: whatever it answers must not read as vulnerable.
    assert_ne!(yes.ms17_010, Ms17010::Vulnerable, "{yes:?}");
    let no = smb::check(&off).unwrap();
    assert!(!no.smb1, "{no:?}");
    assert_eq!(no.ms17_010, Ms17010::Unknown);
    if let (Some(on_conf), Some(off_conf)) = (peer("TAKEDOWN_SMB1_ON_CONF"), peer("TAKEDOWN_SMB1_OFF_CONF")) {
        assert!(takedown_act::harden::samba_min_protocol(on_conf.as_ref()).unwrap().smb1_allowed);
        assert!(!takedown_act::harden::samba_min_protocol(off_conf.as_ref()).unwrap().smb1_allowed);
    }
}

#[test]
fn harden_applied_verifies_only_where_smb1_is_refused() {
    let (Some(on), Some(off)) = (peer("TAKEDOWN_SMB1_ON"), peer("TAKEDOWN_SMB1_OFF")) else { return };
    let endpoint = |hp: &str| {
        let (ip, port) = hp.rsplit_once(':').unwrap();
        Subject::Endpoint { ip: ip.into(), port: Some(port.parse().unwrap()) }
    };
    let store = approved(&[finding(endpoint(&on), "net.smb1"), finding(endpoint(&off), "net.smb1")]);
    let c =
        Connectors { directory: None, mailer: None, vault: None, cleaner: None, notice: notice_ctx(), retry: quick() };
    let out = run_approved(&store, "zinc", "bob", &c).unwrap();
    let of = |hp: &str| out.iter().find(|o| o.target.ends_with(hp)).unwrap().clone();
    // SMB1 on: the fix is recorded (the smb.conf line among them), not verified.
    let smb1_on = of(&on);
    assert_eq!(smb1_on.state, ActionState::Done, "{}", smb1_on.detail);
    let recorded = store.action(&smb1_on.id).unwrap().unwrap().result.unwrap();
    assert!(recorded["fixes"].to_string().contains("server min protocol = SMB2_02"), "{recorded}");
    // SMB1 already refused: nothing to fix, verified by the check itself.
    assert_eq!(of(&off).state, ActionState::Verified, "{}", of(&off).detail);

    // The fix is marked applied, but smbd still accepts NT LM 0.12: not verified.
    let again = takedown_act::run::harden_applied(&store, &smb1_on.id, "carol").unwrap();
    assert_eq!(again.state, ActionState::Done, "{}", again.detail);
    assert!(again.detail.contains("SMB1 still accepted"), "{}", again.detail);
    let s = store.action(&smb1_on.id).unwrap().unwrap();
    assert_eq!(s.action.state, ActionState::Done);
    let r = s.result.unwrap();
    assert_eq!((r["applied"]["by"].as_str(), r["recheck"]["holds"].as_bool()), (Some("carol"), Some(false)), "{r}");
    assert!(r["fixes"].is_array(), "the recorded fix is kept: {r}");
    // `run` checks an applied, unverified fix again; still not verified.
    let rerun = run_approved(&store, "zinc", "bob", &c).unwrap();
    assert_eq!(rerun.len(), 1, "{rerun:?}");
    assert_eq!(rerun[0].state, ActionState::Done);
    let verbs: Vec<String> = store.audit_events().unwrap().into_iter().map(|e| e.verb).collect();
    assert_eq!(verbs.iter().filter(|v| *v == "action.harden-recheck").count(), 2, "{verbs:?}");

    // The host whose fix is in place: a harden action recorded while it was at
    // risk (the run before the fix), marked applied now, verifies.
    let store = Store::open_in_memory().unwrap();
    store.create_campaign(&campaign(), "alice").unwrap();
    let planned = plan("zinc", &[finding(endpoint(&off), "net.smb1")], "alice");
    store.propose_actions("zinc", &planned, "alice").unwrap();
    let id = planned[0].id.clone();
    approve(&store, &id, "bob", Policy::default()).unwrap();
    let t = |to, result| takedown_store::Transition { to, who: "bob", approver: None, result, detail: json!({}) };
    store.move_action(&id, t(ActionState::Running, None)).unwrap();
    let before = json!({ "at_risk": true, "fixes": takedown_act::harden::fixes(true, false) });
    store.move_action(&id, t(ActionState::Done, Some(before))).unwrap();
    let fixed = takedown_act::run::harden_applied(&store, &id, "carol").unwrap();
    assert_eq!(fixed.state, ActionState::Verified, "{}", fixed.detail);
    let r = store.action(&id).unwrap().unwrap().result.unwrap();
    assert_eq!(r["recheck"]["holds"], true);
    assert_eq!(r["recheck"]["check"]["smb1"], false);
    // Verified is final for this command.
    let err = takedown_act::run::harden_applied(&store, &id, "carol").unwrap_err();
    assert!(err.to_string().contains("only a done harden action"), "{err}");
}

#[test]
fn a_host_answering_0xc0000205_is_vulnerable() {
    let addr = smb::unpatched_responder().unwrap();
    let r = smb::check(&addr).unwrap();
    assert!(r.smb1);
    assert_eq!(r.ms17_010, Ms17010::Vulnerable, "{r:?}");
    assert!(r.evidence.iter().any(|e| e.contains("0xC0000205")), "{r:?}");
}
