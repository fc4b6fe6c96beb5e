use std::fmt;
use std::path::PathBuf;

/// Why a file of intel was rejected. Every variant names the file and, where it
/// can, the place inside it, and the message ends with what to do.
#[derive(Debug, thiserror::Error)]
pub enum IntelError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid gzip file: {source} (the file starts like gzip but does not decompress; re-download it or import the uncompressed JSON)")]
    Gzip { path: PathBuf, source: std::io::Error },
    #[error("{path}: larger than {limit} bytes once decompressed; refusing it (split the bundle)")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error(
        "{path}: {} is {}, over the limit of {limit} bytes for {}; refusing it (if the file is genuine, raise the limit with --max-intel-size BYTES)",
        .kind.noun(), size_text(*.size, *.decompressed), .kind.plural()
    )]
    FileTooLarge { path: PathBuf, kind: SizedKind, size: Option<u64>, decompressed: bool, limit: u64 },
    #[error("{path}: not valid JSON at line {line}, column {column}: {message} (the file is truncated or damaged)")]
    Json { path: PathBuf, line: usize, column: usize, message: String },
    #[error("{path}: not a STIX bundle: {reason}")]
    NotABundle { path: PathBuf, reason: String },
    #[error("{path}: {count} invalid STIX object(s), nothing imported:\n{problems}")]
    InvalidObjects { path: PathBuf, count: usize, problems: String },
    #[error("{path}: cannot tell what kind of intel this is: {reason}")]
    UnknownKind { path: PathBuf, reason: String },
    #[error("{path}:{line}:{column}: YARA rule does not compile: {message}")]
    Yara { path: PathBuf, line: usize, column: usize, message: String },
    #[error(
        "{path}:{line}:{column}: {what} nested more than {limit} levels deep; refusing it, as compiling it could exhaust the stack or take minutes (split the expression into simpler ones)"
    )]
    YaraTooDeep { path: PathBuf, line: usize, column: usize, what: &'static str, limit: usize },
    #[error("{path}: not UTF-8 text at byte {offset}; IOC and YARA files must be UTF-8")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path}: no indicators in this file ({reason})")]
    Empty { path: PathBuf, reason: String },
}

/// The kinds of file a size limit applies to, as messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizedKind {
    Yara,
    Ioc,
    Stix,
}

impl SizedKind {
    fn noun(self) -> &'static str {
        match self {
            SizedKind::Yara => "this YARA rule file",
            SizedKind::Ioc => "this IOC file",
            SizedKind::Stix => "this STIX bundle",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            SizedKind::Yara => "YARA rule files",
            SizedKind::Ioc => "IOC files",
            SizedKind::Stix => "STIX bundles",
        }
    }
}

fn size_text(size: Option<u64>, decompressed: bool) -> String {
    let once = if decompressed { " once decompressed" } else { "" };
    match size {
        Some(n) => format!("{n} bytes{once}"),
        None => format!("more than that{once}"),
    }
}

/// Most characters of a value from an input file quoted in a message: enough to
/// recognise a line or a value, while a hostile 100 MB line costs a message no more
/// than a normal one.
pub const EXCERPT_CHARS: usize = 80;

/// Most characters of a message from another library (yara-x's report, a STIX
/// object's problem) kept: such messages can quote the input themselves.
pub const MESSAGE_CHARS: usize = 400;

/// A value from an input file as messages quote it: in quotes, with control
/// characters escaped, cut to [`EXCERPT_CHARS`] with an ellipsis and the value's
/// full length when longer.
pub fn excerpt(value: &str) -> String {
    Excerpt { text: value, max: EXCERPT_CHARS, quoted: true }.to_string()
}

/// A message from elsewhere cut to [`MESSAGE_CHARS`], as [`excerpt`] cuts values,
/// but not quoted.
pub fn clip(message: &str) -> String {
    Excerpt { text: message, max: MESSAGE_CHARS, quoted: false }.to_string()
}

struct Excerpt<'a> {
    text: &'a str,
    max: usize,
    quoted: bool,
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cut = self.text.char_indices().nth(self.max).map(|(i, _)| i);
        let shown = &self.text[..cut.unwrap_or(self.text.len())];
        if self.quoted {
            write!(f, "{shown:?}")?;
        } else {
            f.write_str(shown)?;
        }
        if cut.is_some() {
            write!(f, "… ({} bytes in all)", self.text.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_quoted_whole() {
        assert_eq!(excerpt("abc;1"), "\"abc;1\"");
        assert_eq!(excerpt(""), "\"\"");
        assert_eq!(excerpt("tab\there"), "\"tab\\there\"");
        let exactly = "x".repeat(EXCERPT_CHARS);
        assert_eq!(excerpt(&exactly), format!("\"{exactly}\""));
    }

    #[test]
    fn long_values_are_cut_with_their_length() {
        let long = "a".repeat(100_000_000);
        let e = excerpt(&long);
        assert_eq!(e, format!("\"{}\"… (100000000 bytes in all)", "a".repeat(EXCERPT_CHARS)));
        assert!(e.len() < 2 * EXCERPT_CHARS);
    }

    #[test]
    fn cuts_fall_between_characters() {
        // Three bytes a character: a cut by bytes would split one.
        let wide = "€".repeat(EXCERPT_CHARS + 1);
        let e = excerpt(&wide);
        assert!(e.starts_with(&format!("\"{}\"…", "€".repeat(EXCERPT_CHARS))), "{e}");
        assert!(e.ends_with(&format!("({} bytes in all)", wide.len())), "{e}");
    }

    #[test]
    fn messages_are_clipped_unquoted() {
        assert_eq!(clip("unknown identifier `x`"), "unknown identifier `x`");
        let long = format!("unknown identifier `{}`", "y".repeat(10_000));
        let c = clip(&long);
        assert!(c.starts_with("unknown identifier `yyy"), "{c}");
        assert!(c.ends_with(&format!("… ({} bytes in all)", long.len())), "{c}");
        assert!(c.chars().count() < MESSAGE_CHARS + 40);
    }
}
