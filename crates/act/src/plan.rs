//! From findings to proposed actions, and the approval policy. Nothing is carried
//! out here: a plan is a list of proposals, stored as `proposed`.

use crate::ActError;
use std::collections::BTreeMap;
use takedown_model::{Action, ActionKind, ActionState, Evidence, Finding, Subject};
use takedown_store::{kind_str, subject_key, Store, Transition};

/// Namespace of action ids: the same campaign, kind and target always give the
/// same id, so that a plan made twice names the same actions.
const ACTION_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x7a6b_d2c1_4e0f_4b8e_9a51_3c2d_1e0f_a9b8);

/// Account findings that say the account is fake: judged by the ranking and
/// confirmed by a person, or one of the known fakes the ranking started from.
fn judged_fake(f: &Finding) -> bool {
    let d = f.detector.as_str();
    d.ends_with(".judged") || d.ends_with(".confirmed") || d.ends_with(".seed") || d.ends_with(".fake")
}

/// Host findings that say SMB1 is on or MS17-010 is missing.
fn needs_hardening(f: &Finding) -> bool {
    let d = f.detector.to_ascii_lowercase();
    d.contains("smb1") || d.contains("ms17") || d.contains("vulnerable") || d.contains("eternalblue")
}

/// Artefacts the sweep reports that are the victims' own data (files WannaCry
/// encrypted, or left half-encrypted): never quarantined, as the sweep never moves
/// them. The sweep names the artefact in the summary, `artefact NAME: PATH`.
fn victim_data(f: &Finding) -> bool {
    f.detector == "sweep.artefact"
        && ["wannacry-encrypted-file", "wannacry-partial-file", "data-loss"]
            .iter()
            .any(|name| f.summary.starts_with(&format!("artefact {name}:")))
}

/// The DNS names a finding's evidence names (a kill-switch lookup, a C2 query).
fn queried_names(f: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    for e in &f.evidence {
        if let Evidence::Packets { fields, .. } = e {
            for key in ["dns.query", "dns.qname", "domain"] {
                if let Some(v) = fields.get(key) {
                    out.push(v.clone());
                }
            }
        }
    }
    out
}

/// The action a finding calls for, if any: (kind, target).
fn remedies(f: &Finding) -> Vec<(ActionKind, Subject)> {
    let mut out = Vec::new();
    match &f.subject {
        Subject::File { .. } => out.push((ActionKind::Quarantine, f.subject.clone())),
        // One cleaning a hive, for all its entries: the hive is saved once, edited
        // once and put back whole on undo.
        Subject::Registry { host, hive, sha256, .. } => out.push((
            ActionKind::CleanRegistry,
            Subject::File { host: host.clone(), path: hive.clone(), sha256: sha256.clone() },
        )),
        Subject::Account { .. } if judged_fake(f) => out.push((ActionKind::DisableAccount, f.subject.clone())),
        Subject::Person { .. } => out.push((ActionKind::Notify, f.subject.clone())),
        Subject::Host { .. } | Subject::Endpoint { .. } if needs_hardening(f) => {
            out.push((ActionKind::Harden, f.subject.clone()))
        }
        Subject::Endpoint { ip, .. } => out.push((ActionKind::Block, Subject::Endpoint { ip: ip.clone(), port: None })),
        _ => {}
    }
    for name in queried_names(f) {
        out.push((ActionKind::Block, Subject::Endpoint { ip: name, port: None }));
    }
    out
}

/// Proposals for a campaign's findings: one action per kind and target, with every
/// finding that called for it, sorted by kind and target.
pub fn plan(campaign: &str, findings: &[Finding], who: &str) -> Vec<Action> {
    let mut grouped: BTreeMap<(ActionKind, String), (Subject, Vec<&Finding>)> = BTreeMap::new();
    let victims: std::collections::BTreeSet<String> =
        findings.iter().filter(|f| victim_data(f)).map(|f| subject_key(&f.subject)).collect();
    // A registry hive with findings in it is cleaned, never moved: without it Windows
    // does not start.
    let hives: std::collections::BTreeSet<String> = findings
        .iter()
        .filter_map(|f| match &f.subject {
            Subject::Registry { host, hive, .. } => {
                Some(subject_key(&Subject::File { host: host.clone(), path: hive.clone(), sha256: None }))
            }
            _ => None,
        })
        .collect();
    for f in findings {
        for (kind, target) in remedies(f) {
            let key = subject_key(&target);
            if kind == ActionKind::Quarantine && (victims.contains(&key) || hives.contains(&key)) {
                continue;
            }
            grouped.entry((kind, key)).or_insert_with(|| (target, Vec::new())).1.push(f);
        }
    }
    let now = chrono::Utc::now();
    grouped
        .into_iter()
        .map(|((kind, key), (target, fs))| {
            let id = uuid::Uuid::new_v5(&ACTION_NAMESPACE, format!("{campaign}\0{}\0{key}", kind_str(kind)).as_bytes());
            let mut summaries: Vec<&str> = fs.iter().map(|f| f.summary.as_str()).collect();
            summaries.sort_unstable();
            summaries.dedup();
            Action {
                id: format!("course-of-action--{id}"),
                campaign: campaign.to_string(),
                kind,
                target,
                state: ActionState::Proposed,
                proposed_by: who.to_string(),
                approved_by: None,
                reason: summaries.join("; "),
                findings: fs.iter().map(|f| f.id.clone()).collect(),
                created: now,
                updated: now,
            }
        })
        .collect()
}

/// Who may approve what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A destructive action (disable, quarantine) needs an approver other than its
    /// proposer.
    pub two_person: bool,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy { two_person: true }
    }
}

/// Approves an action under the policy; the approval is an audit event.
pub fn approve(
    store: &Store,
    id: &str,
    approver: &str,
    policy: Policy,
) -> Result<takedown_store::StoredAction, ActError> {
    let Some(stored) = store.action(id)? else {
        return Err(takedown_store::StoreError::NoAction(id.to_string()).into());
    };
    let a = &stored.action;
    if policy.two_person && a.kind.is_destructive() && a.proposed_by == approver {
        return Err(ActError::TwoPerson { id: a.id.clone(), proposer: a.proposed_by.clone() });
    }
    Ok(store.move_action(
        &a.id,
        Transition {
            to: ActionState::Approved,
            who: approver,
            approver: Some(approver),
            result: None,
            detail: serde_json::json!({ "two_person": policy.two_person, "destructive": a.kind.is_destructive() }),
        },
    )?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use takedown_model::{Campaign, Tlp};

    fn finding(id: &str, subject: Subject, detector: &str) -> Finding {
        Finding {
            id: id.into(),
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

    fn findings() -> Vec<Finding> {
        vec![
            finding("s1", Subject::File { host: Some("ws1".into()), path: "/x".into(), sha256: None }, "sweep.hash"),
            finding("s2", Subject::Account { platform: Some("scim".into()), id: "u1".into() }, "accounts.judged"),
            finding("s3", Subject::Account { platform: None, id: "u2".into() }, "accounts.rank"),
            finding(
                "s4",
                Subject::Person { id: "p1".into(), email: Some("p1@example.org".into()) },
                "accounts.exposure",
            ),
            finding("s5", Subject::Endpoint { ip: "10.0.0.5".into(), port: Some(445) }, "net.smb1"),
            finding("s6", Subject::Endpoint { ip: "203.0.113.7".into(), port: Some(443) }, "net.c2"),
            finding("s7", Subject::Endpoint { ip: "203.0.113.7".into(), port: Some(80) }, "net.c2"),
        ]
    }

    #[test]
    fn each_kind_is_planned_once_per_target() {
        let plan = plan("zinc", &findings(), "alice");
        let kinds: Vec<(ActionKind, String)> = plan.iter().map(|a| (a.kind, subject_key(&a.target))).collect();
        assert_eq!(
            kinds,
            [
                (ActionKind::Quarantine, "file:ws1:/x".to_string()),
                (ActionKind::DisableAccount, "account:scim:u1".to_string()),
                (ActionKind::Notify, "person:p1".to_string()),
                (ActionKind::Harden, "endpoint:10.0.0.5:445".to_string()),
                (ActionKind::Block, "endpoint:203.0.113.7".to_string()),
            ]
        );
        // The unjudged account (ranked only) is not disabled; both C2 findings back one block.
        assert_eq!(plan[4].findings, ["s6", "s7"]);
        assert_eq!(
            plan,
            super::plan("zinc", &findings(), "alice")
                .into_iter()
                .map(|mut a| {
                    a.created = plan[0].created;
                    a.updated = plan[0].updated;
                    a
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_victims_encrypted_files_are_not_quarantined() {
        let file = |path: &str| Subject::File { host: None, path: path.into(), sha256: None };
        let mut encrypted = finding("e1", file("/d/thesis.docx.WNCRY"), "sweep.artefact");
        encrypted.summary = "artefact wannacry-encrypted-file: /d/thesis.docx.WNCRY".into();
        // Another rule on the same encrypted file does not make it movable.
        let also = finding("e2", file("/d/thesis.docx.WNCRY"), "sweep.yara");
        let mut note = finding("n1", file("/d/@Please_Read_Me@.txt"), "sweep.artefact");
        note.summary = "artefact wannacry-ransom-note: /d/@Please_Read_Me@.txt".into();
        let planned = plan("zinc", &[encrypted, also, note], "alice");
        let targets: Vec<String> = planned.iter().map(|a| subject_key(&a.target)).collect();
        assert_eq!(targets, ["file::/d/@Please_Read_Me@.txt"]);
    }

    #[test]
    fn a_registry_hive_is_cleaned_never_quarantined() {
        let hive = Subject::File {
            host: Some("ws1".into()),
            path: "/mnt/c/Windows/System32/config/SYSTEM".into(),
            sha256: None,
        };
        let entry = Subject::Registry {
            host: Some("ws1".into()),
            hive: "/mnt/c/Windows/System32/config/SYSTEM".into(),
            key: r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\mssecsvc2.0".into(),
            value: None,
            sha256: None,
        };
        let other =
            Subject::File { host: Some("ws1".into()), path: "/mnt/c/Windows/mssecsvc.exe".into(), sha256: None };
        let findings = [
            finding("y1", hive, "sweep.yara"),
            finding("r1", entry, "sweep.registry"),
            finding("h1", other, "sweep.hash"),
        ];
        let planned: Vec<(&str, String)> =
            plan("zinc", &findings, "alice").iter().map(|a| (kind_str(a.kind), subject_key(&a.target))).collect();
        // The hive is cleaned, with a second person's approval; never moved.
        assert_eq!(
            planned,
            [
                ("quarantine", "file:ws1:/mnt/c/Windows/mssecsvc.exe".to_string()),
                ("clean-registry", "file:ws1:/mnt/c/Windows/System32/config/SYSTEM".to_string()),
            ]
        );
        assert!(ActionKind::CleanRegistry.is_destructive());
    }

    #[test]
    fn destructive_actions_need_a_second_person() {
        let store = Store::open_in_memory().unwrap();
        let c = Campaign {
            id: "grouping--1".into(),
            name: "zinc".into(),
            actor: None,
            description: None,
            tlp: Tlp::Amber,
            created: chrono::Utc::now(),
        };
        store.create_campaign(&c, "alice").unwrap();
        let actions = plan("zinc", &findings(), "alice");
        store.propose_actions("zinc", &actions, "alice").unwrap();
        let disable = actions.iter().find(|a| a.kind == ActionKind::DisableAccount).unwrap();
        let notify = actions.iter().find(|a| a.kind == ActionKind::Notify).unwrap();
        let err = approve(&store, &disable.id, "alice", Policy::default()).unwrap_err();
        assert!(matches!(err, ActError::TwoPerson { .. }), "{err}");
        assert_eq!(store.action(&disable.id).unwrap().unwrap().action.state, ActionState::Proposed);
        approve(&store, &disable.id, "bob", Policy::default()).unwrap();
        // Not destructive: the proposer may approve it.
        approve(&store, &notify.id, "alice", Policy::default()).unwrap();
        approve(&store, &disable.id, "alice", Policy { two_person: false }).unwrap_err();
        // already approved
    }
}
