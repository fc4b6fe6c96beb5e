//! Writing a small hive from nothing: for the demo's planted host and for tests that
//! need a hive with exactly the damage they are about. Everything lands in one hive
//! bin, in the order it is added; the result is a hive takedown, libhivex and
//! Windows' format description all read.

use crate::hive::{checksum, BINS_START};

/// Value types as Windows numbers them, for [`HiveBuilder::value`].
pub const REG_SZ: u32 = 1;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;

/// A hive being written. Cells are added one by one and named by the offset each
/// call returns; keys are added after their subkeys and values.
#[derive(Debug, Clone)]
pub struct HiveBuilder {
    /// The bins' bytes, from the 32-byte `hbin` header on.
    bins: Vec<u8>,
    /// The end of the path Windows would have saved the hive under.
    name: String,
}

impl HiveBuilder {
    /// An empty hive whose base block names it `name` (`SYSTEM`, `\??\C:\Users\a\ntuser.dat`).
    pub fn new(name: &str) -> HiveBuilder {
        let mut bins = b"hbin".to_vec();
        bins.resize(32, 0);
        HiveBuilder { bins, name: name.to_string() }
    }

    /// Adds an allocated cell holding `data`; returns its offset.
    pub fn cell(&mut self, data: &[u8]) -> u32 {
        let offset = self.bins.len() as u32;
        let size = (data.len() + 4).div_ceil(8) * 8;
        self.bins.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bins.extend_from_slice(data);
        self.bins.resize(offset as usize + size, 0);
        offset
    }

    /// Adds a free cell of `len` bytes; returns its offset.
    pub fn free(&mut self, len: usize) -> u32 {
        let offset = self.bins.len() as u32;
        self.bins.extend_from_slice(&(len as i32).to_le_bytes());
        self.bins.resize(offset as usize + len, 0);
        offset
    }

    /// Adds a key named `name` (ASCII) with these subkeys (in name order, as Windows
    /// keeps them) and values; returns its offset.
    pub fn key(&mut self, name: &str, subkeys: &[u32], values: &[u32]) -> u32 {
        let list = if subkeys.is_empty() { u32::MAX } else { self.subkey_list(subkeys) };
        let value_list = if values.is_empty() {
            u32::MAX
        } else {
            self.cell(&values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
        };
        let mut nk = vec![0u8; 76];
        nk[..2].copy_from_slice(b"nk");
        // A name of one byte a character.
        nk[2..4].copy_from_slice(&0x20u16.to_le_bytes());
        nk[20..24].copy_from_slice(&(subkeys.len() as u32).to_le_bytes());
        nk[28..32].copy_from_slice(&list.to_le_bytes());
        nk[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[36..40].copy_from_slice(&(values.len() as u32).to_le_bytes());
        nk[40..44].copy_from_slice(&value_list.to_le_bytes());
        nk[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[72..74].copy_from_slice(&(name.len() as u16).to_le_bytes());
        nk.extend_from_slice(name.as_bytes());
        self.cell(&nk)
    }

    /// A fast leaf (`lf`) naming the key cells, each with the first four bytes of
    /// its name as the hint Windows compares first.
    fn subkey_list(&mut self, keys: &[u32]) -> u32 {
        let mut data = b"lf".to_vec();
        data.extend_from_slice(&(keys.len() as u16).to_le_bytes());
        for &k in keys {
            data.extend_from_slice(&k.to_le_bytes());
            let at = k as usize + 4 + 76;
            let mut hint = [0u8; 4];
            for (h, b) in hint.iter_mut().zip(self.bins.get(at..at + 4).unwrap_or(&[])) {
                *h = *b;
            }
            data.extend_from_slice(&hint);
        }
        self.cell(&data)
    }

    /// Makes the key at `key` list `subkeys` instead of what it listed.
    pub fn relist(&mut self, key: u32, subkeys: &[u32]) {
        let list = self.subkey_list(subkeys);
        let at = key as usize + 4;
        self.bins[at + 20..at + 24].copy_from_slice(&(subkeys.len() as u32).to_le_bytes());
        self.bins[at + 28..at + 32].copy_from_slice(&list.to_le_bytes());
    }

    /// Adds a string value (`REG_SZ`); returns its offset.
    pub fn string(&mut self, name: &str, text: &str) -> u32 {
        let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.extend_from_slice(&[0, 0]);
        let data = self.cell(&bytes);
        self.value(name, REG_SZ, bytes.len() as u32, data)
    }

    /// Adds a `REG_DWORD` value, its data inline; returns its offset.
    pub fn dword(&mut self, name: &str, v: u32) -> u32 {
        self.value(name, REG_DWORD, 0x8000_0004, v)
    }

    /// Adds a value as stored: its type, its data size field and its data offset
    /// field, whatever they say; returns its offset.
    pub fn value(&mut self, name: &str, kind: u32, size: u32, data: u32) -> u32 {
        let mut vk = vec![0u8; 20];
        vk[..2].copy_from_slice(b"vk");
        vk[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
        vk[4..8].copy_from_slice(&size.to_le_bytes());
        vk[8..12].copy_from_slice(&data.to_le_bytes());
        vk[12..16].copy_from_slice(&kind.to_le_bytes());
        vk[16..18].copy_from_slice(&1u16.to_le_bytes());
        vk.extend_from_slice(name.as_bytes());
        self.cell(&vk)
    }

    /// The hive file, with `root` as its root key.
    pub fn finish(mut self, root: u32) -> Vec<u8> {
        // The root key says so in its flags (KEY_HIVE_ENTRY | KEY_NO_DELETE).
        let flags = root as usize + 4 + 2;
        if let Some(f) = self.bins.get_mut(flags..flags + 2) {
            f.copy_from_slice(&0x2cu16.to_le_bytes());
        }
        let size = self.bins.len().div_ceil(4096) * 4096;
        // The rest of the bin is one free cell: readers walk a bin cell by cell.
        let rest = size - self.bins.len();
        if rest > 0 {
            self.free(rest);
        }
        self.bins[8..12].copy_from_slice(&(size as u32).to_le_bytes());
        let mut file = vec![0u8; BINS_START];
        file[..4].copy_from_slice(b"regf");
        file[4..8].copy_from_slice(&1u32.to_le_bytes());
        file[8..12].copy_from_slice(&1u32.to_le_bytes());
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        file[24..28].copy_from_slice(&5u32.to_le_bytes());
        file[32..36].copy_from_slice(&1u32.to_le_bytes());
        file[36..40].copy_from_slice(&root.to_le_bytes());
        file[40..44].copy_from_slice(&(size as u32).to_le_bytes());
        file[44..48].copy_from_slice(&1u32.to_le_bytes());
        // As Windows writes it: the end of the path, when the whole does not fit.
        let units: Vec<u16> = self.name.encode_utf16().collect();
        let name: Vec<u8> = units[units.len().saturating_sub(31)..].iter().flat_map(|u| u.to_le_bytes()).collect();
        file[48..48 + name.len()].copy_from_slice(&name);
        let sum = checksum(&file[..508]);
        file[508..512].copy_from_slice(&sum.to_le_bytes());
        file.extend_from_slice(&self.bins);
        file
    }
}
