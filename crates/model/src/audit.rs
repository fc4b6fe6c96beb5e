//! Who did what when: append-only and hash-chained, so that a changed or removed
//! row is evident.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// One audit record. `hash` covers every other field and `prev_hash`, so each row
/// commits to the whole history before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// 1, 2, 3, ... without gaps.
    pub seq: u64,
    pub at: Timestamp,
    /// Who: a user, a token's organisation, or `takedown` for automatic steps.
    pub actor: String,
    /// What, as a dotted verb: `intel.import`, `action.approve`, ...
    pub verb: String,
    /// The object acted on (an id, a file, a campaign name).
    pub object: String,
    /// Details as JSON (kept as text so that the hashed bytes are exactly the stored ones).
    pub detail: String,
    /// Lower-case hex SHA-256 of the previous row, or 64 zeros for the first.
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of the row before the first.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditEvent {
    /// The exact bytes the hash is computed over: each field length-prefixed, so that
    /// no two different rows share an encoding.
    pub fn hashed_bytes(
        seq: u64,
        at: &str,
        actor: &str,
        verb: &str,
        object: &str,
        detail: &str,
        prev_hash: &str,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            64 + at.len() + actor.len() + verb.len() + object.len() + detail.len() + prev_hash.len(),
        );
        out.extend_from_slice(&seq.to_be_bytes());
        for field in [at, actor, verb, object, detail, prev_hash] {
            out.extend_from_slice(&(field.len() as u64).to_be_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_separates_fields() {
        let a = AuditEvent::hashed_bytes(1, "t", "ab", "c", "", "", GENESIS_HASH);
        let b = AuditEvent::hashed_bytes(1, "t", "a", "bc", "", "", GENESIS_HASH);
        assert_ne!(a, b);
    }
}
