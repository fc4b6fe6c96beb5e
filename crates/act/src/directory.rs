//! Where accounts live: a SCIM service provider, a webhook for systems without
//! SCIM, or a dry run that only writes down what it would do.

use crate::{ActError, Retry};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The header carrying the webhook body's HMAC-SHA256, as `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "X-Takedown-Signature";

/// A system that can disable and enable accounts.
pub trait AccountDirectory {
    /// For messages and the audit trail.
    fn describe(&self) -> String;
    /// Disables the account; returns what undo and verify need. Must not flip an
    /// account that is already disabled.
    fn disable(&self, account: &str) -> Result<Value, ActError>;
    /// Whether the account is disabled now; None when the system cannot be asked.
    fn is_disabled(&self, account: &str) -> Result<Option<bool>, ActError>;
    /// Enables it again, given what `disable` returned.
    fn enable(&self, account: &str, done: &Value) -> Result<Value, ActError>;
}

/// HMAC-SHA256 of `body` under `secret`, hex, as the signature header carries it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // new_from_slice accepts keys of any length for HMAC.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A JSON POST to a URL the organisation runs, signed with a shared secret.
#[derive(Debug, Clone)]
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    agent: ureq::Agent,
    retry: Retry,
}

impl Webhook {
    pub fn new(url: &str, secret: &[u8], retry: Retry) -> Webhook {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
        Webhook { url: url.to_string(), secret: secret.to_vec(), agent, retry }
    }

    /// Posts `body` with a request id that stays the same across retries, so that a
    /// receiver which acted on a request whose answer was lost can recognise the
    /// retry and not act twice, and the time it was made, so that it can refuse a
    /// replay of an old signed request.
    fn post(&self, mut body: Value) -> Result<Value, ActError> {
        let request_id = uuid::Uuid::new_v4().to_string();
        body["request_id"] = json!(request_id);
        body["sent_at"] = json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let text = body.to_string();
        let signature = sign(&self.secret, text.as_bytes());
        let status = self.retry.run(&format!("webhook POST {}", self.url), |_| {
            match self
                .agent
                .post(&self.url)
                .set("Content-Type", "application/json")
                .set(SIGNATURE_HEADER, &signature)
                .send_string(&text)
            {
                Ok(resp) => Ok(Ok(resp.status())),
                Err(ureq::Error::Status(code, resp)) if code >= 500 || code == 429 => {
                    Err(format!("answered {code}: {}{}", answer_text(resp), SECRET_HINT))
                }
                Err(ureq::Error::Status(code, resp)) => Ok(Err((code, answer_text(resp)))),
                Err(ureq::Error::Transport(t)) => Err(t.to_string()),
            }
        })?;
        match status {
            Ok(code) => Ok(json!({ "connector": "webhook", "status": code, "request_id": request_id })),
            Err((code, body)) => {
                Err(ActError::Connector(format!("webhook {} answered {code}: {body}{SECRET_HINT}", self.url)))
            }
        }
    }
}

/// A receiver that checks the signature refuses a wrong one with a 4xx, or (the
/// Debian `webhook` 2.8) with a 500 because a bad signature is an error to it.
const SECRET_HINT: &str = " (if the receiver checks the signature, check --webhook-secret)";

/// The start of an error answer's body, on one line, for the action's reason.
fn answer_text(resp: ureq::Response) -> String {
    let text = resp.into_string().unwrap_or_default();
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    line.chars().take(200).collect()
}

impl AccountDirectory for Webhook {
    fn describe(&self) -> String {
        format!("webhook {}", self.url)
    }
    fn disable(&self, account: &str) -> Result<Value, ActError> {
        self.post(json!({ "action": "disable-account", "account": account }))
    }
    fn is_disabled(&self, _account: &str) -> Result<Option<bool>, ActError> {
        // A webhook only tells; it cannot be asked.
        Ok(None)
    }
    fn enable(&self, account: &str, _done: &Value) -> Result<Value, ActError> {
        self.post(json!({ "action": "enable-account", "account": account }))
    }
}

/// Changes nothing: writes each request it would have sent to a JSON Lines file
/// and keeps the accounts' state in memory, so that a dry run can be verified and
/// undone like a real one.
#[derive(Debug)]
pub struct DryRunDirectory {
    log: PathBuf,
    disabled: RefCell<BTreeMap<String, bool>>,
}

impl DryRunDirectory {
    pub fn new(log: PathBuf) -> DryRunDirectory {
        DryRunDirectory { log, disabled: RefCell::new(BTreeMap::new()) }
    }

    fn write(&self, line: Value) -> Result<(), ActError> {
        let io =
            |e: std::io::Error| ActError::Input(format!("cannot write the dry-run log {}: {e}", self.log.display()));
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).map_err(io)?;
        writeln!(f, "{line}").map_err(io)
    }
}

impl AccountDirectory for DryRunDirectory {
    fn describe(&self) -> String {
        format!("dry run (requests written to {})", self.log.display())
    }
    fn disable(&self, account: &str) -> Result<Value, ActError> {
        self.write(
            json!({ "request": format!("PATCH /Users/{account}"), "op": "replace", "path": "active", "value": false }),
        )?;
        self.disabled.borrow_mut().insert(account.to_string(), true);
        Ok(json!({ "connector": "dry-run", "log": self.log }))
    }
    fn is_disabled(&self, account: &str) -> Result<Option<bool>, ActError> {
        Ok(self.disabled.borrow().get(account).copied())
    }
    fn enable(&self, account: &str, _done: &Value) -> Result<Value, ActError> {
        self.write(
            json!({ "request": format!("PATCH /Users/{account}"), "op": "replace", "path": "active", "value": true }),
        )?;
        self.disabled.borrow_mut().insert(account.to_string(), false);
        Ok(json!({ "connector": "dry-run" }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_rfc4231_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
