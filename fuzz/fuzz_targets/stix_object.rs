//! Feeds arbitrary JSON to the STIX object checks every write path uses (a TAXII
//! POST, an import). They may not panic, whatever the object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use takedown_intel::IntelObject;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let _ = IntelObject::from_value(value, None, "fuzz");
});
