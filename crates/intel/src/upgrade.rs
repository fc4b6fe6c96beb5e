//! STIX 2.0 → 2.1, as the 2.1 specification's changes require: `spec_version` on
//! every object, `pattern_type` on indicators, `is_family` on malware, the typed
//! vocabularies that replaced `labels`, and millisecond timestamps.

use crate::timestamp;
use serde_json::{Map, Value};

const INDICATOR_TYPES: &[&str] =
    &["anomalous-activity", "anonymization", "benign", "compromised", "malicious-activity", "attribution", "unknown"];
const MALWARE_TYPES: &[&str] = &[
    "adware",
    "backdoor",
    "bot",
    "bootkit",
    "ddos",
    "downloader",
    "dropper",
    "exploit-kit",
    "keylogger",
    "ransomware",
    "remote-access-trojan",
    "resource-exploitation",
    "rogue-security-software",
    "rootkit",
    "screen-capture",
    "spyware",
    "trojan",
    "unknown",
    "virus",
    "webshell",
    "wiper",
    "worm",
];
const TOOL_TYPES: &[&str] = &[
    "denial-of-service",
    "exploitation",
    "information-gathering",
    "network-capture",
    "credential-exploitation",
    "remote-access",
    "vulnerability-scanning",
    "unknown",
];
const THREAT_ACTOR_TYPES: &[&str] = &[
    "activist",
    "competitor",
    "crime-syndicate",
    "criminal",
    "hacker",
    "insider-accidental",
    "insider-disgruntled",
    "nation-state",
    "sensationalist",
    "spy",
    "terrorist",
    "unknown",
];
const REPORT_TYPES: &[&str] = &[
    "attack-pattern",
    "campaign",
    "identity",
    "indicator",
    "intrusion-set",
    "malware",
    "observed-data",
    "threat-actor",
    "threat-report",
    "tool",
    "vulnerability",
];

/// Upgrades a validated STIX 2.0 object in place.
pub(crate) fn to_21(obj: &mut Map<String, Value>, type_: &str) {
    // Rebuild so that `spec_version` sits right after `type`, as producers write it.
    let old = std::mem::take(obj);
    for (k, v) in old {
        let is_type = k == "type";
        obj.insert(k, v);
        if is_type {
            obj.insert("spec_version".into(), Value::String("2.1".into()));
        }
    }
    for key in ["created", "modified"] {
        if let Some(Value::String(s)) = obj.get(key) {
            if let Some(t) = timestamp::parse(s) {
                if !has_millis(s) {
                    obj.insert(key.into(), Value::String(timestamp::millis(t)));
                }
            }
        }
    }
    match type_ {
        "indicator" => {
            obj.entry("pattern_type").or_insert_with(|| Value::String("stix".into()));
            labels_to(obj, "indicator_types", INDICATOR_TYPES);
        }
        "malware" => {
            // Everything STIX 2.0 called malware was a family; 2.1 asks to say so.
            obj.entry("is_family").or_insert(Value::Bool(true));
            labels_to(obj, "malware_types", MALWARE_TYPES);
        }
        "tool" => labels_to(obj, "tool_types", TOOL_TYPES),
        "threat-actor" => labels_to(obj, "threat_actor_types", THREAT_ACTOR_TYPES),
        "report" => labels_to(obj, "report_types", REPORT_TYPES),
        _ => {}
    }
}

/// 2.1 moved the open vocabularies out of `labels` into `*_types`. Labels that are
/// all words of the new vocabulary move; any others stay labels (ATT&CK marks its
/// malware with the label "malware", which is no malware type).
fn labels_to(obj: &mut Map<String, Value>, key: &str, vocabulary: &[&str]) {
    if obj.contains_key(key) {
        return;
    }
    let Some(Value::Array(labels)) = obj.get("labels") else { return };
    if labels.is_empty() || !labels.iter().all(|l| l.as_str().is_some_and(|s| vocabulary.contains(&s))) {
        return;
    }
    if let Some(labels) = obj.remove("labels") {
        obj.insert(key.into(), labels);
    }
}

fn has_millis(s: &str) -> bool {
    s.split_once('.').is_some_and(|(_, frac)| frac.trim_end_matches(['Z', 'z']).len() >= 3)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn up(v: Value) -> Map<String, Value> {
        let Value::Object(mut m) = v else { panic!("object") };
        let t = m["type"].as_str().unwrap().to_string();
        to_21(&mut m, &t);
        m
    }

    #[test]
    fn malware_becomes_a_family_and_keeps_odd_labels() {
        let m = up(
            json!({"type": "malware", "id": "malware--x", "created": "2019-03-25T17:30:17Z", "labels": ["malware"]}),
        );
        assert_eq!(m["spec_version"], "2.1");
        assert_eq!(m["is_family"], true);
        assert_eq!(m["labels"], json!(["malware"]));
        assert_eq!(m["created"], "2019-03-25T17:30:17.000Z");
        assert_eq!(m.keys().take(2).collect::<Vec<_>>(), ["type", "spec_version"]);
    }

    #[test]
    fn vocabulary_labels_move_to_types() {
        let m = up(
            json!({"type": "indicator", "id": "indicator--x", "pattern": "[file:name = 'a']", "labels": ["malicious-activity"]}),
        );
        assert_eq!(m["pattern_type"], "stix");
        assert_eq!(m["indicator_types"], json!(["malicious-activity"]));
        assert!(!m.contains_key("labels"));
        let t = up(json!({"type": "malware", "id": "malware--x", "labels": ["ransomware", "worm"]}));
        assert_eq!(t["malware_types"], json!(["ransomware", "worm"]));
    }
}
