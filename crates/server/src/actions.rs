//! Actions over REST (and for the dashboard's Approve button): approve, run, undo
//! or abandon one action of a campaign, through takedown-act's own functions, so that the
//! two-person rule and the lifecycle are the CLI's exactly.
//!
//! Only the owner organisation of a campaign acts on its actions, with a token of
//! role approver or admin. A server runs only connectors that touch nothing outside
//! it: the file outbox for notices, the dry-run directory for accounts, and the
//! blocklist's bookkeeping. What needs the swept host (the quarantine vault) or a
//! probe from it (harden) is answered 501, pointing at the CLI.

use crate::auth::{require, Writer};
use crate::body::Bounded;
use crate::error::ApiError;
use crate::rest::visible_campaign;
use crate::AppState;
use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::path::PathBuf;
use takedown_act::plan::Policy;
use takedown_act::run::{Connectors, Outcome};
use takedown_act::ActError;
use takedown_app::connectors::{Accounts, ConnectorConfig, Notices};
use takedown_model::{Action, ActionKind};
use takedown_store::{kind_str, Principal, Role, Store, StoredAction};

/// What the server's runs may write to. Without an outbox, notices and account
/// changes are not run here (501).
#[derive(Debug, Clone)]
pub struct ActConfig {
    /// Notices are written here as .eml files; account changes as
    /// `accounts-dry-run.jsonl` requests.
    pub outbox: Option<PathBuf>,
    /// The From address and the signature of notices.
    pub from: String,
    pub organisation: String,
}

impl Default for ActConfig {
    fn default() -> ActConfig {
        ActConfig { outbox: None, from: "security@example.org".into(), organisation: "The security team".into() }
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/campaigns/{name}/actions/{id}/approve", post(approve_route))
        .route("/api/v1/campaigns/{name}/actions/{id}/run", post(run_route))
        .route("/api/v1/campaigns/{name}/actions/{id}/undo", post(undo_route))
        .route("/api/v1/campaigns/{name}/actions/{id}/abandon", post(abandon_route))
}

/// The action `id` of campaign `name`, if `p` may act on it: 403 for a role below
/// approver or an organisation other than the campaign's owner, 404 for a campaign
/// it cannot see or an action not in it.
pub(crate) fn actable(store: &Store, p: &Principal, name: &str, id: &str) -> Result<StoredAction, ApiError> {
    require(p, Role::Approver)?;
    let access = store.access(&p.org)?;
    let (c, owner) = visible_campaign(store, &access, name)?;
    if owner.as_deref() != Some(p.org.as_str()) {
        return Err(ApiError::ForbiddenBecause(format!(
            "only the organisation that owns campaign {name:?} acts on its actions; {} does not",
            p.org
        )));
    }
    // The whole id: a prefix that happens to be unique today may not be tomorrow.
    match store.action(id) {
        Ok(Some(s)) if s.action.id == id && s.action.campaign == c.name => Ok(s),
        Ok(_) | Err(takedown_store::StoreError::Corrupt(_)) => Err(ApiError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Approves under the two-person rule, as `takedown approve` does; the audit event
/// names the token's user.
pub(crate) fn approve(store: &Store, p: &Principal, name: &str, id: &str) -> Result<StoredAction, ApiError> {
    let s = actable(store, p, name, id)?;
    Ok(takedown_act::plan::approve(store, &s.action.id, &p.user, Policy::default())?)
}

/// Gives up an action a run left running, as `takedown abandon` does. The reason is
/// looked at only once `p` may act on the action, so that who may not learns no more.
pub(crate) fn abandon(
    store: &Store,
    p: &Principal,
    name: &str,
    id: &str,
    reason: Result<String, ApiError>,
) -> Result<Outcome, ApiError> {
    let s = actable(store, p, name, id)?;
    Ok(takedown_act::run::abandon(store, &s.action.id, &p.user, &reason?)?)
}

/// Why a kind is not run (or undone) on this server, if it is not.
fn not_here(kind: ActionKind, config: &ActConfig) -> Option<String> {
    match kind {
        ActionKind::Quarantine | ActionKind::Restore => Some(
            "quarantine acts on the swept host's files and vault: run it there with `takedown run --campaign NAME`"
                .into(),
        ),
        ActionKind::CleanRegistry => Some(
            "clean-registry edits the swept host's registry hive and saves it in its vault: run it there with              `takedown run --campaign NAME`"
                .into(),
        ),
        ActionKind::Harden => Some(
            "harden probes the host over SMB from where takedown runs: use `takedown run --campaign NAME` on a host \
             that reaches it"
                .into(),
        ),
        ActionKind::Notify | ActionKind::DisableAccount if config.outbox.is_none() => Some(format!(
            "this server has no outbox for {} actions: start it with `takedown serve --outbox DIR` (notices are \
             written as .eml files, account changes as dry-run requests), or use `takedown run` with --smtp / --scim",
            kind_str(kind)
        )),
        _ => None,
    }
}

/// Runs `f` with the connectors this server may use: the outbox for notices and
/// dry-run account changes, nothing else, one attempt each (a request waits for it).
fn with_connectors<T>(
    store: &Store,
    campaign: &str,
    config: &ActConfig,
    f: impl FnOnce(&Connectors<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let connectors = ConnectorConfig {
        accounts: config.outbox.clone().map(Accounts::DryRun),
        notices: config.outbox.clone().map(Notices::Outbox),
        vault: None,
        from: config.from.clone(),
        organisation: config.organisation.clone(),
        attempts: 1,
    };
    let built = takedown_app::connectors::build(&connectors, store, Some(campaign), "")?;
    f(&built.connectors())
}

/// What a route does with an action it may act on: carry it out, or undo it.
type Op = fn(&Store, &Action, &str, &Connectors<'_>) -> Result<Outcome, ActError>;

fn undo_action(store: &Store, a: &Action, who: &str, c: &Connectors<'_>) -> Result<Outcome, ActError> {
    takedown_act::run::undo(store, &a.id, who, c)
}

/// Checks the principal may act on the action and this server has its connector,
/// then does `op` with the server's connectors.
fn carry_out(
    store: &Store,
    p: &Principal,
    config: &ActConfig,
    name: &str,
    id: &str,
    op: Op,
) -> Result<Outcome, ApiError> {
    let s = actable(store, p, name, id)?;
    if let Some(why) = not_here(s.action.kind, config) {
        return Err(ApiError::NotImplemented(why));
    }
    let campaign = s.action.campaign.clone();
    with_connectors(store, &campaign, config, |c| Ok(op(store, &s.action, &p.user, c)?))
}

fn action_json(s: &StoredAction) -> Value {
    serde_json::to_value(&s.action).unwrap_or(Value::Null)
}

async fn approve_route(
    State(state): State<AppState>,
    Writer(p): Writer,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    state.with(move |store| Ok(Json(json!({ "action": action_json(&approve(store, &p, &name, &id)?) })))).await
}

async fn run_route(
    State(state): State<AppState>,
    Writer(p): Writer,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    outcome_route(state, p, name, id, takedown_act::run::run_one).await
}

async fn undo_route(
    State(state): State<AppState>,
    Writer(p): Writer,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    outcome_route(state, p, name, id, undo_action).await
}

/// Gives up an action that a run left `running` and will not finish, as `takedown
/// abandon` does; the body says why, for the audit trail: `{"reason": "…"}`.
async fn abandon_route(
    State(state): State<AppState>,
    Writer(p): Writer,
    Path((name, id)): Path<(String, String)>,
    Bounded(body): Bounded,
) -> Result<Json<Value>, ApiError> {
    let reason = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("reason")?.as_str().map(|r| r.trim().to_string()))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest(
                "send a JSON body {\"reason\": \"…\"}: why the action is given up, for the audit trail".into(),
            )
        });
    state.with(move |store| Ok(Json(json!({ "outcome": abandon(store, &p, &name, &id, reason)? })))).await
}

async fn outcome_route(
    state: AppState,
    p: Principal,
    name: String,
    id: String,
    op: Op,
) -> Result<Json<Value>, ApiError> {
    let config = state.act.clone();
    state
        .with(move |store| {
            let outcome = carry_out(store, &p, &config, &name, &id, op)?;
            Ok(Json(json!({ "outcome": outcome })))
        })
        .await
}
