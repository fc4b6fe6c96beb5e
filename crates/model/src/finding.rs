//! What was seen, where, and the evidence that makes it defensible.

use crate::{Timestamp, Tlp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where something was seen.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Subject {
    Host {
        name: String,
    },
    File {
        host: Option<String>,
        path: String,
        sha256: Option<String>,
    },
    /// An entry of a registry hive: the hive file, the key's full path and, when a
    /// value (rather than the key) is the finding, the value's name.
    Registry {
        host: Option<String>,
        hive: String,
        key: String,
        value: Option<String>,
        /// The hive's SHA-256 when it was read.
        sha256: Option<String>,
    },
    /// A network endpoint: an address, and a port where one matters.
    Endpoint {
        ip: String,
        port: Option<u16>,
    },
    Account {
        platform: Option<String>,
        id: String,
    },
    Person {
        id: String,
        email: Option<String>,
    },
}

/// Why a finding was raised. Each detector fills the variant it knows; a finding
/// may carry several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Evidence {
    /// A YARA rule matched: the rule, its namespace (the file it came from) and the
    /// matched strings with their offsets.
    Yara { rule: String, namespace: String, strings: Vec<StringMatch> },
    /// A file's hash equals an indicator's.
    Hash { algorithm: String, value: String },
    /// A file's name or path matched a pattern.
    Name { pattern: String },
    /// Packets in a capture: their numbers (1-based, as Wireshark counts) and the
    /// protocol fields that mattered.
    Packets { file: String, numbers: Vec<u64>, fields: BTreeMap<String, String> },
    /// Signals from the account graph that ranked an account.
    Graph { signals: BTreeMap<String, f64>, seeds: Vec<String> },
    /// A registry entry matched: what matched (an indicator's key or service name, or
    /// the file a command names) and the value's data as text.
    Registry { matched: String, data: Option<String> },
    /// A fact in words, for what fits none of the above.
    Note { text: String },
}

/// One matched string of a YARA rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringMatch {
    pub identifier: String,
    pub offset: u64,
    pub length: u64,
}

/// An indicator or a behaviour seen at a subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// A STIX `sighting--` id, so that the finding can be shared as it is.
    pub id: String,
    pub campaign: Option<String>,
    pub subject: Subject,
    /// The STIX id of the indicator that matched, if one did.
    pub indicator: Option<String>,
    /// Which detector raised it (`sweep.yara`, `net.eternalblue`, `accounts.rank`, ...).
    pub detector: String,
    /// One line for people.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub observed_at: Timestamp,
    pub tlp: Option<Tlp>,
}
