//! Registry hives as a sweep meets them on a disk it does not trust: whatever the
//! base block, cells, lists and value sizes say, reading must end, stay within the
//! file and never panic. Every key is walked and every value's data and text read,
//! as the sweep's registry checks do; then the root's first subkey and first value
//! are removed, as cleaning does, and what comes out must parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use takedown_hive::{remove, Hive, Removal, MAX_DEPTH};

fuzz_target!(|data: &[u8]| {
    let Ok(hive) = Hive::parse(data) else { return };
    let mut keys = 0u64;
    let mut deepest = 0usize;
    let walked = hive.walk(&mut |path, key| {
        keys += 1;
        deepest = deepest.max(path.matches('\\').count());
        let _ = key.name();
        if let Ok(values) = key.values() {
            for v in values {
                let _ = v.name();
                if let Ok(bytes) = v.data() {
                    assert!(bytes.len() <= data.len());
                }
                let _ = v.text();
            }
        }
    });
    if let Ok(report) = walked {
        assert_eq!(report.keys, keys);
        assert!(deepest <= MAX_DEPTH);
        assert!(report.problems.len() as u64 <= report.problem_count);
    }
    let Ok(root) = hive.root() else { return };
    let mut removals = Vec::new();
    if let Some(first) = root.subkeys().ok().and_then(|s| s.into_iter().next()) {
        removals.push(Removal::Key(first.name()));
    }
    if let Some(first) = root.values().ok().and_then(|v| v.into_iter().next()) {
        removals.push(Removal::Value { key: String::new(), name: first.name() });
    }
    if let Ok(edited) = remove(data, &removals) {
        assert_eq!(edited.len(), data.len());
        assert!(Hive::parse(&edited).is_ok());
    }
});
