//! What the peer and fault tests share: reading a peer's address from the
//! environment (skip without it, fail under TAKEDOWN_REQUIRE_PEERS), quick retries,
//! unique names, and a campaign whose actions alice proposed and bob approved.
#![allow(clippy::unwrap_used, dead_code)]

use std::time::Duration;
use takedown_act::plan::{approve, plan, Policy};
use takedown_act::Retry;
use takedown_model::{Campaign, Finding, Subject, Tlp};
use takedown_store::Store;

pub fn peer(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            let why = format!("{var} is not set (.ci/setup.d/60-act.sh starts the peer and sets it)");
            if std::env::var_os("TAKEDOWN_REQUIRE_PEERS").is_some() {
                panic!("TAKEDOWN_REQUIRE_PEERS is set, but {why}");
            }
            eprintln!("SKIPPED: {why}");
            None
        }
    }
}

pub fn quick() -> Retry {
    Retry { attempts: 3, first_delay: Duration::from_millis(50) }
}

pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

pub fn campaign() -> Campaign {
    Campaign {
        id: "grouping--9".into(),
        name: "zinc".into(),
        actor: Some("ZINC".into()),
        description: None,
        tlp: Tlp::Amber,
        created: chrono::Utc::now(),
    }
}

pub fn finding(subject: Subject, detector: &str) -> Finding {
    Finding {
        id: format!("sighting--{}", uuid::Uuid::new_v4()),
        campaign: None,
        subject,
        indicator: None,
        detector: detector.into(),
        summary: format!("seen by {detector}"),
        evidence: vec![],
        observed_at: chrono::Utc::now(),
        tlp: None,
    }
}

/// The campaign "zinc" with the findings' actions planned by alice and approved by bob.
pub fn approved(findings: &[Finding]) -> Store {
    let store = Store::open_in_memory().unwrap();
    store.create_campaign(&campaign(), "alice").unwrap();
    store.record_findings("zinc", findings, "alice").unwrap();
    let actions = plan("zinc", findings, "alice");
    store.propose_actions("zinc", &actions, "alice").unwrap();
    for a in &actions {
        approve(&store, &a.id, "bob", Policy::default()).unwrap();
    }
    store
}
