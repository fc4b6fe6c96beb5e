//! TAXII 2.1 (OASIS, 2021): discovery, one API root with one collection of the
//! store's intel, objects with filters and paging, manifest, versions, adding
//! objects with a status resource.

use crate::auth::{require, TaxiiCaller, TaxiiWriter};
use crate::body::{limited, Bounded};
use crate::error::ApiError;
use crate::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use takedown_store::{ImportBatch, ObjectFilter, Principal, Role, VersionRow};

pub const MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";
/// The one collection: every object the reader's organisation may see.
pub const COLLECTION_ID: &str = "365fed99-08fa-fdcd-a1b3-fb247eb41d01";
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;
/// Values one `match[…]` filter takes (over all its repetitions). A client asks for a
/// few types or ids at a time; each value is a term of the store's query, and a
/// thousand of them is past what SQLite parses.
pub const MAX_MATCH_VALUES: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/root/", get(api_root))
        .route("/taxii2/root/status/{status}/", get(status))
        .route("/taxii2/root/collections/", get(collections))
        .route("/taxii2/root/collections/{collection}/", get(collection))
        .route(
            "/taxii2/root/collections/{collection}/objects/",
            get(objects).merge(limited(post(add_objects), crate::MAX_BODY)),
        )
        .route("/taxii2/root/collections/{collection}/objects/{object}/", get(object))
        .route("/taxii2/root/collections/{collection}/objects/{object}/versions/", get(versions))
        .route("/taxii2/root/collections/{collection}/manifest/", get(manifest))
        .layer(middleware::from_fn(media_type))
}

/// TAXII speaks one media type: check what the client accepts before anything else
/// than authentication, and label every answer (errors included) with it.
async fn media_type(request: Request, next: Next) -> Response {
    let accept = request.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("*/*").to_string();
    let authed = request.headers().contains_key(header::AUTHORIZATION);
    let mut response = if authed && !accepts_taxii(&accept) {
        ApiError::NotAcceptable.into_response()
    } else {
        next.run(request).await
    };
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    }
    response
}

fn accepts_taxii(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let mut pieces = part.split(';').map(str::trim);
        let kind = pieces.next().unwrap_or("").to_ascii_lowercase();
        let version = pieces.find_map(|p| p.strip_prefix("version=")).map(str::trim);
        match kind.as_str() {
            "application/taxii+json" => version.is_none_or(|v| v == "2.1"),
            "*/*" | "application/*" => true,
            _ => false,
        }
    })
}

async fn discovery(State(state): State<AppState>, _: TaxiiCaller) -> Result<Json<Value>, ApiError> {
    // The configured URL, never the request's Host: a forged Host must not send a
    // partner's next requests (and token) elsewhere.
    let root = format!("{}/taxii2/root/", state.public_url());
    Ok(Json(json!({
        "title": "takedown",
        "description": "Intel on the threat group and what was found, shared under TLP 2.0",
        "default": root,
        "api_roots": [root],
    })))
}

async fn api_root(_: TaxiiCaller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "title": "takedown intel",
        "versions": [MEDIA_TYPE],
        "max_content_length": crate::MAX_BODY,
    })))
}

fn collection_resource(p: &Principal) -> Value {
    json!({
        "id": COLLECTION_ID,
        "title": "intel",
        "description": "Every STIX object this organisation may see under TLP 2.0",
        "can_read": true,
        "can_write": p.role.allows(Role::Analyst),
        "media_types": [STIX_MEDIA_TYPE],
    })
}

async fn collections(TaxiiCaller(p): TaxiiCaller) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "collections": [collection_resource(&p)] })))
}

fn check_collection(id: &str) -> Result<(), ApiError> {
    if id == COLLECTION_ID {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

async fn collection(TaxiiCaller(p): TaxiiCaller, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    check_collection(&id)?;
    Ok(Json(collection_resource(&p)))
}

/// The query parameters of objects, manifest and versions.
struct Params {
    filter: ObjectFilter,
    spec_versions: Vec<String>,
    limit: usize,
    next: i64,
}

fn params(query: &[(String, String)], object: Option<&str>) -> Result<Params, ApiError> {
    let mut p = Params { filter: ObjectFilter::default(), spec_versions: Vec::new(), limit: DEFAULT_LIMIT, next: 0 };
    for (key, value) in query {
        match key.as_str() {
            "match[type]" => add_values(&mut p.filter.types, key, value)?,
            "match[id]" => add_values(&mut p.filter.ids, key, value)?,
            "match[version]" => add_values(&mut p.filter.versions, key, value)?,
            "match[spec_version]" => add_values(&mut p.spec_versions, key, value)?,
            "added_after" => {
                if chrono::DateTime::parse_from_rfc3339(value).is_err() {
                    return Err(ApiError::BadRequest(format!("added_after {value:?} is not an RFC 3339 timestamp")));
                }
                p.filter.added_after = Some(value.clone());
            }
            "limit" => {
                let n: usize = value
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ApiError::BadRequest(format!("limit {value:?} is not a positive integer")))?;
                p.limit = n.min(MAX_LIMIT);
            }
            "next" => {
                p.next =
                    value.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| {
                        ApiError::BadRequest(format!("next {value:?} is not a value this server gave"))
                    })?;
            }
            _ => {}
        }
    }
    if let Some(id) = object {
        p.filter.ids = vec![id.to_string()];
    }
    Ok(p)
}

/// Adds the comma-separated values of one `match[…]` parameter to `list`, each once;
/// 400 past [`MAX_MATCH_VALUES`].
fn add_values(list: &mut Vec<String>, key: &str, value: &str) -> Result<(), ApiError> {
    for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        if !list.iter().any(|seen| seen == v) {
            if list.len() == MAX_MATCH_VALUES {
                return Err(ApiError::BadRequest(format!(
                    "{key} has more than {MAX_MATCH_VALUES} values: ask for fewer at a time, over several requests"
                )));
            }
            list.push(v.to_string());
        }
    }
    Ok(())
}

/// One page of what the principal may see. Every object served is STIX 2.1, so a
/// spec_version filter either keeps all or none.
async fn page(state: &AppState, p: &Principal, params: Params) -> Result<(Vec<VersionRow>, bool), ApiError> {
    if !params.spec_versions.is_empty() && !params.spec_versions.iter().any(|v| v == "2.1") {
        return Ok((Vec::new(), false));
    }
    let org = p.org.clone();
    state
        .with(move |store| {
            let access = store.access(&org)?;
            Ok(store.visible_versions(&access, &params.filter, params.next, params.limit)?)
        })
        .await
}

fn with_date_headers(rows: &[VersionRow], body: Value) -> Response {
    let mut response = Json(body).into_response();
    if let (Some(first), Some(last)) =
        (rows.iter().map(|r| &r.date_added).min(), rows.iter().map(|r| &r.date_added).max())
    {
        for (name, value) in [("x-taxii-date-added-first", first), ("x-taxii-date-added-last", last)] {
            if let Ok(v) = HeaderValue::from_str(value) {
                response.headers_mut().insert(name, v);
            }
        }
    }
    response
}

fn envelope(rows: &[VersionRow], more: bool, body: impl FnMut(&VersionRow) -> Value) -> Value {
    let mut out = json!({ "more": more });
    if more {
        if let Some(last) = rows.last() {
            out["next"] = json!(last.row.to_string());
        }
    }
    if !rows.is_empty() {
        out["objects"] = Value::Array(rows.iter().map(body).collect());
    }
    out
}

fn object_json(row: &VersionRow) -> Value {
    // The store wrote this JSON itself; an unreadable row is served as null rather
    // than failing a whole page (and logged).
    serde_json::from_str(&row.json).unwrap_or_else(|e| {
        tracing::error!(id = %row.id, error = %e, "stored object is not JSON");
        Value::Null
    })
}

/// The object's own `modified` (what clients name a version by), else the store's.
fn version_of(row: &VersionRow) -> String {
    let object = object_json(row);
    object
        .get("modified")
        .or_else(|| object.get("created"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| row.modified.clone())
}

async fn objects(
    State(state): State<AppState>,
    TaxiiCaller(p): TaxiiCaller,
    Path(collection): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_collection(&collection)?;
    let (rows, more) = page(&state, &p, params(&query, None)?).await?;
    Ok(with_date_headers(&rows, envelope(&rows, more, object_json)))
}

async fn object(
    State(state): State<AppState>,
    TaxiiCaller(p): TaxiiCaller,
    Path((collection, id)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_collection(&collection)?;
    let (rows, more) = page(&state, &p, params(&query, Some(&id))?).await?;
    if rows.is_empty() && !more {
        return Err(ApiError::NotFound);
    }
    Ok(with_date_headers(&rows, envelope(&rows, more, object_json)))
}

async fn versions(
    State(state): State<AppState>,
    TaxiiCaller(p): TaxiiCaller,
    Path((collection, id)): Path<(String, String)>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_collection(&collection)?;
    let mut params = params(&query, Some(&id))?;
    params.filter.versions = vec!["all".into()];
    let (rows, more) = page(&state, &p, params).await?;
    if rows.is_empty() && !more {
        return Err(ApiError::NotFound);
    }
    let mut body = json!({ "more": more, "versions": rows.iter().map(version_of).collect::<Vec<_>>() });
    if more {
        if let Some(last) = rows.last() {
            body["next"] = json!(last.row.to_string());
        }
    }
    Ok(with_date_headers(&rows, body))
}

async fn manifest(
    State(state): State<AppState>,
    TaxiiCaller(p): TaxiiCaller,
    Path(collection): Path<String>,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_collection(&collection)?;
    let (rows, more) = page(&state, &p, params(&query, None)?).await?;
    let body = envelope(
        &rows,
        more,
        |r| json!({ "id": r.id, "date_added": r.date_added, "version": version_of(r), "media_type": STIX_MEDIA_TYPE }),
    );
    Ok(with_date_headers(&rows, body))
}

/// Adds the objects of an envelope, owned by the adder's organisation: they become
/// its versions, beside (never over) what other owners hold of the same ids. Each
/// object is checked on its own; the good ones are stored in one transaction, the
/// others listed in the status with why.
async fn add_objects(
    State(state): State<AppState>,
    TaxiiWriter(p, _place): TaxiiWriter,
    headers: HeaderMap,
    Path(collection): Path<String>,
    Bounded(body): Bounded,
) -> Result<Response, ApiError> {
    check_collection(&collection)?;
    require(&p, Role::Analyst)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let kind = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if kind != "application/taxii+json" || !content_type.split(';').skip(1).all(|p| p.trim() == "version=2.1") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let envelope: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not a JSON envelope: {e}")))?;
    let objects = envelope
        .get("objects")
        .and_then(|o| o.as_array())
        .ok_or_else(|| ApiError::BadRequest("the envelope has no \"objects\" list".into()))?;
    let mut good = Vec::new();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    for object in objects {
        let (id, version) = status_names(object);
        // The same check as `intel import`: nothing reaches the store another way.
        match takedown_intel::validate(object.clone(), ADD_SOURCE) {
            Ok(checked) => {
                successes.push(status_detail(&checked.id, version, None));
                good.push(checked.to_row());
            }
            Err(problems) => failures.push(status_detail(&id, version, Some(problems.join("; ")))),
        }
    }
    let status_id = uuid::Uuid::new_v4().to_string();
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let status = json!({
        "id": status_id,
        "status": "complete",
        "request_timestamp": now,
        "total_count": successes.len() + failures.len(),
        "success_count": successes.len(),
        "successes": successes,
        "failure_count": failures.len(),
        "failures": failures,
        "pending_count": 0,
    });
    let detail = status.to_string();
    let (org, user) = (p.org.clone(), p.user.clone());
    let id = status_id.clone();
    state
        .with(move |store| {
            if !good.is_empty() {
                let batch = ImportBatch {
                    actor: format!("{user}@{org}"),
                    org: Some(org.clone()),
                    files: vec![format!("taxii status {id}")],
                    objects: good,
                };
                store.import(&batch)?;
            }
            store.save_taxii_status(&id, &org, "complete", &detail)?;
            Ok(())
        })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(status)).into_response())
}

/// Where objects added through TAXII say they came from.
const ADD_SOURCE: &str = "taxii";

/// The id and version an added object names, for its status entry, as far as it
/// names them.
fn status_names(object: &Value) -> (String, Option<Value>) {
    let id = object.get("id").and_then(Value::as_str).unwrap_or("").to_string();
    let version = object.get("modified").or_else(|| object.get("created")).filter(|v| v.is_string()).cloned();
    (id, version)
}

/// One entry of a status resource's successes or failures (TAXII 2.1 §4.3.1).
fn status_detail(id: &str, version: Option<Value>, message: Option<String>) -> Value {
    let mut detail = json!({ "id": id });
    if let Some(v) = version {
        detail["version"] = v;
    }
    if let Some(m) = message {
        detail["message"] = json!(m);
    }
    detail
}

async fn status(
    State(state): State<AppState>,
    TaxiiCaller(p): TaxiiCaller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let org = p.org.clone();
    let detail = state.with(move |store| Ok(store.taxii_status(&id, &org)?)).await?.ok_or(ApiError::NotFound)?;
    serde_json::from_str(&detail).map(Json).map_err(|e| ApiError::Internal(e.to_string()))
}
