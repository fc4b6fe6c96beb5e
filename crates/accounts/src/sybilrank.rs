//! SybilRank (Cao, Sirivianos, Yang, Pregueiro, NSDI 2012): trust from known real
//! accounts spreads by early-terminated power iteration, ⌈log₂ n⌉ steps, and each
//! account is ranked by its degree-normalised trust. Only the real seeds are used,
//! as in the paper; the fake seeds play no part.

use crate::graph::Graph;
use crate::propagation::{inverses, Steps};
use crate::seeds::Seeds;
use crate::values::ValueArray;
use rayon::prelude::*;

/// Degree-normalised trust after `iterations` steps (the paper: ⌈log₂ n⌉).
///
/// The walk `t ← Σ_u t[u] / d(u)` is run on the normalised trust `s = t / d` itself,
/// `s ← (1 / d(v)) · Σ_u s[u]`: the same values, with no division per entry and no
/// separate pass to compute each account's share.
pub fn trust(graph: &Graph, sources: &[u32], iterations: usize) -> Vec<f32> {
    let n = graph.node_count();
    let mut s = vec![0.0f32; n];
    if sources.is_empty() {
        return s;
    }
    let inv = inverses((0..n).into_par_iter().map(|v| graph.degree(v as u32) as f64));
    // Total trust n, as in the paper, so that values stay near 1 whatever the size.
    let each = n as f64 / sources.len() as f64;
    for &v in sources {
        s[v as usize] = (each * inv[v as usize] as f64) as f32;
    }
    let steps = Steps::new(graph);
    let mut s = ValueArray::from_slice(&s);
    let mut next = ValueArray::zeroed(n);
    for _ in 0..iterations {
        steps.step(&s, &mut next, None, |v, sum| inv[v] * sum);
        std::mem::swap(&mut s, &mut next);
    }
    s.to_vec()
}

pub fn iterations_for(n: usize) -> usize {
    (n.max(2) as f64).log2().ceil() as usize
}

/// Scores, higher = more likely fake: the negated degree-normalised trust.
pub fn rank(graph: &Graph, seeds: &Seeds) -> Vec<f64> {
    let t = trust(graph, &seeds.real, iterations_for(graph.node_count()));
    t.into_iter().map(|x| -(x as f64)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::tests_support::two_cliques;

    #[test]
    fn real_region_gets_the_trust() {
        let (g, seeds) = two_cliques();
        let s = rank(&g, &seeds);
        // 0..5 real, 5..10 fake, one attack edge 4-5.
        assert!(s[1] < s[7], "{s:?}");
        assert!(s[3] < s[9]);
    }
}
