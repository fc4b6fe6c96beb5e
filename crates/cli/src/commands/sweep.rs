//! `takedown sweep [PATH...]`: find the group's malware and traces on this computer
//! — YARA rules, hashes, names and WannaCry artefacts in one pass — and, with
//! `--quarantine`, move what was found into the vault.

use crate::commands::quarantine::{audit_step, data_dir, vault_dir};
use crate::intel_store::{ensure_builtin, StoreLookup};
use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::{bail, Context as _};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use takedown_intel::{builtin, ids, knowledge, read};
use takedown_model::{Evidence, Finding, StringMatch, Subject};
use takedown_store::Store;
use takedown_sweep::{vault::Vault, Hit, HitKind, Progress, RulesetBuilder, Source, Summary, SweepOptions, Taken};

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

/// What the ruleset was built from, for the report.
#[derive(Debug, Default, serde::Serialize)]
struct Loaded {
    yara_files: usize,
    hashes: usize,
    names: usize,
    path_patterns: usize,
    passed_over: usize,
}

impl Loaded {
    fn count(&mut self, taken: Taken) {
        match taken {
            Taken::Yara => self.yara_files += 1,
            Taken::Hash => self.hashes += 1,
            Taken::Name => self.names += 1,
            Taken::PathPattern => self.path_patterns += 1,
            Taken::PassedOver => self.passed_over += 1,
        }
    }
}

pub fn run(ctx: &Context, args: SweepArgs) -> anyhow::Result<Exit> {
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    if let Some(name) = &args.campaign {
        if store.campaign(name)?.is_none() {
            bail!("no campaign named {name:?} (create it with `takedown campaign create {name} --actor GROUP`)");
        }
    }
    let (builder, loaded) = load_rules(ctx, &store, &args)?;
    let ruleset = builder.build()?;
    let options = SweepOptions {
        roots: if args.paths.is_empty() { vec![PathBuf::from("/")] } else { args.paths.clone() },
        threads: args.threads.unwrap_or_else(|| SweepOptions::default().threads),
        excludes: args.exclude.clone(),
        max_filesize: args.max_filesize,
        one_file_system: args.one_file_system,
        follow_symlinks: args.follow_symlinks,
        scan_archives: !args.no_archives,
    };
    let progress = Progress::default();
    let show_progress = ctx.format == OutputFormat::Text && std::io::stderr().is_terminal();
    let (mut hits, summary) =
        with_progress(&progress, show_progress, || takedown_sweep::sweep(&ruleset, &options, &progress))?;
    tie_to_intel(&store, &mut hits)?;

    let mut stored = None;
    if let Some(name) = &args.campaign {
        let findings = to_findings(name, &hits);
        stored = Some(store.record_findings(name, &findings, &ctx.user)?);
    }
    let (quarantined, failed) = if args.quarantine && !hits.is_empty() {
        quarantine_hits(ctx, &store, &hits, args.vault.as_deref())?
    } else {
        (Vec::new(), Vec::new())
    };
    print_report(ctx, &hits, &summary, &loaded, stored, &quarantined)?;
    if !failed.is_empty() {
        bail!("{} file(s) could not be quarantined: {}", failed.len(), escaped(&failed.join(", ")));
    }
    Ok(if hits.is_empty() { Exit::Clean } else { Exit::Findings })
}

fn load_rules(ctx: &Context, store: &Store, args: &SweepArgs) -> anyhow::Result<(RulesetBuilder, Loaded)> {
    let mut builder = RulesetBuilder::new();
    builder.cache_dir(Some(data_dir(ctx).join("takedown-cache")));
    let mut loaded = Loaded::default();
    for object in store.current_objects(Some("indicator"))? {
        if args.no_builtin && object.source == builtin::PACK_SOURCE {
            continue;
        }
        let json: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&object.json)
            .with_context(|| format!("stored indicator {} is not JSON", object.id))?;
        // A rule from a partner that would overflow the compiler's stack is left out,
        // not allowed to stop every sweep.
        if json.get("pattern_type").and_then(|t| t.as_str()) == Some("yara") {
            let text = json.get("pattern").and_then(|p| p.as_str()).unwrap_or_default();
            let origin = std::path::Path::new(&object.id);
            if let Err(e) = takedown_intel::yara::check_nesting(origin, text) {
                eprintln!(
                    "note: indicator {} ({}) left out of this sweep: {}",
                    object.id,
                    escaped(&object.source),
                    escaped(&e.to_string())
                );
                continue;
            }
        }
        let taken = builder
            .add_indicator(&json)
            .with_context(|| format!("indicator {} ({}) from the store", object.id, object.source))?;
        loaded.count(taken);
    }
    let limits = args.max_intel_size.map_or_else(read::Limits::default, read::Limits::all);
    let (files, _) = read::expand(&args.rules)?;
    for file in files {
        let text = read::read_yara(&file, &limits)?;
        let source = Source { indicator: None, name: file.display().to_string() };
        builder.add_yara(&file, &text, source)?;
        loaded.yara_files += 1;
    }
    for file in &args.iocs {
        let intel = read::read_file(file, &limits)?;
        for object in intel.objects.iter().filter(|o| o.type_ == "indicator") {
            loaded.count(builder.add_indicator(&object.json)?);
        }
    }
    Ok((builder, loaded))
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

/// Fills in the groups and malware the intel ties each hit's indicator to.
fn tie_to_intel(store: &Store, hits: &mut [Hit]) -> anyhow::Result<()> {
    let lookup = StoreLookup(store);
    let mut cache: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for hit in hits.iter_mut() {
        let Some(id) = hit.indicator.clone() else { continue };
        if !cache.contains_key(&id) {
            let mut groups = BTreeSet::new();
            let mut malware = BTreeSet::new();
            for chain in knowledge::why(&lookup, &id)? {
                for link in &chain.links {
                    match link.to.type_.as_str() {
                        "intrusion-set" | "threat-actor" => {
                            groups.insert(link.to.name.clone());
                        }
                        "malware" | "tool" => {
                            malware.insert(link.to.name.clone());
                        }
                        _ => {}
                    }
                    groups.extend(link.then.iter().map(|l| l.to.name.clone()));
                }
            }
            cache.insert(id.clone(), (groups, malware));
        }
        if let Some((groups, malware)) = cache.get(&id) {
            hit.groups = groups.iter().cloned().collect();
            let mut all: BTreeSet<String> = hit.malware.drain(..).collect();
            all.extend(malware.iter().cloned());
            hit.malware = all.into_iter().collect();
        }
    }
    // Artefacts and rules that name their malware but no indicator: the groups
    // the intel says use that malware.
    let mut users: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for hit in hits.iter_mut().filter(|h| h.groups.is_empty() && !h.malware.is_empty()) {
        let mut groups = BTreeSet::new();
        for name in &hit.malware {
            if !users.contains_key(name) {
                let found = match knowledge::profile(&lookup, name)? {
                    Some(p) if p.type_ == "malware" || p.type_ == "tool" => p
                        .related
                        .iter()
                        .filter(|e| e.type_ == "intrusion-set" || e.type_ == "threat-actor")
                        .map(|e| e.name.clone())
                        .collect(),
                    _ => Vec::new(),
                };
                users.insert(name.clone(), found);
            }
            groups.extend(users.get(name).into_iter().flatten().cloned());
        }
        hit.groups = groups.into_iter().collect();
    }
    Ok(())
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty())
}

/// Hits as findings. Ids follow from what was seen, so a second sweep of the same
/// files files nothing new.
fn to_findings(campaign: &str, hits: &[Hit]) -> Vec<Finding> {
    let host = host_name();
    let now = chrono::Utc::now();
    hits.iter()
        .map(|h| {
            // Filed whole, so that `takedown run` from any folder finds the file.
            let path = std::path::absolute(&h.path).map(|p| p.display().to_string()).unwrap_or_else(|_| h.path.clone());
            let location = match &h.member {
                Some(m) => format!("{path}!{m}"),
                None => path,
            };
            let rule = h.rule.clone().unwrap_or_default();
            let key = format!("{campaign}|{}|{location}|{rule}|{}|{}", h.kind.as_str(), h.matched, h.sha256);
            let evidence = match h.kind {
                HitKind::Yara => Evidence::Yara {
                    rule: rule.clone(),
                    namespace: h.rule_file.clone().unwrap_or_default(),
                    strings: h
                        .strings
                        .iter()
                        .map(|s| StringMatch { identifier: s.identifier.clone(), offset: s.offset, length: s.length })
                        .collect(),
                },
                HitKind::Hash => {
                    let (algorithm, value) = h.matched.split_once(' ').unwrap_or(("", &h.matched));
                    Evidence::Hash { algorithm: algorithm.into(), value: value.into() }
                }
                HitKind::Filename => Evidence::Name { pattern: h.matched.clone() },
                HitKind::Artefact => Evidence::Note { text: h.matched.clone() },
            };
            Finding {
                id: ids::stable_id("sighting", &key),
                campaign: Some(campaign.to_string()),
                subject: Subject::File {
                    host: host.clone(),
                    path: location.clone(),
                    sha256: (!h.sha256.is_empty()).then(|| h.sha256.clone()),
                },
                indicator: h.indicator.clone(),
                detector: format!("sweep.{}", h.kind.as_str()),
                summary: format!(
                    "{} {}: {}",
                    h.kind.as_str(),
                    if rule.is_empty() { &h.matched } else { &rule },
                    location
                ),
                evidence: vec![evidence],
                observed_at: now,
                tlp: None,
            }
        })
        .collect()
}

/// A file moved into the vault.
#[derive(Debug, serde::Serialize)]
struct Quarantined {
    path: String,
    id: String,
}

fn print_report(
    ctx: &Context,
    hits: &[Hit],
    summary: &Summary,
    loaded: &Loaded,
    stored: Option<usize>,
    quarantined: &[Quarantined],
) -> anyhow::Result<()> {
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
            outln!(
                "rules: {} YARA files, {} hashes, {} names, {} path patterns ({} indicators are not for files)",
                loaded.yara_files,
                loaded.hashes,
                loaded.names,
                loaded.path_patterns,
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

/// Artefacts that are the victims' own data: never moved.
fn is_victim_data(h: &Hit) -> bool {
    h.kind == HitKind::Artefact
        && matches!(h.rule.as_deref(), Some("wannacry-encrypted-file" | "wannacry-partial-file" | "data-loss"))
}

/// Moves every file with a finding into the vault; returns what was moved and the
/// files that could not be (each with its error already printed).
fn quarantine_hits(
    ctx: &Context,
    store: &Store,
    hits: &[Hit],
    vault: Option<&std::path::Path>,
) -> anyhow::Result<(Vec<Quarantined>, Vec<String>)> {
    let vault = Vault::open(&vault_dir(ctx, vault))?;
    // By the file as the system names it: a path shown as text may not be one.
    let victims: BTreeSet<&std::path::Path> =
        hits.iter().filter(|h| is_victim_data(h)).map(|h| h.file.as_path()).collect();
    let mut by_file: BTreeMap<&std::path::Path, Vec<&Hit>> = BTreeMap::new();
    for h in hits.iter().filter(|h| !victims.contains(h.file.as_path())) {
        by_file.entry(h.file.as_path()).or_default().push(h);
    }
    let mut failed = Vec::new();
    let mut moved = Vec::new();
    for (file, why) in by_file {
        let path = why.first().map(|h| h.path.as_str()).unwrap_or_default();
        let reason = serde_json::to_value(&why)?;
        let mut audit_error = None;
        let result = vault.quarantine(file, reason, &mut |step, item| {
            if let Err(e) = audit_step(store, &ctx.user, step, item) {
                audit_error.get_or_insert(e);
            }
        });
        if let Some(e) = audit_error {
            return Err(e.context("recording a quarantine step in the audit trail"));
        }
        match result {
            Ok(item) => moved.push(Quarantined { path: path.to_string(), id: item.id }),
            Err(e) => {
                eprintln!("error: {}", escaped(&e.to_string()));
                failed.push(path.to_string());
            }
        }
    }
    Ok((moved, failed))
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
