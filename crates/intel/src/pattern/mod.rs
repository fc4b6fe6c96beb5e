//! STIX 2.1 Patterning (STIX 2.1 section 9): a parser, a canonical printer and a
//! matcher that checks a pattern against one observation.
//!
//! ```
//! use takedown_intel::pattern;
//! use takedown_model::IndicatorKind;
//! use serde_json::json;
//!
//! let p = pattern::parse("[file:hashes.'SHA-256' = 'AB12' OR file:name LIKE '%.scr']").unwrap();
//! assert!(p.matches(&[json!({"type": "file", "name": "invoice.scr"})]));
//! assert_eq!(p.to_string(), "[file:hashes.'SHA-256' = 'AB12' OR file:name LIKE '%.scr']");
//!
//! let simple = pattern::parse("[domain-name:value = 'Evil.Example.']").unwrap();
//! assert_eq!(simple.simple(), Some((IndicatorKind::Domain, "evil.example".to_string())));
//! ```
//!
//! # What is checked when parsing
//!
//! The whole grammar of STIX 2.1: observation expressions in `[ ]` joined by
//! `AND`, `OR` and `FOLLOWEDBY` (`AND` binds tightest, `FOLLOWEDBY` loosest);
//! qualifiers `WITHIN n SECONDS`, `REPEATS n TIMES` and `START t'..' STOP t'..'`;
//! comparisons with `=` (`==`), `!=` (`<>`), `<`, `<=`, `>`, `>=`, `IN`, `LIKE`,
//! `MATCHES`, `ISSUBSET`, `ISSUPERSET`, each optionally preceded by `NOT`, and
//! `EXISTS path`; object paths `type:prop.sub[0].'quoted key'[*]`; and constants:
//! strings (escapes `\'` and `\\` only), integers, floats, `true`/`false`,
//! `b'base64'`, `h'hex'`, `t'2016-01-20T12:31:12.123Z'` (checked against the
//! calendar) and `( lists )`. Keywords are case-sensitive, as in the grammar.
//! Beyond the grammar it also rejects what could never match: a `MATCHES` regex
//! the `regex` crate cannot compile, and an `ISSUBSET`/`ISSUPERSET` operand that
//! is not an IP address or CIDR block. Errors give the byte offset and say what
//! was expected and what was found.
//!
//! Since STIX 2.0 bundles are read too, two STIX 2.0 forms are accepted: bare
//! property names with hyphens (`file:hashes.SHA-256`) and `START`/`STOP` with
//! plain quoted timestamps. Both print in the 2.1 form (`'SHA-256'`, `t'...'`).
//! STIX 2.0's double-quoted identifiers are not.
//!
//! # How matching works, and its limits
//!
//! [`Pattern::matches`] takes ONE observation: a slice of SCOs as JSON objects.
//!
//! - Inside `[ ]`, comparisons joined by `AND` that name the same object type must
//!   all hold for the same object; those naming different types may be met by
//!   different objects of the observation. `OR` is met by any object.
//! - A comparison holds if some value its path finds passes the test; with `NOT`,
//!   if some value fails it. A missing (or null) property, or a value of a type
//!   the constant cannot be compared with (a number against a string, say), never
//!   matches, with or without `NOT` or `!=`.
//! - Strings compare exactly, except values under `hashes`, which compare as hex
//!   without regard to case; hash algorithm keys also match loosely (`SHA256`
//!   finds `SHA-256`). Timestamps compare as instants, numbers as numbers, `b''`
//!   and `h''` constants as bytes (a `*_hex` property is read as hex, a `*_bin`
//!   one as base64, others as whichever decodes).
//! - `LIKE`: `%` any run of characters, `_` one character, case-sensitive.
//!   `MATCHES` uses the `regex` crate, not PCRE: no look-around or back-references
//!   (such patterns are rejected at parse time); the search is unanchored.
//! - `ISSUBSET`/`ISSUPERSET` compare IPv4 or IPv6 address blocks; an address
//!   without a prefix is a /32 or /128.
//! - `[*]` is any list element, `[n]` element n; negative indexes match nothing.
//! - `_ref` and `_refs` properties are not followed to the object they name: a
//!   path that steps through one (`email-message:from_ref.value`) matches nothing.
//!   Comparing the reference itself (`network-traffic:src_ref = '...'`) compares
//!   the identifier string.
//! - Between observation expressions, `AND` and `OR` are evaluated over the same
//!   single observation, and `FOLLOWEDBY` is treated as `AND`: one observation has
//!   no order in time. Qualifiers (`WITHIN`, `REPEATS`, `START`/`STOP`) are parsed
//!   and kept but ignored when matching, for the same reason.
//! - Matching work is bounded by [`MAX_EVAL_STEPS`]; a pattern that needs more
//!   (only possible by coupling many object types over a large observation) is
//!   reported as not matching.
//!
//! # Why our own
//!
//! The Rust crates for STIX that exist (`stix2` 0.1, `stix-rs` 0.1, `stixflayer`
//! 0.1, all first releases) each bring a typed model of every STIX object, which
//! would refuse or flatten the custom types and properties real feeds carry
//! (ATT&CK's `x-mitre-*`), and their documentation describes pattern *parsing or
//! syntax checking* only: none documents matching a pattern against observations,
//! which is what sweep and capture analysis need, nor error offsets. The reference
//! matcher is OASIS's Python `cti-pattern-matcher`. So the grammar is implemented
//! here from the specification, and the parser is fuzzed (`fuzz/`, target
//! `stix_pattern`).

mod ast;
mod lexer;
mod matcher;
mod parser;
#[cfg(test)]
mod tests;

pub use ast::{
    CompareOp, Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, PathStep, PatternRegex, Qualifier,
    Test, Timestamp,
};

use std::collections::BTreeSet;
use std::fmt;
use takedown_model::IndicatorKind;

/// Longest pattern accepted, in bytes. Real indicator patterns are far below 10 KiB;
/// a mebibyte leaves room for long IN lists while bounding the time and memory one
/// hostile pattern can take.
pub const MAX_PATTERN_LEN: usize = 1 << 20;

/// Deepest nesting of `[`/`(` levels. The parser recurses once per level, and so do
/// printing and matching over the tree; this bounds their stack use, so 100,000
/// `(` in a row is an error instead of a stack overflow that aborts the process.
pub const MAX_DEPTH: usize = 64;

/// Most constants in one `IN` list. Each candidate value is checked against the
/// whole list; past this it is a data set, better imported as separate indicators.
pub const MAX_LIST_LEN: usize = 65_536;

/// Most distinct object types in one observation expression. The matcher binds
/// one object per shared type and recurses once per binding, so this bounds that
/// recursion; real patterns name one to three types.
pub const MAX_TYPES_PER_OBSERVATION: usize = 64;

/// Largest compiled size of a `MATCHES` regex, in bytes (the `regex` crate's
/// `size_limit`): compiling is linear in this, and feeds carry thousands of patterns.
pub const MAX_REGEX_SIZE: usize = 2 << 20;

/// Most steps (comparisons tried, objects bound, `LIKE` backtracks) one `matches`
/// call may take. Coupling many object types over a large observation can cost
/// the product of their object counts; this caps it, so no pattern can hang a sweep.
pub const MAX_EVAL_STEPS: u64 = 1_000_000;

/// Why a pattern did not parse: where (a byte offset into the input) and what was
/// expected and found there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte {offset}: {message}")]
pub struct PatternError {
    pub offset: usize,
    pub message: String,
}

/// A parsed STIX pattern. `Display` gives its canonical text, which parses back to
/// an equal `Pattern`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    expr: ObservationExpr,
}

/// Parses a STIX 2.1 pattern.
pub fn parse(input: &str) -> Result<Pattern, PatternError> {
    parser::parse(input).map(|expr| Pattern { expr })
}

impl std::str::FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}

impl Pattern {
    /// The syntax tree.
    pub fn expression(&self) -> &ObservationExpr {
        &self.expr
    }

    /// For the common single-comparison forms, the indicator kind and canonical value:
    ///
    /// - `[file:hashes.'SHA-256' = 'X']` (also `SHA256`, `'sha-256'`, any case) gives
    ///   (`Sha256`, lower-case hex); MD5 and SHA-1 likewise. The value must be hex of
    ///   the algorithm's length, or this is `None`.
    /// - `[file:name = 'x']` gives `FileName`; `[domain-name:value = 'x']` gives
    ///   `Domain` (lower-cased, trailing dot removed); `ipv4-addr:value` gives `Ipv4`,
    ///   `ipv6-addr:value` `Ipv6` (lower-cased), `url:value` `Url`.
    /// - `[user-account:account_login = 'x']` or `user_id` gives `Account`;
    ///   `[mutex:name = 'x']` `Mutex`; `[windows-registry-key:key = 'x']`
    ///   `RegistryKey`; `[process:extensions.'windows-service-ext'.service_name = 'x']`
    ///   `Service`.
    ///
    /// Anything else (OR, AND, other operators, NOT, qualifiers, empty values) is `None`.
    pub fn simple(&self) -> Option<(IndicatorKind, String)> {
        let ObservationExpr::Observation(ComparisonExpr::Comparison(c)) = &self.expr else {
            return None;
        };
        let Comparison { path, negated: false, test: Test::Compare(CompareOp::Eq, Constant::String(value)) } = c else {
            return None;
        };
        if value.is_empty() {
            return None;
        }
        let key = |k: &PathStep, name: &str| matches!(k, PathStep::Key(s) if s == name);
        let kind = match (path.object_type.as_str(), path.steps.as_slice()) {
            ("file", [h, PathStep::Key(algorithm)]) if key(h, "hashes") => return simple_hash(algorithm, value),
            ("file", [k]) if key(k, "name") => IndicatorKind::FileName,
            ("domain-name", [k]) if key(k, "value") => {
                let domain = value.trim_end_matches('.').to_ascii_lowercase();
                return (!domain.is_empty()).then_some((IndicatorKind::Domain, domain));
            }
            ("ipv4-addr", [k]) if key(k, "value") => IndicatorKind::Ipv4,
            ("ipv6-addr", [k]) if key(k, "value") => return Some((IndicatorKind::Ipv6, value.to_ascii_lowercase())),
            ("url", [k]) if key(k, "value") => IndicatorKind::Url,
            ("user-account", [k]) if key(k, "account_login") || key(k, "user_id") => IndicatorKind::Account,
            ("mutex", [k]) if key(k, "name") => IndicatorKind::Mutex,
            ("windows-registry-key", [k]) if key(k, "key") => IndicatorKind::RegistryKey,
            ("process", [e, s, n])
                if key(e, "extensions") && key(s, "windows-service-ext") && key(n, "service_name") =>
            {
                IndicatorKind::Service
            }
            _ => return None,
        };
        Some((kind, value.clone()))
    }

    /// The SCO types the pattern's comparisons name, so callers can index patterns
    /// by the objects they need.
    pub fn object_types(&self) -> BTreeSet<String> {
        self.comparisons().into_iter().map(|c| c.path.object_type.clone()).collect()
    }

    /// Every comparison, in the order written. Each has its object type and path
    /// (`c.path`, printed as written by `Display`), its operator (`c.operator()`)
    /// and its operand (`c.test`).
    pub fn comparisons(&self) -> Vec<&Comparison> {
        fn comparisons_in<'p>(e: &'p ComparisonExpr, out: &mut Vec<&'p Comparison>) {
            match e {
                ComparisonExpr::Comparison(c) => out.push(c),
                ComparisonExpr::And(xs) | ComparisonExpr::Or(xs) => xs.iter().for_each(|x| comparisons_in(x, out)),
            }
        }
        fn observations_in<'p>(e: &'p ObservationExpr, out: &mut Vec<&'p Comparison>) {
            match e {
                ObservationExpr::Observation(c) => comparisons_in(c, out),
                ObservationExpr::And(xs) | ObservationExpr::Or(xs) | ObservationExpr::FollowedBy(xs) => {
                    xs.iter().for_each(|x| observations_in(x, out))
                }
                ObservationExpr::Qualified(inner, _) => observations_in(inner, out),
            }
        }
        let mut out = Vec::new();
        observations_in(&self.expr, &mut out);
        out
    }

    /// Evaluates the pattern against ONE observation: a set of STIX Cyber-observable
    /// Objects as JSON (e.g. `{"type":"file","name":"a.exe"}`). See the module docs
    /// for the semantics and what is ignored (qualifiers, the order FOLLOWEDBY asks for).
    pub fn matches(&self, observation: &[serde_json::Value]) -> bool {
        matcher::matches(&self.expr, observation)
    }
}

fn simple_hash(algorithm: &str, value: &str) -> Option<(IndicatorKind, String)> {
    let name: String = algorithm.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    let (kind, len) = match name.as_str() {
        "MD5" => (IndicatorKind::Md5, 32),
        "SHA1" => (IndicatorKind::Sha1, 40),
        "SHA256" => (IndicatorKind::Sha256, 64),
        _ => return None,
    };
    (value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| (kind, value.to_ascii_lowercase()))
}
