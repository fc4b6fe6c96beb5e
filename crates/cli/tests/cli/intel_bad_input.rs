//! Bad input gets a clear message, exit 2, and leaves the store as it was.
#![allow(clippy::unwrap_used)]

use crate::common::{store_state, takedown};
use std::path::Path;

const GOOD: &str = r#"{"type":"bundle","id":"bundle--6e829ce5-d385-5ff1-9f98-d01f266b3b36","objects":[
 {"type":"malware","spec_version":"2.1","id":"malware--75ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
  "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","name":"Sample","is_family":true}]}"#;

fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let good = dir.path().join("good.json");
    std::fs::write(&good, GOOD).unwrap();
    let r = takedown(&db, &["intel", "import", good.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    (dir, db)
}

fn rejected(db: &Path, file: &Path, expect: &str) {
    let before = store_state(db);
    let good = file.parent().unwrap().join("good.json");
    // The bad file travels with a good one: neither may land.
    let r = takedown(db, &["intel", "import", good.to_str().unwrap(), file.to_str().unwrap()]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains(expect), "expected {expect:?} in: {}", r.stderr);
    assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
    assert_eq!(store_state(db), before, "a rejected import changed the store");
}

#[test]
fn truncated_json() {
    let (dir, db) = setup();
    let f = dir.path().join("truncated.json");
    std::fs::write(&f, &GOOD[..GOOD.len() / 2]).unwrap();
    rejected(&db, &f, "not valid JSON at line");
}

#[test]
fn garbled_json() {
    let (dir, db) = setup();
    let f = dir.path().join("garbled.json");
    std::fs::write(&f, GOOD.replace("\"objects\":[", "\"objects\":[}{")).unwrap();
    rejected(&db, &f, "not valid JSON");
}

#[test]
fn broken_object_in_the_middle() {
    let (dir, db) = setup();
    let f = dir.path().join("broken.json");
    let middle = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--85ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
      "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","pattern_type":"stix",
      "pattern":"[file:name = ","valid_from":"2019-03-25T17:30:17.004Z"}"#;
    let third = r#"{"type":"malware","spec_version":"2.1","id":"malware--95ecdbf1-c2bb-4afc-a3f9-c8da4de8c661",
      "created":"2019-03-25T17:30:17.004Z","modified":"2019-03-25T17:30:17.004Z","name":"Other","is_family":true}"#;
    let text = GOOD.replace("\"is_family\":true}]}", &format!("\"is_family\":true}},{middle},{third}]}}"));
    std::fs::write(&f, text).unwrap();
    rejected(&db, &f, "object 1 (indicator--85ecdbf1");
}

#[test]
fn missing_file() {
    let (dir, db) = setup();
    rejected(&db, &dir.path().join("nowhere.json"), "cannot read");
}

#[test]
fn yara_that_does_not_compile() {
    let (dir, db) = setup();
    let f = dir.path().join("bad.yar");
    std::fs::write(
        &f,
        "rule fine { condition: true }\nrule bad {\n  strings:\n    $a = \"x\"\n  condition:\n    $a and $nope\n}\n",
    )
    .unwrap();
    rejected(&db, &f, "bad.yar:6:");
}

#[test]
fn gzip_that_is_not_one() {
    let (dir, db) = setup();
    let f = dir.path().join("fake.json.gz");
    std::fs::write(&f, b"\x1f\x8b\x08\x00garbage garbage garbage").unwrap();
    rejected(&db, &f, "not a valid gzip file");
}

#[test]
fn not_utf8_ioc_file() {
    let (dir, db) = setup();
    let f = dir.path().join("hash-iocs.txt");
    std::fs::write(&f, b"d41d8cd98f00b204e9800998ecf8427e;\xff\xfe\n").unwrap();
    rejected(&db, &f, "not UTF-8");
}

#[test]
fn unknown_tlp_is_a_usage_error() {
    let (dir, db) = setup();
    let r = takedown(&db, &["intel", "import", "--tlp", "purple", dir.path().join("good.json").to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("clear, green, amber, amber+strict, red"), "{}", r.stderr);
}

#[test]
fn unknown_group_is_an_error_with_advice() {
    let (_dir, db) = setup();
    let r = takedown(&db, &["intel", "show", "Nobody At All"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("import intel first"), "{}", r.stderr);
}

/// A file of `len` bytes that takes no disk: a hole, as a sparse file is.
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).unwrap().set_len(len).unwrap();
}

/// Imports `file` alone, expecting a refusal: exit 2, a short message naming it.
fn refused(db: &Path, file: &Path, extra: &[&str]) -> crate::common::Run {
    let started = std::time::Instant::now();
    let mut args = vec!["intel", "import"];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    let r = takedown(db, &args);
    // Refused from the file's size, before reading: far within this bound even on a
    // loaded machine (reading and compiling the file would take minutes).
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "took {:?}", started.elapsed());
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.len() < 4096, "{} bytes of stderr", r.stderr.len());
    assert!(r.stderr.contains(file.file_name().unwrap().to_str().unwrap()), "{}", r.stderr);
    r
}

#[test]
fn a_huge_yara_file_is_refused_before_reading() {
    let (dir, db) = setup();
    let f = dir.path().join("huge.yar");
    sparse(&f, 1 << 30);
    let r = refused(&db, &f, &[]);
    assert!(r.stderr.contains("YARA rule file is 1073741824 bytes"), "{}", r.stderr);
    assert!(r.stderr.contains("--max-intel-size"), "{}", r.stderr);
}

#[test]
fn a_huge_hash_file_is_refused_before_reading() {
    let (dir, db) = setup();
    let f = dir.path().join("huge-hash-iocs.txt");
    sparse(&f, 1 << 30);
    let r = refused(&db, &f, &[]);
    assert!(r.stderr.contains("IOC file is 1073741824 bytes, over the limit of 67108864"), "{}", r.stderr);
}

#[test]
fn a_huge_line_is_quoted_short() {
    let (dir, db) = setup();
    let f = dir.path().join("long-hash-iocs.txt");
    std::fs::write(&f, "g".repeat(100 << 20)).unwrap();
    // Over the default limit for IOC files, so read with a raised one.
    let r = refused(&db, &f, &["--max-intel-size", "128M"]);
    assert!(r.stderr.contains("is not a hexadecimal hash"), "{}", r.stderr);
    assert!(r.stderr.contains("bytes in all"), "{}", r.stderr);
}

#[test]
fn a_deeply_nested_condition_is_an_error_not_a_crash() {
    let (dir, db) = setup();
    let f = dir.path().join("deep.yar");
    std::fs::write(
        &f,
        format!("rule deep {{\n  condition:\n    {}true{}\n}}\n", "(".repeat(20_000), ")".repeat(20_000)),
    )
    .unwrap();
    let r = refused(&db, &f, &[]);
    assert!(r.stderr.contains("deep.yar:3:"), "{}", r.stderr);
    assert!(r.stderr.contains("nested more than 64 levels deep"), "{}", r.stderr);
    // The same file through a sweep's --rules.
    let r = takedown(&db, &["sweep", "--no-builtin", "--rules", f.to_str().unwrap(), dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stderr.contains("nested more than 64 levels deep"), "{}", r.stderr);
}

#[test]
fn the_limit_can_be_raised() {
    let (dir, db) = setup();
    let f = dir.path().join("big-hash-iocs.txt");
    // Just over the default limit of 64 MiB: one hash, then blank lines.
    let mut text = b"d41d8cd98f00b204e9800998ecf8427e;empty\n".to_vec();
    text.resize((64 << 20) + 1, b'\n');
    std::fs::write(&f, &text).unwrap();
    let r = refused(&db, &f, &[]);
    assert!(r.stderr.contains("67108865 bytes"), "{}", r.stderr);
    let r = takedown(&db, &["intel", "import", "--max-intel-size", "65M", f.to_str().unwrap()]);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("hash-iocs 1 object(s)"), "{}", r.stdout);
    // And through a sweep's --iocs.
    let r = takedown(&db, &["sweep", "--no-builtin", "--iocs", f.to_str().unwrap(), dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 2, "stderr: {}", r.stderr);
    assert!(r.stderr.contains("--max-intel-size"), "{}", r.stderr);
    let args = ["sweep", "--no-builtin", "--max-intel-size", "65M", "--iocs", f.to_str().unwrap()];
    let r = takedown(&db, &[&args[..], &[dir.path().to_str().unwrap()]].concat());
    assert!(r.code <= 1, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
}
