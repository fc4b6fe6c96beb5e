//! Roles, evidence and the verdict per host.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Evidence items kept per host and detector; beyond it they are only counted,
/// so that a capture of a long outbreak stays within memory.
pub const MAX_EVIDENCE_PER_DETECTOR: usize = 16;

/// What a host did or suffered, as the capture shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sent MS17-010 probes, exploit traffic, DoublePulsar commands, or scanned
    /// many hosts on TCP 445.
    Attacker,
    /// Received EternalBlue, EternalRomance or EternalChampion exploit traffic.
    Exploited,
    /// Answered DoublePulsar as only an installed implant does, or looked up a
    /// WannaCry kill-switch domain (the worm runs there).
    Implanted,
    /// Answered the MS17-010 probe as an unpatched system does.
    Vulnerable,
    /// Answered the MS17-010 probe as a patched system does.
    Patched,
    /// Seen in an SMB or DNS conversation, with none of the roles above.
    Clean,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Attacker => "attacker",
            Role::Exploited => "exploited",
            Role::Implanted => "implanted",
            Role::Vulnerable => "vulnerable",
            Role::Patched => "patched",
            Role::Clean => "clean",
        }
    }

    /// Roles that mean the host is compromised or attacking (exit code 1).
    pub fn is_attack(self) -> bool {
        matches!(self, Role::Attacker | Role::Exploited | Role::Implanted)
    }
}

/// Why a host got a role: the detector, the packets and the fields that mattered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The role this supports; `None` for facts that support no role (dialects).
    pub role: Option<Role>,
    pub detector: String,
    pub summary: String,
    pub file: String,
    /// Packet numbers, 1-based as Wireshark counts them, in this file.
    pub packets: Vec<u64>,
    /// The other end of the conversation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<IpAddr>,
    pub fields: BTreeMap<String, String>,
}

/// The verdict on one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostVerdict {
    pub ip: IpAddr,
    /// Sorted; `[clean]` when nothing else applies.
    pub roles: Vec<Role>,
    pub evidence: Vec<Evidence>,
    /// Evidence items left out beyond [`MAX_EVIDENCE_PER_DETECTOR`] per detector.
    #[serde(skip_serializing_if = "is_zero")]
    pub evidence_omitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl HostVerdict {
    pub fn is_attack(&self) -> bool {
        self.roles.iter().any(|r| r.is_attack())
    }
}

#[derive(Debug, Default)]
struct HostState {
    roles: BTreeSet<Role>,
    evidence: Vec<Evidence>,
    per_detector: BTreeMap<String, usize>,
    omitted: u64,
}

/// Hosts seen so far and what was found about them.
#[derive(Debug, Default)]
pub struct Hosts {
    map: BTreeMap<IpAddr, HostState>,
}

impl Hosts {
    /// A host took part in an SMB or DNS conversation.
    pub fn seen(&mut self, ip: IpAddr) {
        self.map.entry(ip).or_default();
    }

    pub fn add(&mut self, ip: IpAddr, evidence: Evidence) {
        let host = self.map.entry(ip).or_default();
        if let Some(role) = evidence.role {
            host.roles.insert(role);
        }
        let n = host.per_detector.entry(evidence.detector.clone()).or_default();
        if *n >= MAX_EVIDENCE_PER_DETECTOR {
            host.omitted += 1;
            return;
        }
        // The same fact from another connection adds nothing for a reader.
        if evidence.role.is_none()
            && host.evidence.iter().any(|e| e.detector == evidence.detector && e.summary == evidence.summary)
        {
            return;
        }
        *n += 1;
        host.evidence.push(evidence);
    }

    /// The verdicts, sorted by address.
    pub fn verdicts(self) -> Vec<HostVerdict> {
        self.map
            .into_iter()
            .map(|(ip, h)| {
                let mut roles: Vec<Role> = h.roles.into_iter().filter(|r| *r != Role::Clean).collect();
                if roles.is_empty() {
                    roles.push(Role::Clean);
                }
                HostVerdict { ip, roles, evidence: h.evidence, evidence_omitted: h.omitted }
            })
            .collect()
    }
}
