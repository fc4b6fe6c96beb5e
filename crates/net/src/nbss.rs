//! NetBIOS session service framing (RFC 1002 4.3; on TCP 445 the same 4-byte
//! header with a 24-bit length, MS-SMB2 2.1): splits a reassembled byte stream
//! into SMB messages, and finds the framing again after a hole or when the
//! capture starts in the middle of a connection. Also frames messages to send and
//! reads them one at a time from a socket.

use std::io::{self, Read};

/// Message types (RFC 1002 4.3.1).
pub const SESSION_MESSAGE: u8 = 0x00;
pub const SESSION_REQUEST: u8 = 0x81;
pub const POSITIVE_RESPONSE: u8 = 0x82;
pub const NEGATIVE_RESPONSE: u8 = 0x83;
pub const RETARGET_RESPONSE: u8 = 0x84;
pub const KEEP_ALIVE: u8 = 0x85;

/// Bytes of one message kept for the parsers; the rest is counted and skipped.
/// SMB1 headers, parameter words and the start of the data fit easily; a large
/// write or read does not need to be held whole.
pub const MAX_KEPT_MESSAGE: usize = 64 * 1024;
/// Bytes searched for a header after a hole before waiting for more data.
const MAX_RESYNC_WINDOW: usize = 256 * 1024;
/// The longest message a session message header can announce: its length has 24
/// bits on TCP 445.
pub const MAX_LENGTH: usize = 0x00ff_ffff;

/// `message` as a session message: the 4-byte header, then the message. `None` when
/// it is longer than [`MAX_LENGTH`].
pub fn frame(message: &[u8]) -> Option<Vec<u8>> {
    if message.len() > MAX_LENGTH {
        return None;
    }
    let mut out = Vec::with_capacity(4 + message.len());
    out.push(SESSION_MESSAGE);
    out.extend_from_slice(&(message.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(message);
    Some(out)
}

/// Reads one message from a blocking stream, such as a socket to an SMB server:
/// its type and body. A header that is not one, or that announces more than `max`
/// bytes, is an `InvalidData` error, and nothing of the body is read or allocated.
pub fn read_message(stream: &mut impl Read, max: usize) -> io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; 4];
    stream.read_exact(&mut head)?;
    let Some((kind, len)) = parse_header(&head) else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("not a NetBIOS session header: {head:02x?}")));
    };
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a {len}-byte message, more than the {max} bytes expected"),
        ));
    }
    let mut body = vec![0u8; len];
    stream.read_exact(&mut body)?;
    Ok((kind, body))
}

/// Parses a session header: (type, length of what follows).
pub fn parse_header(b: &[u8]) -> Option<(u8, usize)> {
    let h = b.get(..4)?;
    let len = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
    match h[0] {
        SESSION_MESSAGE => Some((h[0], len)),
        // The other types have a 17-bit length at most (RFC 1002).
        SESSION_REQUEST | POSITIVE_RESPONSE | NEGATIVE_RESPONSE | RETARGET_RESPONSE | KEEP_ALIVE if h[1] <= 1 => {
            Some((h[0], len))
        }
        _ => None,
    }
}

/// True when `b` starts with a session message that holds an SMB1, SMB2 or SMB3
/// (transform or compression) header: how framing is found mid-stream.
pub fn looks_like_smb(b: &[u8]) -> bool {
    matches!(parse_header(b), Some((SESSION_MESSAGE, len)) if len >= 4)
        && matches!(b.get(4..8), Some([0xfc..=0xff, b'S', b'M', b'B']))
}

/// A message as delivered: its type, its first bytes (up to [`MAX_KEPT_MESSAGE`]),
/// its full length, and the packet that completed it.
#[derive(Debug)]
pub struct Message<'a> {
    pub kind: u8,
    pub body: &'a [u8],
    pub length: usize,
    pub packet: u64,
}

/// Splits one direction of a connection into messages.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
    /// Bytes of the current message still to skip beyond what was kept.
    skip: usize,
    /// The kept part of a message being skipped, with its type and full length.
    held: Option<(u8, usize)>,
    synced: bool,
    /// Bytes thrown away while looking for a header.
    pub discarded: u64,
}

impl Framer {
    /// A framer for a stream seen from its first byte.
    pub fn at_start() -> Self {
        Framer { synced: true, ..Framer::default() }
    }

    /// Tells the framer that bytes were lost before the next ones.
    pub fn gap(&mut self) {
        self.buf.clear();
        self.skip = 0;
        self.held = None;
        self.synced = false;
    }

    /// Feeds in-order bytes; calls `out` for every message completed.
    pub fn feed(&mut self, mut data: &[u8], packet: u64, out: &mut dyn FnMut(Message<'_>)) {
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = &data[n..];
            if self.skip == 0 {
                if let Some((kind, length)) = self.held.take() {
                    out(Message { kind, body: &self.buf, length, packet });
                    self.buf.clear();
                }
            }
            if self.skip > 0 {
                return;
            }
        }
        self.buf.extend_from_slice(data);
        loop {
            if !self.synced && !self.resync() {
                return;
            }
            let Some((kind, len)) = parse_header(&self.buf) else {
                if self.buf.len() >= 4 {
                    // Not a header where one must be: framing is lost.
                    self.synced = false;
                    self.discarded += 1;
                    self.buf.drain(..1);
                    continue;
                }
                return;
            };
            if len > MAX_KEPT_MESSAGE {
                if self.buf.len() < 4 + MAX_KEPT_MESSAGE {
                    return;
                }
                let beyond = self.buf.len() - 4 - MAX_KEPT_MESSAGE;
                let rest_of_message = len - MAX_KEPT_MESSAGE;
                if beyond >= rest_of_message {
                    out(Message { kind, body: &self.buf[4..4 + MAX_KEPT_MESSAGE], length: len, packet });
                    self.buf.drain(..4 + len);
                    continue;
                }
                // Keep the head, skip the tail as it arrives.
                self.buf.truncate(4 + MAX_KEPT_MESSAGE);
                self.buf.drain(..4);
                self.skip = rest_of_message - beyond;
                self.held = Some((kind, len));
                return;
            }
            if self.buf.len() < 4 + len {
                return;
            }
            out(Message { kind, body: &self.buf[4..4 + len], length: len, packet });
            self.buf.drain(..4 + len);
        }
    }

    /// Drops bytes up to the next plausible SMB session message.
    fn resync(&mut self) -> bool {
        let found = (0..self.buf.len().saturating_sub(7)).find(|&i| looks_like_smb(&self.buf[i..]));
        match found {
            Some(i) => {
                self.discarded += i as u64;
                self.buf.drain(..i);
                self.synced = true;
                true
            }
            None => {
                // Keep the last 7 bytes: a header may straddle the next chunk.
                if self.buf.len() > MAX_RESYNC_WINDOW || self.buf.len() > 7 {
                    let cut = self.buf.len().saturating_sub(7);
                    self.discarded += cut as u64;
                    self.buf.drain(..cut);
                }
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(f: &mut Framer, chunks: &[&[u8]]) -> Vec<(u8, Vec<u8>, usize)> {
        let mut got = Vec::new();
        for c in chunks {
            f.feed(c, 1, &mut |m| got.push((m.kind, m.body.to_vec(), m.length)));
        }
        got
    }

    #[test]
    fn header_types() {
        assert_eq!(parse_header(&[0, 0, 1, 0]), Some((0, 256)));
        assert_eq!(parse_header(&[0x85, 0, 0, 0]), Some((0x85, 0)));
        assert_eq!(parse_header(&[0x85, 7, 0, 0]), None);
        assert_eq!(parse_header(&[0x42, 0, 0, 0]), None);
        assert_eq!(parse_header(&[0, 0]), None);
    }

    #[test]
    fn frames_read_back() {
        let framed = frame(b"\xffSMBr").expect("short enough");
        // Type 0, length 5 in 24 bits big-endian, then the message.
        assert_eq!(framed, [0x00, 0x00, 0x00, 0x05, 0xff, b'S', b'M', b'B', b'r']);
        let mut r: &[u8] = &framed;
        assert_eq!(read_message(&mut r, 5).expect("reads"), (SESSION_MESSAGE, b"\xffSMBr".to_vec()));
        assert!(frame(&vec![0; MAX_LENGTH + 1]).is_none());
    }

    #[test]
    fn read_message_refuses_what_it_cannot_hold() {
        // 16 MiB announced: refused before anything is allocated or read.
        let mut r: &[u8] = &[0x00, 0xff, 0xff, 0xff];
        let e = read_message(&mut r, MAX_KEPT_MESSAGE).expect_err("too long");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        // Not a session header; a body cut short.
        let mut r: &[u8] = &[0x42, 0x00, 0x00, 0x01, 0x00];
        assert_eq!(read_message(&mut r, 16).map_err(|e| e.kind()), Err(io::ErrorKind::InvalidData));
        let mut r: &[u8] = &[0x00, 0x00, 0x00, 0x08, 0xff, b'S'];
        assert_eq!(read_message(&mut r, 16).map_err(|e| e.kind()), Err(io::ErrorKind::UnexpectedEof));
        // A keep-alive is a message of its own type with no body.
        let mut r: &[u8] = &[KEEP_ALIVE, 0, 0, 0];
        assert_eq!(read_message(&mut r, 16).expect("reads"), (KEEP_ALIVE, vec![]));
    }

    #[test]
    fn split_and_joined_messages() {
        let mut f = Framer::at_start();
        let got = collect(&mut f, &[&[0, 0, 0, 2, 0xaa], &[0xbb, 0x85, 0, 0, 0, 0, 0, 0, 1, 0xcc]]);
        assert_eq!(got, vec![(0, vec![0xaa, 0xbb], 2), (0x85, vec![], 0), (0, vec![0xcc], 1)]);
    }

    #[test]
    fn resync_mid_stream() {
        let mut f = Framer::default();
        let mut stream = vec![0x13, 0x37, 0x00, 0x99];
        stream.extend_from_slice(&[0, 0, 0, 5, 0xff, b'S', b'M', b'B', 0x72]);
        let got = collect(&mut f, &[&stream]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, vec![0xff, b'S', b'M', b'B', 0x72]);
    }

    #[test]
    fn large_message_is_kept_in_part() {
        let mut f = Framer::at_start();
        let len = MAX_KEPT_MESSAGE + 10_000;
        let mut stream = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        stream.extend(std::iter::repeat_n(7u8, len));
        stream.extend_from_slice(&[0, 0, 0, 1, 9]);
        let got = collect(&mut f, &stream.chunks(1000).collect::<Vec<_>>());
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].1.len(), got[0].2), (MAX_KEPT_MESSAGE, len));
        assert_eq!(got[1].1, vec![9]);
    }
}
