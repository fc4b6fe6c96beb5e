//! Helpers for the CLI tests: run the binary, find the shared corpus.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod serve;

/// `../shared/corpus` beside the repository, if it is there.
pub fn corpus() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.is_dir().then(|| dir.canonicalize().unwrap())
}

/// Says why a test does not run. Under `TAKEDOWN_REQUIRE_PEERS` (set by `.ci/run`,
/// which provides the corpus and every peer) a skip is a failure instead.
pub fn skip(why: &str) {
    if std::env::var_os("TAKEDOWN_REQUIRE_PEERS").is_some() {
        panic!("TAKEDOWN_REQUIRE_PEERS is set, but {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// The corpus file, or `None` after saying why the test is skipped.
pub fn corpus_file(rel: &str) -> Option<PathBuf> {
    match corpus() {
        Some(c) if c.join(rel).exists() => Some(c.join(rel)),
        _ => {
            skip(&format!("../shared/corpus/{rel} is not here (the shared corpus is beside the repository in CI)"));
            None
        }
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn takedown(db: &Path, args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_takedown"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("TAKEDOWN_USER", "tester")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Rows of intel and audit in a store, to prove a rejected import changed nothing.
pub fn store_state(db: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let versions = conn.query_row("SELECT COUNT(*) FROM stix_objects", [], |r| r.get(0)).unwrap();
    let audit = conn.query_row("SELECT COUNT(*) FROM audit_events", [], |r| r.get(0)).unwrap();
    (versions, audit)
}

pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}
