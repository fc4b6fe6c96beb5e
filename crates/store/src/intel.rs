//! Intel as STIX objects: every version kept, per owner. Each organisation's
//! newest version of an id is its current one; a write only ever compares with,
//! retires or adds to the writer's own versions (docs/ARCHITECTURE.md, "Who may write what").

use crate::{audit, now_text, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use std::collections::BTreeMap;
use takedown_intel::StixRow;
use takedown_model::Tlp;

/// What one import brings, written in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportBatch {
    /// Who imports (for the audit trail).
    pub actor: String,
    /// The organisation that owns what is imported; `None` for the server itself
    /// (the built-in pack, the operator's own `intel import`), never for a member.
    pub org: Option<String>,
    /// The files read, for the record.
    pub files: Vec<String>,
    pub objects: Vec<StixRow>,
}

/// Who imports what, for the record; the objects come separately.
#[derive(Debug, Clone, Default)]
pub struct ImportHeader {
    pub actor: String,
    pub org: Option<String>,
    pub files: Vec<String>,
}

/// What an import changed, counted against the importer's own versions only: what
/// other owners hold is neither changed nor told.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportSummary {
    pub import_id: i64,
    /// Ids the importer did not hold before.
    pub new_objects: u64,
    /// Newer versions of the importer's ids; they become its current ones.
    pub new_versions: u64,
    /// Older versions of the importer's ids: kept as history, the current one stays.
    pub older_versions: u64,
    /// Versions the importer already holds.
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

const COLUMNS: &str = "s.id, s.type, s.modified, s.spec_version, s.is_current, s.tlp, s.org, s.source, s.object";

/// The first row an owner wrote of an id: which owner came first.
const FIRST_WRITTEN: &str = "(SELECT MIN(f.row_id) FROM stix_objects f \
     WHERE f.id = s.id AND COALESCE(f.org, '') = COALESCE(s.org, ''))";

/// Of the current versions of each id (rows in id order, each with the first row
/// its owner wrote of that id), the one the operator's own lookups use: the
/// server's, else that of the owner who wrote the id first. A member can add its
/// own version of any id, but never displace what the server or an earlier owner
/// holds here.
fn one_per_id(rows: Vec<(StoredObject, i64)>) -> Vec<StoredObject> {
    let mut out: Vec<(StoredObject, i64)> = Vec::new();
    for (row, first) in rows {
        let rank = (row.org.is_some(), first);
        match out.last_mut() {
            Some((kept, kept_first)) if kept.id == row.id => {
                if rank < (kept.org.is_some(), *kept_first) {
                    *kept = row;
                    *kept_first = first;
                }
            }
            _ => out.push((row, first)),
        }
    }
    out.into_iter().map(|(row, _)| row).collect()
}

fn stored_first(r: &Row<'_>) -> rusqlite::Result<(StoredObject, i64)> {
    Ok((stored(r)?, r.get(9)?))
}

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
        objects: impl IntoIterator<Item = Result<StixRow, E>>,
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
            // Only the writer's own versions: another owner's are not compared with,
            // retired or even looked at, so a write learns nothing about them.
            let owner = "COALESCE(org, '') = COALESCE(?2, '')";
            let mut current =
                tx.prepare(&format!("SELECT modified FROM stix_objects WHERE id = ?1 AND {owner} AND is_current = 1"))?;
            let mut exists =
                tx.prepare(&format!("SELECT 1 FROM stix_objects WHERE id = ?1 AND {owner} AND modified = ?3"))?;
            let mut retire = tx.prepare(&format!(
                "UPDATE stix_objects SET is_current = 0 WHERE id = ?1 AND {owner} AND is_current = 1"
            ))?;
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
                let cur: Option<String> = current.query_row(params![o.id, header.org], |r| r.get(0)).optional()?;
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
                        retire.execute(params![o.id, header.org])?;
                        summary.new_versions += 1;
                        true
                    }
                    Some(_) => {
                        if exists.query_row(params![o.id, header.org, o.modified], |_| Ok(())).optional()?.is_some() {
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

    /// The current version of every object, or of every object of one type, in id
    /// order: one per id, as [`one_per_id`] chooses (the operator's view, for sweep,
    /// show, why and export).
    pub fn current_objects(&self, type_: Option<&str>) -> Result<Vec<StoredObject>, StoreError> {
        let filter = if type_.is_some() { "s.type = ?1" } else { "?1 IS NULL" };
        let sql = format!(
            "SELECT {COLUMNS}, {FIRST_WRITTEN} FROM stix_objects s WHERE {filter} AND s.is_current = 1 ORDER BY s.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([type_], stored_first)?;
        Ok(one_per_id(rows.collect::<Result<_, _>>()?))
    }

    /// The current version of one object, as [`one_per_id`] chooses.
    pub fn object(&self, id: &str) -> Result<Option<StoredObject>, StoreError> {
        let sql = format!("SELECT {COLUMNS}, {FIRST_WRITTEN} FROM stix_objects s WHERE s.id = ?1 AND s.is_current = 1");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([id], stored_first)?;
        Ok(one_per_id(rows.collect::<Result<_, _>>()?).pop())
    }

    /// One owner's current version of an object (`None`: the server's own).
    pub fn owned_object(&self, id: &str, owner: Option<&str>) -> Result<Option<StoredObject>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM stix_objects s \
             WHERE s.id = ?1 AND COALESCE(s.org, '') = COALESCE(?2, '') AND s.is_current = 1"
        );
        Ok(self.conn.query_row(&sql, params![id, owner], stored).optional()?)
    }

    /// Every stored version of one object, of every owner, oldest first.
    pub fn object_versions(&self, id: &str) -> Result<Vec<StoredObject>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM stix_objects s WHERE s.id = ?1 ORDER BY s.modified, s.row_id");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([id], stored)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Current relationships whose source (`outgoing`) or target is `id`: of each
    /// relationship, the version [`one_per_id`] chooses, if that version still
    /// points at `id`.
    pub fn relationships(&self, id: &str, outgoing: bool) -> Result<Vec<StoredObject>, StoreError> {
        let column = if outgoing { "source_ref" } else { "target_ref" };
        let sql = format!(
            "SELECT {COLUMNS}, {FIRST_WRITTEN}, s.{column} = ?1 FROM stix_objects s WHERE s.is_current = 1 \
             AND s.id IN (SELECT r.id FROM stix_objects r WHERE r.{column} = ?1 AND r.is_current = 1) ORDER BY s.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([id], |r| Ok((stored_first(r)?, r.get::<_, Option<bool>>(10)?.unwrap_or(false))))?;
        let rows: Vec<((StoredObject, i64), bool)> = rows.collect::<Result<_, _>>()?;
        let pointing: Vec<(String, Option<String>)> =
            rows.iter().filter(|(_, points)| *points).map(|((o, _), _)| (o.id.clone(), o.org.clone())).collect();
        let chosen = one_per_id(rows.into_iter().map(|(row, _)| row).collect());
        Ok(chosen.into_iter().filter(|c| pointing.iter().any(|(id, org)| *id == c.id && *org == c.org)).collect())
    }

    /// Current objects per type, each id counted once.
    pub fn object_counts(&self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT type, COUNT(DISTINCT id) FROM stix_objects WHERE is_current = 1 GROUP BY type")?;
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

    fn obj(id: &str, modified: &str, name: &str) -> StixRow {
        StixRow {
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

    fn batch(objects: Vec<StixRow>) -> ImportBatch {
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

    fn owned(org: Option<&str>, objects: Vec<StixRow>) -> ImportBatch {
        ImportBatch { actor: "t".into(), org: org.map(str::to_string), files: vec![], objects }
    }

    fn names(versions: &[StoredObject]) -> Vec<(Option<String>, bool, String)> {
        versions.iter().map(|v| (v.org.clone(), v.is_current, v.json.clone())).collect()
    }

    #[test]
    fn history_and_current_are_per_owner() {
        let mut s = Store::open_in_memory().unwrap();
        for org in ["a", "b"] {
            s.add_org(org, Tlp::Green, "t").unwrap();
        }
        let id = "malware--00000000-0000-4000-8000-000000000001";
        let (v1, v2, v3) = ("2017-01-01T00:00:00.000Z", "2018-01-01T00:00:00.000Z", "2019-01-01T00:00:00.000Z");
        s.import(&owned(Some("a"), vec![obj(id, v2, "a2")])).unwrap();
        // b writes the same id: newer, the same version, and older. Each time it is
        // b's first version of that id, counted as new, and a's stays current.
        let newer = s.import(&owned(Some("b"), vec![obj(id, v3, "b3")])).unwrap();
        assert_eq!((newer.new_objects, newer.new_versions), (1, 0));
        let mut t = Store::open_in_memory().unwrap();
        t.add_org("a", Tlp::Green, "t").unwrap();
        t.add_org("b", Tlp::Green, "t").unwrap();
        t.import(&owned(Some("a"), vec![obj(id, v2, "a2")])).unwrap();
        let same = t.import(&owned(Some("b"), vec![obj(id, v2, "b2")])).unwrap();
        assert_eq!((same.new_objects, same.unchanged), (1, 0), "a copy of a's version is b's own");
        let older = s.import(&owned(Some("b"), vec![obj(id, v1, "b1")])).unwrap();
        assert_eq!(older.older_versions, 1, "older than b's own current, whatever a holds");
        assert_eq!(
            names(&s.object_versions(id).unwrap()),
            [
                (Some("b".into()), false, "{\"name\":\"b1\"}".into()),
                (Some("a".into()), true, "{\"name\":\"a2\"}".into()),
                (Some("b".into()), true, "{\"name\":\"b3\"}".into()),
            ]
        );
        assert!(s.owned_object(id, Some("a")).unwrap().unwrap().json.contains("a2"));
        assert!(s.owned_object(id, Some("b")).unwrap().unwrap().json.contains("b3"));
        // a's own history goes on as before.
        let again = s.import(&owned(Some("a"), vec![obj(id, v3, "a3")])).unwrap();
        assert_eq!(again.new_versions, 1);
        assert!(s.owned_object(id, Some("a")).unwrap().unwrap().json.contains("a3"));
        assert!(s.owned_object(id, Some("b")).unwrap().unwrap().json.contains("b3"));
        // The operator's lookups: the owner that wrote the id first.
        assert_eq!(s.object(id).unwrap().unwrap().org.as_deref(), Some("a"));
        assert_eq!(s.current_objects(Some("malware")).unwrap().len(), 1);
        assert_eq!(s.object_counts().unwrap()["malware"], 1);
    }

    #[test]
    fn the_servers_own_version_stays_current_for_its_lookups() {
        let mut s = Store::open_in_memory().unwrap();
        s.add_org("b", Tlp::Green, "t").unwrap();
        let id = "malware--00000000-0000-4000-8000-000000000002";
        let rel = "relationship--00000000-0000-4000-8000-000000000003";
        let target = "intrusion-set--00000000-0000-4000-8000-000000000004";
        let relationship = |modified: &str, source: &str| StixRow {
            type_: "relationship".into(),
            source_ref: Some(source.into()),
            target_ref: Some(target.into()),
            ..obj(rel, modified, source)
        };
        // A member writes first, then the server: the server's version is the one.
        s.import(&owned(Some("b"), vec![obj(id, "2030-01-01T00:00:00.000Z", "b")])).unwrap();
        s.import(&owned(
            None,
            vec![obj(id, "2017-01-01T00:00:00.000Z", "pack"), relationship("2017-01-01T00:00:00.000Z", id)],
        ))
        .unwrap();
        // The member's newer version of the relationship points elsewhere.
        let elsewhere = "malware--00000000-0000-4000-8000-000000000009";
        s.import(&owned(
            Some("b"),
            vec![obj(id, "2031-01-01T00:00:00.000Z", "b2"), relationship("2031-01-01T00:00:00.000Z", elsewhere)],
        ))
        .unwrap();
        let current = s.object(id).unwrap().unwrap();
        assert_eq!((current.org, current.json.contains("pack")), (None, true));
        assert!(s.owned_object(id, None).unwrap().unwrap().json.contains("pack"));
        let ids = |v: Vec<StoredObject>| v.into_iter().map(|o| (o.id, o.org)).collect::<Vec<_>>();
        assert_eq!(ids(s.current_objects(None).unwrap()), [(id.to_string(), None), (rel.to_string(), None)]);
        assert_eq!(ids(s.relationships(id, true).unwrap()), [(rel.to_string(), None)]);
        assert_eq!(ids(s.relationships(target, false).unwrap()), [(rel.to_string(), None)]);
        assert!(s.relationships(elsewhere, true).unwrap().is_empty(), "b's version of the relationship is not the one");
    }

    #[test]
    fn a_store_written_before_owners_had_their_own_history_is_mended() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        // Schema 5, and what the old rule left: b's write retired a's version.
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for sql in crate::migrate::MIGRATIONS.iter().take(5) {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 5).unwrap();
            conn.execute_batch(
                "INSERT INTO imports VALUES (1, '2024-01-01T00:00:00.000Z', 't', '[]', '');
                 INSERT INTO stix_objects (row_id, id, type, modified, spec_version, is_current, tlp, org, source,
                   import_id, object) VALUES
                   (1, 'malware--1', 'malware', '2017', '2.1', 0, NULL, NULL, 'pack', 1, '{}'),
                   (2, 'malware--1', 'malware', '2018', '2.1', 0, NULL, 'a', 'f', 1, '{}'),
                   (3, 'malware--1', 'malware', '2019', '2.1', 0, NULL, 'a', 'f', 1, '{}'),
                   (4, 'malware--1', 'malware', '2020', '2.1', 1, NULL, 'b', 'f', 1, '{}');",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let current: Vec<(Option<String>, String)> = s
            .object_versions("malware--1")
            .unwrap()
            .into_iter()
            .filter(|v| v.is_current)
            .map(|v| (v.org, v.modified))
            .collect();
        assert_eq!(
            current,
            [(None, "2017".into()), (Some("a".into()), "2019".into()), (Some("b".into()), "2020".into())]
        );
        assert_eq!(s.object("malware--1").unwrap().unwrap().org, None);
    }
}
