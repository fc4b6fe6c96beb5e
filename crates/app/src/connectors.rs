//! The connectors actions run through, built from one description whichever front
//! end asks: the CLI from its flags, the server from how it was started.

use crate::vault::AuditedVault;
use crate::AppError;
use std::path::PathBuf;
use takedown_act::directory::{AccountDirectory, DryRunDirectory, Webhook};
use takedown_act::notice::{named_accounts, FileOutbox, Mailer, NoticeContext, Smtp, SmtpTls};
use takedown_act::run::Connectors;
use takedown_act::scim::Scim;
use takedown_act::{HiveCleaner, QuarantineVault, Retry};
use takedown_store::Store;

/// Where accounts are disabled.
#[derive(Debug, Clone)]
pub enum Accounts {
    /// A SCIM 2.0 server: its base URL and bearer token.
    Scim { url: String, token: Option<String> },
    /// A signed webhook, for systems without SCIM.
    Webhook { url: String, secret: Vec<u8> },
    /// No change: the requests are written to `accounts-dry-run.jsonl` in this directory.
    DryRun(PathBuf),
}

/// How notices go out.
#[derive(Debug, Clone)]
pub enum Notices {
    /// An SMTP relay, with the CA (PEM) to trust besides the system's.
    Smtp { host: String, port: u16, tls: SmtpTls, ca: Option<Vec<u8>> },
    /// Written as .eml files into this directory.
    Outbox(PathBuf),
}

/// Every connector a run may use; `None` leaves that kind of action not runnable.
#[derive(Debug, Clone, Default)]
pub struct ConnectorConfig {
    pub accounts: Option<Accounts>,
    pub notices: Option<Notices>,
    /// The quarantine vault's directory (opened only when a quarantine runs).
    pub vault: Option<PathBuf>,
    /// The From address and the signature of notices.
    pub from: String,
    pub organisation: String,
    /// Connector attempts before an action is marked failed.
    pub attempts: u32,
}

/// The connectors built, kept alive for the run.
pub struct Built {
    directory: Option<Box<dyn AccountDirectory>>,
    mailer: Option<Box<dyn Mailer>>,
    vault: Option<AuditedVault>,
    notice: NoticeContext,
    retry: Retry,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("directory", &self.directory.is_some())
            .field("mailer", &self.mailer.is_some())
            .field("vault", &self.vault)
            .finish_non_exhaustive()
    }
}

impl Built {
    pub fn connectors(&self) -> Connectors<'_> {
        Connectors {
            directory: self.directory.as_deref(),
            mailer: self.mailer.as_deref(),
            vault: self.vault.as_ref().map(|v| v as &dyn QuarantineVault),
            cleaner: self.vault.as_ref().map(|v| v as &dyn HiveCleaner),
            notice: self.notice.clone(),
            retry: self.retry,
        }
    }
}

/// Builds the connectors `config` describes for a run on `campaign` (`None` for an
/// undo) by `user`: the notices name the campaign's accounts, and the vault records its steps in the
/// store's audit trail (a store in memory gets no vault).
pub fn build(config: &ConnectorConfig, store: &Store, campaign: Option<&str>, user: &str) -> Result<Built, AppError> {
    let retry = Retry { attempts: config.attempts.max(1), ..Retry::default() };
    let directory: Option<Box<dyn AccountDirectory>> = match &config.accounts {
        Some(Accounts::Scim { url, token }) => Some(Box::new(Scim::new(url, token.clone(), retry))),
        Some(Accounts::Webhook { url, secret }) => Some(Box::new(Webhook::new(url, secret, retry))),
        Some(Accounts::DryRun(dir)) => {
            create(dir)?;
            Some(Box::new(DryRunDirectory::new(dir.join("accounts-dry-run.jsonl"))))
        }
        None => None,
    };
    let mailer: Option<Box<dyn Mailer>> = match &config.notices {
        Some(Notices::Smtp { host, port, tls, ca }) => {
            Some(Box::new(Smtp::new(host, *port, *tls, ca.as_deref()).map_err(AppError::SmtpSetup)?))
        }
        Some(Notices::Outbox(dir)) => {
            create(dir)?;
            Some(Box::new(FileOutbox { dir: dir.clone() }))
        }
        None => None,
    };
    // The vault records its steps through a connection of its own to the same store.
    let vault = match (&config.vault, store.path()) {
        (Some(dir), Some(db)) => Some(AuditedVault::new(dir.clone(), Store::open(db)?, user.to_string())),
        _ => None,
    };
    let notice = NoticeContext {
        organisation: config.organisation.clone(),
        from: config.from.clone(),
        accounts: match campaign {
            Some(c) => named_accounts(store, c)?,
            None => Vec::new(),
        },
    };
    Ok(Built { directory, mailer, vault, notice, retry })
}

fn create(dir: &std::path::Path) -> Result<(), AppError> {
    std::fs::create_dir_all(dir).map_err(|source| AppError::Write { path: dir.to_path_buf(), source })
}
