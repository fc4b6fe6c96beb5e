//! Intel from the shared corpus: ATT&CK in STIX 2.0 and 2.1, the OASIS TLP example
//! that is not valid STIX, signature-base IOC and YARA files. Each test skips with a
//! message when ../shared is absent.
#![allow(clippy::unwrap_used)]

use crate::common::{corpus_file, json, store_state, takedown};

#[test]
fn attack_enterprise_stix20_imports_whole_and_resolves_zinc() {
    let Some(file) = corpus_file("stix/mitre-attack-enterprise-v18.1-stix20.json.gz") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["--output-format", "json", "intel", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = json(&r.stdout);
    assert_eq!(report["files"][0]["objects"], 24_771);
    assert_eq!(report["summary"]["new_objects"], 24_771);
    assert_eq!(report["summary"]["by_type"]["relationship"], 20_048);

    for name in [
        "Lazarus Group",
        "ZINC",
        "HIDDEN COBRA",
        "Diamond Sleet",
        "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a",
    ] {
        let r = takedown(&db, &["--output-format", "json", "intel", "show", name]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let p = json(&r.stdout);
        assert_eq!(p["name"], "Lazarus Group", "{name}");
        let objects = p["objects"].as_array().unwrap();
        assert!(objects.iter().any(|o| o["id"] == "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"), "{name}");
        // "Lazarus Group uses WannaCry", as ATT&CK states it.
        assert!(
            p["related"].as_array().unwrap().iter().any(|m| m["id"] == "malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661"),
            "{name}: WannaCry not among {}",
            p["related"]
        );
        assert!(p["techniques"].as_array().unwrap().len() > 50, "{name}");
    }

    // The same import again changes nothing.
    let again = takedown(&db, &["--output-format", "json", "intel", "import", file.to_str().unwrap()]);
    assert_eq!(json(&again.stdout)["summary"]["unchanged"], 24_771);

    // The export is one STIX 2.1 bundle holding every object.
    let r = takedown(&db, &["intel", "export", "--format", "stix21"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bundle = json(&r.stdout);
    let objects = bundle["objects"].as_array().unwrap();
    assert!(objects.len() > 24_771);
    assert!(objects.iter().all(|o| o["spec_version"] == "2.1"));
    assert!(objects.iter().filter(|o| o["type"] == "malware").all(|o| o["is_family"].is_boolean()));
}

#[test]
fn attack_ics_stix21_imports() {
    let Some(file) = corpus_file("stix/mitre-attack-ics-v18.1-stix21.json.gz") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["--output-format", "json", "intel", "import", file.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["summary"]["new_objects"], 1_826);
    let r = takedown(&db, &["--output-format", "json", "intel", "why", "WannaCry"]);
    assert!(r.code == 0 || r.code == 1, "{}", r.stderr);
}

#[test]
fn the_invalid_oasis_tlp_example_is_rejected_whole() {
    let Some(file) = corpus_file("stix/oasis-tlp2-green-example-invalid.json") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert_eq!(takedown(&db, &["intel", "show", "ZINC"]).code, 0);
    let before = store_state(&db);
    let r = takedown(&db, &["intel", "import", "--tlp", "green", file.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("not a STIX bundle"), "{}", r.stderr);
    assert!(r.stderr.contains("\"type\": \"bundle\""), "{}", r.stderr);
    assert!(r.stderr.contains("2022-101-27T13:49:54.326Z"), "the bad timestamp is named: {}", r.stderr);
    assert_eq!(store_state(&db), before);
}

#[test]
fn signature_base_ioc_files_import() {
    let Some(iocs) = corpus_file("signature-base/iocs") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let files: Vec<String> = ["hash-iocs.txt", "filename-iocs.txt", "c2-iocs.txt"]
        .iter()
        .map(|f| iocs.join(f).display().to_string())
        .collect();
    let mut args = vec!["--output-format", "json", "intel", "import"];
    args.extend(files.iter().map(String::as_str));
    let r = takedown(&db, &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report = json(&r.stdout);
    let mut total = 0;
    for f in report["files"].as_array().unwrap() {
        let skipped = f.get("skipped_lines").and_then(|s| s.as_array()).map_or(0, Vec::len);
        eprintln!("{}: {} indicators, {} lines skipped", f["path"], f["objects"], skipped);
        if let Some(lines) = f.get("skipped_lines").and_then(|s| s.as_array()) {
            for l in lines {
                eprintln!("  skipped {l}");
            }
        }
        total += f["objects"].as_u64().unwrap();
        // Every line that is not a comment became an indicator or was reported.
        let text = std::fs::read_to_string(f["path"].as_str().unwrap()).unwrap();
        let lines = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).count();
        assert_eq!(f["objects"].as_u64().unwrap() as usize + skipped, lines, "{}", f["path"]);
    }
    assert_eq!(total, 3_224 + 3_828 + 1_844);
    // keywords.txt is none of the three kinds and is refused by name.
    let r = takedown(&db, &["intel", "import", iocs.join("keywords.txt").to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("\"hash\", \"filename\" or \"c2\""), "{}", r.stderr);
    // A hash from the file is explained.
    let r = takedown(
        &db,
        &[
            "--output-format",
            "json",
            "intel",
            "why",
            "ce583821191345274cd954b2db7da9742c239fe413fc17dcb97ffdd7b51cb072",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(json(&r.stdout)["chains"][0]["indicator"]["name"], "Dark Caracal - MS Windows HtmlHelp Data");
}

#[test]
fn signature_base_yara_rules_all_compile() {
    let Some(rules) = corpus_file("signature-base/yara") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let r = takedown(&db, &["--output-format", "json", "intel", "import", rules.to_str().unwrap()]);
    if r.code != 0 {
        eprintln!("{}", r.stderr);
    }
    assert_eq!(r.code, 0, "rule files were rejected (listed above)");
    let report = json(&r.stdout);
    let files = report["files"].as_array().unwrap();
    let rule_count: usize = files.iter().map(|f| f["rules"].as_array().map_or(0, Vec::len)).sum();
    eprintln!("{} rule files, {rule_count} rules", files.len());
    assert_eq!(files.len(), 741);
    // A WannaCry rule from the collection is found by name.
    let r = takedown(&db, &["--output-format", "json", "intel", "why", "WannaCry_Ransomware"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
}
