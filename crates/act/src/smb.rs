//! The two questions a defender asks of an SMB server after WannaCry: does it still
//! speak SMB1 (`NT LM 0.12`), and does it answer the MS17-010 probe the way an
//! unpatched Windows does?
//!
//! The probe is the one public scanners use: an anonymous SMB1 session, a tree
//! connect to `IPC$`, then a `PeekNamedPipe` transaction on FID 0. An unpatched
//! server answers `STATUS_INSUFF_SERVER_RESOURCES` (0xC0000205); a patched one
//! `STATUS_INVALID_HANDLE` or `STATUS_ACCESS_DENIED`. Nothing is exploited.

use serde::Serialize;
use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;
use takedown_net::nbss;
use takedown_net::smb1::build::{self as smb1_build, request_header};
use takedown_net::smb1::{
    self, COM_NEGOTIATE, COM_SESSION_SETUP_ANDX, COM_TRANSACTION, COM_TREE_CONNECT_ANDX, DOS_ERRBADFID,
    DOS_ERRNOACCESS, STATUS_ACCESS_DENIED, STATUS_INSUFF_SERVER_RESOURCES, STATUS_INVALID_HANDLE, STATUS_SUCCESS,
};

/// An SMB message longer than this is not a negotiate or session answer; refuse it
/// rather than allocate what a hostile server asks for.
const MAX_MESSAGE: usize = 64 * 1024;

/// How long to wait for a connection and for each answer.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// The only dialect offered: the one SMB1 servers speak and the probe needs.
const NT_LM_012: &str = "NT LM 0.12";
/// What the anonymous session says of the client (Session Setup's NativeOS and
/// NativeLanMan), and the buffer and multiplex limits it asks for.
const NATIVE_OS: &str = "Unix";
const NATIVE_LANMAN: &str = "takedown";
const MAX_BUFFER: u16 = 4356;
const MAX_MPX: u16 = 10;

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

/// An answer that is not SMB1 at all, in words for the evidence.
fn not_smb1(answer: &[u8]) -> &'static str {
    if answer.starts_with(&takedown_net::smb2::MAGIC) {
        "an SMB2 answer"
    } else {
        "not an SMB1 answer"
    }
}

/// A listener on 127.0.0.1 that answers one connection as an unpatched Windows 7
/// would: NT LM 0.12, an anonymous session, `IPC$`, and the `PeekNamedPipe` probe
/// with `STATUS_INSUFF_SERVER_RESOURCES`, each answer carrying its request's MID as
/// every server's must (MS-CIFS 2.2.3.1). For tests of [`check`] and of what is built
/// on it, where no unpatched Windows can run; returns its `HOST:PORT`.
pub fn unpatched_responder() -> std::io::Result<String> {
    /// The UID of the session it gives and the TID of the `IPC$` it connects.
    const UID: u16 = 2049;
    const TID: u16 = 2048;
    /// Security mode of its Negotiate answer: user-level, challenge/response.
    const SECURITY_MODE: u8 = 3;
    /// OptionalSupport of its Tree Connect answer: search bits supported.
    const OPTIONAL_SUPPORT: u16 = 1;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else { return };
        for _ in 0..4 {
            let Ok((_, req)) = nbss::read_message(&mut s, MAX_MESSAGE) else { return };
            let Some(q) = smb1::parse(&req) else { return };
            let command = q.header.command;
            let tid = if command == COM_TREE_CONNECT_ANDX { TID } else { q.header.tid };
            let reply = |status| smb1_build::reply_header(command, status, tid, UID, q.header.mid);
            let answer = match command {
                COM_NEGOTIATE => smb1_build::negotiate_response(&reply(STATUS_SUCCESS), 0, SECURITY_MODE),
                COM_SESSION_SETUP_ANDX => smb1_build::session_setup_response(&reply(STATUS_SUCCESS), 0),
                COM_TREE_CONNECT_ANDX => smb1_build::tree_connect_response(&reply(STATUS_SUCCESS), OPTIONAL_SUPPORT),
                COM_TRANSACTION => smb1_build::error_response(&reply(STATUS_INSUFF_SERVER_RESOURCES)),
                _ => return,
            };
            let Some(framed) = nbss::frame(&answer) else { return };
            if s.write_all(&framed).is_err() {
                return;
            }
        }
    });
    Ok(addr)
}

impl Conn {
    fn open(addr: SocketAddr, target: &str) -> Result<Conn, SmbError> {
        let stream = TcpStream::connect_timeout(&addr, TIMEOUT)
            .map_err(|source| SmbError::Connect { target: target.to_string(), source })?;
        let _ = stream.set_read_timeout(Some(TIMEOUT));
        let _ = stream.set_write_timeout(Some(TIMEOUT));
        Ok(Conn { stream, uid: 0, tid: 0 })
    }

    /// Sends one SMB message and reads the body of the session message answering it.
    fn exchange(&mut self, msg: &[u8]) -> std::io::Result<Vec<u8>> {
        let framed = nbss::frame(msg).ok_or_else(|| std::io::Error::other("an SMB message too long to frame"))?;
        self.stream.write_all(&framed)?;
        nbss::read_message(&mut self.stream, MAX_MESSAGE).map(|(_, body)| body)
    }

    /// Offers only `NT LM 0.12`. Some(()) when the server picked it.
    fn negotiate(&mut self, evidence: &mut Vec<String>) -> Option<()> {
        let msg = smb1_build::negotiate_request(&request_header(COM_NEGOTIATE, 0, 0, 1), &[NT_LM_012]);
        let answer = match self.exchange(&msg) {
            Ok(a) => a,
            Err(e) => {
                evidence.push(format!("SMB1 Negotiate (NT LM 0.12): the server closed or did not answer ({e})"));
                return None;
            }
        };
        let Some(a) = smb1::parse(&answer) else {
            evidence.push(format!("SMB1 Negotiate (NT LM 0.12): {}", not_smb1(&answer)));
            return None;
        };
        let index = smb1::negotiate_response_dialect(&a);
        if a.header.status == STATUS_SUCCESS && index == Some(0) {
            evidence.push("SMB1 Negotiate: the server accepted dialect NT LM 0.12".into());
            Some(())
        } else {
            evidence.push(format!(
                "SMB1 Negotiate: refused (status 0x{:08X}, dialect index {})",
                a.header.status,
                index.map_or("none".into(), |i| format!("0x{i:04X}"))
            ));
            None
        }
    }

    /// Anonymous session, IPC$, PeekNamedPipe. The status of the last step, or
    /// None when an earlier step did not succeed (said in the evidence).
    fn probe(&mut self, addr: SocketAddr, evidence: &mut Vec<String>) -> Option<u32> {
        let h = request_header(COM_SESSION_SETUP_ANDX, 0, 0, 2);
        let msg = smb1_build::anonymous_session_setup(&h, MAX_BUFFER, MAX_MPX, NATIVE_OS, NATIVE_LANMAN);
        self.uid = self.step("Session Setup AndX (anonymous)", &msg, evidence)?.uid;

        // The password: one NUL, as for a share-level server that wants none.
        let path = format!("\\\\{}\\IPC$", addr.ip());
        let h = request_header(COM_TREE_CONNECT_ANDX, 0, self.uid, 3);
        let msg = smb1_build::tree_connect_request(&h, 0, &[0], &path, smb1_build::ANY_SERVICE);
        self.tid = self.step("Tree Connect AndX to IPC$", &msg, evidence)?.tid;

        let msg = smb1_build::peek_named_pipe_request(&request_header(COM_TRANSACTION, self.tid, self.uid, 4), 0);
        match self.exchange(&msg).ok().as_deref().and_then(smb1::parse) {
            Some(a) => Some(a.header.status),
            None => {
                evidence.push("PeekNamedPipe: no SMB1 answer".into());
                None
            }
        }
    }

    /// One step of the probe that must succeed: the answer's header, or None (said
    /// in the evidence).
    fn step(&mut self, what: &str, msg: &[u8], evidence: &mut Vec<String>) -> Option<smb1::Header> {
        match self.exchange(msg) {
            Ok(answer) => match smb1::parse(&answer) {
                Some(a) if a.header.status == STATUS_SUCCESS => Some(a.header),
                Some(a) => {
                    evidence.push(format!("{what}: refused with 0x{:08X}; the probe cannot go on", a.header.status));
                    None
                }
                None => {
                    evidence.push(format!("{what}: {}", not_smb1(&answer)));
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
