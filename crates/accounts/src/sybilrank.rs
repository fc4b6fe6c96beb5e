//! SybilRank (Cao, Sirivianos, Yang, Pregueiro, NSDI 2012): trust from known real
//! accounts spreads by early-terminated power iteration, ⌈log₂ n⌉ steps, and each
//! account is ranked by its degree-normalised trust. Only the real seeds are used,
//! as in the paper; the fake seeds play no part.

use crate::graph::Graph;
use crate::seeds::Seeds;
use rayon::prelude::*;

/// Degree-normalised trust after `iterations` steps (the paper: ⌈log₂ n⌉).
pub fn trust(graph: &Graph, sources: &[u32], iterations: usize) -> Vec<f64> {
    let n = graph.node_count();
    let mut t = vec![0.0f64; n];
    if sources.is_empty() {
        return t;
    }
    let each = n as f64 / sources.len() as f64;
    for &s in sources {
        t[s as usize] = each;
    }
    // Pull form: each account sums what its neighbours send, so rows are written by
    // one thread each and the result does not depend on the thread count.
    let mut share = vec![0.0f64; n];
    for _ in 0..iterations {
        share.par_iter_mut().enumerate().for_each(|(u, s)| {
            let d = graph.degree(u as u32);
            *s = if d == 0 { 0.0 } else { t[u] / d as f64 };
        });
        t.par_iter_mut().enumerate().for_each(|(v, tv)| {
            *tv = graph.neighbours(v as u32).iter().map(|&u| share[u as usize]).sum();
        });
    }
    t.par_iter_mut().enumerate().for_each(|(v, tv)| {
        let d = graph.degree(v as u32);
        *tv = if d == 0 { 0.0 } else { *tv / d as f64 };
    });
    t
}

pub fn iterations_for(n: usize) -> usize {
    (n.max(2) as f64).log2().ceil() as usize
}

/// Scores, higher = more likely fake: the negated degree-normalised trust.
pub fn rank(graph: &Graph, seeds: &Seeds) -> Vec<f64> {
    let t = trust(graph, &seeds.real, iterations_for(graph.node_count()));
    t.into_iter().map(|x| -x).collect()
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
