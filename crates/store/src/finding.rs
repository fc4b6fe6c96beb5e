//! Findings of a campaign: what the sweep, the capture analysis and the account
//! ranking saw, kept with their evidence.

use crate::{audit, now_text, Store, StoreError};
use rusqlite::params;
use takedown_model::{Finding, Subject};

/// A short text key for a subject, for filtering and for people reading the table.
pub fn subject_key(subject: &Subject) -> String {
    match subject {
        Subject::Host { name } => format!("host:{name}"),
        Subject::File { host, path, .. } => format!("file:{}:{path}", host.as_deref().unwrap_or("")),
        Subject::Registry { host, hive, key, value, .. } => {
            format!("registry:{}:{hive}|{key}|{}", host.as_deref().unwrap_or(""), value.as_deref().unwrap_or(""))
        }
        Subject::Endpoint { ip, port: Some(port) } => format!("endpoint:{ip}:{port}"),
        Subject::Endpoint { ip, port: None } => format!("endpoint:{ip}"),
        Subject::Account { platform, id } => format!("account:{}:{id}", platform.as_deref().unwrap_or("")),
        Subject::Person { id, .. } => format!("person:{id}"),
    }
}

impl Store {
    /// Stores findings under the campaign named, in one transaction with one audit
    /// event. A finding whose id is already stored is left as it is, so a detector
    /// that derives ids from what it saw (UUIDv5 of campaign, detector, subject and
    /// indicator) can be run twice without doubling its findings. Returns how many
    /// were new.
    pub fn record_findings(&self, campaign: &str, findings: &[Finding], who: &str) -> Result<usize, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let tx = crate::write_tx(&self.conn)?;
        let recorded_at = now_text();
        let mut added = 0;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO findings (id, campaign_id, detector, subject, observed_at, recorded_at, finding)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for finding in findings {
                let mut finding = finding.clone();
                finding.campaign = Some(found.name.clone());
                let json = serde_json::to_string(&finding).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                added += insert.execute(params![
                    finding.id,
                    found.id,
                    finding.detector,
                    subject_key(&finding.subject),
                    finding.observed_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    recorded_at,
                    json
                ])?;
            }
        }
        let mut detectors: Vec<&str> = findings.iter().map(|f| f.detector.as_str()).collect();
        detectors.sort_unstable();
        detectors.dedup();
        let detail = serde_json::json!({ "new": added, "given": findings.len(), "detectors": detectors }).to_string();
        audit::append(&tx, who, "findings.record", &found.name, &detail)?;
        tx.commit()?;
        Ok(added)
    }

    /// A campaign's findings, oldest first (ties by id, so the order is stable).
    pub fn findings(&self, campaign: &str) -> Result<Vec<Finding>, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let mut stmt =
            self.conn.prepare("SELECT finding FROM findings WHERE campaign_id = ?1 ORDER BY observed_at, id")?;
        let rows = stmt.query_map([&found.id], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row?;
            out.push(serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use takedown_model::{Campaign, Evidence, Tlp};

    fn finding(id: &str, path: &str) -> Finding {
        Finding {
            id: id.into(),
            campaign: None,
            subject: Subject::File { host: Some("ws-01".into()), path: path.into(), sha256: None },
            indicator: None,
            detector: "sweep.hash".into(),
            summary: "a WannaCry sample".into(),
            evidence: vec![Evidence::Note { text: "test".into() }],
            observed_at: chrono::Utc::now(),
            tlp: None,
        }
    }

    #[test]
    fn findings_are_kept_once_and_read_back() -> Result<(), StoreError> {
        let store = Store::open_in_memory()?;
        let campaign = Campaign {
            id: "grouping--5f1c3c8e-9f0b-4f5e-8a55-6b8f7f3b2a10".into(),
            name: "wannacry".into(),
            actor: Some("ZINC".into()),
            description: None,
            tlp: Tlp::Amber,
            created: chrono::Utc::now(),
        };
        store.create_campaign(&campaign, "alice")?;
        let batch = [finding("sighting--1", "/a"), finding("sighting--2", "/b")];
        assert_eq!(store.record_findings("wannacry", &batch, "alice")?, 2);
        // The same findings again (a second run of the same sweep): nothing new.
        assert_eq!(store.record_findings("wannacry", &batch, "alice")?, 0);
        let back = store.findings("wannacry")?;
        assert_eq!(back.len(), 2);
        assert!(back.iter().all(|f| f.campaign.as_deref() == Some("wannacry")));
        assert!(matches!(store.record_findings("nope", &batch, "alice"), Err(StoreError::NoCampaign(_))));
        assert!(store.verify_audit()?.first_broken.is_none());
        Ok(())
    }
}
