//! Intel as STIX objects: every version kept, the newest one current.

use crate::{audit, now_text, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use std::collections::BTreeMap;
use takedown_model::Tlp;

/// One STIX 2.1 object ready to store. The intel crate validates and upgrades the
/// object and fills the indexed columns from it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewObject {
    pub id: String,
    pub type_: String,
    /// `modified` (or `created` for objects without one), normalised so that text
    /// order is time order.
    pub modified: String,
    /// The version the object was published in (`2.0` for upgraded objects).
    pub spec_version: String,
    pub tlp: Option<Tlp>,
    pub name: Option<String>,
    pub source_ref: Option<String>,
    pub target_ref: Option<String>,
    pub relationship_type: Option<String>,
    /// Where it came from: a file name or a feed.
    pub source: String,
    /// The object as STIX 2.1 JSON.
    pub json: String,
}

/// What one import brings, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// Who imports (for the audit trail).
    pub actor: String,
    /// The organisation that owns what is imported; `None` for the local one.
    pub org: Option<String>,
    /// The files read, for the record.
    pub files: Vec<String>,
    pub objects: Vec<NewObject>,
}

/// Who imports what, for the record; the objects come separately.
#[derive(Debug, Clone, Default)]
pub struct ImportHeader {
    pub actor: String,
    pub org: Option<String>,
    pub files: Vec<String>,
}

/// What an import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    /// Ids never seen before.
    pub new_objects: u64,
    /// Newer versions of known ids; they become current.
    pub new_versions: u64,
    /// Older versions of known ids: kept as history, the current one stays.
    pub older_versions: u64,
    /// Versions already in the store.
    pub unchanged: u64,
    /// Objects read per STIX type.
    pub by_type: BTreeMap<String, u64>,
}

/// A stored version of an object.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredObject {
    pub id: String,
    pub type_: String,
    pub modified: String,
    pub spec_version: String,
    pub is_current: bool,
    pub tlp: Option<Tlp>,
    pub org: Option<String>,
    pub source: String,
    pub json: String,
}

const COLUMNS: &str = "id, type, modified, spec_version, is_current, tlp, org, source, object";

fn stored(r: &Row<'_>) -> rusqlite::Result<StoredObject> {
    let tlp: Option<String> = r.get(5)?;
    Ok(StoredObject {
        id: r.get(0)?,
        type_: r.get(1)?,
        modified: r.get(2)?,
        spec_version: r.get(3)?,
        is_current: r.get::<_, i64>(4)? != 0,
        tlp: tlp.and_then(|t| t.parse().ok()),
        org: r.get(6)?,
        source: r.get(7)?,
        json: r.get(8)?,
    })
}

impl Store {
    /// Writes a batch in one transaction, with its audit event: either all of it
    /// lands or none of it does.
    pub fn import(&mut self, batch: &ImportBatch) -> Result<ImportSummary, StoreError> {
        let header = ImportHeader { actor: batch.actor.clone(), org: batch.org.clone(), files: batch.files.clone() };
        let objects = batch.objects.iter().map(|o| Ok::<_, std::convert::Infallible>(o.clone()));
        match self.import_stream(&header, objects)? {
            Ok(summary) => Ok(summary),
            Err(never) => match never {},
        }
    }

    /// Writes objects as they come, in one transaction with its audit event. An
    /// `Err` from `objects` abandons the import: nothing is written and the error is
    /// handed back as the inner `Err`. The outer `Err` is the store's own failure.
    pub fn import_stream<E>(
        &mut self,
        header: &ImportHeader,
        objects: impl IntoIterator<Item = Result<NewObject, E>>,
    ) -> Result<Result<ImportSummary, E>, StoreError> {
        let tx = crate::write_tx(&self.conn)?;
        let at = now_text();
        let files = serde_json::to_string(&header.files).unwrap_or_default();
        tx.execute(
            "INSERT INTO imports (at, actor, files, summary) VALUES (?1, ?2, ?3, '')",
            params![at, header.actor, files],
        )?;
        let import_id = tx.last_insert_rowid();
        let mut summary = ImportSummary { import_id, ..Default::default() };
        {
            let mut current = tx.prepare("SELECT modified FROM stix_objects WHERE id = ?1 AND is_current = 1")?;
            let mut exists = tx.prepare("SELECT 1 FROM stix_objects WHERE id = ?1 AND modified = ?2")?;
            let mut retire = tx.prepare("UPDATE stix_objects SET is_current = 0 WHERE id = ?1 AND is_current = 1")?;
            let mut insert = tx.prepare(
                "INSERT INTO stix_objects (id, type, modified, spec_version, is_current, tlp, org, source, import_id, \
                 name, source_ref, target_ref, relationship_type, object) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?;
            for o in objects {
                // Dropping `tx` on return rolls back.
                let o = match o {
                    Ok(o) => o,
                    Err(e) => return Ok(Err(e)),
                };
                *summary.by_type.entry(o.type_.clone()).or_default() += 1;
                let cur: Option<String> = current.query_row([&o.id], |r| r.get(0)).optional()?;
                let is_current = match &cur {
                    None => {
                        summary.new_objects += 1;
                        true
                    }
                    Some(m) if *m == o.modified => {
                        summary.unchanged += 1;
                        continue;
                    }
                    Some(m) if *m < o.modified => {
                        retire.execute([&o.id])?;
                        summary.new_versions += 1;
                        true
                    }
                    Some(_) => {
                        if exists.query_row(params![o.id, o.modified], |_| Ok(())).optional()?.is_some() {
                            summary.unchanged += 1;
                            continue;
                        }
                        summary.older_versions += 1;
                        false
                    }
                };
                insert.execute(params![
                    o.id,
                    o.type_,
                    o.modified,
                    o.spec_version,
                    is_current as i64,
                    o.tlp.map(Tlp::as_str),
                    header.org,
                    o.source,
                    import_id,
                    o.name,
                    o.source_ref,
                    o.target_ref,
                    o.relationship_type,
                    o.json
                ])?;
            }
        }
        let detail = serde_json::json!({ "files": header.files, "org": header.org, "summary": summary }).to_string();
        tx.execute("UPDATE imports SET summary = ?1 WHERE import_id = ?2", params![detail, import_id])?;
        audit::append(&tx, &header.actor, "intel.import", &format!("import {import_id}"), &detail)?;
        tx.commit()?;
        Ok(Ok(summary))
    }

    /// The current version of every object, or of every object of one type, in id order.
    pub fn current_objects(&self, type_: Option<&str>) -> Result<Vec<StoredObject>, StoreError> {
        let sql = match type_ {
            Some(_) => format!("SELECT {COLUMNS} FROM stix_objects WHERE type = ?1 AND is_current = 1 ORDER BY id"),
            None => format!("SELECT {COLUMNS} FROM stix_objects WHERE is_current = 1 AND ?1 IS NULL ORDER BY id"),
        };
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([type_], stored)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The current version of one object.
    pub fn object(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM stix_objects WHERE id = ?1 AND is_current = 1");
        Ok(self.conn.query_row(&sql, [id], stored).optional()?)
    }

    /// Every stored version of one object, oldest first.
    pub fn object_versions(&self, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM stix_objects WHERE id = ?1 ORDER BY modified");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([id], stored)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Current relationships whose source (`outgoing`) or target is `id`.
    pub fn relationships(&self, id: &str, outgoing: bool) -> Result<Vec<StoredObject>, StoreError> {
        let column = if outgoing { "source_ref" } else { "target_ref" };
        let sql = format!("SELECT {COLUMNS} FROM stix_objects WHERE {column} = ?1 AND is_current = 1 ORDER BY id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([id], stored)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Current objects per type.
    pub fn object_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT type, COUNT(*) FROM stix_objects WHERE is_current = 1 GROUP BY type")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// All stored versions (current and history).
    pub fn version_count(&self) -> Result<u64, StoreError> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM stix_objects", [], |r| r.get(0))?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn obj(id: &str, modified: &str, name: &str) -> NewObject {
        NewObject {
            id: id.into(),
            type_: "malware".into(),
            modified: modified.into(),
            spec_version: "2.1".into(),
            tlp: Some(Tlp::Green),
            name: Some(name.into()),
            source_ref: None,
            target_ref: None,
            relationship_type: None,
            source: "test".into(),
            json: format!("{{\"name\":\"{name}\"}}"),
        }
    }

    fn batch(objects: Vec<NewObject>) -> ImportBatch {
        ImportBatch { actor: "t".into(), org: None, files: vec!["f".into()], objects }
    }

    #[test]
    fn newer_version_wins_and_history_is_kept() {
        let mut s = Store::open_in_memory().unwrap();
        let id = "malware--00000000-0000-4000-8000-000000000001";
        let a = s.import(&batch(vec![obj(id, "2017-01-01T00:00:00.000Z", "v1")])).unwrap();
        assert_eq!(a.new_objects, 1);
        let b = s.import(&batch(vec![obj(id, "2018-01-01T00:00:00.000Z", "v2")])).unwrap();
        assert_eq!(b.new_versions, 1);
        let c = s.import(&batch(vec![obj(id, "2016-01-01T00:00:00.000Z", "v0")])).unwrap();
        assert_eq!(c.older_versions, 1);
        let d = s.import(&batch(vec![obj(id, "2018-01-01T00:00:00.000Z", "v2")])).unwrap();
        assert_eq!(d.unchanged, 1);
        assert!(s.object(id).unwrap().unwrap().json.contains("v2"));
        let versions: Vec<_> = s.object_versions(id).unwrap().into_iter().map(|v| v.modified).collect();
        assert_eq!(versions.len(), 3);
        assert_eq!(s.current_objects(Some("malware")).unwrap().len(), 1);
        assert_eq!(s.audit_events().unwrap().len(), 4);
    }

    #[test]
    fn an_abandoned_stream_leaves_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        let header = ImportHeader { actor: "t".into(), org: None, files: vec!["f".into()] };
        let good = obj("malware--00000000-0000-4000-8000-000000000001", "2017-01-01T00:00:00.000Z", "a");
        let stream = vec![Ok(good.clone()), Err("the second file is broken")];
        let result = s.import_stream(&header, stream).unwrap();
        assert_eq!(result.unwrap_err(), "the second file is broken");
        assert!(s.current_objects(None).unwrap().is_empty());
        assert!(s.audit_events().unwrap().is_empty());
        let ok = s.import_stream(&header, vec![Ok::<_, ()>(good)]).unwrap().unwrap();
        assert_eq!(ok.new_objects, 1);
    }
}
