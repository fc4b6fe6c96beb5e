//! Writing intel out as one STIX 2.1 bundle, every object under its TLP 2.0 marking
//! and the marking definitions it references included.

use crate::ids::random_id;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::{self, Write};
use takedown_model::Tlp;

/// One object to export: its STIX 2.1 JSON and the TLP it is shared under.
#[derive(Debug, Clone)]
pub struct ExportItem {
    pub json: String,
    pub tlp: Option<Tlp>,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ExportStats {
    pub objects: u64,
    pub markings: Vec<Tlp>,
}

/// Whether `id` is a TLP marking definition (1.0 or 2.0). Exports carry the TLP 2.0
/// definitions themselves, so stored copies of any TLP definition are left out.
fn is_tlp_marking(id: &str) -> bool {
    Tlp::from_marking_id(id).is_some()
}

/// Sets an object's TLP reference to exactly `tlp`'s TLP 2.0 definition, keeping its
/// other markings (copyright statements and the like).
fn mark(obj: &mut Map<String, Value>, tlp: Option<Tlp>) {
    let mut refs: Vec<Value> = match obj.remove("object_marking_refs") {
        Some(Value::Array(refs)) => refs.into_iter().filter(|r| !r.as_str().is_some_and(is_tlp_marking)).collect(),
        _ => Vec::new(),
    };
    if let Some(tlp) = tlp {
        refs.insert(0, Value::String(tlp.marking_id().to_string()));
    }
    if !refs.is_empty() {
        obj.insert("object_marking_refs".into(), Value::Array(refs));
    }
}

/// Streams a bundle to `out`, one object a line. Objects that are not valid JSON
/// (which the store never holds) are an error rather than silently dropped.
pub fn write_bundle<W: Write>(out: &mut W, items: impl IntoIterator<Item = ExportItem>) -> io::Result<ExportStats> {
    let mut stats = ExportStats::default();
    let mut used = BTreeSet::new();
    write!(out, "{{\"type\":\"bundle\",\"id\":\"{}\",\"objects\":[", random_id("bundle"))?;
    let mut first = true;
    let mut sep = |out: &mut W| -> io::Result<()> {
        let s = if first { "\n" } else { ",\n" };
        first = false;
        out.write_all(s.as_bytes())
    };
    for item in items {
        let mut obj: Map<String, Value> = serde_json::from_str(&item.json).map_err(io::Error::other)?;
        let id = obj.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        if is_tlp_marking(&id) {
            continue;
        }
        if obj.get("type").and_then(Value::as_str) != Some("marking-definition") {
            mark(&mut obj, item.tlp);
            if let Some(t) = item.tlp {
                used.insert(t);
            }
        }
        sep(out)?;
        serde_json::to_writer(&mut *out, &obj)?;
        stats.objects += 1;
    }
    for tlp in &used {
        sep(out)?;
        serde_json::to_writer(&mut *out, &tlp.marking_definition())?;
    }
    out.write_all(b"\n]}\n")?;
    stats.markings = used.into_iter().collect();
    Ok(stats)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn markings_are_replaced_and_defined() {
        let json = r#"{"type":"malware","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661","object_marking_refs":["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da","marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"]}"#;
        let tlp1 = r#"{"type":"marking-definition","id":"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"}"#;
        let mut out = Vec::new();
        let stats = write_bundle(
            &mut out,
            [ExportItem { json: json.into(), tlp: Some(Tlp::Amber) }, ExportItem { json: tlp1.into(), tlp: None }],
        )
        .unwrap();
        assert_eq!(stats.objects, 1);
        let bundle: Value = serde_json::from_slice(&out).unwrap();
        let objects = bundle["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(
            objects[0]["object_marking_refs"],
            serde_json::json!([Tlp::Amber.marking_id(), "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"])
        );
        assert_eq!(objects[1]["name"], "TLP:AMBER");
    }
}
