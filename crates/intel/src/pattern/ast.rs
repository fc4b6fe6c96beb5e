//! The syntax tree of a STIX pattern, and its canonical text form.
//!
//! The parser keeps no parentheses: a run of one operator is one n-ary node,
//! and `Display` puts back only the parentheses that precedence needs. That makes
//! the printed form canonical (`([a] OR [b]) OR [c]` prints as `[a] OR [b] OR [c]`)
//! and lets `parse(p.to_string()) == p` hold for every parsed pattern.

use super::lexer::{encode_base64, is_keyword};
use std::fmt;

/// Observation expressions joined by observation operators: the top of a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison expression ]`: one observation expression.
    Observation(ComparisonExpr),
    /// Two or more expressions joined by `AND`.
    And(Vec<ObservationExpr>),
    /// Two or more expressions joined by `OR`.
    Or(Vec<ObservationExpr>),
    /// Two or more expressions joined by `FOLLOWEDBY`, in order.
    FollowedBy(Vec<ObservationExpr>),
    /// An expression with one or more qualifiers, applied left to right.
    Qualified(Box<ObservationExpr>, Vec<Qualifier>),
}

/// A restriction on which observations may satisfy an observation expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`
    Within(f64),
    /// `REPEATS n TIMES`
    Repeats(u64),
    /// `START t'..' STOP t'..'`
    StartStop(Timestamp, Timestamp),
}

/// Comparisons joined by boolean operators, inside one `[ ]`.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    Comparison(Comparison),
    /// Two or more expressions joined by `AND`; binds tighter than `OR`.
    And(Vec<ComparisonExpr>),
    /// Two or more expressions joined by `OR`.
    Or(Vec<ComparisonExpr>),
}

/// One comparison: an object path, an operator (maybe negated) and its operand.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub path: ObjectPath,
    /// `NOT` before the operator. Never set for `EXISTS`, which takes no `NOT`.
    pub negated: bool,
    pub test: Test,
}

impl Comparison {
    /// The operator as written in canonical form: `=`, `IN`, `EXISTS`, ...
    pub fn operator(&self) -> &'static str {
        match &self.test {
            Test::Compare(op, _) => op.as_str(),
            Test::In(_) => "IN",
            Test::Like(_) => "LIKE",
            Test::Matches(_) => "MATCHES",
            Test::IsSubset(_) => "ISSUBSET",
            Test::IsSuperset(_) => "ISSUPERSET",
            Test::Exists => "EXISTS",
        }
    }
}

/// What a comparison checks of the values its path finds.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `=`, `!=`, `<`, `<=`, `>`, `>=` against one constant.
    Compare(CompareOp, Constant),
    /// `IN (c1, c2, ...)`
    In(Vec<Constant>),
    /// `LIKE 'pattern'` with `%` (any run of characters) and `_` (one character).
    Like(String),
    /// `MATCHES 'regex'`, compiled when the pattern is parsed.
    Matches(PatternRegex),
    /// `ISSUBSET 'cidr'`: the value's address block lies inside this one.
    IsSubset(String),
    /// `ISSUPERSET 'cidr'`: the value's address block contains this one.
    IsSuperset(String),
    /// `EXISTS path`: the property is present.
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// `type:property.sub[0].'quoted key'`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPath {
    /// The SCO type, e.g. `file` or `domain-name`.
    pub object_type: String,
    /// The steps after the colon; the parser makes the first one a [`PathStep::Key`].
    pub steps: Vec<PathStep>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// A property or dictionary key, quoted or not in the source.
    Key(String),
    /// `[n]`: one list element. A negative index matches nothing.
    Index(i64),
    /// `[*]`: any list element.
    AnyIndex,
}

/// A constant operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Constant {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// `b'base64'`, held decoded.
    Binary(Vec<u8>),
    /// `h'hex'`, held decoded.
    Hex(Vec<u8>),
    Timestamp(Timestamp),
}

/// A `t'...'` constant: the text as written (always UTC, `Z`) and its instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    text: String,
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses the text between the quotes of a `t'...'` constant, to the grammar's
    /// letter (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, leap second 60 allowed) and to the
    /// calendar (no 30 February).
    pub(crate) fn parse(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let digits = |from: usize, to: usize| b.get(from..to).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let two = |at: usize| -> Option<u32> {
            match b.get(at..at + 2)? {
                [x, y] if x.is_ascii_digit() && y.is_ascii_digit() => {
                    Some(u32::from(x - b'0') * 10 + u32::from(y - b'0'))
                }
                _ => None,
            }
        };
        let fixed = digits(0, 4)
            && b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && b.get(10) == Some(&b'T')
            && b.get(13) == Some(&b':')
            && b.get(16) == Some(&b':')
            && b.last() == Some(&b'Z');
        if !fixed {
            return None;
        }
        let (month, day, hour, minute, second) = (two(5)?, two(8)?, two(11)?, two(14)?, two(17)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        match b.get(19..b.len() - 1) {
            Some([]) => {}
            Some([b'.', frac @ ..]) if !frac.is_empty() && frac.iter().all(u8::is_ascii_digit) => {}
            _ => return None,
        }
        // chrono checks the day exists in that month and year, and gives the instant.
        let at = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        Some(Timestamp { text: text.to_string(), seconds: at.timestamp(), nanos: at.timestamp_subsec_nanos() })
    }

    /// The text between the quotes, as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Seconds since the Unix epoch and nanoseconds within that second.
    pub fn instant(&self) -> (i64, u32) {
        (self.seconds, self.nanos)
    }
}

/// A `MATCHES` regular expression, compiled once when the pattern is parsed.
/// Two are equal when their source text is.
#[derive(Clone)]
pub struct PatternRegex {
    source: String,
    regex: regex::Regex,
}

impl PatternRegex {
    pub(crate) fn new(source: String, regex: regex::Regex) -> Self {
        PatternRegex { source, regex }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn regex(&self) -> &regex::Regex {
        &self.regex
    }
}

impl PartialEq for PatternRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Debug for PatternRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PatternRegex").field(&self.source).finish()
    }
}

// ---- canonical text form ----

/// Binding strength, loosest first; a child at or below its parent's gets parentheses.
fn observation_rank(e: &ObservationExpr) -> u8 {
    match e {
        ObservationExpr::FollowedBy(_) => 1,
        ObservationExpr::Or(_) => 2,
        ObservationExpr::And(_) => 3,
        ObservationExpr::Qualified(..) => 4,
        ObservationExpr::Observation(_) => 5,
    }
}

fn write_joined<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    op: &str,
    parens: impl Fn(&T) -> bool,
    write: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            write!(f, " {op} ")?;
        }
        if parens(item) {
            f.write_str("(")?;
            write(f, item)?;
            f.write_str(")")?;
        } else {
            write(f, item)?;
        }
    }
    Ok(())
}

impl fmt::Display for ObservationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rank = observation_rank(self);
        let child = |c: &ObservationExpr| observation_rank(c) <= rank;
        match self {
            ObservationExpr::Observation(c) => write!(f, "[{c}]"),
            ObservationExpr::And(xs) => write_joined(f, xs, "AND", child, |f, x| x.fmt(f)),
            ObservationExpr::Or(xs) => write_joined(f, xs, "OR", child, |f, x| x.fmt(f)),
            ObservationExpr::FollowedBy(xs) => write_joined(f, xs, "FOLLOWEDBY", child, |f, x| x.fmt(f)),
            ObservationExpr::Qualified(inner, qualifiers) => {
                if observation_rank(inner) < rank {
                    write!(f, "({inner})")?;
                } else {
                    write!(f, "{inner}")?;
                }
                qualifiers.iter().try_for_each(|q| write!(f, " {q}"))
            }
        }
    }
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Whole numbers of a sane size print as integers, like people write them.
            Qualifier::Within(s) if s.fract() == 0.0 && s.abs() < 1e15 => {
                write!(f, "WITHIN {} SECONDS", *s as i64)
            }
            Qualifier::Within(s) => write!(f, "WITHIN {} SECONDS", FloatText(*s)),
            Qualifier::Repeats(n) => write!(f, "REPEATS {n} TIMES"),
            Qualifier::StartStop(a, b) => write!(f, "START t'{}' STOP t'{}'", a.text, b.text),
        }
    }
}

impl fmt::Display for ComparisonExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rank = |e: &ComparisonExpr| match e {
            ComparisonExpr::Or(_) => 1,
            ComparisonExpr::And(_) => 2,
            ComparisonExpr::Comparison(_) => 3,
        };
        let mine = rank(self);
        let child = |c: &ComparisonExpr| rank(c) <= mine;
        match self {
            ComparisonExpr::Comparison(c) => c.fmt(f),
            ComparisonExpr::And(xs) => write_joined(f, xs, "AND", child, |f, x| x.fmt(f)),
            ComparisonExpr::Or(xs) => write_joined(f, xs, "OR", child, |f, x| x.fmt(f)),
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Test::Exists = self.test {
            return write!(f, "EXISTS {}", self.path);
        }
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        f.write_str(self.operator())?;
        f.write_str(" ")?;
        match &self.test {
            Test::Compare(_, c) => c.fmt(f),
            Test::In(list) => {
                f.write_str("(")?;
                write_joined(f, list, ",", |_| false, |f, c| c.fmt(f))?;
                f.write_str(")")
            }
            Test::Like(s) | Test::IsSubset(s) | Test::IsSuperset(s) => write_quoted(f, s),
            Test::Matches(r) => write_quoted(f, r.as_str()),
            Test::Exists => Ok(()),
        }
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    if is_plain_key(k) {
                        f.write_str(k)?;
                    } else {
                        write_quoted(f, k)?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// A key that can be written without quotes: an identifier without hyphens that
/// is not a keyword.
fn is_plain_key(k: &str) -> bool {
    let mut bytes = k.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !is_keyword(k)
}

impl fmt::Display for Constant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constant::String(s) => write_quoted(f, s),
            Constant::Integer(n) => write!(f, "{n}"),
            Constant::Float(x) => write!(f, "{}", FloatText(*x)),
            Constant::Boolean(b) => write!(f, "{b}"),
            Constant::Binary(bytes) => write!(f, "b'{}'", encode_base64(bytes)),
            Constant::Hex(bytes) => write!(f, "h'{}'", hex::encode(bytes)),
            Constant::Timestamp(t) => write!(f, "t'{}'", t.text),
        }
    }
}

/// A float as the grammar wants it: always with a decimal point (Rust's `Display`
/// never uses exponents and gives the shortest text that reads back the same).
struct FloatText(f64);

impl fmt::Display for FloatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        f.write_str(&text)?;
        if text.contains('.') {
            Ok(())
        } else {
            f.write_str(".0")
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("'")?;
    for part in s.split_inclusive(['\'', '\\']) {
        match part.as_bytes().last() {
            Some(&q @ (b'\'' | b'\\')) => {
                f.write_str(part.get(..part.len() - 1).unwrap_or(""))?;
                f.write_str(if q == b'\'' { "\\'" } else { "\\\\" })?;
            }
            _ => f.write_str(part)?,
        }
    }
    f.write_str("'")
}
