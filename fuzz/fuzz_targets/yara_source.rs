//! Feeds arbitrary text to the YARA reader's path: the nesting measure, then
//! yara-x's compiler on what the measure lets through. Neither may panic or
//! overflow the stack; whatever is refused must be refused with a place.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use takedown_intel::{yara, IntelError};

fuzz_target!(|text: &str| {
    let path = Path::new("fuzz.yar");
    match yara::check(path, text) {
        Ok(_) => {}
        Err(IntelError::YaraTooDeep { line, column, .. }) => assert!(line >= 1 && column >= 1),
        Err(IntelError::Yara { message, .. }) => {
            assert!(message.chars().count() <= takedown_intel::MESSAGE_CHARS + 40, "{message}")
        }
        Err(other) => panic!("unexpected error {other}"),
    }
});
