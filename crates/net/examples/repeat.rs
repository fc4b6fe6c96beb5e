//! Builds a large benchmark capture from small ones:
//! `cargo run --release --example repeat -- OUT MIN_BYTES IN.pcap...`
//!
//! The inputs are written one after another, again and again, until the output
//! holds at least MIN_BYTES. Each copy is shifted in time (every file starts an
//! hour after the previous one ended, so time only moves forward) and, from the
//! second copy on, in address: the second octet of every IPv4 unicast address is
//! raised by the copy number, with the IP, TCP and UDP checksums updated. Without
//! the address shift, a later copy of a connection would carry the same addresses,
//! ports and sequence numbers as the first, and a reader that keeps connections
//! open would drop it as a retransmission instead of analysing it.
//!
//! Ethernet inputs only (the writer writes Ethernet); other frames are copied with
//! their timestamps shifted and their bytes unchanged.
use std::io::{BufReader, BufWriter};
use takedown_net::capture::read_frames;
use takedown_net::writer::PcapWriter;

/// Seconds between the end of one file's copy and the start of the next.
const GAP_SECONDS: f64 = 3600.0;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, min_bytes, inputs @ ..] = args.as_slice() else {
        return Err("usage: repeat OUT MIN_BYTES IN.pcap...".into());
    };
    if inputs.is_empty() {
        return Err("usage: repeat OUT MIN_BYTES IN.pcap...".into());
    }
    let min_bytes: u64 = min_bytes.parse()?;
    let mut w = PcapWriter::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?))?;
    let mut written = 24u64;
    let mut packets = 0u64;
    // Start of the next file's copy, in seconds since the epoch.
    let mut base = 1_600_000_000.0f64;
    let mut copy = 0u8;
    while written < min_bytes {
        for path in inputs {
            let file = BufReader::new(std::fs::File::open(path)?);
            let mut first = None;
            let mut last = 0.0f64;
            let mut failed = None;
            read_frames(path, file, |f| {
                if failed.is_some() {
                    return;
                }
                let t0 = *first.get_or_insert(f.time);
                last = f.time.max(last);
                let micros = ((base + (f.time - t0).max(0.0)) * 1e6) as u64;
                let mut frame = f.data.to_vec();
                if f.linktype == 1 {
                    shift_addresses(&mut frame, copy);
                }
                if let Err(e) = w.packet(micros, &frame) {
                    failed = Some(e);
                }
                written += 16 + frame.len() as u64;
                packets += 1;
            })?;
            if let Some(e) = failed {
                return Err(e.into());
            }
            base += (last - first.unwrap_or(last)).max(0.0) + GAP_SECONDS;
        }
        copy = copy.checked_add(1).ok_or("more than 255 copies needed; give larger inputs")?;
    }
    use std::io::Write;
    w.into_inner().flush()?;
    eprintln!("{out}: {copy} copies, {packets} packets, {written} bytes");
    Ok(())
}

/// Raises the second octet of both IPv4 addresses by `copy` (Ethernet, optionally
/// one or two VLAN tags), fixing the checksums incrementally (RFC 1624).
fn shift_addresses(frame: &mut [u8], copy: u8) {
    if copy == 0 {
        return;
    }
    let mut off = 12;
    let ethertype = loop {
        let Some(t) = frame.get(off..off + 2) else { return };
        let t = u16::from_be_bytes([t[0], t[1]]);
        if t == 0x8100 || t == 0x88a8 {
            off += 4;
            continue;
        }
        break t;
    };
    if ethertype != 0x0800 {
        return;
    }
    let ip = off + 2;
    let Some(&vihl) = frame.get(ip) else { return };
    let ihl = usize::from(vihl & 0x0f) * 4;
    if vihl >> 4 != 4 || ihl < 20 || frame.len() < ip + ihl {
        return;
    }
    let proto = frame[ip + 9];
    let frag_offset = u16::from_be_bytes([frame[ip + 6], frame[ip + 7]]) & 0x1fff;
    for addr in [ip + 12, ip + 16] {
        // Multicast, broadcast and the like keep their meaning.
        if frame[addr] >= 224 || frame[addr] == 0 || frame[addr] == 127 {
            continue;
        }
        let old = u16::from_be_bytes([frame[addr], frame[addr + 1]]);
        frame[addr + 1] = frame[addr + 1].wrapping_add(copy);
        let new = u16::from_be_bytes([frame[addr], frame[addr + 1]]);
        adjust(frame, ip + 10, old, new);
        // The transport checksum covers the addresses through the pseudo-header;
        // only the first fragment carries the transport header.
        if frag_offset == 0 {
            let l4 = ip + ihl;
            match proto {
                6 if frame.len() >= l4 + 18 => adjust(frame, l4 + 16, old, new),
                17 if frame.len() >= l4 + 8 && frame[l4 + 6..l4 + 8] != [0, 0] => adjust(frame, l4 + 6, old, new),
                _ => {}
            }
        }
    }
}

/// HC' = ~(~HC + ~m + m'), in ones' complement arithmetic.
fn adjust(frame: &mut [u8], at: usize, old: u16, new: u16) {
    let hc = u16::from_be_bytes([frame[at], frame[at + 1]]);
    let mut sum = u32::from(!hc) + u32::from(!old) + u32::from(new);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let out = !(sum as u16);
    frame[at..at + 2].copy_from_slice(&out.to_be_bytes());
}
