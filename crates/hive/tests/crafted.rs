//! Hives made here, byte by byte, with the damage a hostile disk can hold: a key
//! tree with a loop, keys nested past Windows' limit, a list pointing at a free
//! cell, a truncated file, data claimed larger than the file. Each must end in a
//! reported problem, never a hang, a crash or a huge allocation.
#![allow(clippy::unwrap_used)]

use takedown_hive::{Hive, HiveError, MAX_DEPTH};

/// The cells of one hive bin, and the base block around them.
struct Builder {
    /// The bins' bytes, starting with the 32-byte `hbin` header.
    bins: Vec<u8>,
}

impl Builder {
    fn new() -> Builder {
        let mut bins = b"hbin".to_vec();
        bins.resize(32, 0);
        Builder { bins }
    }

    /// Appends an allocated cell holding `data`; returns its offset.
    fn cell(&mut self, data: &[u8]) -> u32 {
        let offset = self.bins.len() as u32;
        let size = (data.len() + 4).div_ceil(8) * 8;
        self.bins.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.bins.extend_from_slice(data);
        self.bins.resize(offset as usize + size, 0);
        offset
    }

    /// A free cell of `len` bytes; returns its offset.
    fn free(&mut self, len: usize) -> u32 {
        let offset = self.bins.len() as u32;
        self.bins.extend_from_slice(&(len as i32).to_le_bytes());
        self.bins.resize(offset as usize + len, 0);
        offset
    }

    fn key(&mut self, name: &str, subkeys: &[u32], values: &[u32]) -> u32 {
        let list = if subkeys.is_empty() { u32::MAX } else { self.list(b"lf", subkeys) };
        let value_list = if values.is_empty() {
            u32::MAX
        } else {
            self.cell(&values.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>())
        };
        self.key_node(name, subkeys.len() as u32, list, values.len() as u32, value_list)
    }

    fn key_node(&mut self, name: &str, subkeys: u32, list: u32, values: u32, value_list: u32) -> u32 {
        let mut nk = vec![0u8; 76];
        nk[..2].copy_from_slice(b"nk");
        nk[2..4].copy_from_slice(&0x20u16.to_le_bytes());
        nk[20..24].copy_from_slice(&subkeys.to_le_bytes());
        nk[28..32].copy_from_slice(&list.to_le_bytes());
        nk[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
        nk[36..40].copy_from_slice(&values.to_le_bytes());
        nk[40..44].copy_from_slice(&value_list.to_le_bytes());
        nk[72..74].copy_from_slice(&(name.len() as u16).to_le_bytes());
        nk.extend_from_slice(name.as_bytes());
        self.cell(&nk)
    }

    fn list(&mut self, signature: &[u8; 2], cells: &[u32]) -> u32 {
        let mut data = signature.to_vec();
        data.extend_from_slice(&(cells.len() as u16).to_le_bytes());
        for c in cells {
            data.extend_from_slice(&c.to_le_bytes());
            data.extend_from_slice(&[0; 4]);
        }
        self.cell(&data)
    }

    /// A string value (`REG_SZ`) named `name`.
    fn string(&mut self, name: &str, text: &str) -> u32 {
        let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        bytes.extend_from_slice(&[0, 0]);
        let data = self.cell(&bytes);
        self.value(name, 1, bytes.len() as u32, data)
    }

    fn value(&mut self, name: &str, kind: u32, size: u32, data: u32) -> u32 {
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

    /// Rewrites the subkey list of the key at `key` to name `cells`.
    fn relist(&mut self, key: u32, cells: &[u32]) {
        let list = self.list(b"lf", cells);
        let at = key as usize + 4;
        self.bins[at + 20..at + 24].copy_from_slice(&(cells.len() as u32).to_le_bytes());
        self.bins[at + 28..at + 32].copy_from_slice(&list.to_le_bytes());
    }

    fn finish(mut self, root: u32) -> Vec<u8> {
        let size = self.bins.len().div_ceil(4096) * 4096;
        self.bins.resize(size, 0);
        self.bins[8..12].copy_from_slice(&(size as u32).to_le_bytes());
        let mut file = vec![0u8; 4096];
        file[..4].copy_from_slice(b"regf");
        file[4..8].copy_from_slice(&1u32.to_le_bytes());
        file[8..12].copy_from_slice(&1u32.to_le_bytes());
        file[20..24].copy_from_slice(&1u32.to_le_bytes());
        file[24..28].copy_from_slice(&5u32.to_le_bytes());
        file[32..36].copy_from_slice(&1u32.to_le_bytes());
        file[36..40].copy_from_slice(&root.to_le_bytes());
        file[40..44].copy_from_slice(&(size as u32).to_le_bytes());
        let sum = file[..508].chunks_exact(4).fold(0u32, |a, w| a ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        file[508..512].copy_from_slice(&sum.to_le_bytes());
        file.extend_from_slice(&self.bins);
        file
    }
}

fn paths(bytes: &[u8]) -> (Vec<String>, takedown_hive::WalkReport) {
    let hive = Hive::parse(bytes).unwrap();
    let mut seen = Vec::new();
    let report = hive.walk(&mut |path, _| seen.push(path.to_string())).unwrap();
    (seen, report)
}

#[test]
fn a_well_formed_hive_reads_back_as_built() {
    let mut b = Builder::new();
    let run_value = b.string("evil", r"C:\ProgramData\x\tasksche.exe");
    let run = b.key("Run", &[], &[run_value]);
    let software = b.key("Software", &[run], &[]);
    let root = b.key("ROOT", &[software], &[]);
    let bytes = b.finish(root);
    let hive = Hive::parse(&bytes).unwrap();
    assert!(hive.checksum_ok() && !hive.is_dirty());
    let (seen, report) = paths(&bytes);
    assert_eq!(seen, ["", "Software", r"Software\Run"]);
    assert_eq!(report.problem_count, 0);
    let key = hive.root().unwrap().subpath(r"software\RUN").unwrap().unwrap();
    let value = key.value("EVIL").unwrap().unwrap();
    assert_eq!(value.text().unwrap(), r"C:\ProgramData\x\tasksche.exe");
}

#[test]
fn a_loop_in_the_key_tree_is_reported_once_and_the_walk_ends() {
    let mut b = Builder::new();
    let child = b.key("child", &[], &[]);
    let root = b.key("ROOT", &[child], &[]);
    // The child lists the root, and itself, as its subkeys.
    b.relist(child, &[root, child]);
    let (seen, report) = paths(&b.finish(root));
    assert_eq!(seen, ["", "child"]);
    assert_eq!(report.problem_count, 2);
    assert!(matches!(report.problems[0], HiveError::Loop { .. }), "{:?}", report.problems);
}

#[test]
fn keys_nested_past_the_windows_limit_stop_at_it() {
    let mut b = Builder::new();
    let mut below = b.key("k", &[], &[]);
    for _ in 0..MAX_DEPTH + 50 {
        below = b.key("k", &[below], &[]);
    }
    let (seen, report) = paths(&b.finish(below));
    assert_eq!(seen.len(), MAX_DEPTH + 1);
    assert_eq!(report.problem_count, 1);
    assert!(matches!(report.problems[0], HiveError::TooDeep { limit: MAX_DEPTH, .. }));
}

#[test]
fn a_list_that_names_a_free_cell_costs_only_that_list() {
    let mut b = Builder::new();
    let free = b.free(96);
    let bad = b.key("bad", &[free], &[]);
    let good = b.key("good", &[], &[]);
    let root = b.key("ROOT", &[bad, good], &[]);
    let (seen, report) = paths(&b.finish(root));
    assert_eq!(seen, ["", "bad", "good"]);
    assert!(
        matches!(report.problems[..], [HiveError::BadCell { why: "it is a free cell", .. }]),
        "{:?}",
        report.problems
    );
}

#[test]
fn a_truncated_hive_reads_what_is_there() {
    let mut b = Builder::new();
    let mut keys = Vec::new();
    for i in 0..200 {
        let v = b.string("v", &"x".repeat(i));
        keys.push(b.key(&format!("key{i:03}"), &[], &[v]));
    }
    let root = b.key("ROOT", &[], &[]);
    b.relist(root, &keys);
    let bytes = b.finish(root);
    // The root and its list were written last: cutting the file loses the root.
    assert!(matches!(Hive::parse(&bytes[..bytes.len() / 2]).unwrap().root(), Err(HiveError::Truncated { .. })));
    assert!(matches!(Hive::parse(&bytes[..100]), Err(HiveError::Truncated { .. })));
    assert!(matches!(Hive::parse(b"not a hive"), Err(HiveError::NotAHive)));
}

#[test]
fn data_claimed_larger_than_the_file_is_refused_without_allocating_it() {
    let mut b = Builder::new();
    let segment = b.cell(&[b'A'; 16344]);
    // One segment named 60,000 times: a 1 GB value out of a 40 KB file.
    let list: Vec<u8> = std::iter::repeat_n(segment.to_le_bytes(), 60_000).flatten().collect();
    let list = b.cell(&list);
    let mut db = b"db".to_vec();
    db.extend_from_slice(&60_000u16.to_le_bytes());
    db.extend_from_slice(&list.to_le_bytes());
    let db = b.cell(&db);
    let huge = b.value("huge", 3, 60_000 * 16344, db);
    let claimed = b.value("claimed", 3, 1 << 30, segment);
    let root = b.key("ROOT", &[], &[huge, claimed]);
    let bytes = b.finish(root);
    let hive = Hive::parse(&bytes).unwrap();
    for v in hive.root().unwrap().values().unwrap() {
        assert!(matches!(v.data(), Err(HiveError::BadCell { .. })), "{}: {:?}", v.name(), v.data().map(|d| d.len()));
    }
}
