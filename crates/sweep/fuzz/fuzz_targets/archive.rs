//! Zip archives as a sweep meets them in files it does not trust: the walker must
//! stay within its limits (members, expanded bytes, depth) and never panic, whatever
//! the central directory, local headers and compressed streams say. The input is
//! tried as it is and, since most random bytes are not a zip at all, also as the
//! one member of a well-formed stored archive, so that nested archives are reached.
#![no_main]

#[path = "../../src/archive.rs"]
mod archive;

use libfuzzer_sys::fuzz_target;
use std::io::Write;

/// Small enough for the fuzzer to reach both limits.
const MEMBER_LIMIT: u64 = 1 << 20;

fn check(data: &[u8]) {
    let mut seen = 0u64;
    let mut bytes = 0u64;
    let report = archive::walk(data, MEMBER_LIMIT, &mut |_, member| {
        seen += 1;
        bytes += member.len() as u64;
        assert!(member.len() as u64 <= MEMBER_LIMIT);
    });
    // A member that stopped the walk (damaged, too large) is counted, not visited.
    let unvisited = if report.stop.is_some() { 1 } else { 0 };
    assert!(seen <= report.members && report.members <= seen + unvisited, "{report:?}, {seen} visited");
    assert!(report.members as usize <= archive::MAX_MEMBERS);
    assert!(bytes <= report.expanded && report.expanded <= archive::MAX_EXPANDED + 1);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    if zip.start_file("inner.zip", stored).is_err() || zip.write_all(data).is_err() {
        return;
    }
    if let Ok(outer) = zip.finish() {
        check(&outer.into_inner());
    }
});
