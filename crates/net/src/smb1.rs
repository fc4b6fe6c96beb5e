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
/// The same field in the older DOS form (MS-CIFS 2.2.3.1 SMB_ERROR: a class byte, a
/// reserved byte, a 16-bit code), read as one little-endian word as above. Servers
/// such as Samba send it when the client did not ask for NT status codes in Flags2.
/// ERRDOS (class 0x01) / ERRbadfid (0x0006): the FID is not open.
pub const DOS_ERRBADFID: u32 = 0x0006_0001;
/// ERRDOS (class 0x01) / ERRnoaccess (0x0005).
pub const DOS_ERRNOACCESS: u32 = 0x0005_0001;

// Header flags (MS-CIFS 2.2.3.1).
pub const FLAGS_CASE_INSENSITIVE: u8 = 0x08;
pub const FLAGS_CANONICAL_PATHS: u8 = 0x10;
pub const FLAGS_REPLY: u8 = 0x80;
pub const FLAGS2_LONG_NAMES: u16 = 0x0001;
pub const FLAGS2_NT_STATUS: u16 = 0x4000;
pub const FLAGS2_UNICODE: u16 = 0x8000;

/// A Negotiate response's dialect index when the server took none of those offered
/// (MS-CIFS 2.2.4.52.2).
pub const NO_DIALECT: u16 = 0xffff;
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

/// The index, into the dialects the request offered, of the one a Negotiate response
/// chose (MS-CIFS 2.2.4.52.2): the first parameter word in every form of the response
/// (one word for the core protocol, 13 for LANMAN, 17 for NT LM 0.12). `None` when the
/// message is not a Negotiate or carries no words, as an error reply may not.
pub fn negotiate_response_dialect(m: &Message<'_>) -> Option<u16> {
    if m.header.command != COM_NEGOTIATE {
        return None;
    }
    le16(m.words, 0)
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

pub mod build;

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
    fn negotiate_response_dialect_index() {
        // A Negotiate response in the NT LM 0.12 form, as Windows 7 sends it without
        // extended security, choosing the sixth dialect offered.
        #[rustfmt::skip]
        let answer: &[u8] = &[
            /* 0x00 */ 0xff, 0x53, 0x4d, 0x42,                         // \xffSMB
            /* 0x04 */ 0x72,                                           // command: Negotiate
            /* 0x05 */ 0x00, 0x00, 0x00, 0x00,                         // status: STATUS_SUCCESS
            /* 0x09 */ 0x98,                                           // flags: reply, canonical, caseless
            /* 0x0a */ 0x01, 0xc8,                                     // flags2: Unicode, NT status, long names
            /* 0x0c */ 0x00, 0x00,                                     // PIDHigh
            /* 0x0e */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // signature
            /* 0x16 */ 0x00, 0x00,                                     // reserved
            /* 0x18 */ 0x00, 0x00,                                     // TID
            /* 0x1a */ 0xff, 0xfe,                                     // PID
            /* 0x1c */ 0x00, 0x00,                                     // UID
            /* 0x1e */ 0x01, 0x00,                                     // MID 1
            /* 0x20 */ 0x11,                                           // word count: 17
            /* 0x21 */ 0x05, 0x00,                                     // DialectIndex: 5
            /* 0x23 */ 0x03,                                           // SecurityMode: user, encrypt
            /* 0x24 */ 0x32, 0x00,                                     // MaxMpxCount: 50
            /* 0x26 */ 0x01, 0x00,                                     // MaxNumberVcs: 1
            /* 0x28 */ 0x04, 0x41, 0x00, 0x00,                         // MaxBufferSize: 16644
            /* 0x2c */ 0x00, 0x00, 0x01, 0x00,                         // MaxRawSize: 65536
            /* 0x30 */ 0x00, 0x00, 0x00, 0x00,                         // SessionKey
            /* 0x34 */ 0xfc, 0xe3, 0x01, 0x00,                         // Capabilities
            /* 0x38 */ 0x80, 0x9a, 0x2f, 0x6b, 0xc2, 0xcc, 0xd2, 0x01, // SystemTime
            /* 0x40 */ 0x88, 0xff,                                     // ServerTimeZone: UTC+2
            /* 0x42 */ 0x08,                                           // ChallengeLength: 8
            /* 0x43 */ 0x0e, 0x00,                                     // byte count: 14
            /* 0x45 */ 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, // challenge
            /* 0x4d */ 0x57, 0x00, 0x47, 0x00, 0x00, 0x00,             // DomainName: "WG"
        ];
        let m = parse(answer).expect("parses");
        assert_eq!((m.header.command, m.header.status, m.header.is_reply(), m.header.mid), (COM_NEGOTIATE, 0, true, 1));
        assert_eq!((m.words.len(), m.bytes.len()), (34, 14));
        assert_eq!(negotiate_response_dialect(&m), Some(5));

        // None of the dialects taken: the one-word form with index 0xffff.
        #[rustfmt::skip]
        let refused: &[u8] = &[
            /* 0x00 */ 0xff, 0x53, 0x4d, 0x42, 0x72, 0x00, 0x00, 0x00, 0x00, 0x98, 0x01, 0x40,
            /* 0x0c */ 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            /* 0x18 */ 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x01, 0x00,
            /* 0x20 */ 0x01,                                           // word count: 1
            /* 0x21 */ 0xff, 0xff,                                     // DialectIndex: none
            /* 0x23 */ 0x00, 0x00,                                     // byte count: 0
        ];
        assert_eq!(parse(refused).and_then(|m| negotiate_response_dialect(&m)), Some(NO_DIALECT));
        // An error answer without words has no index; nor has another command.
        assert_eq!(parse(&refused[..0x21]).and_then(|m| negotiate_response_dialect(&m)), None);
        let mut echo = answer.to_vec();
        echo[4] = COM_ECHO;
        assert_eq!(parse(&echo).and_then(|m| negotiate_response_dialect(&m)), None);
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
    fn short_or_foreign_messages_are_not_smb1() {
        assert!(parse(b"\xfeSMB").is_none());
        assert!(parse(&[0xff; 20]).is_none());
        // A word count pointing past the end yields no words rather than a panic.
        let mut m = message(COM_NEGOTIATE, 0, true, 0, 0, &[], &[]);
        m.truncate(HEADER_LEN);
        m.push(200);
        assert!(parse(&m).is_some_and(|p| p.words.is_empty() && p.bytes.is_empty()));
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
                let _ = negotiate_response_dialect(&p);
            }
        }
    }
}
