//! The one place takedown keeps state: intel (every version of every STIX object),
//! campaigns, their findings and the hash-chained audit trail, in SQLite by default.
//!
//! Every change goes through a transaction together with its audit event, so the
//! store is never half-written and never changed without a record.
//!
//! ```
//! # fn main() -> Result<(), takedown_store::StoreError> {
//! let store = takedown_store::Store::open_in_memory()?;
//! store.append_audit("alice", "campaign.create", "zinc-2017", "{}")?;
//! assert!(store.verify_audit()?.first_broken.is_none());
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

mod action;
mod audit;
mod campaign;
mod error;
mod finding;
mod intel;
mod migrate;
mod org;
mod token;
mod visibility;

pub use action::{kind_str, notice_key, Notice, StoredAction, Transition};
pub use audit::{AuditReport, BrokenRow};
pub use error::StoreError;
pub use finding::subject_key;
pub use intel::{ImportBatch, ImportHeader, ImportSummary, StoredObject};
pub use org::{Org, Role};
pub use takedown_intel::StixRow;
pub use token::Principal;
pub use visibility::{effective_level, may_see, Access, ObjectFilter, Standing, VersionRow};

use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// The default database file, relative to the working directory.
pub const DEFAULT_DB: &str = "takedown.db";

/// An open store. One per thread; SQLite serialises writers itself.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: Option<PathBuf>,
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to
    /// date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path)
            .map_err(|source| StoreError::Open { path: path.to_path_buf(), reason: error::open_reason(&source) })?;
        // WAL lets readers (a server, a dashboard) read while an import writes;
        // busy_timeout makes a second writer wait instead of failing at once.
        // 16 KiB pages pack STIX objects (a few KiB of JSON each) with far less waste
        // than the default 4 KiB; it only takes effect on a new file, before WAL.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .and_then(|_| conn.pragma_update(None, "page_size", 16384))
            .and_then(|_| to_wal(&conn))
            .and_then(|_| conn.pragma_update(None, "synchronous", "NORMAL"))
            .and_then(|_| conn.pragma_update(None, "foreign_keys", "ON"))
            // An import of ATT&CK touches ~60 MB of table and index pages; with the
            // default 2 MB cache SQLite spills pages to the WAL mid-transaction and
            // reads them back. The cache is a ceiling, not an allocation.
            .and_then(|_| conn.pragma_update(None, "cache_size", -262_144))
            .map_err(|source| StoreError::Open { path: path.to_path_buf(), reason: error::open_reason(&source) })?;
        let mut store = Store { conn, path: Some(path.to_path_buf()) };
        store.migrate()?;
        Ok(store)
    }

    /// A store that lives only as long as this value: for tests and the demo.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let conn = Connection::open_in_memory()
            .map_err(|source| StoreError::Open { path: ":memory:".into(), reason: error::open_reason(&source) })?;
        let mut store = Store { conn, path: None };
        store.migrate()?;
        Ok(store)
    }

    /// The file behind this store, if it has one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// Now, in the one text form the store writes timestamps in (RFC 3339, UTC,
/// milliseconds), which sorts as text in time order.
pub(crate) fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The transaction every writer uses: it takes the write lock at its start. A
/// deferred one that reads and then writes (every audit append reads the chain's last
/// hash first) cannot wait for another writer: SQLite answers "database is locked" at
/// once, whatever the busy timeout, as soon as two processes write at the same time.
pub(crate) fn write_tx(conn: &rusqlite::Connection) -> Result<rusqlite::Transaction<'_>, rusqlite::Error> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// Switches a database to WAL. Switching a new file needs it to itself, and SQLite
/// does not wait for that even with a busy timeout, so two processes creating the
/// same database at once would see "database is locked": retried for up to ten
/// seconds, as the busy timeout waits for other locks. On a file already in WAL
/// this changes nothing and takes no lock.
fn to_wal(conn: &Connection) -> Result<(), rusqlite::Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}
