//! The demo's disrupt-and-warn step: an example campaign's findings planned into
//! actions, approved by two operators, run against a file outbox and a dry-run
//! account directory, and the audit trail that records it all.

use crate::outln;
use crate::output::{Exit, OutputFormat, Style};
use crate::Context;
use std::collections::BTreeMap;
use std::path::Path;
use takedown_model::{Campaign, Evidence, Finding, Subject, Tlp};

const CAMPAIGN: &str = "zinc-fake-profiles";

fn finding(n: u32, subject: Subject, detector: &str, summary: &str, evidence: Vec<Evidence>) -> Finding {
    Finding {
        id: format!("sighting--{}", uuid_like(n)),
        campaign: None,
        subject,
        indicator: None,
        detector: detector.into(),
        summary: summary.into(),
        evidence,
        observed_at: chrono::Utc::now(),
        tlp: Some(Tlp::Amber),
    }
}

fn uuid_like(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// The example campaign: two fake profiles, the two people who connected with
/// them, and the kill-switch lookup a worm-infected host made.
fn example_findings() -> Vec<Finding> {
    let dns = |q: &str| {
        let mut fields = BTreeMap::new();
        fields.insert("dns.query".to_string(), q.to_string());
        vec![Evidence::Packets { file: "example.pcap".into(), numbers: vec![12], fields }]
    };
    vec![
        finding(
            1,
            Subject::Account { platform: Some("scim".into()), id: "fake-researcher-1".into() },
            "accounts.judged",
            "ranked fake and confirmed by an analyst",
            vec![],
        ),
        finding(
            2,
            Subject::Account { platform: Some("scim".into()), id: "fake-recruiter-2".into() },
            "accounts.seed",
            "a known fake profile from partner intel",
            vec![],
        ),
        finding(
            3,
            Subject::Person { id: "dana".into(), email: Some("dana@example.org".into()) },
            "accounts.exposure",
            "connected with fake-researcher-1",
            vec![],
        ),
        finding(
            4,
            Subject::Person { id: "eli".into(), email: Some("eli@example.org".into()) },
            "accounts.exposure",
            "received messages from fake-recruiter-2",
            vec![],
        ),
        finding(
            5,
            Subject::Endpoint { ip: "203.0.113.66".into(), port: Some(443) },
            "net.c2",
            "beacons to a command server",
            dns("www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com"),
        ),
    ]
}

pub fn step(ctx: &Context, db: &Path, dir: &Path) -> anyhow::Result<()> {
    let style = Style::stdout();
    let store = takedown_store::Store::open(db)?;
    let campaign = Campaign {
        id: "grouping--7d0c1f6e-5a43-4c2b-9e0e-0f6d5a7c9b21".into(),
        name: CAMPAIGN.into(),
        actor: Some("ZINC".into()),
        description: Some("fake researcher profiles approaching security staff".into()),
        tlp: Tlp::Amber,
        created: chrono::Utc::now(),
    };
    store.create_campaign(&campaign, "alice")?;
    store.record_findings(CAMPAIGN, &example_findings(), "alice")?;
    drop(store);
    let as_user = |user: &str| Context { db: db.to_path_buf(), format: OutputFormat::Text, user: user.into() };
    let alice = as_user("alice");
    let bob = as_user("bob");
    outln!("{}", style.bold("Disrupt and warn: fake profiles, the people they reached, a command server"));
    outln!("{}", style.bold(&format!("$ takedown --user alice plan --campaign {CAMPAIGN}")));
    super::act::run(&alice, super::act::ActCommand::Plan { campaign: CAMPAIGN.into() })?;
    let store = takedown_store::Store::open(db)?;
    let actions = store.actions(CAMPAIGN)?;
    let (destructive, other): (Vec<_>, Vec<_>) = actions.iter().partition(|s| s.action.kind.is_destructive());
    let ids = |v: &[&takedown_store::StoredAction]| v.iter().map(|s| s.action.id.clone()).collect::<Vec<_>>();
    outln!();
    outln!("{}", style.bold("$ takedown --user alice approve <disable actions>   # refused: alice proposed them"));
    match super::act::run(&alice, super::act::ActCommand::Approve { ids: ids(&destructive), single_person: false }) {
        Err(e) => outln!("  refused: {e}"),
        Ok(_) => outln!("  (unexpectedly approved)"),
    }
    outln!("{}", style.bold("$ takedown --user bob approve <disable actions>"));
    super::act::run(&bob, super::act::ActCommand::Approve { ids: ids(&destructive), single_person: false })?;
    outln!("{}", style.bold("$ takedown --user alice approve <notify and block actions>"));
    super::act::run(&alice, super::act::ActCommand::Approve { ids: ids(&other), single_person: false })?;
    outln!();
    let outbox = dir.join("outbox");
    outln!(
        "{}",
        style.bold(&format!(
            "$ takedown --user bob run --campaign {CAMPAIGN} --outbox {} --dry-run-accounts",
            outbox.display()
        ))
    );
    let connectors = super::act::ConnectorArgs {
        outbox: Some(outbox.clone()),
        dry_run_accounts: true,
        from: "security@example.org".into(),
        organisation: "Example Org security team".into(),
        attempts: 2,
        ..Default::default()
    };
    let code = super::act::run(
        &bob,
        super::act::ActCommand::Run(super::act::RunArgs { campaign: CAMPAIGN.into(), connectors }),
    )?;
    outln!(
        "  notices written to {}; account requests to {}",
        outbox.display(),
        outbox.join("accounts-dry-run.jsonl").display()
    );
    outln!();
    outln!("{}", style.bold(&format!("$ takedown block --campaign {CAMPAIGN} --format rpz")));
    super::act::run(
        &bob,
        super::act::ActCommand::Block(super::act::BlockArgs {
            campaign: Some(CAMPAIGN.into()),
            indicators: vec![],
            format: super::act::BlockFormat::Rpz,
            output: None,
            zone: "rpz.takedown".into(),
            sinkhole: None,
        }),
    )?;
    outln!();
    outln!("{}", style.bold("$ takedown audit (the actions' part of the trail)"));
    for e in store.audit_events()? {
        if e.verb.starts_with("action.") || e.verb.starts_with("notice.") {
            outln!("  {:>3} {} {:<6} {:<22} {}", e.seq, e.at.format("%H:%M:%S"), e.actor, e.verb, e.object);
        }
    }
    let report = store.verify_audit()?;
    outln!("  chain of {} events: {}", report.rows, if report.first_broken.is_none() { "intact" } else { "BROKEN" });
    if code != Exit::Clean {
        outln!("  (some actions failed; see above)");
    }
    let _ = ctx;
    Ok(())
}
