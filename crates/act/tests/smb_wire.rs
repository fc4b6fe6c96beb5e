//! The MS17-010 probe on the wire: what `takedown harden check` sends, byte for
//! byte, what the unpatched responder answers, and what the capture analyser makes
//! of that conversation.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use takedown_act::smb;
use takedown_net::nbss;
use takedown_net::writer::{Conversation, PcapWriter};
use takedown_net::{analyze_bytes, Options, Role};

/// The longest message the relay passes on: the probe's are under 100 bytes.
const MAX_RELAYED: usize = 64 * 1024;

/// One message of the conversation, as relayed.
#[derive(Debug)]
enum Relayed {
    ToServer(Vec<u8>),
    ToClient(Vec<u8>),
}

/// A relay on 127.0.0.1 between one client and `upstream` that records every
/// session message, framing included, request then answer: the probe waits for each
/// answer before it sends on.
fn relay(upstream: String) -> (String, JoinHandle<Vec<Relayed>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut server = TcpStream::connect(&upstream).unwrap();
        let mut seen = Vec::new();
        let pass = |from: &mut TcpStream, to: &mut TcpStream| {
            let (kind, body) = nbss::read_message(from, MAX_RELAYED).ok()?;
            assert_eq!(kind, nbss::SESSION_MESSAGE);
            let framed = nbss::frame(&body)?;
            to.write_all(&framed).ok()?;
            Some(framed)
        };
        while let Some(q) = pass(&mut client, &mut server) {
            seen.push(Relayed::ToServer(q));
            let Some(a) = pass(&mut server, &mut client) else { break };
            seen.push(Relayed::ToClient(a));
        }
        seen
    });
    (addr, handle)
}

/// The probe against the unpatched responder, through the relay.
fn probe_conversation() -> (smb::SmbCheck, Vec<Relayed>) {
    let (addr, recorded) = relay(smb::unpatched_responder().unwrap());
    let check = smb::check(&addr).unwrap();
    (check, recorded.join().unwrap())
}

fn hex_of(seen: &[Relayed], to_server: bool) -> Vec<String> {
    seen.iter()
        .filter_map(|m| match (m, to_server) {
            (Relayed::ToServer(b), true) | (Relayed::ToClient(b), false) => Some(hex::encode(b)),
            _ => None,
        })
        .collect()
}

#[test]
fn the_probe_sends_what_public_scanners_send() {
    let (check, seen) = probe_conversation();
    assert_eq!(check.ms17_010, smb::Ms17010::Vulnerable, "{check:?}");
    // NetBIOS header, then the SMB1 header (flags 0x18, flags2 0x4001: 8-bit
    // strings, NT status codes; PID 0xfeff), words and bytes.
    let sent = [
        // Negotiate offering NT LM 0.12 only, MID 1.
        "0000002fff534d4272000000001801400000000000000000000000000000fffe00000100000c00024e54204c4d20302e313200",
        // Anonymous Session Setup AndX: max buffer 4356, max mpx 10, no passwords,
        // "Unix" / "takedown"; MID 2.
        "0000004dff534d4273000000001801400000000000000000000000000000fffe000002000dff00000004110a00000000000000000000\
         00000000000000000010000000556e69780074616b65646f776e00",
        // Tree Connect AndX to \\127.0.0.1\IPC$ with the UID given (2049), MID 3.
        "00000043ff534d4275000000001801400000000000000000000000000000fffe0108030004ff000000000001001800005c5c3132372e\
         302e302e315c49504324003f3f3f3f3f00",
        // Transaction PeekNamedPipe on FID 0 of \PIPE\, TID 2048, MID 4.
        "0000004aff534d4225000000001801400000000000000000000000000008fffe010804001000000000ffffffff000000000000000000\
         0000004a0000004a0002002300000007005c504950455c00",
    ];
    assert_eq!(hex_of(&seen, true), sent);
    // Flags 0x98 (a reply), UID 2049, the request's MID; TID 2048 from the tree
    // connect on. NT LM 0.12 (index 0) with security mode 3; a session; IPC$ with
    // search bits; STATUS_INSUFF_SERVER_RESOURCES with no words.
    let answered = [
        "00000045ff534d4272000000009801400000000000000000000000000000fffe0108010011000003000000000000000000000000000000\
         000000000000000000000000000000000000",
        "00000029ff534d4273000000009801400000000000000000000000000000fffe0108020003ff00000000000000",
        "00000029ff534d4275000000009801400000000000000000000000000008fffe0108030003ff00000001000000",
        "00000023ff534d4225050200c09801400000000000000000000000000008fffe01080400000000",
    ];
    assert_eq!(hex_of(&seen, false), answered);
}

/// The two sides of the one codec together: the conversation `harden check` has
/// with an unpatched host, written to a capture, is what the capture analyser
/// calls the MS17-010 check and its unpatched answer.
#[test]
fn the_capture_analyser_recognises_the_probe_act_sends() {
    let (check, seen) = probe_conversation();
    assert_eq!(check.ms17_010, smb::Ms17010::Vulnerable, "{check:?}");
    let (prober, target) = ([192, 0, 2, 66], [192, 0, 2, 10]);
    let mut c = Conversation::open(prober, 49200, target, 445);
    for m in &seen {
        match m {
            Relayed::ToServer(b) => c.to_server(b),
            Relayed::ToClient(b) => c.to_client(b),
        }
    }
    let mut pcap = PcapWriter::new(Vec::new()).unwrap();
    for (i, f) in c.frames.iter().enumerate() {
        pcap.packet(1_494_806_400_000_000 + i as u64 * 1000, f).unwrap();
    }
    let report = analyze_bytes("probe.pcap", &pcap.into_inner(), Options::default()).unwrap();
    let host = |ip: &str| report.hosts.iter().find(|h| h.ip.to_string() == ip).unwrap();
    let (p, t) = (host("192.0.2.66"), host("192.0.2.10"));
    assert_eq!((p.roles.clone(), t.roles.clone()), (vec![Role::Attacker], vec![Role::Vulnerable]), "{report:?}");
    let probe = p.evidence.iter().find(|e| e.detector == "ms17_010_probe").unwrap();
    // The tree connect and its answer were matched: the share is known, not guessed.
    assert_eq!(probe.fields.get("share").map(String::as_str), Some("IPC$"), "{probe:?}");
    let answer = t.evidence.iter().find(|e| e.detector == "ms17_010_probe").unwrap();
    assert_eq!(
        answer.fields.get("status").map(String::as_str),
        Some("STATUS_INSUFF_SERVER_RESOURCES (0xc0000205)"),
        "{answer:?}"
    );
}
