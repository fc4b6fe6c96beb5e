//! `takedown accounts`: find the group's fake accounts in a social graph from a few
//! known ones, explain each verdict, and list the real people they reached.

use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use takedown_accounts::attributes::Attributes;
use takedown_accounts::eval::{self, Region};
use takedown_accounts::evidence::AccountEvidence;
use takedown_accounts::{Graph, LoadReport, Method, Seeds};
use takedown_app::accounts as app;

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Rank every account from known fake and known real seeds; write the scores.
    Rank(RankArgs),
    /// The real people connected to confirmed fake accounts, most exposed first.
    Exposure(ExposureArgs),
    /// The standard evaluation: a graph, its copy as fake region, random attack edges.
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct RankArgs {
    /// Edge file: two ids a line, `#` comments, optional time and sender columns.
    #[arg(long, value_name = "FILE")]
    edges: PathBuf,
    /// Known fake account ids (any whitespace between ids).
    #[arg(long, value_name = "FILE")]
    fake_seeds: PathBuf,
    /// Known real account ids.
    #[arg(long, value_name = "FILE")]
    real_seeds: PathBuf,
    /// Write `id score` a line here, every account, highest score (most likely fake) first.
    #[arg(long, value_name = "OUT")]
    scores: PathBuf,
    /// Ranking method: triad (ours), sybilscar or sybilrank (baselines).
    #[arg(long, value_name = "NAME", default_value = "triad")]
    method: String,
    /// Accounts CSV (id first, then attributes such as signup_ip, device) for evidence.
    #[arg(long, value_name = "CSV")]
    accounts: Option<PathBuf>,
    /// How many of the top accounts to print (and to file with --campaign).
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// File the top accounts as findings under this campaign.
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExposureArgs {
    #[arg(long, value_name = "FILE")]
    edges: PathBuf,
    /// Confirmed fake account ids.
    #[arg(long, value_name = "FILE")]
    fake: PathBuf,
    /// Scores from `accounts rank` on the same edge file: order by the strength of each
    /// person's ties (how surely they are real, times how surely their fake friends are
    /// fake) instead of by their number of fake friends.
    #[arg(long, value_name = "FILE")]
    scores: Option<PathBuf>,
    /// File each exposed person as a finding under this campaign.
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The honest region (ids 0..n, as SNAP files).
    #[arg(long, value_name = "FILE", default_value = "../shared/corpus/graphs/ego-facebook/facebook_combined.txt")]
    edges: PathBuf,
    /// Attack-edge counts, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000,50000")]
    attack_edges: Vec<usize>,
    #[arg(long, default_value_t = 10)]
    repetitions: u64,
    /// Seeds drawn on each side.
    #[arg(long, default_value_t = 100)]
    seeds: usize,
    /// RNG seed: repetition r places attack edges with RNG_SEED + r.
    #[arg(long, default_value_t = 1000)]
    rng_seed: u64,
    /// Methods, comma separated (default: all).
    #[arg(long, value_delimiter = ',')]
    method: Vec<String>,
    /// Also a labelled graph as given: a directory with graph.txt, train.txt, test.txt.
    #[arg(long, value_name = "DIR")]
    labelled: Option<PathBuf>,
}

pub fn run(ctx: &Context, cmd: AccountsCommand) -> anyhow::Result<Exit> {
    match cmd {
        AccountsCommand::Rank(a) => rank(ctx, a),
        AccountsCommand::Exposure(a) => exposure_cmd(ctx, a),
        AccountsCommand::Eval(a) => eval_cmd(ctx, a),
    }
}

/// Loads a graph and says on stderr what was set aside.
pub fn load_graph(path: &Path) -> anyhow::Result<(Graph, LoadReport)> {
    let (g, report) = Graph::from_file(path)?;
    let style = Style::stderr();
    if report.self_loops > 0 {
        eprintln!(
            "{} {}: {} self-loop(s) ignored (first on line {}); an account cannot befriend itself",
            style.warn("warning:"),
            path.display(),
            report.self_loops,
            report.first_self_loop_line.unwrap_or(0)
        );
    }
    if report.duplicates > 0 {
        eprintln!(
            "{} {}: {} duplicate edge(s) (in either direction) kept once",
            style.warn("warning:"),
            path.display(),
            report.duplicates
        );
    }
    Ok((g, report))
}

fn warn_missing(which: &str, file: &Path, missing: &[String]) {
    if missing.is_empty() {
        return;
    }
    let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
    eprintln!(
        "{} {}: {} {which} id(s) not in the graph, ignored: {}{}",
        Style::stderr().warn("warning:"),
        file.display(),
        missing.len(),
        escaped(&shown.join(" ")),
        if missing.len() > shown.len() { " …" } else { "" }
    );
}

fn check_campaign(ctx: &Context, name: &Option<String>) -> anyhow::Result<Option<takedown_store::Store>> {
    let Some(name) = name else { return Ok(None) };
    let store = ctx.open_store()?;
    takedown_app::require_campaign(&store, name)?;
    Ok(Some(store))
}

fn rank(ctx: &Context, a: RankArgs) -> anyhow::Result<Exit> {
    let method: Method = a.method.parse()?;
    // Everything that can be wrong with the input is checked before anything is written.
    let store = check_campaign(ctx, &a.campaign)?;
    let (g, report) = load_graph(&a.edges)?;
    let fake_ids = takedown_accounts::read_ids(&a.fake_seeds)?;
    let real_ids = takedown_accounts::read_ids(&a.real_seeds)?;
    let seeds = Seeds::resolve(&g, &fake_ids, &real_ids)?;
    warn_missing("fake seed", &a.fake_seeds, &seeds.missing_fake);
    warn_missing("real seed", &a.real_seeds, &seeds.missing_real);
    if seeds.real.is_empty() && (method == Method::SybilRank || seeds.fake.is_empty()) {
        return Err(takedown_accounts::Error::NoSeeds { which: "real" }.into());
    }
    let attributes = a.accounts.as_deref().map(Attributes::from_file).transpose()?;
    let ranking = app::rank(&g, &seeds, method, attributes.as_ref(), a.top);
    app::write_scores(&a.scores, &g, &ranking)?;
    let mut stored = None;
    if let (Some(store), Some(name)) = (&store, &a.campaign) {
        stored = Some(app::file_ranking(store, name, &ranking, &ctx.user)?);
    }
    let top = ranking.top;
    if ctx.format != OutputFormat::Text {
        print_json(
            ctx.format,
            &serde_json::json!({
                "method": method.name(),
                "graph": { "accounts": g.node_count(), "edges": g.edge_count(), "self_loops": report.self_loops, "duplicates": report.duplicates },
                "seeds": { "fake": seeds.fake.len(), "real": seeds.real.len(), "missing_fake": seeds.missing_fake, "missing_real": seeds.missing_real },
                "scores": a.scores,
                "top": top,
                "stored": stored,
            }),
        )?;
        return Ok(Exit::Clean);
    }
    let style = Style::stdout();
    outln!(
        "{} accounts, {} edges; {} fake and {} real seeds; method {}; scores of every account in {}",
        g.node_count(),
        g.edge_count(),
        seeds.fake.len(),
        seeds.real.len(),
        method.name(),
        a.scores.display()
    );
    outln!("{}", style.bold(&format!("Top {} accounts that are not seeds (higher = more likely fake):", top.len())));
    for e in &top {
        print_evidence(e)?;
    }
    if let Some(n) = stored {
        outln!("{n} new findings filed under the campaign");
    }
    Ok(Exit::Clean)
}

fn print_evidence(e: &AccountEvidence) -> anyhow::Result<()> {
    // Ids and attribute values come from the user's files as they are.
    outln!("{:>4}. {}  score {:.6}", e.rank, escaped(&e.id), e.score);
    outln!(
        "      {} of {} friends are known or ranked fake ({:.0} %)",
        e.fake_neighbours,
        e.degree,
        e.fake_fraction * 100.0
    );
    if e.path_to_fake_seed.is_empty() {
        outln!("      no path to a known fake");
    } else {
        outln!("      path to known fake: {}", escaped(&e.path_to_fake_seed.join(" — ")));
    }
    for s in &e.shared {
        outln!(
            "      {}",
            escaped(&format!("shares {} {} with known fake(s) {}", s.column, s.value, s.fakes.join(", ")))
        );
    }
    Ok(())
}

fn exposure_cmd(ctx: &Context, a: ExposureArgs) -> anyhow::Result<Exit> {
    let store = check_campaign(ctx, &a.campaign)?;
    let (g, _) = load_graph(&a.edges)?;
    let ids = takedown_accounts::read_ids(&a.fake)?;
    let seeds = Seeds::resolve(&g, &ids, &[])?;
    warn_missing("fake", &a.fake, &seeds.missing_fake);
    if seeds.fake.is_empty() {
        return Err(takedown_accounts::Error::NoSeeds { which: "fake" }.into());
    }
    let scores = a.scores.as_deref().map(|p| takedown_accounts::scores::read_scores(&g, p)).transpose()?;
    if let (Some(s), Some(p)) = (&scores, &a.scores) {
        warn_missing("scored", p, &s.unknown);
    }
    let list = app::exposed(&g, &seeds, scores.as_ref().map(|s| s.scores.as_slice()));
    let order = if scores.is_some() { "strength" } else { "count" };
    let mut stored = None;
    if let (Some(store), Some(name)) = (&store, &a.campaign) {
        stored = Some(app::file_exposure(store, name, &list, &ctx.user)?);
    }
    if ctx.format != OutputFormat::Text {
        print_json(
            ctx.format,
            &serde_json::json!({ "exposed": list, "order": order, "fakes": seeds.fake.len(), "missing": seeds.missing_fake, "stored": stored }),
        )?;
    } else {
        outln!(
            "{} people connected to {} confirmed fake account(s), most exposed first (by {order}):",
            list.len(),
            seeds.fake.len()
        );
        for e in &list {
            let mut when = e.first_contact.map(|t| format!(", first contact {t}")).unwrap_or_default();
            if let Some(s) = e.strength {
                when.push_str(&format!(", strength {s:.3}"));
            }
            outln!(
                "  {}  {} fake friend(s) of {} ({:.0} %){when}: {}",
                escaped(&e.id),
                e.fakes.len(),
                e.degree,
                e.fake_fraction * 100.0,
                escaped(&e.fakes.join(", "))
            );
        }
        if let Some(n) = stored {
            outln!("{n} new findings filed under the campaign");
        }
    }
    Ok(if list.is_empty() { Exit::Clean } else { Exit::Findings })
}

fn eval_cmd(ctx: &Context, a: EvalArgs) -> anyhow::Result<Exit> {
    let methods: Vec<Method> = if a.method.is_empty() {
        Method::ALL.to_vec()
    } else {
        a.method.iter().map(|m| m.parse()).collect::<Result<_, _>>()?
    };
    if a.repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    let (g, _) = load_graph(&a.edges)?;
    let region = Region::from_graph(&g).with_context(|| {
        format!("{}: the ids must be the numbers 0..n (as in SNAP files) to copy the graph", a.edges.display())
    })?;
    let mut settings = Vec::new();
    for &attack in &a.attack_edges {
        settings.push(eval::protocol(&region, attack, a.repetitions, a.seeds, a.rng_seed, &methods));
    }
    let labelled = a.labelled.as_deref().map(|dir| labelled_eval(dir, &methods)).transpose()?;
    if ctx.format != OutputFormat::Text {
        print_json(
            ctx.format,
            &serde_json::json!({
                "edges": a.edges, "accounts": region.n, "rng_seed": a.rng_seed, "seeds": a.seeds,
                "settings": settings, "labelled": labelled,
            }),
        )?;
        return Ok(Exit::Clean);
    }
    outln!(
        "{}: {} accounts; copy as fake region; {} + {} seeds; {} repetition(s), RNG seed {}",
        a.edges.display(),
        region.n,
        a.seeds,
        a.seeds,
        a.repetitions,
        a.rng_seed
    );
    outln!("AUC, mean ± std (exposure recall in brackets):");
    outln!("| g | {} |", methods.iter().map(|m| m.name()).collect::<Vec<_>>().join(" | "));
    outln!("|---|{}", "---|".repeat(methods.len()));
    for s in &settings {
        let cells: Vec<String> = s
            .methods
            .iter()
            .map(|m| format!("{:.5} ± {:.5} [{:.3}]", m.auc_mean, m.auc_std, m.exposure_mean))
            .collect();
        outln!("| {} | {} |", s.attack_edges, cells.join(" | "));
    }
    if let Some(l) = &labelled {
        let cells: Vec<String> = l.iter().map(|(_, auc)| format!("{auc:.5}")).collect();
        outln!("| labelled | {} |", cells.join(" | "));
    }
    Ok(Exit::Clean)
}

/// AUC per method on a labelled graph: `graph.txt`, `train.txt` (seeds), `test.txt`.
fn labelled_eval(dir: &Path, methods: &[Method]) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let (g, _) = load_graph(&dir.join("graph.txt"))?;
    let read =
        |name: &str| std::fs::read(dir.join(name)).with_context(|| format!("cannot read {}", dir.join(name).display()));
    let (seeds, truth, include) = eval::labelled(&g, &read("train.txt")?, &read("test.txt")?, &dir.join("train.txt"))?;
    Ok(methods.iter().map(|m| (m.name(), eval::auc(&m.rank(&g, &seeds), &truth.fake, &include))).collect())
}
