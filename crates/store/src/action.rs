//! Actions of a campaign and their lifecycle, and the notices sent to people.
//!
//! Every change of state is written in one transaction together with its audit
//! event, and only along the lifecycle `ActionState::can_become` allows, so that a
//! second process (or a retry) that read an older state cannot move an action twice.

use crate::finding::subject_key;
use crate::{audit, now_text, write_tx, Store, StoreError};
use rusqlite::{params, OptionalExtension, Row};
use sha2::{Digest, Sha256};
use takedown_model::{Action, ActionKind, ActionState};

/// An action as stored: the model's fields and what its connector recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAction {
    pub action: Action,
    /// JSON a connector left for verify and undo (an ETag, a vault item id, ...).
    pub result: Option<serde_json::Value>,
}

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Notice {
    pub idempotency_key: String,
    pub campaign: String,
    pub person: String,
    pub email: String,
    pub action_id: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: u32,
    pub message_id: Option<String>,
    pub last_result: Option<String>,
}

/// The one key that names the notice of a person within a campaign.
pub fn notice_key(campaign_id: &str, person: &str) -> String {
    let mut h = Sha256::new();
    h.update(campaign_id.as_bytes());
    h.update([0]);
    h.update(person.as_bytes());
    hex::encode(h.finalize())
}

pub fn kind_str(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Quarantine => "quarantine",
        ActionKind::Restore => "restore",
        ActionKind::DisableAccount => "disable-account",
        ActionKind::Notify => "notify",
        ActionKind::Harden => "harden",
        ActionKind::Block => "block",
        ActionKind::CleanRegistry => "clean-registry",
    }
}

fn parse_kind(s: &str) -> Result<ActionKind, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| StoreError::Corrupt(format!("unknown action kind {s:?}")))
}

fn parse_state(s: &str) -> Result<ActionState, StoreError> {
    serde_json::from_value(serde_json::Value::String(s.into()))
        .map_err(|_| StoreError::Corrupt(format!("unknown action state {s:?}")))
}

fn time(text: &str) -> takedown_model::Timestamp {
    chrono::DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).unwrap_or_default()
}

const ACTION_COLUMNS: &str = "a.id, c.name, a.kind, a.target, a.state, a.proposed_by, a.approved_by, a.reason, \
     a.findings, a.result, a.created, a.updated";

type RawAction =
    (String, String, String, String, String, String, Option<String>, String, String, Option<String>, String, String);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawAction> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
        r.get(11)?,
    ))
}

fn cook(raw: RawAction) -> Result<StoredAction, StoreError> {
    let (id, campaign, kind, target, state, proposed_by, approved_by, reason, findings, result, created, updated) = raw;
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("action {id}: {e}"));
    let action = Action {
        kind: parse_kind(&kind)?,
        target: serde_json::from_str(&target).map_err(corrupt)?,
        state: parse_state(&state)?,
        proposed_by,
        approved_by,
        reason,
        findings: serde_json::from_str(&findings).map_err(corrupt)?,
        created: time(&created),
        updated: time(&updated),
        campaign,
        id: id.clone(),
    };
    let result = match result {
        Some(text) => Some(serde_json::from_str(&text).map_err(corrupt)?),
        None => None,
    };
    Ok(StoredAction { action, result })
}

/// A change of state asked of [`Store::move_action`].
#[derive(Debug, Clone)]
pub struct Transition<'a> {
    pub to: ActionState,
    pub who: &'a str,
    /// Set the approver (for `approved`).
    pub approver: Option<&'a str>,
    /// Replace the connector's result (for `done`, `failed`, `verified`, `undone`).
    pub result: Option<serde_json::Value>,
    /// What the audit event says beside the states.
    pub detail: serde_json::Value,
}

impl Store {
    /// Stores proposed actions for the campaign named. An action for a kind and
    /// target the campaign already has is left as it is; returns the ones that were
    /// new. Each new action is an `action.propose` audit event.
    pub fn propose_actions(&self, campaign: &str, actions: &[Action], who: &str) -> Result<Vec<String>, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let tx = write_tx(&self.conn)?;
        let now = now_text();
        let mut added = Vec::new();
        for a in actions {
            let target = serde_json::to_string(&a.target).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let findings = serde_json::to_string(&a.findings).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let n = tx.execute(
                "INSERT OR IGNORE INTO actions (id, campaign_id, kind, target_key, target, state, proposed_by, reason, findings, created, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'proposed', ?6, ?7, ?8, ?9, ?9)",
                params![a.id, found.id, kind_str(a.kind), subject_key(&a.target), target, who, a.reason, findings, now],
            )?;
            if n == 1 {
                let detail = serde_json::json!({ "kind": a.kind, "target": subject_key(&a.target), "campaign": found.name, "reason": a.reason });
                audit::append(&tx, who, "action.propose", &a.id, &detail.to_string())?;
                added.push(a.id.clone());
            }
        }
        tx.commit()?;
        Ok(added)
    }

    /// The campaign's actions, by kind then target.
    pub fn actions(&self, campaign: &str) -> Result<Vec<StoredAction>, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN campaigns c ON c.id = a.campaign_id
             WHERE a.campaign_id = ?1 ORDER BY a.kind, a.target_key, a.id"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([&found.id], raw)?.collect::<Result<Vec<_>, _>>()?;
        rows.into_iter().map(cook).collect()
    }

    /// One action by id (or by a unique prefix of its id).
    pub fn action(&self, id: &str) -> Result<Option<StoredAction>, StoreError> {
        let sql = format!(
            "SELECT {ACTION_COLUMNS} FROM actions a JOIN campaigns c ON c.id = a.campaign_id
             WHERE a.id = ?1 OR a.id LIKE ?2 ESCAPE '\\' ORDER BY a.id LIMIT 2"
        );
        let escaped = id.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(params![id, format!("{escaped}%")], raw)?.collect::<Result<Vec<_>, _>>()?;
        match rows.len() {
            0 => Ok(None),
            1 => rows.into_iter().next().map(cook).transpose(),
            _ => {
                // An exact match wins over a prefix shared with others.
                match rows.into_iter().find(|r| r.0 == id) {
                    Some(r) => cook(r).map(Some),
                    None => Err(StoreError::Corrupt(format!("{id:?} names more than one action; give more of the id"))),
                }
            }
        }
    }

    /// Moves an action to its next state, if the lifecycle allows it from the state
    /// it is in now, with one audit event `action.<state>` in the same transaction.
    pub fn move_action(&self, id: &str, t: Transition<'_>) -> Result<StoredAction, StoreError> {
        let tx = write_tx(&self.conn)?;
        let current: Option<String> =
            tx.query_row("SELECT state FROM actions WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let Some(current) = current else {
            return Err(StoreError::NoAction(id.to_string()));
        };
        let from = parse_state(&current)?;
        if !from.can_become(t.to) {
            return Err(StoreError::BadTransition { id: id.to_string(), from: from.as_str(), to: t.to.as_str() });
        }
        let now = now_text();
        let result = t.result.as_ref().map(|v| v.to_string());
        tx.execute(
            "UPDATE actions SET state = ?2, updated = ?3,
                approved_by = COALESCE(?4, approved_by), result = COALESCE(?5, result)
             WHERE id = ?1",
            params![id, t.to.as_str(), now, t.approver, result],
        )?;
        let detail = serde_json::json!({ "from": from, "to": t.to, "approver": t.approver, "detail": t.detail });
        audit::append(&tx, t.who, &format!("action.{}", t.to.as_str()), id, &detail.to_string())?;
        tx.commit()?;
        self.action(id)?.ok_or_else(|| StoreError::NoAction(id.to_string()))
    }

    /// Replaces an action's result without changing its state (a check of it that
    /// did not hold), with one audit event `verb` in the same transaction.
    pub fn record_action_result(
        &self,
        id: &str,
        who: &str,
        verb: &str,
        result: &serde_json::Value,
        detail: &serde_json::Value,
    ) -> Result<StoredAction, StoreError> {
        let tx = write_tx(&self.conn)?;
        let n = tx.execute(
            "UPDATE actions SET result = ?2, updated = ?3 WHERE id = ?1",
            params![id, result.to_string(), now_text()],
        )?;
        if n == 0 {
            return Err(StoreError::NoAction(id.to_string()));
        }
        audit::append(&tx, who, verb, id, &detail.to_string())?;
        tx.commit()?;
        self.action(id)?.ok_or_else(|| StoreError::NoAction(id.to_string()))
    }

    /// The notice for a person in a campaign, creating it as `pending` if there is
    /// none yet. The key is the same however often this is called.
    pub fn claim_notice(
        &self,
        campaign: &str,
        person: &str,
        email: &str,
        action_id: Option<&str>,
        who: &str,
    ) -> Result<Notice, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let key = notice_key(&found.id, person);
        let tx = write_tx(&self.conn)?;
        let now = now_text();
        let n = tx.execute(
            "INSERT OR IGNORE INTO notices (idempotency_key, campaign_id, person, email, action_id, state, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
            params![key, found.id, person, email, action_id, now],
        )?;
        if n == 1 {
            let detail = serde_json::json!({ "campaign": found.name, "person": person, "email": email });
            audit::append(&tx, who, "notice.create", &key, &detail.to_string())?;
        }
        tx.commit()?;
        self.notice(&key)?.ok_or_else(|| StoreError::Corrupt(format!("notice {key} vanished")))
    }

    pub fn notice(&self, key: &str) -> Result<Option<Notice>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT n.idempotency_key, c.name, n.person, n.email, n.action_id, n.state, n.attempts, n.message_id, n.last_result
                 FROM notices n JOIN campaigns c ON c.id = n.campaign_id WHERE n.idempotency_key = ?1",
                [key],
                notice_row,
            )
            .optional()?)
    }

    /// A campaign's notices, by person.
    pub fn notices(&self, campaign: &str) -> Result<Vec<Notice>, StoreError> {
        let Some(found) = self.campaign(campaign)? else {
            return Err(StoreError::NoCampaign(campaign.to_string()));
        };
        let mut stmt = self.conn.prepare(
            "SELECT n.idempotency_key, c.name, n.person, n.email, n.action_id, n.state, n.attempts, n.message_id, n.last_result
             FROM notices n JOIN campaigns c ON c.id = n.campaign_id WHERE n.campaign_id = ?1 ORDER BY n.person",
        )?;
        let rows = stmt.query_map([&found.id], notice_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records one delivery attempt and its answer. A successful attempt marks the
    /// notice sent; a notice already sent is never changed again (returns false).
    pub fn record_delivery(
        &self,
        key: &str,
        ok: bool,
        detail: &str,
        message_id: Option<&str>,
        final_failure: bool,
        who: &str,
    ) -> Result<bool, StoreError> {
        let tx = write_tx(&self.conn)?;
        let row: Option<(String, u32)> = tx
            .query_row("SELECT state, attempts FROM notices WHERE idempotency_key = ?1", [key], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((state, attempts)) = row else {
            return Err(StoreError::Corrupt(format!("no notice with key {key}")));
        };
        if state == "sent" {
            return Ok(false);
        }
        let attempt = attempts + 1;
        let now = now_text();
        tx.execute(
            "INSERT INTO notice_deliveries (idempotency_key, attempt, at, ok, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, attempt, now, ok, detail],
        )?;
        let new_state = if ok {
            "sent"
        } else if final_failure {
            "failed"
        } else {
            "pending"
        };
        tx.execute(
            "UPDATE notices SET attempts = ?2, state = ?3, last_result = ?4, message_id = COALESCE(?5, message_id), updated = ?6
             WHERE idempotency_key = ?1",
            params![key, attempt, new_state, detail, message_id, now],
        )?;
        let verb = if ok { "notice.sent" } else { "notice.attempt-failed" };
        let audit_detail = serde_json::json!({ "attempt": attempt, "detail": detail, "message_id": message_id });
        audit::append(&tx, who, verb, key, &audit_detail.to_string())?;
        tx.commit()?;
        Ok(true)
    }

    /// The delivery attempts of a notice, in order: (attempt, at, ok, detail).
    pub fn deliveries(&self, key: &str) -> Result<Vec<(u32, String, bool, String)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT attempt, at, ok, detail FROM notice_deliveries WHERE idempotency_key = ?1 ORDER BY attempt",
        )?;
        let rows = stmt.query_map([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn notice_row(r: &Row<'_>) -> rusqlite::Result<Notice> {
    Ok(Notice {
        idempotency_key: r.get(0)?,
        campaign: r.get(1)?,
        person: r.get(2)?,
        email: r.get(3)?,
        action_id: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        message_id: r.get(7)?,
        last_result: r.get(8)?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use takedown_model::{Campaign, Subject, Tlp};

    /// A store holding the campaign zinc (id `grouping--zinc`), created by alice.
    pub(crate) fn store() -> Store {
        let s = Store::open_in_memory().unwrap();
        s.create_campaign(&campaign("zinc"), "alice").unwrap();
        s
    }

    /// A campaign named `name`, AMBER, with the id `grouping--<name>`.
    pub(crate) fn campaign(name: &str) -> Campaign {
        let id = format!("grouping--{name}");
        Campaign { id, name: name.into(), actor: None, description: None, tlp: Tlp::Amber, created: chrono::Utc::now() }
    }

    fn action(id: &str) -> Action {
        Action {
            id: id.into(),
            campaign: "zinc".into(),
            kind: ActionKind::DisableAccount,
            target: Subject::Account { platform: Some("scim".into()), id: "u1".into() },
            state: ActionState::Proposed,
            proposed_by: "alice".into(),
            approved_by: None,
            reason: "judged fake".into(),
            findings: vec!["sighting--1".into()],
            created: chrono::Utc::now(),
            updated: chrono::Utc::now(),
        }
    }

    fn to(state: ActionState, who: &str) -> Transition<'_> {
        Transition { to: state, who, approver: None, result: None, detail: serde_json::Value::Null }
    }

    #[test]
    fn lifecycle_is_kept_and_audited() {
        let s = store();
        assert_eq!(s.propose_actions("zinc", &[action("course-of-action--a")], "alice").unwrap().len(), 1);
        // Planning again proposes nothing new, even under another id.
        assert!(s.propose_actions("zinc", &[action("course-of-action--b")], "alice").unwrap().is_empty());
        let err = s.move_action("course-of-action--a", to(ActionState::Done, "bob")).unwrap_err();
        assert!(matches!(err, StoreError::BadTransition { .. }), "{err}");
        let t = Transition { approver: Some("bob"), ..to(ActionState::Approved, "bob") };
        let a = s.move_action("course-of-action--a", t).unwrap();
        assert_eq!(a.action.approved_by.as_deref(), Some("bob"));
        s.move_action("course-of-action--a", to(ActionState::Running, "bob")).unwrap();
        let t = Transition { result: Some(serde_json::json!({"etag": "W/\"1\""})), ..to(ActionState::Done, "bob") };
        let a = s.move_action("course-of-action--a", t).unwrap();
        assert_eq!(a.result.unwrap()["etag"], "W/\"1\"");
        assert_eq!(s.action("course-of-action--").unwrap().unwrap().action.state, ActionState::Done);
        let verbs: Vec<String> = s.audit_events().unwrap().into_iter().map(|e| e.verb).collect();
        assert_eq!(verbs, ["campaign.create", "action.propose", "action.approved", "action.running", "action.done"]);
        assert!(s.verify_audit().unwrap().first_broken.is_none());
    }

    #[test]
    fn one_notice_per_person_and_campaign() {
        let s = store();
        let a = s.claim_notice("zinc", "p1", "p1@example.org", None, "alice").unwrap();
        let b = s.claim_notice("zinc", "p1", "p1@example.org", None, "alice").unwrap();
        assert_eq!(a.idempotency_key, b.idempotency_key);
        assert!(s.record_delivery(&a.idempotency_key, false, "421 try later", None, false, "alice").unwrap());
        assert!(s.record_delivery(&a.idempotency_key, true, "250 ok", Some("<m1@x>"), false, "alice").unwrap());
        // Once sent, a notice is never sent (or recorded) again.
        assert!(!s.record_delivery(&a.idempotency_key, true, "250 ok", Some("<m2@x>"), false, "alice").unwrap());
        let n = s.notice(&a.idempotency_key).unwrap().unwrap();
        assert_eq!((n.state.as_str(), n.attempts, n.message_id.as_deref()), ("sent", 2, Some("<m1@x>")));
        assert_eq!(s.deliveries(&a.idempotency_key).unwrap().len(), 2);
        assert_eq!(s.notices("zinc").unwrap().len(), 1);
    }
}
