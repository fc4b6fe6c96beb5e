//! `takedown audit verify | list`

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::bail;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; name the first row that breaks it.
    Verify,
    /// Print the audit trail, oldest first.
    List,
}

pub fn run(ctx: &Context, cmd: AuditCommand) -> anyhow::Result<Exit> {
    if !ctx.db.exists() {
        bail!("no database at {} (give the right one with --db or TAKEDOWN_DB)", ctx.db.display());
    }
    let store = ctx.open_store()?;
    match cmd {
        AuditCommand::Verify => {
            let report = store.verify_audit()?;
            match (&report.first_broken, ctx.format) {
                (None, OutputFormat::Text) => {
                    outln!("audit trail intact: {} event(s), hash chain verified", report.rows)
                }
                (Some(b), OutputFormat::Text) => {
                    outln!("audit trail BROKEN at row {}: {}", b.seq, b.reason);
                }
                (broken, format) => print_json(
                    format,
                    &serde_json::json!({
                        "events": report.rows,
                        "intact": broken.is_none(),
                        "first_broken": broken.as_ref().map(|b| serde_json::json!({"seq": b.seq, "reason": b.reason})),
                    }),
                )?,
            }
            // A broken chain is a finding about the store itself.
            Ok(if report.first_broken.is_some() { Exit::Findings } else { Exit::Clean })
        }
        AuditCommand::List => {
            let style = Style::stdout();
            let events = store.audit_events()?;
            match ctx.format {
                OutputFormat::Text => {
                    for e in &events {
                        outln!(
                            "{:>5}  {}  {:<10} {:<18} {}  {}",
                            e.seq,
                            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            e.actor,
                            e.verb,
                            e.object,
                            style.dim(e.hash.get(..12).unwrap_or(&e.hash))
                        )
                    }
                }
                OutputFormat::Json => print_json(ctx.format, &events)?,
                OutputFormat::Ndjson => {
                    for e in &events {
                        print_json(ctx.format, e)?;
                    }
                }
            }
            Ok(Exit::Clean)
        }
    }
}
