//! Cleaning a registry hive in place, as an approved action: the entries a sweep
//! found are turned into removals, the hive is saved into the vault, the cleaned
//! hive is checked before it is written, and it replaces the original in one rename,
//! so the file is at every moment the original or the cleaned hive. Undo puts the
//! saved hive back, bit for bit.

use crate::vault::AuditedVault;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use takedown_act::{ActError, HiveCleaner};
use takedown_hive::{Hive, Removal};
use takedown_model::{Action, Subject};
use takedown_sweep::registry::HiveKind;
use takedown_sweep::vault::{file_sha256, sha256_hex};

/// What removing a found entry means. A service's `ImagePath` or a task's `Actions`
/// removes the whole service or task (the value alone would leave a broken entry
/// Windows still tries to start); any other value is removed alone; a key goes
/// with everything below it.
pub fn removal(root: &str, key: &str, value: Option<&str>) -> Option<Removal> {
    let head = key.get(..root.len()).filter(|h| h.eq_ignore_ascii_case(root))?;
    let relative = key[head.len()..].trim_start_matches('\\').to_string();
    if relative.is_empty() {
        return None;
    }
    let parent = relative.rsplit_once('\\').map(|(p, _)| p.to_ascii_uppercase()).unwrap_or_default();
    Some(match value {
        None => Removal::Key(relative),
        Some(v) if v.eq_ignore_ascii_case("ImagePath") && parent.ends_with("\\SERVICES") => Removal::Key(relative),
        Some(v) if v.eq_ignore_ascii_case("Actions") && parent.ends_with("\\TASKCACHE\\TASKS") => {
            Removal::Key(relative)
        }
        Some(v) => Removal::Value { key: relative, name: v.to_string() },
    })
}

/// What does the same on a running Windows system: `sc delete` for a service,
/// `reg delete` for any other key or value. Recorded with each cleaning, for the
/// operator of a live system (takedown edits offline hives only).
pub fn live_command(root: &str, removal: &Removal) -> String {
    let short = root.replacen("HKEY_LOCAL_MACHINE", "HKLM", 1).replacen("HKEY_CURRENT_USER", "HKCU", 1);
    match removal {
        Removal::Key(k) => {
            let (parent, name) = k.rsplit_once('\\').unwrap_or(("", k));
            if parent.to_ascii_uppercase().ends_with("\\SERVICES")
                && root.eq_ignore_ascii_case(r"HKEY_LOCAL_MACHINE\SYSTEM")
            {
                format!("sc delete \"{name}\"")
            } else {
                format!("reg delete \"{short}\\{k}\" /f")
            }
        }
        Removal::Value { key, name } => format!("reg delete \"{short}\\{key}\" /v \"{name}\" /f"),
    }
}

fn input(text: String) -> ActError {
    ActError::Input(text)
}

/// The cleaned hive, checked: each removal is gone, and every other key is still
/// there (the key count is the original's less the removed subtrees), with nothing
/// unreadable that was readable before.
fn check(original: &[u8], cleaned: &[u8], removals: &[Removal]) -> Result<(), String> {
    let paths = |bytes: &[u8]| -> Result<(Vec<String>, u64), String> {
        let hive = Hive::parse(bytes).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        let report = hive.walk(&mut |p, _| out.push(p.to_ascii_lowercase())).map_err(|e| e.to_string())?;
        Ok((out, report.problem_count))
    };
    let (before, problems_before) = paths(original)?;
    let (after, problems_after) = paths(cleaned)?;
    let removed: BTreeSet<String> = removals
        .iter()
        .filter_map(|r| match r {
            Removal::Key(k) => Some(k.to_ascii_lowercase()),
            Removal::Value { .. } => None,
        })
        .collect();
    let gone = |p: &String| removed.iter().any(|k| p == k || p.starts_with(&format!("{k}\\")));
    let kept: Vec<&String> = before.iter().filter(|p| !gone(p)).collect();
    if after.len() != kept.len() || problems_after > problems_before {
        return Err(format!(
            "the cleaned hive has {} keys ({problems_after} unreadable parts), {} expected ({problems_before})",
            after.len(),
            kept.len()
        ));
    }
    let hive = Hive::parse(cleaned).map_err(|e| e.to_string())?;
    let root = hive.root().map_err(|e| e.to_string())?;
    for r in removals {
        let still = match r {
            Removal::Key(k) => root.subpath(k).map_err(|e| e.to_string())?.is_some(),
            Removal::Value { key, name } => match root.subpath(key).map_err(|e| e.to_string())? {
                Some(k) => k.value(name).map_err(|e| e.to_string())?.is_some(),
                None => false,
            },
        };
        if still {
            return Err(format!("{r:?} is still in the cleaned hive"));
        }
    }
    Ok(())
}

/// Writes `bytes` over the file at `path`, which must still hash to `expected`:
/// beside it first (synced, with its owner and mode), then renamed into place.
fn replace(path: &Path, bytes: &[u8], expected: &str) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let parent = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("hive");
    let temp = parent.join(format!(".{name}.takedown-clean-{}", std::process::id()));
    let _ = std::fs::remove_file(&temp);
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&temp)?;
        f.write_all(bytes)?;
        if let Err(e) = std::os::unix::fs::fchown(&f, Some(meta.uid()), Some(meta.gid())) {
            if e.kind() != std::io::ErrorKind::PermissionDenied {
                return Err(e);
            }
        }
        f.set_permissions(std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        f.sync_all()?;
        if file_sha256(path)? != expected {
            return Err(std::io::Error::other("the hive changed while it was being cleaned"));
        }
        std::fs::rename(&temp, path)?;
        std::fs::File::open(parent)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

impl HiveCleaner for AuditedVault {
    fn clean(&self, action: &Action) -> Result<Value, ActError> {
        let Subject::File { path, sha256: found_as, .. } = &action.target else {
            return Err(input("a clean-registry action names a hive file".into()));
        };
        let hive_path = Path::new(path);
        let ids: BTreeSet<&String> = action.findings.iter().collect();
        let findings = self.store().findings(&action.campaign).map_err(|e| ActError::Connector(e.to_string()))?;
        let entries: Vec<(String, Option<String>)> = findings
            .iter()
            .filter(|f| ids.contains(&f.id))
            .filter_map(|f| match &f.subject {
                Subject::Registry { hive, key, value, .. } if hive == path => Some((key.clone(), value.clone())),
                _ => None,
            })
            .collect();
        // A hive another program holds a lock on (a registry tool, a mounted image's
        // writer) is in use: left alone.
        let held = std::fs::File::open(hive_path).map_err(|e| input(format!("{path}: cannot open the hive: {e}")))?;
        if let Err(std::fs::TryLockError::WouldBlock) = held.try_lock() {
            return Err(input(format!(
                "{path} is in use (another program holds a lock on it); close it and run again"
            )));
        }
        let bytes = std::fs::read(hive_path).map_err(|e| input(format!("{path}: cannot read the hive: {e}")))?;
        let before = sha256_hex(&bytes);
        if let Some(found) = found_as.as_deref().filter(|f| *f != before) {
            return Err(input(format!(
                "{path} changed since the sweep found the entries (SHA-256 {before}, not {found}); sweep it again and plan anew"
            )));
        }
        let hive = Hive::parse(&bytes).map_err(|e| input(format!("{path}: {e}")))?;
        let file_name = hive_path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let root = HiveKind::of(hive.embedded_name(), file_name).root();
        let mut removals = Vec::new();
        for (key, value) in &entries {
            let r = removal(&root, key, value.as_deref())
                .ok_or_else(|| input(format!("{key} is not a key below {root}, the root of {path}")))?;
            removals.push(r);
        }
        removals.sort();
        removals.dedup();
        if removals.is_empty() {
            return Err(input(format!("no registry findings of this action name {path}")));
        }
        let cleaned = takedown_hive::remove(&bytes, &removals).map_err(|e| input(format!("{path}: {e}")))?;
        check(&bytes, &cleaned, &removals).map_err(|e| input(format!("{path}: not written: {e}")))?;
        let vault = self.vault()?;
        let reason = json!({ "findings": action.findings, "clean-registry": action.id });
        let item = self.audited(|on_step| vault.save(hive_path, reason, on_step))?;
        if item.sha256 != before {
            return Err(input(format!(
                "{path} changed while it was being saved; the saved copy {} stays in the vault",
                item.id
            )));
        }
        replace(hive_path, &cleaned, &before).map_err(|e| {
            ActError::Connector(format!("{path}: cleaning it failed ({e}); it is unchanged, saved as {}", item.id))
        })?;
        let after = sha256_hex(&cleaned);
        let live: Vec<String> = removals.iter().map(|r| live_command(&root, r)).collect();
        let removed: Vec<String> = removals
            .iter()
            .map(|r| match r {
                Removal::Key(k) => format!("{root}\\{k}"),
                Removal::Value { key, name } => format!("{root}\\{key} value {name}"),
            })
            .collect();
        Ok(json!({
            "item": item.id,
            "path": path,
            "sha256_before": before,
            "sha256_after": after,
            "removed": removed,
            "live_commands": live,
            "summary": format!("{} entries removed from {path} (saved as {})", removed.len(), item.id),
        }))
    }

    fn cleaned(&self, done: &Value) -> Result<bool, ActError> {
        let path = Path::new(done["path"].as_str().unwrap_or_default());
        Ok(file_sha256(path).ok().as_deref() == done["sha256_after"].as_str())
    }

    fn put_back(&self, done: &Value) -> Result<Value, ActError> {
        let id = done["item"].as_str().unwrap_or_default();
        let after = done["sha256_after"].as_str().unwrap_or_default();
        let vault = self.vault()?;
        let item = self.audited(|on_step| vault.put_back(id, after, on_step))?;
        Ok(json!({ "restored": item.original_path, "sha256": item.sha256 }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn found_entries_become_removals() {
        let root = r"HKEY_LOCAL_MACHINE\SYSTEM";
        let svc = r"HKEY_LOCAL_MACHINE\SYSTEM\ControlSet001\Services\mssecsvc2.0";
        let key = |k: &str| Some(Removal::Key(k.into()));
        assert_eq!(removal(root, svc, None), key(r"ControlSet001\Services\mssecsvc2.0"));
        assert_eq!(removal(root, svc, Some("ImagePath")), key(r"ControlSet001\Services\mssecsvc2.0"));
        let run = r"HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Run";
        assert_eq!(
            removal("HKEY_CURRENT_USER", run, Some("xq")),
            Some(Removal::Value { key: r"Software\Microsoft\Windows\CurrentVersion\Run".into(), name: "xq".into() })
        );
        assert_eq!(removal(root, run, Some("xq")), None);
        assert_eq!(removal(root, root, None), None);
    }

    #[test]
    fn each_removal_has_its_command_for_a_live_system() {
        let system = r"HKEY_LOCAL_MACHINE\SYSTEM";
        let service = Removal::Key(r"ControlSet001\Services\mssecsvc2.0".into());
        assert_eq!(live_command(system, &service), r#"sc delete "mssecsvc2.0""#);
        let key = Removal::Key(r"Software\WanaCrypt0r".into());
        assert_eq!(live_command("HKEY_CURRENT_USER", &key), r#"reg delete "HKCU\Software\WanaCrypt0r" /f"#);
        let run = Removal::Value { key: r"Software\Microsoft\Windows\CurrentVersion\Run".into(), name: "xq".into() };
        assert_eq!(
            live_command("HKEY_CURRENT_USER", &run),
            r#"reg delete "HKCU\Software\Microsoft\Windows\CurrentVersion\Run" /v "xq" /f"#
        );
    }
}
