//! Find a threat group's fake accounts in a social graph from a few known fakes and a
//! few known real accounts, say why for each, and list the real people they reached.
//!
//! ```
//! use takedown_accounts::{Graph, Method, Seeds};
//!
//! // Two friend circles joined by one friendship (4–5); 0 is real, 9 is fake.
//! let mut pairs = Vec::new();
//! for (lo, hi) in [(0, 5), (5, 10)] {
//!     for a in lo..hi {
//!         for b in a + 1..hi {
//!             pairs.push((a.to_string(), b.to_string()));
//!         }
//!     }
//! }
//! pairs.push(("4".into(), "5".into()));
//! let g = Graph::from_pairs(&pairs)?;
//! let seeds = Seeds::resolve(&g, &["9".into()], &["0".into()])?;
//! let scores = Method::Triad.rank(&g, &seeds);
//! let n = |id: &str| g.node(id).unwrap() as usize;
//! assert!(scores[n("7")] > scores[n("2")]);
//! # Ok::<(), takedown_accounts::Error>(())
//! ```
#![forbid(unsafe_code)]

pub mod attributes;
mod csr;
mod error;
pub mod eval;
pub mod evidence;
pub mod exposure;
mod graph;
mod propagation;
pub mod scores;
mod seeds;
pub mod sybilrank;
pub mod sybilscar;
pub mod triad;
mod values;

pub use error::{Error, Result};
pub use graph::{Graph, LoadReport, Node};
use rayon::slice::ParallelSliceMut;
pub use seeds::{parse_ids, read_ids, Seeds};

/// A ranking method. Every method is deterministic: the same graph and seeds give the
/// same scores whatever the number of threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    /// Baseline: SybilRank (NSDI 2012), real seeds only.
    SybilRank,
    /// Baseline: SybilSCAR-D (INFOCOM 2017), both seed sets.
    SybilScar,
    /// Ours: both seed sets, local-rule propagation over triangle-weighted edges (see [`triad`]).
    Triad,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::SybilRank, Method::SybilScar, Method::Triad];

    pub fn name(self) -> &'static str {
        match self {
            Method::SybilRank => "sybilrank",
            Method::SybilScar => "sybilscar",
            Method::Triad => "triad",
        }
    }

    /// Scores per node, higher = more likely fake.
    pub fn rank(self, graph: &Graph, seeds: &Seeds) -> Vec<f64> {
        match self {
            Method::SybilRank => sybilrank::rank(graph, seeds),
            Method::SybilScar => sybilscar::rank(graph, seeds),
            Method::Triad => triad::rank(graph, seeds),
        }
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::UnknownMethod(s.to_string()))
    }
}

/// Node numbers ordered by score, highest first; ties by id so that output is stable.
pub fn order(graph: &Graph, scores: &[f64]) -> Vec<Node> {
    let mut nodes: Vec<Node> = (0..graph.node_count() as Node).collect();
    nodes.par_sort_by(|&a, &b| {
        scores[b as usize].total_cmp(&scores[a as usize]).then_with(|| graph.id(a).cmp(&graph.id(b)))
    });
    nodes
}

#[cfg(test)]
mod tests_support {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Two 5-cliques, ids 0..5 real and 5..10 fake, one attack edge 4–5; seeds 0 and 9.
    pub fn two_cliques() -> (Graph, Seeds) {
        let mut pairs = Vec::new();
        for (lo, hi) in [(0, 5), (5, 10)] {
            for a in lo..hi {
                for b in a + 1..hi {
                    pairs.push((a.to_string(), b.to_string()));
                }
            }
        }
        pairs.push(("4".to_string(), "5".to_string()));
        let g = Graph::from_pairs(&pairs).unwrap();
        let seeds = Seeds::resolve(&g, &["9".into()], &["0".into()]).unwrap();
        (g, seeds)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_method_is_deterministic_across_thread_counts() {
        let (g, seeds) = eval::sybil_copy(&eval::ring_of_cliques(30, 6), 40, 7);
        let seeds = eval::pick_seeds(&g, &seeds, 5, 3);
        for m in Method::ALL {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| m.rank(&g, &seeds));
            let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| m.rank(&g, &seeds));
            assert_eq!(one, two, "{}", m.name());
            assert_eq!(m.rank(&g, &seeds), one);
        }
    }

    #[test]
    fn deterministic_across_thread_counts_over_many_blocks() {
        // About 120 000 adjacency entries: several blocks of rows, so the per-block
        // sums and the stop test are split differently with one and two threads.
        let mut rng = eval::Rng::new(11);
        let edges: Vec<(u32, u32)> = (0..60_000).map(|_| (rng.below(3000) as u32, rng.below(3000) as u32)).collect();
        let g = Graph::from_numbered(3000, edges);
        assert!(g.entries() as u64 > 3 * csr::BLOCK_ENTRIES);
        let seeds = Seeds { fake: vec![1, 2, 3], real: vec![4, 5, 6], ..Seeds::default() };
        for m in Method::ALL {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap().install(|| m.rank(&g, &seeds));
            let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| m.rank(&g, &seeds));
            assert_eq!(one, two, "{}", m.name());
        }
    }

    #[test]
    fn method_names_round_trip() {
        for m in Method::ALL {
            assert_eq!(m.name().parse::<Method>().unwrap(), m);
        }
        assert!("pagerank".parse::<Method>().is_err());
    }
}
