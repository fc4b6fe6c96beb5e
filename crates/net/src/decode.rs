//! Link, network and transport headers: from the bytes of one captured frame to
//! the addresses, ports and payload the rest of the crate works on. Pure functions;
//! anything short or malformed is `None`, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link types this reader understands (the tcpdump.org LINKTYPE_ numbers).
pub const LINKTYPE_NULL: i32 = 0;
pub const LINKTYPE_ETHERNET: i32 = 1;
pub const LINKTYPE_RAW_OLD: i32 = 12;
pub const LINKTYPE_RAW: i32 = 101;
pub const LINKTYPE_LOOP: i32 = 108;
pub const LINKTYPE_LINUX_SLL: i32 = 113;
pub const LINKTYPE_IPV4: i32 = 228;
pub const LINKTYPE_IPV6: i32 = 229;
pub const LINKTYPE_LINUX_SLL2: i32 = 276;

/// Stacked VLAN tags beyond this are treated as garbage (QinQ uses two).
const MAX_VLAN_TAGS: usize = 4;
/// IPv6 extension headers walked before giving up on a packet.
const MAX_IPV6_EXTENSIONS: usize = 8;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];

pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_ACK: u8 = 0x10;

/// The transport part of a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp { src_port: u16, dst_port: u16, seq: u32, flags: u8, payload: &'a [u8] },
    Udp { src_port: u16, dst_port: u16, payload: &'a [u8] },
}

/// One decoded IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport<'a>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Decodes a frame of the given link type down to TCP or UDP. Fragments, other
/// protocols and unknown link types give `None`.
pub fn decode(linktype: i32, frame: &[u8]) -> Option<Packet<'_>> {
    match linktype {
        LINKTYPE_ETHERNET => ethernet(frame),
        LINKTYPE_RAW | LINKTYPE_RAW_OLD | LINKTYPE_IPV4 | LINKTYPE_IPV6 => ip(frame),
        LINKTYPE_NULL | LINKTYPE_LOOP => {
            // A 4-byte address family in the writer's byte order: 2 is IPv4, and
            // 24, 28 or 30 are IPv6 on the BSDs; the IP version nibble decides.
            ip(frame.get(4..)?)
        }
        LINKTYPE_LINUX_SLL => ether_payload(be16(frame, 14)?, frame.get(16..)?),
        LINKTYPE_LINUX_SLL2 => ether_payload(be16(frame, 0)?, frame.get(20..)?),
        _ => None,
    }
}

fn ethernet(frame: &[u8]) -> Option<Packet<'_>> {
    let mut ethertype = be16(frame, 12)?;
    let mut at = 14;
    for _ in 0..MAX_VLAN_TAGS {
        if !ETHERTYPE_VLAN.contains(&ethertype) {
            break;
        }
        ethertype = be16(frame, at + 2)?;
        at += 4;
    }
    ether_payload(ethertype, frame.get(at..)?)
}

fn ether_payload(ethertype: u16, rest: &[u8]) -> Option<Packet<'_>> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => ip(rest),
        _ => None,
    }
}

/// An IPv4 or IPv6 packet, by its version nibble.
pub fn ip(b: &[u8]) -> Option<Packet<'_>> {
    match b.first()? >> 4 {
        4 => ipv4(b),
        6 => ipv6(b),
        _ => None,
    }
}

fn ipv4(b: &[u8]) -> Option<Packet<'_>> {
    let ihl = usize::from(b.first()? & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let total = usize::from(be16(b, 2)?);
    // Ethernet pads short frames; the IP total length says where the packet ends.
    // A snaplen-cut packet is shorter than that: keep what there is.
    let end = if total >= ihl { total.min(b.len()) } else { b.len() };
    let frag = be16(b, 6)?;
    if frag & 0x3fff != 0 {
        // More fragments, or not the first: no reassembly of IP fragments.
        return None;
    }
    let proto = *b.get(9)?;
    let a = b.get(12..20)?;
    let src = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
    let dst = Ipv4Addr::new(a[4], a[5], a[6], a[7]);
    transport(proto, IpAddr::V4(src), IpAddr::V4(dst), b.get(ihl..end)?)
}

fn ipv6(b: &[u8]) -> Option<Packet<'_>> {
    let payload_len = usize::from(be16(b, 4)?);
    let mut next = *b.get(6)?;
    let src: [u8; 16] = b.get(8..24)?.try_into().ok()?;
    let dst: [u8; 16] = b.get(24..40)?.try_into().ok()?;
    let end = (40 + payload_len).min(b.len());
    let mut rest = b.get(40..end)?;
    for _ in 0..MAX_IPV6_EXTENSIONS {
        match next {
            // Hop-by-hop, routing, destination options: length in 8-byte units.
            0 | 43 | 60 => {
                let len = (usize::from(*rest.get(1)?) + 1) * 8;
                next = *rest.first()?;
                rest = rest.get(len..)?;
            }
            // A fragment: not reassembled.
            44 => return None,
            _ => break,
        }
    }
    transport(next, IpAddr::V6(Ipv6Addr::from(src)), IpAddr::V6(Ipv6Addr::from(dst)), rest)
}

fn transport(proto: u8, src: IpAddr, dst: IpAddr, b: &[u8]) -> Option<Packet<'_>> {
    let transport = match proto {
        6 => {
            let offset = usize::from(b.get(12)? >> 4) * 4;
            if offset < 20 {
                return None;
            }
            Transport::Tcp {
                src_port: be16(b, 0)?,
                dst_port: be16(b, 2)?,
                seq: be32(b, 4)?,
                flags: *b.get(13)?,
                // A snaplen cut inside the options leaves no payload, not an error.
                payload: b.get(offset..).unwrap_or(&[]),
            }
        }
        17 => Transport::Udp { src_port: be16(b, 0)?, dst_port: be16(b, 2)?, payload: b.get(8..)? },
        _ => return None,
    };
    Some(Packet { src, dst, transport })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::{ethernet_ipv4_tcp, ipv4_udp};

    #[test]
    fn ethernet_tcp() {
        let f = ethernet_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1234, 445, 1000, TCP_ACK, b"hello");
        let p = decode(LINKTYPE_ETHERNET, &f).expect("decodes");
        assert_eq!(p.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
        match p.transport {
            Transport::Tcp { dst_port, seq, payload, .. } => {
                assert_eq!((dst_port, seq, payload), (445, 1000, &b"hello"[..]))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn vlan_and_cooked() {
        let f = ethernet_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 3, 0, b"x");
        // Insert an 802.1Q tag after the MAC addresses.
        let mut tagged = f[..12].to_vec();
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x05]);
        tagged.extend_from_slice(&f[12..]);
        assert!(decode(LINKTYPE_ETHERNET, &tagged).is_some());
        // SLL: 14 bytes, then the protocol, then IP.
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00]);
        sll.extend_from_slice(&f[14..]);
        assert!(decode(LINKTYPE_LINUX_SLL, &sll).is_some());
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&f[14..]);
        assert!(decode(LINKTYPE_LINUX_SLL2, &sll2).is_some());
        assert!(decode(LINKTYPE_RAW, &f[14..]).is_some());
    }

    #[test]
    fn udp_and_ipv6() {
        let u = ipv4_udp([1, 1, 1, 1], [2, 2, 2, 2], 5353, 53, b"q");
        assert!(matches!(ip(&u).map(|p| p.transport), Some(Transport::Udp { dst_port: 53, .. })));
        let mut v6 = vec![0x60, 0, 0, 0, 0, 9, 17, 64];
        v6.extend_from_slice(&[0u8; 32]);
        v6.extend_from_slice(&[0x12, 0x34, 0, 53, 0, 9, 0, 0, b'z']);
        assert!(matches!(ip(&v6).map(|p| p.transport), Some(Transport::Udp { dst_port: 53, .. })));
    }

    #[test]
    fn short_and_garbage_frames() {
        let f = ethernet_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 3, 0, b"payload");
        for n in 0..f.len() {
            let _ = decode(LINKTYPE_ETHERNET, &f[..n]);
        }
        for lt in [0, 1, 12, 101, 108, 113, 228, 229, 276, 9999] {
            let _ = decode(lt, &[0xff; 64]);
            let _ = decode(lt, &[]);
        }
    }
}
