//! The audit trail: append-only rows, each carrying the SHA-256 of the one before.

use crate::{now_text, Store, StoreError};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use takedown_model::{AuditEvent, GENESIS_HASH};

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Rows read.
    pub rows: u64,
    /// The first row that does not fit the chain, if any.
    pub first_broken: Option<BrokenRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenRow {
    pub seq: u64,
    pub reason: String,
}

fn hash_row(seq: u64, at: &str, actor: &str, verb: &str, object: &str, detail: &str, prev: &str) -> String {
    hex::encode(Sha256::digest(AuditEvent::hashed_bytes(seq, at, actor, verb, object, detail, prev)))
}

/// Appends one event on `conn`, which may be a transaction: the event then commits
/// or rolls back with the change it records.
pub(crate) fn append(
    conn: &Connection,
    actor: &str,
    verb: &str,
    object: &str,
    detail: &str,
) -> Result<AuditEvent, StoreError> {
    let last: Option<(u64, String)> = conn
        .query_row("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let at = now_text();
    let hash = hash_row(seq, &at, actor, verb, object, detail, &prev_hash);
    conn.execute(
        "INSERT INTO audit_events (seq, at, actor, verb, object, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![seq, at, actor, verb, object, detail, prev_hash, hash],
    )?;
    let at = parse_time(&at);
    Ok(AuditEvent {
        seq,
        at,
        actor: actor.into(),
        verb: verb.into(),
        object: object.into(),
        detail: detail.into(),
        prev_hash,
        hash,
    })
}

fn parse_time(text: &str) -> takedown_model::Timestamp {
    // The store wrote this text itself; a row edited by hand into something that is
    // not a time is shown as the epoch rather than failing the whole listing (the
    // chain check reports the edit).
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).unwrap_or_default()
}

impl Store {
    /// Records who did what, in its own transaction.
    pub fn append_audit(&self, actor: &str, verb: &str, object: &str, detail: &str) -> Result<AuditEvent, StoreError> {
        let tx = crate::write_tx(&self.conn)?;
        let event = append(&tx, actor, verb, object, detail)?;
        tx.commit()?;
        Ok(event)
    }

    /// Every audit event in order.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, actor, verb, object, detail, prev_hash, hash FROM audit_events ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            let at: String = r.get(1)?;
            Ok(AuditEvent {
                seq: r.get(0)?,
                at: parse_time(&at),
                actor: r.get(2)?,
                verb: r.get(3)?,
                object: r.get(4)?,
                detail: r.get(5)?,
                prev_hash: r.get(6)?,
                hash: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Recomputes every row's hash and checks that each row names its predecessor's
    /// hash and that sequence numbers have no gap.
    pub fn verify_audit(&self) -> Result<AuditReport, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, at, actor, verb, object, detail, prev_hash, hash FROM audit_events ORDER BY seq")?;
        let mut rows = stmt.query([])?;
        let mut expected_seq = 1u64;
        let mut prev = GENESIS_HASH.to_string();
        let mut count = 0u64;
        while let Some(r) = rows.next()? {
            count += 1;
            let seq: u64 = r.get(0)?;
            let (at, actor, verb, object, detail, prev_hash, hash): (
                String,
                String,
                String,
                String,
                String,
                String,
                String,
            ) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?);
            let broken = |reason: String| AuditReport { rows: count, first_broken: Some(BrokenRow { seq, reason }) };
            if seq != expected_seq {
                return Ok(broken(format!("sequence jumps from {} to {seq}: rows are missing", expected_seq - 1)));
            }
            if prev_hash != prev {
                return Ok(broken(format!(
                    "prev_hash {prev_hash} does not match the hash of row {} ({prev})",
                    seq - 1
                )));
            }
            let recomputed = hash_row(seq, &at, &actor, &verb, &object, &detail, &prev_hash);
            if recomputed != hash {
                return Ok(broken(format!("contents changed: stored hash {hash}, recomputed {recomputed}")));
            }
            prev = hash;
            expected_seq += 1;
        }
        Ok(AuditReport { rows: count, first_broken: None })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn store_with_three() -> Store {
        let s = Store::open_in_memory().unwrap();
        for i in 0..3 {
            s.append_audit("alice", "test.step", &format!("obj{i}"), "{}").unwrap();
        }
        s
    }

    #[test]
    fn writers_in_two_processes_at_once_all_get_through() {
        // Each thread has its own connection, as two takedown processes would, and
        // the first ones create the file and its schema at the same time. Every
        // audit append reads the chain's last hash and then writes: in a deferred
        // transaction a writer that committed in between makes the second one fail
        // at once (SQLITE_BUSY, which no busy timeout waits out).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let s = Store::open(&path).unwrap();
                    for i in 0..100 {
                        s.append_audit("alice", "test.step", &format!("t{t}-{i}"), "{}").unwrap();
                        s.create_campaign(&crate::action::tests::campaign(&format!("c{t}-{i}")), "alice").unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.verify_audit().unwrap(), AuditReport { rows: 800, first_broken: None });
    }

    #[test]
    fn chain_verifies() {
        let s = store_with_three();
        let report = s.verify_audit().unwrap();
        assert_eq!(report, AuditReport { rows: 3, first_broken: None });
        let events = s.audit_events().unwrap();
        assert_eq!(events[1].prev_hash, events[0].hash);
        assert_eq!(events[0].prev_hash, GENESIS_HASH);
    }

    #[test]
    fn updates_and_deletes_are_refused() {
        let s = store_with_three();
        assert!(s.conn.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2", []).is_err());
        assert!(s.conn.execute("DELETE FROM audit_events WHERE seq = 3", []).is_err());
    }

    #[test]
    fn an_edit_is_named_by_its_row() {
        let s = store_with_three();
        // Someone with the file drops the trigger and edits a row.
        s.conn
            .execute_batch(
                "DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 2;",
            )
            .unwrap();
        let report = s.verify_audit().unwrap();
        let broken = report.first_broken.unwrap();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("contents changed"), "{}", broken.reason);
    }

    #[test]
    fn a_deleted_row_is_named() {
        let s = store_with_three();
        s.conn.execute_batch("DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2;").unwrap();
        let broken = s.verify_audit().unwrap().first_broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("missing"), "{}", broken.reason);
    }
}
