//! The connection table of one capture: which TCP conversations are SMB or DNS,
//! their reassembly and framing, DNS over UDP, and the worm-scanning counter.

use crate::decode::{Packet, Transport, TCP_ACK, TCP_SYN};
use crate::detect::{Sink, SmbConnection};
use crate::reassembly::{Chunk, Stream};
use crate::verdict::{Evidence, Hosts, Role};
use crate::{dns, nbss, Options, Stats};
use std::collections::{BTreeMap, BTreeSet};

/// A table looked up on every packet: foldhash, not SipHash.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
use std::net::IpAddr;

/// Connections followed at once; beyond this the least recently active go.
pub const MAX_FLOWS: usize = 100_000;
/// Distinct TCP 445 destinations from one source that make it a scanner. A
/// workstation talks SMB to a few servers; the WannaCry worm tries every
/// address of its subnet and random ones.
pub const WORM_SCAN_MIN_HOSTS: usize = 20;
/// Sources whose 445 destinations are counted at once.
const MAX_SCAN_SOURCES: usize = 65_536;
/// A DNS-over-TCP message larger than this is not a lookup; the stream is dropped.
const MAX_DNS_TCP_BUFFER: usize = 65_537;

const SMB_PORTS: [u16; 2] = [445, 139];
const DNS_PORT: u16 = 53;

type Endpoint = (IpAddr, u16);

#[derive(Debug)]
enum App {
    Smb { framers: [nbss::Framer; 2], smb: Box<SmbConnection> },
    Dns { buffers: [Vec<u8>; 2] },
}

#[derive(Debug)]
struct Conn {
    client: Endpoint,
    server: Endpoint,
    streams: [Stream; 2],
    app: App,
    last: u64,
}

#[derive(Debug, Default)]
struct Scan {
    targets: BTreeSet<IpAddr>,
    packets: Vec<u64>,
}

pub struct Flows<'a> {
    file: &'a str,
    options: &'a Options,
    conns: HashMap<(Endpoint, Endpoint), Conn>,
    scans: HashMap<IpAddr, Scan>,
    dns_messages: u64,
}

impl std::fmt::Debug for Flows<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flows").field("file", &self.file).field("conns", &self.conns.len()).finish()
    }
}

fn key(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Is this the first message of an SMB client (a request) or a server?
fn smb_request(payload: &[u8]) -> Option<bool> {
    if !nbss::looks_like_smb(payload) {
        return None;
    }
    match payload.get(4) {
        Some(0xff) => payload.get(13).map(|f| f & 0x80 == 0),
        Some(0xfe) => payload.get(20).map(|f| f & 0x01 == 0),
        _ => None,
    }
}

impl<'a> Flows<'a> {
    pub fn new(file: &'a str, options: &'a Options) -> Self {
        Flows { file, options, conns: HashMap::default(), scans: HashMap::default(), dns_messages: 0 }
    }

    pub fn packet(&mut self, p: &Packet<'_>, number: u64, hosts: &mut Hosts) {
        match p.transport {
            Transport::Tcp { src_port, dst_port, seq, flags, payload } => {
                let src = (p.src, src_port);
                let dst = (p.dst, dst_port);
                if SMB_PORTS.contains(&dst_port) && (flags & (TCP_SYN | TCP_ACK) == TCP_SYN || !payload.is_empty()) {
                    self.count_scan(p.src, p.dst, number);
                }
                let k = key(src, dst);
                if !self.conns.contains_key(&k) {
                    let Some(conn) = self.new_conn(src, dst, payload) else { return };
                    if self.conns.len() >= MAX_FLOWS {
                        self.evict(hosts);
                    }
                    self.conns.insert(k, conn);
                }
                let Some(conn) = self.conns.get_mut(&k) else { return };
                conn.last = number;
                let dir = usize::from(src != conn.client);
                let mut sink = Sink { file: self.file, hosts };
                let dns_count = &mut self.dns_messages;
                let options = self.options;
                let file = self.file;
                let (client, server) = (conn.client.0, conn.server.0);
                let app = &mut conn.app;
                if !payload.is_empty() {
                    // The other direction, if still held at its pick-up, goes first:
                    // it spoke before this segment.
                    let other = 1 - dir;
                    conn.streams[other].settle(&mut |c: Chunk<'_>| {
                        feed(app, other, c, &mut sink, client, server, file, options, dns_count)
                    });
                }
                conn.streams[dir].segment(seq, flags & TCP_SYN != 0, payload, number, &mut |c: Chunk<'_>| {
                    feed(app, dir, c, &mut sink, client, server, file, options, dns_count)
                });
            }
            Transport::Udp { src_port, dst_port, payload } => {
                if src_port == DNS_PORT || dst_port == DNS_PORT {
                    self.dns(p.src, p.dst, payload, number, hosts);
                }
            }
        }
    }

    fn new_conn(&self, src: Endpoint, dst: Endpoint, payload: &[u8]) -> Option<Conn> {
        let (client, server, app) = if SMB_PORTS.contains(&dst.1) {
            (src, dst, None)
        } else if SMB_PORTS.contains(&src.1) {
            (dst, src, None)
        } else if dst.1 == DNS_PORT {
            (src, dst, Some(App::Dns { buffers: Default::default() }))
        } else if src.1 == DNS_PORT {
            (dst, src, Some(App::Dns { buffers: Default::default() }))
        } else {
            // SMB on another port: known by its first bytes.
            match smb_request(payload)? {
                true => (src, dst, None),
                false => (dst, src, None),
            }
        };
        let app = app.unwrap_or_else(|| App::Smb {
            framers: Default::default(),
            smb: Box::new(SmbConnection::new(client.0, server.0)),
        });
        Some(Conn { client, server, streams: Default::default(), app, last: 0 })
    }

    fn count_scan(&mut self, src: IpAddr, dst: IpAddr, number: u64) {
        if !self.scans.contains_key(&src) && self.scans.len() >= MAX_SCAN_SOURCES {
            return;
        }
        let s = self.scans.entry(src).or_default();
        // Past the threshold the exact count matters little; stop growing.
        if s.targets.len() < WORM_SCAN_MIN_HOSTS * 16 && s.targets.insert(dst) && s.packets.len() < 8 {
            s.packets.push(number);
        }
    }

    fn dns(&mut self, src: IpAddr, dst: IpAddr, payload: &[u8], number: u64, hosts: &mut Hosts) {
        let mut sink = Sink { file: self.file, hosts };
        dns_message(payload, src, dst, number, &mut sink, self.options, &mut self.dns_messages);
    }

    /// Drops the least recently active tenth of the table, delivering what they hold.
    fn evict(&mut self, hosts: &mut Hosts) {
        let mut lasts: Vec<u64> = self.conns.values().map(|c| c.last).collect();
        let cut_at = lasts.len() / 10;
        let (_, cut, _) = lasts.select_nth_unstable(cut_at);
        let cut = *cut;
        let old: Vec<_> = self.conns.iter().filter(|(_, c)| c.last <= cut).map(|(k, _)| *k).collect();
        let mut stats = Stats::default();
        for k in old {
            if let Some(c) = self.conns.remove(&k) {
                self.close(c, hosts, &mut stats);
            }
        }
    }

    fn close(&mut self, mut c: Conn, hosts: &mut Hosts, stats: &mut Stats) {
        let mut sink = Sink { file: self.file, hosts };
        let (client, server) = (c.client.0, c.server.0);
        for dir in 0..2 {
            let app = &mut c.app;
            let (file, options, dns_count) = (self.file, self.options, &mut self.dns_messages);
            c.streams[dir]
                .flush(&mut |ch: Chunk<'_>| feed(app, dir, ch, &mut sink, client, server, file, options, dns_count));
            stats.tcp_gaps += c.streams[dir].gaps;
        }
        if let App::Smb { smb, .. } = &c.app {
            stats.smb1_messages += smb.smb1_messages;
            stats.smb2_messages += smb.smb2_messages;
        }
    }

    /// The end of the capture: flush every connection, judge the scanners.
    pub fn finish(mut self, hosts: &mut Hosts, stats: &mut Stats) {
        let conns: Vec<Conn> = self.conns.drain().map(|(_, c)| c).collect();
        for c in conns {
            self.close(c, hosts, stats);
        }
        stats.dns_messages += self.dns_messages;
        let scans: BTreeMap<IpAddr, Scan> = self.scans.drain().collect();
        for (src, scan) in scans {
            if scan.targets.len() >= WORM_SCAN_MIN_HOSTS {
                let mut fields = BTreeMap::new();
                fields.insert("destinations".to_string(), scan.targets.len().to_string());
                fields.insert("port".to_string(), "445/tcp".to_string());
                hosts.add(
                    src,
                    Evidence {
                        role: Some(Role::Attacker),
                        detector: "worm_scan".into(),
                        summary: format!("connected to {} hosts on TCP 445 (worm scanning)", scan.targets.len()),
                        file: self.file.to_string(),
                        packets: scan.packets,
                        peer: None,
                        fields,
                    },
                );
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn feed(
    app: &mut App,
    dir: usize,
    c: Chunk<'_>,
    sink: &mut Sink<'_>,
    client: IpAddr,
    server: IpAddr,
    file: &str,
    options: &Options,
    dns_count: &mut u64,
) {
    let _ = file;
    match app {
        App::Smb { framers, smb } => {
            let framer = &mut framers[dir];
            if c.after_gap {
                framer.gap();
            }
            framer.feed(c.data, c.packet, &mut |m| {
                if m.kind == nbss::SESSION_MESSAGE {
                    smb.message(dir == 0, m.body, m.packet, sink);
                }
            });
        }
        App::Dns { buffers } => {
            let buf = &mut buffers[dir];
            if c.after_gap {
                buf.clear();
            }
            buf.extend_from_slice(c.data);
            while let Some(len) = buf.get(..2).map(|l| usize::from(u16::from_be_bytes([l[0], l[1]]))) {
                if buf.len() < 2 + len {
                    if buf.len() > MAX_DNS_TCP_BUFFER {
                        buf.clear();
                    }
                    break;
                }
                let (src, dst) = if dir == 0 { (client, server) } else { (server, client) };
                dns_message(&buf[2..2 + len], src, dst, c.packet, sink, options, dns_count);
                buf.drain(..2 + len);
            }
        }
    }
}

fn dns_message(
    payload: &[u8],
    src: IpAddr,
    dst: IpAddr,
    number: u64,
    sink: &mut Sink<'_>,
    options: &Options,
    count: &mut u64,
) {
    let Some(m) = dns::parse(payload) else { return };
    *count += 1;
    sink.hosts.seen(src);
    sink.hosts.seen(dst);
    for q in &m.questions {
        if !options.kill_switch_domains.iter().any(|d| d == q) {
            continue;
        }
        let (host, peer) = if m.response { (dst, src) } else { (src, dst) };
        let mut fields = BTreeMap::new();
        fields.insert("query".to_string(), q.clone());
        fields.insert("dns_id".to_string(), m.id.to_string());
        let (role, detector, summary) = if m.response {
            fields.insert("addresses".to_string(), m.addresses.to_string());
            let outcome =
                if m.addresses > 0 { "resolved: the worm stops" } else { "did not resolve: the worm spreads" };
            (None, "killswitch_answer", format!("WannaCry kill-switch domain {q} {outcome}"))
        } else {
            (Some(Role::Implanted), "killswitch_lookup", format!("looked up the WannaCry kill-switch domain {q}"))
        };
        sink.hosts.add(
            host,
            Evidence {
                role,
                detector: detector.into(),
                summary,
                file: sink.file.to_string(),
                packets: vec![number],
                peer: Some(peer),
                fields,
            },
        );
    }
}
