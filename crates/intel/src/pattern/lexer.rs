//! Turns pattern text into tokens, one at a time, on demand.
//!
//! Tokens borrow from the input where they can (identifiers, strings without
//! escapes), so a typical indicator pattern lexes with no allocation beyond the
//! strings the syntax tree keeps. Every literal is checked here, so the parser
//! only sees well-formed constants.

use super::ast::{CompareOp, Timestamp};
use super::PatternError;
use std::borrow::Cow;

/// Words the grammar reserves (case-sensitive, as in the STIX 2.1 grammar). They
/// cannot be object types or unquoted property names.
const KEYWORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "FOLLOWEDBY",
    "LIKE",
    "MATCHES",
    "ISSUPERSET",
    "ISSUBSET",
    "EXISTS",
    "LAST",
    "IN",
    "START",
    "STOP",
    "SECONDS",
    "true",
    "false",
    "WITHIN",
    "REPEATS",
    "TIMES",
];

pub(crate) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind<'a> {
    LBracket,
    RBracket,
    LParen,
    RParen,
    Colon,
    Dot,
    Comma,
    Star,
    Op(CompareOp),
    /// An identifier or keyword: `[A-Za-z_][A-Za-z0-9_-]*`.
    Word(&'a str),
    Str(Cow<'a, str>),
    Int(i64),
    Float(f64),
    Hex(Vec<u8>),
    Binary(Vec<u8>),
    Time(Timestamp),
    /// A character no token starts with; the parser says what it wanted instead.
    Other(char),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind<'a>,
    /// Byte offset of the token's first character.
    pub start: usize,
    /// The token's source text.
    pub text: &'a str,
}

impl Token<'_> {
    /// How an error message names this token.
    pub fn describe(&self) -> String {
        const SHOWN: usize = 40;
        let mut text: String = self.text.chars().take(SHOWN).collect();
        if self.text.chars().nth(SHOWN).is_some() {
            text.push_str("...");
        }
        match &self.kind {
            TokenKind::End => "end of pattern".to_string(),
            TokenKind::Str(_) => format!("string {text}"),
            TokenKind::Int(_) | TokenKind::Float(_) => format!("number {text}"),
            TokenKind::Hex(_) | TokenKind::Binary(_) | TokenKind::Time(_) => {
                format!("constant {text}")
            }
            TokenKind::Word(w) if is_keyword(w) => format!("keyword {text}"),
            _ => format!("'{text}'"),
        }
    }
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

fn error(offset: usize, message: impl Into<String>) -> PatternError {
    PatternError { offset, message: message.into() }
}

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.src.get(from..to).unwrap_or("")
    }

    /// Skips whitespace (the grammar's set is exactly Unicode White_Space) and
    /// `/* */` and `//` comments.
    fn skip_trivia(&mut self) -> Result<(), PatternError> {
        loop {
            match (self.byte(self.pos), self.byte(self.pos + 1)) {
                (Some(b'/'), Some(b'*')) => {
                    let body = self.src.get(self.pos + 2..).unwrap_or("");
                    match body.find("*/") {
                        Some(end) => self.pos += 2 + end + 2,
                        None => {
                            return Err(error(self.pos, "unterminated comment: no */ before the end of the pattern"))
                        }
                    }
                }
                (Some(b'/'), Some(b'/')) => {
                    let body = self.src.get(self.pos..).unwrap_or("");
                    self.pos += body.find(['\n', '\r']).unwrap_or(body.len());
                }
                _ => match self.char_at(self.pos) {
                    Some(c) if c.is_whitespace() => self.pos += c.len_utf8(),
                    _ => return Ok(()),
                },
            }
        }
    }

    pub fn next_token(&mut self) -> Result<Token<'a>, PatternError> {
        self.skip_trivia()?;
        let start = self.pos;
        let Some(c) = self.char_at(start) else {
            return Ok(Token { kind: TokenKind::End, start, text: "" });
        };
        let next = self.byte(start + 1);
        let (kind, len) = match c {
            '[' => (TokenKind::LBracket, 1),
            ']' => (TokenKind::RBracket, 1),
            '(' => (TokenKind::LParen, 1),
            ')' => (TokenKind::RParen, 1),
            ':' => (TokenKind::Colon, 1),
            ',' => (TokenKind::Comma, 1),
            '*' => (TokenKind::Star, 1),
            '=' if next == Some(b'=') => (TokenKind::Op(CompareOp::Eq), 2),
            '=' => (TokenKind::Op(CompareOp::Eq), 1),
            '!' if next == Some(b'=') => (TokenKind::Op(CompareOp::Ne), 2),
            '<' if next == Some(b'=') => (TokenKind::Op(CompareOp::Le), 2),
            '<' if next == Some(b'>') => (TokenKind::Op(CompareOp::Ne), 2),
            '<' => (TokenKind::Op(CompareOp::Lt), 1),
            '>' if next == Some(b'=') => (TokenKind::Op(CompareOp::Ge), 2),
            '>' => (TokenKind::Op(CompareOp::Gt), 1),
            '\'' => self.string(start)?,
            '0'..='9' | '+' | '-' | '.' => self.number(start, c)?,
            'h' | 'b' | 't' if next == Some(b'\'') => self.prefixed(start, c)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let word = self.src.get(start..).unwrap_or("");
                let len = word
                    .bytes()
                    .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
                    .unwrap_or(word.len());
                (TokenKind::Word(self.slice(start, start + len)), len)
            }
            other => (TokenKind::Other(other), other.len_utf8()),
        };
        self.pos = start + len;
        Ok(Token { kind, start, text: self.slice(start, self.pos) })
    }

    /// `'...'` with `\'` and `\\` the only escapes, as the grammar has it.
    fn string(&self, start: usize) -> Result<(TokenKind<'a>, usize), PatternError> {
        let body = start + 1;
        let mut owned: Option<String> = None;
        let (mut i, mut run) = (body, body);
        loop {
            match self.byte(i) {
                None => return Err(error(start, "unterminated string: no closing ' before the end of the pattern")),
                Some(b'\'') => {
                    let value = match owned {
                        Some(mut s) => {
                            s.push_str(self.slice(run, i));
                            Cow::Owned(s)
                        }
                        None => Cow::Borrowed(self.slice(body, i)),
                    };
                    return Ok((TokenKind::Str(value), i + 1 - start));
                }
                Some(b'\\') => match self.byte(i + 1) {
                    Some(q @ (b'\'' | b'\\')) => {
                        let s = owned.get_or_insert_with(String::new);
                        s.push_str(self.slice(run, i));
                        s.push(char::from(q));
                        i += 2;
                        run = i;
                    }
                    _ => {
                        let found = self.char_at(i + 1).map_or("end of pattern".into(), |c| format!("'\\{c}'"));
                        return Err(error(
                            i,
                            format!("expected \\' or \\\\ (the only escapes in a string), found {found}"),
                        ));
                    }
                },
                Some(_) => i += 1,
            }
        }
    }

    /// Integers (`0` or no leading zeros, optional sign) and floats (`[+-]?[0-9]*.[0-9]+`);
    /// a lone `.`, `+` or `-` is punctuation.
    fn number(&self, start: usize, first: char) -> Result<(TokenKind<'a>, usize), PatternError> {
        let digits_from =
            |from: usize| (from..).find(|&i| !self.byte(i).is_some_and(|b| b.is_ascii_digit())).unwrap_or(from);
        let int_start = if first == '+' || first == '-' { start + 1 } else { start };
        let int_end = digits_from(int_start);
        if self.byte(int_end) == Some(b'.') && self.byte(int_end + 1).is_some_and(|b| b.is_ascii_digit()) {
            let end = digits_from(int_end + 1);
            let text = self.slice(start, end);
            return match text.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok((TokenKind::Float(x), end - start)),
                _ => Err(error(start, format!("number {text} is too large for a 64-bit float"))),
            };
        }
        if int_end == int_start {
            return Ok(match first {
                '.' => (TokenKind::Dot, 1),
                other => (TokenKind::Other(other), 1),
            });
        }
        let text = self.slice(start, int_end);
        if int_end - int_start > 1 && self.byte(int_start) == Some(b'0') {
            return Err(error(start, format!("expected an integer without leading zeros, found {text}")));
        }
        match text.parse::<i64>() {
            Ok(n) => Ok((TokenKind::Int(n), int_end - start)),
            Err(_) => Err(error(start, format!("integer {text} does not fit in 64 bits"))),
        }
    }

    /// `h'hex'`, `b'base64'` and `t'timestamp'`.
    fn prefixed(&self, start: usize, prefix: char) -> Result<(TokenKind<'a>, usize), PatternError> {
        let body_start = start + 2;
        let rest = self.src.get(body_start..).unwrap_or("");
        let Some(close) = rest.find('\'') else {
            return Err(error(
                start,
                format!("unterminated {prefix}'' constant: no closing ' before the end of the pattern"),
            ));
        };
        let body = self.slice(body_start, body_start + close);
        let len = 2 + close + 1;
        let kind = match prefix {
            'h' => {
                if let Some(bad) = body.find(|c: char| !c.is_ascii_hexdigit()) {
                    let c = body.get(bad..).and_then(|s| s.chars().next()).unwrap_or('?');
                    return Err(error(body_start + bad, format!("expected a hex digit in h'' constant, found '{c}'")));
                }
                match hex::decode(body) {
                    Ok(bytes) => TokenKind::Hex(bytes),
                    Err(_) => {
                        return Err(error(
                            start,
                            format!("expected an even number of hex digits in h'' constant, found {}", body.len()),
                        ))
                    }
                }
            }
            'b' => match decode_base64(body) {
                Some(bytes) => TokenKind::Binary(bytes),
                None => return Err(error(
                    start,
                    "expected base64 in b'' constant (A-Z a-z 0-9 + /, padded with = to a multiple of 4 characters)",
                )),
            },
            _ => match Timestamp::parse(body) {
                Some(t) => TokenKind::Time(t),
                None => {
                    let shown: String = body.chars().take(40).collect();
                    return Err(error(
                        start,
                        format!("expected a timestamp like t'2016-01-20T12:31:12.123Z' (UTC, a real date), found t'{shown}'"),
                    ));
                }
            },
        };
        Ok((kind, len))
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Standard base64 with padding, length a multiple of 4 (as the grammar requires).
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.chunks_exact(4);
    let last = quads.len().saturating_sub(1);
    for (i, quad) in quads.enumerate() {
        let pad = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && i != last) {
            return None;
        }
        let mut n = 0u32;
        for &b in quad.iter().take(4 - pad) {
            n = (n << 6) | base64_value(b)?;
        }
        n <<= 6 * pad as u32;
        let three = n.to_be_bytes();
        out.extend(three.iter().skip(1).take(3 - pad));
    }
    Some(out)
}

pub(crate) fn encode_base64(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                let index = (n >> (18 - 6 * i)) & 63;
                out.push(char::from(BASE64.get(index as usize).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}
