//! `takedown net [--campaign NAME] FILE...`: read packet captures and say, for
//! every host seen in an SMB or DNS conversation, whether it attacked, was
//! exploited, carries DoublePulsar, answers the MS17-010 check as vulnerable or
//! patched, or is clean — with the packets and fields that show it.

use crate::outln;
use crate::output::{escaped, print_json, Exit, OutputFormat, Style};
use crate::Context;
use clap::Args;
use std::path::PathBuf;
use takedown_app::capture;
use takedown_app::intel::ensure_builtin;
use takedown_net::{HostVerdict, Report};

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
        takedown_app::require_campaign(&store, name)?;
    }
    let options = capture::options(&store)?;
    let report = match &args.interface {
        Some(interface) => live::analyze(interface, args.duration, args.count, options)?,
        None => capture::analyze_files(&args.files, options)?,
    };
    let stored = match &args.campaign {
        Some(name) => Some(capture::file(&store, name, &report, &ctx.user)?),
        None => None,
    };
    print_report(ctx, &report, stored)?;
    Ok(if report.hosts.iter().any(HostVerdict::is_attack) { Exit::Findings } else { Exit::Clean })
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
