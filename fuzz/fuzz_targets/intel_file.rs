//! Feeds arbitrary bytes to the readers of untrusted intel files: the streaming
//! STIX bundle reader and the three signature-base IOC formats. None may panic; a
//! bundle that is accepted must hand on exactly the objects it counts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use takedown_intel::bundle;
use takedown_intel::ioc::{self, IocFileKind};

fuzz_target!(|data: &[u8]| {
    let mut handed = 0;
    if let Ok(n) = bundle::stream(Path::new("fuzz.json"), data, "fuzz", &mut |chunk| handed += chunk.len()) {
        assert_eq!(n, handed);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for kind in [IocFileKind::Hash, IocFileKind::Filename, IocFileKind::C2] {
            let _ = ioc::parse(text, kind, "fuzz.txt", "2024-01-01T00:00:00.000Z");
        }
    }
});
