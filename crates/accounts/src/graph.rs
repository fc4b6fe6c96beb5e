//! The account graph: ids interned to dense `u32`, adjacency in compressed sparse rows,
//! accounts numbered by decreasing degree (see [`crate::csr`]).
//!
//! Memory: one `u32` per direction of an edge (8 bytes an undirected edge) and one
//! `u64` offset per account, plus the id strings (none for a numbered graph, whose ids
//! are its numbers: 8 bytes an account for the renumbering both ways). Request times and senders, when the
//! edge file has them, add 8 bytes and 1 bit per direction; a graph without them pays
//! nothing. A billion undirected edges so fit in about 8 GiB of adjacency.

use crate::error::{Error, Result};
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Dense account number.
pub type Node = u32;

/// What was set aside while reading an edge file; none of it is fatal.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct LoadReport {
    pub lines: u64,
    pub edges: u64,
    pub self_loops: u64,
    /// Edges seen more than once (in either direction); kept once.
    pub duplicates: u64,
    /// First line of the first self-loop, to show the user where.
    pub first_self_loop_line: Option<u64>,
}

/// An undirected graph in CSR form with string ids.
#[derive(Debug, Clone)]
pub struct Graph {
    ids: Ids,
    offsets: Vec<u64>,
    targets: Vec<Node>,
    /// Request time per adjacency entry, if the edge file had a third column.
    times: Option<Vec<i64>>,
    /// Two bits per adjacency entry: whether the sender is known (fourth column), and
    /// whether the row's account sent the request.
    sent: Option<Vec<u64>>,
}

/// Account ids: strings interned from a file, or the numbers of a numbered graph.
#[derive(Debug, Clone)]
enum Ids {
    Named {
        ids: Vec<String>,
        index: HashMap<String, Node>,
    },
    /// `label[node]` is the account's number as given, `node_of[number]` its node.
    Numbered {
        label: Vec<u32>,
        node_of: Vec<Node>,
    },
}

/// One parsed edge before interning.
struct RawEdge<'a> {
    a: &'a str,
    b: &'a str,
    time: Option<i64>,
    /// `Some(true)` when `a` sent the request, `Some(false)` when `b` did.
    a_sent: Option<bool>,
    line: u64,
}

impl Graph {
    /// Reads an edge file: two ids a line separated by whitespace, `#` comments,
    /// optionally a third column (request time, integer) and a fourth (the id of the
    /// account that sent the request).
    pub fn from_file(path: &Path) -> Result<(Graph, LoadReport)> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Graph::from_bytes(&bytes, path)
    }

    /// Same as [`Graph::from_file`] over bytes already in memory; `path` names them in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(Graph, LoadReport)> {
        let lines: Vec<(u64, &[u8])> =
            bytes.split(|&b| b == b'\n').enumerate().map(|(i, l)| (i as u64 + 1, l)).collect();
        let parsed: Vec<Result<Option<RawEdge>>> = lines.par_iter().map(|&(n, l)| parse_line(l, n, path)).collect();
        let mut raw = Vec::with_capacity(parsed.len());
        for p in parsed {
            if let Some(e) = p? {
                raw.push(e);
            }
        }
        let mut report = LoadReport { lines: lines.len() as u64, ..LoadReport::default() };
        Graph::build(raw, &mut report, path).map(|g| (g, report))
    }

    /// Builds from id pairs (tests, demo, generated graphs).
    pub fn from_pairs<S: AsRef<str>>(pairs: &[(S, S)]) -> Result<Graph> {
        let raw = pairs
            .iter()
            .enumerate()
            .map(|(i, (a, b))| RawEdge { a: a.as_ref(), b: b.as_ref(), time: None, a_sent: None, line: i as u64 + 1 })
            .collect();
        let mut report = LoadReport::default();
        Graph::build(raw, &mut report, Path::new("<pairs>"))
    }

    /// Builds from dense numbered edges `0..n` whose ids are the numbers themselves
    /// (generated and benchmark graphs). Self-loops and duplicates are dropped. The
    /// edge list is renumbered in place, so that the build needs little more memory
    /// than the graph.
    pub fn from_numbered(n: usize, mut edges: Vec<(Node, Node)>) -> Graph {
        let (node_of, counts) = crate::csr::degree_order(n, &edges);
        crate::csr::renumber(&mut edges, &node_of);
        let (offsets, targets) = crate::csr::build(&counts, &edges);
        drop(edges);
        let mut label = vec![0u32; n];
        for (number, &node) in node_of.iter().enumerate() {
            label[node as usize] = number as u32;
        }
        Graph { ids: Ids::Numbered { label, node_of }, offsets, targets, times: None, sent: None }
    }

    fn build(raw: Vec<RawEdge>, report: &mut LoadReport, path: &Path) -> Result<Graph> {
        let mut index: HashMap<String, Node> = HashMap::new();
        let mut ids: Vec<String> = Vec::new();
        let mut intern = |s: &str| -> Node {
            if let Some(&n) = index.get(s) {
                return n;
            }
            let n = ids.len() as Node;
            ids.push(s.to_string());
            index.insert(s.to_string(), n);
            n
        };
        let with_meta = raw.iter().any(|e| e.time.is_some() || e.a_sent.is_some());
        let mut edges = Vec::with_capacity(raw.len());
        let mut meta = Vec::new();
        for e in &raw {
            let a = intern(e.a);
            let b = intern(e.b);
            if a == b {
                report.self_loops += 1;
                report.first_self_loop_line.get_or_insert(e.line);
                continue;
            }
            edges.push((a, b));
            if with_meta {
                meta.push((e.time.unwrap_or(i64::MIN), e.a_sent));
            }
        }
        drop(raw);
        if edges.is_empty() {
            return Err(Error::EmptyGraph { path: path.to_path_buf() });
        }
        let given = edges.len() as u64;
        // Renumber by degree: ids move to their new numbers.
        let (node_of, counts) = crate::csr::degree_order(ids.len(), &edges);
        crate::csr::renumber(&mut edges, &node_of);
        let mut moved: Vec<(Node, String)> = ids.into_iter().enumerate().map(|(old, s)| (node_of[old], s)).collect();
        moved.sort_unstable_by_key(|m| m.0);
        let ids: Vec<String> = moved.into_iter().map(|m| m.1).collect();
        for v in index.values_mut() {
            *v = node_of[*v as usize];
        }
        let (offsets, targets, times, sent) = if with_meta {
            csr(ids.len(), edges, Some(meta))
        } else {
            let (offsets, targets) = crate::csr::build(&counts, &edges);
            (offsets, targets, None, None)
        };
        report.edges = targets.len() as u64 / 2;
        report.duplicates = given - report.edges;
        Ok(Graph { ids: Ids::Named { ids, index }, offsets, targets, times, sent })
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }
    /// Undirected edges.
    pub fn edge_count(&self) -> usize {
        self.targets.len() / 2
    }
    /// The account's id as given (for a numbered graph, its number written out).
    pub fn id(&self, n: Node) -> Cow<'_, str> {
        match &self.ids {
            Ids::Named { ids, .. } => Cow::Borrowed(&ids[n as usize]),
            Ids::Numbered { label, .. } => Cow::Owned(label[n as usize].to_string()),
        }
    }
    pub fn node(&self, id: &str) -> Option<Node> {
        match &self.ids {
            Ids::Named { index, .. } => index.get(id).copied(),
            Ids::Numbered { node_of, .. } => {
                let number: u32 = id.parse().ok()?;
                // Only the canonical spelling names an account ("07" and "+7" do not).
                (number.to_string() == id).then(|| node_of.get(number as usize).copied()).flatten()
            }
        }
    }
    /// The number an account of a numbered graph was given as (`None` for ids read from a file).
    pub fn number(&self, n: Node) -> Option<u32> {
        match &self.ids {
            Ids::Named { .. } => None,
            Ids::Numbered { label, .. } => Some(label[n as usize]),
        }
    }
    /// Adjacency offsets, one per account and one past the end (for the propagation kernels).
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }
    /// All rows' neighbours end to end.
    pub fn targets(&self) -> &[Node] {
        &self.targets
    }
    #[inline]
    pub fn degree(&self, n: Node) -> usize {
        (self.offsets[n as usize + 1] - self.offsets[n as usize]) as usize
    }
    /// Neighbours of `n`, sorted ascending.
    #[inline]
    pub fn neighbours(&self, n: Node) -> &[Node] {
        &self.targets[self.offsets[n as usize] as usize..self.offsets[n as usize + 1] as usize]
    }
    /// Position of `n`'s first adjacency entry, for per-entry arrays such as edge weights.
    #[inline]
    pub fn entry_range(&self, n: Node) -> std::ops::Range<usize> {
        self.offsets[n as usize] as usize..self.offsets[n as usize + 1] as usize
    }
    pub fn entries(&self) -> usize {
        self.targets.len()
    }
    /// Request time of the edge at adjacency entry `e`, if known.
    pub fn time(&self, e: usize) -> Option<i64> {
        self.times.as_ref().map(|t| t[e]).filter(|&t| t != i64::MIN)
    }
    /// Whether the row's account sent the request of entry `e`, if known.
    pub fn row_sent(&self, e: usize) -> Option<bool> {
        let s = self.sent.as_ref()?;
        let bits = s[2 * e / 64] >> (2 * e % 64);
        (bits & 1 == 1).then_some(bits & 2 == 2)
    }
    /// Bytes held by the adjacency (not the id strings), to check the memory budget.
    pub fn adjacency_bytes(&self) -> usize {
        let ids = match &self.ids {
            Ids::Named { .. } => 0,
            Ids::Numbered { label, node_of } => (label.len() + node_of.len()) * 4,
        };
        ids + self.offsets.len() * 8
            + self.targets.len() * 4
            + self.times.as_ref().map_or(0, |t| t.len() * 8)
            + self.sent.as_ref().map_or(0, |s| s.len() * 8)
    }
}

type Csr = (Vec<u64>, Vec<Node>, Option<Vec<i64>>, Option<Vec<u64>>);

/// Both directions of every edge, sorted in parallel, duplicates dropped (the earliest
/// request time wins, because exposure starts at first contact).
fn csr(n: usize, edges: Vec<(Node, Node)>, meta: Option<Vec<(i64, Option<bool>)>>) -> Csr {
    match meta {
        None => {
            let mut both: Vec<u64> = edges
                .par_iter()
                .flat_map_iter(|&(a, b)| [(a as u64) << 32 | b as u64, (b as u64) << 32 | a as u64])
                .collect();
            drop(edges);
            both.par_sort_unstable();
            both.dedup();
            let offsets = offsets_of(n, both.iter().map(|&k| (k >> 32) as usize));
            let targets = both.par_iter().map(|&k| k as u32).collect();
            (offsets, targets, None, None)
        }
        Some(meta) => {
            let mut both: Vec<(u64, i64, Option<bool>)> = edges
                .iter()
                .zip(meta)
                .flat_map(|(&(a, b), (t, a_sent))| {
                    let sa = a_sent;
                    let sb = a_sent.map(|x| !x);
                    [((a as u64) << 32 | b as u64, t, sa), ((b as u64) << 32 | a as u64, t, sb)]
                })
                .collect();
            both.par_sort_unstable();
            both.dedup_by_key(|e| e.0);
            let offsets = offsets_of(n, both.iter().map(|&(k, _, _)| (k >> 32) as usize));
            let targets = both.iter().map(|&(k, _, _)| k as u32).collect();
            let times = both.iter().map(|&(_, t, _)| t).collect();
            let mut sent = vec![0u64; (2 * both.len()).div_ceil(64)];
            for (i, &(_, _, s)) in both.iter().enumerate() {
                if let Some(row_sent) = s {
                    let bits = 1 | u64::from(row_sent) << 1;
                    sent[2 * i / 64] |= bits << (2 * i % 64);
                }
            }
            (offsets, targets, Some(times), Some(sent))
        }
    }
}

fn offsets_of(n: usize, rows: impl Iterator<Item = usize>) -> Vec<u64> {
    let mut offsets = vec![0u64; n + 1];
    for r in rows {
        offsets[r + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    offsets
}

fn parse_line<'a>(line: &'a [u8], n: u64, path: &Path) -> Result<Option<RawEdge<'a>>> {
    let text = std::str::from_utf8(line).map_err(|_| Error::NotUtf8 { path: path.to_path_buf(), line: n })?;
    let text = text.split('#').next().unwrap_or("").trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |message: String| Error::BadLine { path: PathBuf::from(path), line: n, message };
    let mut cols = text.split_whitespace();
    let (Some(a), Some(b)) = (cols.next(), cols.next()) else {
        // Edge lists exported as CSV are common; ids themselves may hold commas, so
        // the file is not guessed at, but the way out is named.
        let csv = if text.contains(',') {
            " separated by spaces or tabs, not commas (for a CSV file: tr ',' ' ' < FILE, after removing a header line)"
        } else {
            ""
        };
        return Err(bad(format!(
            "expected two account ids{csv}, found {text:?}; an edge line is `ID ID [TIME [SENDER]]`"
        )));
    };
    let time = match cols.next() {
        None => None,
        Some(t) => Some(t.parse::<i64>().map_err(|_| {
            bad(format!(
                "the third column {t:?} is not a time (integer seconds); an edge line is `ID ID [TIME [SENDER]]`"
            ))
        })?),
    };
    let a_sent = match cols.next() {
        None => None,
        Some(s) if s == a => Some(true),
        Some(s) if s == b => Some(false),
        Some(s) => {
            return Err(bad(format!(
                "the sender {s:?} is neither {a:?} nor {b:?}; the fourth column names one end of the edge"
            )))
        }
    };
    if let Some(extra) = cols.next() {
        return Err(bad(format!("unexpected fifth column {extra:?}; an edge line is `ID ID [TIME [SENDER]]`")));
    }
    Ok(Some(RawEdge { a, b, time, a_sent, line: n }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn load(s: &str) -> Result<(Graph, LoadReport)> {
        Graph::from_bytes(s.as_bytes(), Path::new("t.txt"))
    }

    #[test]
    fn builds_sorted_undirected_csr() {
        let (g, r) = load("# c\na b\nb c\n\nc a # tail\n").unwrap();
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.edge_count(), 3);
        assert_eq!(r.duplicates, 0);
        let a = g.node("a").unwrap();
        assert_eq!(g.degree(a), 2);
        assert!(g.neighbours(a).windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn self_loops_and_duplicates_are_counted_not_fatal() {
        let (g, r) = load("a b\nb a\na a\na b\n").unwrap();
        assert_eq!(g.edge_count(), 1);
        assert_eq!(r.self_loops, 1);
        assert_eq!(r.first_self_loop_line, Some(3));
        assert_eq!(r.duplicates, 2);
    }

    #[test]
    fn empty_graph_is_an_error() {
        assert!(matches!(load("# nothing\n\n"), Err(Error::EmptyGraph { .. })));
        assert!(matches!(load("x x\n"), Err(Error::EmptyGraph { .. })));
    }

    #[test]
    fn non_utf8_names_the_line() {
        let err = Graph::from_bytes(b"a b\nc \xff\n", Path::new("e.txt")).unwrap_err();
        assert!(matches!(err, Error::NotUtf8 { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("e.txt:2"));
    }

    #[test]
    fn bad_columns_name_the_line() {
        assert!(matches!(load("a\n"), Err(Error::BadLine { line: 1, .. })));
        assert!(matches!(load("a b x\n"), Err(Error::BadLine { line: 1, .. })));
        assert!(matches!(load("a b 1 z\n"), Err(Error::BadLine { .. })));
    }

    #[test]
    fn times_and_senders_keep_the_earliest() {
        let (g, _) = load("a b 50 a\nb a 10 b\nb c 7\n").unwrap();
        let c = g.node("c").unwrap();
        assert_eq!(g.row_sent(g.entry_range(c).start), None, "no sender column: unknown");
        let a = g.node("a").unwrap();
        let e = g.entry_range(a).start;
        assert_eq!(g.time(e), Some(10));
        assert_eq!(g.row_sent(e), Some(false));
        let b = g.node("b").unwrap();
        let eb = g.entry_range(b).start; // b -> a
        assert_eq!(g.row_sent(eb), Some(true));
    }

    #[test]
    fn numbered_graphs_match_pairs() {
        let g = Graph::from_numbered(4, vec![(0, 1), (1, 2), (2, 1), (3, 3)]);
        assert_eq!(g.edge_count(), 2);
        assert_eq!(g.node_count(), 4);
        let two = g.node("2").unwrap();
        assert_eq!(g.id(two), "2");
        assert_eq!(g.number(two), Some(2));
        assert_eq!(g.node("1"), Some(0), "the hub comes first");
        assert_eq!(g.node("02"), None);
        assert_eq!(g.node("4"), None);
        let names: Vec<_> = g.neighbours(g.node("1").unwrap()).iter().map(|&u| g.id(u).into_owned()).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"0".to_string()) && names.contains(&"2".to_string()));
    }
}
