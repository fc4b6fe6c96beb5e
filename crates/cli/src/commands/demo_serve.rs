//! `takedown demo --serve`: after the tour, the dashboard on the demo's store, with
//! an organisation that owns the demo's campaigns, a fresh proposal waiting for a
//! second person's approval, and a token to log in with.

use crate::outln;
use crate::output::{OutputFormat, Style};
use crate::Context;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use takedown_model::{Evidence, Finding, Subject, Tlp};
use takedown_server::{ActConfig, AppState};
use takedown_store::Role;

const ORG: &str = "example-org";

/// A third fake profile, ranked next to a known one and confirmed by alice after
/// the tour's run: its disable action waits for someone other than alice.
fn late_findings() -> Vec<Finding> {
    let signals: BTreeMap<String, f64> =
        [("rank".to_string(), 1.0), ("score".to_string(), 0.93), ("fake_fraction".to_string(), 0.75)].into();
    let finding = |n: u32, detector: &str, summary: &str, evidence: Vec<Evidence>| Finding {
        id: format!("sighting--00000000-0000-4000-8000-{n:012}"),
        campaign: None,
        subject: Subject::Account { platform: Some("scim".into()), id: "fake-recruiter-3".into() },
        indicator: None,
        detector: detector.into(),
        summary: summary.into(),
        evidence,
        observed_at: chrono::Utc::now(),
        tlp: Some(Tlp::Amber),
    };
    vec![
        finding(
            101,
            "accounts.rank.triad",
            "account fake-recruiter-3 ranked 1 as likely fake (triad)",
            vec![Evidence::Graph { signals, seeds: vec!["fake-recruiter-2".into()] }],
        ),
        finding(102, "accounts.judged", "ranked fake and confirmed by an analyst", vec![]),
    ]
}

pub fn step(ctx: &Context, db: &Path, dir: &Path, listen: SocketAddr) -> anyhow::Result<()> {
    let style = Style::stdout();
    let store = takedown_store::Store::open(db)?;
    if store.org(ORG)?.is_none() {
        store.add_org(ORG, Tlp::Amber, &ctx.user)?;
    }
    // Only the owner acts on a campaign's actions over the server.
    let mut with_actions = None;
    for c in store.campaigns()? {
        if store.campaign_owner(&c.id)?.is_none() {
            store.set_campaign_owner(&c.name, ORG, &ctx.user)?;
        }
        if with_actions.is_none() && !store.actions(&c.name)?.is_empty() {
            with_actions = Some(c.name);
        }
    }
    // The tour's disrupt-and-warn campaign.
    let campaign = with_actions.context("the demo made no campaign with actions")?;
    let campaign = campaign.as_str();
    store.record_findings(campaign, &late_findings(), "alice")?;
    drop(store);
    outln!("{}", style.bold("Share and show: the dashboard on the demo's store"));
    outln!("{}", style.bold(&format!("$ takedown --user alice plan --campaign {campaign}   # a third fake profile")));
    let alice = Context { db: db.to_path_buf(), format: OutputFormat::Text, user: "alice".into() };
    super::act::run(&alice, super::act::ActCommand::Plan { campaign: campaign.into() })?;
    let store = takedown_store::Store::open(db)?;
    let token = store.create_token(ORG, "carol", Role::Approver, &ctx.user)?;
    let act = ActConfig {
        outbox: Some(dir.join("outbox")),
        from: "security@example.org".into(),
        organisation: "Example Org security team".into(),
    };
    takedown_server::run(listen, AppState::new(store).with_act(act), |addr| {
        // Printed as soon as the port is bound: a script may read these lines.
        let _ = (|| -> anyhow::Result<()> {
            outln!();
            outln!("dashboard: http://{addr}/ui/ (campaign {campaign})");
            outln!("token: {token}");
            outln!("(log in with the token: carol, approver of {ORG}; alice proposed the new disable action, so");
            outln!(" the two-person rule lets carol approve it. TAXII at /taxii2/, REST at /api/v1/. Ctrl-C stops.)");
            Ok(())
        })();
    })
    .with_context(|| format!("cannot serve the dashboard on {listen}"))?;
    Ok(())
}
