//! Live capture from a network interface through libpcap (the `live` feature):
//! packets go into the same analysis as a file's, until a stop flag is raised
//! (Ctrl-C), a duration has passed or a number of packets has been read.

use crate::capture::{Ending, Frame};
use crate::{Analyzer, Error};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The pause when no packet is waiting, before the stop conditions are checked again.
/// The capture is non-blocking: on Linux a blocking read's timeout does not run
/// while no packet arrives at all, so an idle interface would never stop.
const IDLE: Duration = Duration::from_millis(20);
/// Bytes kept of each packet: whole Ethernet frames, jumbo ones included.
const SNAPLEN: i32 = 65_535;

/// When a live capture stops (besides the stop flag).
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub duration: Option<Duration>,
    pub count: Option<u64>,
}

/// An interface opened for capture.
pub struct Live {
    interface: String,
    cap: pcap::Capture<pcap::Active>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("interface", &self.interface).finish()
    }
}

impl Live {
    /// Opens `interface` (needs root or CAP_NET_RAW). Packets are kept from here on.
    pub fn open(interface: &str) -> Result<Live, Error> {
        let live = |e: pcap::Error| Error::Live { interface: interface.to_string(), detail: e.to_string() };
        let cap = pcap::Capture::from_device(interface)
            .map_err(live)?
            .snaplen(SNAPLEN)
            .timeout(IDLE.as_millis() as i32)
            .open()
            .map_err(live)?
            .setnonblock()
            .map_err(live)?;
        Ok(Live { interface: interface.to_string(), cap })
    }

    /// Captures into `analyzer` until `stop` is set or a limit is reached.
    pub fn run(mut self, analyzer: &mut Analyzer, limits: Limits, stop: &AtomicBool) -> Result<(), Error> {
        let linktype = self.cap.get_datalink().0;
        let started = Instant::now();
        let interface = self.interface.clone();
        let cap = &mut self.cap;
        analyzer.read_from(&interface, |f| {
            let mut number = 0u64;
            loop {
                if stop.load(Ordering::Relaxed)
                    || limits.duration.is_some_and(|d| started.elapsed() >= d)
                    || limits.count.is_some_and(|c| number >= c)
                {
                    return Ok(Ending::default());
                }
                match cap.next_packet() {
                    Ok(p) => {
                        number += 1;
                        let time = p.header.ts.tv_sec as f64 + p.header.ts.tv_usec as f64 * 1e-6;
                        let len = (p.header.caplen as usize).min(p.data.len());
                        f(Frame { number, time, linktype, data: &p.data[..len] });
                    }
                    Err(pcap::Error::TimeoutExpired) => std::thread::sleep(IDLE),
                    Err(e) => {
                        return Err(Error::Read {
                            file: interface.clone(),
                            detail: format!("capture failed after packet {number}: {e}"),
                        })
                    }
                }
            }
        })
    }
}
