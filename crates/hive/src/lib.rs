//! Windows registry hives (the `regf` format of Windows NT 3.1 to 11), read offline
//! from a file's bytes, and keys and values removed from them ([`remove`]).
//!
//! The reader trusts nothing in the file: every offset and count is checked against
//! the cell it points into, a damaged key or list costs only that part (see
//! [`WalkReport`]), and [`Hive::walk`] visits each key once, with a stack of its own
//! and a bounded depth, so a crafted hive cannot loop it or overflow its stack.
//! Transaction logs (`.LOG1`, `.LOG2`) are not replayed: a hive Windows did not
//! cleanly close says so ([`Hive::is_dirty`]).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/hives/SYSTEM");
//! # let Ok(bytes) = std::fs::read(&path) else { return Ok(()) };
//! use takedown_hive::Hive;
//! let hive = Hive::parse(&bytes)?;
//! let services = hive.root()?.subpath(r"ControlSet001\Services")?.ok_or("no services")?;
//! for service in services.subkeys()? {
//!     if let Some(image) = service.value("ImagePath")? {
//!         println!("{}: {}", service.name(), image.text()?);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod build;
mod edit;
mod error;
mod hive;
mod key;
mod value;
mod walk;

pub use build::{HiveBuilder, REG_BINARY, REG_DWORD, REG_SZ};
pub use edit::{remove, EditError, Removal};
pub use error::HiveError;
pub use hive::{is_hive, Hive};
pub use key::Key;
pub use value::{Value, ValueType};
pub use walk::{WalkReport, MAX_DEPTH};
