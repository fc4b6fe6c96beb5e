//! The standard protocol on a real honest region (ego-Facebook by default):
//!
//! `cargo run --release -p takedown-accounts --example eval -- EDGES [REPS] [G...]`
//!
//! Prints mean ± std of the AUC per attack-edge count and method.
use std::path::PathBuf;
use takedown_accounts::eval::{auc_without_seeds, mean_std, pick_seeds, sybil_copy, Region};
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
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); Method::ALL.len()];
        for rep in 0..reps {
            let (graph, truth) = sybil_copy(&region, attack, 1000 + rep);
            let seeds = pick_seeds(&graph, &truth, 100, 2000 + rep);
            for (i, m) in Method::ALL.into_iter().enumerate() {
                per[i].push(auc_without_seeds(&m.rank(&graph, &seeds), &truth, &seeds));
            }
        }
        let cells: Vec<String> = per
            .iter()
            .map(|xs| {
                let (m, s) = mean_std(xs);
                format!("{m:.4} ± {s:.4}")
            })
            .collect();
        println!("| {attack} | {} |", cells.join(" | "));
    }
    Ok(())
}
