//! The standard evaluation protocol: an honest region, an exact copy of it as the fake
//! region, `g` attack edges placed uniformly at random between them, seeds drawn at
//! random from each side, and the AUC over every account that is not a seed.

use crate::graph::{Graph, Node};
use crate::seeds::Seeds;
use crate::Method;

/// SplitMix64: small, fixed and portable, so that a run is the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0), by rejection so that there is no bias.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let x = self.next_u64();
            if x < zone {
                return x % n;
            }
        }
    }
}

/// Labels of a two-region graph: `true` = fake.
#[derive(Debug, Clone)]
pub struct Truth {
    pub fake: Vec<bool>,
}

/// The honest graph as numbered edges `(a, b)` with `a < b`, and its node count.
#[derive(Debug, Clone)]
pub struct Region {
    pub n: usize,
    pub edges: Vec<(Node, Node)>,
}

impl Region {
    /// Reads a numbered graph as a region (ids must be `0..n`, as SNAP files are).
    pub fn from_graph(g: &Graph) -> Option<Region> {
        let n = g.node_count();
        let mut map = vec![0 as Node; n];
        for v in 0..n as Node {
            let id: usize = g.id(v).parse().ok()?;
            if id >= n {
                return None;
            }
            map[v as usize] = id as Node;
        }
        let mut edges = Vec::with_capacity(g.edge_count());
        for v in 0..n as Node {
            for &u in g.neighbours(v) {
                if v < u {
                    edges.push((map[v as usize], map[u as usize]));
                }
            }
        }
        Some(Region { n, edges })
    }
}

/// A ring of `k` cliques of `size` accounts, each joined to the next: a small region
/// with community structure, for tests.
pub fn ring_of_cliques(k: usize, size: usize) -> Region {
    let mut edges = Vec::new();
    for c in 0..k {
        let base = (c * size) as Node;
        for a in 0..size as Node {
            for b in a + 1..size as Node {
                edges.push((base + a, base + b));
            }
        }
        edges.push((base, (((c + 1) % k) * size) as Node + 1));
    }
    Region { n: k * size, edges }
}

/// Honest region `0..n`, its copy `n..2n` as the fake region, and `attack` distinct
/// random edges between them.
pub fn sybil_copy(region: &Region, attack: usize, seed: u64) -> (Graph, Truth) {
    let n = region.n;
    let mut edges = region.edges.clone();
    edges.extend(region.edges.iter().map(|&(a, b)| (a + n as Node, b + n as Node)));
    let mut rng = Rng::new(seed);
    let mut seen = std::collections::HashSet::new();
    let attack = attack.min(n * n);
    while seen.len() < attack {
        let a = rng.below(n as u64) as Node;
        let b = rng.below(n as u64) as Node + n as Node;
        if seen.insert((a, b)) {
            edges.push((a, b));
        }
    }
    let g = Graph::from_numbered(2 * n, edges);
    let fake = (0..g.node_count() as Node).map(|v| g.number(v).is_some_and(|x| x as usize >= n)).collect();
    (g, Truth { fake })
}

/// `k` real and `k` fake seeds drawn at random without replacement.
pub fn pick_seeds(g: &Graph, truth: &Truth, k: usize, seed: u64) -> Seeds {
    let mut rng = Rng::new(seed ^ 0x5EED);
    let mut pick = |want_fake: bool| {
        let mut pool: Vec<Node> =
            (0..g.node_count() as Node).filter(|&v| truth.fake[v as usize] == want_fake).collect();
        // In the order of the numbers as given, so that the draw does not depend on
        // how the graph numbers its accounts internally.
        pool.sort_by_key(|&v| g.number(v).unwrap_or(v));
        // Partial Fisher–Yates.
        let k = k.min(pool.len());
        for i in 0..k {
            let j = i + rng.below((pool.len() - i) as u64) as usize;
            pool.swap(i, j);
        }
        pool.truncate(k);
        pool.sort_unstable();
        pool
    };
    let fake = pick(true);
    let real = pick(false);
    Seeds { fake, real, ..Seeds::default() }
}

/// Area under the ROC curve: the probability that a random fake outranks a random
/// real account (ties count one half), over the accounts where `include` holds.
pub fn auc(scores: &[f64], fake: &[bool], include: &[bool]) -> f64 {
    let mut items: Vec<(f64, bool)> = (0..scores.len()).filter(|&i| include[i]).map(|i| (scores[i], fake[i])).collect();
    items.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut positives) = (0.0f64, 0u64);
    let mut i = 0;
    while i < items.len() {
        let mut j = i;
        while j < items.len() && items[j].0 == items[i].0 {
            j += 1;
        }
        let mid = (i + j + 1) as f64 / 2.0; // mean of ranks i+1..=j
        for it in &items[i..j] {
            if it.1 {
                rank_sum += mid;
                positives += 1;
            }
        }
        i = j;
    }
    let negatives = items.len() as u64 - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

/// AUC of `scores` on every account that is not a seed.
pub fn auc_without_seeds(scores: &[f64], truth: &Truth, seeds: &Seeds) -> f64 {
    let mut include = vec![true; scores.len()];
    for &s in seeds.fake.iter().chain(&seeds.real) {
        include[s as usize] = false;
    }
    auc(scores, &truth.fake, &include)
}

/// Mean and (population) standard deviation.
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len().max(1) as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
    (m, v.sqrt())
}

/// One method's results over the repetitions of one setting.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MethodResult {
    pub method: &'static str,
    pub auc: Vec<f64>,
    pub auc_mean: f64,
    pub auc_std: f64,
    /// Exposure recall per repetition, see [`exposure_recall`].
    pub exposure: Vec<f64>,
    pub exposure_mean: f64,
}

/// Results of the protocol at one attack-edge count.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SettingResult {
    pub attack_edges: usize,
    pub repetitions: u64,
    pub methods: Vec<MethodResult>,
}

/// Runs the standard protocol at `attack` edges: `reps` repetitions, repetition `r`
/// placing its attack edges with RNG seed `rng_seed + r` and drawing `k` seeds a side
/// with `rng_seed + 1000 + r`.
pub fn protocol(
    region: &Region,
    attack: usize,
    reps: u64,
    k: usize,
    rng_seed: u64,
    methods: &[Method],
) -> SettingResult {
    let mut per: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); methods.len()];
    for rep in 0..reps {
        let (graph, truth) = sybil_copy(region, attack, rng_seed.wrapping_add(rep));
        let seeds = pick_seeds(&graph, &truth, k, rng_seed.wrapping_add(1000 + rep));
        for (i, m) in methods.iter().enumerate() {
            let scores = m.rank(&graph, &seeds);
            per[i].0.push(auc_without_seeds(&scores, &truth, &seeds));
            per[i].1.push(exposure_recall(&graph, &scores, &truth, &seeds));
        }
    }
    let methods = methods
        .iter()
        .zip(per)
        .map(|(m, (auc, exposure))| {
            let (auc_mean, auc_std) = mean_std(&auc);
            let (exposure_mean, _) = mean_std(&exposure);
            MethodResult { method: m.name(), auc, auc_mean, auc_std, exposure, exposure_mean }
        })
        .collect();
    SettingResult { attack_edges: attack, repetitions: reps, methods }
}

/// How well the exposure list built from a ranking finds the victims. The accounts
/// judged fake are the fake seeds plus the first accounts of the ranking that are not
/// seeds, as many as there are fake accounts that are not seeds (the size of the fake
/// region is known in the protocol; in practice an analyst picks the cut). With `N`
/// the number of real accounts that are endpoints of attack edges, the result is the
/// share of them among the first `N` people of [`crate::exposure::exposed`].
pub fn exposure_recall(graph: &Graph, scores: &[f64], truth: &Truth, seeds: &Seeds) -> f64 {
    let n = graph.node_count();
    let labels = seeds.labels(n);
    let fakes_left = truth.fake.iter().filter(|&&f| f).count() - seeds.fake.len();
    let mut judged = vec![false; n];
    for &v in crate::order(graph, scores).iter().filter(|&&v| labels[v as usize] == 0).take(fakes_left) {
        judged[v as usize] = true;
    }
    for &s in &seeds.fake {
        judged[s as usize] = true;
    }
    let victims: Vec<bool> = (0..n as Node)
        .map(|v| !truth.fake[v as usize] && graph.neighbours(v).iter().any(|&u| truth.fake[u as usize]))
        .collect();
    let total = victims.iter().filter(|&&x| x).count();
    if total == 0 {
        return 1.0;
    }
    let listed = crate::exposure::exposed_ranked(graph, &judged, scores);
    let found = listed.iter().take(total).filter(|e| graph.node(&e.id).is_some_and(|v| victims[v as usize])).count();
    found as f64 / total as f64
}

/// A labelled graph as given (SybilSCAR's release format): `train` and `test` each
/// hold two lines, the real ids on the first and the fake ids on the second.
pub fn labelled(
    graph: &Graph,
    train: &[u8],
    test: &[u8],
    path: &std::path::Path,
) -> crate::Result<(Seeds, Truth, Vec<bool>)> {
    let lines = |bytes: &[u8]| -> crate::Result<(Vec<String>, Vec<String>)> {
        let mut it = bytes.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace));
        let real = crate::parse_ids(it.next().unwrap_or_default(), path)?;
        let fake = crate::parse_ids(it.next().unwrap_or_default(), path)?;
        Ok((real, fake))
    };
    let (train_real, train_fake) = lines(train)?;
    let (test_real, test_fake) = lines(test)?;
    let seeds = Seeds::resolve(graph, &train_fake, &train_real)?;
    let n = graph.node_count();
    let mut fake = vec![false; n];
    let mut include = vec![false; n];
    for (ids, is_fake) in [(&test_real, false), (&test_fake, true)] {
        for id in ids {
            if let Some(v) = graph.node(id) {
                fake[v as usize] = is_fake;
                include[v as usize] = true;
            }
        }
    }
    Ok((seeds, Truth { fake }, include))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half() {
        let all = [true; 4];
        assert_eq!(auc(&[0.9, 0.8, 0.1, 0.2], &[true, true, false, false], &all), 1.0);
        assert_eq!(auc(&[0.1, 0.2, 0.9, 0.8], &[true, true, false, false], &all), 0.0);
        assert_eq!(auc(&[0.5; 4], &[true, true, false, false], &all), 0.5);
    }

    #[test]
    fn copy_has_the_asked_attack_edges() {
        let r = ring_of_cliques(4, 4);
        let (g, t) = sybil_copy(&r, 5, 1);
        assert_eq!(g.edge_count(), 2 * r.edges.len() + 5);
        assert_eq!(t.fake.iter().filter(|&&f| f).count(), 16);
    }
}
