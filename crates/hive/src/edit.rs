//! Removing keys and values from a hive, keeping it a valid hive: the entry is taken
//! out of its parent's list and its cells are freed, a shared security descriptor
//! loses one reference, and the base block is written as a clean, consistent hive
//! (equal sequence numbers, the checksum recomputed). Cells are never moved, so
//! everything not removed keeps its bytes and offsets.

use crate::error::HiveError;
use crate::hive::{read_u16, read_u32, Hive, BINS_START, NO_CELL};
use crate::key::Key;
use std::collections::HashSet;

/// One thing to remove. Key paths are below the hive's root, names joined by `\`,
/// compared without regard to case as Windows does.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Removal {
    /// A key and everything below it.
    Key(String),
    /// One value of a key (the empty name is the key's default value).
    Value { key: String, name: String },
}

/// Why an edit was refused; the hive is then left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Hive(#[from] HiveError),
    #[error("no key {0:?} in the hive")]
    NoKey(String),
    #[error("no value {name:?} in key {key:?}")]
    NoValue { key: String, name: String },
    #[error("the root key cannot be removed")]
    Root,
}

const NK_SUBKEY_COUNT: usize = 20;
const NK_SUBKEY_LIST: usize = 28;
const NK_VALUE_COUNT: usize = 36;
const NK_VALUE_LIST: usize = 40;
const NK_SECURITY: usize = 44;
const NK_CLASS: usize = 48;
const SK_FLINK: usize = 4;
const SK_BLINK: usize = 8;
const SK_REFS: usize = 12;

/// The hive in `data` with `removals` made, as new bytes; `data` is not changed.
/// Every removal must name something present: an edit that finds less than it was
/// told to remove is refused whole, so a plan made from a finding never half-applies
/// to a hive that has changed since.
pub fn remove(data: &[u8], removals: &[Removal]) -> Result<Vec<u8>, EditError> {
    let mut out = data.to_vec();
    // Keys before values would free a value twice when both are named: values first,
    // then keys, deepest first.
    let mut ordered: Vec<&Removal> = removals.iter().collect();
    ordered.sort();
    ordered.dedup();
    ordered.sort_by_key(|r| match r {
        Removal::Value { .. } => (0, 0),
        Removal::Key(path) => (1, usize::MAX - path.matches('\\').count()),
    });
    for removal in ordered {
        // Located afresh each time: an earlier removal may have changed a list.
        let snapshot = out.clone();
        let hive = Hive::parse(&snapshot)?;
        let root = hive.root()?;
        let mut cells = Cells { data: &mut out, freed: HashSet::new() };
        match removal {
            Removal::Value { key, name } => {
                let k = root.subpath(key)?.ok_or_else(|| EditError::NoKey(key.clone()))?;
                remove_value(&hive, &k, key, name, &mut cells)?;
            }
            Removal::Key(path) => {
                let (parent_path, name) = match path.trim_matches('\\').rsplit_once('\\') {
                    Some((p, n)) => (p, n),
                    None if path.trim_matches('\\').is_empty() => return Err(EditError::Root),
                    None => ("", path.trim_matches('\\')),
                };
                let parent = root.subpath(parent_path)?.ok_or_else(|| EditError::NoKey(path.clone()))?;
                let child = parent.subkey(name)?.ok_or_else(|| EditError::NoKey(path.clone()))?;
                unlink_key(&hive, &parent, child.cell(), &mut cells)?;
                free_tree(&hive, &child, &mut cells)?;
            }
        }
    }
    seal(&mut out);
    Ok(out)
}

/// The bytes being edited, and the cells freed so far (a damaged hive may name one
/// cell twice: it is freed once).
struct Cells<'a> {
    data: &'a mut Vec<u8>,
    freed: HashSet<u32>,
}

impl Cells<'_> {
    /// The file position of byte `at` of the data of the cell at `cell`.
    fn pos(cell: u32, at: usize) -> usize {
        BINS_START + cell as usize + 4 + at
    }

    fn get_u32(&self, cell: u32, at: usize) -> u32 {
        read_u32(self.data, Cells::pos(cell, at)).unwrap_or(0)
    }

    fn set_u32(&mut self, cell: u32, at: usize, v: u32) {
        let p = Cells::pos(cell, at);
        if let Some(b) = self.data.get_mut(p..p + 4) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    fn set_u16(&mut self, cell: u32, at: usize, v: u16) {
        let p = Cells::pos(cell, at);
        if let Some(b) = self.data.get_mut(p..p + 2) {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Marks a cell free: its size turns positive. Its bytes stay until Windows
    /// reuses the space.
    fn free(&mut self, cell: u32) {
        if cell == NO_CELL || !self.freed.insert(cell) {
            return;
        }
        let p = BINS_START + cell as usize;
        if let Some(b) = self.data.get_mut(p..p + 4) {
            let size = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if size < 0 {
                b.copy_from_slice(&size.unsigned_abs().to_le_bytes());
            }
        }
    }

    /// Removes entry `index` of `count` entries of `stride` bytes starting at byte
    /// `start` of the cell, moving the later ones down and zeroing the last.
    fn remove_entry(&mut self, cell: u32, start: usize, stride: usize, count: usize, index: usize) {
        let first = Cells::pos(cell, start);
        let end = first + count * stride;
        if end > self.data.len() || index >= count {
            return;
        }
        self.data.copy_within(first + (index + 1) * stride..end, first + index * stride);
        self.data[end - stride..end].fill(0);
    }
}

fn remove_value(
    hive: &Hive<'_>,
    key: &Key<'_>,
    key_path: &str,
    name: &str,
    cells: &mut Cells<'_>,
) -> Result<(), EditError> {
    let values = key.values()?;
    let Some(index) = values.iter().position(|v| v.name().eq_ignore_ascii_case(name)) else {
        return Err(EditError::NoValue { key: key_path.to_string(), name: name.to_string() });
    };
    let list = cells.get_u32(key.cell(), NK_VALUE_LIST);
    cells.remove_entry(list, 0, 4, values.len(), index);
    cells.set_u32(key.cell(), NK_VALUE_COUNT, (values.len() - 1) as u32);
    if values.len() == 1 {
        cells.set_u32(key.cell(), NK_VALUE_LIST, NO_CELL);
        cells.free(list);
    }
    free_value(hive, values[index].cell(), cells);
    Ok(())
}

/// Frees a value's cell and the cells its data is in.
fn free_value(hive: &Hive<'_>, vk: u32, cells: &mut Cells<'_>) {
    let size = cells.get_u32(vk, 4);
    let data = cells.get_u32(vk, 8);
    // Inline data (the top bit of the size) has no cell of its own.
    if size & 0x8000_0000 == 0 && size > 0 {
        if let Ok(db) = hive.cell(data, "a value's data") {
            if size as usize > 16344 && db.starts_with(b"db") {
                let list = read_u32(db, 4).unwrap_or(NO_CELL);
                let segments = read_u16(db, 2).unwrap_or(0) as usize;
                if let Ok(entries) = hive.cell(list, "a big-data segment list") {
                    for e in entries.chunks_exact(4).take(segments) {
                        cells.free(u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
                    }
                }
                cells.free(list);
            }
        }
        cells.free(data);
    }
    cells.free(vk);
}

/// Takes the key node `child` out of `parent`'s subkey list (a leaf list, or a leaf
/// under an index root), dropping lists that become empty.
fn unlink_key(hive: &Hive<'_>, parent: &Key<'_>, child: u32, cells: &mut Cells<'_>) -> Result<(), EditError> {
    let list = cells.get_u32(parent.cell(), NK_SUBKEY_LIST);
    let count = cells.get_u32(parent.cell(), NK_SUBKEY_COUNT);
    let data = hive.cell(list, "a subkey list")?;
    let leaves: Vec<u32> = if data.starts_with(b"ri") {
        let n = read_u16(data, 2).unwrap_or(0) as usize;
        data.get(4..)
            .unwrap_or(&[])
            .chunks_exact(4)
            .take(n)
            .map(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]]))
            .collect()
    } else {
        vec![list]
    };
    for (leaf_index, &leaf) in leaves.iter().enumerate() {
        let leaf_data = hive.cell(leaf, "a subkey list")?;
        let stride = if leaf_data.starts_with(b"li") { 4 } else { 8 };
        let n = read_u16(leaf_data, 2).unwrap_or(0) as usize;
        let entries = leaf_data.get(4..).unwrap_or(&[]);
        let Some(index) =
            entries.chunks_exact(stride).take(n).position(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]]) == child)
        else {
            continue;
        };
        cells.remove_entry(leaf, 4, stride, n, index);
        cells.set_u16(leaf, 2, (n - 1) as u16);
        if n == 1 {
            if leaf == list {
                cells.set_u32(parent.cell(), NK_SUBKEY_LIST, NO_CELL);
            } else {
                // The index root loses the emptied leaf; an emptied root goes too.
                cells.remove_entry(list, 4, 4, leaves.len(), leaf_index);
                cells.set_u16(list, 2, (leaves.len() - 1) as u16);
                if leaves.len() == 1 {
                    cells.set_u32(parent.cell(), NK_SUBKEY_LIST, NO_CELL);
                    cells.free(list);
                }
            }
            cells.free(leaf);
        }
        cells.set_u32(parent.cell(), NK_SUBKEY_COUNT, count.saturating_sub(1));
        return Ok(());
    }
    Err(HiveError::BadCell { what: "a subkey list", offset: Hive::file_offset(list), why: "it does not list the key" }
        .into())
}

/// Frees a key, its values and everything below it, with a stack of its own.
fn free_tree(hive: &Hive<'_>, top: &Key<'_>, cells: &mut Cells<'_>) -> Result<(), EditError> {
    let mut stack = vec![top.clone()];
    let mut seen = HashSet::new();
    while let Some(key) = stack.pop() {
        if !seen.insert(key.cell()) {
            continue;
        }
        for v in key.values().unwrap_or_default() {
            free_value(hive, v.cell(), cells);
        }
        cells.free(cells.get_u32(key.cell(), NK_VALUE_LIST));
        let list = cells.get_u32(key.cell(), NK_SUBKEY_LIST);
        if let Ok(data) = hive.cell(list, "a subkey list") {
            if data.starts_with(b"ri") {
                let n = read_u16(data, 2).unwrap_or(0) as usize;
                for e in data.get(4..).unwrap_or(&[]).chunks_exact(4).take(n) {
                    cells.free(u32::from_le_bytes([e[0], e[1], e[2], e[3]]));
                }
            }
        }
        cells.free(list);
        cells.free(cells.get_u32(key.cell(), NK_CLASS));
        release_security(hive, cells.get_u32(key.cell(), NK_SECURITY), cells);
        stack.extend(key.subkeys().unwrap_or_default());
        cells.free(key.cell());
    }
    Ok(())
}

/// One reference fewer to a security descriptor (`sk`); the last one frees it and
/// takes it out of the hive's ring of descriptors.
fn release_security(hive: &Hive<'_>, sk: u32, cells: &mut Cells<'_>) {
    if sk == NO_CELL || hive.signed_cell(sk, "a security descriptor", "sk").is_err() {
        return;
    }
    let refs = cells.get_u32(sk, SK_REFS);
    if refs > 1 {
        cells.set_u32(sk, SK_REFS, refs - 1);
        return;
    }
    let (next, prev) = (cells.get_u32(sk, SK_FLINK), cells.get_u32(sk, SK_BLINK));
    if next != sk && prev != sk {
        cells.set_u32(prev, SK_FLINK, next);
        cells.set_u32(next, SK_BLINK, prev);
        cells.free(sk);
    }
}

/// Writes the base block as Windows leaves a cleanly written hive: both sequence
/// numbers one higher and equal, and the checksum of the first 508 bytes.
fn seal(data: &mut [u8]) {
    let seq = read_u32(data, 4).unwrap_or(0).max(read_u32(data, 8).unwrap_or(0)).wrapping_add(1);
    data[4..8].copy_from_slice(&seq.to_le_bytes());
    data[8..12].copy_from_slice(&seq.to_le_bytes());
    let sum = crate::hive::checksum(&data[..508]);
    data[508..512].copy_from_slice(&sum.to_le_bytes());
}
