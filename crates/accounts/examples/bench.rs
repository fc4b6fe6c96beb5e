//! Speed on a synthetic R-MAT graph from a fixed seed: build time, time per edge and
//! iteration of each method, adjacency bytes per edge. Peak memory comes from running
//! it under `/usr/bin/time -v` (see `bench/accounts.sh`).
//!
//! `cargo run --release -p takedown-accounts --example bench -- EDGES [SCALE]`
use rayon::prelude::*;
use std::time::Instant;
use takedown_accounts::eval::Rng;
use takedown_accounts::{sybilrank, sybilscar, triad, Graph, Node, Seeds};

/// R-MAT (Chakrabarti, Zhan, Faloutsos 2004) with the Graph500 parameters
/// a = 0.57, b = c = 0.19: a skewed degree distribution like a social graph's.
fn rmat(scale: u32, edges: usize, seed: u64) -> Vec<(Node, Node)> {
    // Chunks of a million edges, each from its own RNG stream: the same graph whatever
    // the number of threads.
    // Filled in place, chunk by chunk: a billion edges take 8 GB and no more.
    const CHUNK: usize = 1 << 20;
    let mut out = vec![(0 as Node, 0 as Node); edges];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, chunk)| {
        let mut rng = Rng::new(seed.wrapping_mul(0x1_0000_0001).wrapping_add(c as u64));
        for e in chunk {
            let (mut a, mut b) = (0u32, 0u32);
            for _ in 0..scale {
                let r = rng.below(100);
                let (x, y) = if r < 57 {
                    (0, 0)
                } else if r < 76 {
                    (0, 1)
                } else if r < 95 {
                    (1, 0)
                } else {
                    (1, 1)
                };
                a = a << 1 | x;
                b = b << 1 | y;
            }
            *e = (a, b);
        }
    });
    out
}

/// Processor time this process has used so far (user + system), from `/proc/self/stat`,
/// to report time per entry that does not count waiting for a busy machine's cores.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Clock ticks of 1/100 s on Linux.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let m: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    // Average degree about 16 as in Graph500 unless the scale is given.
    let scale: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(((m / 8) as f64).log2().ceil() as u32);
    let threads = rayon::current_num_threads();
    let t = Instant::now();
    let edges = rmat(scale, m, 42);
    let gen = t.elapsed();
    let t = Instant::now();
    let g = Graph::from_numbered(1usize << scale, edges);
    let build = t.elapsed();
    let e = g.edge_count();
    println!(
        "R-MAT scale {scale}, {m} generated edges ({:.1} s): {} accounts, {e} distinct undirected edges; CSR build {:.2} s; graph {:.2} bytes/edge ({:.2} bytes/edge + {:.2} bytes/account); {threads} threads",
        gen.as_secs_f64(),
        g.node_count(),
        build.as_secs_f64(),
        g.adjacency_bytes() as f64 / e as f64,
        (g.entries() * 4) as f64 / e as f64,
        (g.adjacency_bytes() - g.entries() * 4) as f64 / g.node_count() as f64,
    );
    let pick = |off: u64| -> Vec<Node> {
        let mut r = Rng::new(7 + off);
        let mut v: Vec<Node> = (0..100).map(|_| r.below(g.node_count() as u64) as Node).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let fake = pick(0);
    let real: Vec<Node> = pick(1).into_iter().filter(|x| fake.binary_search(x).is_err()).collect();
    let seeds = Seeds { fake, real, ..Seeds::default() };
    // Each adjacency entry (both directions of an edge) is read once per iteration.
    let entries = g.entries() as f64;
    // Wall time x threads (the figure the goal is stated in), and processor time, which
    // leaves out the time other processes held the cores.
    let report = |name: &str, wall: f64, cpu: f64, iterations: usize| {
        let per = entries * iterations as f64;
        println!(
            "{name:<24} {wall:>7.2} s {iterations:>3} iterations {:>6.2} ns/entry-iteration {:>6.2} core-ns (wall x threads) {:>6.2} cpu-ns",
            wall * 1e9 / per,
            wall * 1e9 * threads as f64 / per,
            cpu * 1e9 / per,
        );
    };
    let (t, c) = (Instant::now(), cpu_seconds());
    let k = sybilrank::iterations_for(g.node_count());
    let _ = sybilrank::trust(&g, &seeds.real, k);
    report("sybilrank", t.elapsed().as_secs_f64(), cpu_seconds() - c, k);
    let (t, c) = (Instant::now(), cpu_seconds());
    let (_, rounds) = sybilscar::propagate_rounds(&g, &seeds, None);
    report("sybilscar", t.elapsed().as_secs_f64(), cpu_seconds() - c, rounds);
    let (t, c) = (Instant::now(), cpu_seconds());
    let w = triad::triangle_weights(&g);
    println!(
        "{:<24} {:>7.2} s (once per graph) {:.2} s cpu",
        "triad: triangle weights",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c
    );
    let (t, c) = (Instant::now(), cpu_seconds());
    let (_, rounds) = sybilscar::propagate_rounds(&g, &seeds, Some(&w));
    report("triad: propagation", t.elapsed().as_secs_f64(), cpu_seconds() - c, rounds);
}
