//! `takedown org add | list`: the organisations that share through this server.

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat};
use crate::Context;
use anyhow::bail;
use clap::Subcommand;
use takedown_model::Tlp;

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add a member organisation.
    Add {
        name: String,
        /// How this organisation's unmarked objects are shared (TLP 2.0: an unmarked
        /// object follows its owner). clear, green, amber, amber+strict, red.
        #[arg(long, value_name = "LEVEL", default_value = "amber")]
        default_tlp: Tlp,
    },
    /// The member organisations, by name.
    List,
}

pub fn run(ctx: &Context, cmd: OrgCommand) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    match cmd {
        OrgCommand::Add { name, default_tlp } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().any(|c| c.is_control()) {
                bail!("an organisation needs a name without control characters");
            }
            let org = store.add_org(&name, default_tlp, &ctx.user)?;
            match ctx.format {
                OutputFormat::Text => {
                    outln!("organisation {:?} added (unmarked objects: {})", org.name, org.default_tlp)
                }
                f => print_json(f, &org)?,
            }
        }
        OrgCommand::List => {
            let orgs = store.orgs()?;
            match ctx.format {
                OutputFormat::Text => {
                    for o in &orgs {
                        outln!("{}\tdefault {}", o.name, o.default_tlp);
                    }
                }
                f => print_json(f, &orgs)?,
            }
        }
    }
    Ok(Exit::Clean)
}
