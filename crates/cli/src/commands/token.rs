//! `takedown token create | revoke`: API tokens for the server.

use crate::outln;
use crate::output::Exit;
use crate::Context;
use anyhow::bail;
use clap::Subcommand;
use takedown_store::Role;

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (only it, on standard output). It is stored
    /// hashed and cannot be shown again.
    Create {
        #[arg(long, value_name = "NAME")]
        org: String,
        /// viewer, analyst, approver or admin.
        #[arg(long, value_name = "ROLE", value_parser = parse_role)]
        role: Role,
        /// Who the token is for. Default: --user.
        #[arg(long = "for", value_name = "USER")]
        for_user: Option<String>,
    },
    /// Revoke a token (the whole token, or its first 16 characters).
    Revoke { token: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(ctx: &Context, cmd: TokenCommand) -> anyhow::Result<Exit> {
    let store = ctx.open_store()?;
    match cmd {
        TokenCommand::Create { org, role, for_user } => {
            let user = for_user.unwrap_or_else(|| ctx.user.clone());
            let token = store.create_token(&org, &user, role, &ctx.user)?;
            outln!("{token}");
        }
        TokenCommand::Revoke { token } => {
            if !store.revoke_token(&token, &ctx.user)? {
                bail!("no active token starts with {:?}", token.chars().take(16).collect::<String>());
            }
            eprintln!("token revoked");
        }
    }
    Ok(Exit::Clean)
}
