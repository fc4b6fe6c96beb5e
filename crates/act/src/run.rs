//! Carrying out approved actions, verifying them, undoing them. Each step moves
//! the action along its lifecycle in the store, with an audit event.

use crate::directory::AccountDirectory;
use crate::notice::{self, Mailer, NoticeContext, Sent};
use crate::{smb, ActError, HiveCleaner, QuarantineVault, Retry};
use serde::Serialize;
use serde_json::{json, Value};
use takedown_model::{Action, ActionKind, ActionState, Subject};
use takedown_store::{kind_str, subject_key, Store, StoredAction, Transition};

/// The systems actions go through. A kind whose connector is missing is left
/// approved, to be run later with it.
pub struct Connectors<'a> {
    pub directory: Option<&'a dyn AccountDirectory>,
    pub mailer: Option<&'a dyn Mailer>,
    pub vault: Option<&'a dyn QuarantineVault>,
    /// Cleans registry hives, saving each in the vault first.
    pub cleaner: Option<&'a dyn HiveCleaner>,
    pub notice: NoticeContext,
    pub retry: Retry,
}

impl std::fmt::Debug for Connectors<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors")
            .field("directory", &self.directory.map(|d| d.describe()))
            .field("mailer", &self.mailer.map(|m| m.describe()))
            .field("vault", &self.vault.is_some())
            .field("cleaner", &self.cleaner.is_some())
            .finish()
    }
}

/// What happened to one action in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub id: String,
    pub kind: &'static str,
    pub target: String,
    pub state: ActionState,
    pub detail: String,
}

fn outcome(a: &Action, state: ActionState, detail: String) -> Outcome {
    Outcome { id: a.id.clone(), kind: kind_str(a.kind), target: subject_key(&a.target), state, detail }
}

fn step(
    store: &Store,
    id: &str,
    to: ActionState,
    who: &str,
    result: Option<Value>,
    detail: Value,
) -> Result<StoredAction, ActError> {
    Ok(store.move_action(id, Transition { to, who, approver: None, result, detail })?)
}

/// The `HOST:PORT` an SMB check of the target goes to.
pub fn smb_target(target: &Subject) -> Option<String> {
    match target {
        Subject::Endpoint { ip, port } => Some(format!("{ip}:{}", port.unwrap_or(445))),
        Subject::Host { name } => Some(format!("{name}:445")),
        _ => None,
    }
}

fn missing(kind: ActionKind) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        ActionKind::DisableAccount => ("disable-account", "give --scim URL, --webhook URL or --dry-run"),
        ActionKind::Notify => ("notify", "give --smtp HOST:PORT or --outbox DIR"),
        ActionKind::Quarantine | ActionKind::Restore => ("quarantine", "give --vault DIR"),
        ActionKind::CleanRegistry => ("clean-registry", "give --vault DIR"),
        _ => return None,
    })
}

/// Runs every approved action of the campaign, then verifies what can be verified.
/// A harden action whose fix was marked applied but did not hold is checked again.
pub fn run_approved(store: &Store, campaign: &str, who: &str, c: &Connectors<'_>) -> Result<Vec<Outcome>, ActError> {
    let mut out = Vec::new();
    for stored in store.actions(campaign)? {
        let a = stored.action;
        if a.kind == ActionKind::Harden && a.state == ActionState::Done {
            if let Some(result) = stored.result.filter(|r| r["applied"].is_object()) {
                // A host that cannot be reached now leaves the action as it was.
                match recheck(store, &a, result, who) {
                    Ok(o) => out.push(o),
                    Err(e) => out.push(outcome(&a, ActionState::Done, format!("re-check failed: {e}"))),
                }
            }
            continue;
        }
        if a.state != ActionState::Approved {
            continue;
        }
        out.push(run_one(store, &a, who, c)?);
    }
    Ok(out)
}

/// Runs one approved action and verifies it if it can be verified. An action whose
/// connector is missing is left approved, and the outcome says which one to give.
pub fn run_one(store: &Store, a: &Action, who: &str, c: &Connectors<'_>) -> Result<Outcome, ActError> {
    if a.state != ActionState::Approved {
        let (from, to) = (a.state.as_str(), ActionState::Running.as_str());
        return Err(takedown_store::StoreError::BadTransition { id: a.id.clone(), from, to }.into());
    }
    let have = match a.kind {
        ActionKind::DisableAccount => c.directory.is_some(),
        ActionKind::Notify => c.mailer.is_some(),
        ActionKind::Quarantine | ActionKind::Restore => c.vault.is_some(),
        ActionKind::CleanRegistry => c.cleaner.is_some(),
        ActionKind::Harden | ActionKind::Block => true,
    };
    if !have {
        let (kind, hint) = missing(a.kind).unwrap_or(("this", ""));
        return Ok(outcome(a, a.state, format!("left approved: no connector for {kind} actions ({hint})")));
    }
    // The move to running is checked against the stored state in one
    // transaction: of two runs at once, one carries the action out.
    match step(store, &a.id, ActionState::Running, who, None, json!({})) {
        Ok(_) => {}
        Err(ActError::Store(takedown_store::StoreError::BadTransition { from, .. })) => {
            return Ok(outcome(a, a.state, format!("left alone: another run took it meanwhile (now {from})")));
        }
        Err(e) => return Err(e),
    }
    match execute(store, a, who, c) {
        Ok(result) => {
            let detail = result["summary"].as_str().unwrap_or("done").to_string();
            let done = step(store, &a.id, ActionState::Done, who, Some(result), json!({ "summary": detail }))?;
            verify_one(store, &done, who, c, detail)
        }
        Err(e) => {
            let reason = e.to_string();
            step(store, &a.id, ActionState::Failed, who, Some(json!({ "error": reason })), json!({ "error": reason }))?;
            Ok(outcome(a, ActionState::Failed, reason))
        }
    }
}

fn execute(store: &Store, a: &Action, who: &str, c: &Connectors<'_>) -> Result<Value, ActError> {
    match (a.kind, &a.target) {
        (ActionKind::DisableAccount, Subject::Account { id, .. }) => {
            let d = c.directory.ok_or(ActError::NoConnector { kind: "disable-account", hint: "" })?;
            let mut r = d.disable(id)?;
            r["summary"] = json!(format!("account {id} disabled through {}", d.describe()));
            Ok(r)
        }
        (ActionKind::Notify, Subject::Person { id, email }) => {
            let m = c.mailer.ok_or(ActError::NoConnector { kind: "notify", hint: "" })?;
            let Some(email) = email else {
                return Err(ActError::Input(format!("person {id} has no e-mail address to send the notice to")));
            };
            match notice::send_once(store, m, &a.campaign, id, email, Some(&a.id), &c.notice, &c.retry, who)? {
                Sent::Now { key, detail } => Ok(json!({
                    "key": key,
                    "delivery": detail,
                    "through": m.describe(),
                    "summary": format!("notice to {email} sent through {} ({detail})", m.describe())
                })),
                Sent::Before { key } => {
                    Ok(json!({ "key": key, "summary": format!("notice to {email} was sent before; not sent again") }))
                }
            }
        }
        (ActionKind::CleanRegistry, _) => {
            let cleaner = c.cleaner.ok_or(ActError::NoConnector { kind: "clean-registry", hint: "" })?;
            cleaner.clean(a)
        }
        (ActionKind::Quarantine, target) => {
            let v = c.vault.ok_or(ActError::NoConnector { kind: "quarantine", hint: "" })?;
            let mut r = v.quarantine(target, &a.findings)?;
            r["summary"] = json!(format!("{} quarantined", subject_key(target)));
            Ok(r)
        }
        (ActionKind::Harden, target) => {
            let Some(addr) = smb_target(target) else {
                return Err(ActError::Input(format!("cannot check {}: not a host or endpoint", subject_key(target))));
            };
            let check = smb::check(&addr).map_err(|e| ActError::Connector(e.to_string()))?;
            let fixes = crate::harden::fixes(check.smb1, check.ms17_010 == smb::Ms17010::Vulnerable);
            let summary = if check.at_risk() {
                format!(
                    "{addr}: fix recorded ({} step(s)); apply it, then `takedown harden applied {}` re-checks",
                    fixes.len(),
                    a.id
                )
            } else {
                format!("{addr}: SMB1 refused and MS17-010 not vulnerable; nothing to fix")
            };
            Ok(json!({ "check": check, "fixes": fixes, "at_risk": check.at_risk(), "summary": summary }))
        }
        (ActionKind::Block, Subject::Endpoint { ip, .. }) => {
            // A kill-switch domain must keep resolving: blocking it re-arms the worm.
            let summary = if crate::block::is_kill_switch(ip) {
                format!("{ip} is a WannaCry kill switch: takedown block gives it a sinkhole answer, never a block")
            } else {
                format!("{ip} added to the campaign's blocklist (takedown block exports it)")
            };
            Ok(json!({ "value": ip, "summary": summary }))
        }
        (kind, target) => {
            Err(ActError::Input(format!("a {} action cannot target {}", kind_str(kind), subject_key(target))))
        }
    }
}

/// Checks a done action against the world; verified when it holds.
fn verify_one(
    store: &Store,
    s: &StoredAction,
    who: &str,
    c: &Connectors<'_>,
    detail: String,
) -> Result<Outcome, ActError> {
    let a = &s.action;
    let result = s.result.clone().unwrap_or(Value::Null);
    let held: Option<(bool, String)> = match (a.kind, &a.target) {
        (ActionKind::DisableAccount, Subject::Account { id, .. }) => match c.directory {
            Some(d) => d
                .is_disabled(id)?
                .map(|off| (off, format!("read back: account {id} {}", if off { "inactive" } else { "still active" }))),
            None => None,
        },
        (ActionKind::Quarantine, _) => match c.vault {
            Some(v) => Some((v.holds(&result)?, "the vault holds the item and the original is gone".into())),
            None => None,
        },
        (ActionKind::CleanRegistry, _) => match c.cleaner {
            Some(cl) => Some((cl.cleaned(&result)?, "the hive read back without the entries, the rest intact".into())),
            None => None,
        },
        (ActionKind::Notify, _) => {
            let key = result["key"].as_str().unwrap_or_default();
            store
                .notice(key)?
                .map(|n| (n.state == "sent", format!("notice {} is {}", &key[..key.len().min(12)], n.state)))
        }
        (ActionKind::Harden, _) => match result["at_risk"].as_bool() {
            Some(false) => Some((true, "checked over SMB: SMB1 refused, MS17-010 not vulnerable".into())),
            _ => Some((false, "the fix is not applied yet".into())),
        },
        _ => None,
    };
    match held {
        Some((true, how)) => {
            step(store, &a.id, ActionState::Verified, who, None, json!({ "verified": how }))?;
            Ok(outcome(a, ActionState::Verified, format!("{detail}; verified ({how})")))
        }
        Some((false, how)) => Ok(outcome(a, ActionState::Done, format!("{detail}; not verified: {how}"))),
        None => Ok(outcome(a, ActionState::Done, detail)),
    }
}

/// Marks a harden action's fix applied and checks the host again: verified when
/// SMB1 is refused and the probe does not say vulnerable; otherwise the action
/// stays done and unverified, with the re-check in its result. May be repeated
/// after a further fix.
pub fn harden_applied(store: &Store, id: &str, who: &str) -> Result<Outcome, ActError> {
    let Some(s) = store.action(id)? else {
        return Err(takedown_store::StoreError::NoAction(id.to_string()).into());
    };
    let a = &s.action;
    if a.kind != ActionKind::Harden || a.state != ActionState::Done {
        return Err(ActError::Input(format!(
            "{} is a {} action in state {}; only a done harden action (its fix recorded, not yet verified) can be marked applied",
            a.id,
            kind_str(a.kind),
            a.state
        )));
    }
    let mut result = s.result.clone().unwrap_or_else(|| json!({}));
    result["applied"] = json!({ "by": who, "at": now() });
    recheck(store, a, result, who)
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Checks a harden action's host again and records what it found.
fn recheck(store: &Store, a: &Action, mut result: Value, who: &str) -> Result<Outcome, ActError> {
    let addr = smb_target(&a.target)
        .ok_or_else(|| ActError::Input(format!("cannot check {}: not a host or endpoint", subject_key(&a.target))))?;
    let check = smb::check(&addr).map_err(|e| ActError::Connector(e.to_string()))?;
    let holds = !check.at_risk();
    result["recheck"] = json!({ "at": now(), "check": check, "holds": holds });
    if holds {
        let how = "re-checked over SMB after the fix: SMB1 refused, MS17-010 not vulnerable";
        step(store, &a.id, ActionState::Verified, who, Some(result), json!({ "verified": how }))?;
        return Ok(outcome(a, ActionState::Verified, format!("{addr}: {how}")));
    }
    let ms = match check.ms17_010 {
        smb::Ms17010::Vulnerable => "vulnerable",
        smb::Ms17010::Patched => "patched",
        smb::Ms17010::Unknown => "unknown",
    };
    let why = format!(
        "{addr}: still at risk after the fix was marked applied (SMB1 {}, MS17-010 {ms}); not verified",
        if check.smb1 { "still accepted" } else { "refused" }
    );
    store.record_action_result(
        &a.id,
        who,
        "action.harden-recheck",
        &result,
        &json!({ "holds": false, "check": check }),
    )?;
    Ok(outcome(a, ActionState::Done, why))
}

/// Gives up an action that a run left `running` and will not finish: the process was
/// killed or the machine lost before the outcome was recorded. The action becomes
/// `failed` with the reason, and can then be approved again and run again. What the
/// connector had done before the run stopped is not known, so a rerun repeats it:
/// disabling an account again changes nothing, a notice goes once per person and
/// campaign however often it is sent, and the vault connector finds a file already
/// moved in the vault. Only the operator can tell that the run is over, hence a
/// command and not a timeout.
pub fn abandon(store: &Store, id: &str, who: &str, reason: &str) -> Result<Outcome, ActError> {
    let Some(s) = store.action(id)? else {
        return Err(takedown_store::StoreError::NoAction(id.to_string()).into());
    };
    let a = &s.action;
    if a.state != ActionState::Running {
        return Err(ActError::Input(format!(
            "{} is {}; only an action left running by a run that stopped can be abandoned",
            a.id, a.state
        )));
    }
    let why = format!("abandoned: {reason}");
    step(store, &a.id, ActionState::Failed, who, Some(json!({ "error": why })), json!({ "abandoned": reason }))?;
    Ok(outcome(a, ActionState::Failed, format!("{why}; approve it again to rerun it")))
}

/// Undoes a done or verified action through its connector. A SCIM 412 stops the
/// undo: the action stays as it was and the refusal is an audit event.
pub fn undo(store: &Store, id: &str, who: &str, c: &Connectors<'_>) -> Result<Outcome, ActError> {
    let Some(s) = store.action(id)? else {
        return Err(takedown_store::StoreError::NoAction(id.to_string()).into());
    };
    let a = &s.action;
    if !a.state.can_become(ActionState::Undone) {
        return Err(ActError::Input(format!("{} is {}; only done or verified actions can be undone", a.id, a.state)));
    }
    let done = s.result.clone().unwrap_or(Value::Null);
    let result = match (a.kind, &a.target) {
        (ActionKind::DisableAccount, Subject::Account { id: account, .. }) => {
            let d = c.directory.ok_or(ActError::NoConnector {
                kind: "disable-account",
                hint: "give --scim URL, --webhook URL or --dry-run",
            })?;
            d.enable(account, &done)
        }
        (ActionKind::Quarantine, _) => {
            let v = c.vault.ok_or(ActError::NoConnector { kind: "quarantine", hint: "give --vault DIR" })?;
            v.restore(&done)
        }
        (ActionKind::CleanRegistry, _) => {
            let cl = c.cleaner.ok_or(ActError::NoConnector { kind: "clean-registry", hint: "give --vault DIR" })?;
            cl.put_back(&done)
        }
        (ActionKind::Block, _) => Ok(json!({ "summary": "removed from the campaign's blocklist at the next export" })),
        (ActionKind::Harden, _) => Ok(json!({ "summary": "harden action withdrawn; the host is not changed back" })),
        (ActionKind::Notify, _) => Err(ActError::Input("a notice that was sent cannot be unsent".into())),
        (kind, _) => Err(ActError::Input(format!("{} actions have no undo", kind_str(kind)))),
    };
    match result {
        Ok(r) => {
            step(
                store,
                &a.id,
                ActionState::Undone,
                who,
                Some(json!({ "done": done, "undo": r })),
                json!({ "undo": r }),
            )?;
            Ok(outcome(a, ActionState::Undone, "undone".into()))
        }
        Err(e) => {
            store.append_audit(who, "action.undo-refused", &a.id, &json!({ "error": e.to_string() }).to_string())?;
            Err(e)
        }
    }
}
