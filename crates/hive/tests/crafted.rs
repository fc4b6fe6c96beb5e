//! Hives made here, byte by byte, with the damage a hostile disk can hold: a key
//! tree with a loop, keys nested past Windows' limit, a list pointing at a free
//! cell, a truncated file, data claimed larger than the file. Each must end in a
//! reported problem, never a hang, a crash or a huge allocation.
#![allow(clippy::unwrap_used)]

use takedown_hive::{Hive, HiveBuilder, HiveError, MAX_DEPTH, REG_BINARY};

fn paths(bytes: &[u8]) -> (Vec<String>, takedown_hive::WalkReport) {
    let hive = Hive::parse(bytes).unwrap();
    let mut seen = Vec::new();
    let report = hive.walk(&mut |path, _| seen.push(path.to_string())).unwrap();
    (seen, report)
}

#[test]
fn a_well_formed_hive_reads_back_as_built() {
    let mut b = HiveBuilder::new("SYSTEM");
    let run_value = b.string("evil", r"C:\ProgramData\x\tasksche.exe");
    let run = b.key("Run", &[], &[run_value]);
    let software = b.key("Software", &[run], &[]);
    let root = b.key("ROOT", &[software], &[]);
    let bytes = b.finish(root);
    let hive = Hive::parse(&bytes).unwrap();
    assert!(hive.checksum_ok() && !hive.is_dirty());
    let (seen, report) = paths(&bytes);
    assert_eq!(seen, ["", "Software", r"Software\Run"]);
    assert_eq!(report.problem_count, 0);
    let key = hive.root().unwrap().subpath(r"software\RUN").unwrap().unwrap();
    let value = key.value("EVIL").unwrap().unwrap();
    assert_eq!(value.text().unwrap(), r"C:\ProgramData\x\tasksche.exe");
}

#[test]
fn a_loop_in_the_key_tree_is_reported_once_and_the_walk_ends() {
    let mut b = HiveBuilder::new("SYSTEM");
    let child = b.key("child", &[], &[]);
    let root = b.key("ROOT", &[child], &[]);
    // The child lists the root, and itself, as its subkeys.
    b.relist(child, &[root, child]);
    let (seen, report) = paths(&b.finish(root));
    assert_eq!(seen, ["", "child"]);
    assert_eq!(report.problem_count, 2);
    assert!(matches!(report.problems[0], HiveError::Loop { .. }), "{:?}", report.problems);
}

#[test]
fn keys_nested_past_the_windows_limit_stop_at_it() {
    let mut b = HiveBuilder::new("SYSTEM");
    let mut below = b.key("k", &[], &[]);
    for _ in 0..MAX_DEPTH + 50 {
        below = b.key("k", &[below], &[]);
    }
    let (seen, report) = paths(&b.finish(below));
    assert_eq!(seen.len(), MAX_DEPTH + 1);
    assert_eq!(report.problem_count, 1);
    assert!(matches!(report.problems[0], HiveError::TooDeep { limit: MAX_DEPTH, .. }));
}

#[test]
fn a_list_that_names_a_free_cell_costs_only_that_list() {
    let mut b = HiveBuilder::new("SYSTEM");
    let free = b.free(96);
    let bad = b.key("bad", &[free], &[]);
    let good = b.key("good", &[], &[]);
    let root = b.key("ROOT", &[bad, good], &[]);
    let (seen, report) = paths(&b.finish(root));
    assert_eq!(seen, ["", "bad", "good"]);
    assert!(
        matches!(report.problems[..], [HiveError::BadCell { why: "it is a free cell", .. }]),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_truncated_hive_reads_what_is_there() {
    let mut b = HiveBuilder::new("SYSTEM");
    let mut keys = Vec::new();
    for i in 0..200 {
        let v = b.string("v", &"x".repeat(i));
        keys.push(b.key(&format!("key{i:03}"), &[], &[v]));
    }
    let root = b.key("ROOT", &[], &[]);
    b.relist(root, &keys);
    let bytes = b.finish(root);
    // The root and its list were written last: cutting the file loses the root.
    assert!(matches!(Hive::parse(&bytes[..bytes.len() / 2]).unwrap().root(), Err(HiveError::Truncated { .. })));
    assert!(matches!(Hive::parse(&bytes[..100]), Err(HiveError::Truncated { .. })));
    assert!(matches!(Hive::parse(b"not a hive"), Err(HiveError::NotAHive)));
}

#[test]
fn data_claimed_larger_than_the_file_is_refused_without_allocating_it() {
    let mut b = HiveBuilder::new("SYSTEM");
    let segment = b.cell(&[b'A'; 16344]);
    // One segment named 60,000 times: a 1 GB value out of a 40 KB file.
    let list: Vec<u8> = std::iter::repeat_n(segment.to_le_bytes(), 60_000).flatten().collect();
    let list = b.cell(&list);
    let mut db = b"db".to_vec();
    db.extend_from_slice(&60_000u16.to_le_bytes());
    db.extend_from_slice(&list.to_le_bytes());
    let db = b.cell(&db);
    let huge = b.value("huge", REG_BINARY, 60_000 * 16344, db);
    let claimed = b.value("claimed", REG_BINARY, 1 << 30, segment);
    let root = b.key("ROOT", &[], &[huge, claimed]);
    let bytes = b.finish(root);
    let hive = Hive::parse(&bytes).unwrap();
    for v in hive.root().unwrap().values().unwrap() {
        assert!(matches!(v.data(), Err(HiveError::BadCell { .. })), "{}: {:?}", v.name(), v.data().map(|d| d.len()));
    }
}
