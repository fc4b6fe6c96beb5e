//! Builders for SMB1 messages, the mirror of the parsers beside them: the messages
//! of `takedown harden check`'s MS17-010 probe and of the unpatched server its tests
//! talk to, and the demo capture's and the tests' hand-built traffic. Each returns one
//! SMB message without its NetBIOS session header (`crate::nbss::frame` adds it).
//!
//! Callers pass parameter words of at most 255 words and data of at most 65535
//! bytes, as every SMB1 message has; the builders here stay far below both.

use super::*;

/// The process id of every message built here (MS-CIFS 2.2.3.1 PIDLow). Any value
/// serves; this is the one Windows clients and public scanners are seen with.
pub const PID: u16 = 0xfeff;
/// The UID of the demo's and the tests' messages: a session already set up.
const TEST_UID: u16 = 0x0800;
/// Flags2 of the demo's and the tests' messages: Unicode strings, NT status codes,
/// security signatures, extended attributes, long names, as a Windows client sends.
const TEST_FLAGS2: u16 = 0xc007;
/// `AndXCommand` when no further command follows in the same message (MS-CIFS 2.2.3.4).
pub const ANDX_NONE: u8 = 0xff;
/// The service a Tree Connect AndX asks for when any will do (MS-CIFS 2.2.4.55.1).
pub const ANY_SERVICE: &str = "?????";
/// The Transaction name of the named-pipe device (MS-CIFS 2.2.4.33.1).
pub const PIPE: &str = "\\PIPE\\";
/// Parameter words and byte count after the header: where a message's bytes start
/// is this plus the words' length.
const WORDS_AT: usize = HEADER_LEN + 1;

/// The 32 bytes of a header (MS-CIFS 2.2.3.1).
pub fn header_bytes(h: &Header) -> [u8; HEADER_LEN] {
    let mut b = [0u8; HEADER_LEN];
    b[..4].copy_from_slice(&MAGIC);
    b[4] = h.command;
    b[5..9].copy_from_slice(&h.status.to_le_bytes());
    b[9] = h.flags;
    b[10..12].copy_from_slice(&h.flags2.to_le_bytes());
    // 12..14 PIDHigh: zero.
    b[14..22].copy_from_slice(&h.signature);
    // 22..24 Reserved: zero.
    b[24..26].copy_from_slice(&h.tid.to_le_bytes());
    b[26..28].copy_from_slice(&h.pid.to_le_bytes());
    b[28..30].copy_from_slice(&h.uid.to_le_bytes());
    b[30..32].copy_from_slice(&h.mid.to_le_bytes());
    b
}

/// A whole message: the header, the parameter words (an even number of bytes) and
/// the data bytes, each count in front.
pub fn encode(h: &Header, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    debug_assert!(words.len().is_multiple_of(2) && words.len() <= 2 * usize::from(u8::MAX));
    debug_assert!(bytes.len() <= usize::from(u16::MAX));
    let mut m = Vec::with_capacity(WORDS_AT + words.len() + 2 + bytes.len());
    m.extend_from_slice(&header_bytes(h));
    m.push((words.len() / 2) as u8);
    m.extend_from_slice(words);
    m.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    m.extend_from_slice(bytes);
    m
}

/// The header of a request from a client that reads NT status codes and writes
/// 8-bit strings: the probe's.
pub fn request_header(command: u8, tid: u16, uid: u16, mid: u16) -> Header {
    Header {
        command,
        status: STATUS_SUCCESS,
        flags: FLAGS_CASE_INSENSITIVE | FLAGS_CANONICAL_PATHS,
        flags2: FLAGS2_NT_STATUS | FLAGS2_LONG_NAMES,
        signature: [0; 8],
        tid,
        pid: PID,
        uid,
        mid,
    }
}

/// The header of a server's answer in the same form as [`request_header`].
pub fn reply_header(command: u8, status: u32, tid: u16, uid: u16, mid: u16) -> Header {
    let mut h = request_header(command, tid, uid, mid);
    h.status = status;
    h.flags |= FLAGS_REPLY;
    h
}

/// Appends a NUL-terminated string to a message's bytes, `at` being where those
/// bytes start in the message: UTF-16 aligned on 2 bytes from the header when
/// `unicode`, else 8-bit. The layout [`string_at`] reads.
fn push_string(bytes: &mut Vec<u8>, at: usize, unicode: bool, s: &str) {
    if unicode {
        if (at + bytes.len()) % 2 == 1 {
            bytes.push(0);
        }
        bytes.extend(s.encode_utf16().chain([0]).flat_map(u16::to_le_bytes));
    } else {
        bytes.extend_from_slice(s.as_bytes());
        bytes.push(0);
    }
}

/// The header of the demo's and the tests' messages.
fn test_header(command: u8, status: u32, reply: bool, tid: u16, mid: u16) -> Header {
    let mut h = request_header(command, tid, TEST_UID, mid);
    h.status = status;
    if reply {
        h.flags |= FLAGS_REPLY;
    }
    h.flags2 = TEST_FLAGS2;
    h
}

/// A message with the demo's and the tests' header fields, words and bytes.
pub fn message(command: u8, status: u32, reply: bool, tid: u16, mid: u16, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    encode(&test_header(command, status, reply, tid, mid), words, bytes)
}

/// A message with no words and no bytes: how a server answers a request it refuses
/// (the status says why) and how it acknowledges a part of a multi-part request.
pub fn error_response(h: &Header) -> Vec<u8> {
    encode(h, &[], &[])
}

/// A Negotiate request offering `dialects` in order (MS-CIFS 2.2.4.52.1).
pub fn negotiate_request(h: &Header, dialects: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for d in dialects {
        bytes.push(0x02); // BufferFormat: dialect
        bytes.extend_from_slice(d.as_bytes());
        bytes.push(0);
    }
    encode(h, &[], &bytes)
}

/// A Negotiate response in the NT LM 0.12 form (MS-CIFS 2.2.4.52.2): the index of
/// the chosen dialect and the security mode; no limits, no challenge, no domain.
pub fn negotiate_response(h: &Header, dialect_index: u16, security_mode: u8) -> Vec<u8> {
    let mut words = Vec::with_capacity(34);
    words.extend_from_slice(&dialect_index.to_le_bytes());
    words.push(security_mode);
    // MaxMpxCount, MaxNumberVcs, MaxBufferSize, MaxRawSize, SessionKey, Capabilities,
    // SystemTime, ServerTimeZone, ChallengeLength.
    words.resize(34, 0);
    encode(h, &words, &[])
}

/// A Session Setup AndX request in the NT LM 0.12 form without extended security
/// (MS-CIFS 2.2.4.53.1), with no account and no password: an anonymous (null)
/// session. `native_os` and `native_lanman` name the client.
pub fn anonymous_session_setup(
    h: &Header,
    max_buffer: u16,
    max_mpx: u16,
    native_os: &str,
    native_lanman: &str,
) -> Vec<u8> {
    let mut words = vec![ANDX_NONE, 0, 0, 0]; // AndX command, reserved, offset
    words.extend_from_slice(&max_buffer.to_le_bytes());
    words.extend_from_slice(&max_mpx.to_le_bytes());
    words.extend_from_slice(&0u16.to_le_bytes()); // VcNumber
    words.extend_from_slice(&0u32.to_le_bytes()); // SessionKey
    words.extend_from_slice(&0u16.to_le_bytes()); // OEMPasswordLen
    words.extend_from_slice(&0u16.to_le_bytes()); // UnicodePasswordLen
    words.extend_from_slice(&0u32.to_le_bytes()); // Reserved
    words.extend_from_slice(&0u32.to_le_bytes()); // Capabilities
    let at = WORDS_AT + words.len() + 2;
    let mut bytes = Vec::new();
    for s in ["", "", native_os, native_lanman] {
        // AccountName, PrimaryDomain, NativeOS, NativeLanMan.
        push_string(&mut bytes, at, h.unicode(), s);
    }
    encode(h, &words, &bytes)
}

/// A Session Setup AndX response (MS-CIFS 2.2.4.53.2) with `action` and nothing else.
pub fn session_setup_response(h: &Header, action: u16) -> Vec<u8> {
    let mut words = vec![ANDX_NONE, 0, 0, 0];
    words.extend_from_slice(&action.to_le_bytes());
    encode(h, &words, &[])
}

/// A Tree Connect AndX request (MS-CIFS 2.2.4.55.1) for `path`, such as
/// `\\host\IPC$`, with the password bytes given and the service asked for.
pub fn tree_connect_request(h: &Header, flags: u16, password: &[u8], path: &str, service: &str) -> Vec<u8> {
    let mut words = vec![ANDX_NONE, 0, 0, 0];
    words.extend_from_slice(&flags.to_le_bytes());
    words.extend_from_slice(&(password.len() as u16).to_le_bytes());
    let mut bytes = password.to_vec();
    push_string(&mut bytes, WORDS_AT + words.len() + 2, h.unicode(), path);
    // The service is always 8-bit, whatever Flags2 says.
    push_string(&mut bytes, 0, false, service);
    encode(h, &words, &bytes)
}

/// Tree Connect AndX request for a path, in the demo's and the tests' Unicode form,
/// asking for the extended response.
pub fn tree_connect(mid: u16, path: &str) -> Vec<u8> {
    let h = test_header(COM_TREE_CONNECT_ANDX, 0, false, 0, mid);
    tree_connect_request(&h, 0x0008, &[0], path, ANY_SERVICE)
}

/// A Tree Connect AndX response (MS-CIFS 2.2.4.55.2) with `optional_support`
/// (0x0001: the share supports search bits) and nothing else.
pub fn tree_connect_response(h: &Header, optional_support: u16) -> Vec<u8> {
    let mut words = vec![ANDX_NONE, 0, 0, 0];
    words.extend_from_slice(&optional_support.to_le_bytes());
    encode(h, &words, &[])
}

/// The parameter words of a Transaction or Transaction2 request (MS-CIFS 2.2.4.33.1,
/// 2.2.4.46.1): the fields [`trans_request`] reads, and the limits and offsets.
#[derive(Debug, Clone, Default)]
pub struct TransWords<'a> {
    pub total_param: u16,
    pub total_data: u16,
    pub max_param: u16,
    pub max_data: u16,
    pub timeout: u32,
    pub param_count: u16,
    pub param_offset: u16,
    pub data_count: u16,
    pub data_offset: u16,
    pub setup: &'a [u16],
}

impl TransWords<'_> {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::with_capacity(28 + 2 * self.setup.len());
        w.extend_from_slice(&self.total_param.to_le_bytes());
        w.extend_from_slice(&self.total_data.to_le_bytes());
        w.extend_from_slice(&self.max_param.to_le_bytes());
        w.extend_from_slice(&self.max_data.to_le_bytes());
        w.extend_from_slice(&[0, 0, 0, 0]); // MaxSetupCount, Reserved1, Flags
        w.extend_from_slice(&self.timeout.to_le_bytes());
        w.extend_from_slice(&[0, 0]); // Reserved2
        w.extend_from_slice(&self.param_count.to_le_bytes());
        w.extend_from_slice(&self.param_offset.to_le_bytes());
        w.extend_from_slice(&self.data_count.to_le_bytes());
        w.extend_from_slice(&self.data_offset.to_le_bytes());
        w.push(self.setup.len() as u8);
        w.push(0); // Reserved3
        for s in self.setup {
            w.extend_from_slice(&s.to_le_bytes());
        }
        w
    }
}

/// Transaction / Transaction2 request words with the given totals, timeout and
/// setup, the demo's and the tests' limits, and no offsets.
pub fn trans_words(total_param: u16, total_data: u16, timeout: u32, counts: (u16, u16), setup: &[u16]) -> Vec<u8> {
    TransWords {
        total_param,
        total_data,
        max_param: 1024,
        max_data: 4096,
        timeout,
        param_count: counts.0,
        data_count: counts.1,
        setup,
        ..TransWords::default()
    }
    .encode()
}

/// The MS17-010 check as public scanners send it: a Transaction request on `\PIPE\`,
/// PeekNamedPipe on `fid` (MS-CIFS 2.2.5.5), with no parameters and no data, asking
/// for as much of both as the server will give, the (empty) parameters and data
/// placed right after the name.
pub fn peek_named_pipe_request(h: &Header, fid: u16) -> Vec<u8> {
    let setup = [TRANS_PEEK_NMPIPE, fid];
    let mut t = TransWords { max_param: u16::MAX, max_data: u16::MAX, setup: &setup, ..TransWords::default() };
    // The words' length does not depend on the offsets filled in below.
    let at = WORDS_AT + t.encode().len() + 2;
    let mut name = Vec::new();
    push_string(&mut name, at, h.unicode(), PIPE);
    let end = (at + name.len()) as u16; // under 100 bytes
    t.param_offset = end;
    t.data_offset = end;
    encode(h, &t.encode(), &name)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What each builder writes, the parsers read back.
    #[test]
    fn probe_messages_read_back() {
        let h = request_header(COM_NEGOTIATE, 0, 0, 1);
        let n = negotiate_request(&h, &["PC NETWORK PROGRAM 1.0", "NT LM 0.12"]);
        let m = parse(&n).expect("parses");
        assert_eq!((m.header, m.header.is_reply(), m.header.unicode()), (h, false, false));
        assert_eq!(negotiate_dialects(&m), vec!["PC NETWORK PROGRAM 1.0", "NT LM 0.12"]);

        let r = negotiate_response(&reply_header(COM_NEGOTIATE, 0, 0, 9, 1), 1, 3);
        let m = parse(&r).expect("parses");
        assert!(m.header.is_reply());
        assert_eq!((negotiate_response_dialect(&m), m.words.len(), m.words[2]), (Some(1), 34, 3));

        let s = anonymous_session_setup(&request_header(COM_SESSION_SETUP_ANDX, 0, 0, 2), 4356, 10, "Unix", "t");
        let m = parse(&s).expect("parses");
        assert_eq!((m.words.len(), le16(m.words, 4), m.bytes), (26, Some(4356), &b"\0\0Unix\0t\0"[..]));

        let t = tree_connect_request(&request_header(COM_TREE_CONNECT_ANDX, 0, 9, 3), 0, &[0], "\\\\h\\IPC$", "?????");
        assert_eq!(tree_connect_path(&parse(&t).expect("parses")).as_deref(), Some("\\\\h\\IPC$"));
    }

    #[test]
    fn peek_named_pipe_offsets_point_past_the_name() {
        for unicode in [false, true] {
            let mut h = request_header(COM_TRANSACTION, 7, 9, 4);
            if unicode {
                h.flags2 |= FLAGS2_UNICODE;
            }
            let p = peek_named_pipe_request(&h, 0);
            let m = parse(&p).expect("parses");
            let t = trans_request(&m).expect("a transaction");
            assert_eq!((t.setup, t.name.as_deref()), (vec![TRANS_PEEK_NMPIPE, 0], Some(PIPE)));
            // ParameterOffset and DataOffset (words 10 and 12): the end of the message.
            assert_eq!(le16(m.words, 20).map(usize::from), Some(p.len()));
            assert_eq!(le16(m.words, 24).map(usize::from), Some(p.len()));
        }
    }

    #[test]
    fn unicode_strings_are_aligned_from_the_header() {
        let mut h = request_header(COM_SESSION_SETUP_ANDX, 0, 0, 2);
        h.flags2 |= FLAGS2_UNICODE;
        let s = anonymous_session_setup(&h, 4356, 10, "U", "t");
        // Bytes start at 32 + 1 + 26 + 2 = 61: one pad byte, then UTF-16.
        assert_eq!(parse(&s).expect("parses").bytes, b"\0\0\0\0\0U\0\0\0t\0\0\0");
    }
}
