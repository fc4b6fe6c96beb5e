//! The inner loop every method shares: one pull-style sparse matrix–vector step over
//! the CSR, `out[v] = finish(v, Σ_{e=(v,u)} w_e · x[u])`.
//!
//! Why it is shaped so (measured with `bench/accounts.sh`, see BENCHMARKS.md):
//! - Pull, not push: each account's value is written by one task only, so there are no
//!   atomics and the sum over a row is always taken in the same order.
//! - `f32` values: half the bytes of `f64` gathered per entry; the AUCs of
//!   `takedown accounts eval` did not move (BENCHMARKS.md).
//! - Four running sums per row: one sum would chain every addition on the previous one
//!   (a few cycles each), more than a cache-resident gather costs.
//! - Work in fixed blocks of rows of about [`crate::csr::BLOCK_ENTRIES`] entries, so a
//!   hub's row does not leave one thread with most of the step; the per-block changes
//!   are added in block order, so the convergence test does not depend on the thread count.
//! - No division or branch per entry: the caller passes `1 / degree` in `finish`.

use crate::csr::{blocks, BLOCK_ENTRIES};
use crate::graph::Graph;
use rayon::prelude::*;
use std::ops::Range;

/// Blocks of rows of one graph, computed once per propagation.
pub struct Steps<'g> {
    graph: &'g Graph,
    blocks: Vec<Range<usize>>,
}

impl<'g> Steps<'g> {
    pub fn new(graph: &'g Graph) -> Steps<'g> {
        Steps { graph, blocks: blocks(graph.offsets(), BLOCK_ENTRIES) }
    }

    /// One step from `x` into `out`; returns `Σ_v |out[v] − x[v]|`, added in block order.
    /// `weights`, when given, holds one weight per adjacency entry.
    pub fn step<F>(&self, x: &[f32], out: &mut [f32], weights: Option<&[f32]>, finish: F) -> f64
    where
        F: Fn(usize, f32) -> f32 + Sync,
    {
        let offsets = self.graph.offsets();
        let targets = self.graph.targets();
        let mut pieces: Vec<(&Range<usize>, &mut [f32])> = Vec::with_capacity(self.blocks.len());
        let mut rest = out;
        for b in &self.blocks {
            let (piece, tail) = rest.split_at_mut(b.len());
            pieces.push((b, piece));
            rest = tail;
        }
        let changes: Vec<f64> = pieces
            .into_par_iter()
            .map(|(nodes, piece)| {
                let mut change = 0.0f64;
                for (v, o) in nodes.clone().zip(piece.iter_mut()) {
                    let row = offsets[v] as usize..offsets[v + 1] as usize;
                    let sum = match weights {
                        None => gather(&targets[row], x),
                        Some(w) => gather_weighted(&targets[row.clone()], &w[row], x),
                    };
                    let value = finish(v, sum);
                    change += (value - x[v]).abs() as f64;
                    *o = value;
                }
                change
            })
            .collect();
        changes.iter().sum()
    }
}

/// `Σ x[u]` over a row, in four running sums.
#[inline]
fn gather(row: &[u32], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let mut quads = row.chunks_exact(4);
    for q in &mut quads {
        acc[0] += x[q[0] as usize];
        acc[1] += x[q[1] as usize];
        acc[2] += x[q[2] as usize];
        acc[3] += x[q[3] as usize];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &u in quads.remainder() {
        s += x[u as usize];
    }
    s
}

/// `Σ w_e · x[u]` over a row, in four running sums.
#[inline]
fn gather_weighted(row: &[u32], w: &[f32], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    let mut quads = row.chunks_exact(4);
    let mut wq = w.chunks_exact(4);
    for (q, k) in (&mut quads).zip(&mut wq) {
        acc[0] += k[0] * x[q[0] as usize];
        acc[1] += k[1] * x[q[1] as usize];
        acc[2] += k[2] * x[q[2] as usize];
        acc[3] += k[3] * x[q[3] as usize];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (&u, &k) in quads.remainder().iter().zip(wq.remainder()) {
        s += k * x[u as usize];
    }
    s
}

/// `1 / d` per account for row sums `d` (0 where `d` is 0: an isolated account keeps
/// only its prior).
pub fn inverses(d: impl IndexedParallelIterator<Item = f64>) -> Vec<f32> {
    d.map(|d| if d > 0.0 { (1.0 / d) as f32 } else { 0.0 }).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sums_match_a_plain_loop_in_any_block_split() {
        let mut rng = crate::eval::Rng::new(3);
        let edges: Vec<(u32, u32)> = (0..5000).map(|_| (rng.below(300) as u32, rng.below(300) as u32)).collect();
        let g = Graph::from_numbered(300, edges);
        let x: Vec<f32> = (0..300).map(|i| (i % 7) as f32).collect();
        let w: Vec<f32> = (0..g.entries()).map(|e| (e % 3) as f32).collect();
        let steps = Steps::new(&g);
        let mut out = vec![0.0f32; 300];
        steps.step(&x, &mut out, Some(&w), |_, s| s);
        for v in 0..300u32 {
            let want: f32 = g.neighbours(v).iter().zip(&w[g.entry_range(v)]).map(|(&u, &k)| k * x[u as usize]).sum();
            assert!((out[v as usize] - want).abs() <= 1e-3 * want.abs().max(1.0), "{v}");
        }
        let change = steps.step(&x, &mut out, None, |v, _| x[v] + 1.0);
        assert_eq!(change, 300.0);
    }
}
