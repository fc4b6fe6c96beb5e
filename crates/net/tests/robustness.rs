//! Damaged input never panics: every prefix of a capture, flipped bytes,
//! snaplen-cut and zero-length packets, garbage.
use takedown_net::writer::{demo_capture, ethernet_ipv4_tcp, nbss, PcapWriter};
use takedown_net::{analyze_bytes, Options};

fn options() -> Options {
    Options { kill_switch_domains: vec!["kill.example".into()] }
}

#[test]
fn every_prefix_of_a_capture() {
    let cap = demo_capture("kill.example").expect("writes");
    // Every cut in the headers, then every 7th byte through the messages.
    for n in (0..cap.len()).filter(|n| *n < 600 || n % 7 == 0) {
        let _ = analyze_bytes("cut.pcap", &cap[..n], options());
    }
}

#[test]
fn flipped_bytes() {
    let cap = demo_capture("kill.example").expect("writes");
    // A simple deterministic generator: no extra dependency, same run every time.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2000 {
        let mut c = cap.clone();
        for _ in 0..8 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = 24 + (x as usize) % (c.len() - 24);
            c[at] = (x >> 32) as u8;
        }
        let _ = analyze_bytes("flipped.pcap", &c, options());
    }
}

#[test]
fn snaplen_cut_and_zero_length_packets() {
    let msg = nbss(&[0xff, b'S', b'M', b'B', 0x25, 0, 0, 0, 0, 0x18]);
    let frame = ethernet_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 445, 1, 0x18, &msg);
    let mut w = PcapWriter::new(Vec::new()).expect("header");
    w.packet(0, &[]).expect("zero-length");
    for n in 0..frame.len() {
        w.packet(n as u64, &frame[..n]).expect("cut");
    }
    let report = analyze_bytes("cut.pcap", &w.into_inner(), options()).expect("reads");
    assert_eq!(report.stats.packets as usize, frame.len() + 1);
}

#[test]
fn garbage_is_not_a_capture() {
    let err = analyze_bytes("junk.bin", b"GET / HTTP/1.1\r\n\r\n", options()).expect_err("not a capture");
    assert!(err.to_string().contains("junk.bin"));
    assert!(analyze_bytes("empty.pcap", b"", options()).is_err());
}
