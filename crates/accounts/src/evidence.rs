//! Why an account was ranked where it is: the nearest known fake and the path to it,
//! how much of its neighbourhood is fake, and what it shares with known fakes.

use crate::attributes::{Attributes, Shared};
use crate::graph::{Graph, Node};
use std::collections::VecDeque;

#[derive(Debug, Clone, serde::Serialize)]
pub struct AccountEvidence {
    pub id: String,
    pub rank: usize,
    pub score: f64,
    pub degree: usize,
    /// Neighbours that are known or judged fake.
    pub fake_neighbours: usize,
    pub fake_fraction: f64,
    /// Shortest path to the nearest known fake seed, this account first.
    pub path_to_fake_seed: Vec<String>,
    pub shared: Vec<Shared>,
}

/// Shortest-path parents from all fake seeds at once (BFS), to explain any account.
#[derive(Debug, Clone)]
pub struct SeedPaths {
    parent: Vec<Node>,
    dist: Vec<u32>,
}

impl SeedPaths {
    pub fn new(graph: &Graph, seeds: &[Node]) -> SeedPaths {
        let n = graph.node_count();
        let mut parent = vec![Node::MAX; n];
        let mut dist = vec![u32::MAX; n];
        let mut queue = VecDeque::new();
        for &s in seeds {
            dist[s as usize] = 0;
            parent[s as usize] = s;
            queue.push_back(s);
        }
        while let Some(v) = queue.pop_front() {
            for &u in graph.neighbours(v) {
                if dist[u as usize] == u32::MAX {
                    dist[u as usize] = dist[v as usize] + 1;
                    parent[u as usize] = v;
                    queue.push_back(u);
                }
            }
        }
        SeedPaths { parent, dist }
    }

    pub fn path(&self, graph: &Graph, mut v: Node) -> Vec<String> {
        if self.dist[v as usize] == u32::MAX {
            return Vec::new();
        }
        let mut out = vec![graph.id(v).to_string()];
        while self.parent[v as usize] != v {
            v = self.parent[v as usize];
            out.push(graph.id(v).to_string());
        }
        out
    }
}

/// Evidence for the first `top` accounts of `order` that are not seeds. An account is
/// "judged fake" when it is a fake seed or among the first `judged` of the ranking.
#[allow(clippy::too_many_arguments)]
pub fn explain(
    graph: &Graph,
    scores: &[f64],
    order: &[Node],
    fake_seeds: &[Node],
    labels: &[i8],
    judged: usize,
    top: usize,
    attributes: Option<&Attributes>,
) -> Vec<AccountEvidence> {
    let mut fake = vec![false; graph.node_count()];
    for &v in order.iter().filter(|&&v| labels[v as usize] == 0).take(judged) {
        fake[v as usize] = true;
    }
    for &s in fake_seeds {
        fake[s as usize] = true;
    }
    let paths = SeedPaths::new(graph, fake_seeds);
    let index = attributes.map(|a| a.fake_index(graph, fake_seeds)).unwrap_or_default();
    order
        .iter()
        .enumerate()
        .filter(|(_, &v)| labels[v as usize] == 0)
        .take(top)
        .map(|(rank, &v)| {
            let nb = graph.neighbours(v);
            let fake_neighbours = nb.iter().filter(|&&u| fake[u as usize]).count();
            let id = graph.id(v);
            AccountEvidence {
                id: id.to_string(),
                rank: rank + 1,
                score: scores[v as usize],
                degree: nb.len(),
                fake_neighbours,
                fake_fraction: if nb.is_empty() { 0.0 } else { fake_neighbours as f64 / nb.len() as f64 },
                path_to_fake_seed: paths.path(graph, v),
                shared: attributes.map(|a| a.shared(&id, &index)).unwrap_or_default(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tests_support::two_cliques;
    use crate::Method;

    #[test]
    fn top_fake_has_a_path_to_the_seed_and_a_fake_neighbourhood() {
        let (g, seeds) = two_cliques();
        let scores = Method::Triad.rank(&g, &seeds);
        let order = crate::order(&g, &scores);
        let ev = explain(&g, &scores, &order, &seeds.fake, &seeds.labels(g.node_count()), 4, 3, None);
        assert_eq!(ev.len(), 3);
        let first = &ev[0];
        assert_eq!(first.path_to_fake_seed.last().map(String::as_str), Some("9"));
        assert!(first.fake_fraction > 0.5, "{first:?}");
    }
}
