//! Key nodes (`nk`) and their subkey lists (`lf`, `lh`, `li`, `ri`).

use crate::error::HiveError;
use crate::hive::{read_u16, read_u32, read_u64, stored_name, Hive, NO_CELL};
use crate::value::Value;

/// The name of a key node is stored one byte a character (Latin-1).
const KEY_COMP_NAME: u16 = 0x0020;
/// Offsets inside a key node's cell data.
const NK_FLAGS: usize = 2;
const NK_WRITTEN: usize = 4;
const NK_SUBKEY_COUNT: usize = 20;
const NK_SUBKEY_LIST: usize = 28;
const NK_VALUE_COUNT: usize = 36;
const NK_VALUE_LIST: usize = 40;
const NK_NAME_LEN: usize = 72;
const NK_NAME: usize = 76;

/// One key of a hive.
#[derive(Debug, Clone)]
pub struct Key<'h> {
    hive: &'h Hive<'h>,
    cell: u32,
    node: &'h [u8],
}

impl<'h> Key<'h> {
    /// The key node in the cell at `cell`.
    pub(crate) fn at(hive: &'h Hive<'h>, cell: u32) -> Result<Key<'h>, HiveError> {
        let node = hive.signed_cell(cell, "a key node", "nk")?;
        let name_len = read_u16(node, NK_NAME_LEN).unwrap_or(0) as usize;
        if node.len() < NK_NAME + name_len {
            return Err(HiveError::BadCell {
                what: "a key node",
                offset: Hive::file_offset(cell),
                why: "its name runs past the cell",
            });
        }
        Ok(Key { hive, cell, node })
    }

    /// The cell offset of the key node: what identifies the key in the file.
    pub fn cell(&self) -> u32 {
        self.cell
    }

    /// The key's offset in the file, for messages.
    pub fn file_offset(&self) -> u64 {
        Hive::file_offset(self.cell)
    }

    /// The key's own name.
    pub fn name(&self) -> String {
        let flags = read_u16(self.node, NK_FLAGS).unwrap_or(0);
        let len = read_u16(self.node, NK_NAME_LEN).unwrap_or(0) as usize;
        let bytes = &self.node[NK_NAME..NK_NAME + len];
        stored_name(bytes, flags & KEY_COMP_NAME != 0)
    }

    /// When the key was last written, as a Windows FILETIME (100 ns since 1601).
    pub fn last_written(&self) -> u64 {
        read_u64(self.node, NK_WRITTEN).unwrap_or(0)
    }

    /// The key's subkeys, in the order the hive lists them (sorted by name).
    pub fn subkeys(&self) -> Result<Vec<Key<'h>>, HiveError> {
        let count = read_u32(self.node, NK_SUBKEY_COUNT).unwrap_or(0);
        let list = read_u32(self.node, NK_SUBKEY_LIST).unwrap_or(NO_CELL);
        if count == 0 || list == NO_CELL {
            return Ok(Vec::new());
        }
        let mut cells = Vec::new();
        self.list_cells(list, true, &mut cells)?;
        cells.into_iter().map(|c| Key::at(self.hive, c)).collect()
    }

    /// The subkey called `name` (compared case-insensitively, as Windows does).
    pub fn subkey(&self, name: &str) -> Result<Option<Key<'h>>, HiveError> {
        Ok(self.subkeys()?.into_iter().find(|k| k.name().eq_ignore_ascii_case(name)))
    }

    /// The subkey at `path`, its names separated by `\`.
    pub fn subpath(&self, path: &str) -> Result<Option<Key<'h>>, HiveError> {
        let mut key = self.clone();
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match key.subkey(part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }

    /// The key's values, in the order the hive lists them.
    pub fn values(&self) -> Result<Vec<Value<'h>>, HiveError> {
        let count = read_u32(self.node, NK_VALUE_COUNT).unwrap_or(0) as usize;
        let list = read_u32(self.node, NK_VALUE_LIST).unwrap_or(NO_CELL);
        if count == 0 || list == NO_CELL {
            return Ok(Vec::new());
        }
        let cells = self.hive.cell(list, "a value list")?;
        // The count comes from the file: it is believed only as far as the list's
        // cell holds offsets.
        if count > cells.len() / 4 {
            return Err(HiveError::BadCell {
                what: "a value list",
                offset: Hive::file_offset(list),
                why: "it holds fewer values than its key says",
            });
        }
        cells
            .chunks_exact(4)
            .take(count)
            .map(|c| Value::at(self.hive, u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect()
    }

    /// The value called `name` (case-insensitive); the empty name is the key's
    /// default value.
    pub fn value(&self, name: &str) -> Result<Option<Value<'h>>, HiveError> {
        Ok(self.values()?.into_iter().find(|v| v.name().eq_ignore_ascii_case(name)))
    }

    /// The key node offsets a subkey list names. An index root (`ri`) names leaf
    /// lists, which name keys; a root inside a root is not a form Windows writes and
    /// is refused, so the depth of lists is two at most.
    fn list_cells(&self, list: u32, root_allowed: bool, out: &mut Vec<u32>) -> Result<(), HiveError> {
        let what = "a subkey list";
        let data = self.hive.cell(list, what)?;
        let count = read_u16(data, 2).unwrap_or(0) as usize;
        let (stride, nested) = match data.get(..2) {
            Some(b"lf") | Some(b"lh") => (8, false),
            Some(b"li") => (4, false),
            Some(b"ri") if root_allowed => (4, true),
            _ => {
                let found = data.iter().take(2).map(|&b| char::from(b)).collect();
                return Err(HiveError::Signature {
                    what,
                    offset: Hive::file_offset(list),
                    found,
                    expected: "lf, lh, li or ri",
                });
            }
        };
        let entries = data.get(4..).unwrap_or(&[]);
        if count > entries.len() / stride {
            return Err(HiveError::BadCell {
                what,
                offset: Hive::file_offset(list),
                why: "it holds fewer entries than it says",
            });
        }
        for entry in entries.chunks_exact(stride).take(count) {
            let cell = u32::from_le_bytes([entry[0], entry[1], entry[2], entry[3]]);
            if nested {
                self.list_cells(cell, false, out)?;
            } else {
                out.push(cell);
            }
        }
        Ok(())
    }
}
