/// Why a hive, or a part of it, could not be read. Every error names the byte
/// offset in the file where the reader gave up, so that a hex editor or `hivexsh`
/// can be pointed at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    #[error("not a registry hive (no \"regf\" signature at offset 0)")]
    NotAHive,
    #[error("truncated: {what} at offset {offset} runs past the end of the file ({len} bytes)")]
    Truncated { what: &'static str, offset: u64, len: u64 },
    #[error("{what} at offset {offset} is not a valid cell: {why}")]
    BadCell { what: &'static str, offset: u64, why: &'static str },
    #[error("{what} at offset {offset} has signature {found:?}, expected {expected:?}")]
    Signature { what: &'static str, offset: u64, found: String, expected: &'static str },
    #[error("the key at offset {offset} is reached a second time: the hive's key tree has a loop")]
    Loop { offset: u64 },
    #[error("the key at offset {offset} is nested deeper than {limit} levels")]
    TooDeep { offset: u64, limit: usize },
    #[error("unsupported hive version {major}.{minor}")]
    Version { major: u32, minor: u32 },
}
