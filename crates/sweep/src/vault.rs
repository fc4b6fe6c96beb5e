//! The quarantine vault: where hits go instead of being deleted, defanged (XOR-ed
//! with a key of their own, mode 0600, never executable) and kept with everything
//! needed to put them back bit for bit — content, mode, owner and times.
//!
//! The order of steps is what makes a crash harmless. An item is in the vault once
//! its manifest `ID.json` exists beside its data `ID.data`; the manifest is renamed
//! into place only after the data is written, synced and verified, and the
//! original is removed only after that. Killed at any moment, a file is at its
//! original place, complete in the vault, or both — never neither. Restore works the
//! same way round: the copy is written beside the original under a temporary name,
//! verified, given its mode, owner and times, then linked into place (which fails
//! rather than overwrite), and only then is the vault item removed.

use crate::error::SweepError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Length of each item's XOR key.
const KEY_LEN: usize = 32;

/// Chunk in which files are copied, hashed and XOR-ed.
const CHUNK: usize = 1 << 20;

/// A time as the file system keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTime {
    pub seconds: i64,
    pub nanoseconds: u32,
}

impl FileTime {
    fn system_time(self) -> std::time::SystemTime {
        let nanos = std::time::Duration::from_nanos(u64::from(self.nanoseconds));
        if self.seconds >= 0 {
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(self.seconds as u64) + nanos
        } else {
            std::time::UNIX_EPOCH - std::time::Duration::from_secs(self.seconds.unsigned_abs()) + nanos
        }
    }
}

/// What the vault keeps about one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    #[serde(with = "os_path")]
    pub original_path: PathBuf,
    /// The folder it was in, with every symbolic link resolved, when it was
    /// quarantined (empty in records from before this was kept).
    #[serde(with = "os_path", default)]
    pub folder: PathBuf,
    pub size: u64,
    /// Permission bits and file type bits, as `st_mode`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub accessed: FileTime,
    pub modified: FileTime,
    pub sha256: String,
    /// MD5 and SHA-1 as well, which most lookups and IOC lists still use.
    pub md5: String,
    pub sha1: String,
    /// When it was quarantined (RFC 3339).
    pub quarantined_at: String,
    /// Why: the hit that sent it here, as the sweep reported it.
    pub reason: serde_json::Value,
    /// The XOR key of the stored copy, hex.
    key: String,
}

/// A path in a record: text when it is UTF-8, else `{"bytes": [...]}`, so that a file
/// whose name is not UTF-8 (malware may choose such a name) is recorded and restored
/// to where it was.
mod os_path {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::ffi::OsString;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    use std::path::{Path, PathBuf};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Stored<'a> {
        Text(std::borrow::Cow<'a, str>),
        Bytes { bytes: Vec<u8> },
    }

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        match path.to_str() {
            Some(text) => Stored::Text(text.into()),
            None => Stored::Bytes { bytes: path.as_os_str().as_bytes().to_vec() },
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        Ok(match Stored::deserialize(d)? {
            Stored::Text(text) => PathBuf::from(text.into_owned()),
            Stored::Bytes { bytes } => PathBuf::from(OsString::from_vec(bytes)),
        })
    }
}

/// A step of a quarantine or restore, reported as it completes (for the audit trail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Copied,
    Verified,
    Recorded,
    Removed,
    Restored,
    Purged,
}

impl Step {
    /// The audit verb.
    pub fn verb(self) -> &'static str {
        match self {
            Step::Copied => "quarantine.copy",
            Step::Verified => "quarantine.verify",
            Step::Recorded => "quarantine.record",
            Step::Removed => "quarantine.remove",
            Step::Restored => "quarantine.restore",
            Step::Purged => "quarantine.purge",
        }
    }
}

/// A vault directory.
#[derive(Debug, Clone)]
pub struct Vault {
    dir: PathBuf,
}

fn vault_err(path: &Path) -> impl Fn(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Vault { path: path.to_path_buf(), source }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn xor(buf: &mut [u8], key: &[u8], offset: u64) {
    let start = (offset % KEY_LEN as u64) as usize;
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= key[(start + i) % KEY_LEN];
    }
}

impl Vault {
    /// Opens the vault at `dir`, creating it (mode 0700) if needed.
    pub fn open(dir: &Path) -> Result<Vault, SweepError> {
        std::fs::create_dir_all(dir).map_err(vault_err(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(vault_err(dir))?;
        Ok(Vault { dir: dir.to_path_buf() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.data"))
    }

    fn manifest_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Moves `path` into the vault. `on_step` hears each step as it completes.
    pub fn quarantine(
        &self,
        path: &Path,
        reason: serde_json::Value,
        on_step: &mut dyn FnMut(Step, &Item),
    ) -> Result<Item, SweepError> {
        let item = self.save(path, reason, on_step)?;
        // 4. Only now is the original removed.
        let id = &item.id;
        std::fs::remove_file(path).and_then(|_| path.parent().map_or(Ok(()), sync_dir)).map_err(|e| {
            SweepError::Quarantine {
                path: path.to_path_buf(),
                reason: format!("it is safe in the vault as {id}, but removing the original failed: {e}"),
            }
        })?;
        on_step(Step::Removed, &item);
        Ok(item)
    }

    /// Keeps a copy of the file at `path` as an item, the original staying where it
    /// is: the steps of a quarantine up to its record (copied, verified, recorded).
    /// What changes a file in place (cleaning a registry hive) saves it first.
    pub fn save(
        &self,
        path: &Path,
        reason: serde_json::Value,
        on_step: &mut dyn FnMut(Step, &Item),
    ) -> Result<Item, SweepError> {
        let stop = |reason: String| SweepError::Quarantine { path: path.to_path_buf(), reason };
        let before = std::fs::symlink_metadata(path).map_err(|e| stop(format!("cannot read it: {e}")))?;
        if !before.file_type().is_file() {
            return Err(stop("not a regular file".into()));
        }
        let uuid = uuid::Uuid::new_v4();
        let id = format!("{}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S"), &uuid.simple().to_string()[..8]);
        let key: Vec<u8> = uuid.as_bytes().iter().chain(uuid::Uuid::new_v4().as_bytes()).copied().collect();
        let part = self.dir.join(format!("{id}.data.part"));

        // 1. Copy, defanged, hashing the original as it is read.
        let (sha256, md5, sha1) = (|| -> std::io::Result<(String, String, String)> {
            // Not through a symbolic link, and the very file whose metadata was
            // read: a file swapped for a link (to /etc/shadow, say) between the look
            // and the open would otherwise be copied, and restored later as the
            // original owner's.
            let mut src = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK).open(path)?;
            let opened = src.metadata()?;
            if (opened.dev(), opened.ino()) != (before.dev(), before.ino()) {
                return Err(std::io::Error::other("it was replaced by another file as it was opened"));
            }
            let mut dst = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&part)?;
            let (mut sha256, mut md5, mut sha1) = (Sha256::new(), md5::Md5::new(), sha1::Sha1::new());
            let mut buf = vec![0u8; CHUNK];
            let mut offset = 0u64;
            loop {
                let n = src.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                sha256.update(&buf[..n]);
                md5.update(&buf[..n]);
                sha1.update(&buf[..n]);
                xor(&mut buf[..n], &key, offset);
                dst.write_all(&buf[..n])?;
                offset += n as u64;
            }
            dst.sync_all()?;
            Ok((hex::encode(sha256.finalize()), hex::encode(md5.finalize()), hex::encode(sha1.finalize())))
        })()
        .map_err(|e| {
            let _ = std::fs::remove_file(&part);
            stop(format!("copying into the vault failed: {e}"))
        })?;
        let item = Item {
            id: id.clone(),
            original_path: path.to_path_buf(),
            folder: path.parent().and_then(|p| std::fs::canonicalize(p).ok()).unwrap_or_default(),
            size: before.len(),
            mode: before.mode(),
            uid: before.uid(),
            gid: before.gid(),
            accessed: FileTime { seconds: before.atime(), nanoseconds: before.atime_nsec() as u32 },
            modified: FileTime { seconds: before.mtime(), nanoseconds: before.mtime_nsec() as u32 },
            sha256,
            md5,
            sha1,
            quarantined_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            reason,
            key: hex::encode(&key),
        };
        on_step(Step::Copied, &item);

        // 2. Verify: the stored copy gives back the bytes that were hashed, and the
        // original did not change meanwhile.
        let fail = |why: String| {
            let _ = std::fs::remove_file(&part);
            stop(why)
        };
        match decode(&part, &key, None) {
            Ok(h) if h == item.sha256 => {}
            Ok(_) => return Err(fail("the copy in the vault does not match the original".into())),
            Err(e) => return Err(fail(format!("reading the copy back failed: {e}"))),
        }
        let after = std::fs::symlink_metadata(path).map_err(|e| fail(format!("the original went away: {e}")))?;
        if (after.dev(), after.ino()) != (before.dev(), before.ino())
            || after.len() != before.len()
            || after.mtime() != before.mtime()
            || after.mtime_nsec() != before.mtime_nsec()
        {
            return Err(fail("the original changed while it was copied".into()));
        }
        on_step(Step::Verified, &item);

        // 3. Record: data under its final name, then the manifest, which commits.
        let record = || -> std::io::Result<()> {
            std::fs::rename(&part, self.data_path(&id))?;
            let manifest_part = self.dir.join(format!("{id}.json.part"));
            let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&manifest_part)?;
            f.write_all(&serde_json::to_vec_pretty(&item).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            std::fs::rename(&manifest_part, self.manifest_path(&id))?;
            sync_dir(&self.dir)
        };
        record().map_err(|e| {
            let _ = std::fs::remove_file(self.data_path(&id));
            let _ = std::fs::remove_file(&part);
            stop(format!("recording in the vault failed: {e}"))
        })?;
        on_step(Step::Recorded, &item);
        Ok(item)
    }

    /// Every complete item, oldest first. Leftovers of an interrupted quarantine
    /// (`.part` files) are not items: their originals were never removed.
    pub fn list(&self) -> Result<Vec<Item>, SweepError> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(vault_err(&self.dir))? {
            let path = entry.map_err(vault_err(&self.dir))?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if let Some(id) = name.strip_suffix(".json") {
                out.push(self.item(id)?);
            }
        }
        out.sort_by(|a, b| a.quarantined_at.cmp(&b.quarantined_at).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// One item by id.
    pub fn item(&self, id: &str) -> Result<Item, SweepError> {
        if id.is_empty() || id.contains(['/', '\\']) || id.starts_with('.') {
            return Err(SweepError::NoSuchItem(id.to_string()));
        }
        let text = match std::fs::read(self.manifest_path(id)) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(SweepError::NoSuchItem(id.to_string())),
            Err(e) => return Err(SweepError::Vault { path: self.manifest_path(id), source: e }),
        };
        serde_json::from_slice(&text)
            .map_err(|e| SweepError::Damaged { id: id.to_string(), reason: format!("its manifest is unreadable: {e}") })
    }

    /// Puts an item back where it was, bit for bit, with its mode and times (and
    /// owner, when running with the right to set it), then removes it from the
    /// vault. Refuses if a file has since appeared at that path.
    pub fn restore(&self, id: &str, on_step: &mut dyn FnMut(Step, &Item)) -> Result<Item, SweepError> {
        let item = self.item(id)?;
        let target = &item.original_path;
        if target.symlink_metadata().is_ok() {
            return Err(SweepError::WouldOverwrite { path: target.clone() });
        }
        let key = hex::decode(&item.key)
            .ok()
            .filter(|k| k.len() == KEY_LEN)
            .ok_or_else(|| SweepError::Damaged { id: id.to_string(), reason: "its key is unreadable".into() })?;
        let parent = target.parent().unwrap_or(Path::new("."));
        // The same folder it left, not one a symbolic link now leads to: whoever can
        // write above it could otherwise have a file restored, with its owner and
        // mode, anywhere (into /etc/cron.d, say).
        if !item.folder.as_os_str().is_empty() {
            if let Ok(now) = std::fs::canonicalize(parent) {
                if now != item.folder {
                    return Err(SweepError::FolderMoved { path: target.clone(), was: item.folder.clone(), now });
                }
            }
        }
        let damaged = |reason: String| SweepError::Damaged { id: id.to_string(), reason };
        let temp = self.stage(&item, &key)?;
        // A hard link fails if the name exists: the one step that puts the file in
        // place also refuses to overwrite what appeared meanwhile.
        if let Err(e) = std::fs::hard_link(&temp, target) {
            let _ = std::fs::remove_file(&temp);
            return Err(if e.kind() == std::io::ErrorKind::AlreadyExists {
                SweepError::WouldOverwrite { path: target.clone() }
            } else {
                damaged(format!("putting it back at {} failed: {e}", target.display()))
            });
        }
        std::fs::remove_file(&temp)
            .and_then(|_| sync_dir(parent))
            .map_err(|e| damaged(format!("restored, but cleaning up {} failed: {e}", temp.display())))?;
        on_step(Step::Restored, &item);
        self.remove(&item)?;
        Ok(item)
    }

    /// Puts an item back over the file now at its place, which must be the one whose
    /// SHA-256 is `expected` (the file as a change left it): the undo of a change
    /// made in place. The copy is written beside it, verified, given its mode, owner
    /// and times, and renamed over it in one step, so that the file is at every
    /// moment the changed one or the original; then the item leaves the vault.
    pub fn put_back(&self, id: &str, expected: &str, on_step: &mut dyn FnMut(Step, &Item)) -> Result<Item, SweepError> {
        let item = self.item(id)?;
        let target = &item.original_path;
        let damaged = |reason: String| SweepError::Damaged { id: id.to_string(), reason };
        let now = file_sha256(target).map_err(|e| damaged(format!("{} cannot be read: {e}", target.display())))?;
        if now != expected {
            return Err(damaged(format!(
                "{} changed since it was changed in place (SHA-256 {now}, not {expected}); it was left as it is",
                target.display()
            )));
        }
        let key = hex::decode(&item.key)
            .ok()
            .filter(|k| k.len() == KEY_LEN)
            .ok_or_else(|| damaged("its key is unreadable".into()))?;
        let parent = target.parent().unwrap_or(Path::new("."));
        let temp = self.stage(&item, &key)?;
        std::fs::rename(&temp, target).and_then(|_| sync_dir(parent)).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            damaged(format!("putting it back at {} failed: {e}", target.display()))
        })?;
        on_step(Step::Restored, &item);
        self.remove(&item)?;
        Ok(item)
    }

    /// Writes an item's content beside its original place under a temporary name,
    /// with the original's owner, mode and times, synced and checked against the
    /// item's hash; returns the temporary file's path. Nothing is left behind when
    /// it fails.
    fn stage(&self, item: &Item, key: &[u8]) -> Result<PathBuf, SweepError> {
        let target = &item.original_path;
        let parent = target.parent().unwrap_or(Path::new("."));
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temp = parent.join(format!(".{name}.takedown-restore-{}", item.id));
        let _ = std::fs::remove_file(&temp);
        let damaged = |reason: String| SweepError::Damaged { id: item.id.clone(), reason };
        let hash = self.write_copy(item, key, &temp).map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            damaged(format!("writing it back to {} failed: {e}", temp.display()))
        })?;
        if hash != item.sha256 {
            let _ = std::fs::remove_file(&temp);
            return Err(damaged("its stored copy no longer matches its hash".into()));
        }
        Ok(temp)
    }

    /// Writes an item's content to `temp` (a new file), with the original's owner,
    /// mode and times, synced; returns the SHA-256 of what was written.
    fn write_copy(&self, item: &Item, key: &[u8], temp: &Path) -> std::io::Result<String> {
        let mut dst = OpenOptions::new().write(true).create_new(true).mode(0o600).open(temp)?;
        let hash = decode(&self.data_path(&item.id), key, Some(&mut dst))?;
        // Owner first: changing it can clear set-id bits, which the mode puts back.
        if let Err(e) = std::os::unix::fs::fchown(&dst, Some(item.uid), Some(item.gid)) {
            if e.kind() != std::io::ErrorKind::PermissionDenied {
                return Err(e);
            }
            tracing::warn!("{}: owner not restored ({e}); run as root to restore it", item.original_path.display());
        }
        dst.set_permissions(std::fs::Permissions::from_mode(item.mode & 0o7777))?;
        let times = std::fs::FileTimes::new()
            .set_accessed(item.accessed.system_time())
            .set_modified(item.modified.system_time());
        dst.set_times(times)?;
        dst.sync_all()?;
        Ok(hash)
    }

    /// Deletes an item for good.
    pub fn purge(&self, id: &str, on_step: &mut dyn FnMut(Step, &Item)) -> Result<Item, SweepError> {
        let item = self.item(id)?;
        self.remove(&item)?;
        on_step(Step::Purged, &item);
        Ok(item)
    }

    fn remove(&self, item: &Item) -> Result<(), SweepError> {
        // The manifest goes first: without it the data is a leftover, never an item.
        let manifest = self.manifest_path(&item.id);
        std::fs::remove_file(&manifest).map_err(vault_err(&manifest))?;
        let data = self.data_path(&item.id);
        std::fs::remove_file(&data).map_err(vault_err(&data))?;
        sync_dir(&self.dir).map_err(vault_err(&self.dir))
    }

    /// Whether the stored copy of an item is complete and matches its hash.
    pub fn verify(&self, item: &Item) -> Result<bool, SweepError> {
        let key = hex::decode(&item.key).unwrap_or_default();
        if key.len() != KEY_LEN {
            return Ok(false);
        }
        let path = self.data_path(&item.id);
        Ok(decode(&path, &key, None).map_err(vault_err(&path))? == item.sha256)
    }
}

/// Reads a stored copy back, undoing the XOR, and gives the sha256 of the original
/// bytes; with a `sink`, also writes them there. Restore and verify share it so that
/// both read an item exactly the same way.
/// The SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 of a file, hex.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut src = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            return Ok(hex::encode(hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn decode(path: &Path, key: &[u8], mut sink: Option<&mut File>) -> std::io::Result<String> {
    let mut src = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut offset = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        xor(&mut buf[..n], key, offset);
        hasher.update(&buf[..n]);
        if let Some(dst) = sink.as_deref_mut() {
            dst.write_all(&buf[..n])?;
        }
        offset += n as u64;
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quarantine_then_restore_is_bit_exact() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let file = dir.path().join("tasksche.exe");
        let content: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&file, &content).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o751)).unwrap();
        let when = std::time::UNIX_EPOCH + std::time::Duration::new(1_494_547_200, 123_456_789);
        File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_times(std::fs::FileTimes::new().set_modified(when).set_accessed(when))
            .unwrap();
        let mut steps = Vec::new();
        let item = vault.quarantine(&file, serde_json::json!({"rule": "x"}), &mut |s, _| steps.push(s)).unwrap();
        assert_eq!(steps, [Step::Copied, Step::Verified, Step::Recorded, Step::Removed]);
        assert!(!file.exists());
        // Defanged: the stored bytes are not the original's, and not executable.
        let stored = std::fs::read(vault.data_path(&item.id)).unwrap();
        assert_eq!(stored.len(), content.len());
        assert_ne!(&stored[..64], &content[..64]);
        let stored_mode = std::fs::metadata(vault.data_path(&item.id)).unwrap().mode();
        assert_eq!(stored_mode & 0o777, 0o600);
        assert!(vault.verify(&item).unwrap());
        assert_eq!(vault.list().unwrap().len(), 1);

        // A file that appeared meanwhile is never overwritten.
        std::fs::write(&file, b"new").unwrap();
        assert!(matches!(vault.restore(&item.id, &mut |_, _| {}), Err(SweepError::WouldOverwrite { .. })));
        std::fs::remove_file(&file).unwrap();

        vault.restore(&item.id, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), content);
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o751);
        assert_eq!(meta.modified().unwrap(), when);
        assert!(vault.list().unwrap().is_empty());
        assert!(matches!(vault.restore(&item.id, &mut |_, _| {}), Err(SweepError::NoSuchItem(_))));
    }

    #[test]
    fn a_file_whose_path_is_not_utf8_is_recorded_and_restored_where_it_was() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let odd = dir.path().join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        std::fs::create_dir(&odd).unwrap();
        let file = odd.join(std::ffi::OsStr::from_bytes(b"x\xff.exe"));
        std::fs::write(&file, b"MZ payload").unwrap();
        let item = vault.quarantine(&file, serde_json::Value::Null, &mut |_, _| {}).unwrap();
        assert!(!file.exists());
        // Read back from the record on disk, not from the item in memory.
        let listed = vault.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].original_path, file);
        vault.restore(&item.id, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"MZ payload");
        // A UTF-8 path is still recorded as plain text.
        let plain = dir.path().join("plain.exe");
        std::fs::write(&plain, b"MZ").unwrap();
        let item = vault.quarantine(&plain, serde_json::Value::Null, &mut |_, _| {}).unwrap();
        let record = serde_json::to_value(&item).unwrap();
        assert_eq!(record["original_path"], plain.to_str().unwrap());
    }

    #[test]
    fn restore_refuses_a_folder_that_a_symbolic_link_now_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let downloads = dir.path().join("home/ana/Downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let file = downloads.join("invoice.exe");
        std::fs::write(&file, b"MZ not really").unwrap();
        let item = vault.quarantine(&file, serde_json::Value::Null, &mut |_, _| {}).unwrap();
        assert_eq!(item.folder, std::fs::canonicalize(&downloads).unwrap());

        // The user swaps the folder for a link to a folder of root's.
        let cron = dir.path().join("etc/cron.d");
        std::fs::create_dir_all(&cron).unwrap();
        std::fs::remove_dir(&downloads).unwrap();
        std::os::unix::fs::symlink(&cron, &downloads).unwrap();
        let refused = vault.restore(&item.id, &mut |_, _| {});
        assert!(matches!(refused, Err(SweepError::FolderMoved { .. })), "{refused:?}");
        assert_eq!(std::fs::read_dir(&cron).unwrap().count(), 0);

        // The folder itself back (a new one at the same place is fine): restored.
        std::fs::remove_file(&downloads).unwrap();
        std::fs::create_dir(&downloads).unwrap();
        vault.restore(&item.id, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"MZ not really");
    }

    #[test]
    fn a_record_from_before_folders_were_kept_still_restores() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let file = dir.path().join("a.exe");
        std::fs::write(&file, b"MZ").unwrap();
        let item = vault.quarantine(&file, serde_json::Value::Null, &mut |_, _| {}).unwrap();
        let manifest = vault.manifest_path(&item.id);
        let mut record: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        record.as_object_mut().unwrap().remove("folder");
        std::fs::write(&manifest, serde_json::to_vec(&record).unwrap()).unwrap();
        vault.restore(&item.id, &mut |_, _| {}).unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"MZ");
    }

    #[test]
    fn purge_forgets_and_ids_cannot_escape() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        let file = dir.path().join("a");
        std::fs::write(&file, b"x").unwrap();
        let item = vault.quarantine(&file, serde_json::Value::Null, &mut |_, _| {}).unwrap();
        vault.purge(&item.id, &mut |_, _| {}).unwrap();
        assert!(vault.list().unwrap().is_empty());
        assert!(matches!(vault.item("../etc/passwd"), Err(SweepError::NoSuchItem(_))));
    }
}
