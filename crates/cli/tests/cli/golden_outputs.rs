//! Outputs users and their tools rely on, against golden files in `tests/golden/`:
//! the built-in pack as STIX 2.1, `intel show ZINC`, an RPZ zone and `net`'s JSON on
//! a shared capture. What changes from run to run (a bundle's random id, the zone's
//! serial, timings) is replaced by a placeholder first. After a deliberate change:
//! `TAKEDOWN_BLESS=1 cargo test -p takedown-cli --test cli golden`, then review
//! the diff.
#![allow(clippy::unwrap_used)]

use crate::common::{corpus_file, json, takedown};
use std::path::Path;

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name);
    if std::env::var_os("TAKEDOWN_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_default();
    if want != actual {
        let line = want.lines().zip(actual.lines()).position(|(a, b)| a != b).map_or(0, |i| i + 1);
        panic!(
            "{name} differs from tests/golden/{name} (first at line {line}); if deliberate, rerun with \
             TAKEDOWN_BLESS=1 and review the diff\n--- actual ---\n{actual}"
        );
    }
}

#[test]
fn the_built_in_pack_as_stix() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pack.json");
    let r = takedown(&dir.path().join("t.db"), &["intel", "export", "--format", "stix21", "-o", out.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut bundle = json(&std::fs::read_to_string(&out).unwrap());
    assert!(bundle["id"].as_str().unwrap().starts_with("bundle--"));
    bundle["id"] = "bundle--(random)".into();
    golden("builtin-pack.json", &format!("{}\n", serde_json::to_string_pretty(&bundle).unwrap()));
}

#[test]
fn intel_show_zinc() {
    let dir = tempfile::tempdir().unwrap();
    let r = takedown(&dir.path().join("t.db"), &["intel", "show", "ZINC"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    golden("intel-show-zinc.txt", &r.stdout);
}

#[test]
fn a_capture_as_json() {
    let Some(pcap) = corpus_file("pcaps/eternalblue-success-unpatched-win7.pcap") else { return };
    let dir = tempfile::tempdir().unwrap();
    let r = takedown(&dir.path().join("t.db"), &["--output-format", "json", "net", pcap.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let mut report = json(&r.stdout);
    assert!(report["stats"]["seconds"].is_number());
    report["stats"]["seconds"] = "(timing)".into();
    golden("net-eternalblue-success.json", &format!("{}\n", serde_json::to_string_pretty(&report).unwrap()));
}

#[test]
fn an_rpz_zone() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "block",
        "--format",
        "rpz",
        // A kill-switch domain (sinkholed, never blocked), a C2 name and an address.
        "--indicator",
        "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com",
        "--indicator",
        "c2.example.net",
        "--indicator",
        "203.0.113.66",
    ];
    let r = takedown(&dir.path().join("t.db"), &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zone: Vec<String> = r
        .stdout
        .lines()
        .map(|l| match l.split_once("IN SOA") {
            // The serial is the time of writing.
            Some((head, _)) => format!("{head}IN SOA (serial and timers)"),
            None => l.to_string(),
        })
        .collect();
    assert!(zone.iter().any(|l| l.contains("rpz-ip")), "{}", r.stdout);
    golden("rpz.txt", &(zone.join("\n") + "\n"));
}
