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
    #[error(transparent)]
    Store(#[from] takedown_store::StoreError),
    #[error(transparent)]
    Capture(#[from] takedown_net::Error),
    #[error(transparent)]
    Accounts(#[from] takedown_accounts::Error),
}
