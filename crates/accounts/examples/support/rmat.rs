//! Shared by the benchmark examples: the synthetic graph and a processor clock.
use rayon::prelude::*;
use takedown_accounts::eval::Rng;
use takedown_accounts::Node;

/// R-MAT (Chakrabarti, Zhan, Faloutsos 2004) with the Graph500 parameters
/// a = 0.57, b = c = 0.19: a skewed degree distribution like a social graph's.
pub fn rmat(scale: u32, edges: usize, seed: u64) -> Vec<(Node, Node)> {
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
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses): utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Clock ticks of 1/100 s on Linux.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}
