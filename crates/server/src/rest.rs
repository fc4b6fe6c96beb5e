//! REST under `/api/v1`: campaigns with their findings, actions and audit trail,
//! intel, and a STIX export; each read filtered by the same TLP rule as TAXII.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use takedown_model::{Campaign, Tlp};
use takedown_store::{Access, ObjectFilter, Store};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(|| async { Json(crate::openapi::document()) }))
        .route("/api/v1/campaigns", get(campaigns))
        .route("/api/v1/campaigns/{name}", get(campaign))
        .route("/api/v1/campaigns/{name}/findings", get(findings))
        .route("/api/v1/campaigns/{name}/actions", get(actions))
        .route("/api/v1/campaigns/{name}/audit", get(audit))
        .route("/api/v1/intel", get(intel))
        .route("/api/v1/intel/{id}", get(intel_object))
        .route("/api/v1/export", get(export))
}

/// A campaign as REST shows it.
pub(crate) fn campaign_json(c: &Campaign, owner: Option<&str>) -> Value {
    json!({
        "id": c.id, "name": c.name, "actor": c.actor, "description": c.description,
        "tlp": c.tlp.as_str(), "created": c.created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "owner": owner,
    })
}

/// The campaigns `access` may see, with their owners, by name.
pub(crate) fn visible_campaigns(store: &Store, access: &Access) -> Result<Vec<(Campaign, Option<String>)>, ApiError> {
    let mut out = Vec::new();
    for c in store.campaigns()? {
        let owner = store.campaign_owner(&c.id)?;
        if access.campaign_item(&c.id, owner.as_deref(), &c.id, c.tlp) {
            out.push((c, owner));
        }
    }
    Ok(out)
}

/// One campaign, or 404 whether it is missing or hidden (so that its existence
/// does not leak either).
pub(crate) fn visible_campaign(
    store: &Store,
    access: &Access,
    name: &str,
) -> Result<(Campaign, Option<String>), ApiError> {
    visible_campaigns(store, access)?.into_iter().find(|(c, _)| c.name == name).ok_or(ApiError::NotFound)
}

/// The campaign's findings the viewer may see: unmarked ones take the campaign's level.
pub(crate) fn visible_findings(
    store: &Store,
    access: &Access,
    c: &Campaign,
    owner: Option<&str>,
) -> Result<Vec<takedown_model::Finding>, ApiError> {
    Ok(store
        .findings(&c.name)?
        .into_iter()
        .filter(|f| access.campaign_item(&c.id, owner, &f.id, f.tlp.unwrap_or(c.tlp)))
        .collect())
}

/// The audit events about a campaign: those naming it, its id, one of its actions
/// or one of its notices.
pub(crate) fn campaign_audit(store: &Store, c: &Campaign) -> Result<Vec<takedown_model::AuditEvent>, ApiError> {
    let mut objects: std::collections::BTreeSet<String> =
        store.actions(&c.name).map(|a| a.into_iter().map(|a| a.action.id).collect()).unwrap_or_default();
    objects.extend(store.notices(&c.name).map(|n| n.into_iter().map(|n| n.idempotency_key)).into_iter().flatten());
    Ok(store
        .audit_events()?
        .into_iter()
        .filter(|e| e.object == c.name || e.detail.contains(&c.id) || objects.contains(&e.object))
        .collect())
}

async fn campaigns(State(state): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    state
        .with(move |store| {
            let access = store.access(&p.org)?;
            let list: Vec<Value> =
                visible_campaigns(store, &access)?.iter().map(|(c, o)| campaign_json(c, o.as_deref())).collect();
            Ok(Json(json!({ "campaigns": list })))
        })
        .await
}

/// What the campaign routes share: the token's organisation, the campaign it may see
/// (404 otherwise), and `read` on the store off the async threads.
async fn on_campaign(
    state: AppState,
    p: takedown_store::Principal,
    name: String,
    read: impl FnOnce(&Store, &Access, Campaign, Option<String>) -> Result<Value, ApiError> + Send + 'static,
) -> Result<Json<Value>, ApiError> {
    state
        .with(move |store| {
            let access = store.access(&p.org)?;
            let (c, owner) = visible_campaign(store, &access, &name)?;
            read(store, &access, c, owner).map(Json)
        })
        .await
}

async fn campaign(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    on_campaign(state, p, name, |_, _, c, owner| Ok(campaign_json(&c, owner.as_deref()))).await
}

async fn findings(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    on_campaign(state, p, name, |store, access, c, owner| {
        Ok(json!({ "findings": visible_findings(store, access, &c, owner.as_deref())? }))
    })
    .await
}

async fn actions(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    on_campaign(state, p, name, |store, access, c, owner| {
        // Actions carry the campaign's level: they are its decisions.
        let list: Vec<Value> = store
            .actions(&c.name)?
            .into_iter()
            .filter(|a| access.campaign_item(&c.id, owner.as_deref(), &a.action.id, c.tlp))
            .map(|a| serde_json::to_value(&a.action).unwrap_or(Value::Null))
            .collect();
        Ok(json!({ "actions": list }))
    })
    .await
}

async fn audit(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    on_campaign(state, p, name, |store, _, c, _| {
        let events: Vec<Value> = campaign_audit(store, &c)?
            .into_iter()
            .map(|e| {
                json!({
                    "seq": e.seq, "at": e.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "actor": e.actor, "verb": e.verb, "object": e.object, "hash": e.hash,
                })
            })
            .collect();
        Ok(json!({ "events": events }))
    })
    .await
}

/// `type`, `limit` and `after`, read by hand so that a bad value is this server's
/// 400 (JSON, with what to fix) rather than the framework's plain text.
struct IntelQuery {
    type_: Option<String>,
    limit: usize,
    after: i64,
}

fn intel_query(pairs: &[(String, String)]) -> Result<IntelQuery, ApiError> {
    let mut q = IntelQuery { type_: None, limit: 100, after: 0 };
    for (key, value) in pairs {
        match key.as_str() {
            "type" => q.type_ = Some(value.clone()),
            "limit" => {
                q.limit = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| ApiError::BadRequest(format!("limit {value:?}: give a whole number 1..=1000")))?
            }
            "after" => {
                q.after =
                    value.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                        ApiError::BadRequest(format!("after {value:?}: give the `next` of the last page"))
                    })?
            }
            _ => {}
        }
    }
    Ok(q)
}

async fn intel(
    State(state): State<AppState>,
    Caller(p): Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let q = intel_query(&pairs)?;
    let (limit, after) = (q.limit, q.after);
    state
        .with(move |store| {
            let access = store.access(&p.org)?;
            let filter = ObjectFilter { types: q.type_.into_iter().collect(), ..Default::default() };
            let (rows, more) = store.visible_versions(&access, &filter, after, limit)?;
            let next = if more { rows.last().map(|r| r.row) } else { None };
            let objects: Vec<Value> = rows
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id, "type": r.type_, "tlp": r.tlp.map(Tlp::as_str), "owner": r.org,
                        "date_added": r.date_added, "object": serde_json::from_str::<Value>(&r.json).unwrap_or(Value::Null),
                    })
                })
                .collect();
            Ok(Json(json!({ "objects": objects, "next": next })))
        })
        .await
}

async fn intel_object(
    State(state): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .with(move |store| {
            let access = store.access(&p.org)?;
            let row = store.visible_object(&access, &id)?.ok_or(ApiError::NotFound)?;
            serde_json::from_str(&row.json).map(Json).map_err(|e| ApiError::Internal(e.to_string()))
        })
        .await
}

/// Every object the organisation may see, as one STIX 2.1 bundle.
async fn export(State(state): State<AppState>, Caller(p): Caller) -> Result<Json<Value>, ApiError> {
    state
        .with(move |store| {
            let access = store.access(&p.org)?;
            let mut objects = Vec::new();
            let mut after = 0;
            loop {
                let (rows, more) = store.visible_versions(&access, &ObjectFilter::default(), after, 1000)?;
                after = rows.last().map(|r| r.row).unwrap_or(after);
                objects.extend(rows.iter().filter_map(|r| serde_json::from_str::<Value>(&r.json).ok()));
                if !more {
                    break;
                }
            }
            Ok(Json(json!({
                "type": "bundle",
                "id": format!("bundle--{}", uuid::Uuid::new_v4()),
                "objects": objects,
            })))
        })
        .await
}
