//! Remedies, and the one lifecycle every remedy follows.

use crate::{Subject, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    Quarantine,
    Restore,
    DisableAccount,
    Notify,
    Harden,
    Block,
    /// Remove a group's entries (services, Run values, keys) from a registry hive.
    CleanRegistry,
}

impl ActionKind {
    /// Destructive actions change something a person relies on; with the two-person
    /// policy they need an approver other than their proposer.
    pub fn is_destructive(self) -> bool {
        matches!(self, ActionKind::Quarantine | ActionKind::DisableAccount | ActionKind::CleanRegistry)
    }
}

/// proposed → approved → running → done / failed → verified → undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionState {
    Proposed,
    Approved,
    Running,
    Done,
    Failed,
    Verified,
    Undone,
}

impl ActionState {
    /// The transitions the lifecycle allows. A failed action may be approved again
    /// (a retry is a new decision); only done or verified actions can be undone.
    pub fn can_become(self, next: ActionState) -> bool {
        use ActionState::*;
        matches!(
            (self, next),
            (Proposed, Approved)
                | (Approved, Running)
                | (Running, Done)
                | (Running, Failed)
                | (Failed, Approved)
                | (Done, Verified)
                | (Done, Undone)
                | (Verified, Undone)
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Proposed => "proposed",
            ActionState::Approved => "approved",
            ActionState::Running => "running",
            ActionState::Done => "done",
            ActionState::Failed => "failed",
            ActionState::Verified => "verified",
            ActionState::Undone => "undone",
        }
    }
}

impl fmt::Display for ActionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A remedy for one subject, within one campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// A STIX `course-of-action--` id.
    pub id: String,
    pub campaign: String,
    pub kind: ActionKind,
    pub target: Subject,
    pub state: ActionState,
    pub proposed_by: String,
    pub approved_by: Option<String>,
    /// Why: the findings that led to it, in words.
    pub reason: String,
    /// The findings this action answers (STIX `sighting--` ids).
    pub findings: Vec<String>,
    pub created: Timestamp,
    pub updated: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionState::*;

    #[test]
    fn lifecycle_is_one_way_except_retry_and_undo() {
        assert!(Proposed.can_become(Approved));
        assert!(Failed.can_become(Approved));
        assert!(Verified.can_become(Undone));
        assert!(!Undone.can_become(Done));
        assert!(!Proposed.can_become(Done));
        assert!(!Approved.can_become(Verified));
    }

    #[test]
    fn only_disable_and_quarantine_are_destructive() {
        assert!(ActionKind::DisableAccount.is_destructive());
        assert!(!ActionKind::Notify.is_destructive());
    }
}
