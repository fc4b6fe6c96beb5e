//! Building the compressed sparse rows in little more memory than the result, and the
//! degree order accounts are numbered in.
//!
//! Numbering: accounts are renumbered by decreasing degree (ties by first appearance),
//! so that the hubs, whose values every propagation step reads most often, sit together
//! at the front of each per-account array (they stay in cache), and so that "lower
//! number" is a degree order, which is what triangle counting orients edges by
//! ([`crate::triad::triangle_weights`]). On the 10 M-edge R-MAT graph of
//! `bench/accounts.sh` the renumbering made each propagation step faster (see BENCHMARKS.md).
//!
//! Memory: the edge list (8 bytes an edge) is renumbered in place, then scattered into
//! the adjacency (4 bytes an entry, two entries an edge) through one atomic cursor per
//! account, then each row is sorted and its duplicates dropped in place. The peak is the
//! edge list plus the adjacency plus 16 bytes an account: a billion edges fit in 24 GiB.

use crate::graph::Node;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Entries per block of rows: the unit of parallel work in building and propagating.
/// Large enough that the per-block overhead vanishes, small enough for many blocks.
pub const BLOCK_ENTRIES: u64 = 1 << 15;

/// Degree order: `new_of[old]` is the new number of each account, hubs first, and
/// `counts[new]` its number of adjacency entries counting duplicate edges (the order
/// only needs to be roughly by degree). Self-loops are not counted.
pub fn degree_order(n: usize, edges: &[(Node, Node)]) -> (Vec<Node>, Vec<u32>) {
    let counts: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
    edges.par_iter().with_min_len(1 << 14).for_each(|&(a, b)| {
        if a != b {
            counts[a as usize].fetch_add(1, Relaxed);
            counts[b as usize].fetch_add(1, Relaxed);
        }
    });
    let counts: Vec<u32> = counts.into_iter().map(AtomicU32::into_inner).collect();
    let mut order: Vec<Node> = (0..n as Node).collect();
    // The key is unique (the number breaks ties), so the unstable sort is deterministic.
    order.par_sort_unstable_by_key(|&v| (std::cmp::Reverse(counts[v as usize]), v));
    let mut new_of = vec![0 as Node; n];
    let mut sorted_counts = vec![0u32; n];
    for (new, &old) in order.iter().enumerate() {
        new_of[old as usize] = new as Node;
        sorted_counts[new] = counts[old as usize];
    }
    (new_of, sorted_counts)
}

/// Renumbers `edges` in place.
pub fn renumber(edges: &mut [(Node, Node)], new_of: &[Node]) {
    edges.par_iter_mut().with_min_len(1 << 14).for_each(|e| {
        *e = (new_of[e.0 as usize], new_of[e.1 as usize]);
    });
}

/// Undirected CSR of `edges` (both directions, rows sorted, duplicates and self-loops
/// dropped); `counts[v]` bounds row `v`'s length as [`degree_order`] gives it.
pub fn build(counts: &[u32], edges: &[(Node, Node)]) -> (Vec<u64>, Vec<Node>) {
    let n = counts.len();
    let mut offsets = vec![0u64; n + 1];
    for (v, &c) in counts.iter().enumerate() {
        offsets[v + 1] = offsets[v] + c as u64;
    }
    let cursor: Vec<AtomicU64> = offsets[..n].iter().map(|&o| AtomicU64::new(o)).collect();
    let slots: Vec<AtomicU32> = (0..offsets[n]).map(|_| AtomicU32::new(0)).collect();
    edges.par_iter().with_min_len(1 << 14).for_each(|&(a, b)| {
        if a != b {
            slots[cursor[a as usize].fetch_add(1, Relaxed) as usize].store(b, Relaxed);
            slots[cursor[b as usize].fetch_add(1, Relaxed) as usize].store(a, Relaxed);
        }
    });
    drop(cursor);
    // Same size and alignment: collected in place, no second copy.
    let mut targets: Vec<Node> = slots.into_iter().map(AtomicU32::into_inner).collect();
    // Sort and deduplicate each row inside its block, then close the gaps block by block.
    let blocks = blocks(&offsets, BLOCK_ENTRIES);
    let mut pieces: Vec<(Range<usize>, &mut [Node])> = Vec::with_capacity(blocks.len());
    let mut rest: &mut [Node] = &mut targets;
    for b in &blocks {
        let len = (offsets[b.end] - offsets[b.start]) as usize;
        let (piece, tail) = rest.split_at_mut(len);
        pieces.push((b.clone(), piece));
        rest = tail;
    }
    let kept: Vec<(usize, Vec<u32>)> = pieces
        .into_par_iter()
        .map(|(nodes, piece)| {
            let base = offsets[nodes.start] as usize;
            let mut write = 0;
            let mut degrees = Vec::with_capacity(nodes.len());
            for v in nodes {
                let row = offsets[v] as usize - base..offsets[v + 1] as usize - base;
                piece[row.clone()].sort_unstable();
                let start = write;
                for i in row {
                    let x = piece[i];
                    if write == start || piece[write - 1] != x {
                        piece[write] = x;
                        write += 1;
                    }
                }
                degrees.push((write - start) as u32);
            }
            (write, degrees)
        })
        .collect();
    // Block starts before the offsets are rewritten below.
    let starts: Vec<usize> = blocks.iter().map(|b| offsets[b.start] as usize).collect();
    let mut write = 0usize;
    let mut v = 0usize;
    for (start, (len, degrees)) in starts.into_iter().zip(kept) {
        targets.copy_within(start..start + len, write);
        write += len;
        for d in degrees {
            offsets[v + 1] = offsets[v] + d as u64;
            v += 1;
        }
    }
    targets.truncate(write);
    targets.shrink_to_fit();
    (offsets, targets)
}

/// Ranges of rows holding about `per_block` entries each (a row longer than that is a
/// block of its own). Fixed by the graph alone, so work split this way and results
/// combined in block order do not depend on the number of threads.
pub fn blocks(offsets: &[u64], per_block: u64) -> Vec<Range<usize>> {
    let n = offsets.len() - 1;
    let total = offsets[n];
    let mut out = Vec::with_capacity((total / per_block) as usize + 1);
    let mut start = 0usize;
    while start < n {
        let goal = offsets[start] + per_block;
        // First row boundary at or past the goal, at least one row on.
        let end = offsets.partition_point(|&o| o < goal).clamp(start + 1, n);
        out.push(start..end);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubs_first_and_rows_deduplicated() {
        let mut edges = vec![(3, 1), (3, 2), (3, 0), (1, 3), (2, 2), (0, 1)];
        let (new_of, counts) = degree_order(4, &edges);
        assert_eq!(new_of[3], 0, "most edges");
        assert!(counts.windows(2).all(|w| w[0] >= w[1]));
        renumber(&mut edges, &new_of);
        let (offsets, targets) = build(&counts, &edges);
        assert_eq!(targets.len(), 8, "4 distinct edges, both directions");
        for v in 0..4 {
            let row = &targets[offsets[v] as usize..offsets[v + 1] as usize];
            assert!(row.windows(2).all(|w| w[0] < w[1]), "{row:?}");
            assert!(!row.contains(&(v as Node)));
        }
    }

    #[test]
    fn blocks_cover_every_row_once() {
        let offsets = [0, 5, 5, 100, 101, 102, 103, 104, 105];
        let b = blocks(&offsets, 3);
        assert_eq!(b.first().map(|r| r.start), Some(0));
        assert_eq!(b.last().map(|r| r.end), Some(8));
        assert!(b.windows(2).all(|w| w[0].end == w[1].start && w[0].start < w[0].end));
    }
}
