//! Capture analysis: a verdict per host for MS17-010, DoublePulsar and the WannaCry worm.
//!
//! Reads pcap and pcapng files, reassembles TCP, frames NetBIOS sessions, parses
//! SMB1, SMB2 Negotiate and DNS, and says for every host seen in an SMB or DNS
//! conversation whether it attacked, was exploited, carries DoublePulsar, answers
//! the MS17-010 check as vulnerable or patched, or is clean — with the packets
//! and fields that show it.
//!
//! ```no_run
//! let mut analyzer = takedown_net::Analyzer::new(takedown_net::Options::default());
//! let file = std::fs::File::open("capture.pcap").unwrap();
//! analyzer.read("capture.pcap", std::io::BufReader::new(file)).unwrap();
//! for host in analyzer.finish().hosts {
//!     println!("{} {:?}", host.ip, host.roles);
//! }
//! ```
#![forbid(unsafe_code)]

pub mod capture;
pub mod decode;
pub mod detect;
pub mod dns;
mod flows;
#[cfg(feature = "live")]
pub mod live;
pub mod nbss;
pub mod reassembly;
pub mod smb1;
pub mod smb2;
pub mod verdict;
pub mod writer;

pub use verdict::{Evidence, HostVerdict, Role};

use serde::Serialize;
use std::io::Read;
use std::time::Instant;

/// What can go wrong reading a capture.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: not a packet capture: {detail} (give a pcap or pcapng file, such as tcpdump -w writes)")]
    NotACapture { file: String, detail: String },
    #[error("{file}: {detail}")]
    Read { file: String, detail: String },
    #[error(
        "cannot capture on {interface}: {detail} (capturing needs root or CAP_NET_RAW; `ip link` lists the interfaces)"
    )]
    Live { interface: String, detail: String },
}

/// What the analysis takes from outside.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// WannaCry kill-switch domains (from intel); a lookup of one marks the host.
    pub kill_switch_domains: Vec<String>,
}

/// Counters over everything read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub packets: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    /// Time the analysis took.
    pub seconds: f64,
    pub files: u64,
    /// Seconds between the first and the last packet, per file, summed.
    pub capture_seconds: f64,
    pub smb1_messages: u64,
    pub smb2_messages: u64,
    pub dns_messages: u64,
    /// Holes in TCP streams given up on (lost packets, or a bound reached).
    pub tcp_gaps: u64,
    /// Files that ended early or were damaged, and how.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<String>,
}

/// The result: a verdict per host, sorted by address, and counters.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub hosts: Vec<HostVerdict>,
    pub stats: Stats,
}

/// Reads captures one after another and collects verdicts across them.
#[derive(Debug)]
pub struct Analyzer {
    options: Options,
    hosts: verdict::Hosts,
    stats: Stats,
    started: Instant,
}

impl Analyzer {
    pub fn new(mut options: Options) -> Self {
        for d in &mut options.kill_switch_domains {
            *d = d.trim().trim_end_matches('.').to_ascii_lowercase();
        }
        Analyzer { options, hosts: verdict::Hosts::default(), stats: Stats::default(), started: Instant::now() }
    }

    /// Reads one capture. `name` names the file in evidence and messages.
    pub fn read<R: Read>(&mut self, name: &str, reader: R) -> Result<(), Error> {
        self.read_from(name, |f| capture::read_frames(name, reader, f))
    }

    /// Reads the frames a source hands on (a file, or an interface with the `live`
    /// feature). `name` names the source in evidence and messages.
    pub fn read_from<S>(&mut self, name: &str, source: S) -> Result<(), Error>
    where
        S: FnOnce(&mut dyn FnMut(capture::Frame<'_>)) -> Result<capture::Ending, Error>,
    {
        let mut flows = flows::Flows::new(name, &self.options);
        let mut first = None;
        let mut last = 0.0;
        let stats = &mut self.stats;
        let hosts = &mut self.hosts;
        let ending = source(&mut |frame| {
            stats.packets += 1;
            stats.bytes += frame.data.len() as u64;
            first.get_or_insert(frame.time);
            last = frame.time;
            if let Some(p) = decode::decode(frame.linktype, frame.data) {
                flows.packet(&p, frame.number, hosts);
            }
        });
        // A source that fails part-way has still handed on packets: their evidence
        // stays, as when a file is cut short.
        flows.finish(hosts, stats);
        let ending = ending?;
        stats.files += 1;
        stats.capture_seconds += (last - first.unwrap_or(last)).max(0.0);
        if let Some(why) = ending.truncated {
            stats.truncated.push(format!("{name}: {why}"));
        }
        Ok(())
    }

    pub fn finish(mut self) -> Report {
        self.stats.seconds = self.started.elapsed().as_secs_f64();
        Report { hosts: self.hosts.verdicts(), stats: self.stats }
    }
}

/// Analyses in-memory capture bytes: for tests, fuzzing and the demo.
pub fn analyze_bytes(name: &str, bytes: &[u8], options: Options) -> Result<Report, Error> {
    let mut a = Analyzer::new(options);
    a.read(name, bytes)?;
    Ok(a.finish())
}
