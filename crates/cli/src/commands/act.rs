//! `takedown plan | approve | run | undo | actions | block`: remedies for a
//! campaign, proposed from its findings, approved by people, carried out through
//! real connectors, verified and undone.

use crate::outln;
use crate::output::{print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use takedown_act::block::{Blocked, Blocklist};
use takedown_act::notice::SmtpTls;
use takedown_act::plan::Policy;
use takedown_act::run::Outcome;
use takedown_app::connectors::{self, Accounts, Built, ConnectorConfig, Notices};
use takedown_app::AppError;
use takedown_model::{ActionKind, ActionState, Subject};
use takedown_store::{kind_str, subject_key, Store};

#[derive(Debug, Subcommand)]
pub enum ActCommand {
    /// Propose actions for a campaign's findings (nothing runs before approval).
    Plan {
        #[arg(long, value_name = "NAME")]
        campaign: String,
    },
    /// Approve proposed actions. A destructive one (disable, quarantine) needs an
    /// approver other than its proposer.
    Approve {
        /// Action ids (or unique prefixes of them).
        #[arg(required = true)]
        ids: Vec<String>,
        /// Let the proposer approve destructive actions too.
        #[arg(long)]
        single_person: bool,
    },
    /// Carry out the campaign's approved actions, then verify them.
    Run(RunArgs),
    /// Undo a done or verified action (enable the account, restore the file).
    Undo {
        /// The action's id (or a unique prefix of it).
        id: String,
        #[command(flatten)]
        connectors: ConnectorArgs,
    },
    /// Give up an action left running by a run that stopped (killed, crashed) before
    /// it recorded the outcome: it becomes failed, and can be approved and run again.
    Abandon {
        /// The action's id (or a unique prefix of it).
        id: String,
        /// Why, for the audit log (for example "run killed at 14:02").
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// The campaign's actions and their states.
    Actions {
        #[arg(long, value_name = "NAME")]
        campaign: String,
    },
    /// Export blocklists: an RPZ zone, a hosts file or Suricata rules. The WannaCry
    /// kill-switch domains are sinkholed, never blocked.
    Block(BlockArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, value_name = "NAME")]
    pub campaign: String,
    #[command(flatten)]
    pub connectors: ConnectorArgs,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ConnectorArgs {
    /// SCIM 2.0 base URL (the one /Users hangs off) for disabling accounts.
    #[arg(long, value_name = "URL")]
    pub scim: Option<String>,
    /// Bearer token for the SCIM server.
    #[arg(long, value_name = "TOKEN", env = "TAKEDOWN_SCIM_TOKEN", hide_env_values = true)]
    pub scim_token: Option<String>,
    /// Do not change accounts: write the SCIM requests to accounts-dry-run.jsonl in
    /// the outbox (or data) directory.
    #[arg(long, conflicts_with_all = ["scim", "webhook"])]
    pub dry_run_accounts: bool,
    /// A webhook that disables accounts, for systems without SCIM (signed JSON POST).
    #[arg(long, value_name = "URL", conflicts_with = "scim")]
    pub webhook: Option<String>,
    /// The secret the webhook's HMAC-SHA256 signature is made with.
    #[arg(long, value_name = "SECRET", env = "TAKEDOWN_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// SMTP relay for notices, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub smtp: Option<String>,
    /// How the SMTP connection is protected: auto (the default) uses STARTTLS when
    /// the relay offers it and plain SMTP when it does not; starttls requires it;
    /// tls is TLS from the start (SMTPS, port 465); none is always plain.
    /// Certificates are verified against the system's trust store and --smtp-ca.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = SmtpTlsArg::Auto)]
    pub smtp_tls: SmtpTlsArg,
    /// Also trust this CA or certificate (PEM) for the SMTP relay.
    #[arg(long, value_name = "FILE")]
    pub smtp_ca: Option<PathBuf>,
    /// Write notices as .eml files into this directory instead of sending them.
    #[arg(long, value_name = "DIR", conflicts_with = "smtp")]
    pub outbox: Option<PathBuf>,
    /// The From address of notices.
    #[arg(long, value_name = "ADDRESS", default_value = "security@example.org")]
    pub from: String,
    /// Who the notices say they are from.
    #[arg(long, value_name = "NAME", default_value = "The security team")]
    pub organisation: String,
    /// The quarantine vault (default: takedown-vault beside the database).
    #[arg(long, value_name = "DIR", env = "TAKEDOWN_VAULT")]
    pub vault: Option<PathBuf>,
    /// Connector attempts before an action is marked failed.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SmtpTlsArg {
    #[default]
    Auto,
    None,
    Starttls,
    Tls,
}

impl From<SmtpTlsArg> for SmtpTls {
    fn from(a: SmtpTlsArg) -> SmtpTls {
        match a {
            SmtpTlsArg::Auto => SmtpTls::Auto,
            SmtpTlsArg::None => SmtpTls::None,
            SmtpTlsArg::Starttls => SmtpTls::StartTls,
            SmtpTlsArg::Tls => SmtpTls::Tls,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlockFormat {
    Rpz,
    Hosts,
    Suricata,
}

#[derive(Debug, Args)]
pub struct BlockArgs {
    /// Export the indicators of this campaign's block actions (those not undone).
    #[arg(long, value_name = "NAME")]
    pub campaign: Option<String>,
    /// A domain or address to add (repeatable).
    #[arg(long = "indicator", value_name = "VALUE")]
    pub indicators: Vec<String>,
    #[arg(long, value_enum, default_value_t = BlockFormat::Rpz)]
    pub format: BlockFormat,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The RPZ zone's name.
    #[arg(long, value_name = "NAME", default_value = "rpz.takedown")]
    pub zone: String,
    /// The address kill-switch domains resolve to (a web server you run).
    #[arg(long, value_name = "IPV4")]
    pub sinkhole: Option<std::net::Ipv4Addr>,
}

/// The connectors the flags describe, for a run on `campaign` (none for an undo).
pub fn build(ctx: &Context, store: &Store, a: &ConnectorArgs, campaign: Option<&str>) -> anyhow::Result<Built> {
    let data = super::quarantine::data_dir(ctx);
    let accounts = if let Some(url) = &a.scim {
        Some(Accounts::Scim { url: url.clone(), token: a.scim_token.clone() })
    } else if let Some(url) = &a.webhook {
        let secret =
            a.webhook_secret.as_deref().context("--webhook needs --webhook-secret (or TAKEDOWN_WEBHOOK_SECRET)")?;
        Some(Accounts::Webhook { url: url.clone(), secret: secret.as_bytes().to_vec() })
    } else if a.dry_run_accounts {
        Some(Accounts::DryRun(a.outbox.clone().unwrap_or(data)))
    } else {
        None
    };
    let notices = if let Some(hp) = &a.smtp {
        let (host, port) = hp
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
            .with_context(|| format!("--smtp {hp:?}: expected HOST:PORT, for example 127.0.0.1:25"))?;
        let ca = match &a.smtp_ca {
            Some(p) => Some(std::fs::read(p).with_context(|| format!("--smtp-ca {}: cannot read it", p.display()))?),
            None => None,
        };
        Some(Notices::Smtp { host, port, tls: a.smtp_tls.into(), ca })
    } else {
        a.outbox.clone().map(Notices::Outbox)
    };
    let config = ConnectorConfig {
        accounts,
        notices,
        // The vault's default is the sweep's (beside the database), as documented.
        vault: Some(super::quarantine::vault_dir(ctx, a.vault.as_deref())),
        from: a.from.clone(),
        organisation: a.organisation.clone(),
        attempts: a.attempts,
    };
    match (connectors::build(&config, store, campaign, &ctx.user), &a.smtp_ca) {
        (Err(e @ AppError::SmtpSetup(_)), Some(ca)) => {
            Err(anyhow::Error::from(e).context(format!("--smtp-ca {}", ca.display())))
        }
        (built, _) => Ok(built?),
    }
}

pub fn run(ctx: &Context, cmd: ActCommand) -> anyhow::Result<Exit> {
    match cmd {
        ActCommand::Plan { campaign } => {
            let store = ctx.open_store()?;
            let planned = takedown_app::actions::plan(&store, &campaign, &ctx.user)?;
            if ctx.format != OutputFormat::Text {
                print_json(
                    ctx.format,
                    &serde_json::json!({ "campaign": campaign, "planned": planned.actions.len(), "new": planned.new }),
                )?;
            } else {
                outln!(
                    "{} action(s) for {} finding(s), {} new:",
                    planned.actions.len(),
                    planned.findings,
                    planned.new.len()
                );
                print_actions(&store, &campaign)?;
            }
            Ok(Exit::Clean)
        }
        ActCommand::Approve { ids, single_person } => {
            let store = ctx.open_store()?;
            let policy = Policy { two_person: !single_person };
            for id in ids {
                let a = takedown_act::plan::approve(&store, &id, &ctx.user, policy)?;
                if ctx.format == OutputFormat::Text {
                    outln!("approved {} {} {}", a.action.id, kind_str(a.action.kind), subject_key(&a.action.target));
                } else {
                    print_json(ctx.format, &serde_json::json!({ "approved": a.action.id, "by": ctx.user }))?;
                }
            }
            Ok(Exit::Clean)
        }
        ActCommand::Run(args) => {
            let store = ctx.open_store()?;
            let built = build(ctx, &store, &args.connectors, Some(&args.campaign))?;
            let out = takedown_act::run::run_approved(&store, &args.campaign, &ctx.user, &built.connectors())?;
            print_outcomes(ctx, &out)?;
            let failed = out.iter().any(|o| o.state == ActionState::Failed);
            Ok(if failed { Exit::Findings } else { Exit::Clean })
        }
        ActCommand::Undo { id, connectors } => {
            let store = ctx.open_store()?;
            let built = build(ctx, &store, &connectors, None)?;
            let o = takedown_act::run::undo(&store, &id, &ctx.user, &built.connectors())?;
            print_outcomes(ctx, &[o])?;
            Ok(Exit::Clean)
        }
        ActCommand::Abandon { id, reason } => {
            let store = ctx.open_store()?;
            let o = takedown_act::run::abandon(&store, &id, &ctx.user, &reason)?;
            print_outcomes(ctx, &[o])?;
            Ok(Exit::Clean)
        }
        ActCommand::Actions { campaign } => {
            let store = ctx.open_store()?;
            if ctx.format == OutputFormat::Text {
                print_actions(&store, &campaign)?;
            } else {
                let list: Vec<_> = store
                    .actions(&campaign)?
                    .into_iter()
                    .map(|s| serde_json::json!({ "action": s.action, "result": s.result }))
                    .collect();
                print_json(ctx.format, &serde_json::json!({ "actions": list }))?;
            }
            Ok(Exit::Clean)
        }
        ActCommand::Block(args) => block(ctx, args),
    }
}

fn print_actions(store: &Store, campaign: &str) -> anyhow::Result<()> {
    let style = Style::stdout();
    for s in store.actions(campaign)? {
        let a = s.action;
        let approver = a.approved_by.as_deref().map(|b| format!(", approved by {b}")).unwrap_or_default();
        outln!(
            "  {} {:<9} {:<16} {}  {}{}",
            style.dim(&a.id),
            a.state.as_str(),
            kind_str(a.kind),
            subject_key(&a.target),
            style.dim(&format!("(proposed by {}{approver})", a.proposed_by)),
            harden_note(a.kind, a.state, s.result.as_ref())
        );
    }
    Ok(())
}

/// Where a harden action stands: its fix recorded, applied, re-checked.
fn harden_note(kind: ActionKind, state: ActionState, result: Option<&serde_json::Value>) -> String {
    let Some(r) = result.filter(|_| kind == ActionKind::Harden && state == ActionState::Done) else {
        return String::new();
    };
    match (r["applied"]["by"].as_str(), r["recheck"]["holds"].as_bool()) {
        (Some(by), Some(false)) => format!("  fix applied by {by}; re-check: still at risk"),
        (Some(by), _) => format!("  fix applied by {by}"),
        (None, _) => "  fix recorded; `takedown harden applied ID` re-checks once it is applied".to_string(),
    }
}

fn print_outcomes(ctx: &Context, out: &[Outcome]) -> anyhow::Result<()> {
    if ctx.format != OutputFormat::Text {
        return print_json(ctx.format, &serde_json::json!({ "outcomes": out }));
    }
    if out.is_empty() {
        outln!("no approved actions to run");
    }
    for o in out {
        outln!("  {:<9} {:<16} {}  {}", o.state.as_str(), o.kind, o.target, o.detail);
    }
    Ok(())
}

fn block(ctx: &Context, args: BlockArgs) -> anyhow::Result<Exit> {
    let mut list = Blocklist { sinkhole: args.sinkhole, ..Blocklist::default() };
    for v in &args.indicators {
        let b = Blocked::parse(v)
            .with_context(|| format!("--indicator {v:?} is neither a domain name nor an IP address"))?;
        list.items.insert(b);
    }
    if let Some(campaign) = &args.campaign {
        let store = ctx.open_store()?;
        for s in store.actions(campaign)? {
            let a = s.action;
            let live = matches!(
                a.state,
                ActionState::Approved | ActionState::Running | ActionState::Done | ActionState::Verified
            );
            if let (ActionKind::Block, true, Subject::Endpoint { ip, .. }) = (a.kind, live, &a.target) {
                match Blocked::parse(ip) {
                    Some(b) => {
                        list.items.insert(b);
                    }
                    None => tracing::warn!(value = %ip, "not a domain or address; left out of the blocklist"),
                }
            }
        }
    }
    // The serial grows with time, as zone transfers need.
    let serial = u32::try_from(chrono::Utc::now().timestamp()).unwrap_or(u32::MAX);
    let text = match args.format {
        BlockFormat::Rpz => list.rpz(&args.zone, serial),
        BlockFormat::Hosts => list.hosts(),
        BlockFormat::Suricata => list.suricata(9_100_000),
    };
    match &args.output {
        Some(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut tmp =
                tempfile::NamedTempFile::new_in(dir).with_context(|| format!("writing into {}", dir.display()))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes())?;
            tmp.persist(path).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{} entries written to {}", list.items.len(), path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().lock().write_all(text.as_bytes())?;
        }
    }
    Ok(Exit::Clean)
}
