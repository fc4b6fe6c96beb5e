//! Embedded, forward-only migrations, tracked in SQLite's `user_version`.

use crate::{Store, StoreError};

/// In order; the index + 1 is the schema version a migration brings the database to.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_audit_append_only.sql"),
    include_str!("../migrations/0003_findings.sql"),
    include_str!("../migrations/0004_actions.sql"),
    include_str!("../migrations/0005_orgs.sql"),
    include_str!("../migrations/0006_versions_per_owner.sql"),
];

impl Store {
    pub(crate) fn migrate(&mut self) -> Result<(), StoreError> {
        let current: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if current > known {
            return Err(StoreError::TooNew { found: current, known });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = i as i64 + 1;
            let tx = crate::write_tx(&self.conn)?;
            // Another process opening the same database may have applied it while
            // this one waited for the write lock.
            let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if now >= version {
                continue;
            }
            tx.execute_batch(sql).map_err(|source| StoreError::Migration { version, source })?;
            tx.pragma_update(None, "user_version", version)
                .map_err(|source| StoreError::Migration { version, source })?;
            tx.commit()?;
            tracing::debug!(version, "applied migration");
        }
        Ok(())
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Migration {
            version: 0,
            source: rusqlite::Error::InvalidPath(e.to_string().into()),
        })?;
        let path = dir.path().join("t.db");
        let first = Store::open(&path)?;
        assert_eq!(first.schema_version()?, MIGRATIONS.len() as i64);
        drop(first);
        let again = Store::open(&path)?;
        assert_eq!(again.schema_version()?, MIGRATIONS.len() as i64);
        Ok(())
    }
}
