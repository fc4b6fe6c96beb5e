//! The whole path: pcap/pcapng reading → decoding → TCP reassembly → NetBIOS
//! framing → SMB1/SMB2/DNS parsers → detectors → verdicts. The input is tried
//! as a capture file, and its tail also as the payload of one SMB connection
//! inside a well-formed capture, so that the parsers see deep input early.
#![no_main]

use libfuzzer_sys::fuzz_target;
use takedown_net::writer::{ethernet_ipv4_tcp, PcapWriter};
use takedown_net::{analyze_bytes, Options};

fuzz_target!(|data: &[u8]| {
    let options = Options { kill_switch_domains: vec!["kill.example".into()] };
    let _ = analyze_bytes("fuzz.pcap", data, options.clone());
    // The same bytes as segments of an SMB connection, split at every 0xff byte,
    // alternating directions, with sequence numbers taken from the input so that
    // reordering, overlap and holes happen.
    let Ok(mut w) = PcapWriter::new(Vec::new()) else { return };
    let (mut cseq, mut sseq) = (1000u32, 9000u32);
    for (i, chunk) in data.split(|&b| b == 0xfe).enumerate() {
        let jitter = u32::from(chunk.first().copied().unwrap_or(0) % 4);
        let frame = if i % 2 == 0 {
            let f = ethernet_ipv4_tcp([10, 0, 0, 1], [10, 0, 0, 2], 50000, 445, cseq.wrapping_sub(jitter), 0x18, chunk);
            cseq = cseq.wrapping_add(chunk.len() as u32);
            f
        } else {
            let f = ethernet_ipv4_tcp([10, 0, 0, 2], [10, 0, 0, 1], 445, 50000, sseq.wrapping_sub(jitter), 0x18, chunk);
            sseq = sseq.wrapping_add(chunk.len() as u32);
            f
        };
        if w.packet(i as u64, &frame).is_err() {
            return;
        }
    }
    let _ = analyze_bytes("fuzz-smb.pcap", &w.into_inner(), options);
});
