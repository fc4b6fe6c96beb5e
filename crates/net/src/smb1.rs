//! SMB1 (MS-CIFS) messages: the header and the commands MS17-010 traffic uses.
//! Pure functions over the bytes of one message; short or inconsistent input
//! gives `None`.

pub const MAGIC: [u8; 4] = [0xff, b'S', b'M', b'B'];
pub const HEADER_LEN: usize = 32;

// Commands (MS-CIFS 2.2.2.1).
pub const COM_TRANSACTION: u8 = 0x25;
pub const COM_TRANSACTION_SECONDARY: u8 = 0x26;
pub const COM_ECHO: u8 = 0x2b;
pub const COM_TRANSACTION2: u8 = 0x32;
pub const COM_TRANSACTION2_SECONDARY: u8 = 0x33;
pub const COM_NEGOTIATE: u8 = 0x72;
pub const COM_SESSION_SETUP_ANDX: u8 = 0x73;
pub const COM_TREE_CONNECT_ANDX: u8 = 0x75;
pub const COM_NT_TRANSACT: u8 = 0xa0;
pub const COM_NT_TRANSACT_SECONDARY: u8 = 0xa1;

// Transaction subcommands (MS-CIFS 2.2.5, 2.2.6).
pub const TRANS_PEEK_NMPIPE: u16 = 0x0023;
pub const TRANS2_SESSION_SETUP: u16 = 0x000e;

// Status codes (MS-ERREF 2.3.1).
pub const STATUS_SUCCESS: u32 = 0x0000_0000;
pub const STATUS_BUFFER_OVERFLOW: u32 = 0x8000_0005;
pub const STATUS_NOT_IMPLEMENTED: u32 = 0xc000_0002;
pub const STATUS_INVALID_HANDLE: u32 = 0xc000_0008;
pub const STATUS_INVALID_PARAMETER: u32 = 0xc000_000d;
pub const STATUS_ACCESS_DENIED: u32 = 0xc000_0022;
pub const STATUS_INSUFF_SERVER_RESOURCES: u32 = 0xc000_0205;

const FLAGS_REPLY: u8 = 0x80;
const FLAGS2_UNICODE: u16 = 0x8000;
/// A share path longer than this is not a path (MS-CIFS caps paths well below).
const MAX_PATH_UNITS: usize = 1024;

/// The name of a status code, for evidence.
pub fn status_name(status: u32) -> String {
    let name = match status {
        STATUS_SUCCESS => "STATUS_SUCCESS",
        STATUS_BUFFER_OVERFLOW => "STATUS_BUFFER_OVERFLOW",
        STATUS_NOT_IMPLEMENTED => "STATUS_NOT_IMPLEMENTED",
        STATUS_INVALID_HANDLE => "STATUS_INVALID_HANDLE",
        STATUS_INVALID_PARAMETER => "STATUS_INVALID_PARAMETER",
        STATUS_ACCESS_DENIED => "STATUS_ACCESS_DENIED",
        STATUS_INSUFF_SERVER_RESOURCES => "STATUS_INSUFF_SERVER_RESOURCES",
        _ => return format!("0x{status:08x}"),
    };
    format!("{name} (0x{status:08x})")
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The fixed 32-byte header (MS-CIFS 2.2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u8,
    pub status: u32,
    pub flags: u8,
    pub flags2: u16,
    pub signature: [u8; 8],
    pub tid: u16,
    pub pid: u16,
    pub uid: u16,
    pub mid: u16,
}

impl Header {
    pub fn is_reply(&self) -> bool {
        self.flags & FLAGS_REPLY != 0
    }
    pub fn unicode(&self) -> bool {
        self.flags2 & FLAGS2_UNICODE != 0
    }
}

/// A message: header, parameter words and data bytes.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub header: Header,
    pub words: &'a [u8],
    pub bytes: &'a [u8],
    /// Offset of `bytes` from the start of the header, for alignment and offsets.
    pub bytes_offset: usize,
    /// The whole message, for fields located by offset from the header.
    pub raw: &'a [u8],
}

pub fn parse(b: &[u8]) -> Option<Message<'_>> {
    if b.get(..4)? != MAGIC {
        return None;
    }
    let h = b.get(..HEADER_LEN)?;
    let header = Header {
        command: h[4],
        status: le32(h, 5)?,
        flags: h[9],
        flags2: le16(h, 10)?,
        signature: h[14..22].try_into().ok()?,
        tid: le16(h, 24)?,
        pid: le16(h, 26)?,
        uid: le16(h, 28)?,
        mid: le16(h, 30)?,
    };
    let wc = usize::from(*b.get(HEADER_LEN)?);
    let words_end = HEADER_LEN + 1 + 2 * wc;
    // Error replies often carry no words and a truncated byte count: keep the header.
    let words = b.get(HEADER_LEN + 1..words_end).unwrap_or(&[]);
    let bc = le16(b, words_end).map(usize::from).unwrap_or(0);
    let start = (words_end + 2).min(b.len());
    let bytes = &b[start..(start + bc).min(b.len())];
    Some(Message { header, words, bytes, bytes_offset: start, raw: b })
}

/// The dialects a Negotiate request offers (MS-CIFS 2.2.4.52.1).
pub fn negotiate_dialects(m: &Message<'_>) -> Vec<String> {
    m.bytes
        .split(|&c| c == 0)
        .filter_map(|d| d.strip_prefix(&[0x02]))
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect()
}

/// The path of a Tree Connect AndX request (MS-CIFS 2.2.4.55.1), such as `\\host\IPC$`.
pub fn tree_connect_path(m: &Message<'_>) -> Option<String> {
    let password_len = usize::from(le16(m.words, 6)?);
    string_at(m, password_len)
}

/// A NUL-terminated string of the message's bytes starting at `at`: UTF-16, aligned on
/// 2 bytes from the start of the header, when the header says Unicode; else 8-bit.
/// At most `MAX_PATH_UNITS` units.
fn string_at(m: &Message<'_>, mut at: usize) -> Option<String> {
    if m.header.unicode() {
        if (m.bytes_offset + at) % 2 == 1 {
            at += 1;
        }
        let units: Vec<u16> = m
            .bytes
            .get(at..)?
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .take(MAX_PATH_UNITS)
            .collect();
        Some(String::from_utf16_lossy(&units))
    } else {
        let rest = m.bytes.get(at..)?;
        let end = rest.iter().position(|&c| c == 0).unwrap_or(rest.len()).min(MAX_PATH_UNITS);
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }
}

/// The share name at the end of a tree path, upper-cased: `IPC$`.
pub fn share_name(path: &str) -> String {
    path.rsplit('\\').next().unwrap_or(path).to_ascii_uppercase()
}

/// The fields of a Transaction or Transaction2 request (MS-CIFS 2.2.4.33.1,
/// 2.2.4.46.1); their layouts are the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransRequest {
    pub total_param: u32,
    pub total_data: u32,
    pub max_data: u32,
    pub timeout: u32,
    pub param_count: u32,
    pub data_count: u32,
    pub setup: Vec<u16>,
    /// Transaction (not Transaction2) requests name their target: `\PIPE\`, `\PIPE\LANMAN`.
    pub name: Option<String>,
}

impl TransRequest {
    /// Carries all its parameters and data: no secondary request follows.
    pub fn complete(&self) -> bool {
        self.param_count >= self.total_param && self.data_count >= self.total_data
    }
}

pub fn trans_request(m: &Message<'_>) -> Option<TransRequest> {
    let w = m.words;
    let setup_count = usize::from(*w.get(26)?);
    let setup = (0..setup_count).map(|i| le16(w, 28 + 2 * i)).collect::<Option<Vec<_>>>()?;
    let name = (m.header.command == COM_TRANSACTION).then(|| trans_name(m)).flatten();
    Some(TransRequest {
        total_param: u32::from(le16(w, 0)?),
        total_data: u32::from(le16(w, 2)?),
        max_data: u32::from(le16(w, 6)?),
        timeout: le32(w, 12)?,
        param_count: u32::from(le16(w, 18)?),
        data_count: u32::from(le16(w, 22)?),
        setup,
        name,
    })
}

fn trans_name(m: &Message<'_>) -> Option<String> {
    string_at(m, 0)
}

/// The fields of an NT Transact request (MS-CIFS 2.2.4.62.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtTransRequest {
    pub total_param: u32,
    pub total_data: u32,
    pub param_count: u32,
    pub data_count: u32,
    pub function: u16,
}

impl NtTransRequest {
    /// Carries all its parameters and data: no secondary request follows.
    pub fn complete(&self) -> bool {
        self.param_count >= self.total_param && self.data_count >= self.total_data
    }
}

pub fn nt_trans_request(m: &Message<'_>) -> Option<NtTransRequest> {
    let w = m.words;
    Some(NtTransRequest {
        total_param: le32(w, 3)?,
        total_data: le32(w, 7)?,
        param_count: le32(w, 19)?,
        data_count: le32(w, 27)?,
        function: le16(w, 36)?,
    })
}

/// The fields of a secondary request: Transaction (MS-CIFS 2.2.4.34.1),
/// Transaction2 (2.2.4.47.1, which adds a FID) or NT Transact (2.2.4.63.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondaryRequest {
    pub total_param: u32,
    pub total_data: u32,
    pub param_count: u32,
    pub param_displacement: u32,
    pub data_count: u32,
    pub data_displacement: u32,
}

impl SecondaryRequest {
    /// A secondary that writes beyond the totals it declares itself: no client
    /// does that; it is how EternalRomance and EternalChampion reach memory
    /// outside the transaction buffer.
    pub fn out_of_bounds(&self) -> bool {
        u64::from(self.data_displacement) + u64::from(self.data_count) > u64::from(self.total_data)
            || u64::from(self.param_displacement) + u64::from(self.param_count) > u64::from(self.total_param)
    }
}

pub fn secondary_request(m: &Message<'_>) -> Option<SecondaryRequest> {
    let w = m.words;
    if m.header.command == COM_NT_TRANSACT_SECONDARY {
        return Some(SecondaryRequest {
            total_param: le32(w, 3)?,
            total_data: le32(w, 7)?,
            param_count: le32(w, 11)?,
            param_displacement: le32(w, 19)?,
            data_count: le32(w, 23)?,
            data_displacement: le32(w, 31)?,
        });
    }
    Some(SecondaryRequest {
        total_param: u32::from(le16(w, 0)?),
        total_data: u32::from(le16(w, 2)?),
        param_count: u32::from(le16(w, 4)?),
        param_displacement: u32::from(le16(w, 8)?),
        data_count: u32::from(le16(w, 10)?),
        data_displacement: u32::from(le16(w, 14)?),
    })
}

/// DoublePulsar's opcode: the sum of the bytes of the Timeout field of its
/// Trans2 SESSION_SETUP request (0x23 ping, 0xc8 exec, 0x77 kill).
pub fn doublepulsar_opcode(timeout: u32) -> u8 {
    timeout.to_le_bytes().iter().fold(0u8, |a, &b| a.wrapping_add(b))
}

pub fn doublepulsar_opcode_name(op: u8) -> &'static str {
    match op {
        0x23 => "ping",
        0xc8 => "exec",
        0x77 => "kill",
        _ => "unknown",
    }
}

/// Builders for SMB1 messages, used by the demo and the tests.
pub mod build {
    use super::*;

    /// A message with the given header fields, words and bytes.
    pub fn message(command: u8, status: u32, reply: bool, tid: u16, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
        let mut m = MAGIC.to_vec();
        m.push(command);
        m.extend_from_slice(&status.to_le_bytes());
        m.push(if reply { 0x98 } else { 0x18 });
        m.extend_from_slice(&0xc007u16.to_le_bytes());
        m.extend_from_slice(&[0u8; 12]); // PIDHigh, SecurityFeatures, Reserved
        m.extend_from_slice(&tid.to_le_bytes());
        m.extend_from_slice(&0xfeffu16.to_le_bytes());
        m.extend_from_slice(&0x0800u16.to_le_bytes());
        m.extend_from_slice(&mid.to_le_bytes());
        m.push((words.len() / 2) as u8);
        m.extend_from_slice(words);
        m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
        m.extend_from_slice(bytes);
        m
    }

    /// Transaction / Transaction2 request words with the given totals, timeout and setup.
    pub fn trans_words(total_param: u16, total_data: u16, timeout: u32, counts: (u16, u16), setup: &[u16]) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(&total_param.to_le_bytes());
        w.extend_from_slice(&total_data.to_le_bytes());
        w.extend_from_slice(&1024u16.to_le_bytes()); // MaxParameterCount
        w.extend_from_slice(&4096u16.to_le_bytes()); // MaxDataCount
        w.extend_from_slice(&[0, 0, 0, 0]); // MaxSetupCount, Reserved1, Flags
        w.extend_from_slice(&timeout.to_le_bytes());
        w.extend_from_slice(&[0, 0]); // Reserved2
        w.extend_from_slice(&counts.0.to_le_bytes());
        w.extend_from_slice(&0u16.to_le_bytes());
        w.extend_from_slice(&counts.1.to_le_bytes());
        w.extend_from_slice(&0u16.to_le_bytes());
        w.push(setup.len() as u8);
        w.push(0);
        for s in setup {
            w.extend_from_slice(&s.to_le_bytes());
        }
        w
    }

    /// NT Transact request words.
    pub fn nt_trans_words(total_param: u32, total_data: u32, counts: (u32, u32), function: u16) -> Vec<u8> {
        let mut w = vec![0u8, 0, 0];
        for v in [total_param, total_data, 0, 0, counts.0, 0, counts.1, 0] {
            w.extend_from_slice(&v.to_le_bytes());
        }
        w.push(0);
        w.extend_from_slice(&function.to_le_bytes());
        w
    }

    /// Trans2 Secondary words (with the FID word).
    pub fn trans2_secondary_words(total_data: u16, data_count: u16, data_displacement: u16) -> Vec<u8> {
        let mut w = Vec::new();
        for v in [0, total_data, 0, 0, 0, data_count, 53, data_displacement, 0] {
            w.extend_from_slice(&u16::to_le_bytes(v));
        }
        w
    }

    /// Tree Connect AndX request for a path (Unicode).
    pub fn tree_connect(mid: u16, path: &str) -> Vec<u8> {
        let words = [0xff, 0, 0, 0, 0x08, 0, 0x01, 0];
        // Bytes start at 32 + 1 + 8 + 2 = 43; after the 1-byte password the string
        // starts at 44, already even.
        let mut bytes = vec![0u8];
        for u in path.encode_utf16().chain([0]) {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        bytes.extend_from_slice(b"?????\0");
        message(COM_TREE_CONNECT_ANDX, 0, false, 0, mid, &words, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;

    #[test]
    fn header_fields() {
        // Offsets: 0 magic, 4 command, 5 status, 9 flags, 10 flags2, 24 tid, 30 mid.
        let m = message(COM_ECHO, STATUS_INVALID_PARAMETER, true, 2048, 65, &[1, 0], b"abc");
        let p = parse(&m).expect("parses");
        assert_eq!(p.header.command, COM_ECHO);
        assert_eq!(p.header.status, STATUS_INVALID_PARAMETER);
        assert!(p.header.is_reply());
        assert_eq!((p.header.tid, p.header.mid), (2048, 65));
        assert_eq!((p.words, p.bytes), (&[1u8, 0][..], &b"abc"[..]));
    }

    #[test]
    fn negotiate_and_tree_connect() {
        let m = message(COM_NEGOTIATE, 0, false, 0, 1, &[], b"\x02PC NETWORK PROGRAM 1.0\0\x02NT LM 0.12\0");
        assert_eq!(negotiate_dialects(&parse(&m).expect("parses")), vec!["PC NETWORK PROGRAM 1.0", "NT LM 0.12"]);
        let t = tree_connect(3, "\\\\192.0.2.1\\IPC$");
        let path = tree_connect_path(&parse(&t).expect("parses")).expect("path");
        assert_eq!(path, "\\\\192.0.2.1\\IPC$");
        assert_eq!(share_name(&path), "IPC$");
    }

    #[test]
    fn transactions() {
        let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
        // Bytes start at 32 + 1 + 32 + 2 = 67: one pad byte, then the Unicode name.
        let mut name = vec![0u8];
        name.extend("\\PIPE\\\0".encode_utf16().flat_map(u16::to_le_bytes));
        let t = trans_request(&parse(&message(COM_TRANSACTION, 0, false, 1, 2, &w, &name)).expect("parses"))
            .expect("trans");
        assert_eq!(t.setup, vec![TRANS_PEEK_NMPIPE, 0]);
        assert_eq!(t.name.as_deref(), Some("\\PIPE\\"));
        let nt = nt_trans_words(30, 66512, (30, 976), 0);
        let n = nt_trans_request(&parse(&message(COM_NT_TRANSACT, 0, false, 1, 2, &nt, &[])).expect("parses"))
            .expect("nt trans");
        assert_eq!((n.total_data, n.function), (66512, 0));
        let s = trans2_secondary_words(4096, 4096, 976);
        let sec = secondary_request(&parse(&message(COM_TRANSACTION2_SECONDARY, 0, false, 1, 2, &s, &[])).expect("p"))
            .expect("secondary");
        assert!(sec.out_of_bounds());
    }

    #[test]
    fn doublepulsar_opcodes() {
        // Timeouts seen from the implant's controller: bytes sum to the opcode.
        assert_eq!(doublepulsar_opcode(0x0045_8658), 0x23);
        assert_eq!(doublepulsar_opcode(0x00ee_3401), 0x23);
        assert_eq!(doublepulsar_opcode_name(0x77), "kill");
    }

    #[test]
    fn truncated_messages() {
        let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
        let m = message(COM_TRANSACTION, 0, false, 1, 2, &w, b"\\PIPE\\\0");
        for n in 0..m.len() {
            if let Some(p) = parse(&m[..n]) {
                let _ = trans_request(&p);
                let _ = nt_trans_request(&p);
                let _ = secondary_request(&p);
                let _ = tree_connect_path(&p);
                let _ = negotiate_dialects(&p);
            }
        }
    }
}
