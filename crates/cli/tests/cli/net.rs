//! `takedown net` through the binary: the shared captures against truth.json,
//! bad input, and the benign capture CI makes with smbclient.
#![allow(clippy::unwrap_used)]

use crate::common::{corpus_file, json, skip, takedown};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Roles per host from `takedown net --output-format json FILE`.
fn roles(db: &Path, file: &Path) -> (i32, BTreeMap<String, BTreeSet<String>>, serde_json::Value) {
    let run = takedown(db, &["--output-format", "json", "net", file.to_str().unwrap()]);
    assert!(run.code == 0 || run.code == 1, "exit {}: {}", run.code, run.stderr);
    let doc = json(&run.stdout);
    let mut out = BTreeMap::new();
    for h in doc["hosts"].as_array().expect("hosts") {
        let ip = h["ip"].as_str().expect("ip").to_string();
        let r: BTreeSet<String> =
            h["roles"].as_array().expect("roles").iter().map(|r| r.as_str().unwrap().to_string()).collect();
        assert!(!r.is_empty(), "{ip} has no role");
        assert!(
            !h["evidence"].as_array().expect("evidence").is_empty() || r.contains("clean"),
            "{ip} has roles without evidence"
        );
        out.insert(ip, r);
    }
    (run.code, out, doc)
}

#[test]
fn shared_captures_match_truth() {
    let Some(truth_path) = corpus_file("pcaps/truth.json") else { return };
    let truth: serde_json::Value = json(&std::fs::read_to_string(&truth_path).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let mut checked = 0;
    for (file, expected) in truth.as_object().unwrap().iter().filter(|(k, _)| !k.starts_with('_')) {
        let path = truth_path.parent().unwrap().join(file);
        let (code, got, doc) = roles(&db, &path);
        let mut any_attack = false;
        for (key, role) in [
            ("attackers", "attacker"),
            ("exploited", "exploited"),
            ("implanted", "implanted"),
            ("vulnerable", "vulnerable"),
        ] {
            for ip in expected[key].as_array().unwrap() {
                let ip = ip.as_str().unwrap();
                any_attack |= role != "vulnerable";
                assert!(
                    got.get(ip).is_some_and(|r| r.contains(role)),
                    "{file}: {ip} should be {role}, got {:?}",
                    got.get(ip)
                );
                checked += 1;
            }
        }
        for ip in expected["clean"].as_array().unwrap() {
            let ip = ip.as_str().unwrap();
            if let Some(r) = got.get(ip) {
                assert!(
                    r.iter().all(|r| r != "attacker" && r != "exploited" && r != "implanted"),
                    "{file}: {ip} should be clean, got {r:?}"
                );
            }
            checked += 1;
        }
        assert_eq!(code, i32::from(any_attack), "{file}: exit code");
        assert!(doc["stats"]["packets"].as_u64().unwrap() > 0, "{file}: no packets counted");
        assert!(doc["stats"]["seconds"].as_f64().is_some());
    }
    assert!(checked > 20, "truth.json names only {checked} host roles");
}

#[test]
fn not_a_capture_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "this is not a capture\n").unwrap();
    let run = takedown(&db, &["--output-format", "json", "net", junk.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("notes.txt") && run.stderr.contains("not a packet capture"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "nothing half-written: {}", run.stdout);
    let empty = dir.path().join("empty.pcap");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(takedown(&db, &["net", empty.to_str().unwrap()]).code, 2);
    assert_eq!(takedown(&db, &["net", dir.path().join("missing.pcap").to_str().unwrap()]).code, 2);
}

#[test]
fn truncated_capture_is_read_up_to_the_cut() {
    let Some(path) = corpus_file("pcaps/eternalblue-success-unpatched-win7.pcap") else { return };
    let bytes = std::fs::read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    for cut in [24, 100, bytes.len() / 3, bytes.len() - 7] {
        let f = dir.path().join(format!("cut{cut}.pcap"));
        std::fs::write(&f, &bytes[..cut]).unwrap();
        let run = takedown(&db, &["--output-format", "json", "net", f.to_str().unwrap()]);
        assert!(run.code == 0 || run.code == 1, "cut at {cut}: exit {} {}", run.code, run.stderr);
        json(&run.stdout);
    }
}

#[test]
fn findings_are_stored_under_a_campaign() {
    let Some(path) = corpus_file("pcaps/doublepulsar-backdoor-connect-win7.pcap") else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let run = takedown(&db, &["net", "--campaign", "nope", path.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    let made = takedown(&db, &["campaign", "create", "wc", "--actor", "Lazarus Group"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let run = takedown(&db, &["--output-format", "json", "net", "--campaign", "wc", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let stored = json(&run.stdout)["stored"].as_u64().unwrap();
    assert!(stored >= 2, "stored {stored}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM findings WHERE detector LIKE 'net.%'", [], |r| r.get(0)).unwrap();
    assert_eq!(n as u64, stored);
}

#[test]
fn text_table_is_sorted() {
    let Some(path) = corpus_file("pcaps/wannacry.pcap") else { return };
    let dir = tempfile::tempdir().unwrap();
    let run = takedown(&dir.path().join("t.db"), &["net", path.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let ips: Vec<std::net::IpAddr> =
        run.stdout.lines().skip(1).filter_map(|l| l.split_whitespace().next()?.parse().ok()).collect();
    assert!(ips.len() >= 5, "{}", run.stdout);
    assert!(ips.windows(2).all(|w| w[0] < w[1]), "{}", run.stdout);
}

/// CI captures smbclient against smbd over SMB1 and SMB3 (.ci/setup.d/40-net.sh).
#[test]
fn benign_smb_is_not_an_attack() {
    let Some(path) = std::env::var_os("TAKEDOWN_BENIGN_PCAP") else {
        skip("TAKEDOWN_BENIGN_PCAP is not set (.ci/setup.d/40-net.sh captures smbclient talking to smbd)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (code, got, doc) = roles(&dir.path().join("t.db"), Path::new(&path));
    assert_eq!(code, 0, "{doc}");
    assert!(!got.is_empty(), "no host seen in the benign capture: {doc}");
    assert!(doc["stats"]["smb1_messages"].as_u64().unwrap() > 0, "no SMB1 in the benign capture: {doc}");
    assert!(doc["stats"]["smb2_messages"].as_u64().unwrap() > 0, "no SMB2/3 in the benign capture: {doc}");
    for (ip, r) in got {
        assert!(r.iter().all(|r| r != "attacker" && r != "exploited" && r != "implanted"), "{ip}: {r:?}");
    }
}

/// Live capture is a build feature; without it, --interface says how to get it.
#[cfg(not(feature = "live"))]
#[test]
fn interface_without_the_live_feature_says_how_to_build() {
    let dir = tempfile::tempdir().unwrap();
    let run = takedown(&dir.path().join("t.db"), &["net", "--interface", "lo", "--duration", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--features live"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!dir.path().join("t.db").exists(), "nothing written");
}

#[test]
fn files_and_interface_do_not_mix() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    assert_eq!(takedown(&db, &["net", "--interface", "lo", "x.pcap"]).code, 2);
    assert_eq!(takedown(&db, &["net", "--duration", "3", "x.pcap"]).code, 2);
    assert_eq!(takedown(&db, &["net"]).code, 2);
}
