//! What can go wrong reading a graph, seeds or accounts, said so that a user can fix it.

use std::path::PathBuf;

/// Errors of the accounts library. Each names the file and, where there is one, the line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: the line is not UTF-8 text; convert the file to UTF-8 (for example with iconv) and retry")]
    NotUtf8 { path: PathBuf, line: u64 },
    #[error("{path}:{line}: {message}")]
    BadLine { path: PathBuf, line: u64, message: String },
    #[error("{path}: the graph has no edges (only comments, blank lines or self-loops); give an edge file with two account ids a line")]
    EmptyGraph { path: PathBuf },
    #[error("account {id:?} is in both the fake seeds and the real seeds; a seed must be one or the other — remove it from one list")]
    SeedInBoth { id: String },
    #[error("no {which} seeds are in the graph; check that the seed file uses the same ids as the edge file")]
    NoSeeds { which: &'static str },
    #[error("{path}: {count} account(s) of the graph have no score, {first:?} first; give the scores `takedown accounts rank` wrote for the same edge file")]
    MissingScores { path: PathBuf, count: usize, first: String },
    #[error("unknown method {0:?}; use one of: sybilrank, sybilscar, triad")]
    UnknownMethod(String),
}

pub type Result<T> = std::result::Result<T, Error>;
