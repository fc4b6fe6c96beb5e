//! Reads every key and every value's data of the hives named on the command line,
//! as `hivexml` does, and prints the counts: the benchmark's unit of work
//! (`bench/hive.sh`).
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut failed = false;
    for path in std::env::args().skip(1) {
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        let hive = match takedown_hive::Hive::parse(&bytes) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
                continue;
            }
        };
        let (mut values, mut data) = (0u64, 0u64);
        let walked = hive.walk(&mut |_, key| {
            for v in key.values().unwrap_or_default() {
                values += 1;
                data += v.data().map(|d| d.len() as u64).unwrap_or(0);
                let _ = v.name();
            }
        });
        match walked {
            Ok(r) => println!(
                "{path}: {} keys, {values} values, {data} bytes of data, {} unreadable parts",
                r.keys, r.problem_count
            ),
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
