//! Prints the verdicts on captures as JSON: `cargo run --example verdicts FILE...`
use std::io::BufReader;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options =
        takedown_net::Options { kill_switch_domains: vec!["www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com".into()] };
    let mut analyzer = takedown_net::Analyzer::new(options);
    for path in std::env::args().skip(1) {
        let file = std::fs::File::open(&path)?;
        analyzer.read(&path, BufReader::new(file))?;
    }
    let report = analyzer.finish();
    for h in &report.hosts {
        let roles: Vec<_> = h.roles.iter().map(|r| r.as_str()).collect();
        println!("{} {}", h.ip, roles.join(","));
        for e in &h.evidence {
            println!("    {} {:?} {} {:?}", e.detector, e.packets, e.summary, e.fields);
        }
    }
    println!("{}", serde_json::to_string(&report.stats)?);
    Ok(())
}
