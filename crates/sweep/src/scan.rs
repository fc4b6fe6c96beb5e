//! One file, read once, checked against everything: hashes (only the kinds the
//! intel holds), its name and path, WannaCry artefacts, YARA rules with the Loki
//! externals set for this file, the members of a zip archive, and the keys and
//! values of a registry hive.

use crate::archive::{self, ArchiveReport};
use crate::artefact;
use crate::hit::{show_bytes, Hit, HitKind, MatchedString};
use crate::registry;
use crate::ruleset::{HashKinds, Ruleset};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use takedown_hive::{HiveError, WalkReport};

/// The variables Loki-style rules read, set for each file.
pub const LOKI_EXTERNALS: [&str; 5] = ["filename", "filepath", "extension", "filetype", "owner"];

/// Matched strings kept per rule in a report; the rule's match is whole without them.
pub const MAX_STRINGS_PER_RULE: usize = 16;

/// A rule that runs longer than this on one file is stopped and the file reported
/// as an error rather than holding a thread forever.
pub const YARA_TIMEOUT: Duration = Duration::from_secs(60);

/// What scanning one file produced.
#[derive(Debug, Default)]
pub struct FileReport {
    pub hits: Vec<Hit>,
    /// Set when the file was a zip archive.
    pub archive: Option<ArchiveReport>,
    /// A YARA scan that failed (timeout): the file is counted as an error.
    pub error: Option<String>,
    /// Set when the file was a registry hive: what of it was read, or why none.
    pub hive: Option<Result<WalkReport, HiveError>>,
}

/// What of a file there is to check.
#[derive(Clone, Copy)]
enum Content<'a> {
    Whole(&'a [u8]),
    /// Only the first bytes of a file too large to read: names and headers only.
    Head(&'a [u8]),
}

/// Content already checked in one sweep, by SHA-256, with what the checks that read
/// the bytes alone found in it: hash IOCs and the rules that read no per-file
/// external. A copy of the content (8 % of the files of `/usr/share`; more among
/// installed packages, containers and backups) then runs only the rules that read
/// its name, path or owner.
#[derive(Debug, Default)]
pub struct Seen {
    content: Mutex<HashMap<[u8; 32], ContentHits>>,
}

/// The hits the bytes alone decided; `None` for none, the common case, which then
/// costs no allocation.
type ContentHits = Option<Arc<[Hit]>>;

impl Seen {
    /// Contents remembered at most: about 50 MB of memory for the table.
    const LIMIT: usize = 1 << 20;

    fn get(&self, sha256: &[u8; 32]) -> Option<ContentHits> {
        self.content.lock().ok()?.get(sha256).cloned()
    }

    fn insert(&self, sha256: [u8; 32], hits: Vec<Hit>) {
        let hits = (!hits.is_empty()).then(|| Arc::from(hits));
        if let Ok(mut content) = self.content.lock() {
            if content.len() < Self::LIMIT {
                content.insert(sha256, hits);
            }
        }
    }
}

/// Per-thread scanning state: the YARA scanners and a cache of owner names.
pub struct FileScanner<'r> {
    ruleset: &'r Ruleset,
    yara: yara_x::Scanner<'r>,
    /// The rules that read the per-file externals, for copies of checked content.
    context_yara: Option<yara_x::Scanner<'r>>,
    seen: &'r Seen,
    owners: HashMap<u32, String>,
    member_limit: u64,
    scan_archives: bool,
}

impl std::fmt::Debug for FileScanner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileScanner").finish_non_exhaustive()
    }
}

/// Hashes of one file, computed in one pass over its bytes.
#[derive(Debug, Default)]
struct Hashes {
    md5: Option<String>,
    sha1: Option<String>,
    sha256: Option<String>,
}

/// The kinds asked for, side by side over blocks of the data: each block is read
/// from memory once and hashed while it is in the core's cache.
fn hashes(data: &[u8], kinds: HashKinds) -> Hashes {
    const BLOCK: usize = 64 << 10;
    let mut md5 = kinds.md5.then(Md5::new);
    let mut sha1 = kinds.sha1.then(Sha1::new);
    let mut sha256 = kinds.sha256.then(Sha256::new);
    for block in data.chunks(BLOCK) {
        if let Some(h) = &mut md5 {
            h.update(block);
        }
        if let Some(h) = &mut sha1 {
            h.update(block);
        }
        if let Some(h) = &mut sha256 {
            h.update(block);
        }
    }
    Hashes {
        md5: md5.map(|h| hex::encode(h.finalize())),
        sha1: sha1.map(|h| hex::encode(h.finalize())),
        sha256: sha256.map(|h| hex::encode(h.finalize())),
    }
}

/// Loki's `filetype`: what the first bytes say the file is.
pub fn file_type(head: &[u8]) -> &'static str {
    const MAGIC: [(&[u8], &str); 10] = [
        (b"MZ", "EXE"),
        (b"\x7fELF", "ELF"),
        (b"PK\x03\x04", "ZIP"),
        (b"Rar!", "RAR"),
        (b"7z\xbc\xaf\x27\x1c", "7Z"),
        (b"%PDF", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE"),
        (b"\x1f\x8b", "GZIP"),
        (b"WANACRY!", "WNCRY"),
        (b"\xca\xfe\xba\xbe", "JAVA"),
    ];
    MAGIC.iter().find(|(m, _)| head.starts_with(m)).map(|(_, t)| *t).unwrap_or("UNKNOWN")
}

impl<'r> FileScanner<'r> {
    /// A scanner for one thread; the threads of a sweep share `seen`.
    pub fn new(ruleset: &'r Ruleset, seen: &'r Seen, member_limit: u64, scan_archives: bool) -> FileScanner<'r> {
        let scanner = |rules| {
            let mut yara = yara_x::Scanner::new(rules);
            yara.set_timeout(YARA_TIMEOUT);
            yara
        };
        FileScanner {
            ruleset,
            yara: scanner(&ruleset.rules),
            context_yara: ruleset.context_rules().map(scanner),
            seen,
            owners: HashMap::new(),
            member_limit,
            scan_archives,
        }
    }

    /// A new scanner with the same rules and settings, for one that a panic may have
    /// left half-way through a scan.
    pub fn renewed(&self) -> FileScanner<'r> {
        FileScanner::new(self.ruleset, self.seen, self.member_limit, self.scan_archives)
    }

    /// Checks the file at `path` whose whole content is `data`; `uid` is its owner.
    pub fn scan(&mut self, path: &Path, data: &[u8], uid: u32) -> FileReport {
        let owner = self.owner(uid);
        let shown = path.to_string_lossy().into_owned();
        let mut report = FileReport::default();
        report.error =
            self.check(path, &shown, None, path, Content::Whole(data), &owner, &original_may_exist, &mut report.hits);
        if self.scan_archives && archive::is_zip(data) {
            let mut member_hits = Vec::new();
            let absent = |_: &Path| true;
            let limit = self.member_limit;
            let mut errors = Vec::new();
            let archive_report = archive::walk(data, limit, &mut |member, bytes| {
                let member_path = Path::new(member);
                let found = self.check(
                    path,
                    &shown,
                    Some(member),
                    member_path,
                    Content::Whole(bytes),
                    &owner,
                    &absent,
                    &mut member_hits,
                );
                if let Some(e) = found {
                    errors.push(e);
                }
            });
            report.hits.extend(member_hits);
            report.archive = Some(archive_report);
            if report.error.is_none() {
                report.error = errors.into_iter().next();
            }
        }
        if takedown_hive::is_hive(data) {
            report.hive = Some(self.scan_hive(path, data, &mut report.hits));
        }
        report
    }

    /// The registry checks of the hive at `file`, whose whole content is `data`
    /// (see [`crate::registry`]); what matched is added to `hits`.
    pub fn scan_hive(&self, file: &Path, data: &[u8], hits: &mut Vec<Hit>) -> Result<WalkReport, HiveError> {
        let path = file.to_string_lossy();
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (found, report) = registry::check(self.ruleset, name, data)?;
        if found.is_empty() {
            return Ok(report);
        }
        // The hive's hash at the time of the finding: cleaning later checks that it
        // is still the file that was read.
        let sha256 = hex::encode(Sha256::digest(data));
        for m in found {
            hits.push(Hit {
                path: path.to_string(),
                file: file.to_path_buf(),
                member: None,
                kind: HitKind::Registry,
                rule: Some(m.source.name),
                rule_file: None,
                indicator: m.source.indicator,
                matched: m.matched,
                strings: Vec::new(),
                sha256: sha256.clone(),
                key: Some(m.key),
                value: m.value,
                data: m.data,
                original: None,
                groups: Vec::new(),
                malware: Vec::new(),
            });
        }
        Ok(report)
    }

    /// A file too large to read whole: its name, its path and the artefact checks
    /// on its first bytes (`head`), no hashes and no YARA.
    pub fn scan_name(&mut self, path: &Path, head: &[u8], uid: u32) -> Vec<Hit> {
        let owner = self.owner(uid);
        let shown = path.to_string_lossy().into_owned();
        let mut hits = Vec::new();
        self.check(path, &shown, None, path, Content::Head(head), &owner, &original_may_exist, &mut hits);
        hits
    }

    /// Every check on one piece of content: the file itself, or an archive member
    /// (`member` set, `name_path` its path inside the archive). `file` is the file on
    /// disk and `path` the same shown as text. Returns a YARA error.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        file: &Path,
        path: &str,
        member: Option<&str>,
        name_path: &Path,
        content: Content<'_>,
        owner: &str,
        exists: &dyn Fn(&Path) -> bool,
        hits: &mut Vec<Hit>,
    ) -> Option<String> {
        let start = hits.len();
        let ruleset = self.ruleset;
        let hit = |kind: HitKind, rule: Option<String>, matched: String| Hit {
            path: path.to_string(),
            file: file.to_path_buf(),
            member: member.map(str::to_string),
            kind,
            rule,
            rule_file: None,
            indicator: None,
            matched,
            strings: Vec::new(),
            sha256: String::new(),
            key: None,
            value: None,
            data: None,
            original: None,
            groups: Vec::new(),
            malware: Vec::new(),
        };

        let (data, whole) = match content {
            Content::Whole(d) => (d, true),
            Content::Head(d) => (d, false),
        };
        let kinds = if whole { ruleset.hash_kinds() } else { HashKinds::default() };
        // The SHA-256 first, when copies are looked for: it names the content.
        let digest: Option<[u8; 32]> = (whole && ruleset.skips_duplicates()).then(|| Sha256::digest(data).into());
        let seen = digest.as_ref().and_then(|d| self.seen.get(d));
        match &seen {
            Some(found) => {
                for h in found.iter().flat_map(|f| f.iter()) {
                    let mut h = h.clone();
                    h.path = path.to_string();
                    h.file = file.to_path_buf();
                    h.member = member.map(str::to_string);
                    hits.push(h);
                }
            }
            None => {
                let mut sums = hashes(data, HashKinds { sha256: kinds.sha256 && digest.is_none(), ..kinds });
                if kinds.sha256 {
                    sums.sha256 = sums.sha256.or_else(|| digest.map(hex::encode));
                }
                for (algorithm, value) in [("md5", &sums.md5), ("sha1", &sums.sha1), ("sha256", &sums.sha256)] {
                    let Some(value) = value else { continue };
                    for source in ruleset.hash_sources(value) {
                        let mut h = hit(HitKind::Hash, None, format!("{algorithm} {value}"));
                        h.indicator = source.indicator.clone();
                        h.rule = Some(source.name.clone());
                        hits.push(h);
                    }
                }
            }
        }
        let content_hits = hits.len();

        let file_name = name_path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        for source in ruleset.name_sources(&file_name.to_lowercase()) {
            let mut h = hit(HitKind::Filename, Some(source.name.clone()), file_name.to_string());
            h.indicator = source.indicator.clone();
            hits.push(h);
        }
        let full = match member {
            Some(m) => format!("{path}!{m}"),
            None => path.to_string(),
        };
        for (pattern, source) in ruleset.path_matches(&full) {
            let mut h = hit(HitKind::Filename, Some(source.name.clone()), pattern.to_string());
            h.indicator = source.indicator.clone();
            hits.push(h);
        }

        for a in artefact::check(name_path, data, exists) {
            let mut h = hit(HitKind::Artefact, Some(a.name.to_string()), a.what);
            h.original = a.original;
            h.malware = vec!["WannaCry".to_string()];
            hits.push(h);
        }

        let yara_start = hits.len();
        let yara =
            if whole { self.yara(&full, file_name, data, owner, seen.is_some(), &hit, hits) } else { Ok(Vec::new()) };
        if let (Some(d), None, Ok(reads_context)) = (digest, &seen, &yara) {
            // What the bytes alone decided: the hash hits and the rules that read
            // no external; a copy gets these without running them.
            let by_content = hits[start..content_hits]
                .iter()
                .chain(hits[yara_start..].iter().zip(reads_context).filter(|(_, &c)| !c).map(|(h, _)| h));
            self.seen.insert(d, by_content.cloned().collect());
        }
        let error = yara.err();

        if hits.len() > start && whole {
            let sha256 = hex::encode(digest.unwrap_or_else(|| Sha256::digest(data).into()));
            for h in &mut hits[start..] {
                h.sha256 = sha256.clone();
            }
        }
        error
    }

    /// Runs the rules on one piece of content; with `context_only`, only those
    /// that read the per-file externals (the content was checked before). Returns,
    /// for each hit added, whether its rule reads the externals.
    #[allow(clippy::too_many_arguments)]
    fn yara(
        &mut self,
        full: &str,
        file_name: &str,
        data: &[u8],
        owner: &str,
        context_only: bool,
        hit: &dyn Fn(HitKind, Option<String>, String) -> Hit,
        hits: &mut Vec<Hit>,
    ) -> Result<Vec<bool>, String> {
        let scanner = match (context_only, &mut self.context_yara) {
            (false, _) => &mut self.yara,
            (true, Some(context)) => context,
            (true, None) => return Ok(Vec::new()),
        };
        let mut reads_context = Vec::new();
        let extension = Path::new(file_name)
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| format!(".{}", e.to_lowercase()))
            .unwrap_or_default();
        // The externals were declared as strings when the rules compiled, so
        // setting a string cannot fail.
        let _ = scanner.set_global("filename", file_name);
        let _ = scanner.set_global("filepath", full);
        let _ = scanner.set_global("extension", extension.as_str());
        let _ = scanner.set_global("filetype", file_type(data));
        let _ = scanner.set_global("owner", owner);
        let results = match scanner.scan(data) {
            Ok(r) => r,
            Err(e) => return Err(format!("{full}: YARA scan stopped: {e}")),
        };
        for rule in results.matching_rules() {
            let namespace = rule.namespace();
            let source = self.ruleset.yara_file(namespace);
            let mut strings = Vec::new();
            for pattern in rule.patterns() {
                for m in pattern.matches().take(MAX_STRINGS_PER_RULE) {
                    let range = m.range();
                    strings.push(MatchedString {
                        identifier: pattern.identifier().to_string(),
                        offset: range.start as u64,
                        length: range.len() as u64,
                        data: show_bytes(m.data()),
                    });
                }
            }
            strings.sort();
            strings.truncate(MAX_STRINGS_PER_RULE);
            let matched = source.map(|(_, s)| s.name.clone()).unwrap_or_else(|| namespace.to_string());
            let mut h = hit(HitKind::Yara, Some(rule.identifier().to_string()), matched);
            h.rule_file = source.map(|(p, _)| p.display().to_string());
            h.indicator = source.and_then(|(_, s)| s.indicator.clone());
            h.strings = strings;
            for (key, value) in rule.metadata() {
                if let ("malware" | "family", yara_x::MetaValue::String(v)) = (key, value) {
                    h.malware.push(v.to_string());
                }
            }
            hits.push(h);
            reads_context.push(self.ruleset.reads_context(namespace));
        }
        Ok(reads_context)
    }

    fn owner(&mut self, uid: u32) -> String {
        self.owners.entry(uid).or_insert_with(|| user_name(uid).unwrap_or_else(|| uid.to_string())).clone()
    }
}

/// Whether the original of an encrypted file may still be there: only a file the
/// system says is not there is gone. A path that cannot be looked at (too long to
/// name, a folder that may not be read) is not data loss.
fn original_may_exist(path: &Path) -> bool {
    !matches!(path.symlink_metadata(), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

/// The effective user id of this process: `/proc/self` belongs to that user.
pub fn effective_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

/// The name of user `uid` from `/etc/passwd`, as Loki's `owner` gives it.
pub fn user_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id: u32 = fields.nth(1)?.parse().ok()?;
        (id == uid).then(|| name.to_string())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ruleset::{RulesetBuilder, Source};

    #[test]
    fn an_original_is_gone_only_when_the_system_says_so() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let here = dir.path().join("thesis.docx");
        std::fs::write(&here, b"x").expect("written");
        assert!(original_may_exist(&here));
        assert!(!original_may_exist(&dir.path().join("gone.docx")));
        // Too long a path to look at: not data loss.
        let long = dir.path().join("x".repeat(5000));
        assert!(original_may_exist(&long));
    }

    fn ruleset() -> Ruleset {
        let mut b = RulesetBuilder::new();
        let source = |name: &str| Source { indicator: None, name: name.into() };
        let content = "rule by_bytes { strings: $a = \"copy-marker\" condition: $a }";
        let context = "rule by_name { strings: $a = \"copy-marker\" condition: $a and filename == \"b.bin\" }";
        b.add_yara(Path::new("bytes.yar"), content, source("bytes.yar")).unwrap();
        b.add_yara(Path::new("names.yar"), context, source("names.yar")).unwrap();
        b.build().unwrap()
    }

    fn rules(hits: &[Hit]) -> Vec<(&str, &str)> {
        let mut r: Vec<_> = hits.iter().map(|h| (h.path.as_str(), h.rule.as_deref().unwrap_or(""))).collect();
        r.sort();
        r
    }

    #[test]
    fn copies_run_only_the_rules_that_read_the_externals() {
        let ruleset = ruleset();
        assert!(ruleset.skips_duplicates());
        assert!(ruleset.reads_context("names") && !ruleset.reads_context("bytes"));
        let seen = Seen::default();
        let mut scanner = FileScanner::new(&ruleset, &seen, 1 << 20, true);
        let data = b"xx copy-marker xx";
        let a = scanner.scan(Path::new("/t/a.bin"), data, 0).hits;
        let b = scanner.scan(Path::new("/t/b.bin"), data, 0).hits;
        assert_eq!(rules(&a), [("/t/a.bin", "by_bytes")]);
        assert_eq!(rules(&b), [("/t/b.bin", "by_bytes"), ("/t/b.bin", "by_name")]);
        assert!(b.iter().all(|h| h.sha256 == hex::encode(Sha256::digest(data))));

        // What is remembered is what a copy reports: content remembered as clean
        // skips the rule on the bytes, but not the one on the name.
        let other = b"yy copy-marker yy";
        seen.insert(Sha256::digest(other).into(), Vec::new());
        let c = scanner.scan(Path::new("/t/b.bin"), other, 0).hits;
        assert_eq!(rules(&c), [("/t/b.bin", "by_name")]);
    }

    #[test]
    fn which_rule_files_read_the_externals() {
        assert!(crate::ruleset::reads_externals("rule a { condition: filepath contains \"x\" }"));
        assert!(crate::ruleset::reads_externals("include \"other.yar\""));
        assert!(crate::ruleset::reads_externals("rule a { meta: filetype = \"PE\" condition: true }"));
        assert!(!crate::ruleset::reads_externals("rule a { strings: $a = \"filenames\" condition: $a }"));
        assert!(!crate::ruleset::reads_externals("rule owner_x { condition: true }"));
    }
}
