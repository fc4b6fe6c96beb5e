//! The demo's disrupt-and-warn step: the campaign's findings (the swept host, the
//! capture, the fake profiles and the people they reached) planned into actions,
//! approved by two operators, run against the vault, a file outbox and a dry-run
//! account directory; one file restored by undo; and the audit trail of it all.

use crate::outln;
use crate::output::{Exit, OutputFormat, Style};
use crate::Context;
use std::path::Path;
use takedown_model::{ActionKind, ActionState};

pub fn step(db: &Path, dir: &Path, campaign: &str) -> anyhow::Result<()> {
    let style = Style::stdout();
    let as_user = |user: &str| Context { db: db.to_path_buf(), format: OutputFormat::Text, user: user.into() };
    let alice = as_user("alice");
    let bob = as_user("bob");
    outln!("{}", style.bold("Disrupt and warn: the malware, the fake profiles, the people they reached"));
    outln!("{}", style.bold(&format!("$ takedown --user alice plan --campaign {campaign}")));
    super::act::run(&alice, super::act::ActCommand::Plan { campaign: campaign.into() })?;
    let store = takedown_store::Store::open(db)?;
    let actions = store.actions(campaign)?;
    // Hardening checks the attacked host itself over SMB: it stays proposed here, since
    // the capture's hosts are not on this machine.
    let (harden, actions): (Vec<_>, Vec<_>) = actions.iter().partition(|s| s.action.kind == ActionKind::Harden);
    let (destructive, other): (Vec<_>, Vec<_>) = actions.into_iter().partition(|s| s.action.kind.is_destructive());
    let ids = |v: &[&takedown_store::StoredAction]| v.iter().map(|s| s.action.id.clone()).collect::<Vec<_>>();
    outln!();
    outln!(
        "{}",
        style.bold("$ takedown --user alice approve <quarantine, clean-registry and disable actions>   # refused: alice proposed them")
    );
    match super::act::run(&alice, super::act::ActCommand::Approve { ids: ids(&destructive), single_person: false }) {
        Err(e) => outln!("  refused: {e}"),
        Ok(_) => outln!("  (unexpectedly approved)"),
    }
    outln!("{}", style.bold("$ takedown --user bob approve <quarantine, clean-registry and disable actions>"));
    super::act::run(&bob, super::act::ActCommand::Approve { ids: ids(&destructive), single_person: false })?;
    outln!("{}", style.bold("$ takedown --user alice approve <notify and block actions>"));
    super::act::run(&alice, super::act::ActCommand::Approve { ids: ids(&other), single_person: false })?;
    outln!();
    let outbox = dir.join("outbox");
    outln!(
        "{}",
        style.bold(&format!(
            "$ takedown --user bob run --campaign {campaign} --outbox {} --dry-run-accounts",
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
        super::act::ActCommand::Run(super::act::RunArgs { campaign: campaign.into(), connectors: connectors.clone() }),
    )?;
    outln!(
        "  notices written to {}; account requests to {}",
        outbox.display(),
        outbox.join("accounts-dry-run.jsonl").display()
    );
    for h in &harden {
        outln!("  {} stays proposed: hardening checks that host over SMB, from where it is reachable", h.action.id);
    }
    outln!();
    outln!("{}", style.bold("$ takedown quarantine list"));
    super::quarantine::run(&bob, super::quarantine::QuarantineCommand::List { vault: None })?;
    let quarantined = store.actions(campaign)?.into_iter().find(|s| {
        s.action.kind == ActionKind::Quarantine && matches!(s.action.state, ActionState::Done | ActionState::Verified)
    });
    if let Some(q) = quarantined {
        outln!();
        outln!("{}", style.bold(&format!("$ takedown --user bob undo {}   # a file was needed back", q.action.id)));
        super::act::run(&bob, super::act::ActCommand::Undo { id: q.action.id.clone(), connectors })?;
    }
    outln!();
    outln!("{}", style.bold(&format!("$ takedown block --campaign {campaign} --format rpz")));
    super::act::run(
        &bob,
        super::act::ActCommand::Block(super::act::BlockArgs {
            campaign: Some(campaign.into()),
            indicators: vec![],
            format: super::act::BlockFormat::Rpz,
            output: None,
            zone: "rpz.takedown".into(),
            sinkhole: None,
        }),
    )?;
    outln!();
    outln!("{}", style.bold("$ takedown audit list   # the actions' part of the trail, counted per verb"));
    let mut verbs: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for e in store.audit_events()? {
        if e.verb.starts_with("action.") || e.verb.starts_with("notice.") || e.verb.starts_with("vault.") {
            *verbs.entry(e.verb).or_default() += 1;
        }
    }
    for (verb, n) in &verbs {
        outln!("  {n:>4} {verb}");
    }
    let report = store.verify_audit()?;
    outln!("  chain of {} events: {}", report.rows, if report.first_broken.is_none() { "intact" } else { "BROKEN" });
    if code != Exit::Clean {
        outln!("  (some actions failed; see above)");
    }
    Ok(())
}
