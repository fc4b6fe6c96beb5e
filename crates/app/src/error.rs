use std::path::PathBuf;

/// What a use case can fail at. Each variant says what and where; the front end adds
/// what to do where it knows more.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no campaign named {0:?} (create it with `takedown campaign create {0} --actor GROUP`)")]
    NoCampaign(String),
    #[error("cannot open the capture {path}: {source} (check the path)")]
    OpenCapture { path: PathBuf, source: std::io::Error },
    #[error("{0} is a directory; give capture files")]
    CaptureIsDirectory(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("stored indicator {id} is not JSON: {reason}")]
    StoredObject { id: String, reason: String },
    #[error("indicator {id} ({source_name}) from the store: {reason}")]
    StoredIndicator { id: String, source_name: String, reason: String },
    #[error("recording a vault step in the audit trail: {0}")]
    AuditStep(takedown_store::StoreError),
    #[error("cannot write a quarantine's reasons as JSON: {0}")]
    Serialise(String),
    #[error("no intel files in {}: expected .json, .json.gz, .yar or signature-base IOC .txt files", list(.0))]
    NoIntelFiles(Vec<PathBuf>),
    #[error("no organisation named {0:?}: add it first with `takedown org add {0}`")]
    NoOrg(String),
    /// Every rejected file is here, each with why; the message is the summary.
    #[error(
        "{} of {files} file(s) rejected; nothing was imported (fix or leave out the files above and run the import again)",
        rejected.len()
    )]
    ImportRejected { rejected: Vec<takedown_intel::IntelError>, files: usize },
    #[error("the import was abandoned; nothing was imported")]
    ImportAbandoned,
    #[error(transparent)]
    Store(#[from] takedown_store::StoreError),
    #[error(transparent)]
    Act(#[from] takedown_act::ActError),
    /// The SMTP connector could not be set up (its TLS settings or extra CA).
    #[error(transparent)]
    SmtpSetup(takedown_act::ActError),
    #[error(transparent)]
    Intel(#[from] takedown_intel::IntelError),
    #[error(transparent)]
    Lookup(#[from] takedown_intel::knowledge::LookupError),
    #[error(transparent)]
    Sweep(#[from] takedown_sweep::SweepError),
    #[error(transparent)]
    Capture(#[from] takedown_net::Error),
    #[error(transparent)]
    Accounts(#[from] takedown_accounts::Error),
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}
