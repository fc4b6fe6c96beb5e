//! How deeply a YARA source nests its expressions, measured without recursion and
//! without compiling it.
//!
//! yara-x parses, checks and compiles a condition by recursive descent, one stack
//! frame (or several) per level of nesting, and has no limit of its own: a condition
//! nested 20,000 parentheses deep overflows the stack of the thread compiling it,
//! which aborts the whole process. So every source is measured here first, with the
//! same tokens yara-x's tokenizer sees (strings, comments and regular expressions
//! are skipped as it skips them), and refused past [`MAX_NESTING`].
//!
//! What is counted is an upper bound on the depth of the syntax tree yara-x builds:
//! one level per open `(` or `[` (conditions, hex-string alternatives and jumps,
//! function calls, indexes), plus, within one operand of `and`/`or` (or of `,` and
//! `:`), one level per operator — `not`, `defined`, unary `-` and `~`, and every
//! arithmetic, bitwise, comparison and string operator — since each can put a node
//! above the last. `and`, `or` and `.` chains are flat lists in yara-x's tree and
//! count nothing, so a long list of alternatives stays fine.

/// Deepest nesting accepted. Real rules stay well below it (signature-base's
/// deepest condition measures 12, arithmetic on nested `uint16()` reads). yara-x
/// 1.22.1, built for debug, overflows a 2 MiB stack (a rayon worker's, or a test
/// thread's) past about 190 levels of nested indexes (`a[b[c[...]]]`), 230 nested
/// `for ... : (`, 300 parentheses, 410 unary `-`/`~`, 1,300 `not`/`defined` or hex
/// alternatives, 1,500 chained `==` and 1,700 alternating `+`/`-`; on the main
/// thread's 8 MiB, about four times as many. 64 keeps a margin of three below the
/// costliest shape on the smallest stack, and five above real rules.
pub const MAX_NESTING: usize = 64;

/// Deepest nesting of function calls accepted (`f(g(h(...)))`). yara-x's parser
/// tries each call both as a call and as other expressions, so its work doubles
/// with each level: 10 levels take a second (debug build), 15 exhaust its budget of
/// a hundred million steps (40 s) and end in a syntax error. Real rules nest two or
/// three (`uint16(uint16(5) + 5)`).
pub const MAX_CALL_NESTING: usize = 6;

/// Where a source went past a limit: 1-based line and column (in characters) of
/// the token that did, and whether it was [`MAX_CALL_NESTING`] (else the depth
/// limit given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    pub line: usize,
    pub column: usize,
    pub calls: bool,
}

/// One level of parentheses or brackets being read.
#[derive(Debug, Default, Clone, Copy)]
struct Level {
    /// Operators seen in the current operand of `and`/`or` at this level.
    ops: usize,
    /// The deepest group closed within the current operand.
    sub: usize,
    /// The deepest this level has been, for its parent.
    peak: usize,
    /// This level is a function call's arguments.
    call: bool,
}

struct Meter {
    /// The levels enclosing the current one, innermost last.
    outer: Vec<Level>,
    /// What the enclosing levels add: one each, plus the operators above them.
    base: usize,
    level: Level,
    /// Function calls open.
    calls: usize,
}

impl Meter {
    fn here(&self) -> usize {
        self.level.ops + self.level.sub
    }

    fn depth(&self) -> usize {
        self.base + self.here()
    }

    fn operator(&mut self) {
        self.level.ops += 1;
        self.level.peak = self.level.peak.max(self.here());
    }

    fn separator(&mut self) {
        self.level.ops = 0;
        self.level.sub = 0;
    }

    fn open(&mut self, call: bool) {
        self.base += self.level.ops + 1;
        self.outer.push(self.level);
        self.level = Level { call, ..Level::default() };
        self.calls += usize::from(call);
    }

    fn close(&mut self) {
        // A closer with nothing open is yara-x's to report.
        let Some(parent) = self.outer.pop() else { return };
        let inner = self.level.peak + 1;
        self.calls -= usize::from(self.level.call);
        self.base -= parent.ops + 1;
        self.level = parent;
        self.level.sub = self.level.sub.max(inner);
        self.level.peak = self.level.peak.max(self.here());
    }
}

/// Measures `source` and says where it first nests deeper than `limit`.
pub fn check(source: &str, limit: usize) -> Result<(), TooDeep> {
    let bytes = source.as_bytes();
    let mut meter = Meter { outer: Vec::new(), base: 0, level: Level::default(), calls: 0 };
    // The last token was an identifier, so a `(` opens a function call.
    let mut after_name = false;
    let mut line = 1;
    let mut line_start = 0;
    let mut i = 0;
    // Inside `{ ... }` after `=`: a hex string, where only brackets and comments mean
    // anything here (`|` separates alternatives, a flat list).
    let mut hex = false;
    // The last token was `=`, so a `{` opens a hex string rather than a rule body.
    let mut after_equal = false;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let mut equal = false;
        let mut name = false;
        match b {
            b'\n' => {
                i += 1;
                line += 1;
                line_start = i;
                continue;
            }
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'/' => match bytes.get(i + 1) {
                Some(b'/') => {
                    i = bytes[i..].iter().position(|&c| c == b'\n').map_or(bytes.len(), |n| i + n);
                    continue;
                }
                Some(b'*') => {
                    // Unterminated: yara-x reports it and reads on; so does this.
                    i = find(bytes, i + 2, b"*/").map_or(i + 2, |end| end + 2);
                    skipped_lines(bytes, start, i, &mut line, &mut line_start);
                    continue;
                }
                _ if hex => i += 1,
                _ => i = regexp_end(bytes, i).unwrap_or(i + 1),
            },
            b'"' if !hex => {
                i = string_end(bytes, i).unwrap_or(i + 1);
                skipped_lines(bytes, start, i, &mut line, &mut line_start);
            }
            b'(' | b'[' => {
                meter.open(b == b'(' && after_name && !hex);
                i += 1;
            }
            b')' | b']' => {
                meter.close();
                i += 1;
            }
            b'{' => {
                hex = after_equal;
                meter.separator();
                i += 1;
            }
            b'}' => {
                hex = false;
                meter.separator();
                i += 1;
            }
            _ if hex => i += char_len(source, i),
            b',' | b':' => {
                meter.separator();
                i += 1;
            }
            b'$' | b'#' | b'@' | b'!' if bytes.get(i + 1).is_some_and(|c| is_word(*c)) => {
                i = word_end(bytes, i + 1);
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = bytes.get(i + 1).is_some_and(|&c| c == b'=' || (c == b && (b == b'<' || b == b'>')));
                if b == b'=' && !two {
                    equal = true;
                    meter.separator();
                } else {
                    meter.operator();
                }
                i += if two { 2 } else { 1 };
            }
            b'+' | b'-' | b'*' | b'\\' | b'%' | b'|' | b'^' | b'&' | b'~' => {
                meter.operator();
                i += 1;
            }
            b if is_word(b) => {
                i = word_end(bytes, i);
                match &source[start..i] {
                    "and" | "or" => meter.separator(),
                    "not" | "defined" | "matches" | "contains" | "icontains" | "startswith" | "istartswith"
                    | "endswith" | "iendswith" | "iequals" => meter.operator(),
                    "of" | "in" | "at" | "for" | "any" | "all" | "none" | "with" | "them" => {}
                    _ => name = !b.is_ascii_digit(),
                }
            }
            // `.`, and characters yara-x does not know (it reports those).
            _ => i += char_len(source, i),
        }
        after_equal = equal;
        after_name = name;
        let calls = meter.calls > MAX_CALL_NESTING;
        if calls || meter.depth() > limit {
            return Err(TooDeep { line, column: source[line_start..start].chars().count() + 1, calls });
        }
    }
    Ok(())
}

/// Counts the line breaks inside a skipped token (a block comment, a `"""` string).
fn skipped_lines(bytes: &[u8], from: usize, to: usize, line: &mut usize, line_start: &mut usize) {
    for (n, _) in bytes[from..to].iter().enumerate().filter(|(_, &c)| c == b'\n') {
        *line += 1;
        *line_start = from + n + 1;
    }
}

/// The length of the character at byte `i`, which is always at a character boundary.
fn char_len(source: &str, i: usize) -> usize {
    source[i..].chars().next().map_or(1, char::len_utf8)
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && is_word(bytes[i]) {
        i += 1;
    }
    i
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|n| from + n)
}

/// The end of a string literal starting at `start` (a `"`), as yara-x's tokenizer
/// reads one: `"""` ... `"""` across lines, or `"` ... `"` on one line, with `\`
/// escaping the next character; the longer where both fit. `None` if neither does.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let single = {
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                Some(b'\\') if bytes.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
                Some(b'"') => break Some(i + 1),
                Some(b'\n' | b'\\') | None => break None,
                Some(_) => i += 1,
            }
        }
    };
    let triple = if bytes[start..].starts_with(b"\"\"\"") {
        let mut i = start + 3;
        loop {
            match bytes.get(i) {
                Some(b'\\') if bytes.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
                Some(b'"') if bytes[i..].starts_with(b"\"\"\"") => break Some(i + 3),
                Some(b'"' | b'\\') | None => break None,
                Some(_) => i += 1,
            }
        }
    } else {
        None
    };
    triple.or(single)
}

/// The end of a regular expression starting at `start` (a `/` not followed by `/`
/// or `*`), as yara-x's tokenizer reads one: on one line, `\` escaping the next
/// character, then up to two letters of modifiers. `None` if it does not close.
fn regexp_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            Some(b'\\') if bytes.get(i + 1).is_some_and(|&c| c != b'\n') => i += 2,
            Some(b'/') if i > start + 1 => break,
            Some(b'\n' | b'\\' | b'/') | None => return None,
            Some(_) => i += 1,
        }
    }
    i += 1;
    for _ in 0..2 {
        if bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
        }
    }
    Some(i)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The deepest `source` nests by this measure.
    fn depth(source: &str) -> usize {
        (0..).find(|&limit| check(source, limit).is_ok()).unwrap()
    }

    fn rule(condition: &str) -> String {
        format!("rule r {{\n  condition:\n    {condition}\n}}\n")
    }

    #[test]
    fn counts_parentheses_brackets_and_operators() {
        assert_eq!(depth(&rule("true")), 0);
        assert_eq!(depth(&rule("(true)")), 1);
        assert_eq!(depth(&rule("((true) and (true))")), 2);
        assert_eq!(depth(&rule("not not not true")), 3);
        assert_eq!(depth(&rule("uint16(0) == 0x5a4d")), 2);
        assert_eq!(depth(&rule("pe.sections[pe.number_of_sections - 1].name == \"x\"")), 3);
        // and/or lists and field access are flat in yara-x's tree.
        assert_eq!(depth(&rule(&vec!["$a"; 10_000].join(" or "))), 0);
        assert_eq!(depth(&rule(&vec!["#a == 1"; 10_000].join(" and "))), 1);
        assert_eq!(depth(&rule(&format!("pe{} == 0", ".a".repeat(10_000)))), 1);
        // A group after operators sits below them.
        assert_eq!(depth(&rule("1 + 2 * (3 - (4))")), 5);
        assert_eq!(depth(&rule("((1)) + 2 + 3 == 6")), 5);
    }

    #[test]
    fn function_calls_have_a_limit_of_their_own() {
        let calls = |n: usize| rule(&format!("{}0{} == 0", "math.abs(".repeat(n), ")".repeat(n)));
        assert!(check(&calls(MAX_CALL_NESTING), MAX_NESTING).is_ok());
        let e = check(&calls(MAX_CALL_NESTING + 1), MAX_NESTING).unwrap_err();
        assert!(e.calls);
        assert_eq!((e.line, e.column), (3, 5 + MAX_CALL_NESTING * 9 + 8));
        // Parentheses after keywords and numbers are no calls.
        let plain = rule(&format!("{}true{}", "for any i in (0..1) : (".repeat(20), ")".repeat(20)));
        assert!(check(&plain, MAX_NESTING).is_ok());
        assert!(check(&rule(&format!("{}0{}", "(1 + ".repeat(20), ")".repeat(20))), MAX_NESTING).is_ok());
        // Closed calls no longer count.
        assert!(check(&rule(&vec!["uint16(uint16(uint16(0)))"; 50].join(" + ")), 1_000).is_ok());
    }

    #[test]
    fn hex_strings_count_alternatives_not_their_bars() {
        let flat = format!("rule r {{ strings: $a = {{ 4D 5A ( {} ) }} condition: $a }}", vec!["90"; 1000].join(" | "));
        assert_eq!(depth(&flat), 1);
        let nested = "rule r { strings: $a = { 4D ( 01 | ( 02 | ( 03 | 04 ) ) ) [2-4] ~00 } condition: $a }";
        assert_eq!(depth(nested), 3);
        // Braces of a rule body are no hex string: `|` there is an operator.
        assert_eq!(depth(&rule("(1 | 2 | 4) == 7")), 4);
    }

    #[test]
    fn strings_comments_and_regular_expressions_are_skipped() {
        let tricky = r#"
rule tricky {
  meta:
    description = "((((( not not ) \" ((( "
    multi = """ ((((
    ((((( """
  strings:
    $a = "(((\" /* ((( " // (((
    $b = /(((a)))\/(((/ nocase
    $c = /[(]\)/is
    $d = { 4D 5A /* ((((( */ // (((((
      90 }
  condition:
    // ((((((((((
    /* ((((((((((
       (((((((((( */
    $a and $b and $c and $d and (#a > 0)
}
"#;
        assert_eq!(depth(tricky), 2);
    }

    #[test]
    fn regular_expressions_end_where_yara_x_ends_them() {
        // yara-x's tokenizer ends a regexp at the first unescaped `/`, even in a class.
        assert_eq!(depth(&rule(r#"pe.exports(/[/]/) and ((true))"#)), 2);
        // `//` and `/*` are comments, never regular expressions.
        assert_eq!(depth(&rule("true // ) ( ( (")), 0);
        // A regexp does not span lines: an unclosed one is not one, and what follows counts.
        assert_eq!(depth("rule r { condition: /abc\n ((true)) }"), 2);
    }

    #[test]
    fn positions_point_at_the_token_past_the_limit() {
        let source = format!("rule r {{\n  condition:\n    {}true{}\n}}\n", "(".repeat(100), ")".repeat(100));
        assert_eq!(check(&source, 64), Err(TooDeep { line: 3, column: 5 + 64, calls: false }));
        // Columns count characters, and lines after a multi-line string or comment count too.
        let source = format!("rule é {{ meta: a = \"\"\"\n\"\"\" /*\n*/ condition: é and ({}", "(".repeat(10));
        assert_eq!(check(&source, 5), Err(TooDeep { line: 3, column: 26, calls: false }));
    }

    #[test]
    fn hostile_depths_are_measured_without_recursion() {
        // On a test thread (2 MiB of stack): 100,000 levels of every deep shape.
        let n = 100_000;
        let shapes = [
            rule(&format!("{}true{}", "(".repeat(n), ")".repeat(n))),
            rule(&format!("{}true", "not ".repeat(n))),
            rule(&format!("{}1 == 1", "-".repeat(n))),
            rule(&format!("{}1 == 1", "1 + 1 - ".repeat(n))),
            rule(&format!("{}1", "1 == ".repeat(n))),
            rule(&format!("{}true{}", "for any i in (0..1) : (".repeat(n), ")".repeat(n))),
            rule(&format!("{}0{} == 0", "pe.sections[".repeat(n), "].raw_data_size".repeat(n))),
            format!("rule r {{ strings: $a = {{ 01 {}02{} }} condition: $a }}", "( 03 | ".repeat(n), " )".repeat(n)),
            "(".repeat(n),
            ")".repeat(n),
        ];
        for s in &shapes {
            assert!(check(s, MAX_NESTING).is_err() || s.starts_with(')'), "{}", &s[..60]);
        }
    }

    #[test]
    fn anything_is_measured_without_panicking() {
        for s in ["\"", "\"\"\"", "/", "/*", "\\", "$", "!", "{", "= {", "= { (", "\"\\", "/\\", "é(", "\u{0}"] {
            let _ = check(s, 3);
            let _ = check(&s.repeat(7), 3);
        }
    }
}
