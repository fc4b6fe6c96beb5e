//! `takedown`: take a threat group's operation apart — know it, find it, disrupt it,
//! warn the people it reached, and share what was done.
#![forbid(unsafe_code)]

mod commands;
mod output;

use clap::{Parser, Subcommand};

// Import and sweep allocate and free many small values on every core at once;
// glibc's allocator spends much of that time in locks, mimalloc does not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use output::OutputFormat;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "takedown", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// The database file (SQLite). Default: ./takedown.db
    #[arg(long, global = true, env = "TAKEDOWN_DB", value_name = "PATH")]
    db: Option<PathBuf>,

    /// How to print results.
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text)]
    output_format: OutputFormat,

    /// Who is acting, for the audit trail. Default: $TAKEDOWN_USER, else $USER, else the
    /// account the process runs as.
    #[arg(long, global = true, value_name = "NAME")]
    user: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Know the adversary: import, export and query intel.
    #[command(subcommand)]
    Intel(commands::intel::IntelCommand),
    /// Open and list campaigns: operations against one group.
    #[command(subcommand)]
    Campaign(commands::campaign::CampaignCommand),
    /// Find the group's malware and traces on this computer; quarantine them.
    Sweep(commands::sweep::SweepArgs),
    /// What the sweep quarantined: list, restore, purge.
    #[command(subcommand)]
    Quarantine(commands::quarantine::QuarantineCommand),
    /// Check and read the audit trail.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Disrupt and warn: plan, approve, run, undo and list actions; export blocklists.
    #[command(flatten)]
    Act(commands::act::ActCommand),
    /// Harden against the worm: check SMB1 and MS17-010; re-check after a fix.
    #[command(subcommand)]
    Harden(commands::harden::HardenCommand),
    /// Find the group's fake accounts in a social graph and the people they reached.
    #[command(subcommand)]
    Accounts(commands::accounts::AccountsCommand),
    /// Member organisations of the sharing community.
    #[command(subcommand)]
    Org(commands::org::OrgCommand),
    /// API tokens for the server.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Serve TAXII 2.1 and the REST API, TLP 2.0 enforced on every read.
    Serve(commands::serve::ServeArgs),
    /// Read packet captures: which hosts MS17-010 exploits, DoublePulsar and the
    /// WannaCry worm touched, with the evidence.
    Net(commands::net::NetArgs),
    /// A guided tour on a fresh temporary store.
    Demo(commands::demo::DemoArgs),
}

/// What every command gets: where the store is and how to print.
#[derive(Debug, Clone)]
pub struct Context {
    pub db: PathBuf,
    pub format: OutputFormat,
    pub user: String,
}

impl Context {
    pub fn open_store(&self) -> anyhow::Result<takedown_store::Store> {
        Ok(takedown_store::Store::open(&self.db)?)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let user = cli
        .user
        .or_else(|| std::env::var("TAKEDOWN_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .or_else(login_name)
        .unwrap_or_else(|| "unknown".into());
    let ctx = Context {
        db: cli.db.unwrap_or_else(|| PathBuf::from(takedown_store::DEFAULT_DB)),
        format: cli.output_format,
        user,
    };
    let result = match cli.command {
        Command::Intel(cmd) => commands::intel::run(&ctx, cmd),
        Command::Campaign(cmd) => commands::campaign::run(&ctx, cmd),
        Command::Sweep(args) => commands::sweep::run(&ctx, args),
        Command::Quarantine(cmd) => commands::quarantine::run(&ctx, cmd),
        Command::Audit(cmd) => commands::audit::run(&ctx, cmd),
        Command::Act(cmd) => commands::act::run(&ctx, cmd),
        Command::Harden(cmd) => commands::harden::run(&ctx, cmd),
        Command::Accounts(cmd) => commands::accounts::run(&ctx, cmd),
        Command::Org(cmd) => commands::org::run(&ctx, cmd),
        Command::Token(cmd) => commands::token::run(&ctx, cmd),
        Command::Serve(args) => commands::serve::run(&ctx, args),
        Command::Net(args) => commands::net::run(&ctx, args),
        Command::Demo(args) => commands::demo::run(&ctx, args),
    };
    output::finish(result)
}

/// The account this process runs as, for the audit trail when neither `--user` nor the
/// environment names one (services and CI jobs often run without `$USER`).
fn login_name() -> Option<String> {
    takedown_sweep::user_name(takedown_sweep::effective_uid()?)
}
