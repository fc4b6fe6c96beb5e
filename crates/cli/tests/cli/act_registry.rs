//! Cleaning the registry as an action, end to end through the binary, on the demo
//! host: the sweep files WannaCry's services, Run value and key; `plan` proposes one
//! clean-registry action per hive; it needs a second person; `run` saves each hive
//! in the vault and removes exactly those entries, the rest of the hive intact;
//! `undo` puts each hive back bit for bit.
#![allow(clippy::unwrap_used)]

use crate::common::{json, takedown};
use std::path::Path;
use takedown_hive::Hive;

/// Every key path and value name of the hive at `path`.
fn entries(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let hive = Hive::parse(&bytes).unwrap();
    let mut out = Vec::new();
    let report = hive
        .walk(&mut |p, key| {
            out.push(p.to_string());
            for v in key.values().unwrap() {
                out.push(format!("{p} = {}", v.name()));
            }
        })
        .unwrap();
    assert_eq!(report.problem_count, 0);
    out
}

#[test]
fn the_demo_hosts_registry_is_cleaned_with_approval_and_undone_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let host = dir.path().join("host");
    takedown_sweep::plant::plant_demo_host(&host).unwrap();
    let system = host.join("Windows/System32/config/SYSTEM");
    let user = host.join("Users/ana/NTUSER.DAT");
    let (system_bytes, user_bytes) = (std::fs::read(&system).unwrap(), std::fs::read(&user).unwrap());
    let (system_before, user_before) = (entries(&system), entries(&user));
    let vault = dir.path().join("vault");
    let v = vault.to_str().unwrap();
    assert_eq!(takedown(&db, &["--user", "alice", "campaign", "create", "wc"]).code, 0);
    let r = takedown(&db, &["--user", "alice", "sweep", "--campaign", "wc", host.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(takedown(&db, &["--user", "alice", "plan", "--campaign", "wc"]).code, 0);
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "wc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    let cleanings: Vec<&serde_json::Value> = list.iter().filter(|a| a["action"]["kind"] == "clean-registry").collect();
    let mut targets: Vec<&str> = cleanings.iter().map(|a| a["action"]["target"]["path"].as_str().unwrap()).collect();
    targets.sort();
    assert_eq!(targets, [user.to_str().unwrap(), system.to_str().unwrap()]);
    // The hives themselves are never proposed for quarantine.
    assert!(!list.iter().any(|a| a["action"]["kind"] == "quarantine"
        && a["action"]["target"]["path"].as_str().is_some_and(|p| p == system.to_str().unwrap())));
    let ids: Vec<&str> = cleanings.iter().map(|a| a["action"]["id"].as_str().unwrap()).collect();
    // Destructive: alice proposed it, so she cannot approve it.
    assert_ne!(takedown(&db, &[&["--user", "alice", "approve"][..], &ids[..1]].concat()).code, 0);
    assert_eq!(takedown(&db, &[&["--user", "bob", "approve"][..], &ids].concat()).code, 0);

    // A hive another program holds a lock on is in use: left alone, the action
    // failed with why; approved again once it is free, it runs.
    let lock = std::fs::File::open(&system).unwrap();
    lock.lock().unwrap();
    let r = takedown(&db, &["--user", "bob", "run", "--campaign", "wc", "--vault", v]);
    assert!(r.stdout.contains("is in use (another program holds a lock on it)"), "{}{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read(&system).unwrap(), system_bytes);
    drop(lock);
    let system_action = cleanings
        .iter()
        .find(|a| a["action"]["target"]["path"] == system.to_str().unwrap())
        .map(|a| a["action"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(takedown(&db, &["--user", "bob", "approve", system_action]).code, 0);
    let r = takedown(&db, &["--user", "bob", "run", "--campaign", "wc", "--vault", v]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "wc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    for a in list.iter().filter(|a| a["action"]["kind"] == "clean-registry") {
        assert_eq!(a["action"]["state"], "verified", "{a}");
    }
    // Exactly the group's entries are gone; the clean service and Run value stay.
    let services = r"ControlSet001\Services";
    let gone = |before: &[String], after: &[String]| -> Vec<String> {
        before.iter().filter(|e| !after.contains(e)).cloned().collect()
    };
    let system_after = entries(&system);
    assert_eq!(
        gone(&system_before, &system_after),
        [
            format!(r"{services}\mssecsvc2.0"),
            format!(r"{services}\mssecsvc2.0 = ImagePath"),
            format!(r"{services}\mssecsvc2.0 = DisplayName"),
            format!(r"{services}\mssecsvc2.0 = Start"),
            format!(r"{services}\xqgbkfjpeizmw463"),
            format!(r"{services}\xqgbkfjpeizmw463 = ImagePath"),
            format!(r"{services}\xqgbkfjpeizmw463 = Start"),
        ]
    );
    assert!(system_after.contains(&format!(r"{services}\Tcpip = ImagePath")));
    let run = r"Software\Microsoft\Windows\CurrentVersion\Run";
    assert_eq!(
        gone(&user_before, &entries(&user)),
        [format!("{run} = xqgbkfjpeizmw463"), r"Software\WanaCrypt0r".into(), r"Software\WanaCrypt0r = wd".into()]
    );
    assert!(entries(&user).contains(&format!("{run} = OneDrive")));
    // A second sweep finds nothing in the registry.
    let r = takedown(&db, &["--output-format", "json", "sweep", host.join("Windows/System32").to_str().unwrap()]);
    assert!(!json(&r.stdout)["findings"].as_array().unwrap().iter().any(|f| f["kind"] == "registry"), "{}", r.stdout);

    for id in &ids {
        let r = takedown(&db, &["--user", "bob", "undo", id, "--vault", v]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    assert_eq!(std::fs::read(&system).unwrap(), system_bytes);
    assert_eq!(std::fs::read(&user).unwrap(), user_bytes);
}
