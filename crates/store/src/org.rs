//! Organisations, their users and roles, campaign ownership and sharing groups, and
//! the named recipients of TLP:RED objects.

use crate::{audit, now_text, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use std::fmt;
use std::str::FromStr;
use takedown_model::Tlp;

/// What a token may do. Each role can do what the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads what the organisation may see.
    Viewer,
    /// Also adds intel and findings.
    Analyst,
    /// Also approves, runs and undoes actions.
    Approver,
    /// Also manages the organisation's sharing.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Analyst, Role::Approver, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Analyst => "analyst",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown role {s:?}: expected viewer, analyst, approver or admin"))
    }
}

/// A member organisation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Org {
    pub name: String,
    /// How its unmarked objects are treated.
    pub default_tlp: Tlp,
    pub created: String,
}

impl Store {
    /// Adds an organisation; unmarked objects it owns are treated as `default_tlp`.
    pub fn add_org(&self, name: &str, default_tlp: Tlp, who: &str) -> Result<Org, StoreError> {
        // The intel table indexes the server's own rows (no owner) as the owner "".
        if name.trim().is_empty() {
            return Err(StoreError::EmptyOrgName);
        }
        let tx = crate::write_tx(&self.conn)?;
        if tx.query_row("SELECT 1 FROM orgs WHERE name = ?1", [name], |_| Ok(())).optional()?.is_some() {
            return Err(StoreError::OrgExists(name.into()));
        }
        let created = now_text();
        tx.execute(
            "INSERT INTO orgs (name, default_tlp, created) VALUES (?1, ?2, ?3)",
            params![name, default_tlp.as_str(), created],
        )?;
        let detail = serde_json::json!({ "default_tlp": default_tlp }).to_string();
        audit::append(&tx, who, "org.add", name, &detail)?;
        tx.commit()?;
        Ok(Org { name: name.into(), default_tlp, created })
    }

    /// Organisations by name.
    pub fn orgs(&self) -> Result<Vec<Org>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT name, default_tlp, created FROM orgs ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            let tlp: String = r.get(1)?;
            // A level the store cannot read is treated as the strictest shared one.
            Ok(Org { name: r.get(0)?, default_tlp: tlp.parse().unwrap_or(Tlp::AmberStrict), created: r.get(2)? })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn org(&self, name: &str) -> Result<Option<Org>, StoreError> {
        Ok(self.orgs()?.into_iter().find(|o| o.name == name))
    }

    pub(crate) fn require_org(&self, name: &str) -> Result<(), StoreError> {
        match self.conn.query_row("SELECT 1 FROM orgs WHERE name = ?1", [name], |_| Ok(())).optional()? {
            Some(()) => Ok(()),
            None => Err(StoreError::NoOrg(name.into())),
        }
    }

    /// Adds (or changes the role of) a user of an organisation.
    pub fn set_user(&self, org: &str, name: &str, role: Role, who: &str) -> Result<(), StoreError> {
        self.require_org(org)?;
        let tx = crate::write_tx(&self.conn)?;
        tx.execute(
            "INSERT INTO users (org, name, role, created) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (org, name) DO UPDATE SET role = excluded.role",
            params![org, name, role.as_str(), now_text()],
        )?;
        let detail = serde_json::json!({ "org": org, "role": role }).to_string();
        audit::append(&tx, who, "user.set", name, &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes `org` the owner of a campaign (its AMBER material is the owner's).
    pub fn set_campaign_owner(&self, campaign: &str, org: &str, who: &str) -> Result<(), StoreError> {
        let id = self.campaign_id(campaign)?;
        self.require_org(org)?;
        let tx = crate::write_tx(&self.conn)?;
        tx.execute(
            "INSERT INTO campaign_owners (campaign_id, org) VALUES (?1, ?2)
             ON CONFLICT (campaign_id) DO UPDATE SET org = excluded.org",
            params![id, org],
        )?;
        audit::append(&tx, who, "campaign.owner", campaign, &serde_json::json!({ "org": org }).to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Adds `org` to a campaign's sharing group: it then sees the campaign's AMBER.
    /// Returns whether it was not in the group already.
    pub fn share_campaign(&self, campaign: &str, org: &str, who: &str) -> Result<bool, StoreError> {
        let id = self.campaign_id(campaign)?;
        self.require_org(org)?;
        let tx = crate::write_tx(&self.conn)?;
        let n =
            tx.execute("INSERT OR IGNORE INTO campaign_shares (campaign_id, org) VALUES (?1, ?2)", params![id, org])?;
        // Sharing again changes nothing, so the audit trail records nothing.
        if n > 0 {
            audit::append(&tx, who, "campaign.share", campaign, &serde_json::json!({ "org": org }).to_string())?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// Takes `org` out of a campaign's sharing group; returns whether it was in it.
    /// What the organisation already fetched stays with it: TLP governs sharing,
    /// not forgetting.
    pub fn unshare_campaign(&self, campaign: &str, org: &str, who: &str) -> Result<bool, StoreError> {
        let id = self.campaign_id(campaign)?;
        self.require_org(org)?;
        let tx = crate::write_tx(&self.conn)?;
        let n = tx.execute("DELETE FROM campaign_shares WHERE campaign_id = ?1 AND org = ?2", params![id, org])?;
        if n > 0 {
            audit::append(&tx, who, "campaign.unshare", campaign, &serde_json::json!({ "org": org }).to_string())?;
        }
        tx.commit()?;
        Ok(n > 0)
    }

    /// The owner of a campaign, by campaign id.
    pub fn campaign_owner(&self, campaign_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT org FROM campaign_owners WHERE campaign_id = ?1", [campaign_id], |r| r.get(0))
            .optional()?)
    }

    /// The sharing group of a campaign, by campaign id, sorted.
    pub fn campaign_group(&self, campaign_id: &str) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT org FROM campaign_shares WHERE campaign_id = ?1 ORDER BY org")?;
        let rows = stmt.query_map([campaign_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Names `org` as a recipient of the TLP:RED object `object_id`.
    pub fn add_recipient(&self, object_id: &str, org: &str, who: &str) -> Result<(), StoreError> {
        self.require_org(org)?;
        let tx = crate::write_tx(&self.conn)?;
        tx.execute("INSERT OR IGNORE INTO tlp_recipients (object_id, org) VALUES (?1, ?2)", params![object_id, org])?;
        audit::append(&tx, who, "tlp.recipient", object_id, &serde_json::json!({ "org": org }).to_string())?;
        tx.commit()?;
        Ok(())
    }

    fn campaign_id(&self, name: &str) -> Result<String, StoreError> {
        self.conn
            .query_row("SELECT id FROM campaigns WHERE name = ?1", [name], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NoCampaign(name.into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sharing_again_or_removing_twice_changes_nothing_and_is_not_audited() {
        let store = crate::action::tests::store();
        store.add_org("msft", Tlp::Green, "t").unwrap();
        store.add_org("fb", Tlp::Green, "t").unwrap();
        let shares = || store.audit_events().unwrap().iter().filter(|e| e.verb.starts_with("campaign.")).count();
        let before = shares();
        assert!(store.share_campaign("zinc", "fb", "ana").unwrap());
        assert!(!store.share_campaign("zinc", "fb", "ana").unwrap());
        assert_eq!(store.campaign_group("grouping--zinc").unwrap(), ["fb"]);
        assert_eq!(shares(), before + 1);
        assert!(store.unshare_campaign("zinc", "fb", "ana").unwrap());
        assert!(!store.unshare_campaign("zinc", "fb", "ana").unwrap());
        assert_eq!(shares(), before + 2);
    }
}
