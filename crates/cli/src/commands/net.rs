//! `takedown net [--campaign NAME] FILE...`: read packet captures and say, for
//! every host seen in an SMB or DNS conversation, whether it attacked, was
//! exploited, carries DoublePulsar, answers the MS17-010 check as vulnerable or
//! patched, or is clean — with the packets and fields that show it.

use crate::intel_store::ensure_builtin;
use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use anyhow::{bail, Context as _};
use clap::Args;
use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::PathBuf;
use takedown_intel::ids;
use takedown_model::{Evidence, Finding, Subject};
use takedown_net::{Analyzer, HostVerdict, Options, Report};
use takedown_store::Store;

#[derive(Debug, Args)]
pub struct NetArgs {
    /// Capture files (pcap or pcapng), read one after another.
    #[arg(required_unless_present = "interface", conflicts_with = "interface")]
    files: Vec<PathBuf>,
    /// File the findings under this campaign.
    #[arg(long, value_name = "NAME")]
    campaign: Option<String>,
    /// Capture live on this interface instead of reading files, until Ctrl-C,
    /// --duration or --count (needs a build with `--features live`, and root or
    /// CAP_NET_RAW).
    #[arg(long, value_name = "IFACE")]
    interface: Option<String>,
    /// Stop a live capture after this many seconds.
    #[arg(long, value_name = "SECS", requires = "interface")]
    duration: Option<f64>,
    /// Stop a live capture after this many packets.
    #[arg(long, value_name = "N", requires = "interface")]
    count: Option<u64>,
}

impl NetArgs {
    /// The captures, filed under `campaign`: the demo's.
    pub fn files(files: Vec<PathBuf>, campaign: &str) -> NetArgs {
        NetArgs { files, campaign: Some(campaign.to_string()), interface: None, duration: None, count: None }
    }
}

pub fn run(ctx: &Context, args: NetArgs) -> anyhow::Result<Exit> {
    if let Some(interface) = &args.interface {
        // Before the store is opened: a build without capture leaves nothing behind.
        live::available(interface)?;
    }
    let mut store = ctx.open_store()?;
    ensure_builtin(&mut store)?;
    if let Some(name) = &args.campaign {
        if store.campaign(name)?.is_none() {
            bail!("no campaign named {name:?} (create it with `takedown campaign create {name} --actor GROUP`)");
        }
    }
    let options = Options { kill_switch_domains: kill_switch_domains(&store)? };
    let report = match &args.interface {
        Some(interface) => live::analyze(interface, args.duration, args.count, options)?,
        None => analyze(&args.files, options)?,
    };
    let stored = match &args.campaign {
        Some(name) => Some(store.record_findings(name, &to_findings(name, &report), &ctx.user)?),
        None => None,
    };
    print_report(ctx, &report, stored)?;
    Ok(if report.hosts.iter().any(HostVerdict::is_attack) { Exit::Findings } else { Exit::Clean })
}

/// Reads every file before anything is printed or stored: a bad file stops the
/// run with nothing half-written.
pub fn analyze(files: &[PathBuf], options: Options) -> anyhow::Result<Report> {
    let mut analyzer = Analyzer::new(options);
    for path in files {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open the capture {} (check the path)", path.display()))?;
        if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
            bail!("{} is a directory; give capture files", path.display());
        }
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        analyzer.read(&name, BufReader::with_capacity(1 << 20, file))?;
    }
    Ok(analyzer.finish())
}

#[cfg(feature = "live")]
mod live {
    use anyhow::bail;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Duration;
    use takedown_net::{live, Analyzer, Options, Report};

    pub fn available(_: &str) -> anyhow::Result<()> {
        Ok(())
    }

    /// Captures on the interface until Ctrl-C or a limit; the verdicts come after.
    pub fn analyze(
        interface: &str,
        duration: Option<f64>,
        count: Option<u64>,
        options: Options,
    ) -> anyhow::Result<Report> {
        let duration = match duration {
            Some(s) if !(s.is_finite() && s > 0.0) => bail!("--duration {s}: give a number of seconds above 0"),
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        let stop = Arc::new(AtomicBool::new(false));
        // Ctrl-C (and a polite kill) ends the capture; the verdicts are still printed.
        for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(signal, Arc::clone(&stop))?;
        }
        let mut analyzer = Analyzer::new(options);
        let capture = live::Live::open(interface)?;
        eprintln!("capturing on {interface} (Ctrl-C stops and prints the verdicts)");
        capture.run(&mut analyzer, live::Limits { duration, count }, &stop)?;
        Ok(analyzer.finish())
    }
}

#[cfg(not(feature = "live"))]
mod live {
    use takedown_net::{Options, Report};

    pub fn analyze(interface: &str, _: Option<f64>, _: Option<u64>, _: Options) -> anyhow::Result<Report> {
        Err(missing(interface))
    }

    pub fn available(interface: &str) -> anyhow::Result<()> {
        Err(missing(interface))
    }

    fn missing(interface: &str) -> anyhow::Error {
        anyhow::anyhow!(
            "--interface {interface}: this build reads capture files only; live capture needs a build with \
             `--features live` (cargo build --release -p takedown-cli --features live, with libpcap-dev installed)"
        )
    }
}

/// The kill-switch domains among the stored indicators (the built-in pack marks
/// them with `x_takedown_kill_switch`), read from their STIX patterns.
pub fn kill_switch_domains(store: &Store) -> anyhow::Result<Vec<String>> {
    let mut domains = BTreeSet::new();
    for object in store.current_objects(Some("indicator"))? {
        let json: serde_json::Value = serde_json::from_str(&object.json)
            .with_context(|| format!("stored indicator {} is not JSON", object.id))?;
        if json.get("x_takedown_kill_switch").and_then(|v| v.as_bool()) != Some(true) {
            continue;
        }
        let Some(pattern) = json.get("pattern").and_then(|v| v.as_str()) else { continue };
        domains.extend(pattern_domains(pattern));
    }
    Ok(domains.into_iter().collect())
}

/// `[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example']` → the names,
/// read with the intel crate's pattern parser; a pattern it refuses names none.
fn pattern_domains(pattern: &str) -> Vec<String> {
    use takedown_intel::pattern::{CompareOp, Constant, PathStep, Test};
    let Ok(parsed) = takedown_intel::pattern::parse(pattern) else { return Vec::new() };
    parsed
        .comparisons()
        .into_iter()
        .filter_map(|c| match (&c.path.object_type[..], &c.path.steps[..], c.negated, &c.test) {
            ("domain-name", [PathStep::Key(k)], false, Test::Compare(CompareOp::Eq, Constant::String(v)))
                if k == "value" =>
            {
                Some(v.trim_end_matches('.').to_ascii_lowercase())
            }
            _ => None,
        })
        .collect()
}

fn to_findings(campaign: &str, report: &Report) -> Vec<Finding> {
    let now = chrono::Utc::now();
    let mut out = Vec::new();
    for host in &report.hosts {
        for e in host.evidence.iter().filter(|e| e.role.is_some()) {
            let role = e.role.map_or("", |r| r.as_str());
            let key = format!("{campaign}|{}|{}|{}|{}|{:?}", host.ip, role, e.detector, e.file, e.packets);
            let mut fields = e.fields.clone();
            fields.insert("role".into(), role.into());
            if let Some(peer) = e.peer {
                fields.insert("peer".into(), peer.to_string());
            }
            out.push(Finding {
                id: ids::stable_id("sighting", &key),
                campaign: Some(campaign.to_string()),
                subject: Subject::Endpoint { ip: host.ip.to_string(), port: None },
                indicator: None,
                detector: format!("net.{}", e.detector),
                summary: format!("{} {}: {}", host.ip, role, e.summary),
                evidence: vec![Evidence::Packets { file: e.file.clone(), numbers: e.packets.clone(), fields }],
                observed_at: now,
                tlp: None,
            });
        }
    }
    out
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    hosts: &'a [HostVerdict],
    stats: &'a takedown_net::Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    stored: Option<usize>,
}

fn print_report(ctx: &Context, report: &Report, stored: Option<usize>) -> anyhow::Result<()> {
    match ctx.format {
        OutputFormat::Json => {
            print_json(ctx.format, &JsonReport { hosts: &report.hosts, stats: &report.stats, stored })
        }
        OutputFormat::Ndjson => {
            for host in &report.hosts {
                print_json(ctx.format, &serde_json::json!({"type": "host", "host": host}))?;
            }
            print_json(ctx.format, &serde_json::json!({"type": "stats", "stats": report.stats, "stored": stored}))
        }
        OutputFormat::Text => {
            let style = Style::stdout();
            let width = report.hosts.iter().map(|h| h.ip.to_string().len()).max().unwrap_or(4).max(4);
            outln!("{}", style.bold(&format!("{:<width$}  {:<40}  evidence", "host", "roles")));
            for host in &report.hosts {
                let roles: Vec<&str> = host.roles.iter().map(|r| r.as_str()).collect();
                let roles = roles.join(", ");
                let painted =
                    if host.is_attack() { style.error(&format!("{roles:<40}")) } else { format!("{roles:<40}") };
                let first = host.evidence.iter().find(|e| e.role.is_some());
                // Summaries may quote what the packets said (names), and the file name
                // is the user's: neither may break the line.
                let detail = first.map_or(String::new(), |e| {
                    escaped(&format!("{} (packets {:?}, {})", e.summary, e.packets, e.file)).into_owned()
                });
                outln!("{:<width$}  {painted}  {detail}", host.ip.to_string());
                for e in host.evidence.iter().filter(|e| e.role.is_some()).skip(1) {
                    outln!(
                        "{:<width$}  {:<40}  {}",
                        "",
                        "",
                        style.dim(&escaped(&format!("{} (packets {:?}, {})", e.summary, e.packets, e.file)))
                    );
                }
            }
            let s = &report.stats;
            outln!(
                "{}",
                style.dim(&format!(
                    "{} hosts, {} packets, {:.1} MB in {:.2} s{}",
                    report.hosts.len(),
                    s.packets,
                    s.bytes as f64 / 1e6,
                    s.seconds,
                    stored.map_or(String::new(), |n| format!("; {n} findings stored"))
                ))
            );
            for t in &s.truncated {
                eprintln!("warning: {}", escaped(t));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_from_patterns() {
        assert_eq!(
            pattern_domains("[domain-name:value = 'A.example'] OR [domain-name:value='b.example']"),
            vec!["a.example", "b.example"]
        );
        assert!(pattern_domains("[file:name = 'x']").is_empty());
    }
}
