//! Reading back the scores `takedown accounts rank` writes (`id score` a line), so that
//! a later step (the exposure list) can use a ranking without computing it again.

use crate::error::{Error, Result};
use crate::graph::Graph;
use std::path::Path;

/// Scores in graph numbering, and the ids of the file that are not in the graph.
#[derive(Debug, Clone)]
pub struct Scores {
    pub scores: Vec<f64>,
    /// Ids scored in the file but absent from the graph (reported, not fatal).
    pub unknown: Vec<String>,
}

pub fn read_scores(graph: &Graph, path: &Path) -> Result<Scores> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    parse_scores(graph, &bytes, path)
}

/// Every account of the graph must have a score: a ranking of another graph would
/// otherwise order the list silently by nothing.
pub fn parse_scores(graph: &Graph, bytes: &[u8], path: &Path) -> Result<Scores> {
    let mut scores = vec![f64::NAN; graph.node_count()];
    let mut unknown = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = i as u64 + 1;
        let text = std::str::from_utf8(line).map_err(|_| Error::NotUtf8 { path: path.to_path_buf(), line: n })?;
        let text = text.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let bad = |message: String| Error::BadLine { path: path.to_path_buf(), line: n, message };
        let mut cols = text.split_whitespace();
        let (Some(id), Some(s), None) = (cols.next(), cols.next(), cols.next()) else {
            return Err(bad(format!(
                "expected `ID SCORE`, found {text:?}; give the file `takedown accounts rank --scores` wrote"
            )));
        };
        let score: f64 = s
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| bad(format!("the score {s:?} is not a finite number")))?;
        match graph.node(id) {
            Some(v) => scores[v as usize] = score,
            None => unknown.push(id.to_string()),
        }
    }
    let missing: Vec<usize> = (0..scores.len()).filter(|&v| scores[v].is_nan()).collect();
    if let Some(&first) = missing.first() {
        return Err(Error::MissingScores {
            path: path.to_path_buf(),
            count: missing.len(),
            first: graph.id(first as u32).into_owned(),
        });
    }
    Ok(Scores { scores, unknown })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn graph() -> Graph {
        Graph::from_pairs(&[("a", "b"), ("b", "c")]).unwrap()
    }

    #[test]
    fn reads_what_rank_writes() {
        let g = graph();
        let s = parse_scores(&g, b"b 0.9\na 0.5 # comment\n\nc -1e-3\nzz 4\n", Path::new("s")).unwrap();
        assert_eq!(s.scores[g.node("b").unwrap() as usize], 0.9);
        assert_eq!(s.scores[g.node("c").unwrap() as usize], -1e-3);
        assert_eq!(s.unknown, ["zz"]);
    }

    #[test]
    fn gaps_and_bad_lines_are_errors() {
        let g = graph();
        let e = parse_scores(&g, b"a 1\nb 2\n", Path::new("s")).unwrap_err();
        assert!(matches!(e, Error::MissingScores { count: 1, ref first, .. } if first == "c"), "{e}");
        let e = parse_scores(&g, b"a 1\nb x\nc 1\n", Path::new("s")).unwrap_err();
        assert!(matches!(e, Error::BadLine { line: 2, .. }), "{e}");
        assert!(matches!(parse_scores(&g, b"a 1 2\n", Path::new("s")), Err(Error::BadLine { line: 1, .. })));
        assert!(matches!(parse_scores(&g, b"a NaN\n", Path::new("s")), Err(Error::BadLine { .. })));
    }
}
