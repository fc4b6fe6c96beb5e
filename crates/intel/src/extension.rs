//! takedown's own STIX properties (`x_takedown_*`), declared as a STIX 2.1
//! top-level property extension so that other tools know where they come from.

use crate::ids::stable_id;
use serde_json::{json, Map, Value};

/// The properties the extension defines.
pub const PROPERTIES: [&str; 4] =
    ["x_takedown_applies_to", "x_takedown_false_positive_regex", "x_takedown_kill_switch", "x_takedown_rules"];

/// The id of takedown's extension definition.
pub fn id() -> String {
    stable_id("extension-definition", "takedown-properties")
}

/// The extension definition object; it ships in the built-in pack.
pub fn definition(created_by: &str, stamp: &str) -> Value {
    json!({
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": id(),
        "created_by_ref": created_by,
        "created": stamp,
        "modified": stamp,
        "name": "takedown indicator properties",
        "description": "Properties takedown adds to indicators.",
        "schema": "x_takedown_rules: the YARA rule names in a pattern_type yara indicator. \
                   x_takedown_applies_to: what a pcre pattern is matched against (file-path: the full path). \
                   x_takedown_false_positive_regex: a path matching it is not a hit. \
                   x_takedown_kill_switch: true for a domain whose resolution stops a worm; sinkhole, never block.",
        "version": "1.0.0",
        "extension_types": ["toplevel-property-extension"],
        "extension_properties": PROPERTIES,
    })
}

/// Declares the extension on an object that carries any of its properties.
pub fn declare(obj: &mut Map<String, Value>) {
    if !PROPERTIES.iter().any(|p| obj.contains_key(*p)) {
        return;
    }
    let extensions = obj.entry("extensions").or_insert_with(|| json!({}));
    if let Value::Object(e) = extensions {
        e.insert(id(), json!({ "extension_type": "toplevel-property-extension" }));
    }
}
