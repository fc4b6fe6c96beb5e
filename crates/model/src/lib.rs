//! The vocabulary every part of takedown speaks: what kind of thing an indicator
//! detects ([`IndicatorKind`]; the group, its malware and its indicators are STIX
//! objects, held by the intel crate), where it was seen ([`Subject`]), what was seen
//! ([`Finding`] with its [`Evidence`]), what is done about it ([`Action`]), the
//! operation that ties them together ([`Campaign`]) and the record of who did what
//! ([`AuditEvent`]). Every shared object carries a [`Tlp`] marking.
//!
//! This crate does no I/O; it only defines types and their invariants.
//!
//! ```
//! use takedown_model::{ActionState, Tlp};
//!
//! assert!(Tlp::Amber > Tlp::Green);
//! assert!(ActionState::Proposed.can_become(ActionState::Approved));
//! assert!(!ActionState::Proposed.can_become(ActionState::Running));
//! ```
#![forbid(unsafe_code)]

mod action;
mod audit;
mod campaign;
mod finding;
mod indicator;
mod tlp;

pub use action::{Action, ActionKind, ActionState};
pub use audit::{AuditEvent, GENESIS_HASH};
pub use campaign::Campaign;
pub use finding::{Evidence, Finding, StringMatch, Subject};
pub use indicator::IndicatorKind;
pub use tlp::{ParseTlpError, Tlp, TLP2_CREATED, TLP2_EXTENSION_ID};

/// Timestamps everywhere are UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
