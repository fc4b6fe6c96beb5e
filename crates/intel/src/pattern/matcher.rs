//! Evaluates a parsed pattern against one observation: a set of SCOs as JSON.
//!
//! Inside `[ ... ]`, comparisons joined by AND that name the same object type must
//! hold for the same object. The matcher searches for that: an AND whose parts
//! share a type tries each object of the type in turn and binds it while it checks
//! the parts; parts with no type in common are checked on their own. OR needs no
//! binding, since any object may satisfy either side.

use super::ast::{CompareOp, Comparison, ComparisonExpr, Constant, ObservationExpr, PathStep, Test};
use super::lexer::decode_base64;
use super::MAX_EVAL_STEPS;
use serde_json::{Map, Value};
use std::cmp::Ordering;

type Object = Map<String, Value>;

pub(crate) fn matches(expr: &ObservationExpr, observation: &[Value]) -> bool {
    let objects = Objects::new(observation);
    let mut ctx = Ctx { objects: &objects, steps_left: MAX_EVAL_STEPS };
    observation_holds(expr, &mut ctx)
}

/// The observation's objects grouped by `type`.
struct Objects<'v> {
    groups: Vec<(&'v str, Vec<&'v Object>)>,
}

impl<'v> Objects<'v> {
    fn new(observation: &'v [Value]) -> Self {
        let mut groups: Vec<(&str, Vec<&Object>)> = Vec::new();
        for obj in observation.iter().filter_map(Value::as_object) {
            let Some(t) = obj.get("type").and_then(Value::as_str) else {
                continue;
            };
            match groups.iter_mut().find(|(g, _)| *g == t) {
                Some((_, members)) => members.push(obj),
                None => groups.push((t, vec![obj])),
            }
        }
        Objects { groups }
    }

    fn of(&self, object_type: &str) -> &[&'v Object] {
        self.groups.iter().find(|(t, _)| *t == object_type).map_or(&[], |(_, m)| m.as_slice())
    }
}

struct Ctx<'o, 'v> {
    objects: &'o Objects<'v>,
    /// Work left before the matcher gives up and reports no match; a pattern that
    /// couples many types over a big observation could otherwise take exponential time.
    steps_left: u64,
}

impl Ctx<'_, '_> {
    /// Spends `n` steps; false once the budget is gone.
    fn spend(&mut self, n: u64) -> bool {
        self.steps_left = self.steps_left.saturating_sub(n);
        self.steps_left > 0
    }
}

fn observation_holds(expr: &ObservationExpr, ctx: &mut Ctx<'_, '_>) -> bool {
    match expr {
        ObservationExpr::Observation(c) => solve(c, &mut Vec::new(), ctx),
        // With a single observation there is no order in time: FOLLOWEDBY is AND.
        ObservationExpr::And(xs) | ObservationExpr::FollowedBy(xs) => xs.iter().all(|x| observation_holds(x, ctx)),
        ObservationExpr::Or(xs) => xs.iter().any(|x| observation_holds(x, ctx)),
        // Time windows and repetition need a stream of observations; one observation
        // satisfies the qualified expression when it satisfies the expression.
        ObservationExpr::Qualified(inner, _) => observation_holds(inner, ctx),
    }
}

/// Object types bound so far, each to one object (or to none, when the
/// observation has no object of that type).
type Bindings<'p, 'v> = Vec<(&'p str, Option<&'v Object>)>;

fn solve<'p, 'v>(expr: &'p ComparisonExpr, bound: &mut Bindings<'p, 'v>, ctx: &mut Ctx<'_, 'v>) -> bool {
    if !ctx.spend(1) {
        return false;
    }
    match expr {
        ComparisonExpr::Comparison(c) => {
            let t = c.path.object_type.as_str();
            match bound.iter().find(|(b, _)| *b == t) {
                Some((_, obj)) => obj.is_some_and(|o| comparison_holds(c, o, ctx)),
                None => {
                    let objects = ctx.objects;
                    objects.of(t).iter().any(|o| comparison_holds(c, o, ctx))
                }
            }
        }
        ComparisonExpr::Or(xs) => xs.iter().any(|x| solve(x, bound, ctx)),
        ComparisonExpr::And(xs) => solve_and(xs, bound, ctx),
    }
}

fn solve_and<'p, 'v>(parts: &'p [ComparisonExpr], bound: &mut Bindings<'p, 'v>, ctx: &mut Ctx<'_, 'v>) -> bool {
    // Checked here too, not only per comparison: binding loops must stop as soon as
    // the budget is gone, or they would go on enumerating with nothing to check.
    if !ctx.spend(1) {
        return false;
    }
    let Some(shared) = shared_free_type(parts, bound, ctx) else {
        return parts.iter().all(|p| solve(p, bound, ctx));
    };
    let objects = ctx.objects;
    let candidates = objects.of(shared);
    if candidates.is_empty() {
        bound.push((shared, None));
        let holds = solve_and(parts, bound, ctx);
        bound.pop();
        return holds;
    }
    for &obj in candidates {
        bound.push((shared, Some(obj)));
        let holds = solve_and(parts, bound, ctx);
        bound.pop();
        if holds {
            return true;
        }
    }
    false
}

/// An unbound object type named by two or more of `parts`, if there is one.
fn shared_free_type<'p>(
    parts: &'p [ComparisonExpr],
    bound: &Bindings<'p, '_>,
    ctx: &mut Ctx<'_, '_>,
) -> Option<&'p str> {
    struct Walk<'p, 'b, 'v> {
        bound: &'b Bindings<'p, 'v>,
        /// Each free type met so far, with the part it was first met in.
        seen: Vec<(&'p str, usize)>,
        visits: u64,
    }
    impl<'p> Walk<'p, '_, '_> {
        fn part(&mut self, e: &'p ComparisonExpr, part: usize) -> Option<&'p str> {
            self.visits += 1;
            match e {
                ComparisonExpr::Comparison(c) => {
                    let t = c.path.object_type.as_str();
                    if self.bound.iter().any(|(b, _)| *b == t) {
                        return None;
                    }
                    match self.seen.iter().find(|(s, _)| *s == t) {
                        Some(&(_, first)) => (first != part).then_some(t),
                        None => {
                            self.seen.push((t, part));
                            None
                        }
                    }
                }
                ComparisonExpr::And(xs) | ComparisonExpr::Or(xs) => xs.iter().find_map(|x| self.part(x, part)),
            }
        }
    }
    let mut walk = Walk { bound, seen: Vec::new(), visits: 0 };
    let found = parts.iter().enumerate().find_map(|(i, p)| walk.part(p, i));
    ctx.spend(walk.visits);
    found
}

fn comparison_holds(c: &Comparison, obj: &Object, ctx: &mut Ctx<'_, '_>) -> bool {
    if !ctx.spend(1) {
        return false;
    }
    let steps = c.path.steps.as_slice();
    let hint = Hint::of(steps);
    any_value(obj, steps, |v| match &c.test {
        Test::Exists => true,
        test => value_test(test, v, hint, ctx).is_some_and(|holds| holds != c.negated),
    })
}

/// Calls `pred` on each value `steps` leads to from `obj` until one returns true.
/// Iterative, so a path of any length cannot exhaust the stack; `[*]` fans out
/// through a work list. Null counts as absent.
fn any_value(obj: &Object, steps: &[PathStep], mut pred: impl FnMut(&Value) -> bool) -> bool {
    let Some((PathStep::Key(first), rest)) = steps.split_first() else {
        return false;
    };
    let Some(start) = lookup(obj, first, false) else {
        return false;
    };
    // The first path is walked without the work list, so a path with no `[*]`
    // allocates nothing.
    let mut pending: Vec<(&Value, usize)> = Vec::new();
    let mut current = Some((start, 0));
    while let Some((mut value, mut i)) = current.take().or_else(|| pending.pop()) {
        let mut reached = true;
        while let Some(step) = rest.get(i) {
            let next = match step {
                PathStep::Key(k) => {
                    let under_hashes = matches!(i.checked_sub(1).and_then(|j| rest.get(j)), Some(PathStep::Key(h)) if h == "hashes")
                        || (i == 0 && first == "hashes");
                    value.as_object().and_then(|m| lookup(m, k, under_hashes))
                }
                PathStep::Index(n) => usize::try_from(*n).ok().and_then(|n| value.as_array()?.get(n)),
                PathStep::AnyIndex => {
                    if let Some(items) = value.as_array() {
                        pending.extend(items.iter().rev().map(|item| (item, i + 1)));
                    }
                    None
                }
            };
            match next {
                Some(v) => value = v,
                None => {
                    reached = false;
                    break;
                }
            }
            i += 1;
        }
        if reached && !value.is_null() && pred(value) {
            return true;
        }
    }
    false
}

/// A dictionary lookup; under `hashes` the algorithm name also matches loosely
/// (`SHA256`, `sha-256` and `SHA-256` are one key), since feeds spell them every way.
fn lookup<'v>(map: &'v Object, key: &str, under_hashes: bool) -> Option<&'v Value> {
    map.get(key)
        .or_else(|| under_hashes.then(|| map.iter().find(|(k, _)| hash_name_eq(k, key)).map(|(_, v)| v)).flatten())
}

fn hash_name_eq(a: &str, b: &str) -> bool {
    let norm =
        |s: &str| s.bytes().filter(|b| b.is_ascii_alphanumeric()).map(|b| b.to_ascii_uppercase()).collect::<Vec<u8>>();
    norm(a) == norm(b)
}

/// What the property's name says about how to read its string value.
#[derive(Clone, Copy, PartialEq)]
enum Hint {
    /// A value under `hashes`: hex, compared without regard to case.
    Hash,
    /// A `*_hex` property: hex-encoded bytes.
    Hex,
    /// A `*_bin` property: base64-encoded bytes.
    Bin,
    Plain,
}

impl Hint {
    fn of(steps: &[PathStep]) -> Hint {
        match steps {
            [.., PathStep::Key(h), PathStep::Key(_)] if h == "hashes" => Hint::Hash,
            [.., PathStep::Key(k)] if k.ends_with("_hex") => Hint::Hex,
            [.., PathStep::Key(k)] if k.ends_with("_bin") => Hint::Bin,
            _ => Hint::Plain,
        }
    }
}

/// Whether one value passes a test, before `NOT`; `None` when the value's type
/// cannot be compared with the operand (such a value never matches, negated or not).
fn value_test(test: &Test, v: &Value, hint: Hint, ctx: &mut Ctx<'_, '_>) -> Option<bool> {
    match test {
        Test::Compare(op, c) => compare(v, c, hint).map(|ord| match op {
            CompareOp::Eq => ord == Ordering::Equal,
            CompareOp::Ne => ord != Ordering::Equal,
            CompareOp::Lt => ord == Ordering::Less,
            CompareOp::Le => ord != Ordering::Greater,
            CompareOp::Gt => ord == Ordering::Greater,
            CompareOp::Ge => ord != Ordering::Less,
        }),
        Test::In(list) => {
            ctx.spend(list.len() as u64);
            let mut comparable = false;
            for c in list {
                match compare(v, c, hint) {
                    Some(Ordering::Equal) => return Some(true),
                    Some(_) => comparable = true,
                    None => {}
                }
            }
            comparable.then_some(false)
        }
        Test::Like(pattern) => v.as_str().map(|s| like(pattern, s, ctx)),
        Test::Matches(re) => v.as_str().map(|s| re.regex().is_match(s)),
        Test::IsSubset(block) => Some(Cidr::parse(block)?.contains(&Cidr::parse(v.as_str()?)?)),
        Test::IsSuperset(block) => Some(Cidr::parse(v.as_str()?)?.contains(&Cidr::parse(block)?)),
        Test::Exists => Some(true),
    }
}

/// Orders a JSON value against a constant, or `None` if their types differ.
fn compare(v: &Value, c: &Constant, hint: Hint) -> Option<Ordering> {
    match (c, v) {
        (Constant::String(s), Value::String(x)) if hint == Hint::Hash => {
            Some(x.bytes().map(|b| b.to_ascii_lowercase()).cmp(s.bytes().map(|b| b.to_ascii_lowercase())))
        }
        (Constant::String(s), Value::String(x)) => Some(x.as_str().cmp(s.as_str())),
        (Constant::Integer(i), Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(x), _) => Some(x.cmp(i)),
            (None, Some(_)) => Some(Ordering::Greater),
            (None, None) => n.as_f64()?.partial_cmp(&(*i as f64)),
        },
        (Constant::Float(f), Value::Number(n)) => n.as_f64()?.partial_cmp(f),
        (Constant::Boolean(b), Value::Bool(x)) => Some(x.cmp(b)),
        (Constant::Timestamp(t), Value::String(x)) => {
            let at = chrono::DateTime::parse_from_rfc3339(x).ok()?;
            Some((at.timestamp(), at.timestamp_subsec_nanos()).cmp(&t.instant()))
        }
        (Constant::Binary(bytes), Value::String(x)) => Some(value_bytes(x, hint, false)?.as_slice().cmp(bytes)),
        (Constant::Hex(bytes), Value::String(x)) => Some(value_bytes(x, hint, true)?.as_slice().cmp(bytes)),
        _ => None,
    }
}

/// The bytes a string property holds: hex or base64 by its name, else whichever
/// decodes, trying the constant's own encoding first.
fn value_bytes(s: &str, hint: Hint, hex_first: bool) -> Option<Vec<u8>> {
    match hint {
        Hint::Hex | Hint::Hash => hex::decode(s).ok(),
        Hint::Bin => decode_base64(s),
        Hint::Plain if hex_first => hex::decode(s).ok().or_else(|| decode_base64(s)),
        Hint::Plain => decode_base64(s).or_else(|| hex::decode(s).ok()),
    }
}

/// SQL LIKE: `%` is any run of characters, `_` exactly one; everything else is
/// literal and case-sensitive. Greedy with one backtrack point, which is exact
/// for these two wildcards; every step is charged to the budget.
fn like(pattern: &str, text: &str, ctx: &mut Ctx<'_, '_>) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let char_len = |at: usize| match t.get(at) {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    };
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut retry: Option<(usize, usize)> = None;
    while ti < t.len() {
        if !ctx.spend(1) {
            return false;
        }
        match p.get(pi) {
            Some(b'%') => {
                retry = Some((pi + 1, ti));
                pi += 1;
                continue;
            }
            Some(b'_') => {
                pi += 1;
                ti += char_len(ti);
                continue;
            }
            Some(b) if t.get(ti) == Some(b) => {
                pi += 1;
                ti += 1;
                continue;
            }
            _ => {}
        }
        match retry {
            // Let the last % swallow one more character and try again from there.
            Some((after, from)) => {
                let next = from + char_len(from);
                retry = Some((after, next));
                pi = after;
                ti = next;
            }
            None => return false,
        }
    }
    p.get(pi..).is_some_and(|rest| rest.iter().all(|&b| b == b'%'))
}

/// An IPv4 or IPv6 address block: an address with an optional `/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    /// The address, IPv4 in the low 32 bits.
    addr: u128,
    prefix: u32,
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
                (a, p.parse().ok())
            }
            Some(_) => return None,
            None => (s, None),
        };
        let (v6, addr, bits) = if addr.contains(':') {
            (true, u128::from(addr.parse::<std::net::Ipv6Addr>().ok()?), 128)
        } else {
            (false, u128::from(u32::from(addr.parse::<std::net::Ipv4Addr>().ok()?)), 32)
        };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Cidr { v6, addr, prefix: prefix + (128 - bits) })
    }

    /// Whether `other` lies wholly inside this block. Prefixes are held as if on
    /// 128 bits, so one mask works for both families.
    pub(crate) fn contains(&self, other: &Cidr) -> bool {
        let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
        self.v6 == other.v6 && self.prefix <= other.prefix && (self.addr & mask) == (other.addr & mask)
    }
}
