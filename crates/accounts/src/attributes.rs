//! Account attributes (signup IP, device, email domain, ...) from a CSV, for evidence:
//! a fake group reuses infrastructure, and a value shared with known fakes is a fact a
//! reviewer can check.
//!
//! Format: a header line naming the columns, the first being the account id; values
//! separated by commas, no quoting (ids and these attributes carry no commas). Columns
//! named `created` or ending in `_at` are times, not shared attributes.

use crate::error::{Error, Result};
use crate::graph::Graph;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Attributes {
    columns: Vec<String>,
    /// Per account id, its values in column order (empty = unknown).
    rows: BTreeMap<String, Vec<String>>,
}

/// An attribute value an account shares with known fakes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Shared {
    pub column: String,
    pub value: String,
    pub fakes: Vec<String>,
}

impl Attributes {
    pub fn from_file(path: &Path) -> Result<Attributes> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
        Attributes::parse(&bytes, path)
    }

    pub fn parse(bytes: &[u8], path: &Path) -> Result<Attributes> {
        let mut out = Attributes::default();
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            let n = i as u64 + 1;
            let text = std::str::from_utf8(line).map_err(|_| Error::NotUtf8 { path: path.to_path_buf(), line: n })?;
            let text = text.trim_end_matches('\r');
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            let cells: Vec<String> = text.split(',').map(|c| c.trim().to_string()).collect();
            if out.columns.is_empty() {
                out.columns = cells.into_iter().skip(1).collect();
                continue;
            }
            if cells.len() != out.columns.len() + 1 {
                return Err(Error::BadLine {
                    path: path.to_path_buf(),
                    line: n,
                    message: format!(
                        "{} values where the header has {}; one value per column, commas only between values",
                        cells.len(),
                        out.columns.len() + 1
                    ),
                });
            }
            let mut cells = cells.into_iter();
            let id = cells.next().unwrap_or_default();
            out.rows.insert(id, cells.collect());
        }
        Ok(out)
    }

    fn is_time(column: &str) -> bool {
        column == "created" || column.ends_with("_at")
    }

    /// For each attribute value held by a known fake, the fakes holding it.
    pub fn fake_index(&self, graph: &Graph, fake_seeds: &[u32]) -> BTreeMap<(usize, String), Vec<String>> {
        let mut idx: BTreeMap<(usize, String), Vec<String>> = BTreeMap::new();
        for &f in fake_seeds {
            let id = graph.id(f);
            if let Some(row) = self.rows.get(&*id) {
                for (c, v) in row.iter().enumerate() {
                    if !v.is_empty() && !Attributes::is_time(&self.columns[c]) {
                        idx.entry((c, v.clone())).or_default().push(id.to_string());
                    }
                }
            }
        }
        idx
    }

    /// The attribute values `id` shares with known fakes (other than itself).
    pub fn shared(&self, id: &str, index: &BTreeMap<(usize, String), Vec<String>>) -> Vec<Shared> {
        let Some(row) = self.rows.get(id) else { return Vec::new() };
        let mut out = Vec::new();
        for (c, v) in row.iter().enumerate() {
            if let Some(fakes) = index.get(&(c, v.clone())) {
                let fakes: Vec<String> = fakes.iter().filter(|f| *f != id).cloned().collect();
                if !fakes.is_empty() {
                    out.push(Shared { column: self.columns[c].clone(), value: v.clone(), fakes });
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn shares_values_with_fakes_but_not_times() {
        let csv = b"id,created,signup_ip,device,email_domain\nf1,2017-01-01,10.0.0.1,dev9,mail.x\nu1,2017-01-01,10.0.0.1,dev2,mail.x\nu2,2017-01-01,10.0.0.2,dev3,gmail.com\n";
        let a = Attributes::parse(csv, Path::new("a.csv")).unwrap();
        let g = Graph::from_pairs(&[("f1", "u1"), ("u1", "u2")]).unwrap();
        let idx = a.fake_index(&g, &[g.node("f1").unwrap()]);
        let s = a.shared("u1", &idx);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].column, "signup_ip");
        assert!(a.shared("u2", &idx).is_empty());
    }

    #[test]
    fn wrong_cell_count_names_the_line() {
        let err = Attributes::parse(b"id,ip\na,1,2\n", Path::new("a.csv")).unwrap_err();
        assert!(err.to_string().starts_with("a.csv:2:"), "{err}");
    }
}
