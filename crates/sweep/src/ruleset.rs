//! What a sweep looks for, compiled once and shared by every thread: YARA rules (one
//! namespace per rule file), hashes, file names and path patterns, each tied back to
//! the intel it came from.

use crate::error::SweepError;
use crate::paths::PathMatcher;
use regex::Regex;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use takedown_model::IndicatorKind;

/// Where a detection came from: an indicator in the store or the pack, or a file
/// named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The STIX id of the indicator, when the detection came from intel.
    pub indicator: Option<String>,
    /// A name for people: the indicator's name, or the file.
    pub name: String,
}

/// Which hash kinds the loaded intel holds: a sweep computes only those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HashKinds {
    pub md5: bool,
    pub sha1: bool,
    pub sha256: bool,
}

/// Collects intel, then [`RulesetBuilder::build`] compiles it.
pub struct RulesetBuilder {
    yara_sources: Vec<(String, PathBuf, String)>,
    cache: Option<PathBuf>,
    namespaces: HashSet<String>,
    yara_files: HashMap<String, (PathBuf, Source)>,
    sources: Vec<Source>,
    hashes: HashMap<String, Vec<usize>>,
    hash_kinds: HashKinds,
    names: HashMap<String, Vec<usize>>,
    paths: Vec<PathPattern>,
    registry_keys: HashMap<String, Vec<usize>>,
    services: HashMap<String, Vec<usize>>,
}

impl std::fmt::Debug for RulesetBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RulesetBuilder").field("yara_files", &self.yara_files.len()).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct PathPattern {
    pattern: String,
    /// Loki's false-positive regex: a path matching it is not a hit.
    unless: Option<Regex>,
    source: usize,
}

impl Default for RulesetBuilder {
    fn default() -> Self {
        RulesetBuilder::new()
    }
}

impl RulesetBuilder {
    pub fn new() -> RulesetBuilder {
        RulesetBuilder {
            yara_sources: Vec::new(),
            cache: None,
            namespaces: HashSet::new(),
            yara_files: HashMap::new(),
            sources: Vec::new(),
            hashes: HashMap::new(),
            hash_kinds: HashKinds::default(),
            names: HashMap::new(),
            paths: Vec::new(),
            registry_keys: HashMap::new(),
            services: HashMap::new(),
        }
    }

    fn source(&mut self, source: Source) -> usize {
        self.sources.push(source);
        self.sources.len() - 1
    }

    /// Keeps compiled rules in `dir`, keyed by a hash of every rule file's name and
    /// text: the next sweep with the same rules loads them instead of compiling
    /// (compiling signature-base takes seconds, loading it a fraction of that).
    pub fn cache_dir(&mut self, dir: Option<PathBuf>) -> &mut Self {
        self.cache = dir;
        self
    }

    /// Adds one YARA rule file in a namespace of its own (named after the file; a
    /// second file of the same name gets `_2`, ...), so that collections that repeat
    /// each other's rule names load side by side. Compile errors show at
    /// [`RulesetBuilder::build`], naming the file, line and column.
    pub fn add_yara(&mut self, origin: &Path, text: &str, source: Source) -> Result<String, SweepError> {
        let stem = origin.file_stem().and_then(|s| s.to_str()).unwrap_or("rules").to_string();
        let mut namespace = stem.clone();
        let mut n = 1;
        while self.namespaces.contains(&namespace) {
            n += 1;
            namespace = format!("{stem}_{n}");
        }
        self.yara_sources.push((namespace.clone(), origin.to_path_buf(), text.to_string()));
        self.namespaces.insert(namespace.clone());
        self.yara_files.insert(namespace.clone(), (origin.to_path_buf(), source));
        Ok(namespace)
    }

    /// Adds a hash (lower- or upper-case hex).
    pub fn add_hash(&mut self, kind: IndicatorKind, value: &str, source: Source) {
        match kind {
            IndicatorKind::Md5 => self.hash_kinds.md5 = true,
            IndicatorKind::Sha1 => self.hash_kinds.sha1 = true,
            IndicatorKind::Sha256 => self.hash_kinds.sha256 = true,
            _ => return,
        }
        let i = self.source(source);
        self.hashes.entry(value.to_ascii_lowercase()).or_default().push(i);
    }

    /// Adds an exact file name, compared without regard to case as Windows does.
    pub fn add_name(&mut self, name: &str, source: Source) {
        let i = self.source(source);
        self.names.entry(name.to_lowercase()).or_default().push(i);
    }

    /// Adds a registry key (`HKEY_LOCAL_MACHINE\SOFTWARE\WanaCrypt0r`, `HKLM\...`),
    /// found in registry hives met in the sweep.
    pub fn add_registry_key(&mut self, key: &str, source: Source) {
        let i = self.source(source);
        self.registry_keys.entry(crate::registry::normalise(key)).or_default().push(i);
    }

    /// Adds a Windows service name, found as a service's key in SYSTEM hives.
    pub fn add_service(&mut self, name: &str, source: Source) {
        let i = self.source(source);
        self.services.entry(name.to_lowercase()).or_default().push(i);
    }

    /// Adds a regular expression over the whole path, with an optional
    /// false-positive expression that cancels a match.
    pub fn add_path_pattern(&mut self, pattern: &str, unless: Option<&str>, source: Source) -> Result<(), SweepError> {
        let bad = |p: &str, e: regex::Error| SweepError::BadPattern {
            origin: source.name.clone(),
            pattern: p.to_string(),
            message: e.to_string(),
        };
        // The pattern itself is checked (and compiled, when needed) by the matcher.
        let unless = unless.map(|u| Regex::new(u).map_err(|e| bad(u, e))).transpose()?;
        let i = self.source(source);
        self.paths.push(PathPattern { pattern: pattern.to_string(), unless, source: i });
        Ok(())
    }

    /// Compiles everything into one [`Ruleset`].
    pub fn build(self) -> Result<Ruleset, SweepError> {
        let patterns: Vec<&str> = self.paths.iter().map(|p| p.pattern.as_str()).collect();
        let path_matcher = PathMatcher::new(&patterns).map_err(|(pattern, message)| SweepError::BadPattern {
            origin: "path patterns".into(),
            pattern,
            message,
        })?;
        let (context, content): (Vec<_>, Vec<_>) =
            self.yara_sources.iter().partition(|(_, _, text)| reads_externals(text));
        // Byte-identical files are checked once by the rules that read the bytes
        // alone; the rules that read the file's name, path or owner run again on
        // each copy, from a second, smaller compiled set. When every rule file
        // reads them, there is nothing to save.
        let skip_copies = !content.is_empty() || context.is_empty();
        let cache = self.cache.as_deref();
        // The smaller set compiles on a thread of its own: compiling is mostly
        // serial, so it takes the otherwise idle core rather than adding its time.
        let (rules, context_rules) = std::thread::scope(|scope| {
            let context = &context;
            let context_rules =
                (skip_copies && !context.is_empty()).then(|| scope.spawn(move || compile_or_load(context, cache)));
            let all: Vec<_> = self.yara_sources.iter().collect();
            let rules = compile_or_load(&all, cache);
            let context_rules = context_rules.map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            (rules, context_rules)
        });
        let rules = rules?;
        let context_rules = context_rules.transpose()?;
        let duplicates = skip_copies.then(|| ContextRules {
            rules: context_rules,
            namespaces: context.iter().map(|(namespace, _, _)| namespace.clone()).collect(),
        });
        Ok(Ruleset {
            rules,
            duplicates,
            yara_files: self.yara_files,
            sources: self.sources,
            hashes: self.hashes,
            hash_kinds: self.hash_kinds,
            names: self.names,
            path_matcher,
            paths: self.paths,
            registry_keys: self.registry_keys,
            services: self.services,
        })
    }
}

/// Compiles the rule files, or loads them from the cache when the same files were
/// compiled before. A cache that cannot be read or written is only a lost speed-up.
fn compile_or_load(sources: &[&(String, PathBuf, String)], cache: Option<&Path>) -> Result<yara_x::Rules, SweepError> {
    use sha2::{Digest, Sha256};
    let mut key = Sha256::new();
    // The compiler's version and settings are part of what was compiled (yara-x is
    // pinned in the workspace; a cache from another version fails to load and is
    // compiled again).
    key.update(concat!("takedown ", env!("CARGO_PKG_VERSION"), " yara-x 1.22.1 relaxed loki-externals native-code\0"));
    for (namespace, origin, text) in sources {
        for part in [namespace.as_bytes(), origin.as_os_str().as_encoded_bytes(), text.as_bytes()] {
            key.update((part.len() as u64).to_le_bytes());
            key.update(part);
        }
    }
    let file = cache.map(|dir| dir.join(format!("rules-{}.yarc", &hex::encode(key.finalize())[..32])));
    if let Some(file) = file.as_ref().filter(|f| trusted(f)) {
        if let Ok(bytes) = std::fs::read(file) {
            match yara_x::Rules::deserialize(bytes) {
                Ok(rules) => return Ok(rules),
                Err(e) => tracing::warn!("{}: cached rules unreadable ({e}); compiling again", file.display()),
            }
        }
    }
    let mut compiler = takedown_intel_compiler();
    for (namespace, origin, text) in sources {
        compiler.new_namespace(namespace);
        add_source(&mut compiler, origin, text)?;
    }
    let rules = compiler.build();
    if let (Some(file), Ok(bytes)) = (&file, rules.serialize()) {
        if let Err(e) = store_cache(file, &bytes) {
            tracing::warn!("{}: cannot cache compiled rules: {e}", file.display());
        }
    }
    Ok(rules)
}

/// Cached rule sets kept besides the newest: enough for a few rule sets in turn,
/// each cached as two files (all its rules, and those that read the externals).
const CACHED_SETS: usize = 8;

/// Whether a cached rule set may be loaded. It holds machine code that runs as
/// is (the rules compiled to native code, so that a sweep starts without compiling
/// them again), so it is loaded only when nobody but the user running the sweep
/// could have written it: a regular file in a directory, both owned by this user
/// and writable by no one else. Anything else is compiled from the sources again.
fn trusted(file: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Some(me) = crate::scan::effective_uid() else { return false };
    let private = |m: &std::fs::Metadata| m.uid() == me && m.mode() & 0o022 == 0;
    let dir = file.parent().unwrap_or(Path::new("."));
    let (Ok(f), Ok(d)) = (file.symlink_metadata(), dir.symlink_metadata()) else { return false };
    let ok = f.is_file() && d.is_dir() && private(&f) && private(&d);
    if !ok {
        tracing::warn!(
            "{}: not loaded, it or its directory is not the sweeping user's alone; compiling again",
            file.display()
        );
    }
    ok
}

fn store_cache(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let part = file.with_extension("yarc.part");
    let _ = std::fs::remove_file(&part);
    let mut out = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&part)?;
    out.write_all(bytes)?;
    drop(out);
    std::fs::rename(&part, file)?;
    let mut old: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yarc") && p != file)
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    old.sort();
    let excess = old.len().saturating_sub(CACHED_SETS);
    for (_, p) in old.into_iter().take(excess) {
        let _ = std::fs::remove_file(p);
    }
    Ok(())
}

fn takedown_intel_compiler() -> yara_x::Compiler<'static> {
    let mut compiler = yara_x::Compiler::new();
    compiler.relaxed_re_syntax(true);
    for name in crate::scan::LOKI_EXTERNALS {
        // A fresh string global on a fresh compiler cannot clash.
        let _ = compiler.define_global(name, "");
    }
    compiler
}

fn add_source(compiler: &mut yara_x::Compiler<'_>, path: &Path, text: &str) -> Result<(), SweepError> {
    let origin = path.display().to_string();
    compiler.add_source(yara_x::SourceCode::from(text).with_origin(origin.as_str())).map(|_| ()).map_err(|err| {
        // yara-x's report as JSON carries the line and column of the first label.
        let report = serde_json::to_value(&err).unwrap_or_default();
        let title = report["title"].as_str().map(str::to_string).unwrap_or_else(|| err.to_string());
        let label = report["labels"][0]["text"].as_str().unwrap_or("");
        SweepError::Yara {
            path: path.to_path_buf(),
            line: report["line"].as_u64().unwrap_or(0) as usize,
            column: report["column"].as_u64().unwrap_or(0) as usize,
            message: if label.is_empty() || label == title { title } else { format!("{title}: {label}") },
        }
    })
}

/// Whether a rule file may read one of the per-file externals (or includes another
/// file, which might): whether the word appears anywhere in it, comments and
/// strings included. This errs towards yes, and a file wrongly counted among the
/// readers only runs again on each copy of a file, as every rule did before.
/// (Leaving out strings and comments would need YARA's lexer: a `"` inside a
/// regular expression is not the start of a string.)
pub(crate) fn reads_externals(text: &str) -> bool {
    text.as_bytes()
        .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .any(|word| word == b"include" || crate::scan::LOKI_EXTERNALS.iter().any(|e| e.as_bytes() == word))
}

/// The rules that run again on each copy of content already checked, and the
/// namespaces they are in.
struct ContextRules {
    /// `None` when no rule file reads the externals.
    rules: Option<yara_x::Rules>,
    namespaces: HashSet<String>,
}

/// Everything a sweep checks, compiled.
pub struct Ruleset {
    pub(crate) rules: yara_x::Rules,
    /// Set when copies of a file need not run every rule again.
    duplicates: Option<ContextRules>,
    yara_files: HashMap<String, (PathBuf, Source)>,
    sources: Vec<Source>,
    hashes: HashMap<String, Vec<usize>>,
    hash_kinds: HashKinds,
    names: HashMap<String, Vec<usize>>,
    path_matcher: PathMatcher,
    paths: Vec<PathPattern>,
    /// By normalised key (see `registry::normalise`).
    registry_keys: HashMap<String, Vec<usize>>,
    /// By lower-case service name.
    services: HashMap<String, Vec<usize>>,
}

impl std::fmt::Debug for Ruleset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ruleset").field("counts", &self.counts()).finish_non_exhaustive()
    }
}

/// How much a ruleset holds, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RulesetCounts {
    pub yara_files: usize,
    pub yara_rules: usize,
    pub hashes: usize,
    pub names: usize,
    pub path_patterns: usize,
    pub registry_keys: usize,
    pub services: usize,
}

impl Ruleset {
    pub fn counts(&self) -> RulesetCounts {
        RulesetCounts {
            yara_files: self.yara_files.len(),
            yara_rules: self.rules.iter().count(),
            hashes: self.hashes.len(),
            names: self.names.len(),
            path_patterns: self.paths.len(),
            registry_keys: self.registry_keys.len(),
            services: self.services.len(),
        }
    }

    pub fn hash_kinds(&self) -> HashKinds {
        self.hash_kinds
    }

    /// Whether copies of content already checked in a sweep skip the rules that
    /// read the bytes alone.
    pub(crate) fn skips_duplicates(&self) -> bool {
        self.duplicates.is_some()
    }

    /// The rules to run on a copy: those that read the file's name, path or owner.
    pub(crate) fn context_rules(&self) -> Option<&yara_x::Rules> {
        self.duplicates.as_ref().and_then(|d| d.rules.as_ref())
    }

    /// Whether a namespace's rules read the per-file externals.
    pub(crate) fn reads_context(&self, namespace: &str) -> bool {
        self.duplicates.as_ref().is_none_or(|d| d.namespaces.contains(namespace))
    }

    /// The file a namespace's rules came from and its source.
    pub fn yara_file(&self, namespace: &str) -> Option<&(PathBuf, Source)> {
        self.yara_files.get(namespace)
    }

    pub(crate) fn hash_sources(&self, hex: &str) -> impl Iterator<Item = &Source> {
        self.hashes.get(hex).into_iter().flatten().map(|&i| &self.sources[i])
    }

    pub(crate) fn name_sources(&self, lower_name: &str) -> impl Iterator<Item = &Source> {
        self.names.get(lower_name).into_iter().flatten().map(|&i| &self.sources[i])
    }

    pub(crate) fn registry_key_sources(&self, normalised: &str) -> impl Iterator<Item = &Source> {
        self.registry_keys.get(normalised).into_iter().flatten().map(|&i| &self.sources[i])
    }

    pub(crate) fn service_sources(&self, lower_name: &str) -> impl Iterator<Item = &Source> {
        self.services.get(lower_name).into_iter().flatten().map(|&i| &self.sources[i])
    }

    /// Path patterns matching `path`, with their sources; those whose
    /// false-positive expression also matches are left out.
    pub(crate) fn path_matches(&self, path: &str) -> Vec<(&str, &Source)> {
        self.path_matcher
            .matches(path)
            .into_iter()
            .filter_map(|i| {
                let p = &self.paths[i];
                let cancelled = p.unless.as_ref().is_some_and(|u| u.is_match(path));
                (!cancelled).then(|| (p.pattern.as_str(), &self.sources[p.source]))
            })
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn build(cache: &Path) -> Ruleset {
        let mut b = RulesetBuilder::new();
        b.cache_dir(Some(cache.to_path_buf()));
        let source = Source { indicator: None, name: "t.yar".into() };
        b.add_yara(Path::new("t.yar"), "rule planted { strings: $a = \"takedown-cache-test\" condition: $a }", source)
            .unwrap();
        b.build().unwrap()
    }

    fn matches(r: &Ruleset) -> usize {
        let mut scanner = yara_x::Scanner::new(&r.rules);
        scanner.scan(b"xx takedown-cache-test xx").unwrap().matching_rules().len()
    }

    #[test]
    fn cached_rules_are_private_and_load_only_when_private() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        assert_eq!(matches(&build(&cache)), 1);
        let file = std::fs::read_dir(&cache).unwrap().next().unwrap().unwrap().path();
        let mode = |p: &Path| p.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&cache), mode(&file)), (0o700, 0o600));
        assert!(trusted(&file));
        // Loaded from the cache, the rules still match.
        assert_eq!(matches(&build(&cache)), 1);

        // Writable by others: refused, compiled again, and written back private.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        assert!(!trusted(&file));
        assert_eq!(matches(&build(&cache)), 1);
        assert_eq!(mode(&file), 0o600);
        assert!(trusted(&file));

        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(!trusted(&file));
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();

        // A link is not followed, wherever it points.
        let link = cache.join("rules-link.yarc");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert!(!trusted(&link));
    }
}
