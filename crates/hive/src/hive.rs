//! The file: its base block and its cells.

use crate::error::HiveError;
use crate::key::Key;

/// The base block takes the first 4 KiB; the hive bins follow, and every cell
/// offset in the file counts from their start.
pub(crate) const BINS_START: usize = 4096;

/// A cell offset meaning "none" (no subkeys list, no class name, ...).
pub(crate) const NO_CELL: u32 = u32::MAX;

/// A registry hive held in memory, read-only. Parsing checks the base block only;
/// keys and values are read, and checked, as they are reached, so a damaged part of
/// a hive costs only that part.
#[derive(Debug, Clone)]
pub struct Hive<'a> {
    data: &'a [u8],
    /// Where the hive bins end: the base block's size of them, cut to the file.
    bins_end: usize,
    root: u32,
    minor: u32,
    name: String,
    dirty: bool,
    checksum_ok: bool,
}

impl<'a> Hive<'a> {
    /// Checks the base block of `data`, the whole hive file.
    pub fn parse(data: &'a [u8]) -> Result<Hive<'a>, HiveError> {
        if !is_hive(data) {
            return Err(HiveError::NotAHive);
        }
        if data.len() < BINS_START {
            return Err(HiveError::Truncated { what: "the base block", offset: 0, len: data.len() as u64 });
        }
        let u32_at = |at: usize| read_u32(data, at).unwrap_or(0);
        let (major, minor) = (u32_at(20), u32_at(24));
        // Version 1.0 to 1.6 are the formats of Windows NT 3.1 to Windows 11.
        if major != 1 || minor > 6 {
            return Err(HiveError::Version { major, minor });
        }
        let bins_size = u32_at(40) as usize;
        let bins_end = BINS_START.saturating_add(bins_size).min(data.len());
        // The file name Windows wrote: the last 64 bytes of its path, in UTF-16.
        let name = utf16_text(&data[48..112]);
        let checksum_ok = checksum(&data[..508]) == u32_at(508);
        Ok(Hive { data, bins_end, root: u32_at(36), minor, name, dirty: u32_at(4) != u32_at(8), checksum_ok })
    }

    /// The hive's root key.
    pub fn root(&self) -> Result<Key<'_>, HiveError> {
        Key::at(self, self.root)
    }

    /// The end of the path Windows last saved the hive under, as written in the
    /// base block (`\SystemRoot\System32\Config\SYSTEM`, `\??\C:\Users\a\ntuser.dat`),
    /// or empty. It names the hive wherever the file now is.
    pub fn embedded_name(&self) -> &str {
        &self.name
    }

    /// Whether the hive was not cleanly written: its two sequence numbers differ,
    /// so changes may still be in its transaction logs (`.LOG1`, `.LOG2`), which are
    /// not read.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// Whether the base block's checksum is right.
    pub fn checksum_ok(&self) -> bool {
        self.checksum_ok
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.data
    }

    pub(crate) fn minor_version(&self) -> u32 {
        self.minor
    }

    /// The file offset of a cell offset, for messages.
    pub(crate) fn file_offset(cell: u32) -> u64 {
        BINS_START as u64 + u64::from(cell)
    }

    /// The data of the allocated cell at `cell` (without its 4-byte size).
    pub(crate) fn cell(&self, cell: u32, what: &'static str) -> Result<&'a [u8], HiveError> {
        let offset = Hive::file_offset(cell);
        let start = BINS_START.checked_add(cell as usize).filter(|s| s.saturating_add(4) <= self.bins_end);
        let Some(start) = start else {
            return Err(HiveError::Truncated { what, offset, len: self.data.len() as u64 });
        };
        let size = read_u32(self.data, start).unwrap_or(0) as i32;
        // An allocated cell's size is negative; a free one's is positive.
        if size >= 0 {
            return Err(HiveError::BadCell { what, offset, why: "it is a free cell" });
        }
        let len = size.unsigned_abs() as usize;
        if len < 8 {
            return Err(HiveError::BadCell { what, offset, why: "its size is under 8 bytes" });
        }
        let end = start.saturating_add(len);
        if end > self.bins_end {
            return Err(HiveError::Truncated { what, offset, len: self.data.len() as u64 });
        }
        Ok(&self.data[start + 4..end])
    }

    /// The cell at `cell`, which must start with the two-letter `signature`.
    pub(crate) fn signed_cell(
        &self,
        cell: u32,
        what: &'static str,
        signature: &'static str,
    ) -> Result<&'a [u8], HiveError> {
        let data = self.cell(cell, what)?;
        if !data.starts_with(signature.as_bytes()) {
            let found = data.iter().take(2).map(|&b| char::from(b)).collect();
            return Err(HiveError::Signature { what, offset: Hive::file_offset(cell), found, expected: signature });
        }
        Ok(data)
    }
}

/// Whether `data` starts like a registry hive.
pub fn is_hive(data: &[u8]) -> bool {
    data.starts_with(b"regf")
}

/// The base block checksum: the XOR of its first 127 little-endian words, with the
/// two values Windows reserves moved aside.
pub(crate) fn checksum(block: &[u8]) -> u32 {
    let sum = block.chunks_exact(4).fold(0u32, |acc, w| acc ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    match sum {
        u32::MAX => u32::MAX - 1,
        0 => 1,
        s => s,
    }
}

pub(crate) fn read_u16(data: &[u8], at: usize) -> Option<u16> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

pub(crate) fn read_u32(data: &[u8], at: usize) -> Option<u32> {
    let b = data.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(crate) fn read_u64(data: &[u8], at: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(8)?)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(b);
    Some(u64::from_le_bytes(word))
}

/// UTF-16LE text up to its first NUL; unpaired surrogates become U+FFFD.
pub(crate) fn utf16_text(bytes: &[u8]) -> String {
    let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0);
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// UTF-16LE text, all of it, NULs included.
pub(crate) fn utf16_all(bytes: &[u8]) -> String {
    let units = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]));
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

/// A key's or value's name as stored: "compressed" (one byte a character, Latin-1)
/// when its node's flag says so, else UTF-16LE.
pub(crate) fn stored_name(bytes: &[u8], compressed: bool) -> String {
    if compressed {
        bytes.iter().map(|&b| char::from(b)).collect()
    } else {
        utf16_text(bytes)
    }
}
