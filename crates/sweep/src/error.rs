use std::path::PathBuf;

/// Why a sweep or a quarantine step could not go on. Problems with single files
/// during a sweep are not errors: they are counted in the summary.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{path}:{line}:{column}: YARA rule does not compile: {message}")]
    Yara { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{origin}: the path pattern {pattern:?} is not a valid regular expression: {message}")]
    BadPattern { origin: String, pattern: String, message: String },
    #[error("--exclude {glob:?} is not a valid glob: {message}")]
    BadExclude { glob: String, message: String },
    #[error("{path}: cannot sweep it: {source} (check the path exists and is readable)")]
    Root { path: PathBuf, source: std::io::Error },
    #[error("the vault at {path}: {source}")]
    Vault { path: PathBuf, source: std::io::Error },
    #[error("quarantine of {path} stopped: {reason}; the original is untouched")]
    Quarantine { path: PathBuf, reason: String },
    #[error("no quarantined item {0:?} (see `takedown quarantine list`)")]
    NoSuchItem(String),
    #[error("{path} exists again; restore refuses to overwrite it (move it aside, then restore)")]
    WouldOverwrite { path: PathBuf },
    #[error("{path}: its folder now leads to {now}, not to {was} as when it was quarantined (a symbolic link put in its path?); restore refuses to write there (restore it after putting the folder back)")]
    FolderMoved { path: PathBuf, was: PathBuf, now: PathBuf },
    #[error("vault item {id}: {reason}; it was left in the vault as it is")]
    Damaged { id: String, reason: String },
}
