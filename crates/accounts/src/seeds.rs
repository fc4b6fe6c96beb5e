//! Known fake and known real accounts, read from files and resolved against a graph.

use crate::error::{Error, Result};
use crate::graph::{Graph, Node};
use std::collections::BTreeSet;
use std::path::Path;

/// Ids read from a seed file: separated by any whitespace, any number a line, `#` comments.
pub fn read_ids(path: &Path) -> Result<Vec<String>> {
    let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    parse_ids(&bytes, path)
}

pub fn parse_ids(bytes: &[u8], path: &Path) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let text =
            std::str::from_utf8(line).map_err(|_| Error::NotUtf8 { path: path.to_path_buf(), line: i as u64 + 1 })?;
        let text = text.split('#').next().unwrap_or("");
        ids.extend(text.split_whitespace().map(str::to_string));
    }
    Ok(ids)
}

/// Seeds in graph numbering, with the ids that were not in the graph (reported, not fatal).
#[derive(Debug, Clone, Default)]
pub struct Seeds {
    pub fake: Vec<Node>,
    pub real: Vec<Node>,
    pub missing_fake: Vec<String>,
    pub missing_real: Vec<String>,
}

impl Seeds {
    /// Resolves ids against `graph`. An id in both lists is an error: the method would
    /// push it both ways, and the user has a labelling mistake to fix.
    pub fn resolve(graph: &Graph, fake: &[String], real: &[String]) -> Result<Seeds> {
        let fake_set: BTreeSet<&str> = fake.iter().map(String::as_str).collect();
        if let Some(both) = real.iter().find(|r| fake_set.contains(r.as_str())) {
            return Err(Error::SeedInBoth { id: both.clone() });
        }
        let mut s = Seeds::default();
        let split = |ids: &[String], found: &mut Vec<Node>, missing: &mut Vec<String>| {
            for id in ids {
                match graph.node(id) {
                    Some(n) => found.push(n),
                    None => missing.push(id.clone()),
                }
            }
            found.sort_unstable();
            found.dedup();
            missing.sort();
            missing.dedup();
        };
        split(fake, &mut s.fake, &mut s.missing_fake);
        split(real, &mut s.real, &mut s.missing_real);
        Ok(s)
    }

    /// Label per node: +1 known fake, -1 known real, 0 unknown.
    pub fn labels(&self, n: usize) -> Vec<i8> {
        let mut l = vec![0i8; n];
        for &f in &self.fake {
            l[f as usize] = 1;
        }
        for &r in &self.real {
            l[r as usize] = -1;
        }
        l
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_any_whitespace_and_comments() {
        let ids = parse_ids(b"a b\tc\n# x y\n d # e\n\n", Path::new("s")).unwrap();
        assert_eq!(ids, ["a", "b", "c", "d"]);
    }

    #[test]
    fn seed_in_both_is_an_error_missing_is_reported() {
        let g = Graph::from_pairs(&[("a", "b"), ("b", "c")]).unwrap();
        let err = Seeds::resolve(&g, &["a".into()], &["a".into()]).unwrap_err();
        assert!(matches!(err, Error::SeedInBoth { .. }));
        let s = Seeds::resolve(&g, &["a".into(), "zz".into()], &["c".into()]).unwrap();
        assert_eq!(s.fake, [g.node("a").unwrap()]);
        assert_eq!(s.missing_fake, ["zz"]);
    }
}
