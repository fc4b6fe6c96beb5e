//! SMB2/3 (MS-SMB2): enough of the header and Negotiate to tell SMB1 use from
//! SMB2/3 use on a connection.

pub const MAGIC: [u8; 4] = [0xfe, b'S', b'M', b'B'];
/// An encrypted SMB3 message (MS-SMB2 2.2.41).
pub const TRANSFORM_MAGIC: [u8; 4] = [0xfd, b'S', b'M', b'B'];
/// A compressed SMB3 message (MS-SMB2 2.2.42).
pub const COMPRESSION_MAGIC: [u8; 4] = [0xfc, b'S', b'M', b'B'];
pub const HEADER_LEN: usize = 64;
pub const NEGOTIATE: u16 = 0x0000;
const FLAGS_SERVER_TO_REDIR: u32 = 0x0000_0001;
/// Dialects listed in a Negotiate request beyond this are not read.
const MAX_DIALECTS: usize = 64;

/// What one SMB2-family message says about the dialect in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Smb2 {
    /// A Negotiate request offering these dialects (0x0202, 0x0210, 0x0300, ...).
    NegotiateRequest { dialects: Vec<u16> },
    /// A Negotiate response choosing this dialect.
    NegotiateResponse { dialect: u16 },
    /// Any other SMB2 command.
    Other { command: u16, response: bool },
    /// An encrypted or compressed SMB3 message.
    Sealed,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

pub fn parse(b: &[u8]) -> Option<Smb2> {
    let magic = b.get(..4)?;
    if magic == TRANSFORM_MAGIC || magic == COMPRESSION_MAGIC {
        return Some(Smb2::Sealed);
    }
    if magic != MAGIC {
        return None;
    }
    let command = le16(b, 12)?;
    let flags = u32::from(le16(b, 16)?);
    let response = flags & FLAGS_SERVER_TO_REDIR != 0;
    if command != NEGOTIATE {
        return Some(Smb2::Other { command, response });
    }
    let body = b.get(HEADER_LEN..)?;
    if response {
        return Some(Smb2::NegotiateResponse { dialect: le16(body, 4)? });
    }
    let count = usize::from(le16(body, 2)?).min(MAX_DIALECTS);
    let dialects = (0..count).map_while(|i| le16(body, 36 + 2 * i)).collect();
    Some(Smb2::NegotiateRequest { dialects })
}

/// The dialect as people write it: 0x0311 is "3.1.1".
pub fn dialect_name(d: u16) -> String {
    match d {
        0x0202 => "2.0.2".into(),
        0x0210 => "2.1".into(),
        0x0300 => "3.0".into(),
        0x0302 => "3.0.2".into(),
        0x0311 => "3.1.1".into(),
        0x02ff => "2.???".into(),
        _ => format!("0x{d:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(command: u16, response: bool) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        h.extend_from_slice(&64u16.to_le_bytes());
        h.extend_from_slice(&[0u8; 6]);
        h.extend_from_slice(&command.to_le_bytes());
        h.extend_from_slice(&[0, 0]);
        h.extend_from_slice(&u32::from(response).to_le_bytes());
        h.resize(HEADER_LEN, 0);
        h
    }

    #[test]
    fn negotiate_request_and_response() {
        let mut req = header(NEGOTIATE, false);
        let mut body = vec![36, 0, 2, 0];
        body.resize(36, 0);
        body.extend_from_slice(&[0x02, 0x02, 0x11, 0x03]);
        req.extend_from_slice(&body);
        assert_eq!(parse(&req), Some(Smb2::NegotiateRequest { dialects: vec![0x0202, 0x0311] }));
        let mut resp = header(NEGOTIATE, true);
        resp.extend_from_slice(&[65, 0, 1, 0, 0x11, 0x03]);
        assert_eq!(parse(&resp), Some(Smb2::NegotiateResponse { dialect: 0x0311 }));
        assert_eq!(dialect_name(0x0311), "3.1.1");
        for n in 0..req.len() {
            let _ = parse(&req[..n]);
        }
    }
}
