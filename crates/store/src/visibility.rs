//! TLP 2.0, decided in one place for every read path (REST, TAXII, exports, the
//! dashboard): who may see an object, given its marking, its owner, the sharing
//! group it falls under and the named recipients of TLP:RED; and, by the same rule,
//! which of its properties under granular markings (STIX 2.1 §7.2.3).

use crate::{Store, StoreError};
use std::collections::{BTreeMap, BTreeSet};
use takedown_intel::markings::{self, Redaction};
use takedown_model::Tlp;

/// How the viewer stands to one object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    /// The viewer is a member organisation (holds a valid token).
    pub member: bool,
    /// The viewer's organisation owns the object.
    pub owner: bool,
    /// The viewer's organisation is in the sharing group the object falls under.
    pub in_group: bool,
    /// The viewer's organisation is a named recipient of the object.
    pub recipient: bool,
}

/// The rule itself. CLEAR: anyone with access. GREEN: every member organisation.
/// AMBER: the owner and the sharing group. AMBER+STRICT: the owner only. RED: named
/// recipients only (and the owner, who wrote it and names them).
pub fn may_see(level: Tlp, s: Standing) -> bool {
    match level {
        Tlp::Clear | Tlp::Green => s.member,
        Tlp::Amber => s.member && (s.owner || s.in_group),
        Tlp::AmberStrict => s.member && s.owner,
        Tlp::Red => s.member && (s.owner || s.recipient),
    }
}

/// The level an object is treated as: its own marking, else its owner's default,
/// else (no owner, no marking) AMBER+STRICT with nobody as owner, which shows it to
/// no one: what is not marked and not owned does not leave the store.
pub fn effective_level(marking: Option<Tlp>, owner_default: Option<Tlp>) -> Tlp {
    marking.or(owner_default).unwrap_or(Tlp::AmberStrict)
}

/// What one organisation may see, loaded once per request.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// The viewer's organisation; `None` for no access at all.
    pub org: Option<String>,
    defaults: BTreeMap<String, Tlp>,
    /// Owners of campaigns whose sharing group includes the viewer: their AMBER intel
    /// reaches the viewer.
    amber_from: BTreeSet<String>,
    /// Campaign ids the viewer owns or shares.
    campaigns: BTreeSet<String>,
    /// Object ids the viewer is a named TLP:RED recipient of.
    red_for: BTreeSet<String>,
}

impl Access {
    /// Intel: AMBER reaches the owner and the organisations the owner shares a
    /// campaign with.
    pub fn object(&self, id: &str, marking: Option<Tlp>, owner: Option<&str>) -> bool {
        let default = owner.and_then(|o| self.defaults.get(o).copied());
        self.level(id, effective_level(marking, default), owner)
    }

    /// Whether the viewer may see what `owner`'s object `id` puts under `level`: the
    /// whole object ([`Access::object`]), or the properties a granular marking
    /// selects. One standing for both, so a property is never shown more widely
    /// than the object would be at its level.
    pub fn level(&self, id: &str, level: Tlp, owner: Option<&str>) -> bool {
        let Some(viewer) = self.org.as_deref() else { return false };
        let standing = Standing {
            member: true,
            owner: owner == Some(viewer),
            in_group: owner.is_some_and(|o| self.amber_from.contains(o)),
            recipient: self.red_for.contains(id),
        };
        may_see(level, standing)
    }

    /// What the viewer is given of a stored object: `None` for nothing; else the
    /// JSON to serve, `None` inside meaning as stored, or a copy without the
    /// properties under granular TLP markings the viewer may not see.
    pub fn view(&self, id: &str, marking: Option<Tlp>, owner: Option<&str>, json: &str) -> Option<Option<String>> {
        if !self.object(id, marking, owner) {
            return None;
        }
        // Most objects carry no granular markings: no need to parse them.
        if !json.contains("\"granular_markings\"") {
            return Some(None);
        }
        let Ok(obj) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(json) else {
            // The store wrote this JSON itself; an unreadable row shows as nothing
            // rather than as a guess.
            tracing::error!(%id, "stored object is not a JSON object");
            return None;
        };
        match markings::redact(&obj, |level| self.level(id, level, owner)) {
            Redaction::Whole => Some(None),
            Redaction::Reduced(obj) => Some(Some(serde_json::Value::Object(obj).to_string())),
            Redaction::Withheld => None,
        }
    }

    /// Something filed under a campaign (the campaign itself, a finding, an action):
    /// AMBER reaches the campaign's owner and its sharing group. Unmarked items
    /// take the campaign's level, which is their owner's default for that campaign.
    pub fn campaign_item(&self, campaign_id: &str, owner: Option<&str>, id: &str, level: Tlp) -> bool {
        let Some(viewer) = self.org.as_deref() else { return false };
        let is_owner = owner == Some(viewer);
        let standing = Standing {
            member: true,
            owner: is_owner,
            in_group: self.campaigns.contains(campaign_id),
            recipient: self.red_for.contains(id),
        };
        may_see(level, standing)
    }
}

impl Store {
    /// What `org` may see.
    pub fn access(&self, org: &str) -> Result<Access, StoreError> {
        self.require_org(org)?;
        let defaults = self.orgs()?.into_iter().map(|o| (o.name, o.default_tlp)).collect();
        let strings = |sql: &str| -> Result<BTreeSet<String>, StoreError> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([org], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        };
        let amber_from = strings(
            "SELECT DISTINCT o.org FROM campaign_shares s JOIN campaign_owners o ON o.campaign_id = s.campaign_id
             WHERE s.org = ?1",
        )?;
        let mut campaigns = strings("SELECT campaign_id FROM campaign_shares WHERE org = ?1")?;
        campaigns.extend(strings("SELECT campaign_id FROM campaign_owners WHERE org = ?1")?);
        let red_for = strings("SELECT object_id FROM tlp_recipients WHERE org = ?1")?;
        Ok(Access { org: Some(org.into()), defaults, amber_from, campaigns, red_for })
    }
}

/// Which object versions a TAXII or REST reader asks for.
#[derive(Debug, Clone, Default)]
pub struct ObjectFilter {
    pub types: Vec<String>,
    pub ids: Vec<String>,
    /// `last` (the default when empty), `first`, `all` or `modified` timestamps (any
    /// RFC 3339 form; compared as instants).
    pub versions: Vec<String>,
    /// Only versions added strictly after this instant (RFC 3339).
    pub added_after: Option<String>,
}

/// One stored version with when it was added, for paging.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// Insertion order: the paging cursor.
    pub row: i64,
    pub id: String,
    pub type_: String,
    /// As stored (nanoseconds, sortable).
    pub modified: String,
    /// When the import that brought it committed (RFC 3339, milliseconds).
    pub date_added: String,
    pub tlp: Option<Tlp>,
    pub org: Option<String>,
    pub json: String,
}

fn instant(text: &str, precision: chrono::SecondsFormat) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(text.trim()).ok().map(|t| t.to_utc().to_rfc3339_opts(precision, true))
}

fn version_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(VersionRow, i64)> {
    let tlp: Option<String> = r.get(5)?;
    Ok((
        VersionRow {
            row: r.get(0)?,
            id: r.get(1)?,
            type_: r.get(2)?,
            modified: r.get(3)?,
            date_added: r.get(4)?,
            tlp: tlp.and_then(|t| t.parse().ok()),
            org: r.get(6)?,
            json: r.get(7)?,
        },
        r.get(8)?,
    ))
}

impl Store {
    /// Up to `limit` versions that `access` may see and `filter` selects, in the order
    /// they were added, after the cursor `after_row`; and whether more follow. A
    /// filter value that cannot match (a version that is not a timestamp) selects
    /// nothing rather than everything. Of an id held by several owners, only the
    /// versions of the owner [`Store::shown_owner`] names are shown ("last" and
    /// "first" are that owner's), each as [`Access::view`] gives it: what granular
    /// markings hide is taken out.
    pub fn visible_versions(
        &self,
        access: &Access,
        filter: &ObjectFilter,
        after_row: i64,
        limit: usize,
    ) -> Result<(Vec<VersionRow>, bool), StoreError> {
        let mut base = String::from(" FROM stix_objects s JOIN imports i ON i.import_id = s.import_id WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        let list = |sql: &mut String, column: &str, values: &[String], args: &mut Vec<String>| {
            if !values.is_empty() {
                sql.push_str(&format!(" AND {column} IN ({})", vec!["?"; values.len()].join(",")));
                args.extend(values.iter().cloned());
            }
        };
        list(&mut base, "s.type", &filter.types, &mut args);
        list(&mut base, "s.id", &filter.ids, &mut args);
        if let Some(after) = &filter.added_after {
            // Stored as milliseconds; an instant given in any precision compares as one.
            base.push_str(" AND i.at > ?");
            args.push(instant(after, chrono::SecondsFormat::Millis).unwrap_or_else(|| "9999".into()));
        }
        let versions: Vec<&str> = if filter.versions.is_empty() {
            vec!["last"]
        } else {
            filter.versions.iter().map(|v| v.as_str()).collect()
        };
        if !versions.contains(&"all") {
            let mut alternatives = Vec::new();
            for v in versions {
                match v {
                    "last" => alternatives.push("s.is_current = 1".to_string()),
                    "first" => alternatives.push(
                        "s.modified = (SELECT MIN(f.modified) FROM stix_objects f \
                         WHERE f.id = s.id AND COALESCE(f.org, '') = COALESCE(s.org, ''))"
                            .into(),
                    ),
                    other => {
                        alternatives.push("s.modified = ?".into());
                        args.push(instant(other, chrono::SecondsFormat::Nanos).unwrap_or_default());
                    }
                }
            }
            base.push_str(&format!(" AND ({})", alternatives.join(" OR ")));
        }
        let mut stmt = self.conn.prepare(&format!(
            "SELECT s.row_id, s.id, s.type, s.modified, i.at, s.tlp, s.org, s.object, \
             (SELECT COUNT(DISTINCT COALESCE(d.org, '')) FROM stix_objects d WHERE d.id = s.id) \
             {base} AND s.row_id > ? ORDER BY s.row_id LIMIT 2000"
        ))?;
        // Whose versions are shown, per id held by several owners.
        let mut shown_owners: BTreeMap<String, Option<Option<String>>> = BTreeMap::new();
        let mut out = Vec::new();
        let mut cursor = after_row;
        loop {
            let mut params: Vec<&dyn rusqlite::ToSql> = args.iter().map(|a| a as &dyn rusqlite::ToSql).collect();
            params.push(&cursor);
            let batch: Vec<(VersionRow, i64)> =
                stmt.query_map(params.as_slice(), version_row)?.collect::<Result<_, _>>()?;
            let Some((last, _)) = batch.last() else { return Ok((out, false)) };
            cursor = last.row;
            for (mut row, owners) in batch {
                // Another owner's copy is passed over before its markings are read.
                if owners > 1 {
                    if !shown_owners.contains_key(&row.id) {
                        let owner = self.shown_owner(access, &row.id)?;
                        shown_owners.insert(row.id.clone(), owner);
                    }
                    if !matches!(shown_owners.get(&row.id), Some(Some(owner)) if *owner == row.org) {
                        continue;
                    }
                }
                let Some(shown) = access.view(&row.id, row.tlp, row.org.as_deref(), &row.json) else { continue };
                if out.len() == limit {
                    return Ok((out, true));
                }
                if let Some(json) = shown {
                    row.json = json;
                }
                out.push(row);
            }
        }
    }

    /// Whose versions of `id` a member is shown when several owners hold it: its own,
    /// else the server's, else those of the owner who wrote the id first, among the
    /// owners with a version the member may see (`None`: no such owner). One owner per
    /// id, so a member's versions of another's id are its own copy, seen by nobody
    /// else: they can neither stand beside the owner's as a newer "version" in a
    /// partner's feed nor tell the writer that the id exists. `Some(None)` is the server.
    fn shown_owner(&self, access: &Access, id: &str) -> Result<Option<Option<String>>, StoreError> {
        let viewer = access.org.as_deref();
        let mut owners: Vec<(Option<String>, i64)> = self
            .conn
            .prepare("SELECT org, MIN(row_id) FROM stix_objects WHERE id = ?1 GROUP BY COALESCE(org, '')")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        owners.sort_by_key(|(org, first)| (org.is_none() || org.as_deref() != viewer, org.is_some(), *first));
        let mut versions = self
            .conn
            .prepare("SELECT tlp, object FROM stix_objects WHERE id = ?1 AND COALESCE(org, '') = COALESCE(?2, '')")?;
        for (org, _) in owners {
            let rows: Vec<(Option<String>, String)> = versions
                .query_map(rusqlite::params![id, org], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            let seen = rows.iter().any(|(tlp, json)| {
                let tlp = tlp.as_deref().and_then(|t| t.parse().ok());
                access.view(id, tlp, org.as_deref(), json).is_some()
            });
            if seen {
                return Ok(Some(org));
            }
        }
        Ok(None)
    }

    /// The one current version of `id` a single-object read shows: the current
    /// version of the owner [`Store::shown_owner`] names, if the viewer may see it.
    pub fn visible_object(&self, access: &Access, id: &str) -> Result<Option<VersionRow>, StoreError> {
        let filter = ObjectFilter { ids: vec![id.to_string()], ..Default::default() };
        let (rows, _) = self.visible_versions(access, &filter, 0, 1)?;
        Ok(rows.into_iter().next())
    }
}

impl Store {
    /// Keeps a TAXII status resource (a JSON document) for the organisation that
    /// added the objects.
    pub fn save_taxii_status(&self, id: &str, org: &str, status: &str, detail: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO taxii_status (id, org, created, status, detail) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, detail = excluded.detail",
            rusqlite::params![id, org, crate::now_text(), status, detail],
        )?;
        Ok(())
    }

    /// A status resource, only for the organisation that made it.
    pub fn taxii_status(&self, id: &str, org: &str) -> Result<Option<String>, StoreError> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row("SELECT detail FROM taxii_status WHERE id = ?1 AND org = ?2", [id, org], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_for_every_level_and_standing() {
        let nobody = Standing::default();
        let member = Standing { member: true, ..nobody };
        let owner = Standing { owner: true, ..member };
        let group = Standing { in_group: true, ..member };
        let recipient = Standing { recipient: true, ..member };
        // (level, [nobody, member, owner, group, recipient])
        let table = [
            (Tlp::Clear, [false, true, true, true, true]),
            (Tlp::Green, [false, true, true, true, true]),
            (Tlp::Amber, [false, false, true, true, false]),
            (Tlp::AmberStrict, [false, false, true, false, false]),
            (Tlp::Red, [false, false, true, false, true]),
        ];
        for (level, expect) in table {
            for (standing, want) in [nobody, member, owner, group, recipient].into_iter().zip(expect) {
                assert_eq!(may_see(level, standing), want, "{level:?} {standing:?}");
            }
        }
    }

    #[test]
    fn unmarked_follows_the_owner_and_unowned_unmarked_is_shown_to_none() {
        assert_eq!(effective_level(None, Some(Tlp::Green)), Tlp::Green);
        assert_eq!(effective_level(Some(Tlp::Red), Some(Tlp::Green)), Tlp::Red);
        let store = Store::open_in_memory().unwrap();
        store.add_org("a", Tlp::Green, "t").unwrap();
        store.add_org("b", Tlp::Amber, "t").unwrap();
        let a = store.access("a").unwrap();
        assert!(a.object("x", None, Some("a")));
        assert!(!a.object("x", None, Some("b")));
        assert!(!a.object("x", None, None));
        assert!(a.object("x", Some(Tlp::Clear), None));
        store.add_recipient("x", "a", "t").unwrap();
        assert!(store.access("a").unwrap().object("x", Some(Tlp::Red), Some("b")));
        assert!(!store.access("a").unwrap().object("y", Some(Tlp::Red), Some("b")));
        assert!(store.access("nobody").is_err());
    }

    fn green(id: &str, modified: &str, text: &str) -> crate::StixRow {
        crate::StixRow {
            id: id.into(),
            type_: "malware".into(),
            modified: modified.into(),
            spec_version: "2.1".into(),
            tlp: Some(Tlp::Green),
            name: None,
            source_ref: None,
            target_ref: None,
            relationship_type: None,
            source: "t".into(),
            json: text.into(),
        }
    }

    /// Every page of what `org` sees, one version a page.
    fn pages(store: &Store, org: &str) -> Vec<(String, String)> {
        let access = store.access(org).unwrap();
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let (rows, more) = store.visible_versions(&access, &ObjectFilter::default(), after, 1).unwrap();
            after = rows.last().map_or(after, |r| r.row);
            out.extend(rows.into_iter().map(|r| (r.id, r.json)));
            if !more {
                return out;
            }
        }
    }

    #[test]
    fn of_an_id_held_by_several_owners_one_owners_versions_are_shown_on_every_page() {
        let mut store = Store::open_in_memory().unwrap();
        for org in ["a", "b", "c", "d"] {
            store.add_org(org, Tlp::Green, "t").unwrap();
        }
        let (x, y) = ("malware--00000000-0000-4000-8000-000000000001", "malware--00000000-0000-4000-8000-000000000002");
        let same = "2017-01-01T00:00:00.000000000Z";
        for org in ["a", "b"] {
            let objects = vec![green(x, same, &format!("x from {org}")), green(y, same, &format!("y from {org}"))];
            store
                .import(&crate::ImportBatch { actor: "t".into(), org: Some(org.into()), files: vec![], objects })
                .unwrap();
        }
        // A newer version of x from c: c's own copy, which nobody else is shown.
        let objects = vec![green(x, "2018-01-01T00:00:00.000000000Z", "x from c")];
        store.import(&crate::ImportBatch { actor: "t".into(), org: Some("c".into()), files: vec![], objects }).unwrap();
        let shown = |org| pages(&store, org).into_iter().map(|(_, json)| json).collect::<Vec<_>>();
        assert_eq!(shown("a"), ["x from a", "y from a"]);
        assert_eq!(shown("b"), ["x from b", "y from b"]);
        assert_eq!(shown("c"), ["y from a", "x from c"]);
        assert_eq!(shown("d"), ["x from a", "y from a"]);
        let one = |org, id| store.visible_object(&store.access(org).unwrap(), id).unwrap().unwrap().json;
        assert_eq!(one("b", x), "x from b");
        assert_eq!(one("c", x), "x from c");
        assert_eq!(one("d", x), "x from a");
    }

    #[test]
    fn an_owner_whose_versions_are_hidden_gives_way_to_the_next() {
        let mut store = Store::open_in_memory().unwrap();
        for org in ["a", "b", "c"] {
            store.add_org(org, Tlp::Green, "t").unwrap();
        }
        let x = "malware--00000000-0000-4000-8000-000000000001";
        let mut red = green(x, "2017-01-01T00:00:00.000000000Z", "x from a");
        red.tlp = Some(Tlp::Red);
        store
            .import(&crate::ImportBatch { actor: "t".into(), org: Some("a".into()), files: vec![], objects: vec![red] })
            .unwrap();
        let objects = vec![green(x, "2016-01-01T00:00:00.000000000Z", "x from b")];
        store.import(&crate::ImportBatch { actor: "t".into(), org: Some("b".into()), files: vec![], objects }).unwrap();
        let shown = |org| pages(&store, org).into_iter().map(|(_, json)| json).collect::<Vec<_>>();
        assert_eq!(shown("a"), ["x from a"]);
        assert_eq!(shown("b"), ["x from b"]);
        // c cannot see a's RED version: it is shown b's, as if a's did not exist.
        assert_eq!(shown("c"), ["x from b"]);
    }
}
