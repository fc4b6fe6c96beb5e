//! Speed on a synthetic R-MAT graph from a fixed seed: build time, time per edge and
//! iteration of each method, adjacency bytes per edge. Peak memory comes from running
//! it under `/usr/bin/time -v` (see `bench/accounts.sh`).
//!
//! `cargo run --release -p takedown-accounts --example bench -- EDGES [SCALE] [--methods LIST]`
//!
//! `LIST` (comma-separated, default `sybilrank,sybilscar,triad`) picks the methods to
//! time: triad's triangle weights grow faster than the edges (R-MAT's hubs), so the
//! billion-edge run can leave them out.
#[path = "support/rmat.rs"]
mod rmat;

use rayon::prelude::*;
use rmat::{cpu_seconds, rmat};
use std::time::Instant;
use takedown_accounts::eval::Rng;
use takedown_accounts::{sybilrank, sybilscar, triad, Graph, Node, Seeds};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut methods = vec!["sybilrank".to_string(), "sybilscar".to_string(), "triad".to_string()];
    if let Some(i) = args.iter().position(|a| a == "--methods") {
        let Some(list) = args.get(i + 1) else {
            eprintln!("--methods needs a comma-separated list of sybilrank, sybilscar, triad");
            std::process::exit(2);
        };
        methods = list.split(',').map(str::to_string).collect();
        if let Some(bad) = methods.iter().find(|m| !["sybilrank", "sybilscar", "triad"].contains(&m.as_str())) {
            eprintln!("--methods: unknown method {bad:?}; the methods are sybilrank, sybilscar, triad");
            std::process::exit(2);
        }
        args.drain(i..i + 2);
    }
    let timed = |name: &str| methods.iter().any(|m| m == name);
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
    // Where the reads of a propagation step go: accounts are numbered by decreasing
    // degree, so the share of adjacency entries whose neighbour is among the first k
    // accounts says how much of the value array a step mostly reads (4k bytes in f32).
    let with_friends = (0..g.node_count() as Node).filter(|&v| g.degree(v) > 0).count();
    let shares: Vec<String> = [1usize << 16, 1 << 18, 1 << 20, 1 << 22]
        .iter()
        .filter(|&&k| k < with_friends)
        .map(|&k| {
            let hot = g.targets().par_iter().filter(|&&u| (u as usize) < k).count();
            format!("{:.3} to the first {k} ({} KiB)", hot as f64 / g.entries() as f64, k * 4 / 1024)
        })
        .collect();
    println!("{with_friends} accounts with friends; share of entries: {}", shares.join(", "));
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
    if timed("sybilrank") {
        let (t, c) = (Instant::now(), cpu_seconds());
        let k = sybilrank::iterations_for(g.node_count());
        let _ = sybilrank::trust(&g, &seeds.real, k);
        report("sybilrank", t.elapsed().as_secs_f64(), cpu_seconds() - c, k);
    }
    if timed("sybilscar") {
        let (t, c) = (Instant::now(), cpu_seconds());
        let (_, rounds) = sybilscar::propagate_rounds(&g, &seeds, None);
        report("sybilscar", t.elapsed().as_secs_f64(), cpu_seconds() - c, rounds);
    }
    if timed("triad") {
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
}
