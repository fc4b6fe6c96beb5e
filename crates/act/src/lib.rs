//! Actions against a group: planned from a campaign's findings, approved (by a
//! second person where they are destructive), carried out through real connectors
//! (SCIM, webhook, SMTP, the quarantine vault, blocklists, SMB checks), verified,
//! and undone where that is possible. Every change of state is an audit event.
//!
//! ```
//! use takedown_act::block::{Blocklist, Blocked};
//! let mut list = Blocklist::default();
//! list.items.insert(Blocked::parse("iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com").unwrap());
//! // The kill switch is sinkholed, never blocked.
//! assert!(list.rpz("rpz.example", 1).contains("IN A 192.0.2.1"));
//! ```
#![forbid(unsafe_code)]

pub mod block;
pub mod directory;
mod error;
pub mod harden;
pub mod notice;
pub mod plan;
pub mod run;
pub mod scim;
pub mod smb;
mod smtp;

pub use error::ActError;

use std::time::Duration;

/// How often to try a connector, and how long to wait between tries (doubling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry { attempts: 4, first_delay: Duration::from_millis(500) }
    }
}

impl Retry {
    /// The wait after failed attempt `n` (1-based): first_delay × 2^(n-1).
    pub fn delay(&self, n: u32) -> Duration {
        self.first_delay.saturating_mul(1u32 << n.saturating_sub(1).min(16))
    }

    /// Runs `f` until it succeeds or the attempts are used up. `Err(reason)` from
    /// `f` means "worth trying again".
    pub fn run<T>(&self, what: &str, mut f: impl FnMut(u32) -> Result<T, String>) -> Result<T, ActError> {
        let mut last = String::new();
        for n in 1..=self.attempts.max(1) {
            match f(n) {
                Ok(v) => return Ok(v),
                Err(reason) => {
                    tracing::debug!(what, attempt = n, %reason, "retrying");
                    last = reason;
                    if n < self.attempts {
                        std::thread::sleep(self.delay(n));
                    }
                }
            }
        }
        Err(ActError::Unreachable { what: what.to_string(), attempts: self.attempts.max(1), last })
    }
}

/// Quarantine through whatever vault the caller has (the sweep's, in the CLI).
/// What cleans registry hives in place: saves the hive, removes a group's entries
/// and can put the saved hive back.
pub trait HiveCleaner {
    /// Saves the hive the action's target names and removes the entries its findings
    /// found in it; returns what verifying and undoing need.
    fn clean(&self, action: &takedown_model::Action) -> Result<serde_json::Value, ActError>;
    /// Whether the hive is still the cleaned one.
    fn cleaned(&self, done: &serde_json::Value) -> Result<bool, ActError>;
    /// Puts the saved hive back, bit for bit.
    fn put_back(&self, done: &serde_json::Value) -> Result<serde_json::Value, ActError>;
}

pub trait QuarantineVault {
    /// Moves the file the target names into the vault (or finds it there already);
    /// returns what restore needs.
    fn quarantine(&self, target: &takedown_model::Subject, findings: &[String]) -> Result<serde_json::Value, ActError>;
    /// Whether the item is in the vault and the original gone.
    fn holds(&self, done: &serde_json::Value) -> Result<bool, ActError>;
    /// Puts it back.
    fn restore(&self, done: &serde_json::Value) -> Result<serde_json::Value, ActError>;
}
