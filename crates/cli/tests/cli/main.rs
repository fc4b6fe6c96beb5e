//! The CLI's integration tests, one binary: each module drives the real `takedown`
//! binary for one area (`cargo test -p takedown-cli --test cli MODULE::`).

mod accounts;
mod act_cli;
mod act_quarantine;
mod act_registry;
mod common;
mod errors_golden;
mod golden_outputs;
mod hostile_partner;
mod hostile_server;
mod intel_bad_input;
mod intel_flow;
mod intel_real_data;
mod net;
mod quarantine_faults;
mod registry_faults;
mod server;
mod sweep;
