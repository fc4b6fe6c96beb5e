//! What a sweep looks for, compiled once and shared by every thread: YARA rules (one
//! namespace per rule file), hashes, file names and path patterns, each tied back to
//! the intel it came from.

use crate::error::SweepError;
use regex::{Regex, RegexSet};
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
    compiler: yara_x::Compiler<'static>,
    namespaces: HashSet<String>,
    yara_files: HashMap<String, (PathBuf, Source)>,
    sources: Vec<Source>,
    hashes: HashMap<String, Vec<usize>>,
    hash_kinds: HashKinds,
    names: HashMap<String, Vec<usize>>,
    paths: Vec<PathPattern>,
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
            compiler: takedown_intel_compiler(),
            namespaces: HashSet::new(),
            yara_files: HashMap::new(),
            sources: Vec::new(),
            hashes: HashMap::new(),
            hash_kinds: HashKinds::default(),
            names: HashMap::new(),
            paths: Vec::new(),
        }
    }

    fn source(&mut self, source: Source) -> usize {
        self.sources.push(source);
        self.sources.len() - 1
    }

    /// Adds one YARA rule file in a namespace of its own (named after the file; a
    /// second file of the same name gets `_2`, ...), so that collections that repeat
    /// each other's rule names load side by side.
    pub fn add_yara(&mut self, origin: &Path, text: &str, source: Source) -> Result<String, SweepError> {
        let stem = origin.file_stem().and_then(|s| s.to_str()).unwrap_or("rules").to_string();
        let mut namespace = stem.clone();
        let mut n = 1;
        while self.namespaces.contains(&namespace) {
            n += 1;
            namespace = format!("{stem}_{n}");
        }
        self.compiler.new_namespace(&namespace);
        add_source(&mut self.compiler, origin, text)?;
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

    /// Adds a regular expression over the whole path, with an optional
    /// false-positive expression that cancels a match.
    pub fn add_path_pattern(&mut self, pattern: &str, unless: Option<&str>, source: Source) -> Result<(), SweepError> {
        let bad = |p: &str, e: regex::Error| SweepError::BadPattern {
            origin: source.name.clone(),
            pattern: p.to_string(),
            message: e.to_string(),
        };
        Regex::new(pattern).map_err(|e| bad(pattern, e))?;
        let unless = unless.map(|u| Regex::new(u).map_err(|e| bad(u, e))).transpose()?;
        let i = self.source(source);
        self.paths.push(PathPattern { pattern: pattern.to_string(), unless, source: i });
        Ok(())
    }

    /// Compiles everything into one [`Ruleset`].
    pub fn build(self) -> Result<Ruleset, SweepError> {
        let set = RegexSet::new(self.paths.iter().map(|p| p.pattern.as_str())).map_err(|e| SweepError::BadPattern {
            origin: "path patterns".into(),
            pattern: String::new(),
            message: e.to_string(),
        })?;
        Ok(Ruleset {
            rules: self.compiler.build(),
            yara_files: self.yara_files,
            sources: self.sources,
            hashes: self.hashes,
            hash_kinds: self.hash_kinds,
            names: self.names,
            path_set: set,
            paths: self.paths,
        })
    }
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

/// Everything a sweep checks, compiled.
pub struct Ruleset {
    pub(crate) rules: yara_x::Rules,
    yara_files: HashMap<String, (PathBuf, Source)>,
    sources: Vec<Source>,
    hashes: HashMap<String, Vec<usize>>,
    hash_kinds: HashKinds,
    names: HashMap<String, Vec<usize>>,
    path_set: RegexSet,
    paths: Vec<PathPattern>,
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
}

impl Ruleset {
    pub fn counts(&self) -> RulesetCounts {
        RulesetCounts {
            yara_files: self.yara_files.len(),
            yara_rules: self.rules.iter().count(),
            hashes: self.hashes.len(),
            names: self.names.len(),
            path_patterns: self.paths.len(),
        }
    }

    pub fn hash_kinds(&self) -> HashKinds {
        self.hash_kinds
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

    /// Path patterns matching `path`, with their sources; those whose
    /// false-positive expression also matches are left out.
    pub(crate) fn path_matches(&self, path: &str) -> Vec<(&str, &Source)> {
        if self.paths.is_empty() {
            return Vec::new();
        }
        self.path_set
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
