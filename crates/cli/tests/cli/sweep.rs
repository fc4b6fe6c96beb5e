//! `takedown sweep` and `takedown quarantine` end to end: findings and exit codes,
//! namespaces, bad rules, storage under a campaign, the vault round trip, parity
//! with classic `yara` on signature-base rules.
#![allow(clippy::unwrap_used)]

use crate::common::{corpus_file, json, skip, takedown};
use std::collections::BTreeSet;
use std::path::Path;

fn ndjson(s: &str) -> Vec<serde_json::Value> {
    s.lines().map(json).collect()
}

#[test]
fn the_demo_host_is_found_and_clean_files_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    takedown_sweep::plant::plant_demo_host(&host).unwrap();
    let db = dir.path().join("t.db");
    let run = takedown(&db, &["sweep", "--output-format", "ndjson", host.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = ndjson(&run.stdout);
    let (findings, summary) = lines.split_at(lines.len() - 1);
    let summary = &summary[0]["summary"];
    assert_eq!(summary["files"], 11);
    assert_eq!(summary["archives"], 1);
    assert_eq!((&summary["hives"], &summary["hives_damaged"]), (&2.into(), &0.into()));
    let kinds: BTreeSet<(String, String)> = findings
        .iter()
        .map(|f| {
            let path = f["path"].as_str().unwrap().strip_prefix(host.to_str().unwrap()).unwrap().to_string();
            (path, f["kind"].as_str().unwrap().to_string())
        })
        .collect();
    // Every kind of detection shows, and the clean files are not among them.
    for expected in [
        ("/Windows/mssecsvc.exe", "yara"),
        ("/Windows/tasksche.exe", "filename"),
        ("/Windows/tasksche.exe", "yara"),
        ("/Users/ana/Documents/thesis.docx.WNCRY", "artefact"),
        ("/Users/ana/Documents/@Please_Read_Me@.txt", "artefact"),
        ("/Users/ana/Downloads/invoice.zip", "filename"),
        ("/Windows/System32/config/SYSTEM", "registry"),
        ("/Users/ana/NTUSER.DAT", "registry"),
    ] {
        assert!(kinds.contains(&(expected.0.to_string(), expected.1.to_string())), "{expected:?} in {kinds:?}");
    }
    assert!(!kinds.iter().any(|(p, _)| p.ends_with("notes.txt") || p.ends_with("photo.jpg")));
    // Data loss names the original that is gone, and only for the lost ones.
    let lost: BTreeSet<&str> =
        findings.iter().filter(|f| f["rule"] == "data-loss").map(|f| f["original"].as_str().unwrap()).collect();
    assert_eq!(lost.len(), 2, "{lost:?}");
    assert!(lost.iter().all(|p| p.ends_with("budget-2017.xlsx") || p.ends_with("thesis.docx")));
    // YARA findings carry the rule, its file, matched strings, the hash and the intel.
    let worm = findings.iter().find(|f| f["rule"] == "takedown_WannaCry_Worm").unwrap();
    assert!(worm["strings"].as_array().is_some_and(|s| !s.is_empty()));
    assert_eq!(worm["sha256"].as_str().unwrap().len(), 64);
    assert!(worm["malware"].as_array().unwrap().iter().any(|m| m == "WannaCry"), "{worm}");
    assert!(worm["groups"].as_array().unwrap().iter().any(|m| m == "Lazarus Group"), "{worm}");
    // Inside the zip: the member is named.
    assert!(findings.iter().any(|f| f["member"] == "invoice/tasksche.exe"));
    // In the registry: the worm's service, the encryptor's random-named service and
    // Run value, and its key; not the clean service or the clean Run value.
    let mut entries: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f["kind"] == "registry")
        .map(|f| (f["key"].as_str().unwrap(), f["value"].as_str().unwrap_or("")))
        .collect();
    entries.dedup();
    let services = r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services";
    let run_key = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run";
    assert_eq!(
        entries,
        [
            (run_key, "xqgbkfjpeizmw463"),
            (r"HKEY_CURRENT_USER\Software\WanaCrypt0r", ""),
            (&format!(r"{services}\mssecsvc2.0") as &str, ""),
            (&format!(r"{services}\mssecsvc2.0"), "ImagePath"),
            (&format!(r"{services}\xqgbkfjpeizmw463"), "ImagePath"),
        ]
    );

    let clean = dir.path().join("clean");
    std::fs::create_dir_all(&clean).unwrap();
    std::fs::write(clean.join("a.txt"), "nothing").unwrap();
    let run = takedown(&db, &["sweep", clean.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn rule_files_keep_their_own_namespaces_and_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::create_dir_all(rules.join("sub")).unwrap();
    let rule = "rule Dup { strings: $a = \"planted-marker\" condition: $a }\n";
    std::fs::write(rules.join("first.yar"), rule).unwrap();
    std::fs::write(rules.join("sub/second.yar"), rule).unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("x.bin"), "xx planted-marker xx").unwrap();
    let db = dir.path().join("t.db");
    let run = takedown(
        &db,
        &[
            "sweep",
            "--no-builtin",
            "--rules",
            rules.to_str().unwrap(),
            "--output-format",
            "json",
            tree.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let out = json(&run.stdout);
    let files: BTreeSet<&str> =
        out["findings"].as_array().unwrap().iter().map(|f| f["rule_file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 2, "both copies of the rule report: {files:?}");

    std::fs::write(rules.join("broken.yar"), "rule ok { condition: true }\nrule bad {\n condition: $nope\n}\n")
        .unwrap();
    let run = takedown(&db, &["sweep", "--no-builtin", "--rules", rules.to_str().unwrap(), tree.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("broken.yar:3:"), "{}", run.stderr);

    let run = takedown(&db, &["sweep", "--exclude", "a[", tree.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--exclude"), "{}", run.stderr);
    let run = takedown(&db, &["sweep", dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing"), "{}", run.stderr);
}

#[test]
fn excludes_size_limit_and_campaign_storage() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    takedown_sweep::plant::plant_demo_host(&host).unwrap();
    let db = dir.path().join("t.db");
    let h = host.to_str().unwrap();
    // Excluding Windows, the downloads and the registry leaves only the documents.
    let run = takedown(
        &db,
        &[
            "sweep",
            "--exclude",
            "Windows",
            "--exclude",
            "*.zip",
            "--exclude",
            "NTUSER.DAT",
            "--output-format",
            "json",
            h,
        ],
    );
    let out = json(&run.stdout);
    assert!(out["findings"].as_array().unwrap().iter().all(|f| f["path"].as_str().unwrap().contains("/Documents/")));
    // Above the size limit, names still count but content does not.
    let run = takedown(&db, &["sweep", "--max-filesize", "64", "--output-format", "json", h]);
    let out = json(&run.stdout);
    assert!(out["summary"]["too_large"].as_u64().unwrap() > 0);
    assert!(out["findings"].as_array().unwrap().iter().all(|f| f["kind"] != "yara"));

    let run = takedown(&db, &["sweep", "--campaign", "nope", h]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("campaign create"), "{}", run.stderr);
    assert_eq!(takedown(&db, &["campaign", "create", "wc", "--actor", "ZINC"]).code, 0);
    let first = json(&takedown(&db, &["sweep", "--campaign", "wc", "--output-format", "json", h]).stdout);
    let n = first["findings"].as_array().unwrap().len() as u64;
    assert_eq!(first["stored"], n);
    let again = json(&takedown(&db, &["sweep", "--campaign", "wc", "--output-format", "json", h]).stdout);
    assert_eq!(again["stored"], 0, "the same findings are not filed twice");
}

#[test]
fn quarantine_moves_hits_keeps_victims_data_and_restores_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    takedown_sweep::plant::plant_demo_host(&host).unwrap();
    let worm = host.join("Windows/mssecsvc.exe");
    let before = std::fs::read(&worm).unwrap();
    let db = dir.path().join("t.db");
    let vault = dir.path().join("vault");
    let v = vault.to_str().unwrap();
    let run =
        takedown(&db, &["sweep", "--quarantine", "--vault", v, "--output-format", "json", host.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let moved = json(&run.stdout)["quarantined"].as_array().unwrap().len();
    assert_eq!(moved, 4, "worm, encryptor, note and the zip: {}", run.stdout);
    assert!(!worm.exists());
    assert!(!host.join("Windows/tasksche.exe").exists());
    assert!(!host.join("Users/ana/Downloads/invoice.zip").exists());
    // Encrypted files are the victims' data: they stay.
    assert!(host.join("Users/ana/Documents/thesis.docx.WNCRY").exists());
    assert!(host.join("Users/ana/Documents/notes.txt").exists());

    let list = json(&takedown(&db, &["quarantine", "list", "--vault", v, "--output-format", "json"]).stdout);
    let items = list["items"].as_array().unwrap();
    let item = items.iter().find(|i| i["original_path"].as_str().unwrap().ends_with("mssecsvc.exe")).unwrap();
    let id = item["id"].as_str().unwrap();
    let run = takedown(&db, &["quarantine", "restore", id, "--vault", v]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(&worm).unwrap(), before);
    let run = takedown(&db, &["quarantine", "restore", id, "--vault", v]);
    assert_eq!(run.code, 2, "an item restores once");

    let audit = takedown(&db, &["audit", "verify"]);
    assert_eq!(audit.code, 0, "{}", audit.stdout);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let verbs: BTreeSet<String> = conn
        .prepare("SELECT verb FROM audit_events WHERE verb LIKE 'quarantine.%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: BTreeSet<String> =
        ["copy", "verify", "record", "remove", "restore"].iter().map(|v| format!("quarantine.{v}")).collect();
    assert_eq!(verbs, expected);
}

#[test]
fn a_hit_whose_path_is_not_utf8_is_quarantined_and_restored() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    // A directory name that is not UTF-8: shown with U+FFFD, but the file is moved.
    let odd = dir.path().join("host").join(std::ffi::OsStr::from_bytes(b"Users\xff"));
    std::fs::create_dir_all(&odd).unwrap();
    let note = odd.join("@Please_Read_Me@.txt");
    std::fs::write(&note, b"Ooops, your files have been encrypted!").unwrap();
    let db = dir.path().join("t.db");
    let v = dir.path().join("vault");
    let v = v.to_str().unwrap();
    let host = dir.path().join("host");
    let run =
        takedown(&db, &["sweep", "--quarantine", "--vault", v, "--output-format", "json", host.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let moved = json(&run.stdout)["quarantined"].as_array().unwrap().clone();
    assert_eq!(moved.len(), 1, "{}{}", run.stdout, run.stderr);
    assert!(moved[0]["path"].as_str().unwrap().contains("Users\u{fffd}"), "{}", run.stdout);
    assert!(!note.exists());
    let id = moved[0]["id"].as_str().unwrap();
    let run = takedown(&db, &["quarantine", "restore", id, "--vault", v]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(std::fs::read(&note).unwrap(), b"Ooops, your files have been encrypted!");
}

#[test]
fn a_file_deeper_than_the_path_limit_is_checked() {
    use std::os::fd::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let host = dir.path().join("host");
    std::fs::create_dir(&host).unwrap();
    // 25 folders of 200 characters: over 5,000 bytes, made through open folders
    // since such a path cannot be handed to the kernel whole.
    let name = "d".repeat(200);
    let mut open = std::fs::File::open(&host).unwrap();
    let mut deepest = host.clone();
    for _ in 0..25 {
        let next = format!("/proc/self/fd/{}/{name}", open.as_raw_fd());
        std::fs::create_dir(&next).unwrap();
        open = std::fs::File::open(&next).unwrap();
        deepest.push(&name);
    }
    let note = format!("/proc/self/fd/{}/@Please_Read_Me@.txt", open.as_raw_fd());
    std::fs::write(note, b"Ooops, your files have been encrypted!").unwrap();
    let db = dir.path().join("t.db");
    let run = takedown(&db, &["sweep", "--output-format", "ndjson", host.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines = ndjson(&run.stdout);
    let want = deepest.join("@Please_Read_Me@.txt");
    assert!(lines.iter().any(|h| h["path"] == want.to_str().unwrap() && h["kind"] == "artefact"), "{}", run.stdout);
    let summary = &lines.last().unwrap()["summary"];
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["files"], 1, "{summary}");
}

#[test]
fn a_file_name_cannot_forge_lines_of_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("host").join("x\nartefact  wannacry-ransom-note  /forged\x1b[2J");
    std::fs::create_dir_all(&odd).unwrap();
    std::fs::write(odd.join("@Please_Read_Me@.txt"), b"pay").unwrap();
    let db = dir.path().join("t.db");
    let run = takedown(&db, &["sweep", dir.path().join("host").to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.lines().any(|l| l.starts_with("artefact  wannacry-ransom-note  /forged")), "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);
    assert!(
        run.stdout.contains("x\\nartefact  wannacry-ransom-note  /forged\\u{1b}[2J/@Please_Read_Me@.txt"),
        "{}",
        run.stdout
    );
    // JSON keeps the name exactly (escaped by JSON itself).
    let run = takedown(&db, &["sweep", "--output-format", "ndjson", dir.path().join("host").to_str().unwrap()]);
    assert!(ndjson(&run.stdout)[0]["path"].as_str().unwrap().contains("x\nartefact"), "{}", run.stdout);
}

/// The same (file, rule) pairs as classic `yara -r` on planted files built from
/// signature-base's WannaCry and Lazarus rules.
#[test]
fn parity_with_yara_on_wannacry_and_lazarus_rules() {
    let Some(dir) = corpus_file("signature-base/yara") else { return };
    if std::process::Command::new("yara").arg("--version").output().is_err() {
        skip("the yara command is not installed (.ci/run installs Debian's yara)");
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with("apt_lazarus") || n == "crime_wannacry.yar"
        })
        .collect();
    files.sort();
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    for f in &files {
        let stem = f.file_stem().unwrap().to_str().unwrap();
        takedown_sweep::plant::plant_rules(&tree, stem, &std::fs::read_to_string(f).unwrap()).unwrap();
    }
    // Names and artefacts too: yara does not see them, takedown reports them as
    // other kinds, and the YARA pairs must still agree.
    std::fs::write(tree.join("report.pdf.WNCRY"), b"WANACRY!....").unwrap();
    std::fs::write(tree.join("tasksche.exe"), b"MZ").unwrap();

    let mut theirs = BTreeSet::new();
    for f in &files {
        let out = std::process::Command::new("yara").arg("-r").arg("-w").arg(f).arg(&tree).output().unwrap();
        assert!(out.status.success(), "yara failed on {}: {}", f.display(), String::from_utf8_lossy(&out.stderr));
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (rule, path) = line.split_once(' ').unwrap();
            theirs.insert((path.to_string(), rule.to_string()));
        }
    }
    let mut args = vec!["sweep".to_string(), "--no-builtin".into(), "--output-format".into(), "ndjson".into()];
    for f in &files {
        args.push("--rules".into());
        args.push(f.display().to_string());
    }
    args.push(tree.display().to_string());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = takedown(&tmp.path().join("t.db"), &args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let ours: BTreeSet<(String, String)> = ndjson(&run.stdout)
        .iter()
        .filter(|f| f["kind"] == "yara")
        .map(|f| (f["path"].as_str().unwrap().to_string(), f["rule"].as_str().unwrap().to_string()))
        .collect();
    assert!(theirs.len() >= 10, "too few matches to compare: {theirs:?}");
    assert_eq!(ours, theirs);
    assert!(Path::new(&tree).join("tasksche.exe").exists());
}
