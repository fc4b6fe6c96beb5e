//! What a sweep reports for one file: a hit, with the evidence that makes it
//! defensible.

use serde::Serialize;
use std::path::PathBuf;

/// How the file was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HitKind {
    Yara,
    Hash,
    Filename,
    Artefact,
    /// An entry in a registry hive.
    Registry,
}

impl HitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HitKind::Yara => "yara",
            HitKind::Hash => "hash",
            HitKind::Filename => "filename",
            HitKind::Artefact => "artefact",
            HitKind::Registry => "registry",
        }
    }
}

/// One matched string of a YARA rule, at its offset in the file (or archive member).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct MatchedString {
    pub identifier: String,
    pub offset: u64,
    pub length: u64,
    /// The matched bytes, printable ASCII as is and the rest as `\xNN`, cut at
    /// [`MAX_SHOWN`] bytes.
    pub data: String,
}

/// Bytes of a matched string shown in a report: enough to recognise it.
pub const MAX_SHOWN: usize = 64;

/// One detection in one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    /// The file on disk, for people and reports (bytes that are not UTF-8 shown as
    /// U+FFFD).
    pub path: String,
    /// The file on disk as the system names it, which is what quarantine moves: a
    /// name that is not UTF-8 must not keep a file out of the vault.
    #[serde(skip)]
    pub file: PathBuf,
    /// Inside a zip archive: the member's path, and for nested archives the
    /// members' paths joined by `!` (`inner.zip!evil.exe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    pub kind: HitKind,
    /// The YARA rule's name, or the artefact's (`wannacry-encrypted-file`,
    /// `wannacry-ransom-note`, `data-loss`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// For YARA: the rule file the rule came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_file: Option<String>,
    /// The STIX id of the indicator that matched, when the detection came from intel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator: Option<String>,
    /// What matched, for people: the indicator's name, the hash, the pattern.
    pub matched: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strings: Vec<MatchedString>,
    /// SHA-256 of the file (of the member, inside an archive).
    pub sha256: String,
    /// In a registry hive: the key's full path, the value (when a value matched) and
    /// its data as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// For data loss: the path of the original that is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
    /// Groups and malware the intel ties this to; filled in by the caller, which
    /// knows the intel.
    pub groups: Vec<String>,
    pub malware: Vec<String>,
}

impl Hit {
    /// The order reports use: by path, member, kind, registry key and value, then
    /// rule or what matched.
    #[allow(clippy::type_complexity)]
    pub fn sort_key(&self) -> (&str, &str, HitKind, &str, &str, &str, &str) {
        fn text(o: &Option<String>) -> &str {
            o.as_deref().unwrap_or("")
        }
        (&self.path, text(&self.member), self.kind, text(&self.key), text(&self.value), text(&self.rule), &self.matched)
    }

    /// Where it is, for people: `path` or `path!member`.
    pub fn location(&self) -> String {
        match &self.member {
            Some(m) => format!("{}!{m}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Matched bytes for people.
pub fn show_bytes(data: &[u8]) -> String {
    let mut out = String::new();
    for &b in data.iter().take(MAX_SHOWN) {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    if data.len() > MAX_SHOWN {
        out.push_str("...");
    }
    out
}
