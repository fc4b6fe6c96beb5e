//! `takedown demo --serve`: after the tour, the dashboard on the demo's store, with
//! an organisation that owns the demo's campaigns, a fresh proposal waiting for a
//! second person's approval, and a token to log in with.

use crate::outln;
use crate::output::{OutputFormat, Style};
use crate::Context;
use anyhow::Context as _;
use std::net::SocketAddr;
use std::path::Path;
use takedown_model::{Finding, Subject, Tlp};
use takedown_server::{ActConfig, AppState};
use takedown_store::Role;

const ORG: &str = "example-org";

pub fn step(ctx: &Context, db: &Path, dir: &Path, listen: SocketAddr, campaign: &str) -> anyhow::Result<()> {
    let style = Style::stdout();
    let store = takedown_store::Store::open(db)?;
    if store.org(ORG)?.is_none() {
        store.add_org(ORG, Tlp::Amber, &ctx.user)?;
    }
    // Only the owner acts on a campaign's actions over the server.
    let tour = store.campaign(campaign)?.context("the tour made no campaign")?;
    if store.campaign_owner(&tour.id)?.is_none() {
        store.set_campaign_owner(campaign, ORG, &ctx.user)?;
    }
    let findings = store.findings(campaign)?;
    let judged: Vec<&Subject> =
        findings.iter().filter(|f| f.detector == "accounts.judged").map(|f| &f.subject).collect();
    let next = findings
        .iter()
        .find(|f| f.detector.starts_with("accounts.rank.") && !judged.contains(&&f.subject))
        .context("the tour ranked no account below the cut")?;
    // The analyst confirms one more ranked account after the tour's run: its
    // disable action waits for someone other than alice.
    let late = Finding {
        tlp: Some(Tlp::Amber),
        ..takedown_app::accounts::judged_finding(
            campaign,
            next,
            "ranked just below the cut, then confirmed fake by an analyst",
        )
    };
    store.record_findings(campaign, &[late], "alice")?;
    drop(store);
    outln!("{}", style.bold("Share and show: the dashboard on the demo's store"));
    outln!("{}", style.bold(&format!("$ takedown --user alice plan --campaign {campaign}   # one more fake profile")));
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
