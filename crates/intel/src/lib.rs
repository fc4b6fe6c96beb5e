//! Knowing the adversary: intel read from STIX 2.1 and 2.0 bundles, signature-base
//! IOC files and YARA rule files, all held as STIX 2.1 objects under TLP 2.0; STIX
//! patterns parsed into matchers; the built-in pack on ZINC / Lazarus Group and
//! WannaCry; and the questions `show` and `why`.
//!
//! ```
//! use takedown_intel::{builtin, knowledge};
//!
//! let intel = knowledge::MemoryLookup::new(builtin::objects());
//! let group = knowledge::profile(&intel, "ZINC").unwrap().unwrap();
//! assert_eq!(group.name, "Lazarus Group");
//! ```
#![forbid(unsafe_code)]

pub mod builtin;
pub mod bundle;
mod error;
pub mod export;
pub mod extension;
pub mod ids;
pub mod ioc;
pub mod knowledge;
pub mod markings;
pub mod names;
pub mod pattern;
pub mod read;
pub mod scope;
pub mod stix;
pub mod timestamp;
mod upgrade;
pub mod yara;

pub use error::{clip, excerpt, IntelError, SizedKind, EXCERPT_CHARS, MESSAGE_CHARS};
pub use stix::{validate, IntelObject, Object, StixRow, MAX_OBJECT_BYTES};
