//! Objects added through TAXII: the few fields the store indexes, read from the
//! object itself, with the checks a server must make before keeping it.

use takedown_model::Tlp;
use takedown_store::NewObject;

/// The row for one STIX 2.1 object, or why it is refused.
pub fn to_new(object: &serde_json::Value, source: &str) -> Result<NewObject, String> {
    let text = |key: &str| object.get(key).and_then(|v| v.as_str()).map(str::to_string);
    let id = text("id").ok_or("no id")?;
    let type_ = text("type").ok_or("no type")?;
    let (prefix, uuid) = id.split_once("--").ok_or("the id is not TYPE--UUID")?;
    if prefix != type_ || uuid::Uuid::parse_str(uuid).is_err() {
        return Err(format!("the id {id:?} does not match its type {type_:?} or is not TYPE--UUID"));
    }
    if text("spec_version").as_deref() != Some("2.1") {
        return Err("spec_version must be \"2.1\"".into());
    }
    let stamp = text("modified").or_else(|| text("created")).unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let modified = chrono::DateTime::parse_from_rfc3339(&stamp)
        .map_err(|_| format!("modified {stamp:?} is not an RFC 3339 timestamp"))?
        .to_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    let tlp = object
        .get("object_marking_refs")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|m| m.as_str().and_then(Tlp::from_marking_id))
        .max();
    Ok(NewObject {
        id,
        type_,
        modified,
        spec_version: "2.1".into(),
        tlp,
        name: text("name"),
        source_ref: text("source_ref"),
        target_ref: text("target_ref"),
        relationship_type: text("relationship_type"),
        source: source.into(),
        json: object.to_string(),
    })
}
