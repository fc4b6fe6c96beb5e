//! Actions from a campaign's findings: planned and filed as proposals, which then
//! wait for approval (`takedown_act::plan::approve`) and run through connectors
//! (`takedown_act::run`).

use crate::AppError;
use takedown_model::Action;
use takedown_store::Store;

/// What planning proposed.
#[derive(Debug)]
pub struct Planned {
    /// Every action the findings call for.
    pub actions: Vec<Action>,
    /// How many findings they came from.
    pub findings: usize,
    /// The ids of the actions that were not proposed before.
    pub new: Vec<String>,
}

/// Plans the actions a campaign's findings call for and files them as proposals by
/// `user`; actions proposed before are not proposed again.
pub fn plan(store: &Store, campaign: &str, user: &str) -> Result<Planned, AppError> {
    let findings = store.findings(campaign)?;
    let actions = takedown_act::plan::plan(campaign, &findings, user);
    let new = store.propose_actions(campaign, &actions, user)?;
    Ok(Planned { actions, findings: findings.len(), new })
}
