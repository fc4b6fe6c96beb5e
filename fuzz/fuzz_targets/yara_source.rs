//! Feeds arbitrary text to the YARA reader's own part: the nesting measure that
//! stands before yara-x's recursive parser. It may not panic or overflow the stack,
//! and whatever it refuses it refuses with a place. The fuzz build leaves yara-x out
//! (the intel crate without its `yara` feature): yara-x is fuzzed upstream, and
//! building it and wasmtime under coverage took most of CI's fuzzing time; the unit
//! tests feed yara-x the deepest sources the measure lets through.
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
