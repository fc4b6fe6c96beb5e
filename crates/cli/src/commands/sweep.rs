//! `takedown sweep [PATH...]`: find the group's malware and traces on this computer
//! — YARA rules, hashes, names and WannaCry artefacts in one pass — and, with
//! `--quarantine`, move what was found into the vault.

use crate::commands::quarantine::{data_dir, vault_dir};
use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::bail;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use takedown_app::intel::ensure_builtin;
use takedown_app::sweep::{self, SweepOutcome, SweepRequest};
use takedown_sweep::{HitKind, Progress, SweepOptions};

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Files and directories to sweep. Default: the whole file system, without
    /// /proc, /sys, /dev, other kernel file systems and network mounts.
    paths: Vec<PathBuf>,
    /// Threads that read and check files. Default: one per core.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Leave out paths matching this glob (whole path, or file name); repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Larger files are checked by name and path only (bytes; K, M, G suffixes).
    #[arg(long, value_name = "SIZE", default_value = "64M", value_parser = parse_size)]
    max_filesize: u64,
    /// Stay on the file system of each PATH.
    #[arg(long)]
    one_file_system: bool,
    /// Follow symbolic links (not by default: a link can lead anywhere, or in a loop).
    #[arg(long)]
    follow_symlinks: bool,
    /// Do not look inside zip archives.
    #[arg(long)]
    no_archives: bool,
    /// YARA rule files, or directories of them, to add; each file compiles in a
    /// namespace of its own. Repeatable.
    #[arg(long, value_name = "FILE|DIR")]
    rules: Vec<PathBuf>,
    /// IOC files (signature-base hash and filename formats) or STIX bundles to add.
    #[arg(long, value_name = "FILE")]
    iocs: Vec<PathBuf>,
    /// Largest file --rules and --iocs read, for every kind (bytes; K, M, G
    /// suffixes). Default: 16M for YARA rule files, 64M for IOC files, 256M for STIX
    /// bundles.
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    max_intel_size: Option<u64>,
    /// Leave the built-in WannaCry / Lazarus pack out.
    #[arg(long)]
    no_builtin: bool,
    /// File the findings under this campaign.
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
    /// Move every file with a finding into the vault (encrypted files WannaCry
    /// left are the victims' data and stay where they are).
    #[arg(long)]
    quarantine: bool,
    /// The quarantine vault. Default: takedown-vault beside the database.
    #[arg(long, value_name = "DIR", env = "TAKEDOWN_VAULT")]
    vault: Option<PathBuf>,
}

impl SweepArgs {
    /// A default sweep of `paths` that files its findings under `campaign`: the demo's.
    pub fn for_campaign(paths: Vec<PathBuf>, campaign: &str) -> SweepArgs {
        SweepArgs {
            paths,
            threads: None,
            exclude: Vec::new(),
            max_filesize: takedown_sweep::DEFAULT_MAX_FILESIZE,
            one_file_system: false,
            follow_symlinks: false,
            no_archives: false,
            rules: Vec::new(),
            iocs: Vec::new(),
            max_intel_size: None,
            no_builtin: false,
            campaign: Some(campaign.to_string()),
            quarantine: false,
            vault: None,
        }
    }
}

/// Sizes as people write them: `64M`, `1G`, `512K`, `1000` (binary multiples).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("{s:?} is not a size (examples: 64M, 1G, 4096)"))?;
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("{s:?}: unknown unit {unit:?} (use K, M or G)")),
    };
    n.checked_mul(1 << shift).ok_or_else(|| format!("{s:?} is too large"))
}

pub fn run(ctx: &Context, args: SweepArgs) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    let request = SweepRequest {
        options: SweepOptions {
            roots: if args.paths.is_empty() { vec![PathBuf::from("/")] } else { args.paths.clone() },
            threads: args.threads.unwrap_or_else(|| SweepOptions::default().threads),
            excludes: args.exclude.clone(),
            max_filesize: args.max_filesize,
            one_file_system: args.one_file_system,
            follow_symlinks: args.follow_symlinks,
            scan_archives: !args.no_archives,
        },
        rules: args.rules.clone(),
        iocs: args.iocs.clone(),
        max_intel_size: args.max_intel_size,
        no_builtin: args.no_builtin,
        campaign: args.campaign.clone(),
        quarantine_to: args.quarantine.then(|| vault_dir(ctx, args.vault.as_deref())),
        cache_dir: Some(data_dir(ctx).join("takedown-cache")),
    };
    let progress = Progress::default();
    let show_progress = ctx.format == OutputFormat::Text && std::io::stderr().is_terminal();
    let outcome = with_progress(&progress, show_progress, || sweep::sweep(&store, &request, &ctx.user, &progress))?;
    for note in &outcome.left_out {
        eprintln!("note: {}", escaped(note));
    }
    print_report(ctx, &outcome)?;
    for (_, why) in &outcome.not_quarantined {
        eprintln!("error: {}", escaped(why));
    }
    if !outcome.not_quarantined.is_empty() {
        let paths: Vec<&str> = outcome.not_quarantined.iter().map(|(p, _)| p.as_str()).collect();
        bail!("{} file(s) could not be quarantined: {}", paths.len(), escaped(&paths.join(", ")));
    }
    Ok(if outcome.hits.is_empty() { Exit::Clean } else { Exit::Findings })
}

/// Runs `work`, with a progress line on stderr every quarter second when asked.
fn with_progress<T>(progress: &Progress, show: bool, work: impl FnOnce() -> T) -> T {
    if !show {
        return work();
    }
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(250));
                eprint!(
                    "\r\x1b[K{} files, {:.1} MB, {} findings",
                    progress.files.load(Ordering::Relaxed),
                    progress.bytes.load(Ordering::Relaxed) as f64 / 1e6,
                    progress.hits.load(Ordering::Relaxed)
                );
            }
            eprint!("\r\x1b[K");
        });
        let out = work();
        done.store(true, Ordering::Relaxed);
        out
    })
}

fn print_report(ctx: &Context, outcome: &SweepOutcome) -> anyhow::Result<()> {
    let SweepOutcome { hits, summary, loaded, stored, quarantined, .. } = outcome;
    match ctx.format {
        OutputFormat::Json => print_json(
            ctx.format,
            &serde_json::json!({ "findings": hits, "summary": summary, "rules": loaded, "stored": stored, "quarantined": quarantined }),
        ),
        OutputFormat::Ndjson => {
            for h in hits {
                print_json(ctx.format, h)?;
            }
            print_json(
                ctx.format,
                &serde_json::json!({ "summary": summary, "rules": loaded, "stored": stored, "quarantined": quarantined }),
            )
        }
        OutputFormat::Text => {
            let style = Style::stdout();
            for h in hits {
                let what = h.rule.as_deref().unwrap_or(&h.matched);
                outln!("{:<9} {}  {}", h.kind.as_str(), style.bold(&escaped(what)), escaped(&h.location()));
                let mut detail = Vec::new();
                if let Some(file) = &h.rule_file {
                    detail.push(format!("rules {file}"));
                } else if h.kind != HitKind::Yara && Some(h.matched.as_str()) != h.rule.as_deref() {
                    detail.push(h.matched.clone());
                }
                if let Some(key) = &h.key {
                    detail.push(format!("key {key}"));
                }
                match (&h.value, &h.data) {
                    (Some(v), Some(d)) => detail.push(format!("value {v} = {d}")),
                    (Some(v), None) => detail.push(format!("value {v}")),
                    (None, Some(d)) => detail.push(format!("data {d}")),
                    (None, None) => {}
                }
                if let Some(s) = h.strings.first() {
                    let more = if h.strings.len() > 1 { format!(" (+{})", h.strings.len() - 1) } else { String::new() };
                    detail.push(format!("{} at {:#x}: {}{more}", s.identifier, s.offset, s.data));
                }
                if !h.malware.is_empty() || !h.groups.is_empty() {
                    let ties: Vec<&str> = h.malware.iter().chain(&h.groups).map(String::as_str).collect();
                    detail.push(format!("intel: {}", ties.join(", ")));
                }
                if !h.sha256.is_empty() {
                    detail.push(format!("sha256 {}", h.sha256));
                }
                outln!("          {}", style.dim(&escaped(&detail.join(" · "))));
            }
            let s = summary;
            outln!(
                "{} files, {:.1} MB in {:.2} s ({:.0} files/s, {:.1} MB/s); {} findings; {} errors ({} permission denied, {} vanished, {} unreadable); {} too large for content checks; {} archives ({} members, {} not followed to the end)",
                s.files, s.bytes as f64 / 1e6, s.seconds, s.files_per_second, s.mb_per_second, s.findings, s.errors,
                s.permission_denied, s.vanished, s.unreadable, s.too_large, s.archives, s.archive_members, s.archives_stopped
            );
            if s.hives > 0 {
                outln!("{} registry hives ({} read in part or not at all)", s.hives, s.hives_damaged);
            }
            outln!(
                "rules: {} YARA files, {} hashes, {} names, {} path patterns, {} registry keys, {} services ({} indicators are not for hosts)",
                loaded.yara_files,
                loaded.hashes,
                loaded.names,
                loaded.path_patterns,
                loaded.registry_keys,
                loaded.services,
                loaded.passed_over
            );
            if let Some(n) = stored {
                outln!("{n} new findings filed under the campaign");
            }
            for q in quarantined {
                outln!("quarantined {} as {}", escaped(&q.path), q.id);
            }
            for notice in &s.notices {
                eprintln!("note: {}", escaped(notice));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
    }
}
