//! Something detectable, with where it came from and how far to trust it.

use crate::{Timestamp, Tlp};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an indicator's value is. The detectors choose the indicators they can use by
/// kind: the host sweep takes hashes, names, paths and YARA; the capture analysis
/// takes domains and addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IndicatorKind {
    Md5,
    Sha1,
    Sha256,
    /// A file's name, exact (case-insensitive, as on Windows).
    FileName,
    /// A regular expression over a file's full path (Loki filename IOCs).
    PathPattern,
    /// A YARA rule set (source text).
    Yara,
    Domain,
    Ipv4,
    Ipv6,
    Url,
    /// An account on some platform (`user-account:account_login`).
    Account,
    Mutex,
    /// A Windows service name.
    Service,
    RegistryKey,
    /// A STIX pattern that is none of the simple forms above.
    StixPattern,
}

impl IndicatorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::FileName => "file-name",
            IndicatorKind::PathPattern => "path-pattern",
            IndicatorKind::Yara => "yara",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Url => "url",
            IndicatorKind::Account => "account",
            IndicatorKind::Mutex => "mutex",
            IndicatorKind::Service => "service",
            IndicatorKind::RegistryKey => "registry-key",
            IndicatorKind::StixPattern => "stix-pattern",
        }
    }

    /// Hash kinds are compared in lower-case hex.
    pub fn is_hash(self) -> bool {
        matches!(self, IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256)
    }

    /// Network kinds feed the capture analysis and blocklists.
    pub fn is_network(self) -> bool {
        matches!(self, IndicatorKind::Domain | IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Url)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A detectable thing, read from a STIX `indicator` (or an IOC line, or a YARA file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// The STIX id of the indicator object.
    pub id: String,
    pub kind: IndicatorKind,
    /// The value in canonical form: lower-case hex for hashes, lower-case domain
    /// names, the regular expression for path patterns, the rule source for YARA,
    /// the whole pattern for [`IndicatorKind::StixPattern`].
    pub value: String,
    pub name: Option<String>,
    /// Where this came from: a feed name, a file, a partner organisation.
    pub source: String,
    /// 0–100, as STIX `confidence`.
    pub confidence: Option<u8>,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    /// `None`: unmarked, which follows the owner's default.
    pub tlp: Option<Tlp>,
    /// STIX ids of what this indicates (malware, actors), sorted.
    pub indicates: Vec<String>,
}

impl Indicator {
    /// Whether the indicator is valid at `at`: after `valid_from` and before
    /// `valid_until` (STIX 2.1 §4.7: `valid_until` is exclusive).
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.valid_from.is_none_or(|from| from <= at) && self.valid_until.is_none_or(|until| at < until)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn validity_window_is_half_open() {
        let t = |y| chrono::Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0).single().expect("date");
        let i = Indicator {
            id: "indicator--x".into(),
            kind: IndicatorKind::Domain,
            value: "example.com".into(),
            name: None,
            source: "test".into(),
            confidence: None,
            valid_from: Some(t(2017)),
            valid_until: Some(t(2018)),
            tlp: None,
            indicates: vec![],
        };
        assert!(!i.is_valid_at(t(2016)));
        assert!(i.is_valid_at(t(2017)));
        assert!(!i.is_valid_at(t(2018)));
    }

    #[test]
    fn kinds_serialise_as_kebab_case() {
        let s = serde_json::to_string(&IndicatorKind::RegistryKey).expect("serialise");
        assert_eq!(s, "\"registry-key\"");
        assert_eq!(IndicatorKind::RegistryKey.as_str(), "registry-key");
    }
}
