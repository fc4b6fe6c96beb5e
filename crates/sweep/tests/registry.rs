//! WannaCry's persistence in real registry hives: copies of the clean SYSTEM and
//! NTUSER.DAT hives in `../shared/corpus/hives` get the worm's service, the
//! encryptor's random-named service and `Run` value, and its `WanaCrypt0r` key,
//! written with libhivex's `hivexsh` (an independent registry writer). A sweep with
//! the built-in pack must find every planted entry, and nothing in the originals.
//! Skipped without the hives or `hivexsh` (Debian package libhivex-bin); failing
//! instead under TAKEDOWN_REQUIRE_PEERS.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use takedown_hive::Hive;
use takedown_sweep::{sweep, Hit, HitKind, Progress, RulesetBuilder, SweepOptions};

fn skip(why: &str) {
    if std::env::var_os("TAKEDOWN_REQUIRE_PEERS").is_some() {
        panic!("TAKEDOWN_REQUIRE_PEERS is set, but {why}");
    }
    eprintln!("SKIPPED: {why}");
}

fn real_hive(name: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/hives").join(name);
    if !path.is_file() {
        skip(&format!("the real hive {} is missing", path.display()));
        return None;
    }
    Some(path)
}

/// Runs `hivexsh -w` on `hive` with `script` on its standard input.
fn hivexsh(hive: &Path, script: &str) -> Option<()> {
    let child = Command::new("hivexsh")
        .arg("-w")
        .arg(hive)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            skip(&format!("hivexsh cannot run ({e}); install libhivex-bin"));
            return None;
        }
    };
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "hivexsh: {}", String::from_utf8_lossy(&out.stderr));
    Some(())
}

/// The `setval` lines that keep a key's values as they are: `setval` replaces them
/// all, so every existing one is written again, byte for byte.
fn existing_values(hive: &Path, key: &str) -> (usize, String) {
    let bytes = std::fs::read(hive).unwrap();
    let hive = Hive::parse(&bytes).unwrap();
    let key = hive.root().unwrap().subpath(key).unwrap().unwrap();
    let mut lines = String::new();
    let values = key.values().unwrap();
    for v in &values {
        let data: Vec<String> = v.data().unwrap().iter().map(|b| format!("{b:02x}")).collect();
        let kind = match v.value_type() {
            takedown_hive::ValueType::String => 1,
            takedown_hive::ValueType::ExpandString => 2,
            takedown_hive::ValueType::Binary => 3,
            takedown_hive::ValueType::Dword => 4,
            other => panic!("a value of type {other:?} to keep"),
        };
        lines.push_str(&format!("{}\nhex:{kind}:{}\n", v.name(), data.join(",")));
    }
    (values.len(), lines)
}

fn registry_hits(dir: &Path) -> Vec<Hit> {
    let mut rules = RulesetBuilder::new();
    for o in takedown_intel::builtin::objects() {
        if o.type_ == "indicator" {
            rules.add_indicator(&o.json).unwrap();
        }
    }
    let rules = rules.build().unwrap();
    let options = SweepOptions { roots: vec![dir.to_path_buf()], threads: 2, ..SweepOptions::default() };
    let (hits, summary) = sweep(&rules, &options, &Progress::default()).unwrap();
    assert_eq!((summary.hives, summary.hives_damaged), (2, 0), "{:?}", summary.notices);
    hits.into_iter().filter(|h| h.kind == HitKind::Registry).collect()
}

/// (hive file, key, value, what matched) of each registry hit.
fn entries(hits: &[Hit]) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = hits
        .iter()
        .map(|h| {
            let file = Path::new(&h.path).file_name().unwrap().to_string_lossy().into_owned();
            (file, h.key.clone().unwrap(), h.value.clone().unwrap_or_default(), h.matched.clone())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_planted_entry_is_found_and_nothing_in_the_clean_hives() {
    let (Some(system), Some(user)) = (real_hive("SYSTEM"), real_hive("NTUSER.DAT")) else { return };
    let clean = tempfile::tempdir().unwrap();
    let infected = tempfile::tempdir().unwrap();
    for (from, name) in [(&system, "SYSTEM"), (&user, "NTUSER.DAT")] {
        std::fs::copy(from, clean.path().join(name)).unwrap();
        std::fs::copy(from, infected.path().join(name)).unwrap();
    }
    let system_copy = infected.path().join("SYSTEM");
    let planted_system = r#"cd \ControlSet001\Services
add mssecsvc2.0
cd mssecsvc2.0
setval 3
ImagePath
string:C:\WINDOWS\mssecsvc.exe -m security
DisplayName
string:Microsoft Security Center (2.0) Service
Start
dword:2
cd ..
add xqgbkfjpeizmw463
cd xqgbkfjpeizmw463
setval 2
ImagePath
string:cmd.exe /c "C:\ProgramData\xqgbkfjpeizmw463\tasksche.exe"
Start
dword:2
commit
"#;
    let Some(()) = hivexsh(&system_copy, planted_system) else { return };
    let user_copy = infected.path().join("NTUSER.DAT");
    let run = r"Software\Microsoft\Windows\CurrentVersion\Run";
    let (count, kept) = existing_values(&user_copy, run);
    let planted_user = format!(
        "cd \\{run}\nsetval {}\n{kept}xqgbkfjpeizmw463\nstring:\"C:\\ProgramData\\xqgbkfjpeizmw463\\tasksche.exe\"\ncd \\Software\nadd WanaCrypt0r\ncd WanaCrypt0r\nsetval 1\nwd\nstring:C:\\ProgramData\\xqgbkfjpeizmw463\ncommit\n",
        count + 1
    );
    hivexsh(&user_copy, &planted_user).unwrap();

    assert_eq!(entries(&registry_hits(clean.path())), Vec::<(String, String, String, String)>::new());

    let hits = registry_hits(infected.path());
    let services = r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services";
    let s = |a: &str, b: String, c: &str, d: &str| (a.to_string(), b, c.to_string(), d.to_string());
    let want = vec![
        // This user's hive spells the key SOFTWARE; findings name keys as stored.
        s(
            "NTUSER.DAT",
            r"HKEY_CURRENT_USER\SOFTWARE\Microsoft\Windows\CurrentVersion\Run".into(),
            "xqgbkfjpeizmw463",
            "tasksche.exe",
        ),
        s("NTUSER.DAT", r"HKEY_CURRENT_USER\SOFTWARE\WanaCrypt0r".into(), "", "WannaCry registry key (user)"),
        s("SYSTEM", format!(r"{services}\mssecsvc2.0"), "", "mssecsvc2.0"),
        s(
            "SYSTEM",
            format!(r"{services}\mssecsvc2.0"),
            "ImagePath",
            r"(?i)(^|[\\/])Windows[\\/](mssecsvc\.exe|tasksche\.exe|qeriuwjhrf)$",
        ),
        s("SYSTEM", format!(r"{services}\mssecsvc2.0"), "ImagePath", "mssecsvc.exe"),
        s("SYSTEM", format!(r"{services}\xqgbkfjpeizmw463"), "ImagePath", "tasksche.exe"),
    ];
    assert_eq!(entries(&hits), want);
    // Every hit names an indicator of the pack, and carries the data it matched on.
    for h in &hits {
        assert!(h.indicator.as_deref().is_some_and(|i| i.starts_with("indicator--")), "{h:?}");
        assert_eq!(h.sha256.len(), 64);
        if h.value.is_some() {
            assert!(h.data.as_deref().is_some_and(|d| d.contains(&h.matched) || d.contains("mssecsvc.exe")), "{h:?}");
        }
    }
}

#[test]
fn a_damaged_hive_is_counted_and_named_and_the_sweep_goes_on() {
    let mut h = takedown_hive::HiveBuilder::new("SYSTEM");
    let mut services = Vec::new();
    for i in 0..200 {
        let v = [h.string("ImagePath", &format!(r"System32\drivers\d{i:03}.sys"))];
        services.push(h.key(&format!("d{i:03}"), &[], &v));
    }
    let services = h.key("Services", &services, &[]);
    let root = h.key("ROOT", &[services], &[]);
    let bytes = h.finish(root);
    let dir = tempfile::tempdir().unwrap();
    // Cut in half: the root key, written last, is lost.
    std::fs::write(dir.path().join("SYSTEM"), &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(dir.path().join("tasksche.exe"), b"MZ").unwrap();
    let mut rules = RulesetBuilder::new();
    for o in takedown_intel::builtin::objects() {
        if o.type_ == "indicator" {
            rules.add_indicator(&o.json).unwrap();
        }
    }
    let rules = rules.build().unwrap();
    let options = SweepOptions { roots: vec![dir.path().to_path_buf()], threads: 2, ..SweepOptions::default() };
    let (hits, summary) = sweep(&rules, &options, &Progress::default()).unwrap();
    assert_eq!((summary.hives, summary.hives_damaged), (1, 1));
    assert!(
        summary.notices.iter().any(|n| n.contains("SYSTEM: registry hive not read: truncated")),
        "{:?}",
        summary.notices
    );
    assert!(hits.iter().any(|h| h.kind == HitKind::Filename && h.path.ends_with("tasksche.exe")));
}
