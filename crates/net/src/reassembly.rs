//! TCP reassembly for one direction of a connection: bytes in sequence order,
//! whatever order the segments came in. Retransmissions and overlaps keep the
//! bytes first delivered; a stream whose handshake is not in the capture starts
//! at the first segment seen; memory is bounded and a hole that stays open is
//! skipped (the consumer is told, so it can find its framing again).

use std::collections::BTreeMap;

/// Bytes held out of order per direction before the oldest hole is given up on.
pub const MAX_PENDING_BYTES: usize = 1 << 20;
/// Segments held out of order per direction before the oldest hole is given up on.
pub const MAX_PENDING_SEGMENTS: usize = 2048;

/// What the stream hands on: in-order bytes, with the number of the packet that
/// carried them, and whether a hole precedes them.
#[derive(Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub data: &'a [u8],
    pub packet: u64,
    pub after_gap: bool,
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct Stream {
    /// The sequence number of the next byte to deliver, once known.
    next_seq: Option<u32>,
    /// Position of `next_seq` in the unwrapped (64-bit) byte stream.
    next_pos: u64,
    pending: BTreeMap<u64, (Vec<u8>, u64)>,
    pending_bytes: usize,
    /// Holes skipped so far.
    pub gaps: u64,
}

impl Stream {
    /// Takes one segment. `syn` segments take one sequence number.
    pub fn segment(&mut self, seq: u32, syn: bool, payload: &[u8], packet: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = *self.next_seq.get_or_insert(seq);
        if payload.is_empty() {
            return;
        }
        // Signed distance from the next expected byte, modulo 2^32.
        let delta = i64::from(seq.wrapping_sub(next) as i32);
        let pos = self.next_pos as i64 + delta;
        if pos < 0 {
            return;
        }
        let pos = pos as u64;
        if pos <= self.next_pos && self.pending.is_empty() {
            // The common case: in order (or a partial retransmission of it).
            let skip = (self.next_pos - pos) as usize;
            if skip < payload.len() {
                self.deliver(&payload[skip..], packet, false, out);
            }
            return;
        }
        let keep_longer = self.pending.get(&pos).is_none_or(|(d, _)| d.len() < payload.len());
        if keep_longer {
            if let Some((old, _)) = self.pending.insert(pos, (payload.to_vec(), packet)) {
                self.pending_bytes -= old.len();
            }
            self.pending_bytes += payload.len();
        }
        self.drain(out);
        while self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_SEGMENTS {
            self.skip_hole(out);
        }
    }

    /// Delivers whatever is held, skipping the holes: the connection is over.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while !self.pending.is_empty() {
            self.skip_hole(out);
        }
    }

    fn deliver(&mut self, data: &[u8], packet: u64, after_gap: bool, out: &mut dyn FnMut(Chunk<'_>)) {
        self.next_pos += data.len() as u64;
        if let Some(n) = self.next_seq.as_mut() {
            *n = n.wrapping_add(data.len() as u32);
        }
        out(Chunk { data, packet, after_gap });
    }

    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        self.drain_from(false, out);
    }

    fn drain_from(&mut self, mut after_gap: bool, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(entry) = self.pending.first_entry() {
            let pos = *entry.key();
            if pos > self.next_pos {
                break;
            }
            let (data, packet) = entry.remove();
            self.pending_bytes -= data.len();
            let skip = (self.next_pos - pos) as usize;
            if skip < data.len() {
                self.deliver(&data[skip..], packet, after_gap, out);
                after_gap = false;
            }
        }
    }

    /// Gives up on the hole before the first held segment.
    fn skip_hole(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        if let Some((&pos, _)) = self.pending.first_key_value() {
            if pos > self.next_pos {
                let jump = pos - self.next_pos;
                self.next_pos = pos;
                if let Some(n) = self.next_seq.as_mut() {
                    *n = n.wrapping_add(jump as u32);
                }
                self.gaps += 1;
            }
            self.drain_from(true, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(segments: &[(u32, &[u8])], flush: bool) -> (Vec<u8>, u64) {
        let mut s = Stream::default();
        let mut got = Vec::new();
        let mut gaps = 0;
        let mut sink = |c: Chunk<'_>| {
            got.extend_from_slice(c.data);
            gaps += u64::from(c.after_gap);
        };
        for (i, (seq, data)) in segments.iter().enumerate() {
            s.segment(*seq, false, data, i as u64 + 1, &mut sink);
        }
        if flush {
            s.flush(&mut sink);
        }
        (got, gaps)
    }

    #[test]
    fn in_order_out_of_order_and_retransmitted() {
        assert_eq!(run(&[(100, b"abc"), (103, b"def")], false).0, b"abcdef");
        assert_eq!(run(&[(100, b"abc"), (106, b"ghi"), (103, b"def")], false).0, b"abcdefghi");
        assert_eq!(run(&[(100, b"abc"), (100, b"abc"), (103, b"def"), (101, b"bc")], false).0, b"abcdef");
    }

    #[test]
    fn overlap_keeps_delivered_bytes() {
        // Bytes already handed on are never replaced by a later overlapping copy.
        assert_eq!(run(&[(100, b"abcd"), (102, b"XXef")], false).0, b"abcdef");
        // Among held segments, the one that starts first fills the hole.
        assert_eq!(run(&[(100, b"ab"), (104, b"ef"), (102, b"cdYY")], false).0, b"abcdYY");
    }

    #[test]
    fn sequence_wraps() {
        assert_eq!(run(&[(u32::MAX - 1, b"ab"), (0, b"cd")], false).0, b"abcd");
    }

    #[test]
    fn hole_is_skipped_at_flush() {
        let (data, gaps) = run(&[(100, b"ab"), (110, b"zz")], true);
        assert_eq!((data.as_slice(), gaps), (&b"abzz"[..], 1));
    }

    #[test]
    fn pending_is_bounded() {
        let mut s = Stream::default();
        let mut total = 0usize;
        let mut sink = |c: Chunk<'_>| total += c.data.len();
        s.segment(0, false, b"a", 1, &mut sink);
        let seg = vec![0u8; 1000];
        // Every segment leaves a one-byte hole before it: nothing is in order.
        for i in 0..3000u32 {
            s.segment(2 + i * 1001, false, &seg, 2, &mut sink);
            assert!(s.pending_bytes <= MAX_PENDING_BYTES && s.pending.len() <= MAX_PENDING_SEGMENTS);
        }
        assert!(s.gaps > 0 && total > 1);
    }
}
