//! The use cases every front end calls — the CLI today, the server and the fleet's
//! agents next — so that none of them writes domain logic of its own: each parses its
//! input, calls one function here and presents the outcome.
//!
//! - [`capture`]: read packet captures into verdicts per host, and file the attack
//!   roles as findings under a campaign;
//! - [`accounts`]: rank a social graph from known fakes and file the ranking; list the
//!   people the fakes reached and file them;
//! - [`actions`]: plan the actions a campaign's findings call for, and file them;
//! - [`connectors`]: the connectors actions run through, from one description;
//! - [`sweep`]: sweep files with the store's indicators, tie hits to groups, file the
//!   findings and quarantine what was found;
//! - [`vault`]: the quarantine vault with every step in the audit trail, for the
//!   sweep and for approved quarantine actions;
//! - [`intel`]: the built-in pack kept in the store, and the store read as intel.
//!
//! Detectors stay pure (input in, results out); this layer joins them to the store.
//!
//! ```
//! let store = takedown_store::Store::open_in_memory().unwrap();
//! assert!(takedown_app::require_campaign(&store, "zinc").is_err());
//! ```
#![forbid(unsafe_code)]

pub mod accounts;
pub mod actions;
pub mod capture;
pub mod connectors;
mod error;
pub mod intel;
pub mod registry;
pub mod sweep;
pub mod vault;

pub use error::AppError;

/// Checks that a campaign exists before anything is read or written under it.
pub fn require_campaign(store: &takedown_store::Store, name: &str) -> Result<(), AppError> {
    match store.campaign(name)? {
        Some(_) => Ok(()),
        None => Err(AppError::NoCampaign(name.to_string())),
    }
}
