//! Feeds arbitrary JSON to the TAXII write path's checks (`validate`, which every
//! way in shares through `IntelObject::from_value`), then applies granular TLP
//! markings to what passes, as a member read does. Neither may panic, whatever the
//! object. (Built without yara-x: a YARA indicator's rules are measured for nesting,
//! not compiled.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use takedown_intel::markings;
use takedown_model::Tlp;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(object) = takedown_intel::validate(value, "fuzz") else {
        return;
    };
    // A reader who may see GREEN and below: RED and AMBER properties go.
    let _ = markings::redact(&object.json, |level| matches!(level, Tlp::Clear | Tlp::Green));
});
