//! `takedown demo`: the quick start, on a fresh temporary store.

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use clap::Args;
use takedown_app::intel::{ensure_builtin, StoreLookup};
use takedown_intel::knowledge;
use takedown_model::{Campaign, Tlp};

/// The demo's one campaign: everything the tour finds is filed under it.
const CAMPAIGN: &str = "zinc";

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
    // One campaign holds the whole case, so the dashboard after the tour shows it all.
    let campaign = Campaign {
        id: takedown_intel::ids::stable_id("grouping", CAMPAIGN),
        name: CAMPAIGN.into(),
        actor: Some("ZINC".into()),
        description: Some("WannaCry on a file server, fake researcher profiles befriending staff".into()),
        tlp: Tlp::Amber,
        created: chrono::Utc::now(),
    };
    store.create_campaign(&campaign, &ctx.user)?;
    drop(store);
    outln!("{}", style.bold(&format!("$ takedown campaign create {CAMPAIGN} --actor ZINC")));
    outln!("Every step below files what it finds under the campaign {CAMPAIGN}.");
    outln!();
    sweep_step(ctx, &db, dir.path())?;
    outln!();
    super::demo_accounts::step(ctx, &db, CAMPAIGN)?;
    outln!();
    super::demo_net::step(ctx, &db, dir.path(), CAMPAIGN)?;
    outln!();
    super::demo_act::step(&db, dir.path(), CAMPAIGN)?;
    outln!();
    outln!("Next: import more intel into ./takedown.db, for example MITRE ATT&CK:");
    outln!("  takedown intel import enterprise-attack.json");
    outln!("  takedown intel show \"HIDDEN COBRA\"");
    if args.keep.is_some() {
        outln!("The demo database was kept at {}.", db.display());
    }
    if args.serve {
        outln!();
        super::demo_serve::step(ctx, &db, dir.path(), args.listen, CAMPAIGN)?;
    }
    Ok(Exit::Clean)
}

/// Find: a small host WannaCry went through, swept and its findings filed; the
/// cleaning waits for approval (the disrupt step).
fn sweep_step(ctx: &Context, db: &std::path::Path, dir: &std::path::Path) -> anyhow::Result<()> {
    let style = Style::stdout();
    let host = dir.join("host");
    takedown_sweep::plant::plant_demo_host(&host)?;
    let demo_ctx = Context { db: db.to_path_buf(), format: OutputFormat::Text, user: ctx.user.clone() };
    outln!("{}", style.bold("Find on a host: an example file server that WannaCry went through"));
    outln!("{}", style.bold(&format!("$ takedown sweep --campaign {CAMPAIGN} {}", host.display())));
    super::sweep::run(&demo_ctx, super::sweep::SweepArgs::for_campaign(vec![host], CAMPAIGN))?;
    Ok(())
}
