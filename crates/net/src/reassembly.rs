//! TCP reassembly for one direction of a connection: bytes in sequence order,
//! whatever order the segments came in. Retransmissions and overlaps keep the
//! bytes first delivered; a stream whose handshake is not in the capture starts
//! at the earliest of its first few segments (they are held until the other
//! direction speaks, or [`PICKUP_SEGMENTS`] have come, so that one that arrives
//! after a later one is not lost); memory is bounded and a hole that stays open
//! is skipped (the consumer is told, so it can find its framing again).

use std::collections::BTreeMap;

/// Bytes held out of order per direction before the oldest hole is given up on.
pub const MAX_PENDING_BYTES: usize = 1 << 20;
/// Segments held out of order per direction before the oldest hole is given up on.
pub const MAX_PENDING_SEGMENTS: usize = 2048;

/// Data segments held at the start of a stream picked up mid-stream (no SYN seen)
/// before the first delivery, unless the other direction speaks first.
pub const PICKUP_SEGMENTS: usize = 8;
/// Where the unwrapped positions of a stream picked up mid-stream begin: room
/// before the first segment seen for the segments that belong in front of it.
const PICKUP_BASE: u64 = 1 << 32;

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
    /// Picked up mid-stream and still holding its first segments: the start of
    /// the stream is the earliest of them.
    picking_up: bool,
}

impl Stream {
    /// Takes one segment. `syn` segments take one sequence number.
    pub fn segment(&mut self, seq: u32, syn: bool, payload: &[u8], packet: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = match self.next_seq {
            Some(n) => n,
            None => {
                // A SYN, or an empty segment (its sequence number is the next byte
                // the sender will send), fixes the start; a data segment may have
                // overtaken an earlier one.
                if !syn && !payload.is_empty() {
                    self.picking_up = true;
                    self.next_pos = PICKUP_BASE;
                }
                *self.next_seq.insert(seq)
            }
        };
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
        if self.picking_up {
            // Further back than a pending buffer's worth: an old retransmission.
            if self.next_pos - pos.min(self.next_pos) <= MAX_PENDING_BYTES as u64 {
                self.hold(pos, payload, packet);
            }
            if self.pending.len() >= PICKUP_SEGMENTS || self.pending_bytes > MAX_PENDING_BYTES {
                self.settle(out);
            }
            return;
        }
        if pos <= self.next_pos && self.pending.is_empty() {
            // The common case: in order (or a partial retransmission of it).
            let skip = (self.next_pos - pos) as usize;
            if skip < payload.len() {
                self.deliver(&payload[skip..], packet, false, out);
            }
            return;
        }
        self.hold(pos, payload, packet);
        self.drain(out);
        while self.pending_bytes > MAX_PENDING_BYTES || self.pending.len() > MAX_PENDING_SEGMENTS {
            self.skip_hole(out);
        }
    }

    /// Ends the pick-up of a stream begun mid-stream: it starts at the earliest
    /// byte held. The connection calls this when the other direction has data,
    /// so that the two directions are handed on in the order they spoke.
    pub fn settle(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        if !self.picking_up {
            return;
        }
        self.picking_up = false;
        if let Some((&first, _)) = self.pending.first_key_value() {
            if first < self.next_pos {
                let back = self.next_pos - first;
                self.next_pos = first;
                if let Some(n) = self.next_seq.as_mut() {
                    *n = n.wrapping_sub(back as u32);
                }
            }
        }
        self.drain(out);
    }

    /// Holds a segment out of order; of two starting at the same byte, the longer.
    fn hold(&mut self, pos: u64, payload: &[u8], packet: u64) {
        let keep_longer = self.pending.get(&pos).is_none_or(|(d, _)| d.len() < payload.len());
        if keep_longer {
            if let Some((old, _)) = self.pending.insert(pos, (payload.to_vec(), packet)) {
                self.pending_bytes -= old.len();
            }
            self.pending_bytes += payload.len();
        }
    }

    /// Delivers whatever is held, skipping the holes: the connection is over.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        self.settle(out);
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
        } else {
            s.settle(&mut sink);
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
    fn mid_stream_pickup_keeps_an_earlier_segment_that_came_late() {
        // No SYN: the first segment seen (103) was overtaken; 100..103 comes next.
        assert_eq!(run(&[(103, b"def"), (100, b"abc"), (106, b"ghi")], false).0, b"abcdefghi");
        assert_eq!(run(&[(103, b"def"), (100, b"abc")], true), (b"abcdef".to_vec(), 0));
        // With a SYN the start is known: bytes before it are not part of the stream.
        let mut s = Stream::default();
        let mut got = Vec::new();
        let mut sink = |c: Chunk<'_>| got.extend_from_slice(c.data);
        s.segment(99, true, b"", 1, &mut sink);
        s.segment(103, false, b"def", 2, &mut sink);
        s.segment(98, false, b"xy", 3, &mut sink);
        s.segment(100, false, b"abc", 4, &mut sink);
        s.flush(&mut sink);
        assert_eq!(got, b"abcdef");
    }

    #[test]
    fn pickup_delivers_after_a_few_segments_or_when_settled() {
        let mut s = Stream::default();
        let n = std::cell::Cell::new(0usize);
        let mut sink = |c: Chunk<'_>| n.set(n.get() + c.data.len());
        for i in 0..PICKUP_SEGMENTS as u32 - 1 {
            s.segment(1000 + i, false, b"a", 1, &mut sink);
        }
        assert_eq!(n.get(), 0, "held while picking up");
        s.segment(1000 + PICKUP_SEGMENTS as u32 - 1, false, b"a", 1, &mut sink);
        assert_eq!(n.get(), PICKUP_SEGMENTS, "delivered once enough have come");
        s.segment(1000 + PICKUP_SEGMENTS as u32, false, b"b", 1, &mut sink);
        assert_eq!(n.get(), PICKUP_SEGMENTS + 1, "then in order at once");
        // A stream settled early (the other direction spoke) delivers at once.
        let mut t = Stream::default();
        t.segment(5000, false, b"xy", 1, &mut sink);
        t.settle(&mut sink);
        assert_eq!(n.get(), PICKUP_SEGMENTS + 3);
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
