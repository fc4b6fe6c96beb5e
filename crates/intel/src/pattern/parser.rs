//! Hand-written recursive descent over the STIX 2.1 pattern grammar:
//!
//! ```text
//! pattern      := followed_by EOF
//! followed_by  := obs_or ("FOLLOWEDBY" obs_or)*
//! obs_or       := obs_and ("OR" obs_and)*
//! obs_and      := qualified ("AND" qualified)*
//! qualified    := obs_primary qualifier*
//! obs_primary  := "[" cmp_or "]" | "(" followed_by ")"
//! qualifier    := "WITHIN" number "SECONDS" | "REPEATS" int "TIMES" | "START" t'' "STOP" t''
//! cmp_or       := cmp_and ("OR" cmp_and)*
//! cmp_and      := cmp_primary ("AND" cmp_primary)*
//! cmp_primary  := "(" cmp_or ")" | "EXISTS" path | path "NOT"? operator operand
//! path         := type ":" (ident | string) ("." (ident | string) | "[" (int | "*") "]")*
//! ```
//!
//! plus two STIX 2.0 forms: hyphens in bare property names, and plain strings for
//! the `START`/`STOP` timestamps.
//!
//! Every `(` and `[` that opens a nested expression counts towards `MAX_DEPTH`,
//! which bounds the recursion (and so the stack) whatever the input.

use super::ast::{
    CompareOp, Comparison, ComparisonExpr, Constant, ObjectPath, ObservationExpr, PathStep, PatternRegex, Qualifier,
    Test,
};
use super::lexer::{is_keyword, Lexer, Token, TokenKind};
use super::{PatternError, MAX_DEPTH, MAX_LIST_LEN, MAX_PATTERN_LEN, MAX_REGEX_SIZE, MAX_TYPES_PER_OBSERVATION};
use std::borrow::Cow;

pub(crate) fn parse(input: &str) -> Result<ObservationExpr, PatternError> {
    if input.len() > MAX_PATTERN_LEN {
        return Err(PatternError {
            offset: MAX_PATTERN_LEN,
            message: format!("pattern is {} bytes, over the limit of {MAX_PATTERN_LEN}", input.len()),
        });
    }
    let mut lexer = Lexer::new(input);
    let tok = lexer.next_token()?;
    let mut parser = Parser { lexer, tok, depth: 0 };
    let expr = parser.followed_by()?;
    if parser.tok.kind != TokenKind::End {
        return Err(parser.expected("AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern"));
    }
    Ok(expr)
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    /// The current (not yet consumed) token: the grammar needs one token of lookahead.
    tok: Token<'a>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Result<Token<'a>, PatternError> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    fn expected(&self, what: &str) -> PatternError {
        PatternError { offset: self.tok.start, message: format!("expected {what}, found {}", self.tok.describe()) }
    }

    fn at_word(&self, word: &str) -> bool {
        matches!(self.tok.kind, TokenKind::Word(w) if w == word)
    }

    /// Consumes `word` if it is next.
    fn eat_word(&mut self, word: &str) -> Result<bool, PatternError> {
        if self.at_word(word) {
            self.bump()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn expect(&mut self, kind: TokenKind<'static>, what: &str) -> Result<(), PatternError> {
        if self.tok.kind != kind {
            return Err(self.expected(what));
        }
        self.bump().map(drop)
    }

    fn enter(&mut self) -> Result<(), PatternError> {
        if self.depth >= MAX_DEPTH {
            return Err(PatternError {
                offset: self.tok.start,
                message: format!("expected at most {MAX_DEPTH} levels of nested brackets and parentheses, found more"),
            });
        }
        self.depth += 1;
        Ok(())
    }

    // ---- observation expressions ----

    fn followed_by(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.obs_or()?;
        self.rest_of_list(first, "FOLLOWEDBY", Self::obs_or, ObservationExpr::FollowedBy, |e| match e {
            ObservationExpr::FollowedBy(xs) => Ok(xs),
            other => Err(other),
        })
    }

    fn obs_or(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.obs_and()?;
        self.rest_of_list(first, "OR", Self::obs_and, ObservationExpr::Or, |e| match e {
            ObservationExpr::Or(xs) => Ok(xs),
            other => Err(other),
        })
    }

    fn obs_and(&mut self) -> Result<ObservationExpr, PatternError> {
        let first = self.qualified()?;
        self.rest_of_list(first, "AND", Self::qualified, ObservationExpr::And, |e| match e {
            ObservationExpr::And(xs) => Ok(xs),
            other => Err(other),
        })
    }

    /// Parses `(op item)*` after `first`, flattening nested runs of the same
    /// operator (they come from parentheses, which the tree does not keep).
    fn rest_of_list<T>(
        &mut self,
        first: T,
        op: &str,
        item: fn(&mut Self) -> Result<T, PatternError>,
        build: fn(Vec<T>) -> T,
        split: fn(T) -> Result<Vec<T>, T>,
    ) -> Result<T, PatternError> {
        if !self.at_word(op) {
            return Ok(first);
        }
        let mut items = Vec::new();
        let push = |items: &mut Vec<T>, x: T| match split(x) {
            Ok(inner) => items.extend(inner),
            Err(single) => items.push(single),
        };
        push(&mut items, first);
        while self.eat_word(op)? {
            let next = item(self)?;
            push(&mut items, next);
        }
        Ok(build(items))
    }

    fn qualified(&mut self) -> Result<ObservationExpr, PatternError> {
        let expr = self.obs_primary()?;
        let mut qualifiers = Vec::new();
        while let Some(q) = self.qualifier()? {
            qualifiers.push(q);
        }
        if qualifiers.is_empty() {
            return Ok(expr);
        }
        // `([a] WITHIN 5 SECONDS) REPEATS 2 TIMES` is the same as writing both after [a].
        Ok(match expr {
            ObservationExpr::Qualified(inner, mut before) => {
                before.append(&mut qualifiers);
                ObservationExpr::Qualified(inner, before)
            }
            other => ObservationExpr::Qualified(Box::new(other), qualifiers),
        })
    }

    fn obs_primary(&mut self) -> Result<ObservationExpr, PatternError> {
        match self.tok.kind {
            TokenKind::LBracket => {
                self.enter()?;
                self.bump()?;
                let expr = self.cmp_or()?;
                self.expect(TokenKind::RBracket, "']' to close the observation expression")?;
                self.depth -= 1;
                if count_types(&expr) > MAX_TYPES_PER_OBSERVATION {
                    return Err(self.expected_limit(format!(
                        "at most {MAX_TYPES_PER_OBSERVATION} object types in one observation expression"
                    )));
                }
                Ok(ObservationExpr::Observation(expr))
            }
            TokenKind::LParen => {
                self.enter()?;
                self.bump()?;
                let expr = self.followed_by()?;
                self.expect(TokenKind::RParen, "')' to close the parenthesised observation expressions")?;
                self.depth -= 1;
                Ok(expr)
            }
            _ => Err(self.expected("'[' or '(' to start an observation expression")),
        }
    }

    fn expected_limit(&self, what: String) -> PatternError {
        PatternError { offset: self.tok.start, message: format!("expected {what}, found more") }
    }

    fn qualifier(&mut self) -> Result<Option<Qualifier>, PatternError> {
        if self.eat_word("WITHIN")? {
            let seconds = match self.tok.kind {
                TokenKind::Int(n) if !self.tok.text.starts_with('-') => n as f64,
                TokenKind::Float(x) if !self.tok.text.starts_with('-') => x,
                _ => return Err(self.expected("a number of seconds (0 or more) after WITHIN")),
            };
            self.bump()?;
            self.expect_word("SECONDS", "SECONDS after WITHIN and its number")?;
            return Ok(Some(Qualifier::Within(seconds)));
        }
        if self.eat_word("REPEATS")? {
            let times = match self.tok.kind {
                TokenKind::Int(n) if !self.tok.text.starts_with('-') => n.unsigned_abs(),
                _ => return Err(self.expected("a whole number (0 or more) after REPEATS")),
            };
            self.bump()?;
            self.expect_word("TIMES", "TIMES after REPEATS and its number")?;
            return Ok(Some(Qualifier::Repeats(times)));
        }
        if self.eat_word("START")? {
            let start = self.timestamp("a timestamp like t'2016-01-20T12:31:12Z' after START")?;
            self.expect_word("STOP", "STOP after START and its timestamp")?;
            let stop = self.timestamp("a timestamp like t'2016-01-20T12:31:12Z' after STOP")?;
            return Ok(Some(Qualifier::StartStop(start, stop)));
        }
        Ok(None)
    }

    fn expect_word(&mut self, word: &str, what: &str) -> Result<(), PatternError> {
        if self.eat_word(word)? {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    /// A `t'...'` timestamp, or (the STIX 2.0 form of START and STOP) a plain
    /// string holding one.
    fn timestamp(&mut self, what: &str) -> Result<super::ast::Timestamp, PatternError> {
        let t = match &self.tok.kind {
            TokenKind::Time(t) => Some(t.clone()),
            TokenKind::Str(s) => super::ast::Timestamp::parse(s),
            _ => None,
        };
        match t {
            Some(t) => {
                self.bump()?;
                Ok(t)
            }
            None => Err(self.expected(what)),
        }
    }

    // ---- comparison expressions ----

    fn cmp_or(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.cmp_and()?;
        self.rest_of_list(first, "OR", Self::cmp_and, ComparisonExpr::Or, |e| match e {
            ComparisonExpr::Or(xs) => Ok(xs),
            other => Err(other),
        })
    }

    fn cmp_and(&mut self) -> Result<ComparisonExpr, PatternError> {
        let first = self.cmp_primary()?;
        self.rest_of_list(first, "AND", Self::cmp_primary, ComparisonExpr::And, |e| match e {
            ComparisonExpr::And(xs) => Ok(xs),
            other => Err(other),
        })
    }

    fn cmp_primary(&mut self) -> Result<ComparisonExpr, PatternError> {
        if self.tok.kind == TokenKind::LParen {
            self.enter()?;
            self.bump()?;
            let expr = self.cmp_or()?;
            self.expect(TokenKind::RParen, "')' to close the parenthesised comparison expression")?;
            self.depth -= 1;
            return Ok(expr);
        }
        if self.eat_word("EXISTS")? {
            let path = self.path()?;
            return Ok(ComparisonExpr::Comparison(Comparison { path, negated: false, test: Test::Exists }));
        }
        let path = self.path()?;
        let negated = self.eat_word("NOT")?;
        let test = self.test()?;
        Ok(ComparisonExpr::Comparison(Comparison { path, negated, test }))
    }

    fn path(&mut self) -> Result<ObjectPath, PatternError> {
        let object_type = match self.tok.kind {
            TokenKind::Word(w) if !is_keyword(w) => w.to_string(),
            _ => return Err(self.expected("an object path like file:name, or '(' or EXISTS")),
        };
        self.bump()?;
        self.expect(TokenKind::Colon, "':' after the object type")?;
        let mut steps = vec![PathStep::Key(self.key("a property name after ':'")?)];
        loop {
            match self.tok.kind {
                TokenKind::Dot => {
                    self.bump()?;
                    steps.push(PathStep::Key(self.key("a property name or quoted key after '.'")?));
                }
                TokenKind::LBracket => {
                    self.bump()?;
                    let step = match self.tok.kind {
                        TokenKind::Int(n) => PathStep::Index(n),
                        TokenKind::Star => PathStep::AnyIndex,
                        _ => return Err(self.expected("a list index or '*' after '['")),
                    };
                    self.bump()?;
                    self.expect(TokenKind::RBracket, "']' to close the list index")?;
                    steps.push(step);
                }
                _ => return Ok(ObjectPath { object_type, steps }),
            }
        }
    }

    /// A property name or dictionary key. Besides the STIX 2.1 forms (an identifier
    /// without hyphens, or a quoted string) this takes a bare name with hyphens, as
    /// STIX 2.0 did (`file:hashes.SHA-256`): 2.0 bundles are read too, and the name
    /// is unambiguous. It prints quoted, the 2.1 way.
    fn key(&mut self, what: &str) -> Result<String, PatternError> {
        let key = match &self.tok.kind {
            TokenKind::Word(w) if !is_keyword(w) => w.to_string(),
            TokenKind::Str(s) => s.to_string(),
            _ => return Err(self.expected(what)),
        };
        self.bump()?;
        Ok(key)
    }

    fn test(&mut self) -> Result<Test, PatternError> {
        const OPERATORS: &str = "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, MATCHES, ISSUBSET, ISSUPERSET)";
        let op = match self.tok.kind {
            TokenKind::Op(op) => op,
            TokenKind::Word("IN") => {
                self.bump()?;
                return self.list().map(Test::In);
            }
            TokenKind::Word(w @ ("LIKE" | "MATCHES" | "ISSUBSET" | "ISSUPERSET")) => {
                self.bump()?;
                let at = self.tok.start;
                let s = self.string(&format!("a quoted string after {w}"))?;
                return match w {
                    "LIKE" => Ok(Test::Like(s.into_owned())),
                    "MATCHES" => compile_regex(s.into_owned(), at).map(Test::Matches),
                    _ if super::matcher::Cidr::parse(&s).is_none() => Err(PatternError {
                        offset: at,
                        message: format!("expected an IPv4 or IPv6 address or CIDR block after {w}, found '{s}'"),
                    }),
                    "ISSUBSET" => Ok(Test::IsSubset(s.into_owned())),
                    _ => Ok(Test::IsSuperset(s.into_owned())),
                };
            }
            _ => return Err(self.expected(OPERATORS)),
        };
        self.bump()?;
        let ordered = !matches!(op, CompareOp::Eq | CompareOp::Ne);
        let constant = self.constant(ordered, op.as_str())?;
        Ok(Test::Compare(op, constant))
    }

    fn string(&mut self, what: &str) -> Result<Cow<'a, str>, PatternError> {
        match &self.tok.kind {
            TokenKind::Str(s) => {
                let s = s.clone();
                self.bump()?;
                Ok(s)
            }
            _ => Err(self.expected(what)),
        }
    }

    /// A constant; `ordered` comparisons take no booleans (the grammar's orderableLiteral).
    fn constant(&mut self, ordered: bool, after: &str) -> Result<Constant, PatternError> {
        let constant = match &self.tok.kind {
            TokenKind::Str(s) => Constant::String(s.to_string()),
            TokenKind::Int(n) => Constant::Integer(*n),
            TokenKind::Float(x) => Constant::Float(*x),
            TokenKind::Hex(b) => Constant::Hex(b.clone()),
            TokenKind::Binary(b) => Constant::Binary(b.clone()),
            TokenKind::Time(t) => Constant::Timestamp(t.clone()),
            TokenKind::Word("true") if !ordered => Constant::Boolean(true),
            TokenKind::Word("false") if !ordered => Constant::Boolean(false),
            _ if ordered => {
                return Err(self.expected(&format!("a string, number, timestamp, b'' or h'' constant after {after}")))
            }
            _ => return Err(self.expected(&format!("a constant after {after}"))),
        };
        self.bump()?;
        Ok(constant)
    }

    fn list(&mut self) -> Result<Vec<Constant>, PatternError> {
        self.expect(TokenKind::LParen, "'(' to start the list after IN")?;
        let mut items = Vec::new();
        if self.tok.kind == TokenKind::RParen {
            self.bump()?;
            return Ok(items);
        }
        loop {
            if items.len() >= MAX_LIST_LEN {
                return Err(self.expected_limit(format!("at most {MAX_LIST_LEN} constants in an IN list")));
            }
            items.push(self.constant(false, "'(' or ','")?);
            match self.tok.kind {
                TokenKind::Comma => drop(self.bump()?),
                TokenKind::RParen => {
                    self.bump()?;
                    return Ok(items);
                }
                _ => return Err(self.expected("',' or ')' in the IN list")),
            }
        }
    }
}

fn compile_regex(source: String, offset: usize) -> Result<PatternRegex, PatternError> {
    let built = regex::RegexBuilder::new(&source).size_limit(MAX_REGEX_SIZE).nest_limit(MAX_DEPTH as u32).build();
    match built {
        Ok(re) => Ok(PatternRegex::new(source, re)),
        Err(e) => {
            // The regex crate's messages span several lines; one line reads better in a log.
            let detail = e.to_string().lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
            Err(PatternError {
                offset,
                message: format!("expected a valid regular expression after MATCHES: {detail}"),
            })
        }
    }
}

/// How many distinct object types a comparison expression names; the matcher
/// tries objects for each type shared between AND-ed parts, so this bounds its work.
fn count_types(expr: &ComparisonExpr) -> usize {
    fn walk<'e>(e: &'e ComparisonExpr, seen: &mut Vec<&'e str>) {
        if seen.len() > MAX_TYPES_PER_OBSERVATION {
            return;
        }
        match e {
            ComparisonExpr::Comparison(c) => {
                if !seen.contains(&c.path.object_type.as_str()) {
                    seen.push(&c.path.object_type);
                }
            }
            ComparisonExpr::And(xs) | ComparisonExpr::Or(xs) => xs.iter().for_each(|x| walk(x, seen)),
        }
    }
    let mut seen = Vec::new();
    walk(expr, &mut seen);
    seen.len()
}
