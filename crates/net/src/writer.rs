//! A small pcap writer and packet builders: the demo's capture and the tests'
//! hand-built packets come from here, not from recorded traffic.

use std::io::{self, Write};

/// Writes the classic pcap format (microsecond timestamps, Ethernet frames).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header.
    pub fn new(mut out: W) -> io::Result<Self> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65535u32.to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?; // LINKTYPE_ETHERNET
        Ok(PcapWriter { out })
    }

    /// Appends one frame captured at `micros` microseconds after the epoch.
    pub fn packet(&mut self, micros: u64, frame: &[u8]) -> io::Result<()> {
        let len = u32::try_from(frame.len()).map_err(|_| io::Error::other("frame too long for pcap"))?;
        self.out.write_all(&u32::try_from(micros / 1_000_000).unwrap_or(u32::MAX).to_le_bytes())?;
        self.out.write_all(&((micros % 1_000_000) as u32).to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(frame)
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

fn ipv4_header(src: [u8; 4], dst: [u8; 4], proto: u8, payload_len: usize) -> Vec<u8> {
    let total = (20 + payload_len).min(usize::from(u16::MAX)) as u16;
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let mut sum: u32 = h.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    h[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    h
}

/// An IPv4 TCP packet without a link header.
pub fn ipv4_tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = ipv4_header(src, dst, 6, 20 + payload.len());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&0u32.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    p
}

/// An IPv4 UDP packet without a link header.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = ipv4_header(src, dst, 17, 8 + payload.len());
    p.extend_from_slice(&sport.to_be_bytes());
    p.extend_from_slice(&dport.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()).min(usize::from(u16::MAX)) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    p
}

/// Wraps an IP packet in an Ethernet frame with made-up MAC addresses.
pub fn ethernet(ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(ip);
    f
}

/// An Ethernet frame carrying IPv4 TCP.
pub fn ethernet_ipv4_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    ethernet(&ipv4_tcp(src, dst, sport, dport, seq, flags, payload))
}

/// Prefixes an SMB message with its NetBIOS session header ([`crate::nbss::frame`]).
/// The demo's and the tests' messages stay far below the header's 16 MiB; a longer
/// one is cut to what the header can say, so that header and body still agree.
pub fn nbss(message: &[u8]) -> Vec<u8> {
    let kept = &message[..message.len().min(crate::nbss::MAX_LENGTH)];
    crate::nbss::frame(kept).unwrap_or_default()
}

/// One TCP conversation being written: keeps the sequence numbers.
#[derive(Debug)]
pub struct Conversation {
    client: ([u8; 4], u16, u32),
    server: ([u8; 4], u16, u32),
    pub frames: Vec<Vec<u8>>,
}

impl Conversation {
    /// Opens a connection with the three-way handshake.
    pub fn open(client: [u8; 4], cport: u16, server: [u8; 4], sport: u16) -> Self {
        let mut c = Conversation { client: (client, cport, 1000), server: (server, sport, 5000), frames: Vec::new() };
        let (cs, ss) = (c.client.2, c.server.2);
        c.frames.push(ethernet_ipv4_tcp(client, server, cport, sport, cs, 0x02, &[]));
        c.frames.push(ethernet_ipv4_tcp(server, client, sport, cport, ss, 0x12, &[]));
        c.client.2 += 1;
        c.server.2 += 1;
        c.frames.push(ethernet_ipv4_tcp(client, server, cport, sport, c.client.2, 0x10, &[]));
        c
    }

    /// The client sends `payload` (one segment).
    pub fn to_server(&mut self, payload: &[u8]) {
        let (a, p, s) = self.client;
        self.frames.push(ethernet_ipv4_tcp(a, self.server.0, p, self.server.1, s, 0x18, payload));
        self.client.2 = s.wrapping_add(payload.len() as u32);
    }

    /// The server sends `payload` (one segment).
    pub fn to_client(&mut self, payload: &[u8]) {
        let (a, p, s) = self.server;
        self.frames.push(ethernet_ipv4_tcp(a, self.client.0, p, self.client.1, s, 0x18, payload));
        self.server.2 = s.wrapping_add(payload.len() as u32);
    }
}

/// The demo's capture, built from MS-CIFS and the public DoublePulsar analyses:
/// 192.0.2.66 checks 192.0.2.10 for MS17-010 (PeekNamedPipe FID 0 on IPC$,
/// answered STATUS_INSUFF_SERVER_RESOURCES), sends an EternalBlue-like NT
/// Transact of 66512 bytes continued by Trans2 Secondary (answered
/// STATUS_INVALID_PARAMETER), then a DoublePulsar ping answered with Multiplex
/// ID + 0x10; 192.0.2.10 then looks up a kill-switch domain; 192.0.2.20 browses
/// a share on 192.0.2.10 as any client does and looks up an ordinary name.
pub fn demo_capture(kill_switch_domain: &str) -> io::Result<Vec<u8>> {
    use crate::smb1::build::*;
    use crate::smb1::*;
    let attacker = [192, 0, 2, 66];
    let victim = [192, 0, 2, 10];
    let client = [192, 0, 2, 20];
    let resolver = [192, 0, 2, 53];
    let mut frames = Vec::new();

    let mut c = Conversation::open(client, 50100, victim, 445);
    c.to_server(&nbss(&message(COM_NEGOTIATE, 0, false, 0, 1, &[], b"\x02NT LM 0.12\0")));
    c.to_client(&nbss(&message(COM_NEGOTIATE, 0, true, 0, 1, &[0; 34], &[])));
    c.to_server(&nbss(&tree_connect(2, "\\\\192.0.2.10\\IPC$")));
    c.to_client(&nbss(&message(COM_TREE_CONNECT_ANDX, 0, true, 2048, 2, &[0xff, 0, 0, 0, 0, 0], &[])));
    // A share listing: a Transaction on \PIPE\LANMAN (NetShareEnum, function 0).
    let w = trans_words(19, 0, 0, (19, 0), &[]);
    let mut lanman = vec![0u8];
    lanman.extend("\\PIPE\\LANMAN\0".encode_utf16().flat_map(u16::to_le_bytes));
    lanman.extend_from_slice(&[0; 19]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 2048, 3, &w, &lanman)));
    c.to_client(&nbss(&message(COM_TRANSACTION, 0, true, 2048, 3, &[0; 20], &[0; 8])));
    frames.extend(c.frames);

    let mut a = Conversation::open(attacker, 49200, victim, 445);
    a.to_server(&nbss(&message(COM_NEGOTIATE, 0, false, 0, 64, &[], b"\x02NT LM 0.12\0")));
    a.to_client(&nbss(&message(COM_NEGOTIATE, 0, true, 0, 64, &[0; 34], &[])));
    a.to_server(&nbss(&tree_connect(64, "\\\\192.0.2.10\\IPC$")));
    a.to_client(&nbss(&message(COM_TREE_CONNECT_ANDX, 0, true, 2048, 64, &[0xff, 0, 0, 0, 0, 0], &[])));
    let probe = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
    let mut pipe = vec![0u8];
    pipe.extend("\\PIPE\\\0".encode_utf16().flat_map(u16::to_le_bytes));
    a.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 2048, 65, &probe, &pipe)));
    a.to_client(&nbss(&message(COM_TRANSACTION, STATUS_INSUFF_SERVER_RESOURCES, true, 2048, 65, &[], &[])));
    let nt = nt_trans_words(30, 66512, (30, 976), 0);
    a.to_server(&nbss(&message(COM_NT_TRANSACT, 0, false, 2048, 66, &nt, &[0; 1006])));
    a.to_client(&nbss(&message(COM_NT_TRANSACT, 0, true, 2048, 66, &[], &[])));
    let mut disp = 976u16;
    for _ in 0..3 {
        let s = trans2_secondary_words(4096, 4096, disp);
        a.to_server(&nbss(&message(COM_TRANSACTION2_SECONDARY, 0, false, 2048, 66, &s, &[0; 4096])));
        disp += 4096;
    }
    a.to_client(&nbss(&message(COM_TRANSACTION2_SECONDARY, STATUS_INVALID_PARAMETER, true, 2048, 66, &[], &[])));
    // DoublePulsar ping: Trans2 SESSION_SETUP, a timeout whose bytes sum to 0x23.
    let ping = trans_words(12, 0, 0x0045_8658, (12, 0), &[TRANS2_SESSION_SETUP]);
    a.to_server(&nbss(&message(COM_TRANSACTION2, 0, false, 2048, 0x41, &ping, &[0; 13])));
    a.to_client(&nbss(&message(COM_TRANSACTION2, STATUS_NOT_IMPLEMENTED, true, 2048, 0x51, &[], &[])));
    frames.extend(a.frames);

    frames.push(ethernet(&ipv4_udp(victim, resolver, 53001, 53, &crate::dns::build_query(0x1234, kill_switch_domain))));
    frames.push(ethernet(&ipv4_udp(client, resolver, 53002, 53, &crate::dns::build_query(0x1235, "intranet.example"))));

    let mut out = PcapWriter::new(Vec::new())?;
    for (i, f) in frames.iter().enumerate() {
        out.packet(1_494_806_400_000_000 + i as u64 * 1000, f)?;
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyze_bytes, Options, Role};

    #[test]
    fn demo_capture_verdicts() {
        let domain = "www.iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com";
        let report = analyze_bytes(
            "demo.pcap",
            &demo_capture(domain).expect("writes"),
            Options { kill_switch_domains: vec![domain.into()] },
        )
        .expect("reads");
        let roles = |ip: &str| report.hosts.iter().find(|h| h.ip.to_string() == ip).map(|h| h.roles.clone());
        assert_eq!(roles("192.0.2.66"), Some(vec![Role::Attacker]));
        assert_eq!(roles("192.0.2.10"), Some(vec![Role::Exploited, Role::Implanted, Role::Vulnerable]));
        assert_eq!(roles("192.0.2.20"), Some(vec![Role::Clean]));
        assert_eq!(roles("192.0.2.53"), Some(vec![Role::Clean]));
        let dp =
            report.hosts.iter().flat_map(|h| &h.evidence).find(|e| e.detector == "doublepulsar_reply").expect("dp");
        assert_eq!(dp.fields.get("reply_mid").map(String::as_str), Some("81 (0x51)"));
        let ping =
            report.hosts.iter().flat_map(|h| &h.evidence).find(|e| e.fields.contains_key("opcode")).expect("ping");
        assert_eq!(ping.fields.get("opcode").map(String::as_str), Some("0x23 (ping)"));
    }

    #[test]
    fn without_intel_the_lookup_is_not_judged() {
        let report =
            analyze_bytes("demo.pcap", &demo_capture("a.example").expect("writes"), Options::default()).expect("reads");
        assert!(report.hosts.iter().flat_map(|h| &h.evidence).all(|e| e.detector != "killswitch_lookup"));
    }
}
