//! The intel commands end to end, on the built-in pack and small files of our own.
#![allow(clippy::unwrap_used)]

use crate::common::{json, takedown};

fn bundle(objects: &str) -> String {
    format!(r#"{{"type":"bundle","id":"bundle--6e829ce5-d385-5ff1-9f98-d01f266b3b36","objects":[{objects}]}}"#)
}

fn malware(modified: &str, name: &str, markings: &str) -> String {
    format!(
        r#"{{"type":"malware","spec_version":"2.1","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
        "created":"2019-03-25T17:30:17.004Z","modified":"{modified}","name":"{name}","is_family":true{markings}}}"#
    )
}

#[test]
fn an_empty_store_knows_zinc() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for alias in ["ZINC", "HIDDEN COBRA", "Diamond Sleet", "lazarus group"] {
        let r = takedown(&db, &["intel", "show", alias]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.starts_with("Lazarus Group  (intrusion-set)"), "{alias}: {}", r.stdout);
        assert!(r.stdout.contains("WannaCry"));
        assert!(r.stdout.contains("ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa"));
    }
}

#[test]
fn why_gives_the_chain_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["intel", "why", "24d004a104d4d54034dbcffc2a4b19a11f39008a575aa614ea04703480b1022c"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("WannaCry worm (mssecsvc.exe)"), "{}", r.stdout);
    assert!(r.stdout.contains("→ indicates malware \"WannaCry\""), "{}", r.stdout);
    assert!(r.stdout.contains("→ used by intrusion-set \"Lazarus Group\"  (link: confidence 85"), "{}", r.stdout);
    let r = takedown(&db, &["intel", "why", "example.org"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("no indicator matches"));
}

#[test]
fn names_from_intel_files_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let file = dir.path().join("odd.json");
    // JSON escapes: a newline and an ESC sequence inside the name.
    let name = r"Evil\nLazarus Group  (intrusion-set)\u001b[2J";
    std::fs::write(&file, bundle(&malware("2019-03-25T17:30:17.004Z", name, ""))).unwrap();
    let r = takedown(&db, &["intel", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = takedown(&db, &["intel", "show", "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains('\x1b'), "{:?}", r.stdout);
    assert!(r.stdout.starts_with("Evil\\nLazarus Group  (intrusion-set)\\u{1b}[2J  (malware)\n"), "{:?}", r.stdout);
}

#[test]
fn newer_versions_win_and_history_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let v1 = dir.path().join("v1.json");
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v1, bundle(&malware("2019-03-25T17:30:17.004Z", "Old Name", ""))).unwrap();
    std::fs::write(&v2, bundle(&malware("2020-01-01T00:00:00.000Z", "New Name", ""))).unwrap();
    let r = takedown(&db, &["--output-format", "json", "intel", "import", v2.to_str().unwrap()]);
    assert_eq!(json(&r.stdout)["summary"]["new_objects"], 1);
    let r = takedown(&db, &["--output-format", "json", "intel", "import", v1.to_str().unwrap()]);
    assert_eq!(json(&r.stdout)["summary"]["older_versions"], 1);
    let r =
        takedown(&db, &["--output-format", "json", "intel", "show", "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"]);
    assert_eq!(json(&r.stdout)["name"], "New Name");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let versions: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM stix_objects WHERE id = 'malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(versions, 2);
}

#[test]
fn tlp_is_applied_never_loosened_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let f = dir.path().join("red.json");
    let red = r#","object_marking_refs":["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]"#;
    std::fs::write(&f, bundle(&malware("2019-03-25T17:30:17.004Z", "Secret", red))).unwrap();
    assert_eq!(takedown(&db, &["intel", "import", "--tlp", "green", f.to_str().unwrap()]).code, 0);
    let out = dir.path().join("out.json");
    let r = takedown(&db, &["intel", "export", "--format", "stix21", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = json(&std::fs::read_to_string(&out).unwrap());
    let objects = b["objects"].as_array().unwrap();
    let secret = objects.iter().find(|o| o["name"] == "Secret").unwrap();
    assert_eq!(
        secret["object_marking_refs"],
        serde_json::json!(["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"])
    );
    // Every marking referenced is defined in the bundle, as TLP 2.0.
    for level in ["TLP:RED", "TLP:CLEAR"] {
        let def = objects.iter().find(|o| o["name"] == level).unwrap_or_else(|| panic!("{level} not defined"));
        assert_eq!(def["type"], "marking-definition");
        assert!(def["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"].is_string());
    }
    assert_eq!(b["type"], "bundle");
}

#[test]
fn audit_chain_verifies_and_names_a_tampered_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let f = dir.path().join("m.json");
    std::fs::write(&f, bundle(&malware("2019-03-25T17:30:17.004Z", "A", ""))).unwrap();
    assert_eq!(takedown(&db, &["intel", "import", f.to_str().unwrap()]).code, 0);
    assert_eq!(takedown(&db, &["intel", "export", "-o", dir.path().join("x.json").to_str().unwrap()]).code, 0);
    let r = takedown(&db, &["audit", "verify"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("3 event(s)"), "{}", r.stdout);
    let r = takedown(&db, &["audit", "list"]);
    assert!(r.stdout.contains("intel.import") && r.stdout.contains("tester"), "{}", r.stdout);

    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 2;")
        .unwrap();
    let r = takedown(&db, &["--output-format", "json", "audit", "verify"]);
    assert_eq!(r.code, 1);
    assert_eq!(json(&r.stdout)["first_broken"]["seq"], 2);
}

#[test]
fn audit_verify_without_a_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let r = takedown(&dir.path().join("none.db"), &["audit", "verify"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no database at"), "{}", r.stderr);
}

#[test]
fn demo_runs() {
    let dir = tempfile::tempdir().unwrap();
    let r = takedown(&dir.path().join("unused.db"), &["demo"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Lazarus Group (intrusion-set), also known as"), "{}", r.stdout);
    assert!(r.stdout.contains("→ used by Lazarus Group (confidence 85"), "{}", r.stdout);
    assert!(!dir.path().join("unused.db").exists(), "the demo must not touch the user's database");
}

#[test]
fn demo_leaves_one_whole_case() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("demo.db");
    let r = takedown(&dir.path().join("unused.db"), &["demo", "--keep", kept.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let conn = rusqlite::Connection::open(&kept).unwrap();
    let campaigns: i64 = conn.query_row("SELECT COUNT(*) FROM campaigns", [], |r| r.get(0)).unwrap();
    assert_eq!(campaigns, 1, "the tour files everything under one campaign");
    let detectors: Vec<String> = conn
        .prepare("SELECT DISTINCT detector FROM findings ORDER BY detector")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for prefix in ["sweep.", "net.", "accounts.rank.", "accounts.exposure", "accounts.seed", "accounts.judged"] {
        assert!(detectors.iter().any(|d| d.starts_with(prefix)), "no {prefix} finding in {detectors:?}");
    }
    let kinds: Vec<(String, String)> = conn
        .prepare("SELECT kind, state FROM actions ORDER BY kind, state")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // Carried out: a file moved into the vault and one brought back; accounts disabled
    // (a dry run cannot be read back, so done rather than verified).
    for (kind, states) in [
        ("quarantine", &["verified"][..]),
        ("quarantine", &["undone"][..]),
        ("disable-account", &["done", "verified"][..]),
    ] {
        let found = kinds.iter().any(|(k, s)| k == kind && states.contains(&s.as_str()));
        assert!(found, "no {states:?} {kind} action in {kinds:?}");
    }
    assert!(kinds.iter().any(|(k, _)| k == "notify"), "{kinds:?}");
    assert!(r.stdout.contains("quarantine list") && r.stdout.contains(" undo "), "{}", r.stdout);
}

#[test]
fn a_campaign_exports_its_group_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    // An unrelated group in the same store must stay out of the campaign's bundle.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        bundle(
            r#"{"type":"intrusion-set","spec_version":"2.1","id":"intrusion-set--0b5d2b8a-7d3f-4bb0-a4b7-5f6e3f2c1d0e",
            "created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z","name":"Unrelated Panda"}"#,
        ),
    )
    .unwrap();
    assert_eq!(takedown(&db, &["intel", "import", other.to_str().unwrap()]).code, 0);
    let r = takedown(&db, &["campaign", "create", "wannacry-2017", "--actor", "HIDDEN COBRA", "--tlp", "amber+strict"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = takedown(&db, &["campaign", "create", "wannacry-2017", "--actor", "ZINC"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    let out = dir.path().join("c.json");
    let r = takedown(&db, &["intel", "export", "--campaign", "wannacry-2017", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let b = json(&std::fs::read_to_string(&out).unwrap());
    let objects = b["objects"].as_array().unwrap();
    let grouping = &objects[0];
    assert_eq!(grouping["type"], "grouping");
    assert_eq!(grouping["name"], "wannacry-2017");
    assert_eq!(grouping["object_marking_refs"][0], takedown_model::Tlp::AmberStrict.marking_id());
    let ids: Vec<&str> = objects.iter().map(|o| o["id"].as_str().unwrap()).collect();
    for r in grouping["object_refs"].as_array().unwrap() {
        assert!(ids.contains(&r.as_str().unwrap()), "{r} is grouped but not in the bundle");
    }
    assert!(objects.iter().any(|o| o["name"] == "Lazarus Group"));
    assert!(objects.iter().any(|o| o["name"] == "WannaCry"));
    assert!(!objects.iter().any(|o| o["name"] == "Unrelated Panda"));
    let r = takedown(&db, &["--output-format", "json", "campaign", "list"]);
    assert_eq!(json(&r.stdout)[0]["name"], "wannacry-2017");
}

#[test]
fn without_a_user_named_the_audit_trail_names_the_account_the_process_runs_as() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_takedown"))
        .arg("--db")
        .arg(&db)
        .args(["campaign", "create", "zinc"])
        .env_remove("TAKEDOWN_USER")
        .env_remove("USER")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let uid = takedown_sweep::effective_uid().unwrap();
    let Some(me) = takedown_sweep::user_name(uid) else {
        return crate::common::skip(&format!("uid {uid} has no line in /etc/passwd"));
    };
    let r = takedown(&db, &["--output-format", "json", "audit", "list"]);
    let events = json(&r.stdout);
    let create = events.as_array().unwrap().iter().find(|e| e["verb"] == "campaign.create").unwrap().clone();
    assert_eq!(create["actor"], me.as_str(), "{}", r.stdout);
}
