//! What kind of thing an indicator detects; the indicators themselves are STIX
//! objects held by the intel crate.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_as_kebab_case() {
        let s = serde_json::to_string(&IndicatorKind::RegistryKey).expect("serialise");
        assert_eq!(s, "\"registry-key\"");
        assert_eq!(IndicatorKind::RegistryKey.as_str(), "registry-key");
    }
}
