//! What bounds the propagation step: the time of one random read of an `f32` from a
//! value array of a given size (what each adjacency entry costs when its neighbour's
//! value is not in cache), against sequential reads, on one thread and on all.
//!
//! `cargo run --release -p takedown-accounts --example gather`
// Only the processor clock is used here.
#[allow(dead_code)]
#[path = "support/rmat.rs"]
mod rmat;

use rayon::prelude::*;
use rmat::cpu_seconds;
use std::time::Instant;
use takedown_accounts::eval::Rng;

fn main() {
    const READS: usize = 1 << 25;
    let mut rng = Rng::new(5);
    let raw: Vec<u32> = (0..READS).map(|_| rng.next_u64() as u32).collect();
    println!("ns per read (median of 5), {READS} reads; random = uniform indices, sequential = 0, 1, 2, ...");
    for values in [1usize << 16, 1 << 18, 1 << 19, 1 << 21, 1 << 24] {
        let x: Vec<f32> = (0..values).map(|i| (i % 13) as f32).collect();
        let random: Vec<u32> = raw.iter().map(|&r| r % values as u32).collect();
        let sequential: Vec<u32> = (0..READS).map(|i| (i % values) as u32).collect();
        let mut cells = Vec::new();
        for idx in [&random, &sequential] {
            for threads in [1, rayon::current_num_threads()] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
                let mut walls = Vec::new();
                let mut cpus = Vec::new();
                for _ in 0..5 {
                    let (t, c) = (Instant::now(), cpu_seconds());
                    let s: f32 = pool.install(|| idx.par_chunks(1 << 16).map(|ch| sum(ch, &x)).sum());
                    std::hint::black_box(s);
                    walls.push(t.elapsed().as_secs_f64() * 1e9 * threads as f64 / READS as f64);
                    cpus.push((cpu_seconds() - c) * 1e9 / READS as f64);
                }
                walls.sort_by(f64::total_cmp);
                cpus.sort_by(f64::total_cmp);
                cells.push(format!("{threads} thr {:.2} core-ns {:.2} cpu-ns", walls[2], cpus[2]));
            }
        }
        println!(
            "{:>6} KiB of values: random {} | {}; sequential {} | {}",
            values * 4 / 1024,
            cells[0],
            cells[1],
            cells[2],
            cells[3]
        );
        // The same random reads from memory advised to use 2 MiB pages.
        let mut map = memmap2::MmapMut::map_anon(values * 4 + (2 << 20)).expect("map");
        map.advise(memmap2::Advice::HugePage).expect("advise");
        let skip = (2 << 20) - (map.as_ptr() as usize) % (2 << 20);
        let bytes = &mut map[skip..skip + values * 4];
        for (i, c) in bytes.chunks_exact_mut(4).enumerate() {
            c.copy_from_slice(&((i % 13) as f32).to_ne_bytes());
        }
        let bytes = &*bytes;
        let mut walls = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let s: f32 = random.chunks(1 << 16).map(|ch| sum_bytes(ch, bytes)).sum();
            std::hint::black_box(s);
            walls.push(t.elapsed().as_secs_f64() * 1e9 / READS as f64);
        }
        walls.sort_by(f64::total_cmp);
        let huge = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
        let huge = huge.lines().find(|l| l.starts_with("AnonHugePages")).unwrap_or("").to_string();
        println!("        2 MiB pages: random 1 thr {:.2} ns ({huge})", walls[2]);
    }
}

fn sum(idx: &[u32], x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    for q in idx.chunks_exact(4) {
        acc[0] += x[q[0] as usize];
        acc[1] += x[q[1] as usize];
        acc[2] += x[q[2] as usize];
        acc[3] += x[q[3] as usize];
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}

fn sum_bytes(idx: &[u32], x: &[u8]) -> f32 {
    let get = |u: u32| {
        let i = u as usize * 4;
        match x.get(i..i + 4) {
            Some(b) => f32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
            None => 0.0,
        }
    };
    let mut acc = [0.0f32; 4];
    for q in idx.chunks_exact(4) {
        acc[0] += get(q[0]);
        acc[1] += get(q[1]);
        acc[2] += get(q[2]);
        acc[3] += get(q[3]);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3])
}
