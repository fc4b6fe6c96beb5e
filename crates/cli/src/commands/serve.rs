//! `takedown serve`: TAXII 2.1, the REST API and the dashboard on the store.

use crate::output::Exit;
use crate::Context;
use anyhow::Context as _;
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use takedown_server::{ActConfig, AppState};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Use 127.0.0.1 unless a reverse proxy with TLS is in front.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8642")]
    listen: SocketAddr,
    /// Let approvers run notices and account changes from the server: notices are
    /// written here as .eml files, account changes as dry-run requests. Without it
    /// the server answers 501 for those and `takedown run` does them.
    #[arg(long, value_name = "DIR")]
    outbox: Option<PathBuf>,
    /// The From address of notices the server writes.
    #[arg(long, value_name = "ADDRESS", default_value = "security@example.org")]
    from: String,
    /// Who the notices say they are from.
    #[arg(long, value_name = "NAME", default_value = "The security team")]
    organisation: String,
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    let act = ActConfig { outbox: args.outbox, from: args.from, organisation: args.organisation };
    takedown_server::run(args.listen, AppState::new(store).with_act(act), |addr| {
        eprintln!(
            "serving on http://{addr} (dashboard at http://{addr}/ui/, TAXII discovery at /taxii2/, REST at /api/v1/); \
             Ctrl-C stops"
        );
    })
    .with_context(|| format!("cannot serve on {}", args.listen))?;
    Ok(Exit::Clean)
}
