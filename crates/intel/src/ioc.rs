//! The IOC files of Loki and signature-base (`iocs/README.txt` there): the kind of a
//! file is named by its file name — "hash", "filename" or "c2".
//!
//! - hash files: `HASH;COMMENT` or `HASH;SCORE;COMMENT` (MD5, SHA-1 or SHA-256);
//! - filename files: `REGEX;SCORE[;FALSE-POSITIVE-REGEX]`, the regex over the full
//!   path, case-sensitive unless it starts with `(?i)`;
//! - C2 files: a domain or an IP address a line, optionally `;SCORE`.
//!
//! `# comment` lines name the report the following lines come from; that text becomes
//! the indicators' description. A line that cannot be read is skipped and reported
//! with its number and reason: one bad line in a community file of thousands must not
//! lose the rest.

use crate::error::{clip, excerpt};
use crate::ids::stable_id;
use crate::stix::IntelObject;
use serde_json::{json, Map, Value};
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IocFileKind {
    Hash,
    Filename,
    C2,
}

impl IocFileKind {
    /// The signature-base convention: the kind is named in the file name.
    pub fn from_file_name(name: &str) -> Option<IocFileKind> {
        let lower = name.to_ascii_lowercase();
        if lower.contains("hash") {
            Some(IocFileKind::Hash)
        } else if lower.contains("filename") {
            Some(IocFileKind::Filename)
        } else if lower.contains("c2") {
            Some(IocFileKind::C2)
        } else {
            None
        }
    }
}

/// Skipped-line notices kept per file; the rest are only counted. A file of a
/// million bad lines must not make a million-line report.
pub const MAX_SKIPPED_KEPT: usize = 100;

/// The indicators of one IOC file, and the lines that were skipped.
#[derive(Debug, Clone, Default)]
pub struct IocFile {
    pub objects: Vec<IntelObject>,
    /// `line N: reason`, for the first [`MAX_SKIPPED_KEPT`] lines skipped.
    pub skipped: Vec<String>,
    /// How many lines were skipped in all.
    pub skipped_total: usize,
}

impl IocFile {
    fn skip(&mut self, line: usize, reason: impl FnOnce() -> String) {
        self.skipped_total += 1;
        if self.skipped.len() < MAX_SKIPPED_KEPT {
            self.skipped.push(format!("line {line}: {}", reason()));
        }
    }
}

/// Reads an IOC file's text. `stamp` is the file's modification time (STIX
/// `created`/`modified`/`valid_from`); `source` names the file.
pub fn parse(text: &str, kind: IocFileKind, source: &str, stamp: &str) -> IocFile {
    let mut out = IocFile::default();
    let mut context = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim();
            if !comment.is_empty() {
                context = comment.to_string();
            }
            continue;
        }
        let result = match kind {
            IocFileKind::Hash => hash_line(line),
            IocFileKind::Filename => filename_line(line),
            IocFileKind::C2 => c2_line(line),
        };
        match result {
            Ok(ioc) => match ioc.into_object(&context, source, stamp) {
                Ok(obj) => out.objects.push(obj),
                // The object's checks may quote its values, which come from the line.
                Err(problems) => out.skip(n + 1, || clip(&problems.join("; "))),
            },
            Err(reason) => out.skip(n + 1, || reason),
        }
    }
    out
}

/// One IOC line, understood.
struct Ioc {
    pattern: String,
    pattern_type: &'static str,
    /// What the line itself says (hash files carry a comment per line).
    comment: Option<String>,
    score: Option<u8>,
    extra: Map<String, Value>,
    key: String,
}

impl Ioc {
    fn into_object(self, context: &str, source: &str, stamp: &str) -> Result<IntelObject, Vec<String>> {
        let name = match (&self.comment, context.is_empty()) {
            (Some(c), _) => c.clone(),
            (None, false) => context.to_string(),
            (None, true) => source.to_string(),
        };
        let mut obj = json!({
            "type": "indicator",
            "spec_version": "2.1",
            "id": stable_id("indicator", &self.key),
            "created": stamp,
            "modified": stamp,
            "name": name,
            "description": format!("From {source}{}", if context.is_empty() { String::new() } else { format!(": {context}") }),
            "indicator_types": ["malicious-activity"],
            "pattern": self.pattern,
            "pattern_type": self.pattern_type,
            "valid_from": stamp,
        });
        if let Some(score) = self.score {
            // Loki's score is its confidence that a hit is malicious, on the same 0–100 scale.
            obj["confidence"] = json!(score);
        }
        if let Value::Object(map) = &mut obj {
            map.extend(self.extra);
            crate::extension::declare(map);
        }
        IntelObject::from_value(obj, None, source)
    }
}

/// Escapes a value for a STIX pattern string constant.
pub fn stix_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn hash_line(line: &str) -> Result<Ioc, String> {
    // The comment is the rest of the line as written: comments carry `;` of their own.
    let (hash, rest) = line.split_once(';').unwrap_or((line, ""));
    let hash = hash.trim().to_ascii_lowercase();
    let (score, comment) = match rest.split_once(';') {
        Some((s, tail)) if s.trim().parse::<u8>().is_ok_and(|v| v <= 100) => (s.trim().parse().ok(), tail.trim()),
        _ => (None, rest.trim()),
    };
    let comment = Some(comment.to_string());
    if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{} is not a hexadecimal hash", excerpt(&hash)));
    }
    let algorithm = match hash.len() {
        32 => "MD5",
        40 => "'SHA-1'",
        64 => "'SHA-256'",
        n => return Err(format!("a hash of {n} hex digits is none of MD5 (32), SHA-1 (40), SHA-256 (64)")),
    };
    Ok(Ioc {
        pattern: format!("[file:hashes.{algorithm} = '{hash}']"),
        pattern_type: "stix",
        comment: comment.filter(|c| !c.is_empty()),
        score,
        extra: Map::new(),
        key: format!("hash:{hash}"),
    })
}

fn filename_line(line: &str) -> Result<Ioc, String> {
    let mut fields = line.split(';');
    let regex = fields.next().unwrap_or("").to_string();
    let score = match fields.next().map(str::trim) {
        Some(s) => Some(s.parse::<u8>().map_err(|_| format!("score {} is not a number from 0 to 100", excerpt(s)))?),
        None => None,
    };
    let exclude: Option<String> = fields.next().map(str::to_string).filter(|s| !s.is_empty());
    regex::Regex::new(&regex)
        .map_err(|e| format!("regex {} does not compile: {}", excerpt(&regex), clip(first_line(&e.to_string()))))?;
    let mut extra = Map::new();
    extra.insert("x_takedown_applies_to".into(), json!("file-path"));
    if let Some(ex) = &exclude {
        regex::Regex::new(ex).map_err(|e| {
            format!("false-positive regex {} does not compile: {}", excerpt(ex), clip(first_line(&e.to_string())))
        })?;
        extra.insert("x_takedown_false_positive_regex".into(), json!(ex));
    }
    Ok(Ioc { key: format!("path:{regex}"), pattern: regex, pattern_type: "pcre", comment: None, score, extra })
}

fn c2_line(line: &str) -> Result<Ioc, String> {
    let mut fields = line.split(';');
    let value = fields.next().unwrap_or("").trim().to_ascii_lowercase();
    let score = fields.next().and_then(|s| s.trim().parse::<u8>().ok()).filter(|s| *s <= 100);
    let pattern = match value.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => format!("[ipv4-addr:value = '{ip}']"),
        Ok(IpAddr::V6(ip)) => format!("[ipv6-addr:value = '{ip}']"),
        Err(_) if is_domain(&value) => format!("[domain-name:value = {}]", stix_quote(value.trim_end_matches('.'))),
        Err(_) if value.contains("://") => format!("[url:value = {}]", stix_quote(&value)),
        Err(_) => return Err(format!("{} is neither an IP address nor a domain name", excerpt(&value))),
    };
    Ok(Ioc { key: format!("c2:{value}"), pattern, pattern_type: "stix", comment: None, score, extra: Map::new() })
}

/// A hostname as DNS allows it (letters, digits, hyphens, underscores seen in the
/// wild), with at least one dot.
pub fn is_domain(s: &str) -> bool {
    let s = s.trim_end_matches('.');
    s.contains('.')
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STAMP: &str = "2024-01-01T00:00:00.000Z";

    #[test]
    fn kinds_from_names() {
        assert_eq!(IocFileKind::from_file_name("hash-iocs.txt"), Some(IocFileKind::Hash));
        assert_eq!(IocFileKind::from_file_name("my-filename-iocs.txt"), Some(IocFileKind::Filename));
        assert_eq!(IocFileKind::from_file_name("c2-iocs.txt"), Some(IocFileKind::C2));
        assert_eq!(IocFileKind::from_file_name("keywords.txt"), None);
    }

    #[test]
    fn hash_lines() {
        let text = "# Report A\n\
            ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e5babe8e080e41aa;WannaCry tasksche.exe\n\
            bf4f41403280c1b115650d470f9b260a5c9042c04d9bcc2a6ca504a66379b2d6;55;Vulnerable Log4j\n\
            2bbf74073ed7a910a69c3d2a67bd5f8f;BRONZE; uses gist\n\
            xyz;bad\n\
            abcd;short\n";
        let f = parse(text, IocFileKind::Hash, "hash-iocs.txt", STAMP);
        assert_eq!(f.objects.len(), 3);
        assert_eq!(f.skipped.len(), 2);
        assert!(f.skipped[0].starts_with("line 5:"), "{:?}", f.skipped);
        let o = &f.objects[1].json;
        assert_eq!(o["confidence"], 55);
        assert_eq!(o["name"], "Vulnerable Log4j");
        assert_eq!(f.objects[2].json["name"], "BRONZE; uses gist");
        assert!(f.objects[0].json["pattern"].as_str().unwrap().contains("'SHA-256'"));
    }

    #[test]
    fn same_line_same_id() {
        let a = parse("d41d8cd98f00b204e9800998ecf8427e;x\n", IocFileKind::Hash, "a", STAMP);
        let b = parse("D41D8CD98F00B204E9800998ECF8427E;y\n", IocFileKind::Hash, "b", STAMP);
        assert_eq!(a.objects[0].id, b.objects[0].id);
    }

    #[test]
    fn filename_lines() {
        let text =
            "# Regin\n\\\\usbclass\\.sys;80\n(?i)\\\\procdump(64)?\\.exe;50;(?i)(SysInternals\\\\)\n(?<=x)bad;50\n";
        let f = parse(text, IocFileKind::Filename, "filename-iocs.txt", STAMP);
        assert_eq!(f.objects.len(), 2, "{:?}", f.skipped);
        assert_eq!(f.skipped.len(), 1);
        assert!(f.skipped[0].contains("does not compile"));
        assert_eq!(f.objects[0].json["pattern_type"], "pcre");
        assert_eq!(f.objects[0].json["name"], "Regin");
        assert_eq!(f.objects[1].json["x_takedown_false_positive_regex"], "(?i)(SysInternals\\\\)");
    }

    #[test]
    fn c2_lines() {
        let text = "# Op\nsuroot.com\n58.64.143.244\n176.123.5.126;65\n2001:db8::1\nnot a host\n";
        let f = parse(text, IocFileKind::C2, "c2-iocs.txt", STAMP);
        assert_eq!(f.objects.len(), 4);
        assert_eq!(f.skipped.len(), 1);
        assert_eq!(f.objects[0].json["pattern"], "[domain-name:value = 'suroot.com']");
        assert_eq!(f.objects[2].json["confidence"], 65);
        assert_eq!(f.objects[3].json["pattern"], "[ipv6-addr:value = '2001:db8::1']");
    }

    #[test]
    fn a_long_bad_line_is_quoted_short() {
        let long = "z".repeat(10_000_000);
        for kind in [IocFileKind::Hash, IocFileKind::Filename, IocFileKind::C2] {
            let line = match kind {
                IocFileKind::Filename => format!("({long};50"),
                _ => long.clone(),
            };
            let f = parse(&line, kind, "x.txt", STAMP);
            assert_eq!(f.skipped_total, 1, "{kind:?}");
            let notice = &f.skipped[0];
            assert!(notice.len() < 600, "{kind:?}: {} bytes", notice.len());
            assert!(notice.contains("bytes in all"), "{kind:?}: {notice}");
        }
    }

    #[test]
    fn skipped_notices_are_capped_and_counted() {
        let text = "not a hash\n".repeat(MAX_SKIPPED_KEPT * 3);
        let f = parse(&text, IocFileKind::Hash, "hash.txt", STAMP);
        assert_eq!(f.skipped.len(), MAX_SKIPPED_KEPT);
        assert_eq!(f.skipped_total, MAX_SKIPPED_KEPT * 3);
        assert!(f.skipped[MAX_SKIPPED_KEPT - 1].starts_with(&format!("line {MAX_SKIPPED_KEPT}:")));
    }
}
