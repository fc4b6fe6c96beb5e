//! Cleaning a hive survives being killed: `takedown run` is sent SIGKILL at random
//! moments while it cleans a large SYSTEM hive, and after each kill the hive must be
//! the original or the cleaned one, bit for bit, never a mix; when it is the cleaned
//! one, the vault must hold the original. `TAKEDOWN_FAULT_SEED=N` replays a run's
//! kill moments.
#![allow(clippy::unwrap_used)]

use crate::common::{json, takedown};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use takedown_hive::HiveBuilder;
use takedown_sweep::vault::{sha256_hex, Vault};

/// Kills to survive; `TAKEDOWN_FAULT_RUNS` changes it.
const RUNS: usize = 30;
/// Services of a clean Windows beside the worm's: enough for a hive of megabytes,
/// so that kills land inside the cleaning and not only in the start-up.
const CLEAN_SERVICES: usize = 40_000;

/// A SYSTEM hive with the worm's service among many clean ones.
fn big_system_hive() -> Vec<u8> {
    let mut h = HiveBuilder::new(r"\SystemRoot\System32\Config\SYSTEM");
    let mut services = Vec::new();
    let values = [h.string("ImagePath", r"C:\WINDOWS\mssecsvc.exe -m security"), h.dword("Start", 2)];
    services.push(h.key("mssecsvc2.0", &[], &values));
    for i in 0..CLEAN_SERVICES {
        let values = [h.string("ImagePath", &format!(r"System32\drivers\svc{i:05}.sys")), h.dword("Start", 3)];
        services.push(h.key(&format!("svc{i:05}"), &[], &values));
    }
    let services = h.key("Services", &services, &[]);
    let control_set = h.key("ControlSet001", &[services], &[]);
    let root = h.key("ROOT", &[control_set], &[]);
    h.finish(root)
}

fn run(db: &Path, vault: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(["--db", db.to_str().unwrap(), "--user", "bob", "run", "--campaign", "wc", "--vault"])
        .arg(vault)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_while_cleaning_leaves_the_original_or_the_cleaned_hive() {
    let runs = std::env::var("TAKEDOWN_FAULT_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(RUNS);
    let seed = match std::env::var("TAKEDOWN_FAULT_SEED") {
        Ok(v) => v.parse::<u64>().expect("TAKEDOWN_FAULT_SEED is a whole number") | 1,
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1,
    };
    eprintln!("fault test seed {seed}, {runs} runs (replay with TAKEDOWN_FAULT_SEED={seed})");
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("host/Windows/System32/config");
    std::fs::create_dir_all(&config).unwrap();
    let hive = config.join("SYSTEM");
    let original = big_system_hive();
    std::fs::write(&hive, &original).unwrap();

    // Found, planned and approved once; each run starts from a copy of that store.
    let prepared = dir.path().join("prepared.db");
    assert_eq!(takedown(&prepared, &["--user", "alice", "campaign", "create", "wc"]).code, 0);
    let r = takedown(&prepared, &["--user", "alice", "sweep", "--campaign", "wc", config.to_str().unwrap()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(takedown(&prepared, &["--user", "alice", "plan", "--campaign", "wc"]).code, 0);
    let r = takedown(&prepared, &["--output-format", "json", "actions", "--campaign", "wc"]);
    let list = json(&r.stdout)["actions"].as_array().unwrap().clone();
    let ids: Vec<&str> = list
        .iter()
        .filter(|a| a["action"]["kind"] == "clean-registry")
        .map(|a| a["action"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(takedown(&prepared, &[&["--user", "bob", "approve"][..], &ids].concat()).code, 0);

    // An uninterrupted run: how long it takes, and the cleaned hive it leaves.
    let db = dir.path().join("t.db");
    let vault_dir = dir.path().join("vault");
    std::fs::copy(&prepared, &db).unwrap();
    let started = Instant::now();
    assert_eq!(run(&db, &vault_dir).wait().unwrap().code(), Some(0));
    let full = started.elapsed();
    let cleaned = std::fs::read(&hive).unwrap();
    assert_ne!(cleaned, original);
    assert!(cleaned.len() > 4 << 20, "a hive of {} bytes", cleaned.len());

    let (mut before, mut after) = (0usize, 0usize);
    for n in 0..runs {
        std::fs::copy(&prepared, &db).unwrap();
        std::fs::write(&hive, &original).unwrap();
        let _ = std::fs::remove_dir_all(&vault_dir);
        let mut child = run(&db, &vault_dir);
        let wait = Duration::from_micros(next() % (full.as_micros() as u64 + 1));
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        let now = std::fs::read(&hive).unwrap();
        if now == original {
            before += 1;
        } else {
            assert!(
                now == cleaned,
                "run {n} (kill after {wait:?}): the hive is neither the original nor the cleaned one"
            );
            // Cleaned: the original is safe in the vault.
            let vault = Vault::open(&vault_dir).unwrap();
            let items = vault.list().unwrap();
            let saved = items.iter().find(|i| i.sha256 == sha256_hex(&original));
            assert!(
                saved.is_some_and(|i| vault.verify(i).unwrap()),
                "run {n}: the cleaned hive's original is not in the vault"
            );
            after += 1;
        }
    }
    eprintln!("after {runs} kills: {before} hives were the original, {after} the cleaned one");
    assert!(before > 0, "no kill landed before the hive was replaced");
}
