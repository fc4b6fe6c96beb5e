//! The reader and the editor against libhivex, an independent implementation: every
//! key and every value of the real hives in `../shared/corpus/hives` as `hivexml`
//! prints them must be what takedown reads; and entries planted with `hivexsh` and
//! removed by takedown must leave a hive that `hivexml` reads as the original.
//! Skipped without the hives or without libhivex's tools (Debian package
//! libhivex-bin); failing instead under TAKEDOWN_REQUIRE_PEERS.
#![allow(clippy::unwrap_used)]

use base64::Engine;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use takedown_hive::{remove, Hive, HiveBuilder, Removal, ValueType};

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

/// Runs `hivexsh -w` on `hive` with `script` on its standard input.
fn hivexsh(hive: &Path, script: &str) {
    let mut child =
        Command::new("hivexsh").arg("-w").arg(hive).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hivexsh: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn entries_removed_by_takedown_leave_the_hive_libhivex_read_before_they_were_planted() {
    let Some(paths) = hives() else { return };
    let system = &paths[0];
    let Some(original) = from_hivexml(system) else { return };
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("SYSTEM");
    std::fs::copy(system, &planted).unwrap();
    // The worm's service with three values, and a random-named one with a subkey;
    // a new value on a key that keeps its others.
    hivexsh(
        &planted,
        "cd \\ControlSet001\\Services\nadd mssecsvc2.0\ncd mssecsvc2.0\nsetval 3\nImagePath\nstring:C:\\WINDOWS\\mssecsvc.exe -m security\nDisplayName\nstring:Microsoft Security Center (2.0) Service\nStart\ndword:2\ncd ..\nadd xqgbkfjpeizmw463\ncd xqgbkfjpeizmw463\nsetval 1\nImagePath\nstring:cmd.exe /c tasksche.exe\nadd Parameters\ncommit\n",
    );
    let with_planted = from_hivexml(&planted).unwrap();
    assert_eq!(with_planted.len(), original.len() + 3);

    let bytes = std::fs::read(&planted).unwrap();
    let services = r"ControlSet001\Services";
    let removals =
        [Removal::Key(format!(r"{services}\mssecsvc2.0")), Removal::Key(format!(r"{services}\XQGBKFJPEIZMW463"))];
    let cleaned = remove(&bytes, &removals).unwrap();
    assert_eq!(bytes.len(), cleaned.len());
    let cleaned_path = dir.path().join("SYSTEM.cleaned");
    std::fs::write(&cleaned_path, &cleaned).unwrap();
    // libhivex reads the cleaned hive as the original, key for key and value for value.
    assert_eq!(from_hivexml(&cleaned_path).unwrap(), original);
    // And so does takedown, with a clean base block and nothing left unreadable.
    let hive = Hive::parse(&cleaned).unwrap();
    assert!(hive.checksum_ok() && !hive.is_dirty());
    let (ours, keys) = from_takedown(&cleaned);
    assert_eq!(keys as usize, original.len());
    assert_eq!(ours, original);

    // Removing what is not there is refused, and changes nothing.
    assert!(remove(&cleaned, &removals[..1]).is_err());

    // Values one by one: one of three, then the last two (the key keeps no list).
    let worm = format!(r"{services}\mssecsvc2.0");
    let value = |name: &str| Removal::Value { key: worm.clone(), name: name.into() };
    let mut want = with_planted.clone();
    let one = remove(&bytes, &[value("displayname")]).unwrap();
    want.get_mut(&worm).unwrap().remove("DisplayName");
    std::fs::write(&cleaned_path, &one).unwrap();
    assert_eq!(from_hivexml(&cleaned_path).unwrap(), want);
    let none = remove(&one, &[value("ImagePath"), value("Start")]).unwrap();
    want.get_mut(&worm).unwrap().clear();
    std::fs::write(&cleaned_path, &none).unwrap();
    assert_eq!(from_hivexml(&cleaned_path).unwrap(), want);
    assert_eq!(from_takedown(&none).0, want);
}

#[test]
fn a_hive_takedown_writes_is_one_libhivex_reads() {
    let mut h = HiveBuilder::new(r"\SystemRoot\System32\Config\SYSTEM");
    let values = [h.string("ImagePath", r"C:\WINDOWS\mssecsvc.exe -m security"), h.dword("Start", 2)];
    let worm = h.key("mssecsvc2.0", &[], &values);
    let tcpip = h.key("Tcpip", &[], &[]);
    let services = h.key("Services", &[worm, tcpip], &[]);
    let root = h.key("ROOT", &[services], &[]);
    let bytes = h.finish(root);
    let hive = Hive::parse(&bytes).unwrap();
    assert!(hive.embedded_name().ends_with(r"\Config\SYSTEM"), "{}", hive.embedded_name());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SYSTEM");
    std::fs::write(&path, &bytes).unwrap();
    let Some(theirs) = from_hivexml(&path) else { return };
    let (ours, keys) = from_takedown(&bytes);
    assert_eq!(keys, 4);
    assert_eq!(ours, theirs);
    assert_eq!(theirs[r"Services\mssecsvc2.0"]["ImagePath"], r"C:\WINDOWS\mssecsvc.exe -m security");
}
