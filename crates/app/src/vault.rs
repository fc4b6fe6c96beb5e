//! The quarantine vault joined to the store: every vault step goes into the audit
//! trail, whether the sweep quarantines or an approved action does.

use crate::AppError;
use std::path::{Path, PathBuf};
use takedown_act::{ActError, QuarantineVault};
use takedown_model::Subject;
use takedown_store::{subject_key, Store};
use takedown_sweep::vault::{Item, Step, Vault};

/// Records one vault step in the audit trail.
pub fn audit_step(store: &Store, user: &str, step: Step, item: &Item) -> Result<(), takedown_store::StoreError> {
    let detail = serde_json::json!({ "id": item.id, "sha256": item.sha256, "size": item.size }).to_string();
    store.append_audit(user, step.verb(), &item.original_path.display().to_string(), &detail)?;
    Ok(())
}

/// Runs a vault operation, recording each of its steps; a step that cannot be
/// recorded fails the operation's report (the vault itself stays consistent).
pub fn audited<T>(
    store: &Store,
    user: &str,
    op: impl FnOnce(&mut dyn FnMut(Step, &Item)) -> Result<T, takedown_sweep::SweepError>,
) -> Result<Result<T, takedown_sweep::SweepError>, AppError> {
    let mut audit_error = None;
    let result = op(&mut |step: Step, item: &Item| {
        if let Err(e) = audit_step(store, user, step, item) {
            audit_error.get_or_insert(e);
        }
    });
    match audit_error {
        Some(e) => Err(AppError::AuditStep(e)),
        None => Ok(result),
    }
}

/// The sweep's vault behind the act crate's quarantine trait, for approved
/// quarantine actions.
#[derive(Debug)]
pub struct AuditedVault {
    /// Opened (and created, as the sweep does) only when a quarantine action needs
    /// it, so that runs without one leave no vault behind.
    dir: PathBuf,
    store: Store,
    user: String,
}

impl AuditedVault {
    pub fn new(dir: PathBuf, store: Store, user: String) -> AuditedVault {
        AuditedVault { dir, store, user }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn vault(&self) -> Result<Vault, ActError> {
        Vault::open(&self.dir).map_err(|e| ActError::Connector(e.to_string()))
    }

    pub(crate) fn audited<T>(
        &self,
        op: impl FnOnce(&mut dyn FnMut(Step, &Item)) -> Result<T, takedown_sweep::SweepError>,
    ) -> Result<T, ActError> {
        audited(&self.store, &self.user, op)
            .map_err(|e| ActError::Connector(e.to_string()))?
            .map_err(|e| ActError::Connector(e.to_string()))
    }
}

/// The file a sweep finding's path names: a finding inside an archive is
/// `ARCHIVE!MEMBER`, and what can be moved is the archive.
pub fn on_disk(location: &str) -> &Path {
    let mut cut = location;
    while !Path::new(cut).exists() {
        match cut.rfind('!') {
            Some(i) => cut = &cut[..i],
            None => return Path::new(location),
        }
    }
    Path::new(cut)
}

impl QuarantineVault for AuditedVault {
    fn quarantine(&self, target: &Subject, findings: &[String]) -> Result<serde_json::Value, ActError> {
        let Subject::File { path: location, .. } = target else {
            return Err(ActError::Input(format!("the vault quarantines files, not {}", subject_key(target))));
        };
        let path = on_disk(location);
        let vault = self.vault()?;
        if !path.exists() {
            // The sweep may have quarantined it already (sweep --quarantine).
            let items = vault.list().map_err(|e| ActError::Connector(e.to_string()))?;
            let gone =
                |i: &&Item| i.original_path == path || location.starts_with(&format!("{}!", i.original_path.display()));
            return match items.iter().rev().find(gone) {
                Some(i) => Ok(
                    serde_json::json!({ "item": i.id, "path": i.original_path, "sha256": i.sha256, "already": true }),
                ),
                None => {
                    Err(ActError::Input(format!("{location} is gone and not in the vault {}", vault.dir().display())))
                }
            };
        }
        let reason = serde_json::json!({ "findings": findings });
        let item = self.audited(|on_step| vault.quarantine(path, reason, on_step))?;
        Ok(serde_json::json!({ "item": item.id, "path": path, "sha256": item.sha256 }))
    }
    fn holds(&self, done: &serde_json::Value) -> Result<bool, ActError> {
        let id = done["item"].as_str().unwrap_or_default();
        let path = Path::new(done["path"].as_str().unwrap_or_default());
        Ok(self.vault()?.item(id).is_ok() && !path.exists())
    }
    fn restore(&self, done: &serde_json::Value) -> Result<serde_json::Value, ActError> {
        let id = done["item"].as_str().unwrap_or_default();
        let vault = self.vault()?;
        let item = self.audited(|on_step| vault.restore(id, on_step))?;
        Ok(serde_json::json!({ "restored": item.original_path, "sha256": item.sha256 }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::on_disk;

    #[test]
    fn a_finding_inside_an_archive_quarantines_the_archive() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("invoice.zip");
        std::fs::write(&zip, b"PK").unwrap();
        let z = zip.to_str().unwrap();
        assert_eq!(on_disk(&format!("{z}!docs/a.exe")), zip);
        assert_eq!(on_disk(&format!("{z}!inner.zip!b.exe")), zip);
        assert_eq!(on_disk(z), zip);
        let gone = dir.path().join("gone!x");
        assert_eq!(on_disk(gone.to_str().unwrap()), gone);
    }
}
