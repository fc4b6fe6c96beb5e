//! The two questions a defender asks of an SMB server after WannaCry: does it still
//! speak SMB1 (`NT LM 0.12`), and does it answer the MS17-010 probe the way an
//! unpatched Windows does?
//!
//! The probe is the one public scanners use: an anonymous SMB1 session, a tree
//! connect to `IPC$`, then a `PeekNamedPipe` transaction on FID 0. An unpatched
//! server answers `STATUS_INSUFF_SERVER_RESOURCES` (0xC0000205); a patched one
//! `STATUS_INVALID_HANDLE` or `STATUS_ACCESS_DENIED`. Nothing is exploited.

use serde::Serialize;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// An SMB message longer than this is not a negotiate or session answer; refuse it
/// rather than allocate what a hostile server asks for.
const MAX_MESSAGE: usize = 64 * 1024;

/// How long to wait for a connection and for each answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

pub const STATUS_SUCCESS: u32 = 0;
pub const STATUS_INSUFF_SERVER_RESOURCES: u32 = 0xC000_0205;
pub const STATUS_INVALID_HANDLE: u32 = 0xC000_0008;
pub const STATUS_ACCESS_DENIED: u32 = 0xC000_0022;
/// The same two answers in the older DOS error form (class ERRDOS, codes ERRbadfid and
/// ERRnoaccess, read as one little-endian word), which servers such as Samba send
/// when the session did not negotiate 32-bit status codes.
pub const DOS_ERRBADFID: u32 = 0x0006_0001;
pub const DOS_ERRNOACCESS: u32 = 0x0005_0001;

const SMB_COM_NEGOTIATE: u8 = 0x72;
const SMB_COM_SESSION_SETUP_ANDX: u8 = 0x73;
const SMB_COM_TREE_CONNECT_ANDX: u8 = 0x75;
const SMB_COM_TRANSACTION: u8 = 0x25;

/// What the MS17-010 probe concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ms17010 {
    Vulnerable,
    Patched,
    Unknown,
}

/// The verdict on one target, in the form `takedown harden check` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmbCheck {
    pub target: String,
    pub smb1: bool,
    pub ms17_010: Ms17010,
    /// What was sent and answered, in words, in order.
    pub evidence: Vec<String>,
}

impl SmbCheck {
    /// Whether the target needs hardening.
    pub fn at_risk(&self) -> bool {
        self.smb1 || self.ms17_010 == Ms17010::Vulnerable
    }
}

/// Why a target could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum SmbError {
    #[error("{target}: not a HOST:PORT address ({reason})")]
    Address { target: String, reason: String },
    #[error("{target}: cannot connect: {source} (is the host up and the port right?)")]
    Connect { target: String, source: std::io::Error },
}

/// Checks one target, `HOST:PORT` (port 445 when none is given).
pub fn check(target: &str) -> Result<SmbCheck, SmbError> {
    let addr = resolve(target)?;
    let mut evidence = Vec::new();
    let mut conn = Conn::open(addr, target)?;
    let negotiated = conn.negotiate(&mut evidence);
    let smb1 = negotiated.is_some();
    let ms17_010 = if smb1 {
        match conn.probe(addr, &mut evidence) {
            Some(status) => classify(status, &mut evidence),
            None => Ms17010::Unknown,
        }
    } else {
        evidence.push(
            "the MS17-010 probe needs SMB1, which the server refused: not exploitable over SMB1, \
             patch level not known"
                .into(),
        );
        Ms17010::Unknown
    };
    Ok(SmbCheck { target: target.to_string(), smb1, ms17_010, evidence })
}

/// The probe's answer, classified as the public scanners do.
pub fn classify(status: u32, evidence: &mut Vec<String>) -> Ms17010 {
    let verdict = match status {
        STATUS_INSUFF_SERVER_RESOURCES => Ms17010::Vulnerable,
        STATUS_INVALID_HANDLE | STATUS_ACCESS_DENIED | DOS_ERRBADFID | DOS_ERRNOACCESS => Ms17010::Patched,
        _ => Ms17010::Unknown,
    };
    let why = match verdict {
        Ms17010::Vulnerable => "STATUS_INSUFF_SERVER_RESOURCES: the answer of a host without MS17-010",
        Ms17010::Patched => "the answer of a patched host",
        Ms17010::Unknown => "an answer the probe does not classify",
    };
    evidence.push(format!("PeekNamedPipe on FID 0 answered 0x{status:08X}: {why}"));
    verdict
}

fn resolve(target: &str) -> Result<SocketAddr, SmbError> {
    let bad = |reason: String| SmbError::Address { target: target.to_string(), reason };
    let with_port = if target.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
        target.to_string()
    } else {
        format!("{target}:445")
    };
    with_port
        .to_socket_addrs()
        .map_err(|e| bad(e.to_string()))?
        .next()
        .ok_or_else(|| bad("the name resolves to no address".into()))
}

struct Conn {
    stream: TcpStream,
    uid: u16,
    tid: u16,
}

/// One parsed SMB1 answer: its status, header ids and the words and bytes after.
#[derive(Debug)]
pub struct Answer {
    pub command: u8,
    pub status: u32,
    pub tid: u16,
    pub uid: u16,
    pub words: Vec<u8>,
}

/// Parses an SMB1 message (without its 4-byte NetBIOS header). `None` when it is
/// not SMB1 (an SMB2 answer, or garbage).
pub fn parse_smb1(msg: &[u8]) -> Option<Answer> {
    if msg.len() < 33 || &msg[..4] != b"\xFFSMB" {
        return None;
    }
    let status = u32::from_le_bytes([msg[5], msg[6], msg[7], msg[8]]);
    let tid = u16::from_le_bytes([msg[24], msg[25]]);
    let uid = u16::from_le_bytes([msg[28], msg[29]]);
    let word_count = usize::from(msg[32]);
    let words = msg.get(33..33 + 2 * word_count).unwrap_or(&[]).to_vec();
    Some(Answer { command: msg[4], status, tid, uid, words })
}

/// An SMB1 header for `command` with the ids given.
pub fn header(command: u8, tid: u16, uid: u16, mid: u16) -> Vec<u8> {
    let mut h = Vec::with_capacity(32);
    h.extend_from_slice(b"\xFFSMB");
    h.push(command);
    h.extend_from_slice(&0u32.to_le_bytes()); // status
    h.push(0x18); // flags: case-insensitive, canonical paths
    h.extend_from_slice(&0x4001u16.to_le_bytes()); // flags2: NT status codes, long names
    h.extend_from_slice(&[0; 12]); // PID high, signature, reserved
    h.extend_from_slice(&tid.to_le_bytes());
    h.extend_from_slice(&0xFEFFu16.to_le_bytes()); // PID
    h.extend_from_slice(&uid.to_le_bytes());
    h.extend_from_slice(&mid.to_le_bytes());
    h
}

/// Wraps an SMB message in its NetBIOS session header.
pub fn frame(msg: &[u8]) -> Vec<u8> {
    let len = msg.len() as u32;
    let mut out = vec![0, (len >> 16) as u8, (len >> 8) as u8, len as u8];
    out.extend_from_slice(msg);
    out
}

/// Reads one NetBIOS-framed message, bounded by [`MAX_MESSAGE`].
pub fn read_message(stream: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 4];
    stream.read_exact(&mut head)?;
    let len = (usize::from(head[1]) << 16) | (usize::from(head[2]) << 8) | usize::from(head[3]);
    if len > MAX_MESSAGE {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a {len}-byte message")));
    }
    let mut msg = vec![0u8; len];
    stream.read_exact(&mut msg)?;
    Ok(msg)
}

/// A listener on 127.0.0.1 that answers one connection as an unpatched Windows 7
/// would: NT LM 0.12, an anonymous session, `IPC$`, and the `PeekNamedPipe` probe
/// with `STATUS_INSUFF_SERVER_RESOURCES`. For tests of [`check`] and of what is built
/// on it, where no unpatched Windows can run; returns its `HOST:PORT`.
pub fn unpatched_responder() -> std::io::Result<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else { return };
        for _ in 0..4 {
            let Ok(req) = read_message(&mut s) else { return };
            let Some(q) = parse_smb1(&req) else { return };
            let (status, words): (u32, Vec<u8>) = match q.command {
                // Dialect index 0, then the rest of a 17-word NT LM 0.12 answer.
                SMB_COM_NEGOTIATE => (0, [vec![0, 0, 3], vec![0; 31]].concat()),
                SMB_COM_SESSION_SETUP_ANDX => (0, vec![0xFF, 0, 0, 0, 0, 0]),
                SMB_COM_TREE_CONNECT_ANDX => (0, vec![0xFF, 0, 0, 0, 1, 0]),
                SMB_COM_TRANSACTION => (STATUS_INSUFF_SERVER_RESOURCES, vec![]),
                _ => return,
            };
            let tid = if q.command == SMB_COM_TREE_CONNECT_ANDX { 2048 } else { q.tid };
            let mut h = header(q.command, tid, 2049, 0);
            h[5..9].copy_from_slice(&status.to_le_bytes());
            h[9] = 0x98; // a reply
            if s.write_all(&frame(&with_params(h, &words, &[]))).is_err() {
                return;
            }
        }
    });
    Ok(addr)
}

fn with_params(mut msg: Vec<u8>, words: &[u8], bytes: &[u8]) -> Vec<u8> {
    msg.push((words.len() / 2) as u8);
    msg.extend_from_slice(words);
    msg.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
    msg.extend_from_slice(bytes);
    msg
}

impl Conn {
    fn open(addr: SocketAddr, target: &str) -> Result<Conn, SmbError> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .map_err(|source| SmbError::Connect { target: target.to_string(), source })?;
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        Ok(Conn { stream, uid: 0, tid: 0 })
    }

    fn exchange(&mut self, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        self.stream.write_all(&frame(msg))?;
        read_message(&mut self.stream)
    }

    /// Offers only `NT LM 0.12`. Some(()) when the server picked it.
    fn negotiate(&mut self, evidence: &mut Vec<String>) -> Option<()> {
        let msg = with_params(header(SMB_COM_NEGOTIATE, 0, 0, 1), &[], b"\x02NT LM 0.12\0");
        let answer = match self.exchange(&msg) {
            Ok(a) => a,
            Err(e) => {
                evidence.push(format!("SMB1 Negotiate (NT LM 0.12): the server closed or did not answer ({e})"));
                return None;
            }
        };
        let Some(a) = parse_smb1(&answer) else {
            let what = if answer.starts_with(b"\xFESMB") { "an SMB2 answer" } else { "not an SMB1 answer" };
            evidence.push(format!("SMB1 Negotiate (NT LM 0.12): {what}"));
            return None;
        };
        let index = a.words.get(..2).map(|w| u16::from_le_bytes([w[0], w[1]]));
        if a.command == SMB_COM_NEGOTIATE && a.status == STATUS_SUCCESS && index == Some(0) {
            evidence.push("SMB1 Negotiate: the server accepted dialect NT LM 0.12".into());
            Some(())
        } else {
            evidence.push(format!(
                "SMB1 Negotiate: refused (status 0x{:08X}, dialect index {})",
                a.status,
                index.map_or("none".into(), |i| format!("0x{i:04X}"))
            ));
            None
        }
    }

    /// Anonymous session, IPC$, PeekNamedPipe. The status of the last step, or
    /// None when an earlier step did not succeed (said in the evidence).
    fn probe(&mut self, addr: SocketAddr, evidence: &mut Vec<String>) -> Option<u32> {
        // Session Setup AndX, NT LM 0.12 form without extended security, no
        // account and no password: an anonymous (null) session.
        let mut words = vec![0xFF, 0, 0, 0];
        words.extend_from_slice(&4356u16.to_le_bytes()); // max buffer
        words.extend_from_slice(&10u16.to_le_bytes()); // max mpx
        words.extend_from_slice(&[0; 2 + 4 + 2 + 2 + 4]); // VC, session key, password lengths, reserved
        words.extend_from_slice(&0u32.to_le_bytes()); // capabilities
        let msg = with_params(header(SMB_COM_SESSION_SETUP_ANDX, 0, 0, 2), &words, b"\0\0Unix\0takedown\0");
        let a = self.step("Session Setup AndX (anonymous)", &msg, evidence)?;
        self.uid = a.uid;

        let path = format!("\\\\{}\\IPC$\0", addr.ip());
        let mut bytes = vec![0]; // password: one NUL
        bytes.extend_from_slice(path.as_bytes());
        bytes.extend_from_slice(b"?????\0");
        let words = [0xFF, 0, 0, 0, 0, 0, 1, 0]; // AndX none, flags 0, password length 1
        let msg = with_params(header(SMB_COM_TREE_CONNECT_ANDX, 0, self.uid, 3), &words, &bytes);
        let a = self.step("Tree Connect AndX to IPC$", &msg, evidence)?;
        self.tid = a.tid;

        let mut words = Vec::with_capacity(32);
        for v in [0u16, 0, 0xFFFF, 0xFFFF] {
            words.extend_from_slice(&v.to_le_bytes()); // total params/data, max params/data
        }
        words.extend_from_slice(&[0, 0]); // max setup, reserved
        words.extend_from_slice(&0u16.to_le_bytes()); // flags
        words.extend_from_slice(&0u32.to_le_bytes()); // timeout
        words.extend_from_slice(&0u16.to_le_bytes()); // reserved
        for v in [0u16, 0x4A, 0, 0x4A] {
            words.extend_from_slice(&v.to_le_bytes()); // param count/offset, data count/offset
        }
        words.extend_from_slice(&[2, 0]); // setup count, reserved
        words.extend_from_slice(&0x0023u16.to_le_bytes()); // PeekNamedPipe
        words.extend_from_slice(&0u16.to_le_bytes()); // FID 0
        let msg = with_params(header(SMB_COM_TRANSACTION, self.tid, self.uid, 4), &words, b"\\PIPE\\\0");
        match self.exchange(&msg).ok().as_deref().and_then(parse_smb1) {
            Some(a) => Some(a.status),
            None => {
                evidence.push("PeekNamedPipe: no SMB1 answer".into());
                None
            }
        }
    }

    fn step(&mut self, what: &str, msg: &[u8], evidence: &mut Vec<String>) -> Option<Answer> {
        match self.exchange(msg) {
            Ok(answer) => match parse_smb1(&answer) {
                Some(a) if a.status == STATUS_SUCCESS => Some(a),
                Some(a) => {
                    evidence.push(format!("{what}: refused with 0x{:08X}; the probe cannot go on", a.status));
                    None
                }
                None => {
                    evidence.push(format!("{what}: not an SMB1 answer"));
                    None
                }
            },
            Err(e) => {
                evidence.push(format!("{what}: no answer ({e})"));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let msg = with_params(header(SMB_COM_NEGOTIATE, 7, 9, 1), &[0, 0], b"");
        let a = parse_smb1(&msg).expect("an SMB1 message");
        assert_eq!((a.command, a.status, a.tid, a.uid, a.words.len()), (SMB_COM_NEGOTIATE, 0, 7, 9, 2));
    }

    #[test]
    fn short_or_foreign_messages_are_not_smb1() {
        assert!(parse_smb1(b"\xFESMB").is_none());
        assert!(parse_smb1(&[0xFF; 20]).is_none());
        // A word count pointing past the end yields no words rather than a panic.
        let mut msg = header(SMB_COM_NEGOTIATE, 0, 0, 0);
        msg.push(200);
        assert!(parse_smb1(&msg).is_some_and(|a| a.words.is_empty()));
    }

    #[test]
    fn oversized_frames_are_refused() {
        let mut r: &[u8] = &[0, 0xFF, 0xFF, 0xFF];
        assert!(read_message(&mut r).is_err());
    }

    #[test]
    fn statuses_classify() {
        let mut e = Vec::new();
        assert_eq!(classify(STATUS_INSUFF_SERVER_RESOURCES, &mut e), Ms17010::Vulnerable);
        assert_eq!(classify(STATUS_INVALID_HANDLE, &mut e), Ms17010::Patched);
        assert_eq!(classify(0xC000_00BB, &mut e), Ms17010::Unknown);
        // Samba 4.17 answers the probe in the DOS form: ERRDOS / ERRbadfid.
        assert_eq!(classify(0x0006_0001, &mut e), Ms17010::Patched);
        assert!(e[0].contains("0xC0000205"));
    }
}
