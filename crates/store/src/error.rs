use std::path::PathBuf;

/// Why SQLite could not open a file, in its own words without the path again: its
/// error's text repeats the path, and its source repeats the words.
pub(crate) fn open_reason(err: &rusqlite::Error) -> String {
    match err {
        rusqlite::Error::SqliteFailure(e, _) => rusqlite::ffi::code_to_str(e.extended_code).to_string(),
        other => other.to_string(),
    }
}

/// Everything the store can fail at, with the context a person needs to act.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the database {path}: {reason} (check the path and its permissions, or choose another with --db)"
    )]
    Open { path: PathBuf, reason: String },
    #[error("the database was written by a newer takedown (schema {found}, this build knows up to {known}); upgrade takedown")]
    TooNew { found: i64, known: i64 },
    #[error("database migration {version} failed: {source}")]
    Migration { version: i64, source: rusqlite::Error },
    #[error("a campaign named {0:?} already exists")]
    CampaignExists(String),
    #[error("no campaign named {0:?} (create it with `takedown campaign create`, or see `takedown campaign list`)")]
    NoCampaign(String),
    #[error("no action {0:?} (see `takedown actions --campaign NAME`)")]
    NoAction(String),
    #[error("action {id} is {from} and cannot become {to} (proposed → approved → running → done/failed → verified → undone)")]
    BadTransition { id: String, from: &'static str, to: &'static str },
    #[error("an organisation named {0:?} already exists")]
    OrgExists(String),
    #[error("an organisation needs a name that is not empty (give one, e.g. `takedown org add msft`)")]
    EmptyOrgName,
    #[error("no organisation named {0:?} (add it with `takedown org add NAME`, or see `takedown org list`)")]
    NoOrg(String),
    #[error("the system's random number source failed: {0}")]
    Random(String),
    #[error("a stored finding could not be read back: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}
