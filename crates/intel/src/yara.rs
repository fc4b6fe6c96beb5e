//! YARA rule files, compiled with yara-x.
//!
//! Rules written for Loki and THOR use external variables that the scanner sets per
//! file; they are declared here (as empty strings) so that such rules compile. Rules
//! written for classic YARA also lean on its lenient regular-expression syntax, which
//! yara-x accepts with `relaxed_re_syntax` — the same switch as `yr scan
//! --relaxed-re-syntax`.
//!
//! Every source is measured for nesting (see [`nesting`]) before yara-x sees it:
//! yara-x recurses once per level and would overflow the stack on a hostile file.

pub mod nesting;

#[cfg(feature = "yara")]
use crate::error::clip;
use crate::error::IntelError;
use std::path::Path;
#[cfg(feature = "yara")]
use yara_x::{Compiler, SourceCode};

/// The variables Loki-style rules read; a scanner sets them for each file it scans.
pub const LOKI_EXTERNALS: [&str; 5] = ["filename", "filepath", "extension", "filetype", "owner"];

/// A compiler set up as takedown compiles every rule file: Loki externals declared,
/// classic YARA regular expressions accepted.
#[cfg(feature = "yara")]
pub fn compiler<'a>() -> Compiler<'a> {
    let mut compiler = Compiler::new();
    compiler.relaxed_re_syntax(true);
    for name in LOKI_EXTERNALS {
        // Defining a fresh string global on a fresh compiler cannot clash.
        let _ = compiler.define_global(name, "");
    }
    compiler
}

pub use nesting::{MAX_CALL_NESTING, MAX_NESTING};

/// Refuses a source nested deeper than [`MAX_NESTING`], or with function calls
/// nested deeper than [`MAX_CALL_NESTING`] (see [`nesting`]), naming the place. [`check`] and [`add`] do this themselves; callers that hand sources
/// to yara-x another way must call it first.
pub fn check_nesting(path: &Path, source: &str) -> Result<(), IntelError> {
    nesting::check(source, MAX_NESTING).map_err(|at| IntelError::YaraTooDeep {
        path: path.to_path_buf(),
        line: at.line,
        column: at.column,
        what: if at.calls { "YARA function calls" } else { "YARA condition or hex string" },
        limit: if at.calls { MAX_CALL_NESTING } else { MAX_NESTING },
    })
}

/// Compiles one rule file on its own, in its own namespace, and lists its rules.
/// `path` names the file in error messages.
#[cfg(feature = "yara")]
pub fn check(path: &Path, source: &str) -> Result<Vec<String>, IntelError> {
    let mut compiler = compiler();
    compiler.new_namespace(&namespace_for(path));
    add(&mut compiler, path, source)?;
    let rules = compiler.build();
    let mut names: Vec<String> = rules.iter().map(|r| r.identifier().to_string()).collect();
    names.sort();
    Ok(names)
}

/// Without the `yara` feature: the nesting measure only, and no rule names.
#[cfg(not(feature = "yara"))]
pub fn check(path: &Path, source: &str) -> Result<Vec<String>, IntelError> {
    check_nesting(path, source)?;
    Ok(Vec::new())
}

/// Adds one file's source to `compiler`, turning a compile error into one that names
/// the file, line and column and keeps yara-x's own message.
#[cfg(feature = "yara")]
pub fn add(compiler: &mut Compiler<'_>, path: &Path, source: &str) -> Result<(), IntelError> {
    check_nesting(path, source)?;
    let origin = path.display().to_string();
    match compiler.add_source(SourceCode::from(source).with_origin(origin.as_str())) {
        Ok(_) => Ok(()),
        Err(err) => {
            let report = serde_json::to_value(&err).unwrap_or_default();
            let line = report["line"].as_u64().unwrap_or(0) as usize;
            let column = report["column"].as_u64().unwrap_or(0) as usize;
            let title = report["title"].as_str().map(str::to_string).unwrap_or_else(|| err.to_string());
            let label = report["labels"][0]["text"].as_str().unwrap_or("");
            let message = if label.is_empty() || label == title { title } else { format!("{title}: {label}") };
            // yara-x quotes the source in some messages (an unknown identifier),
            // and an identifier can be as long as the file.
            Err(IntelError::Yara { path: path.to_path_buf(), line, column, message: clip(&message) })
        }
    }
}

/// One namespace per file (its stem): collections repeat each other's rule names,
/// and in separate namespaces both compile.
pub fn namespace_for(path: &Path) -> String {
    path.file_stem().and_then(|s| s.to_str()).unwrap_or("rules").to_string()
}

#[cfg(all(test, feature = "yara"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loki_externals_compile() {
        let src = r#"rule by_name { condition: filename == "tasksche.exe" or extension == ".wnry" }"#;
        assert_eq!(check(Path::new("a.yar"), src).unwrap(), ["by_name"]);
    }

    #[test]
    fn errors_name_file_and_line() {
        let src = "rule ok { condition: true }\n\nrule broken {\n  strings: $a = \"x\"\n  condition: $b\n}\n";
        let err = check(Path::new("bad.yar"), src).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("bad.yar:5:"), "{text}");
        assert!(text.contains("$b"), "{text}");
    }

    #[test]
    fn same_rule_name_in_two_namespaces() {
        let mut c = compiler();
        c.new_namespace("one");
        add(&mut c, Path::new("one.yar"), "rule dup { condition: true }").unwrap();
        c.new_namespace("two");
        add(&mut c, Path::new("two.yar"), "rule dup { condition: true }").unwrap();
        assert_eq!(c.build().iter().count(), 2);
    }

    /// For each construct the measure counts, the deepest source it lets through
    /// goes to yara-x, on a test thread's stack: compiled or refused, never a crash.
    #[test]
    fn the_deepest_sources_the_measure_lets_through_do_not_overflow_yara_x() {
        let shapes: [fn(usize) -> String; 4] = [
            |d| format!("rule p {{ condition: {}true{} }}", "(".repeat(d), ")".repeat(d)),
            |d| format!("rule n {{ condition: {}true }}", "not ".repeat(d)),
            |d| format!("rule c {{ condition: {}0{} == 0 }}", "uint8(".repeat(d), ")".repeat(d)),
            |d| {
                format!(
                    "rule h {{ strings: $a = {{ 4D {} 5A {} }} condition: $a }}",
                    "( 4D | ".repeat(d),
                    ")".repeat(d)
                )
            },
        ];
        for shape in shapes {
            let deepest =
                (1..=MAX_NESTING + 1).rev().find(|d| check_nesting(Path::new("deep.yar"), &shape(*d)).is_ok()).unwrap();
            let source = shape(deepest);
            match check(Path::new("deep.yar"), &source) {
                Ok(_) | Err(IntelError::Yara { .. }) => {}
                Err(e) => panic!("{source}: {e}"),
            }
        }
    }
}
