//! Actions against a group: planned, approved, carried out through real connectors, verified, undone.
#![forbid(unsafe_code)]
