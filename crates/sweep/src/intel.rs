//! STIX indicators as sweep rules: the forms a file sweep can check (hashes, file
//! names, path patterns, YARA rule files, and in registry hives keys and services)
//! are taken; the rest (domains, addresses,
//! mutexes, ...) belong to other detectors and are counted as passed over.

use crate::error::SweepError;
use crate::ruleset::{RulesetBuilder, Source};
use serde_json::{Map, Value};
use std::path::Path;
use takedown_intel::pattern;
use takedown_model::IndicatorKind;

/// What became of one indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Yara,
    Hash,
    Name,
    PathPattern,
    /// A registry key, looked for in registry hives.
    RegistryKey,
    /// A Windows service's name, looked for in SYSTEM hives.
    Service,
    /// Not something a file sweep checks, or no longer valid.
    PassedOver,
}

impl RulesetBuilder {
    /// Adds a STIX `indicator` object. An indicator whose `valid_until` has passed,
    /// or that is revoked, is passed over.
    pub fn add_indicator(&mut self, obj: &Map<String, Value>) -> Result<Taken, SweepError> {
        let text = |k: &str| obj.get(k).and_then(Value::as_str);
        if obj.get("revoked").and_then(Value::as_bool) == Some(true) {
            return Ok(Taken::PassedOver);
        }
        if let Some(until) = text("valid_until").and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok()) {
            if until <= chrono::Utc::now() {
                return Ok(Taken::PassedOver);
            }
        }
        let id = text("id").unwrap_or_default();
        let name = text("name").unwrap_or(id).to_string();
        let source = Source { indicator: Some(id.to_string()), name: name.clone() };
        let pattern_text = text("pattern").unwrap_or_default();
        match text("pattern_type").unwrap_or("stix") {
            "yara" => {
                // A YARA file's indicator is named after the file: its namespace.
                let origin = if name.ends_with(".yar") || name.ends_with(".yara") {
                    name.clone()
                } else {
                    format!("{name}.yar")
                };
                self.add_yara(Path::new(&origin), pattern_text, source)?;
                Ok(Taken::Yara)
            }
            "pcre" if text("x_takedown_applies_to") == Some("file-path") => {
                self.add_path_pattern(pattern_text, text("x_takedown_false_positive_regex"), source)?;
                Ok(Taken::PathPattern)
            }
            "stix" => {
                let Some((kind, value)) = pattern::parse(pattern_text).ok().and_then(|p| p.simple()) else {
                    return Ok(Taken::PassedOver);
                };
                Ok(match kind {
                    k if k.is_hash() => {
                        self.add_hash(k, &value, source);
                        Taken::Hash
                    }
                    IndicatorKind::FileName => {
                        self.add_name(&value, source);
                        Taken::Name
                    }
                    IndicatorKind::RegistryKey => {
                        self.add_registry_key(&value, source);
                        Taken::RegistryKey
                    }
                    IndicatorKind::Service => {
                        self.add_service(&value, source);
                        Taken::Service
                    }
                    _ => Taken::PassedOver,
                })
            }
            _ => Ok(Taken::PassedOver),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn sweepable_forms_are_taken() {
        let mut b = RulesetBuilder::new();
        let hash = obj(json!({"id": "indicator--1", "pattern_type": "stix",
            "pattern": "[file:hashes.'SHA-256' = 'ED01EBFBC9EB5BBEA545AF4D01BF5F1071661840480439C6E5BABE8E080E41AA']"}));
        assert_eq!(b.add_indicator(&hash).unwrap(), Taken::Hash);
        let name =
            obj(json!({"id": "indicator--2", "pattern_type": "stix", "pattern": "[file:name = 'tasksche.exe']"}));
        assert_eq!(b.add_indicator(&name).unwrap(), Taken::Name);
        let domain =
            obj(json!({"id": "indicator--3", "pattern_type": "stix", "pattern": "[domain-name:value = 'a.com']"}));
        assert_eq!(b.add_indicator(&domain).unwrap(), Taken::PassedOver);
        let expired = obj(json!({"id": "indicator--4", "pattern_type": "stix", "valid_until": "2001-01-01T00:00:00Z",
            "pattern": "[file:name = 'old.exe']"}));
        assert_eq!(b.add_indicator(&expired).unwrap(), Taken::PassedOver);
        let yara = obj(json!({"id": "indicator--5", "name": "x.yar", "pattern_type": "yara",
            "pattern": "rule r { condition: filename == \"a\" }"}));
        assert_eq!(b.add_indicator(&yara).unwrap(), Taken::Yara);
        let counts = b.build().unwrap().counts();
        assert_eq!((counts.hashes, counts.names, counts.yara_rules), (1, 1, 1));
    }
}
