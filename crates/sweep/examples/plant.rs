//! Writes planted files for benchmarks and by-hand checks:
//!
//!     plant rules DIR RULEFILE...   one file per rule, from each rule's own strings
//!     plant host DIR                a small host WannaCry went through
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [mode, dir, files @ ..] if mode == "rules" => {
            let mut n = 0;
            for file in files {
                let path = Path::new(file);
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("rules");
                n += takedown_sweep::plant::plant_rules(Path::new(dir), stem, &std::fs::read_to_string(path)?)?.len();
            }
            println!("{n} planted files in {dir}");
        }
        [mode, dir] if mode == "host" => takedown_sweep::plant::plant_demo_host(Path::new(dir))?,
        _ => return Err("usage: plant rules DIR RULEFILE... | plant host DIR".into()),
    }
    Ok(())
}
