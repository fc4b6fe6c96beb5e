//! The group behind an operation, and the malware it uses.

use serde::{Deserialize, Serialize};

/// A threat group (STIX `intrusion-set` or `threat-actor`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// The STIX id.
    pub id: String,
    pub name: String,
    /// Other names the group goes by (ZINC, HIDDEN COBRA, Diamond Sleet, ...), sorted.
    pub aliases: Vec<String>,
    pub description: Option<String>,
    /// Where this knowledge came from (a feed, a file, a partner).
    pub source: String,
}

impl Actor {
    /// Whether `name` is this actor's name or one of its aliases, ignoring case.
    pub fn is_called(&self, name: &str) -> bool {
        let name = name.trim();
        self.name.eq_ignore_ascii_case(name) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// A malware family or tool (STIX `malware` or `tool`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Malware {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_case_insensitively() {
        let a = Actor {
            id: "intrusion-set--x".into(),
            name: "Lazarus Group".into(),
            aliases: vec!["ZINC".into(), "HIDDEN COBRA".into()],
            description: None,
            source: "test".into(),
        };
        assert!(a.is_called("zinc"));
        assert!(a.is_called(" Hidden Cobra "));
        assert!(!a.is_called("APT28"));
    }
}
