//! `takedown harden check HOST[:PORT]...`: does the server still speak SMB1, and
//! does it answer the MS17-010 probe as an unpatched host? `takedown harden applied
//! ID`: the fix of a harden action was applied; check again.

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use clap::Subcommand;
use std::path::PathBuf;
use takedown_act::harden::{fixes, samba_min_protocol};
use takedown_act::smb::{self, Ms17010};

#[derive(Debug, Subcommand)]
pub enum HardenCommand {
    /// Check servers over SMB: exit 1 when one accepts SMB1 or is vulnerable.
    Check {
        /// HOST:PORT (port 445 when left out).
        targets: Vec<String>,
        /// Also read `server min protocol` from this Samba configuration.
        #[arg(long, value_name = "FILE")]
        samba_conf: Vec<PathBuf>,
    },
    /// Mark a harden action's fix applied and re-check its host.
    Applied { id: String },
}

pub fn run(ctx: &Context, cmd: HardenCommand) -> anyhow::Result<Exit> {
    match cmd {
        HardenCommand::Check { targets, samba_conf } => check(ctx, &targets, &samba_conf),
        HardenCommand::Applied { id } => {
            let store = ctx.open_store()?;
            let o = takedown_act::run::harden_applied(&store, &id, &ctx.user)?;
            if ctx.format == OutputFormat::Text {
                outln!("{} {}: {}", o.state.as_str(), o.target, o.detail);
            } else {
                print_json(ctx.format, &o)?;
            }
            Ok(if o.state == takedown_model::ActionState::Verified { Exit::Clean } else { Exit::Findings })
        }
    }
}

fn check(ctx: &Context, targets: &[String], confs: &[PathBuf]) -> anyhow::Result<Exit> {
    if targets.is_empty() && confs.is_empty() {
        anyhow::bail!("nothing to check: give HOST:PORT targets and/or --samba-conf FILE");
    }
    // Read every input first: a bad one stops the command before anything is printed.
    let samba = confs.iter().map(|p| samba_min_protocol(p.as_path())).collect::<Result<Vec<_>, _>>()?;
    let results = targets.iter().map(|t| smb::check(t.as_str())).collect::<Result<Vec<_>, _>>()?;
    let at_risk = results.iter().any(|r| r.at_risk()) || samba.iter().any(|s| s.smb1_allowed);
    match ctx.format {
        OutputFormat::Text => {
            let style = Style::stdout();
            for r in &results {
                let verdict = if r.at_risk() { style.warn("AT RISK") } else { "ok".to_string() };
                let ms = match r.ms17_010 {
                    Ms17010::Vulnerable => "vulnerable",
                    Ms17010::Patched => "patched",
                    Ms17010::Unknown => "unknown",
                };
                outln!(
                    "{} {verdict}: SMB1 {}, MS17-010 {ms}",
                    style.bold(&r.target),
                    if r.smb1 { "on" } else { "off" }
                );
                for e in &r.evidence {
                    outln!("    {e}");
                }
                for f in fixes(r.smb1, r.ms17_010 == Ms17010::Vulnerable) {
                    outln!("    fix ({}): {}", f.platform, f.how);
                }
            }
            for s in &samba {
                outln!("{}: {}", style.bold(&s.file), s.evidence);
            }
        }
        _ => {
            let mut doc = serde_json::json!({ "targets": results });
            if !samba.is_empty() {
                doc["samba_conf"] = serde_json::json!(samba);
            }
            print_json(ctx.format, &doc)?;
        }
    }
    Ok(if at_risk { Exit::Findings } else { Exit::Clean })
}
