//! The host sweep: find a group's malware and its traces on a computer, and take
//! them out of harm's way without losing a byte.
//!
//! A [`Ruleset`] compiles everything a sweep looks for once — YARA rules (one
//! namespace per rule file), hashes, file names and path patterns — and [`sweep`]
//! walks the roots on several threads, reading each file once and checking it
//! against all of it, plus WannaCry's own artefacts and the members of zip
//! archives. The [`vault`] holds what was quarantined, defanged, and gives it back
//! bit for bit.
//!
//! ```
//! use takedown_sweep::{sweep, Progress, RulesetBuilder, Source, SweepOptions};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("@Please_Read_Me@.txt"), "Ooops")?;
//! let mut rules = RulesetBuilder::new();
//! rules.add_yara("demo.yar".as_ref(), r#"rule ooops { strings: $a = "Ooops" condition: $a }"#,
//!     Source { indicator: None, name: "demo.yar".into() })?;
//! let rules = rules.build()?;
//! let options = SweepOptions { roots: vec![dir.path().into()], ..SweepOptions::default() };
//! let (hits, summary) = sweep(&rules, &options, &Progress::default())?;
//! assert_eq!(summary.files, 1);
//! let kinds: Vec<_> = hits.iter().map(|h| h.kind.as_str()).collect();
//! assert_eq!(kinds, ["yara", "artefact"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

pub mod archive;
pub mod artefact;
mod deep;
mod error;
mod hit;
mod intel;
mod paths;
pub mod plant;
pub mod registry;
mod ruleset;
mod scan;
pub mod vault;
mod walk;

pub use error::SweepError;
pub use hit::{Hit, HitKind, MatchedString};
pub use intel::Taken;
pub use ruleset::{HashKinds, Ruleset, RulesetBuilder, RulesetCounts, Source};
pub use scan::{effective_uid, file_type, user_name, FileScanner, Seen, LOKI_EXTERNALS};
pub use walk::{skipped_mounts, sweep, Progress, Summary, SweepOptions, DEFAULT_MAX_FILESIZE};
