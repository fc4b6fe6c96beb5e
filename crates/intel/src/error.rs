use std::path::PathBuf;

/// Why a file of intel was rejected. Every variant names the file and, where it
/// can, the place inside it, and the message ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid gzip file: {source} (the file starts like gzip but does not decompress; re-download it or import the uncompressed JSON)")]
    Gzip { path: PathBuf, source: std::io::Error },
    #[error("{path}: larger than {limit} bytes once decompressed; refusing it (split the bundle)")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: not valid JSON at line {line}, column {column}: {message} (the file is truncated or damaged)")]
    Json { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: not a STIX bundle: {reason}")]
    NotABundle { path: PathBuf, reason: String },
    #[error("{path}: {count} invalid STIX object(s), nothing imported:\n{problems}")]
    InvalidObjects { path: PathBuf, count: usize, problems: String },
    #[error("{path}: cannot tell what kind of intel this is: {reason}")]
    UnknownKind { path: PathBuf, reason: String },
    #[error("{path}:{line}:{column}: YARA rule does not compile: {message}")]
    Yara { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: not UTF-8 text at byte {offset}; IOC and YARA files must be UTF-8")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path}: no indicators in this file ({reason})")]
    Empty { path: PathBuf, reason: String },
}
