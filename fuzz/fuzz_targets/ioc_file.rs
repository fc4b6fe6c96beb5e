//! Feeds arbitrary bytes, as text, to the IOC file parser for each of the three
//! signature-base kinds. It may not panic, its notices stay short whatever the
//! lines, and it keeps no more of them than its cap while counting them all.
#![no_main]

use libfuzzer_sys::fuzz_target;
use takedown_intel::ioc::{self, IocFileKind, MAX_SKIPPED_KEPT};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for kind in [IocFileKind::Hash, IocFileKind::Filename, IocFileKind::C2] {
        let parsed = ioc::parse(&text, kind, "fuzz.txt", "2024-01-01T00:00:00.000Z");
        assert!(parsed.skipped.len() <= MAX_SKIPPED_KEPT);
        assert!(parsed.skipped_total >= parsed.skipped.len());
        assert_eq!(parsed.skipped_total.min(MAX_SKIPPED_KEPT), parsed.skipped.len());
        for notice in &parsed.skipped {
            assert!(notice.len() < 2_000, "{} bytes", notice.len());
        }
    }
});
