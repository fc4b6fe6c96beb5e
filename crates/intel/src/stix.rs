//! STIX objects as takedown keeps them: validated, upgraded to 2.1, with the
//! fields the store indexes pulled out.

use crate::timestamp;
use serde_json::{Map, Value};
use takedown_model::Tlp;

/// The most JSON one object may take. The largest real object takedown reads is a
/// whole YARA rule file carried as one indicator: signature-base's
/// `yara-rules_vuln_drivers_strict_renamed.yar` is 1.03 MiB once written as a JSON
/// string; ATT&CK's largest object is a few tens of KiB. Four times the largest
/// leaves room for real feeds while one partner's object cannot fill a whole TAXII
/// envelope (16 MiB) or make every later read of the store parse megabytes.
pub const MAX_OBJECT_BYTES: usize = 4 << 20;

/// STIX Cyber-observable types of 2.1 (§6): they carry no `created`/`modified`.
const SCO_TYPES: &[&str] = &[
    "artifact",
    "autonomous-system",
    "directory",
    "domain-name",
    "email-addr",
    "email-message",
    "file",
    "ipv4-addr",
    "ipv6-addr",
    "mac-addr",
    "mutex",
    "network-traffic",
    "process",
    "software",
    "url",
    "user-account",
    "windows-registry-key",
    "x509-certificate",
];

/// A STIX object as STIX 2.1, with the fields the store indexes pulled out. `J` is
/// how the object itself is held: parsed ([`IntelObject`]) while takedown checks,
/// marks or matches it, as text ([`StixRow`]) once it is a row to store. The fields
/// are declared here once, so a row cannot disagree with the object it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<J> {
    pub id: String,
    pub type_: String,
    /// `modified`, else `created`, normalised to nanoseconds so text order is time order.
    pub modified: String,
    /// The version the object was published in: `2.0` for upgraded objects.
    pub spec_version: String,
    /// The strictest TLP marking the object carries (TLP 1.0 or 2.0), if any.
    pub tlp: Option<Tlp>,
    pub name: Option<String>,
    /// `source_ref`, or a sighting's `sighting_of_ref`.
    pub source_ref: Option<String>,
    pub target_ref: Option<String>,
    pub relationship_type: Option<String>,
    /// Where it came from: a file name, a feed or `takedown built-in pack`.
    pub source: String,
    /// The object itself, as STIX 2.1.
    pub json: J,
}

/// A checked object, ready to match or to become a row.
pub type IntelObject = Object<Map<String, Value>>;

/// A checked object as the store keeps it: its JSON as compact text. Every way in
/// (`intel import`, the built-in pack, TAXII) makes rows with [`IntelObject::to_row`].
pub type StixRow = Object<String>;

/// The one check for an object that arrives on its own as STIX 2.1 (a TAXII 2.1
/// add): everything [`IntelObject::from_value`] checks, and its version must be 2.1
/// (a TAXII 2.1 collection carries STIX 2.1; 2.0 content comes in through
/// `intel import`, which upgrades it).
pub fn validate(value: Value, source: &str) -> Result<IntelObject, Vec<String>> {
    if let Value::Object(obj) = &value {
        let is_sco = obj.get("type").and_then(Value::as_str).is_some_and(|t| SCO_TYPES.contains(&t));
        match obj.get("spec_version") {
            Some(Value::String(v)) if v == "2.1" => {}
            None if is_sco => {}
            Some(other) => return Err(vec![format!("spec_version {other}: this collection takes STIX 2.1 only")]),
            None => return Err(vec!["has no spec_version; this collection takes STIX 2.1 objects".into()]),
        }
    }
    IntelObject::from_value(value, Some("2.1"), source)
}

impl IntelObject {
    /// Checks one object from a bundle and, if it is STIX 2.0, upgrades it to 2.1.
    /// `bundle_spec` is the bundle's own `spec_version` (2.0 bundles have one).
    /// The error is a list of problems, each naming the property. Every way intel
    /// enters takedown (bundles, IOC files, YARA files, the built-in pack, TAXII)
    /// comes through here.
    pub fn from_value(value: Value, bundle_spec: Option<&str>, source: &str) -> Result<IntelObject, Vec<String>> {
        if let Some(size) = larger_than(&value, MAX_OBJECT_BYTES) {
            return Err(vec![format!(
                "{size} bytes or more of JSON, over the limit of {MAX_OBJECT_BYTES} bytes for one object"
            )]);
        }
        let Value::Object(mut obj) = value else {
            return Err(vec![format!("not a JSON object but {}", json_kind(&value))]);
        };
        let mut problems = Vec::new();
        let type_ = match obj.get("type") {
            Some(Value::String(t)) if is_type_name(t) => t.clone(),
            Some(Value::String(t)) => {
                problems.push(format!("type {} is not a STIX type name (3–250 of a-z, 0-9, -)", crate::excerpt(t)));
                t.clone()
            }
            Some(other) => {
                problems.push(format!("type must be a string, found {}", json_kind(other)));
                String::new()
            }
            None => {
                problems.push("has no \"type\"".into());
                String::new()
            }
        };
        let id = match obj.get("id") {
            Some(Value::String(id)) => {
                if !is_stix_id(id) {
                    problems.push(format!("id {} is not of the form TYPE--UUID", crate::excerpt(id)));
                } else if !type_.is_empty() && !id.starts_with(&format!("{type_}--")) {
                    problems.push(format!(
                        "id {} does not start with its type {}",
                        crate::excerpt(id),
                        crate::excerpt(&type_)
                    ));
                }
                id.clone()
            }
            Some(other) => {
                problems.push(format!("id must be a string, found {}", json_kind(other)));
                String::new()
            }
            None => {
                problems.push("has no \"id\"".into());
                String::new()
            }
        };
        let is_sco = SCO_TYPES.contains(&type_.as_str());
        let original_spec = match obj.get("spec_version") {
            Some(Value::String(v)) if v == "2.1" || v == "2.0" => v.clone(),
            Some(other) => {
                problems.push(format!("spec_version {other} is not \"2.0\" or \"2.1\""));
                "2.1".into()
            }
            // STIX 2.1 SCOs may leave spec_version out; SDOs in a 2.0 bundle have none.
            None if is_sco => "2.1".into(),
            None => bundle_spec.unwrap_or("2.0").to_string(),
        };
        check_timestamps(&obj, &type_, is_sco, &mut problems);
        check_refs(&obj, &mut problems);
        crate::markings::check(&obj, &mut problems);
        check_type_specific(&obj, &type_, &original_spec, &mut problems);
        if !problems.is_empty() {
            return Err(bounded(problems));
        }
        if original_spec == "2.0" {
            crate::upgrade::to_21(&mut obj, &type_);
        } else if !obj.contains_key("spec_version") && !is_sco {
            obj.insert("spec_version".into(), Value::String("2.1".into()));
        }
        let stamp = obj
            .get("modified")
            .or_else(|| obj.get("created"))
            .and_then(Value::as_str)
            .and_then(timestamp::parse)
            .unwrap_or_default();
        let tlp = tlp_of(&obj);
        let text = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(IntelObject {
            modified: timestamp::sortable(stamp),
            spec_version: original_spec,
            tlp,
            name: text("name"),
            source_ref: text("source_ref").or_else(|| text("sighting_of_ref")),
            target_ref: text("target_ref"),
            relationship_type: text("relationship_type"),
            source: source.to_string(),
            id,
            type_,
            json: obj,
        })
    }

    /// The object as compact JSON.
    pub fn to_json(&self) -> String {
        // Serialising a map of JSON values cannot fail.
        serde_json::to_string(&self.json).unwrap_or_default()
    }

    /// The row to store.
    pub fn to_row(&self) -> StixRow {
        StixRow {
            id: self.id.clone(),
            type_: self.type_.clone(),
            modified: self.modified.clone(),
            spec_version: self.spec_version.clone(),
            tlp: self.tlp,
            name: self.name.clone(),
            source_ref: self.source_ref.clone(),
            target_ref: self.target_ref.clone(),
            relationship_type: self.relationship_type.clone(),
            source: self.source.clone(),
            json: self.to_json(),
        }
    }

    /// Applies an importer's `--tlp`: the stricter of the object's own marking and
    /// the given level. A partner's marking is never loosened.
    pub fn apply_tlp(&mut self, tlp: Option<Tlp>) {
        self.tlp = self.tlp_with(tlp);
    }

    /// The TLP the object is stored under when imported with `--tlp`.
    pub fn tlp_with(&self, tlp: Option<Tlp>) -> Option<Tlp> {
        match (self.tlp, tlp) {
            (Some(own), Some(given)) => Some(own.max(given)),
            (own, given) => own.or(given),
        }
    }
}

/// The strictest TLP level among an object's `object_marking_refs`.
pub fn tlp_of(obj: &Map<String, Value>) -> Option<Tlp> {
    obj.get("object_marking_refs")?.as_array()?.iter().filter_map(Value::as_str).filter_map(Tlp::from_marking_id).max()
}

/// Whether `value` takes more than `limit` bytes as compact JSON: the size past the
/// limit at which writing stopped, so that a huge object is not written out whole.
fn larger_than(value: &Value, limit: usize) -> Option<usize> {
    struct Count {
        bytes: usize,
        limit: usize,
    }
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.bytes += buf.len();
            if self.bytes > self.limit {
                return Err(std::io::Error::other("over the limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count { bytes: 0, limit };
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => None,
        Err(_) => Some(count.bytes),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn is_type_name(t: &str) -> bool {
    (3..=250).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `TYPE--UUID` with a well-formed UUID (any version: STIX 2.0 ids were v4, 2.1
/// SCO ids are v5, and real feeds carry v1).
pub fn is_stix_id(id: &str) -> bool {
    let Some((t, uuid)) = id.split_once("--") else { return false };
    is_type_name(t) && uuid::Uuid::try_parse(uuid).is_ok() && uuid.len() == 36
}

/// At most [`MAX_PROBLEMS`] problems of an object, each cut to a short message: the
/// values they quote come from the object, which may be megabytes of one string or a
/// million bad selectors.
fn bounded(problems: Vec<String>) -> Vec<String> {
    let more = problems.len().saturating_sub(MAX_PROBLEMS);
    let mut out: Vec<String> = problems.iter().take(MAX_PROBLEMS).map(|p| crate::clip(p)).collect();
    if more > 0 {
        out.push(format!("and {more} more problems"));
    }
    out
}

/// How many problems of one object are told.
const MAX_PROBLEMS: usize = 10;

fn check_timestamps(obj: &Map<String, Value>, type_: &str, is_sco: bool, problems: &mut Vec<String>) {
    for key in [
        "created",
        "modified",
        "valid_from",
        "valid_until",
        "first_seen",
        "last_seen",
        "first_observed",
        "last_observed",
        "published",
    ] {
        match obj.get(key) {
            Some(Value::String(s)) if timestamp::parse(s).is_some() => {}
            Some(v) => problems.push(format!("{key}: {v} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.sss]Z)")),
            None => {}
        }
    }
    if is_sco || type_.is_empty() {
        return;
    }
    if !obj.contains_key("created") {
        problems.push("has no \"created\" timestamp".into());
    }
    // Marking definitions are never versioned, so they have no `modified`.
    if type_ != "marking-definition" && !obj.contains_key("modified") {
        problems.push("has no \"modified\" timestamp".into());
    }
}

fn check_refs(obj: &Map<String, Value>, problems: &mut Vec<String>) {
    // Custom properties (x_...) are the producer's own: ATT&CK leaves some of its
    // `x_mitre_*_ref` properties empty. Only the specification's references are held
    // to the specification.
    for (key, value) in obj.iter().filter(|(k, _)| !k.starts_with("x_")) {
        if key.ends_with("_ref") {
            match value {
                Value::String(s) if is_stix_id(s) => {}
                v => problems.push(format!("{key}: {v} is not a STIX id")),
            }
        } else if key.ends_with("_refs") {
            match value {
                Value::Array(items) => {
                    for v in items {
                        if !v.as_str().is_some_and(is_stix_id) {
                            problems.push(format!("{key}: {v} is not a STIX id"));
                        }
                    }
                }
                v => problems.push(format!("{key}: must be a list of STIX ids, found {}", json_kind(v))),
            }
        }
    }
}

fn check_type_specific(obj: &Map<String, Value>, type_: &str, spec: &str, problems: &mut Vec<String>) {
    let mut require = |key: &str| {
        if !obj.get(key).is_some_and(Value::is_string) {
            problems.push(format!("a {type_} needs a string \"{key}\""));
        }
    };
    match type_ {
        "relationship" => {
            require("relationship_type");
            require("source_ref");
            require("target_ref");
        }
        "sighting" => require("sighting_of_ref"),
        "indicator" => {
            require("pattern");
            require("valid_from");
            if spec == "2.1" {
                require("pattern_type");
            }
        }
        // STIX 2.1 made a malware's name optional (a sample need not be named).
        "malware" if spec == "2.1" => {}
        "intrusion-set" | "threat-actor" | "malware" | "tool" | "campaign" | "attack-pattern" | "identity" => {
            require("name")
        }
        _ => {}
    }
    if type_ == "indicator" {
        let pattern_type = obj.get("pattern_type").and_then(Value::as_str).unwrap_or("stix");
        match (obj.get("pattern").and_then(Value::as_str), pattern_type) {
            (Some(pattern), "stix") => {
                if let Err(e) = crate::pattern::parse(pattern) {
                    problems.push(format!(
                        "pattern {} is not a valid STIX pattern: {}",
                        crate::excerpt(pattern),
                        crate::clip(&e.to_string())
                    ));
                }
            }
            // A rule that does not compile would stop every later sweep of the
            // store, which compiles all stored rules together.
            (Some(pattern), "yara") => {
                let origin = obj.get("id").and_then(Value::as_str).unwrap_or("indicator");
                if let Err(e) = crate::yara::check(std::path::Path::new(origin), pattern) {
                    problems.push(format!("pattern: {e}"));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_need_type_and_uuid() {
        assert!(is_stix_id("malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"));
        assert!(!is_stix_id("malware--75ecdbf1"));
        assert!(!is_stix_id("Malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"));
        assert!(!is_stix_id("75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"));
    }

    #[test]
    fn a_bad_timestamp_is_named() {
        let v = json!({
            "type": "relationship", "spec_version": "2.1",
            "id": "relationship--1621d4d4-b67d-11e3-9670-f01faf20d111",
            "created": "2022-101-27T13:49:54.326Z", "modified": "2022-10-27T13:49:54.326Z",
            "relationship_type": "attributed-to",
            "source_ref": "threat-actor--9a8a0d25-7636-429b-a99e-b2a73cd0f11f",
            "target_ref": "identity--1621d4d4-b67d-11e3-9670-f01faf20d111"
        });
        let problems = IntelObject::from_value(v, None, "t").unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("created:"), "{problems:?}");
    }

    #[test]
    fn tlp_is_the_strictest_marking() {
        let v = json!({
            "type": "malware", "spec_version": "2.1", "is_family": true, "name": "x",
            "id": "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
            "created": "2019-03-25T17:30:17.004Z", "modified": "2019-03-25T17:30:17.004Z",
            "object_marking_refs": [Tlp::Green.marking_id(), "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
        });
        let mut o = IntelObject::from_value(v, None, "t").unwrap();
        assert_eq!(o.tlp, Some(Tlp::Red));
        o.apply_tlp(Some(Tlp::Amber));
        assert_eq!(o.tlp, Some(Tlp::Red), "--tlp never loosens a marking");
    }

    #[test]
    fn an_invalid_stix_pattern_is_rejected() {
        let v = json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
            "created": "2019-03-25T17:30:17.004Z", "modified": "2019-03-25T17:30:17.004Z",
            "pattern": "[file:name = 'x'", "pattern_type": "stix", "valid_from": "2019-03-25T17:30:17.004Z"
        });
        let problems = IntelObject::from_value(v, None, "t").unwrap_err();
        assert!(problems[0].contains("not a valid STIX pattern"), "{problems:?}");
    }

    fn yara_indicator(rule: &str) -> Value {
        json!({
            "type": "indicator", "spec_version": "2.1",
            "id": "indicator--85ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
            "created": "2019-03-25T17:30:17.004Z", "modified": "2019-03-25T17:30:17.004Z",
            "pattern": rule, "pattern_type": "yara", "valid_from": "2019-03-25T17:30:17.004Z"
        })
    }

    #[test]
    fn a_yara_indicator_must_compile() {
        assert!(IntelObject::from_value(yara_indicator("rule ok { condition: true }"), None, "t").is_ok());
        let problems =
            IntelObject::from_value(yara_indicator("rule broken {\n condition: $b\n}"), None, "t").unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("pattern: indicator--85ecdbf1"), "{problems:?}");
        assert!(problems[0].contains("YARA rule does not compile") && problems[0].contains("$b"), "{problems:?}");
    }

    #[test]
    fn one_object_is_bounded() {
        let mut v = yara_indicator("rule ok { condition: true }");
        v["description"] = json!("x".repeat(MAX_OBJECT_BYTES));
        let problems = IntelObject::from_value(v, None, "t").unwrap_err();
        assert!(problems[0].contains("over the limit"), "{problems:?}");
    }

    #[test]
    fn problems_are_few_and_short_whatever_the_object_holds() {
        let mut v = yara_indicator("rule ok { condition: true }");
        v["id"] = json!(format!("indicator--{}", "9".repeat(100_000)));
        let selectors: Vec<String> = (0..1000).map(|i| format!("nothing_{i}")).collect();
        v["granular_markings"] = json!([{ "selectors": selectors, "marking_ref": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1" }]);
        let problems = IntelObject::from_value(v, None, "t").unwrap_err();
        assert_eq!(problems.len(), MAX_PROBLEMS + 1, "{problems:?}");
        assert!(problems[0].starts_with("id \"indicator--999") && problems[0].len() < 200, "{}", problems[0]);
        assert!(problems.iter().all(|p| p.len() <= 4 * crate::MESSAGE_CHARS), "{problems:?}");
        assert_eq!(problems[MAX_PROBLEMS], "and 991 more problems");
    }

    #[test]
    fn taxii_takes_stix_21_only() {
        let mut v = yara_indicator("rule ok { condition: true }");
        assert!(validate(v.clone(), "taxii").is_ok());
        v["spec_version"] = json!("2.0");
        assert!(validate(v.clone(), "taxii").unwrap_err()[0].contains("STIX 2.1 only"));
        v.as_object_mut().unwrap().remove("spec_version");
        assert!(validate(v, "taxii").unwrap_err()[0].contains("has no spec_version"));
        assert!(validate(json!([1]), "taxii").unwrap_err()[0].contains("not a JSON object"));
        let file = json!({"type": "file", "id": "file--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661", "name": "a.exe"});
        assert!(validate(file, "taxii").is_ok(), "an SCO may leave spec_version out");
    }
}
