//! `takedown serve`: TAXII 2.1 and the REST API on the store.

use crate::output::Exit;
use crate::Context;
use anyhow::Context as _;
use clap::Args;
use std::net::SocketAddr;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Use 127.0.0.1 unless a reverse proxy with TLS is in front.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8642")]
    listen: SocketAddr,
}

pub fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    takedown_server::run(args.listen, store, |addr| {
        eprintln!(
            "serving on http://{addr} (TAXII discovery at http://{addr}/taxii2/, REST at /api/v1/); Ctrl-C stops"
        );
    })
    .with_context(|| format!("cannot serve on {}", args.listen))?;
    Ok(Exit::Clean)
}
