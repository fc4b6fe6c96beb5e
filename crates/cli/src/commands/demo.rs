//! `takedown demo`: the quick start, on a fresh temporary store.

use crate::intel_store::{ensure_builtin, StoreLookup};
use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use clap::Args;
use takedown_intel::knowledge;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo database here instead of a temporary directory.
    #[arg(long, value_name = "PATH")]
    keep: Option<std::path::PathBuf>,
    /// After the tour, serve the dashboard on the demo's store and print its address
    /// and a login token, until Ctrl-C.
    #[arg(long)]
    serve: bool,
    /// Where --serve listens (default: a free port on 127.0.0.1).
    #[arg(long, value_name = "ADDR:PORT", requires = "serve", default_value = "127.0.0.1:0")]
    listen: std::net::SocketAddr,
}

pub fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<Exit> {
    let style = Style::stdout();
    let dir = tempfile::tempdir()?;
    let db = args.keep.clone().unwrap_or_else(|| dir.path().join("takedown.db"));
    let mut store = takedown_store::Store::open(&db)?;
    let imported = ensure_builtin(&mut store)?;
    let lookup = StoreLookup(&store);
    let profile = knowledge::profile(&lookup, "ZINC")?;
    let chains = knowledge::why(&lookup, "ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa")?;
    if ctx.format != OutputFormat::Text {
        if args.serve {
            anyhow::bail!("demo --serve prints its address and token as text: leave out --output-format");
        }
        print_json(
            ctx.format,
            &serde_json::json!({ "db": db, "imported": imported, "profile": profile, "why": chains }),
        )?;
        return Ok(Exit::Clean);
    }
    outln!("{}", style.bold("takedown demo — know the adversary"));
    outln!("A fresh store at {} holds the built-in intel pack:", db.display());
    for (t, n) in super::intel::counts(&store)? {
        outln!("  {n:>3} {t}");
    }
    outln!();
    outln!("{}", style.bold("$ takedown intel show ZINC"));
    match &profile {
        Some(p) => {
            outln!(
                "{} ({}), also known as {}",
                p.name,
                p.type_,
                p.aliases.iter().cloned().collect::<Vec<_>>().join(", ")
            );
            for m in &p.related {
                outln!("  uses {} ({})", m.name, m.type_);
            }
            outln!("  {} technique(s), {} indicator(s):", p.techniques.len(), p.indicators.len());
            for i in &p.indicators {
                outln!("    {:<13} {}", i.kind, i.value.lines().next().unwrap_or(""));
            }
        }
        None => outln!("  (not found — the built-in pack did not load; run with RUST_LOG=debug)"),
    }
    outln!();
    outln!("{}", style.bold("$ takedown intel why ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa"));
    for c in &chains {
        outln!("  indicator {:?} (confidence {})", c.indicator.name, c.indicator.confidence.unwrap_or(0));
        for l in &c.links {
            outln!("    → {} {}", l.relation, l.to.name);
            for u in &l.then {
                let conf = u.relationship_confidence.map_or("not stated".into(), |c| c.to_string());
                outln!("      → {} {} (confidence {conf}, source: {})", u.relation, u.to.name, u.relationship_source);
            }
        }
    }
    outln!();
    sweep_step(ctx, &db, dir.path())?;
    outln!();
    super::demo_accounts::step()?;
    outln!();
    super::demo_act::step(ctx, &db, dir.path())?;
    outln!();
    super::demo_net::step(ctx, &db, dir.path())?;
    outln!();
    outln!("Next: import more intel into ./takedown.db, for example MITRE ATT&CK:");
    outln!("  takedown intel import enterprise-attack.json");
    outln!("  takedown intel show \"HIDDEN COBRA\"");
    if args.keep.is_some() {
        outln!("The demo database was kept at {}.", db.display());
    }
    if args.serve {
        outln!();
        super::demo_serve::step(ctx, &db, dir.path(), args.listen)?;
    }
    Ok(Exit::Clean)
}

/// Find and clean: a small host WannaCry went through, swept, its malware
/// quarantined, and one file restored from the vault.
fn sweep_step(ctx: &Context, db: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<()> {
    use super::quarantine::QuarantineCommand;
    let style = Style::stdout();
    let host = dir.join("host");
    let vault = dir.join("vault");
    takedown_sweep::plant::plant_demo_host(&host)?;
    let demo_ctx = Context { db: db.to_path_buf(), format: OutputFormat::Text, user: ctx.user.clone() };
    outln!("{}", style.bold("Find and clean: an example host that WannaCry went through"));
    outln!("{}", style.bold(&format!("$ takedown sweep --quarantine {}", host.display())));
    super::sweep::run(&demo_ctx, super::sweep::SweepArgs::quarantine_into(vec![host.clone()], vault.clone()))?;
    outln!();
    outln!("{}", style.bold("$ takedown quarantine list"));
    super::quarantine::run(&demo_ctx, QuarantineCommand::List { vault: Some(vault.clone()) })?;
    let items = takedown_sweep::vault::Vault::open(&vault)?.list()?;
    if let Some(first) = items.first() {
        outln!();
        outln!("{}", style.bold(&format!("$ takedown quarantine restore {}", first.id)));
        super::quarantine::run(&demo_ctx, QuarantineCommand::Restore { id: first.id.clone(), vault: Some(vault) })?;
    }
    Ok(())
}
