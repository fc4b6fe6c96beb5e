//! The intel that goes with a campaign: its actor, what the actor uses, the
//! indicators of those, the relationships among them and the identities and
//! markings they refer to. Exported as a STIX `grouping` over those objects, which is
//! how OpenCTI and MISP carry "the intel of one case".

use crate::knowledge::{self, Lookup, LookupError, Record};
use crate::timestamp;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use takedown_model::{Campaign, Tlp};

/// What software's outgoing relationships may reach and the scope keeps.
const TOOLS_OF_THE_TRADE: [&str; 3] = ["attack-pattern--", "vulnerability--", "infrastructure--"];

/// The ids of every object in a campaign's scope, sorted.
pub fn campaign_scope(lookup: &dyn Lookup, actor: &str) -> Result<BTreeSet<String>, LookupError> {
    let Some(profile) = knowledge::profile(lookup, actor)? else {
        return Ok(BTreeSet::new());
    };
    let mut ids: BTreeSet<String> = BTreeSet::new();
    ids.extend(profile.objects.iter().map(|e| e.id.clone()));
    ids.extend(profile.related.iter().map(|e| e.id.clone()));
    ids.extend(profile.techniques.iter().map(|e| e.id.clone()));
    ids.extend(profile.indicators.iter().map(|i| i.id.clone()));
    // What the group's software uses or exploits, and what mitigates any of it.
    let software: Vec<String> = profile.related.iter().map(|e| e.id.clone()).collect();
    for id in &software {
        for rel in lookup.relationships(id, true)? {
            let Some(target) = rel.json.get("target_ref").and_then(Value::as_str) else { continue };
            if TOOLS_OF_THE_TRADE.iter().any(|t| target.starts_with(t)) && lookup.get(target)?.is_some() {
                ids.insert(target.to_string());
            }
        }
    }
    let mut mitigations = BTreeSet::new();
    for id in &ids {
        for rel in lookup.relationships(id, false)? {
            if rel.json.get("relationship_type").and_then(Value::as_str) == Some("mitigates") {
                if let Some(source) = rel.json.get("source_ref").and_then(Value::as_str) {
                    mitigations.insert(source.to_string());
                }
            }
        }
    }
    for id in mitigations {
        if lookup.get(&id)?.is_some_and(|r| !r.revoked_or_deprecated()) {
            ids.insert(id);
        }
    }
    // The relationships that tie the chosen objects to each other.
    let mut relationships = BTreeSet::new();
    for id in &ids {
        for rel in lookup.relationships(id, true)? {
            if rel.json.get("target_ref").and_then(Value::as_str).is_some_and(|t| ids.contains(t)) {
                relationships.insert(rel.id().to_string());
            }
        }
    }
    ids.extend(relationships);
    // Who made them and under which (non-TLP) markings: a bundle must not refer to
    // objects it does not carry.
    let mut referred = BTreeSet::new();
    for id in &ids {
        if let Some(r) = lookup.get(id)? {
            referred.extend(refs_of(&r));
        }
    }
    for id in referred {
        if Tlp::from_marking_id(&id).is_none() && lookup.get(&id)?.is_some() {
            ids.insert(id);
        }
    }
    Ok(ids)
}

fn refs_of(r: &Record) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(by) = r.json.get("created_by_ref").and_then(Value::as_str) {
        out.push(by.to_string());
    }
    if let Some(Value::Array(marks)) = r.json.get("object_marking_refs") {
        out.extend(marks.iter().filter_map(Value::as_str).map(str::to_string));
    }
    if let Some(Value::Object(ext)) = r.json.get("extensions") {
        out.extend(ext.keys().filter(|k| k.starts_with("extension-definition--")).cloned());
    }
    out
}

/// The campaign as a STIX 2.1 `grouping` over its scope.
pub fn grouping(campaign: &Campaign, object_refs: &BTreeSet<String>) -> Value {
    let created = timestamp::millis(campaign.created);
    let mut g = json!({
        "type": "grouping",
        "spec_version": "2.1",
        "id": campaign.id,
        "created": created,
        "modified": created,
        "name": campaign.name,
        "context": "suspicious-activity",
        "object_refs": object_refs,
    });
    if let Some(d) = &campaign.description {
        g["description"] = json!(d);
    }
    g
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::builtin;
    use crate::knowledge::MemoryLookup;

    #[test]
    fn the_builtin_actor_scope_is_closed() {
        let lookup = MemoryLookup::new(builtin::objects());
        let scope = campaign_scope(&lookup, "ZINC").unwrap();
        assert!(scope.iter().any(|id| id.starts_with("intrusion-set--")));
        assert!(scope.iter().any(|id| id.starts_with("malware--")));
        assert!(scope.iter().filter(|id| id.starts_with("indicator--")).count() >= 10);
        assert!(scope.iter().any(|id| id.starts_with("relationship--")));
        assert!(scope.iter().any(|id| id.starts_with("vulnerability--")), "CVE-2017-0144 is WannaCry's way in");
        assert!(scope.iter().any(|id| id.starts_with("course-of-action--")), "MS17-010 mitigates it");
        // Every reference from an object in scope stays in scope.
        for id in &scope {
            let r = lookup.get(id).unwrap().unwrap();
            for key in ["source_ref", "target_ref", "created_by_ref"] {
                if let Some(to) = r.json.get(key).and_then(Value::as_str) {
                    assert!(scope.contains(to), "{id} refers to {to}, which is out of scope");
                }
            }
        }
        assert!(campaign_scope(&lookup, "no such group").unwrap().is_empty());
    }
}
