//! The quarantine survives being killed: `takedown sweep --quarantine` is sent
//! SIGKILL at random moments, and after each kill every file must be at its
//! original place or complete in the vault (or both), never neither, and restore
//! must bring it back bit for bit.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use takedown_sweep::vault::Vault;

/// Kills to survive; `TAKEDOWN_FAULT_RUNS` changes it.
const RUNS: usize = 200;
const FILES: usize = 12;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough to spread kill moments and file contents.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn plant(tree: &Path, rng: &mut Rng) -> Vec<(PathBuf, Vec<u8>)> {
    (0..FILES)
        .map(|i| {
            let dir = tree.join(format!("host{i:02}"));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("tasksche.exe");
            let len = 64 * 1024 + (rng.next() % (512 * 1024)) as usize;
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            std::fs::write(&path, &data).unwrap();
            (path, data)
        })
        .collect()
}

fn sweep(db: &Path, vault: &Path, tree: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_takedown"))
        .args(["--db", db.to_str().unwrap(), "sweep", "--quarantine", "--vault", vault.to_str().unwrap()])
        .arg(tree)
        .env("TAKEDOWN_USER", "fault-test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn sigkill_at_any_moment_loses_nothing() {
    let runs = std::env::var("TAKEDOWN_FAULT_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(RUNS);
    // A failure names its seed; TAKEDOWN_FAULT_SEED=N replays the same kill moments.
    let seed = match std::env::var("TAKEDOWN_FAULT_SEED") {
        Ok(v) => v.parse::<u64>().expect("TAKEDOWN_FAULT_SEED is a whole number") | 1,
        Err(_) => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1,
    };
    eprintln!("fault test seed {seed}, {runs} runs (replay with TAKEDOWN_FAULT_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let vault_dir = dir.path().join("vault");
    let tree = dir.path().join("tree");

    // How long an uninterrupted run takes: kills land anywhere in it.
    let files = plant(&tree, &mut rng);
    let started = Instant::now();
    let status = sweep(&db, &vault_dir, &tree).wait().unwrap();
    let full = started.elapsed();
    assert_eq!(status.code(), Some(1));
    assert!(files.iter().all(|(p, _)| !p.exists()), "an uninterrupted run quarantines every file");
    let vault = Vault::open(&vault_dir).unwrap();
    for item in vault.list().unwrap() {
        vault.purge(&item.id, &mut |_, _| {}).unwrap();
    }

    let (mut moved, mut stayed, mut both) = (0usize, 0usize, 0usize);
    for run in 0..runs {
        let _ = std::fs::remove_dir_all(&tree);
        let files = plant(&tree, &mut rng);
        let mut child = sweep(&db, &vault_dir, &tree);
        let wait = Duration::from_micros(rng.next() % (full.as_micros() as u64 + 1));
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();

        let items = vault.list().unwrap();
        for (path, data) in &files {
            let here = path.exists();
            let held: Vec<_> = items.iter().filter(|i| &i.original_path == path).collect();
            assert!(held.len() <= 1, "run {run}: {} is in the vault twice", path.display());
            if here {
                assert_eq!(&std::fs::read(path).unwrap(), data, "run {run}: {} changed in place", path.display());
            }
            match (here, held.first()) {
                (false, None) => panic!("run {run} (kill after {wait:?}): {} is lost", path.display()),
                (false, Some(item)) => {
                    assert!(vault.verify(item).unwrap(), "run {run}: vault copy of {} is incomplete", path.display());
                    vault.restore(&item.id, &mut |_, _| {}).unwrap();
                    assert_eq!(&std::fs::read(path).unwrap(), data, "run {run}: restore of {}", path.display());
                    moved += 1;
                }
                (true, Some(item)) => {
                    assert!(vault.verify(item).unwrap());
                    vault.purge(&item.id, &mut |_, _| {}).unwrap();
                    both += 1;
                }
                (true, None) => stayed += 1,
            }
        }
    }
    eprintln!("after {runs} kills: {moved} files were in the vault, {stayed} still in place, {both} in both");
    // Kills must have landed both before and during the quarantine for the test
    // to mean anything.
    assert!(moved > 0 && stayed > 0, "moved {moved}, stayed {stayed}");
}
