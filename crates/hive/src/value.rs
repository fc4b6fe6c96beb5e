//! Values (`vk`) and their data, inline, in one cell or in big-data segments (`db`).

use crate::error::HiveError;
use crate::hive::{read_u16, read_u32, stored_name, utf16_all, utf16_text, Hive};
use std::borrow::Cow;

/// The value's name is stored one byte a character (Latin-1).
const VALUE_COMP_NAME: u16 = 0x0001;
/// Set in the data size when the data (4 bytes at most) sits in the offset field.
const DATA_INLINE: u32 = 0x8000_0000;
/// The most data one cell carries before hives of version 1.4 and later split it
/// into big-data segments.
const SEGMENT: usize = 16344;
const VK_NAME_LEN: usize = 2;
const VK_DATA_SIZE: usize = 4;
const VK_DATA: usize = 8;
const VK_TYPE: usize = 12;
const VK_FLAGS: usize = 16;
const VK_NAME: usize = 20;

/// A value's data type, as Windows numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueType {
    None,
    String,
    ExpandString,
    Binary,
    Dword,
    DwordBigEndian,
    Link,
    MultiString,
    Qword,
    /// Resource lists and any number Windows does not define.
    Other(u32),
}

impl ValueType {
    pub fn from_number(n: u32) -> ValueType {
        match n {
            0 => ValueType::None,
            1 => ValueType::String,
            2 => ValueType::ExpandString,
            3 => ValueType::Binary,
            4 => ValueType::Dword,
            5 => ValueType::DwordBigEndian,
            6 => ValueType::Link,
            7 => ValueType::MultiString,
            11 => ValueType::Qword,
            n => ValueType::Other(n),
        }
    }

    /// The name `reg.exe` shows (`REG_SZ`, ...).
    pub fn name(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            ValueType::None => "REG_NONE",
            ValueType::String => "REG_SZ",
            ValueType::ExpandString => "REG_EXPAND_SZ",
            ValueType::Binary => "REG_BINARY",
            ValueType::Dword => "REG_DWORD",
            ValueType::DwordBigEndian => "REG_DWORD_BIG_ENDIAN",
            ValueType::Link => "REG_LINK",
            ValueType::MultiString => "REG_MULTI_SZ",
            ValueType::Qword => "REG_QWORD",
            ValueType::Other(n) => return Cow::Owned(format!("type {n}")),
        })
    }
}

/// One value of a key.
#[derive(Debug, Clone)]
pub struct Value<'h> {
    hive: &'h Hive<'h>,
    cell: u32,
    node: &'h [u8],
}

impl<'h> Value<'h> {
    pub(crate) fn at(hive: &'h Hive<'h>, cell: u32) -> Result<Value<'h>, HiveError> {
        let node = hive.signed_cell(cell, "a value", "vk")?;
        let name_len = read_u16(node, VK_NAME_LEN).unwrap_or(0) as usize;
        if node.len() < VK_NAME + name_len {
            return Err(HiveError::BadCell {
                what: "a value",
                offset: Hive::file_offset(cell),
                why: "its name runs past the cell",
            });
        }
        Ok(Value { hive, cell, node })
    }

    pub(crate) fn cell(&self) -> u32 {
        self.cell
    }

    /// The value's offset in the file, for messages.
    pub fn file_offset(&self) -> u64 {
        Hive::file_offset(self.cell)
    }

    /// The value's name; empty for the key's default value.
    pub fn name(&self) -> String {
        let flags = read_u16(self.node, VK_FLAGS).unwrap_or(0);
        let len = read_u16(self.node, VK_NAME_LEN).unwrap_or(0) as usize;
        let bytes = &self.node[VK_NAME..VK_NAME + len];
        stored_name(bytes, flags & VALUE_COMP_NAME != 0)
    }

    pub fn value_type(&self) -> ValueType {
        ValueType::from_number(read_u32(self.node, VK_TYPE).unwrap_or(0))
    }

    /// The value's data, as stored.
    pub fn data(&self) -> Result<Cow<'h, [u8]>, HiveError> {
        let size = read_u32(self.node, VK_DATA_SIZE).unwrap_or(0);
        if size & DATA_INLINE != 0 {
            let len = (size & !DATA_INLINE) as usize;
            return self.node.get(VK_DATA..VK_DATA + len.min(4)).map(Cow::Borrowed).ok_or(HiveError::BadCell {
                what: "a value",
                offset: self.file_offset(),
                why: "its inline data runs past the cell",
            });
        }
        let len = size as usize;
        if len == 0 {
            return Ok(Cow::Borrowed(&[]));
        }
        let offset = read_u32(self.node, VK_DATA).unwrap_or(0);
        let cell = self.hive.cell(offset, "a value's data")?;
        if len > SEGMENT && self.hive.minor_version() >= 4 && cell.starts_with(b"db") {
            return self.big_data(offset, cell, len).map(Cow::Owned);
        }
        cell.get(..len).map(Cow::Borrowed).ok_or(HiveError::BadCell {
            what: "a value's data",
            offset: Hive::file_offset(offset),
            why: "it is shorter than its value says",
        })
    }

    /// Data in segments: a `db` cell names a list of cells of up to 16,344 bytes each.
    fn big_data(&self, offset: u32, db: &[u8], len: usize) -> Result<Vec<u8>, HiveError> {
        let segments = read_u16(db, 2).unwrap_or(0) as usize;
        let list_cell = read_u32(db, 4).unwrap_or(0);
        let list = self.hive.cell(list_cell, "a big-data segment list")?;
        let short = HiveError::BadCell {
            what: "big data",
            offset: Hive::file_offset(offset),
            why: "its segments hold less than its value says",
        };
        // Segments are cells of their own, so the data cannot be larger than the file;
        // without this, one list naming one segment many times would make a small
        // file expand to a gigabyte.
        if segments > list.len() / 4 || len > segments.saturating_mul(SEGMENT) || len > self.hive.bytes().len() {
            return Err(short);
        }
        let mut out = Vec::with_capacity(len);
        for entry in list.chunks_exact(4).take(segments) {
            let segment =
                self.hive.cell(u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]), "a big-data segment")?;
            let take = (len - out.len()).min(SEGMENT).min(segment.len());
            out.extend_from_slice(&segment[..take]);
            if out.len() == len {
                return Ok(out);
            }
        }
        Err(short)
    }

    /// The data as text, as a person reads it: strings as they are (a multi-string's
    /// items one a line), numbers in decimal, anything else in hex.
    pub fn text(&self) -> Result<String, HiveError> {
        let data = self.data()?;
        Ok(match self.value_type() {
            ValueType::String | ValueType::ExpandString | ValueType::Link => utf16_text(&data),
            ValueType::MultiString => {
                utf16_all(&data).split('\0').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("\n")
            }
            ValueType::Dword if data.len() == 4 => u32::from_le_bytes([data[0], data[1], data[2], data[3]]).to_string(),
            ValueType::DwordBigEndian if data.len() == 4 => {
                u32::from_be_bytes([data[0], data[1], data[2], data[3]]).to_string()
            }
            ValueType::Qword if data.len() == 8 => {
                let mut word = [0u8; 8];
                word.copy_from_slice(&data);
                u64::from_le_bytes(word).to_string()
            }
            _ => data.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}
