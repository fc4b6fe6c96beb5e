//! The OpenAPI 3 document of the REST API, served at `/api/v1/openapi.json`.

use serde_json::{json, Value};

fn errors() -> Value {
    let error = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    json!({ "400": error, "401": error, "403": error, "404": error })
}

fn op(summary: &str, params: Value, schema: Value) -> Value {
    let mut responses = errors();
    responses["200"] = json!({ "description": "ok", "content": { "application/json": { "schema": schema } } });
    json!({ "get": { "summary": summary, "parameters": params, "responses": responses } })
}

/// A POST on one action: who may, and what the answers mean.
fn action_op(summary: &str, description: &str, key: &str, schema: Value) -> Value {
    let mut responses = errors();
    let error = responses["400"].clone();
    responses["200"] = json!({ "description": "ok", "content": { "application/json": { "schema": {
        "type": "object", "required": [key], "properties": { key: schema } } } } });
    responses["403"]["description"] =
        json!("the role is below approver, or the organisation does not own the campaign");
    responses["404"]["description"] = json!("no such campaign visible to this organisation, or no such action in it");
    responses["409"] = error.clone();
    responses["409"]["description"] = json!("the action's state does not allow it, or the two-person rule refuses it");
    responses["501"] = error.clone();
    responses["501"]["description"] =
        json!("this kind of action is not carried out by the server (the message says where)");
    responses["413"] = error.clone();
    responses["413"]["description"] = json!("the body is larger than the 16 KiB an action call takes");
    responses["429"] = error;
    responses["429"]["description"] =
        json!("too many writes from this token or address: wait the seconds Retry-After says");
    json!({ "post": { "summary": summary, "description": description, "parameters": [
        { "name": "name", "in": "path", "required": true, "schema": { "type": "string" } },
        { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }
    ], "responses": responses } })
}

/// Abandon takes a body (the reason) and never needs a connector.
fn abandon_op() -> Value {
    let mut op = action_op(
        "Give up an action a run left running",
        "For a run that stopped (killed, crashed) before it recorded the outcome: the action becomes failed with the reason, and can be approved and run again. Only a running action (409 otherwise).",
        "outcome",
        json!({ "$ref": "#/components/schemas/Outcome" }),
    );
    let post = &mut op["post"];
    post["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": {
        "type": "object", "required": ["reason"],
        "properties": { "reason": { "type": "string", "minLength": 1, "description": "why, for the audit trail" } } } } } });
    post["responses"]["400"]["description"] = json!("no JSON body with a non-empty reason");
    if let Some(responses) = post["responses"].as_object_mut() {
        responses.remove("501");
    }
    op
}

fn name_param() -> Value {
    json!([{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }])
}

fn list_of(key: &str, item: Value) -> Value {
    json!({ "type": "object", "required": [key], "properties": { key: { "type": "array", "items": item } } })
}

/// The document; generated from the same route list the router serves.
pub fn document() -> Value {
    let campaign = json!({ "$ref": "#/components/schemas/Campaign" });
    let any = json!({ "type": "object" });
    json!({
        "openapi": "3.0.3",
        "info": { "title": "takedown REST API", "version": env!("CARGO_PKG_VERSION"),
                  "description": "Campaigns, findings, actions, audit and intel, filtered by TLP 2.0 for the token's organisation." },
        "servers": [{ "url": "/" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/api/v1/campaigns": op("Campaigns this organisation may see", json!([]), list_of("campaigns", campaign.clone())),
            "/api/v1/campaigns/{name}": op("One campaign", name_param(), campaign),
            "/api/v1/campaigns/{name}/findings": op("Its findings", name_param(), list_of("findings", any.clone())),
            "/api/v1/campaigns/{name}/actions": op("Its actions", name_param(), list_of("actions", any.clone())),
            "/api/v1/campaigns/{name}/actions/{id}/approve": action_op("Approve a proposed action",
                "Role approver or admin of the campaign's owner. A destructive action (disable-account, quarantine) needs an approver other than its proposer.",
                "action", any.clone()),
            "/api/v1/campaigns/{name}/actions/{id}/run": action_op("Run an approved action, then verify it",
                "Block actions always; notify and disable-account when the server has an outbox (notices as .eml files, account changes as dry-run requests); harden and quarantine are run by the CLI on the host (501).",
                "outcome", json!({ "$ref": "#/components/schemas/Outcome" })),
            "/api/v1/campaigns/{name}/actions/{id}/undo": action_op("Undo a done or verified action",
                "Through the same connectors as run; a sent notice cannot be undone (409).",
                "outcome", json!({ "$ref": "#/components/schemas/Outcome" })),
            "/api/v1/campaigns/{name}/actions/{id}/abandon": abandon_op(),
            "/api/v1/campaigns/{name}/audit": op("Its audit trail", name_param(), list_of("events", json!({ "$ref": "#/components/schemas/AuditEvent" }))),
            "/api/v1/intel": op("Intel objects, paged", json!([
                { "name": "type", "in": "query", "schema": { "type": "string" } },
                { "name": "limit", "in": "query", "schema": { "type": "integer", "minimum": 1, "maximum": 1000 } },
                { "name": "after", "in": "query", "schema": { "type": "integer", "minimum": 0 } }
            ]), json!({ "type": "object", "required": ["objects"], "properties": {
                "objects": { "type": "array", "items": any.clone() },
                "next": { "type": "integer", "nullable": true } } })),
            "/api/v1/intel/{id}": op("One intel object (its current version)", json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }]), any.clone()),
            "/api/v1/export": op("Everything visible as one STIX 2.1 bundle", json!([]), json!({ "type": "object", "required": ["type", "id", "objects"], "properties": {
                "type": { "type": "string", "enum": ["bundle"] }, "id": { "type": "string" }, "objects": { "type": "array", "items": any } } })),
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": {
                "Error": { "type": "object", "required": ["title"], "properties": { "title": { "type": "string" }, "http_status": { "type": "string" } } },
                "Campaign": { "type": "object", "required": ["id", "name", "tlp", "created"], "properties": {
                    "id": { "type": "string" }, "name": { "type": "string" },
                    "actor": { "type": "string", "nullable": true }, "description": { "type": "string", "nullable": true },
                    "tlp": { "type": "string", "enum": ["clear", "green", "amber", "amber+strict", "red"] },
                    "created": { "type": "string" }, "owner": { "type": "string", "nullable": true } } },
                "Outcome": { "type": "object", "required": ["id", "kind", "target", "state", "detail"], "properties": {
                    "id": { "type": "string" }, "kind": { "type": "string" }, "target": { "type": "string" },
                    "state": { "type": "string" }, "detail": { "type": "string" } } },
                "AuditEvent": { "type": "object", "required": ["seq", "at", "actor", "verb", "object", "hash"], "properties": {
                    "seq": { "type": "integer" }, "at": { "type": "string" }, "actor": { "type": "string" },
                    "verb": { "type": "string" }, "object": { "type": "string" }, "hash": { "type": "string" } } }
            }
        }
    })
}
