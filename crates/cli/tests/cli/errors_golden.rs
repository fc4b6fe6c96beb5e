//! The exact text of errors a user meets first, against a golden file: each says what
//! was wrong, with what, and what to do, once. `TAKEDOWN_BLESS=1 cargo test -p
//! takedown-cli --test cli golden` rewrites the file after a deliberate change.
#![allow(clippy::unwrap_used)]

use crate::common::takedown;
use std::path::Path;

/// Each case: a name, the database (in the test's scratch folder) and the arguments
/// (`{dir}` is that folder).
const CASES: &[(&str, &str, &[&str])] = &[
    ("database in a folder that does not exist", "no/such/dir/t.db", &["intel", "show", "ZINC"]),
    ("intel file that does not exist", "t.db", &["intel", "import", "{dir}/missing.json"]),
    ("campaign against an unknown group", "t.db", &["campaign", "create", "op", "--actor", "No Such Group"]),
    ("undo of an unknown action", "t.db", &["undo", "0000"]),
];

#[test]
fn error_texts_match_the_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let mut out = String::new();
    for (name, db, args) in CASES {
        let args: Vec<String> = args.iter().map(|a| a.replace("{dir}", d)).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = takedown(&dir.path().join(db), &args);
        let stderr = r.stderr.replace(d, "{dir}");
        out.push_str(&format!("## {name}\nexit {}\n{stderr}\n", r.code));
        assert_eq!(r.code, 2, "{name}: {stderr}");
        let line = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
        // Said once: no part of the message repeats the part before it.
        let parts: Vec<&str> = line.split(": ").collect();
        for pair in parts.windows(2) {
            assert!(!pair[0].contains(pair[1]), "{name}: said twice: {line}");
        }
    }
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/errors.txt");
    if std::env::var_os("TAKEDOWN_BLESS").is_some() {
        std::fs::write(&golden, &out).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(out, want, "error texts changed; if deliberate, rerun with TAKEDOWN_BLESS=1 and review the diff");
}
