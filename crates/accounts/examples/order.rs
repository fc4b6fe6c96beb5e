//! Side by side, in one process and on one graph: the propagation step on the degree
//! numbering and on other numberings of the same R-MAT graph, alternated round by round
//! so that both see the same machine state. Prints the median over the rounds of
//! core-ns (wall time x threads) and cpu-ns per adjacency entry and iteration.
//!
//! `cargo run --release -p takedown-accounts --example order -- EDGES ROUNDS HUBS...`
//! (`HUBS` = accounts kept in degree order before the breadth-first numbering).
#[path = "support/rmat.rs"]
mod rmat;

use rmat::{cpu_seconds, rmat};
use std::time::Instant;
use takedown_accounts::eval::Rng;
use takedown_accounts::{sybilrank, sybilscar, triad, Graph, Node, Seeds};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let m: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let rounds: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let hubs: Vec<usize> = args.iter().skip(2).filter_map(|s| s.parse().ok()).collect();
    let scale = ((m / 8) as f64).log2().ceil() as u32;
    let threads = rayon::current_num_threads();
    let base = Graph::from_numbered(1usize << scale, rmat(scale, m, 42));
    let mut graphs = vec![("degree".to_string(), base.clone())];
    for &h in &hubs {
        let t = Instant::now();
        let g = base.clone().clustered(h);
        println!("clustered, {h} hubs: renumbered in {:.2} s", t.elapsed().as_secs_f64());
        graphs.push((format!("clustered {h}"), g));
    }
    drop(base);
    // The same accounts (by their generated numbers) as seeds in every numbering.
    let pick = |off: u64| -> Vec<u32> {
        let mut r = Rng::new(7 + off);
        (0..100).map(|_| r.below(1 << scale) as u32).collect()
    };
    let (fake_numbers, real_numbers) = (pick(0), pick(1));
    let entries = graphs[0].1.entries() as f64;
    let mut weights = Vec::new();
    for (name, g) in &graphs {
        let (t, c) = (Instant::now(), cpu_seconds());
        weights.push(triad::triangle_weights(g));
        println!("{name:<16} triangle weights {:.2} s wall {:.2} s cpu", t.elapsed().as_secs_f64(), cpu_seconds() - c);
    }
    let seeds: Vec<Seeds> = graphs
        .iter()
        .map(|(_, g)| {
            let map = |xs: &[u32]| -> Vec<Node> {
                let mut v: Vec<Node> = xs.iter().filter_map(|x| g.node(&x.to_string())).collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let fake = map(&fake_numbers);
            let real = map(&real_numbers).into_iter().filter(|x| fake.binary_search(x).is_err()).collect();
            Seeds { fake, real, ..Seeds::default() }
        })
        .collect();
    // [graph][method] -> samples of (core-ns, cpu-ns)
    let mut samples = vec![vec![Vec::new(); 3]; graphs.len()];
    for _ in 0..rounds {
        for (i, (_, g)) in graphs.iter().enumerate() {
            let k = 10;
            let (t, c) = (Instant::now(), cpu_seconds());
            let _ = sybilrank::trust(g, &seeds[i].real, k);
            samples[i][0].push(per(t, c, entries * k as f64, threads));
            let (t, c) = (Instant::now(), cpu_seconds());
            let (_, r) = sybilscar::propagate_rounds(g, &seeds[i], None);
            samples[i][1].push(per(t, c, entries * r as f64, threads));
            let (t, c) = (Instant::now(), cpu_seconds());
            let (_, r) = sybilscar::propagate_rounds(g, &seeds[i], Some(&weights[i]));
            samples[i][2].push(per(t, c, entries * r as f64, threads));
        }
    }
    println!("medians of {rounds} rounds, per adjacency entry and iteration (core-ns / cpu-ns); {threads} threads");
    for (i, (name, _)) in graphs.iter().enumerate() {
        let cell = |s: &Vec<(f64, f64)>| {
            let mut a: Vec<f64> = s.iter().map(|x| x.0).collect();
            let mut b: Vec<f64> = s.iter().map(|x| x.1).collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            format!("{:>5.2} / {:>5.2}", a[a.len() / 2], b[b.len() / 2])
        };
        println!(
            "{name:<16} sybilrank {}  sybilscar {}  triad {}",
            cell(&samples[i][0]),
            cell(&samples[i][1]),
            cell(&samples[i][2])
        );
    }
}

fn per(t: Instant, c: f64, work: f64, threads: usize) -> (f64, f64) {
    (t.elapsed().as_secs_f64() * 1e9 * threads as f64 / work, (cpu_seconds() - c) * 1e9 / work)
}
