//! Disabling accounts through SCIM 2.0 (RFC 7644): `PATCH /Users/{id}` replacing
//! `active` with `false`, guarded by the user's ETag, checked by reading the user
//! back; undone by setting `active` to `true` under the ETag the disable left.

use crate::directory::AccountDirectory;
use crate::{ActError, Retry};
use serde_json::{json, Value};
use std::time::Duration;

const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A SCIM service provider.
#[derive(Debug, Clone)]
pub struct Scim {
    /// The base URL, the one `/Users` hangs off (`https://idp.example/scim/v2`).
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
    retry: Retry,
}

/// A user as read: whether it is active and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserState {
    pub active: bool,
    pub etag: Option<String>,
}

enum Reply {
    Ok { etag: Option<String>, body: Option<Value> },
    Status { code: u16, body: String },
}

impl Scim {
    pub fn new(base: &str, token: Option<String>, retry: Retry) -> Scim {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
        Scim { base: base.trim_end_matches('/').to_string(), token, agent, retry }
    }

    fn url(&self, id: &str) -> String {
        // An id is a path segment: refuse to let one walk elsewhere on the server.
        let safe: String = id
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        format!("{}/Users/{safe}", self.base)
    }

    /// One HTTP exchange, retried with backoff while the server is unreachable or
    /// answers 5xx / 429. Any other answer is returned as it is.
    fn send(&self, method: &str, id: &str, if_match: Option<&str>, body: Option<&Value>) -> Result<Reply, ActError> {
        let url = self.url(id);
        self.retry.run(&format!("SCIM {method} {url}"), |_| {
            let mut req = self.agent.request(method, &url).set("Accept", "application/scim+json");
            if let Some(t) = &self.token {
                req = req.set("Authorization", &format!("Bearer {t}"));
            }
            if let Some(etag) = if_match {
                req = req.set("If-Match", etag);
            }
            let result = match body {
                Some(b) => req.set("Content-Type", "application/scim+json").send_string(&b.to_string()),
                None => req.call(),
            };
            match result {
                Ok(resp) => {
                    let etag = resp.header("ETag").map(str::to_string);
                    let text = resp.into_string().map_err(|e| e.to_string())?;
                    let body = if text.trim().is_empty() { None } else { serde_json::from_str(&text).ok() };
                    Ok(Reply::Ok { etag, body })
                }
                Err(ureq::Error::Status(code, resp)) if code >= 500 || code == 429 => {
                    Err(format!("answered {code}: {}", resp.into_string().unwrap_or_default()))
                }
                Err(ureq::Error::Status(code, resp)) => {
                    Ok(Reply::Status { code, body: resp.into_string().unwrap_or_default() })
                }
                Err(ureq::Error::Transport(t)) => Err(t.to_string()),
            }
        })
    }

    /// Reads a user's `active` and version.
    pub fn read(&self, id: &str) -> Result<UserState, ActError> {
        match self.send("GET", id, None, None)? {
            Reply::Ok { etag, body } => {
                let body = body.unwrap_or(Value::Null);
                let etag = etag.or_else(|| body["meta"]["version"].as_str().map(str::to_string));
                // RFC 7643: a user without `active` is active.
                let active = body["active"].as_bool().unwrap_or(true);
                Ok(UserState { active, etag })
            }
            Reply::Status { code, body } => Err(status_error(&format!("reading user {id}"), code, &body)),
        }
    }

    /// Sets `active`, first with the path form, then — for servers that refuse a
    /// path on this attribute — with the pathless form (RFC 7644 §3.5.2.3).
    fn set_active(&self, id: &str, active: bool, if_match: Option<&str>) -> Result<Option<String>, ActError> {
        let with_path = json!({ "schemas": [PATCH_SCHEMA], "Operations": [{ "op": "replace", "path": "active", "value": active }] });
        let pathless =
            json!({ "schemas": [PATCH_SCHEMA], "Operations": [{ "op": "replace", "value": { "active": active } }] });
        let mut reply = self.send("PATCH", id, if_match, Some(&with_path))?;
        if let Reply::Status { code: 400, body } = &reply {
            tracing::debug!(%body, "path form refused; trying the pathless form");
            reply = self.send("PATCH", id, if_match, Some(&pathless))?;
        }
        match reply {
            Reply::Ok { etag, body } => {
                Ok(etag.or_else(|| body.and_then(|b| b["meta"]["version"].as_str().map(str::to_string))))
            }
            Reply::Status { code: 412, .. } => Err(ActError::Conflict(format!(
                "user {id} was changed on the SCIM server since takedown last read it (If-Match {} failed with 412)",
                if_match.unwrap_or("-")
            ))),
            Reply::Status { code, body } => {
                Err(status_error(&format!("setting active={active} on user {id}"), code, &body))
            }
        }
    }
}

fn status_error(what: &str, code: u16, body: &str) -> ActError {
    let hint = match code {
        401 | 403 => " (check the bearer token: --scim-token or TAKEDOWN_SCIM_TOKEN)",
        404 => " (no such user at this SCIM endpoint: check the base URL and the account id)",
        _ => "",
    };
    let detail: String = body.chars().take(300).collect();
    ActError::Connector(format!("SCIM {what}: answered {code}{hint}: {detail}"))
}

impl AccountDirectory for Scim {
    fn describe(&self) -> String {
        format!("SCIM {}", self.base)
    }

    fn disable(&self, id: &str) -> Result<Value, ActError> {
        let before = self.read(id)?;
        if !before.active {
            // Never flip an account twice: a retry after a lost answer lands here.
            return Ok(json!({ "connector": "scim", "already_inactive": true, "etag": before.etag }));
        }
        let etag = match self.set_active(id, false, before.etag.as_deref()) {
            Ok(etag) => etag,
            Err(ActError::Conflict(_)) => {
                // Changed between our read and our write: look again, once. Most
                // often the change is our own PATCH, whose answer was lost and
                // which the retry sent again under the old ETag; the account was
                // active when we read it, so undo may enable it.
                let now = self.read(id)?;
                if !now.active {
                    return Ok(json!({
                        "connector": "scim",
                        "etag_before": before.etag,
                        "etag": now.etag,
                        "read_back_active": false,
                        "changed_meanwhile": true
                    }));
                }
                self.set_active(id, false, now.etag.as_deref())?
            }
            Err(e) => return Err(e),
        };
        let after = self.read(id)?;
        Ok(
            json!({ "connector": "scim", "etag_before": before.etag, "etag": after.etag.or(etag), "read_back_active": after.active }),
        )
    }

    fn is_disabled(&self, id: &str) -> Result<Option<bool>, ActError> {
        Ok(Some(!self.read(id)?.active))
    }

    fn enable(&self, id: &str, done: &Value) -> Result<Value, ActError> {
        if done["already_inactive"].as_bool() == Some(true) {
            return Err(ActError::Conflict(format!(
                "user {id} was already inactive before takedown acted; undo leaves it as it found it"
            )));
        }
        let etag = done["etag"].as_str();
        let new = self.set_active(id, true, etag).map_err(|e| match e {
            ActError::Conflict(_) => ActError::Conflict(format!(
                "undo stopped: user {id} was changed on the SCIM server after takedown disabled it (ETag {} no longer current, 412). \
                 Look at the account before enabling it by hand",
                etag.unwrap_or("-")
            )),
            other => other,
        })?;
        let after = self.read(id)?;
        if !after.active {
            return Err(ActError::Connector(format!(
                "SCIM accepted enabling user {id}, but reading it back shows it inactive"
            )));
        }
        Ok(json!({ "connector": "scim", "etag": after.etag.or(new), "read_back_active": true }))
    }
}
