//! Quarantine as an action, end to end through the binary: a sweep files what a
//! rule matched under a campaign, `plan` proposes moving it, a second person
//! approves, `run --vault` moves it into the sweep's vault, `undo` puts it back
//! bit for bit with its mode, and the audit trail holds every step.
#![allow(clippy::unwrap_used)]

use crate::common::{json, takedown};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const RULE: &str = r#"rule takedown_test_implant {
    strings: $a = "TAKEDOWN-TEST-IMPLANT-7f3c"
    condition: $a
}
"#;

fn verbs(db: &Path) -> Vec<(String, String)> {
    let r = takedown(db, &["--output-format", "json", "audit", "list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    json(&r.stdout)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["verb"].as_str().unwrap().to_string(), e["object"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn sweep_plan_approve_quarantine_undo() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let implant = tree.join("updater.bin");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).chain(*b"..TAKEDOWN-TEST-IMPLANT-7f3c..").collect();
    std::fs::write(&implant, &bytes).unwrap();
    std::fs::set_permissions(&implant, std::fs::Permissions::from_mode(0o751)).unwrap();
    std::fs::write(tree.join("notes.txt"), "nothing to see").unwrap();
    let rules = dir.path().join("implant.yar");
    std::fs::write(&rules, RULE).unwrap();
    let vault = dir.path().join("vault");
    let v = vault.to_str().unwrap();

    assert_eq!(takedown(&db, &["--user", "alice", "campaign", "create", "zinc"]).code, 0);
    let r = takedown(
        &db,
        &[
            "--user",
            "alice",
            "sweep",
            "--no-builtin",
            "--rules",
            rules.to_str().unwrap(),
            "--campaign",
            "zinc",
            tree.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 1, "the sweep finds the implant: {}{}", r.stdout, r.stderr);
    assert!(implant.exists(), "a sweep without --quarantine moves nothing");

    let r = takedown(&db, &["--user", "alice", "plan", "--campaign", "zinc"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "zinc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1, "one quarantine for the one file: {list:?}");
    let action = &list[0]["action"];
    assert_eq!(action["kind"], "quarantine");
    assert_eq!(action["target"]["path"], implant.to_str().unwrap());
    let id = action["id"].as_str().unwrap().to_string();

    // Nothing runs before approval.
    let run = ["--user", "bob", "run", "--campaign", "zinc", "--vault", v];
    let r = takedown(&db, &run);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("no approved actions"), "{}", r.stdout);
    assert!(implant.exists());
    // Quarantine is destructive: its proposer cannot approve it.
    let r = takedown(&db, &["--user", "alice", "approve", &id]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("two-person rule"), "{}", r.stderr);
    assert_eq!(takedown(&db, &["--user", "bob", "approve", &id]).code, 0);

    let r = takedown(&db, &run);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("verified"), "{}", r.stdout);
    assert!(!implant.exists(), "the original is gone");
    let r = takedown(&db, &["--output-format", "json", "quarantine", "list", "--vault", v]);
    let items = json(&r.stdout)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["original_path"], implant.to_str().unwrap());
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "zinc"]);
    let done = &json(&r.stdout)["actions"][0];
    assert_eq!(done["action"]["state"], "verified");
    assert_eq!(done["result"]["item"], items[0]["id"]);

    let r = takedown(&db, &["--user", "bob", "undo", &id, "--vault", v]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read(&implant).unwrap(), bytes, "restored bit for bit");
    assert_eq!(std::fs::metadata(&implant).unwrap().permissions().mode() & 0o7777, 0o751, "with its mode");
    let r = takedown(&db, &["--output-format", "json", "quarantine", "list", "--vault", v]);
    assert!(json(&r.stdout)["items"].as_array().unwrap().is_empty(), "{}", r.stdout);
    // Undone once; a second undo is refused.
    let r = takedown(&db, &["--user", "bob", "undo", &id, "--vault", v]);
    assert_eq!(r.code, 2, "{}", r.stdout);

    let trail = verbs(&db);
    let path = implant.to_str().unwrap();
    let order = [
        ("action.propose", id.as_str()),
        ("action.approved", id.as_str()),
        ("action.running", id.as_str()),
        ("quarantine.copy", path),
        ("quarantine.verify", path),
        ("quarantine.record", path),
        ("quarantine.remove", path),
        ("action.done", id.as_str()),
        ("action.verified", id.as_str()),
        ("quarantine.restore", path),
        ("action.undone", id.as_str()),
    ];
    let mut at = 0;
    for (verb, object) in order {
        let found = trail[at..].iter().position(|(v, o)| v == verb && o == object);
        let Some(i) = found else { panic!("no {verb} {object} after event {at} in {trail:?}") };
        at += i + 1;
    }
    assert_eq!(takedown(&db, &["audit", "verify"]).code, 0);
}

/// The demo host: the worm, the encryptor, the victims' encrypted files, a ransom
/// note and a zip holding the encryptor. Planned from a built-in sweep, the
/// quarantine actions move the malware and the zip, never the victims' data.
#[test]
fn the_demo_host_quarantines_malware_and_archives_not_the_victims_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let host = dir.path().join("host");
    takedown_sweep::plant::plant_demo_host(&host).unwrap();
    let zip = host.join("Users/ana/Downloads/invoice.zip");
    let zip_bytes = std::fs::read(&zip).unwrap();
    let vault = dir.path().join("vault");
    let v = vault.to_str().unwrap();
    assert_eq!(takedown(&db, &["--user", "alice", "campaign", "create", "wc"]).code, 0);
    let r = takedown(&db, &["--user", "alice", "sweep", "--campaign", "wc", host.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(takedown(&db, &["--user", "alice", "plan", "--campaign", "wc"]).code, 0);
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "wc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    let targets: Vec<&str> = list
        .iter()
        .filter(|a| a["action"]["kind"] == "quarantine")
        .map(|a| a["action"]["target"]["path"].as_str().unwrap())
        .collect();
    assert!(targets.iter().all(|t| !t.ends_with(".WNCRY")), "the victims' files are not moved: {targets:?}");
    assert!(targets.iter().any(|t| t.contains("invoice.zip!")), "{targets:?}");
    assert!(targets.iter().any(|t| t.ends_with("Windows/mssecsvc.exe")), "{targets:?}");
    let ids: Vec<&str> = list
        .iter()
        .filter(|a| a["action"]["kind"] == "quarantine")
        .map(|a| a["action"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(takedown(&db, &[&["--user", "bob", "approve"][..], &ids].concat()).code, 0);

    let r = takedown(&db, &["--user", "bob", "run", "--campaign", "wc", "--vault", v]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!zip.exists() && !host.join("Windows/mssecsvc.exe").exists());
    assert!(host.join("Users/ana/Documents/thesis.docx.WNCRY").exists());
    let r = takedown(&db, &["--output-format", "json", "actions", "--campaign", "wc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    for a in list.iter().filter(|a| a["action"]["kind"] == "quarantine") {
        assert_eq!(a["action"]["state"], "verified", "{a}");
    }
    // The zip's action undoes by restoring the zip.
    let zip_action =
        list.iter().find(|a| a["action"]["target"]["path"].as_str().unwrap().contains("invoice.zip!")).unwrap();
    let id = zip_action["action"]["id"].as_str().unwrap();
    let r = takedown(&db, &["--user", "bob", "undo", id, "--vault", v]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(std::fs::read(&zip).unwrap(), zip_bytes);
}

/// A sweep of a relative path files the file's whole path, and `run` without
/// `--vault`, started from another folder, moves it into the default vault beside
/// the database.
#[test]
fn a_relative_sweep_is_quarantined_from_anywhere_into_the_default_vault() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let host = dir.path().join("host");
    std::fs::create_dir_all(&host).unwrap();
    let implant = host.join("updater.bin");
    std::fs::write(&implant, "..TAKEDOWN-TEST-IMPLANT-7f3c..").unwrap();
    let rules = dir.path().join("implant.yar");
    std::fs::write(&rules, RULE).unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let in_dir = |cwd: &Path, args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_takedown"))
            .current_dir(cwd)
            .arg("--db")
            .arg(&db)
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("TAKEDOWN_VAULT")
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert_eq!(in_dir(dir.path(), &["--user", "alice", "campaign", "create", "fl"]).0, 0);
    let sweep = ["--user", "alice", "sweep", "--no-builtin", "--rules", "implant.yar", "--campaign", "fl", "host"];
    assert_eq!(in_dir(dir.path(), &sweep).0, 1);
    assert_eq!(in_dir(dir.path(), &["--user", "alice", "plan", "--campaign", "fl"]).0, 0);
    let (_, out) = in_dir(dir.path(), &["--output-format", "json", "actions", "--campaign", "fl"]);
    let list = json(&out)["actions"].as_array().unwrap().clone();
    assert_eq!(list[0]["action"]["target"]["path"], implant.to_str().unwrap(), "filed whole: {list:?}");
    let id = list[0]["action"]["id"].as_str().unwrap().to_string();
    assert_eq!(in_dir(&elsewhere, &["--user", "bob", "approve", &id]).0, 0);
    let (code, out) = in_dir(&elsewhere, &["--user", "bob", "run", "--campaign", "fl"]);
    assert_eq!(code, 0, "{out}");
    assert!(!implant.exists(), "moved: {out}");
    assert!(dir.path().join("takedown-vault").is_dir(), "into the vault beside the database: {out}");
    assert!(!elsewhere.join("takedown-vault").exists());
}
