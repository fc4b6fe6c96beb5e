//! Detectors on hand-built conversations: one behaviour each, and what must not
//! count as an attack.
use takedown_net::smb1::build::*;
use takedown_net::smb1::*;
use takedown_net::writer::{ethernet_ipv4_tcp, nbss, Conversation, PcapWriter};
use takedown_net::{analyze_bytes, Options, Report, Role};

const CLIENT: [u8; 4] = [10, 1, 0, 5];
const SERVER: [u8; 4] = [10, 1, 0, 9];

fn capture(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new()).expect("header");
    for (i, f) in frames.iter().enumerate() {
        w.packet(i as u64, f).expect("packet");
    }
    w.into_inner()
}

fn report(frames: &[Vec<u8>]) -> Report {
    analyze_bytes("t.pcap", &capture(frames), Options::default()).expect("reads")
}

fn roles(r: &Report, ip: &str) -> Vec<Role> {
    r.hosts.iter().find(|h| h.ip.to_string() == ip).map(|h| h.roles.clone()).unwrap_or_default()
}

fn ipc(c: &mut Conversation) {
    c.to_server(&nbss(&tree_connect(1, "\\\\10.1.0.9\\IPC$")));
    c.to_client(&nbss(&message(COM_TREE_CONNECT_ANDX, 0, true, 7, 1, &[0xff, 0, 0, 0, 0, 0], &[])));
}

fn probe(c: &mut Conversation, answer: u32) {
    let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 7, 9, &w, &[0, b'\\', 0, 0, 0])));
    c.to_client(&nbss(&message(COM_TRANSACTION, answer, true, 7, 9, &[], &[])));
}

#[test]
fn probe_answers_tell_vulnerable_from_patched() {
    for (status, role) in [
        (STATUS_INSUFF_SERVER_RESOURCES, Role::Vulnerable),
        (STATUS_INVALID_HANDLE, Role::Patched),
        (STATUS_ACCESS_DENIED, Role::Patched),
    ] {
        let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
        ipc(&mut c);
        probe(&mut c, status);
        let r = report(&c.frames);
        assert_eq!(roles(&r, "10.1.0.9"), vec![role], "status 0x{status:08x}");
        assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    }
}

#[test]
fn peek_on_another_share_or_fid_is_not_the_probe() {
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    c.to_server(&nbss(&tree_connect(1, "\\\\10.1.0.9\\DATA")));
    c.to_client(&nbss(&message(COM_TREE_CONNECT_ANDX, 0, true, 7, 1, &[0xff, 0, 0, 0, 0, 0], &[])));
    probe(&mut c, STATUS_INSUFF_SERVER_RESOURCES);
    let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0x4001]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 7, 10, &w, &[])));
    let r = report(&c.frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Clean]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Clean]);
}

#[test]
fn doublepulsar_reply_with_the_same_mid_is_not_an_implant() {
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    ipc(&mut c);
    let ping = trans_words(12, 0, 0x0045_8658, (12, 0), &[TRANS2_SESSION_SETUP]);
    c.to_server(&nbss(&message(COM_TRANSACTION2, 0, false, 7, 0x41, &ping, &[0; 13])));
    c.to_client(&nbss(&message(COM_TRANSACTION2, STATUS_NOT_IMPLEMENTED, true, 7, 0x41, &[], &[])));
    let r = report(&c.frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Clean]);
    // The same with the implant's answer: MID + 0x10.
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    ipc(&mut c);
    let kill = trans_words(12, 0, 0x0000_0077, (12, 0), &[TRANS2_SESSION_SETUP]);
    c.to_server(&nbss(&message(COM_TRANSACTION2, 0, false, 7, 0x42, &kill, &[0; 13])));
    c.to_client(&nbss(&message(COM_TRANSACTION2, STATUS_NOT_IMPLEMENTED, true, 7, 0x52, &[], &[])));
    let r = report(&c.frames);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Implanted]);
    let ev = &r.hosts.iter().find(|h| h.ip.to_string() == "10.1.0.5").expect("client").evidence[0];
    assert_eq!(ev.fields.get("opcode").map(String::as_str), Some("0x77 (kill)"));
}

fn trans_secondary(total_data: u16, count: u16, displacement: u16) -> Vec<u8> {
    let mut w = Vec::new();
    for v in [0u16, total_data, 0, 0, 0, count, 60, displacement] {
        w.extend_from_slice(&v.to_le_bytes());
    }
    w
}

#[test]
fn eternalromance_secondary_outside_its_transaction() {
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    ipc(&mut c);
    let t = trans_words(0, 100, 0, (0, 50), &[0x0026, 0x4000]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 7, 20, &t, &[0; 50])));
    c.to_server(&nbss(&message(COM_TRANSACTION_SECONDARY, 0, false, 7, 20, &trans_secondary(100, 8, 21232), &[0; 8])));
    let r = report(&c.frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Exploited]);
    assert!(r.hosts.iter().flat_map(|h| &h.evidence).any(|e| e.detector == "eternalromance"));
}

#[test]
fn eternalchampion_secondary_for_a_complete_transaction() {
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    ipc(&mut c);
    let t = trans_words(0, 50, 0, (0, 50), &[0x0026, 0x4000]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 7, 21, &t, &[0; 50])));
    c.to_server(&nbss(&message(COM_TRANSACTION_SECONDARY, 0, false, 7, 21, &trans_secondary(50, 10, 40), &[0; 10])));
    let r = report(&c.frames);
    assert!(r.hosts.iter().flat_map(|h| &h.evidence).any(|e| e.detector == "eternalchampion"));
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Exploited]);
}

#[test]
fn ordinary_multi_part_transaction_is_clean() {
    let mut c = Conversation::open(CLIENT, 40000, SERVER, 445);
    ipc(&mut c);
    let t = trans_words(0, 100, 0, (0, 50), &[0x0026, 0x4000]);
    c.to_server(&nbss(&message(COM_TRANSACTION, 0, false, 7, 22, &t, &[0; 50])));
    c.to_server(&nbss(&message(COM_TRANSACTION_SECONDARY, 0, false, 7, 22, &trans_secondary(100, 50, 50), &[0; 50])));
    let r = report(&c.frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Clean]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Clean]);
}

#[test]
fn worm_scan_of_many_hosts() {
    let mut frames = Vec::new();
    for i in 0..25u8 {
        frames.push(ethernet_ipv4_tcp(CLIENT, [10, 1, 1, i], 41000 + u16::from(i), 445, 7, 0x02, &[]));
    }
    let r = report(&frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    // A handful of servers is what a workstation talks to.
    let r = report(&frames[..5]);
    assert!(roles(&r, "10.1.0.5").iter().all(|r| *r != Role::Attacker));
}

#[test]
fn mid_stream_out_of_order_and_other_port() {
    // No handshake, a message cut across two segments that arrive in reverse
    // order, on a port that is not 445: still the probe.
    let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
    let msg = nbss(&message(COM_TRANSACTION, 0, false, 7, 9, &w, &[0, b'\\', 0, 0, 0]));
    let answer = nbss(&message(COM_TRANSACTION, STATUS_INSUFF_SERVER_RESOURCES, true, 7, 9, &[], &[]));
    let mut stream = vec![0x13, 0x37, 0x00]; // the tail of an earlier message
    stream.extend_from_slice(&msg);
    let (a, b) = stream.split_at(20);
    let frames = vec![
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 4451, 100, 0x18, &msg),
        ethernet_ipv4_tcp(SERVER, CLIENT, 4451, 40000, 900, 0x18, &answer),
    ];
    let r = report(&frames);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Vulnerable]);
    let frames = vec![
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 100, 0x18, a),
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 120, 0x18, b),
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 120, 0x18, b),
        ethernet_ipv4_tcp(SERVER, CLIENT, 445, 40000, 900, 0x18, &answer),
    ];
    let r = report(&frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Vulnerable]);
    // After the first segment seen, later ones may come in any order.
    let (b1, b2) = b.split_at(15);
    let reordered = vec![
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 100, 0x18, a),
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 135, 0x18, b2),
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 120, 0x18, b1),
    ];
    let r = report(&reordered);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker], "{:?}", r.hosts);
}

/// Picked up mid-stream (no handshake), the probe's first segment arrives after
/// its second: the request is still read whole and its answer matched to it.
#[test]
fn mid_stream_request_whose_first_segment_came_second() {
    let w = trans_words(0, 0, 0, (0, 0), &[TRANS_PEEK_NMPIPE, 0]);
    let request = nbss(&message(COM_TRANSACTION, 0, false, 7, 9, &w, &[0, b'\\', 0, 0, 0]));
    let answer = nbss(&message(COM_TRANSACTION, STATUS_INSUFF_SERVER_RESOURCES, true, 7, 9, &[], &[]));
    let (first, second) = request.split_at(20);
    let frames = vec![
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 7020, 0x18, second),
        ethernet_ipv4_tcp(CLIENT, SERVER, 40000, 445, 7000, 0x18, first),
        ethernet_ipv4_tcp(SERVER, CLIENT, 445, 40000, 9000, 0x18, &answer),
    ];
    let r = report(&frames);
    assert_eq!(roles(&r, "10.1.0.5"), vec![Role::Attacker]);
    assert_eq!(roles(&r, "10.1.0.9"), vec![Role::Vulnerable]);
}
