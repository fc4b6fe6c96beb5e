//! Reading pcap and pcapng files as a stream of frames, with bounded memory
//! whatever the file size.

use crate::Error;
use pcap_parser::pcapng::Block;
use pcap_parser::{PcapBlockOwned, PcapError};
use std::io::Read;

/// The reader's buffer; it grows for a larger block, up to [`MAX_BLOCK`].
const BUFFER: usize = 256 * 1024;
/// The largest block accepted (a jumbo frame with pcapng options fits many times).
pub const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// One captured frame.
#[derive(Debug)]
pub struct Frame<'a> {
    /// 1-based, counting every packet block in the file, as Wireshark does.
    pub number: u64,
    /// Seconds since the epoch.
    pub time: f64,
    pub linktype: i32,
    pub data: &'a [u8],
}

/// How reading ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ending {
    /// The file ended inside a block, or a block was damaged: what was read before counts.
    pub truncated: Option<String>,
}

/// Reads every frame of a capture, calling `f` for each.
pub fn read_frames<R: Read>(file: &str, reader: R, mut f: impl FnMut(Frame<'_>)) -> Result<Ending, Error> {
    let mut rd = match pcap_parser::create_reader(BUFFER, reader) {
        Ok(r) => r,
        Err(PcapError::Eof) => {
            return Err(Error::NotACapture { file: file.into(), detail: "the file is empty".into() })
        }
        Err(PcapError::ReadError) => {
            return Err(Error::NotACapture { file: file.into(), detail: "it could not be read".into() })
        }
        Err(_) => {
            return Err(Error::NotACapture {
                file: file.into(),
                detail: "it starts with neither a pcap header nor a pcapng section header block".into(),
            })
        }
    };
    let mut number = 0u64;
    let mut legacy_linktype = 1;
    let mut legacy_nanos = false;
    // Per pcapng interface: link type and timestamp units per second.
    let mut interfaces: Vec<(i32, u64)> = Vec::new();
    let mut size = BUFFER;
    loop {
        match rd.next() {
            Ok((offset, block)) => {
                match block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_linktype = h.network.0;
                        legacy_nanos = h.is_nanosecond_precision();
                    }
                    PcapBlockOwned::Legacy(b) => {
                        number += 1;
                        let frac = if legacy_nanos { 1e-9 } else { 1e-6 };
                        let time = f64::from(b.ts_sec) + f64::from(b.ts_usec) * frac;
                        let len = (b.caplen as usize).min(b.data.len());
                        f(Frame { number, time, linktype: legacy_linktype, data: &b.data[..len] });
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => interfaces.clear(),
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push((idb.linktype.0, idb.ts_resolution().unwrap_or(1_000_000)));
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        number += 1;
                        let (linktype, units) = interfaces.get(epb.if_id as usize).copied().unwrap_or((1, 1_000_000));
                        let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                        let time = ts as f64 / units.max(1) as f64;
                        let len = (epb.caplen as usize).min(epb.data.len());
                        f(Frame { number, time, linktype, data: &epb.data[..len] });
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        number += 1;
                        let linktype = interfaces.first().map_or(1, |i| i.0);
                        let len = (spb.origlen as usize).min(spb.data.len());
                        f(Frame { number, time: 0.0, linktype, data: &spb.data[..len] });
                    }
                    PcapBlockOwned::NG(_) => {}
                }
                rd.consume(offset);
            }
            Err(PcapError::Eof) => return Ok(Ending::default()),
            Err(PcapError::Incomplete(_)) => {
                if rd.reader_exhausted() {
                    return Ok(Ending {
                        truncated: Some(format!("the file ends inside a block after packet {number}")),
                    });
                }
                let before = rd.data().len();
                if rd.refill().is_err() {
                    return Err(Error::Read {
                        file: file.into(),
                        detail: format!("a read failed after packet {number}"),
                    });
                }
                if rd.data().len() == before && !rd.reader_exhausted() {
                    // The buffer is full and the block is larger: grow, within bounds.
                    if size >= MAX_BLOCK || !rd.grow(size * 2) {
                        return Ok(Ending {
                            truncated: Some(format!("a block after packet {number} is larger than {MAX_BLOCK} bytes")),
                        });
                    }
                    size *= 2;
                }
            }
            // pcap-parser names a record cut by the end of the file this way when the
            // cut falls inside the record's data: a truncated capture, not a damaged one.
            Err(PcapError::UnexpectedEof) => {
                return Ok(Ending { truncated: Some(format!("the file ends inside a packet after packet {number}")) });
            }
            Err(e) => {
                let detail = format!("damaged after packet {number}: {e:?}");
                if number == 0 {
                    return Err(Error::NotACapture { file: file.into(), detail });
                }
                return Ok(Ending { truncated: Some(detail) });
            }
        }
    }
}
