//! API tokens: shown once, kept only as their SHA-256, compared in constant time.

use crate::org::Role;
use crate::{audit, now_text, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Every token starts so, which makes one easy to recognise in a leaked file.
const PREFIX: &str = "tdk_";
/// Hex characters of the token used to find its row; they grant nothing alone.
const LOOKUP_LEN: usize = 12;

/// Who a valid token acts for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Principal {
    pub org: String,
    pub user: String,
    pub role: Role,
    /// The token's lookup part (not secret: the audit trail names tokens by it).
    pub token: String,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Store {
    /// Creates a token for `user` of `org` with `role` and returns it. Only its hash
    /// is stored: the token cannot be shown again.
    pub fn create_token(&self, org: &str, user: &str, role: Role, who: &str) -> Result<String, StoreError> {
        self.require_org(org)?;
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| StoreError::Random(e.to_string()))?;
        let token = format!("{PREFIX}{}", hex::encode(secret));
        let lookup = &token[PREFIX.len()..PREFIX.len() + LOOKUP_LEN];
        let tx = crate::write_tx(&self.conn)?;
        tx.execute(
            "INSERT INTO users (org, name, role, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (org, name) DO NOTHING",
            params![org, user, role.as_str(), now_text()],
        )?;
        tx.execute(
            "INSERT INTO api_tokens (lookup, hash, org, user_name, role, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![lookup, hex::encode(digest(&token)), org, user, role.as_str(), now_text()],
        )?;
        // The audit trail names the token by its lookup part, never the whole.
        let detail = serde_json::json!({ "org": org, "user": user, "role": role, "token": lookup }).to_string();
        audit::append(&tx, who, "token.create", org, &detail)?;
        tx.commit()?;
        Ok(token)
    }

    /// The principal a token acts for, or `None` for a token that is unknown,
    /// malformed or revoked.
    pub fn authenticate(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let Some(rest) = token.strip_prefix(PREFIX) else { return Ok(None) };
        if rest.len() != 64 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let row: Option<(String, String, String, String, Option<String>)> = self
            .conn
            .query_row(
                "SELECT hash, org, user_name, role, revoked FROM api_tokens WHERE lookup = ?1",
                [&rest[..LOOKUP_LEN]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?;
        let Some((hash, org, user, role, revoked)) = row else { return Ok(None) };
        let stored = hex::decode(hash).unwrap_or_default();
        let equal: bool = stored.as_slice().ct_eq(&digest(token)).into();
        if !equal || revoked.is_some() {
            return Ok(None);
        }
        let Ok(role) = role.parse::<Role>() else { return Ok(None) };
        Ok(Some(Principal { org, user, role, token: rest[..LOOKUP_LEN].to_string() }))
    }

    /// Whether the token with this lookup part is known and not revoked: a session
    /// that a token opened lasts no longer than the token.
    pub fn token_active(&self, lookup: &str) -> Result<bool, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM api_tokens WHERE lookup = ?1 AND revoked IS NULL",
            [lookup],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// Revokes the token whose text starts with `prefix` (at least the lookup part).
    pub fn revoke_token(&self, token_or_lookup: &str, who: &str) -> Result<bool, StoreError> {
        let rest = token_or_lookup.strip_prefix(PREFIX).unwrap_or(token_or_lookup);
        let Some(lookup) = rest.get(..LOOKUP_LEN) else { return Ok(false) };
        let tx = crate::write_tx(&self.conn)?;
        let n = tx.execute(
            "UPDATE api_tokens SET revoked = ?1 WHERE lookup = ?2 AND revoked IS NULL",
            params![now_text(), lookup],
        )?;
        if n > 0 {
            audit::append(&tx, who, "token.revoke", lookup, "{}")?;
        }
        tx.commit()?;
        Ok(n > 0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use takedown_model::Tlp;

    #[test]
    fn a_token_authenticates_only_whole_and_unrevoked() {
        let store = Store::open_in_memory().unwrap();
        store.add_org("msft", Tlp::Amber, "t").unwrap();
        let token = store.create_token("msft", "alice", Role::Analyst, "t").unwrap();
        let p = store.authenticate(&token).unwrap().unwrap();
        assert_eq!((p.org.as_str(), p.user.as_str(), p.role), ("msft", "alice", Role::Analyst));
        // Same lookup part, different secret.
        let mut forged = token.clone();
        let last = if forged.ends_with('0') { '1' } else { '0' };
        forged.pop();
        forged.push(last);
        assert!(store.authenticate(&forged).unwrap().is_none());
        assert!(store.authenticate("").unwrap().is_none());
        assert!(store.authenticate("tdk_zz").unwrap().is_none());
        // Only the hash is stored.
        let stored: String = store.conn.query_row("SELECT hash FROM api_tokens", [], |r| r.get(0)).unwrap();
        assert!(!stored.contains(&token[4..]));
        assert_eq!(p.token, &token[4..16]);
        assert!(store.token_active(&p.token).unwrap());
        assert!(store.revoke_token(&token, "t").unwrap());
        assert!(store.authenticate(&token).unwrap().is_none());
        assert!(!store.token_active(&p.token).unwrap());
        assert!(!store.token_active("000000000000").unwrap());
    }

    #[test]
    fn a_token_needs_a_known_org() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(store.create_token("nobody", "a", Role::Viewer, "t"), Err(StoreError::NoOrg(_))));
    }
}
