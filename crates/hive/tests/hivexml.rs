//! The reader against libhivex, an independent implementation: every key and every
//! value of the real hives in `../shared/corpus/hives` as `hivexml` prints them must
//! be what takedown reads. Skipped without the hives or without `hivexml` (Debian
//! package libhivex-bin); failing instead under TAKEDOWN_REQUIRE_PEERS.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use takedown_hive::{Hive, ValueType};

fn skip(why: &str) {
    if std::env::var_os("TAKEDOWN_REQUIRE_PEERS").is_some() {
        panic!("TAKEDOWN_REQUIRE_PEERS is set, but {why}");
    }
    eprintln!("SKIPPED: {why}");
}

fn hives() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/hives");
    let found: Vec<PathBuf> = ["SYSTEM", "NTUSER.DAT"].iter().map(|n| dir.join(n)).filter(|p| p.is_file()).collect();
    if found.len() < 2 {
        skip(&format!("the real hives are not in {}", dir.display()));
        return None;
    }
    Some(found)
}

/// Key path -> value name -> the value as hivexml shows it.
type Listing = BTreeMap<String, BTreeMap<String, String>>;

fn from_hivexml(path: &Path) -> Option<Listing> {
    let out = match Command::new("hivexml").arg(path).output() {
        Ok(out) if out.status.success() => out.stdout,
        Ok(out) => panic!("hivexml {}: {}", path.display(), String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            skip(&format!("hivexml cannot run ({e}); install libhivex-bin"));
            return None;
        }
    };
    let text = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let mut listing = Listing::new();
    for node in doc.descendants().filter(|n| n.has_tag_name("node")) {
        let mut names: Vec<&str> =
            node.ancestors().filter(|n| n.has_tag_name("node")).map(|n| n.attribute("name").unwrap()).collect();
        names.pop(); // the root key
        names.reverse();
        let values = listing.entry(names.join("\\")).or_default();
        for v in node.children().filter(|n| n.has_tag_name("value")) {
            let name = v.attribute("key").unwrap_or("").to_string();
            let shown = match v.attribute("type").unwrap() {
                "string" | "expand" => v.attribute("value").unwrap_or("").to_string(),
                "int32" | "int64" => v.attribute("value").unwrap().to_string(),
                "string-list" => v
                    .children()
                    .filter(|s| s.has_tag_name("string"))
                    .map(|s| s.text().unwrap_or(""))
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => {
                    // hivexml breaks long base64 into lines, which XML reads as spaces.
                    let text: String = v.attribute("value").unwrap_or("").split_whitespace().collect();
                    let bytes = base64::engine::general_purpose::STANDARD.decode(text).unwrap();
                    bytes.iter().map(|b| format!("{b:02x}")).collect()
                }
            };
            values.insert(name, shown);
        }
    }
    Some(listing)
}

fn from_takedown(bytes: &[u8]) -> (Listing, u64) {
    let hive = Hive::parse(bytes).unwrap();
    let mut listing = Listing::new();
    let report = hive
        .walk(&mut |path, key| {
            let values = listing.entry(path.to_string()).or_default();
            for v in key.values().unwrap() {
                let text = v.text().unwrap();
                // hivexml prints 32- and 64-bit numbers signed.
                let shown = match v.value_type() {
                    ValueType::Dword => (text.parse::<u32>().unwrap() as i32).to_string(),
                    ValueType::Qword => (text.parse::<u64>().unwrap() as i64).to_string(),
                    _ => text,
                };
                values.insert(v.name(), shown);
            }
        })
        .unwrap();
    assert_eq!(report.problem_count, 0, "{:?}", report.problems);
    (listing, report.keys)
}

#[test]
fn every_key_and_value_reads_as_libhivex_reads_it() {
    let Some(paths) = hives() else { return };
    for path in paths {
        let Some(expected) = from_hivexml(&path) else { return };
        let bytes = std::fs::read(&path).unwrap();
        let (ours, keys) = from_takedown(&bytes);
        assert_eq!(keys as usize, expected.len(), "{}: keys", path.display());
        let values: usize = ours.values().map(BTreeMap::len).sum();
        assert!(values > 1000, "{}: only {values} values", path.display());
        for (key, want) in &expected {
            let got = ours.get(key).unwrap_or_else(|| panic!("{}: key {key:?} not read", path.display()));
            assert_eq!(got, want, "{}: the values of {key:?}", path.display());
        }
    }
}
