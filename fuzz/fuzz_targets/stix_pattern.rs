//! Feeds arbitrary UTF-8 to the STIX pattern parser; whatever parses is matched
//! against a small fixed observation and printed and parsed again. None of it may
//! panic, and the printed form must parse back to the same pattern.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use std::sync::OnceLock;
use takedown_intel::pattern;

fn observation() -> &'static [Value] {
    static OBSERVATION: OnceLock<Vec<Value>> = OnceLock::new();
    OBSERVATION.get_or_init(|| {
        vec![
            json!({"type": "file", "name": "invoice.scr", "size": 2048,
                   "hashes": {"SHA-256": "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f", "MD5": "cead3f77f6cda6ec00f57d76c9a6879f"},
                   "created": "2014-01-13T07:03:17Z", "magic_number_hex": "ffd8",
                   "extensions": {"windows-pebinary-ext": {"sections": [{"entropy": 3.5}, {"entropy": 7.9}]}}}),
            json!({"type": "ipv4-addr", "value": "198.51.100.7"}),
            json!({"type": "ipv6-addr", "value": "2001:db8::1"}),
            json!({"type": "domain-name", "value": "example.com", "resolves_to_refs": ["ipv4-addr--1"]}),
            json!({"type": "process", "pid": 4, "name": "System"}),
            json!({"type": "artifact", "payload_bin": "dGhpcyBpcyBhIHRlc3Q="}),
        ]
    })
}

fuzz_target!(|input: &str| {
    let Ok(parsed) = pattern::parse(input) else {
        return;
    };
    let _ = parsed.matches(observation());
    let _ = parsed.simple();
    let _ = parsed.object_types();
    let printed = parsed.to_string();
    match pattern::parse(&printed) {
        Ok(again) => assert_eq!(again, parsed, "{printed}"),
        Err(e) => panic!("canonical form {printed:?} does not parse: {e}"),
    }
});
