//! DNS messages (RFC 1035) over UDP and TCP: the questions and whether an
//! address came back. Pure functions; names are bounded, compression pointers
//! may only point backwards and are followed a limited number of times.

/// The longest name RFC 1035 allows (2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// Compression pointers followed in one name before it is declared a loop.
const MAX_POINTER_JUMPS: usize = 32;
/// Questions and answers read from one message.
const MAX_RECORDS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: u16,
    pub response: bool,
    pub rcode: u8,
    /// Question names, lower case, without the final dot.
    pub questions: Vec<String>,
    /// A and AAAA records in the answer section.
    pub addresses: usize,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// Reads a possibly compressed name at `at`; returns it and the offset after it.
pub fn read_name(msg: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut name = String::new();
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *msg.get(at)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                return Some((name, end.unwrap_or(at + 1)));
            }
            0x00 => {
                let label = msg.get(at + 1..at + 1 + usize::from(len))?;
                if !name.is_empty() {
                    name.push('.');
                }
                name.extend(label.iter().map(|&c| char::from(c.to_ascii_lowercase())));
                if name.len() > MAX_NAME_LEN {
                    return None;
                }
                at += 1 + usize::from(len);
            }
            0xc0 => {
                let target = usize::from(be16(msg, at)? & 0x3fff);
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS || target >= at {
                    return None;
                }
                end.get_or_insert(at + 2);
                at = target;
            }
            _ => return None,
        }
    }
}

/// Parses a message as carried in UDP (for TCP, strip the 2-byte length first).
pub fn parse(msg: &[u8]) -> Option<Message> {
    let id = be16(msg, 0)?;
    let flags = be16(msg, 2)?;
    let qd = usize::from(be16(msg, 4)?);
    let an = usize::from(be16(msg, 6)?);
    // Opcode 0 (a standard query) only: other opcodes are not name lookups.
    if (flags >> 11) & 0x0f != 0 {
        return None;
    }
    let mut at = 12;
    let mut questions = Vec::new();
    for _ in 0..qd.min(MAX_RECORDS) {
        let (name, next) = read_name(msg, at)?;
        at = next + 4;
        if at > msg.len() {
            return None;
        }
        questions.push(name);
    }
    let mut addresses = 0;
    for _ in 0..an.min(MAX_RECORDS) {
        let Some((_, next)) = read_name(msg, at) else { break };
        let (Some(rtype), Some(rdlen)) = (be16(msg, next), be16(msg, next + 8)) else { break };
        if rtype == 1 || rtype == 28 {
            addresses += 1;
        }
        at = next + 10 + usize::from(rdlen);
    }
    Some(Message { id, response: flags & 0x8000 != 0, rcode: (flags & 0x0f) as u8, questions, addresses })
}

/// A query for `name` (type A), as a stub resolver sends it.
pub fn build_query(id: u16, name: &str) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        m.push(label.len().min(63) as u8);
        m.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_round_trip() {
        let q = build_query(7, "www.Example.com");
        let m = parse(&q).expect("parses");
        assert_eq!((m.id, m.response, m.questions.clone()), (7, false, vec!["www.example.com".to_string()]));
    }

    #[test]
    fn answer_with_compression() {
        let mut r = build_query(9, "a.example");
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1; // one answer
                  // Name pointer to offset 12, type A, class IN, TTL, length 4, address.
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        let m = parse(&r).expect("parses");
        assert!(m.response);
        assert_eq!(m.addresses, 1);
    }

    #[test]
    fn pointer_loops_and_garbage() {
        let mut q = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        q.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(parse(&q).is_none());
        let good = build_query(1, "x.y");
        for n in 0..good.len() {
            let _ = parse(&good[..n]);
        }
    }
}
