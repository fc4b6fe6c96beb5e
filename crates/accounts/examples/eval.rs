//! The standard protocol on a real honest region (ego-Facebook by default), the same
//! code as `takedown accounts eval` without the CLI's dependencies:
//!
//! `cargo run --release -p takedown-accounts --example eval -- EDGES [REPS] [G...]`
//!
//! Prints mean ± std of the AUC (and the mean exposure recall) per attack-edge count
//! and method, RNG seed 1000 as in the CLI's default. With `TAKEDOWN_LABELLED=DIR`
//! also the AUC on a labelled graph (graph.txt, train.txt, test.txt).
use std::path::PathBuf;
use takedown_accounts::eval::{auc, labelled, protocol, Region};
use takedown_accounts::{Graph, Method};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = PathBuf::from(
        args.first().cloned().unwrap_or_else(|| "../shared/corpus/graphs/ego-facebook/facebook_combined.txt".into()),
    );
    let reps: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let gs: Vec<usize> = if args.len() > 2 {
        args[2..].iter().filter_map(|s| s.parse().ok()).collect()
    } else {
        vec![100, 1_000, 10_000, 50_000]
    };
    let (g, _) = Graph::from_file(&path)?;
    let region = Region::from_graph(&g).ok_or("ids must be 0..n")?;
    println!("| g | {} |", Method::ALL.map(|m| m.name()).join(" | "));
    println!("|---|{}", "---|".repeat(Method::ALL.len()));
    for &attack in &gs {
        let r = protocol(&region, attack, reps, 100, 1000, &Method::ALL);
        let cells: Vec<String> = r
            .methods
            .iter()
            .map(|m| format!("{:.5} ± {:.5} [{:.3}]", m.auc_mean, m.auc_std, m.exposure_mean))
            .collect();
        println!("| {attack} | {} |", cells.join(" | "));
    }
    if let Some(dir) = std::env::var_os("TAKEDOWN_LABELLED").map(PathBuf::from) {
        let (g, _) = Graph::from_file(&dir.join("graph.txt"))?;
        let (seeds, truth, include) =
            labelled(&g, &std::fs::read(dir.join("train.txt"))?, &std::fs::read(dir.join("test.txt"))?, &dir)?;
        let cells: Vec<String> =
            Method::ALL.iter().map(|m| format!("{:.5}", auc(&m.rank(&g, &seeds), &truth.fake, &include))).collect();
        println!("| labelled | {} |", cells.join(" | "));
    }
    Ok(())
}
