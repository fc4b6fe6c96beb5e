//! `takedown quarantine list | restore ID | purge ID`: what the sweep moved into
//! the vault, and putting it back bit for bit.

use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use takedown_app::vault::audited;
use takedown_sweep::vault::Vault;

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// What the vault holds, oldest first.
    List {
        #[arg(long, value_name = "DIR", env = "TAKEDOWN_VAULT")]
        vault: Option<PathBuf>,
    },
    /// Put an item back where it was, with its mode and times; refuses to
    /// overwrite a file that has appeared there since.
    Restore {
        id: String,
        #[arg(long, value_name = "DIR", env = "TAKEDOWN_VAULT")]
        vault: Option<PathBuf>,
    },
    /// Delete an item from the vault for good.
    Purge {
        id: String,
        #[arg(long, value_name = "DIR", env = "TAKEDOWN_VAULT")]
        vault: Option<PathBuf>,
    },
}

/// The data directory: the one the database is in.
pub fn data_dir(ctx: &Context) -> PathBuf {
    ctx.db.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
}

/// The vault: the one given, else `takedown-vault` in the data directory.
pub fn vault_dir(ctx: &Context, given: Option<&Path>) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| data_dir(ctx).join("takedown-vault"))
}

pub fn run(ctx: &Context, cmd: QuarantineCommand) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let (vault, id, purge) = match &cmd {
        QuarantineCommand::List { vault } => (vault, None, false),
        QuarantineCommand::Restore { id, vault } => (vault, Some(id), false),
        QuarantineCommand::Purge { id, vault } => (vault, Some(id), true),
    };
    let vault = Vault::open(&vault_dir(ctx, vault.as_deref()))?;
    let Some(id) = id else {
        return list(ctx, &vault);
    };
    let item = audited(
        &store,
        &ctx.user,
        |on_step| if purge { vault.purge(id, on_step) } else { vault.restore(id, on_step) },
    )??;
    match ctx.format {
        OutputFormat::Text => {
            let verb = if purge { "purged" } else { "restored" };
            outln!(
                "{verb} {} ({}, sha256 {})",
                escaped(&item.original_path.display().to_string()),
                item.id,
                item.sha256
            );
        }
        _ => print_json(ctx.format, &item)?,
    }
    Ok(Exit::Clean)
}

fn list(ctx: &Context, vault: &Vault) -> anyhow::Result<Exit> {
    let items = vault.list()?;
    match ctx.format {
        OutputFormat::Json => print_json(ctx.format, &serde_json::json!({ "vault": vault.dir(), "items": items }))?,
        OutputFormat::Ndjson => {
            for item in &items {
                print_json(ctx.format, item)?;
            }
        }
        OutputFormat::Text => {
            let style = Style::stdout();
            if items.is_empty() {
                outln!("the vault at {} is empty", vault.dir().display());
            }
            for item in &items {
                let why = item.reason.get(0).and_then(|h| h.get("rule").or(h.get("matched"))).and_then(|r| r.as_str());
                outln!(
                    "{}  {}  {} bytes  {}  {}",
                    style.bold(&item.id),
                    item.quarantined_at,
                    item.size,
                    escaped(&item.original_path.display().to_string()),
                    style.dim(&escaped(why.unwrap_or("")))
                );
            }
        }
    }
    Ok(Exit::Clean)
}
