//! Campaigns: one operation against one actor.

use crate::{audit, Store, StoreError};
use rusqlite::{params, OptionalExtension};
use takedown_model::{Campaign, Tlp};

impl Store {
    /// Creates a campaign and records who created it.
    pub fn create_campaign(&self, campaign: &Campaign, who: &str) -> Result<(), StoreError> {
        let tx = crate::write_tx(&self.conn)?;
        let exists: Option<String> =
            tx.query_row("SELECT id FROM campaigns WHERE name = ?1", [&campaign.name], |r| r.get(0)).optional()?;
        if exists.is_some() {
            return Err(StoreError::CampaignExists(campaign.name.clone()));
        }
        tx.execute(
            "INSERT INTO campaigns (id, name, actor, description, tlp, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                campaign.id,
                campaign.name,
                campaign.actor,
                campaign.description,
                campaign.tlp.as_str(),
                campaign.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            ],
        )?;
        let detail = serde_json::json!({ "id": campaign.id, "actor": campaign.actor, "tlp": campaign.tlp }).to_string();
        audit::append(&tx, who, "campaign.create", &campaign.name, &detail)?;
        tx.commit()?;
        Ok(())
    }

    /// Campaigns by name.
    pub fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let mut stmt =
            self.conn.prepare("SELECT id, name, actor, description, tlp, created FROM campaigns ORDER BY name")?;
        let rows = stmt.query_map([], |r| {
            let tlp: String = r.get(4)?;
            let created: String = r.get(5)?;
            Ok(Campaign {
                id: r.get(0)?,
                name: r.get(1)?,
                actor: r.get(2)?,
                description: r.get(3)?,
                tlp: tlp.parse().unwrap_or(Tlp::Amber),
                created: chrono::DateTime::parse_from_rfc3339(&created).map(|t| t.to_utc()).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn campaign(&self, name: &str) -> Result<Option<Campaign>, StoreError> {
        Ok(self.campaigns()?.into_iter().find(|c| c.name == name))
    }
}
