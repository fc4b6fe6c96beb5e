//! Path patterns (Loki's filename IOCs: thousands of regular expressions over the
//! full path) matched without running thousands of regular expressions per file.
//!
//! Each pattern's required leading literals are pulled out of its syntax; one
//! Aho-Corasick automaton over all of them finds, in one pass over the path, the
//! few patterns that could match, and only those run. Patterns with no usable
//! literal (rare: `.*\.exe$`) go to a regex set that runs on every path.
//!
//! Matching is case-insensitive, as Windows paths are. Most IOCs are written for
//! Windows (`\\Windows\\Temp\\x\.exe`): a pattern without a `/` is matched against
//! the path with `/` written as `\`, so it also finds its file on a mounted Windows
//! volume; a pattern with a `/` is matched against the path as it is.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use std::sync::OnceLock;

/// Literals shorter than this match too many paths to be worth a prefilter.
const MIN_LITERAL: usize = 3;

/// A pattern, compiled the first time the prefilter proposes it: of thousands of
/// IOC patterns, a sweep needs few, and compiling them all takes seconds.
#[derive(Debug)]
struct Compiled {
    pattern: String,
    regex: OnceLock<Option<Regex>>,
    windows_form: bool,
}

impl Compiled {
    fn is_match(&self, text: &str) -> bool {
        let regex = self.regex.get_or_init(|| {
            // Checked by the parser in `PathMatcher::new`; only a size limit can
            // still refuse it, and then the pattern matches nothing.
            RegexBuilder::new(&self.pattern)
                .case_insensitive(true)
                .build()
                .inspect_err(|e| tracing::warn!("path pattern {:?} does not compile: {e}", self.pattern))
                .ok()
        });
        regex.as_ref().is_some_and(|r| r.is_match(text))
    }
}

/// Many path patterns, matched together.
#[derive(Debug)]
pub struct PathMatcher {
    patterns: Vec<Compiled>,
    prefilter: Option<AhoCorasick>,
    /// For each prefilter literal, the pattern it belongs to.
    literal_owner: Vec<usize>,
    /// Patterns without literals, and their indexes in `patterns`: those written
    /// for Windows paths, then those written with `/`.
    fallback: [Fallback; 2],
}

/// Patterns without a usable literal, run together on every path in their form.
#[derive(Debug)]
struct Fallback {
    set: RegexSet,
    ids: Vec<usize>,
}

impl PathMatcher {
    /// Compiles the patterns; the error names the first that does not compile.
    pub fn new(patterns: &[&str]) -> Result<PathMatcher, (String, String)> {
        let mut compiled = Vec::with_capacity(patterns.len());
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut literal_owner = Vec::new();
        // Windows form first, as in `PathMatcher::fallback`.
        let mut fallback: [(Vec<&str>, Vec<usize>); 2] = Default::default();
        for (i, p) in patterns.iter().enumerate() {
            regex_syntax::ParserBuilder::new()
                .case_insensitive(true)
                .build()
                .parse(p)
                .map_err(|e| (p.to_string(), e.to_string()))?;
            let windows_form = !p.contains('/');
            compiled.push(Compiled { pattern: p.to_string(), regex: OnceLock::new(), windows_form });
            match required_literals(p) {
                Some(lits) => {
                    for mut l in lits {
                        // The prefilter reads the path in Windows form only: a literal
                        // found in a path is found, at the same place, in that path
                        // with every `/` written as `\`.
                        l.iter_mut().filter(|b| **b == b'/').for_each(|b| *b = b'\\');
                        literals.push(l);
                        literal_owner.push(i);
                    }
                }
                None => {
                    let (set, ids) = &mut fallback[usize::from(!windows_form)];
                    set.push(*p);
                    ids.push(i);
                }
            }
        }
        let prefilter = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&literals)
                    .map_err(|e| ("(all patterns)".to_string(), e.to_string()))?,
            )
        };
        let [windows, slash] = fallback.map(|(set, ids)| {
            RegexSetBuilder::new(&set)
                .case_insensitive(true)
                .build()
                .map(|set| Fallback { set, ids })
                .map_err(|e| ("(patterns without literals)".to_string(), e.to_string()))
        });
        Ok(PathMatcher { patterns: compiled, prefilter, literal_owner, fallback: [windows?, slash?] })
    }

    /// Indexes of the patterns that match `path`, ascending.
    pub fn matches(&self, path: &str) -> Vec<usize> {
        if self.patterns.is_empty() {
            return Vec::new();
        }
        let windows = path.replace('/', "\\");
        let form = |i: usize| if self.patterns[i].windows_form { windows.as_str() } else { path };
        let mut candidates: Vec<usize> = Vec::new();
        if let Some(ac) = &self.prefilter {
            candidates
                .extend(ac.find_overlapping_iter(windows.as_str()).map(|m| self.literal_owner[m.pattern().as_usize()]));
        }
        candidates.sort_unstable();
        candidates.dedup();
        let mut out: Vec<usize> = candidates.into_iter().filter(|&i| self.patterns[i].is_match(form(i))).collect();
        let mut more = false;
        for (fallback, text) in self.fallback.iter().zip([windows.as_str(), path]) {
            // Most paths match none of them: one plain search says so, and only a
            // path that matches one pays for finding which.
            if !fallback.ids.is_empty() && fallback.set.is_match(text) {
                out.extend(fallback.set.matches(text).into_iter().map(|j| fallback.ids[j]));
                more = true;
            }
        }
        if more {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
}

/// Literals one of which every match of `pattern` starts with, when that set is
/// finite and each is long enough to be selective.
fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let lits = seq.literals()?;
    if lits.is_empty() || lits.iter().any(|l| l.as_bytes().len() < MIN_LITERAL) {
        return None;
    }
    Some(lits.iter().map(|l| l.as_bytes().to_ascii_lowercase()).collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn windows_patterns_match_windows_and_mounted_paths() {
        let m = PathMatcher::new(&[r"\\Windows\\tasksche\.exe", r"/tmp/\.ICE-unix/[a-z]+$", r".*\.wnry$"]).unwrap();
        assert_eq!(m.matches(r"C:\WINDOWS\tasksche.exe"), [0]);
        assert_eq!(m.matches("/mnt/c/Windows/tasksche.exe"), [0]);
        assert_eq!(m.matches("/tmp/.ICE-unix/abc"), [1]);
        assert_eq!(m.matches("/home/x/c.WNRY"), [2]);
        assert!(m.matches("/home/x/tasksche.exe").is_empty());
        assert!(m.matches("/usr/share/doc/readme").is_empty());
    }

    #[test]
    fn patterns_without_literals_run_on_their_own_form() {
        let m = PathMatcher::new(&[r".*\\x[0-9]\.exe$", r".*/\.x[0-9]$"]).unwrap();
        assert!(m.fallback.iter().all(|f| f.ids.len() == 1));
        assert_eq!(m.matches("/mnt/c/x1.exe"), [0]);
        assert_eq!(m.matches(r"C:\x1.exe"), [0]);
        assert_eq!(m.matches("/home/a/.x1"), [1]);
        // A pattern written with `/` reads the path as it is.
        assert!(m.matches(r"C:\home\.x1").is_empty());
    }

    #[test]
    fn literals_come_from_the_start_of_a_match() {
        assert_eq!(required_literals(r"\\libtcc\.dll"), Some(vec![b"\\libtcc.dll".to_vec()]));
        assert_eq!(required_literals(r"ystem32\\(a|bc)\.dll").map(|l| l.len()), Some(2));
        assert_eq!(required_literals(r".*\.exe$"), None);
    }
}
