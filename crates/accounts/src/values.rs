//! The per-account value arrays a propagation gathers from, on 2 MiB pages where the
//! system allows it.
//!
//! Why: every adjacency entry reads the value of a neighbour at a random place in the
//! array. Once the array outgrows the caches, each read also needs its page's address
//! translation, and with 4 KiB pages a 64 MiB array spans 16 384 pages, more than the
//! translation caches hold. Measured with `examples/gather.rs` (uniform random reads,
//! one thread): 11.0 ns a read from 64 MiB on 4 KiB pages against 7.6 ns on 2 MiB
//! pages; no difference at 8 MiB. Linux gives a program 2 MiB pages when
//! transparent huge pages are `always`, or `madvise` (Debian's default) and the program
//! asks for them, as done here on an anonymous mapping; elsewhere, or when the mapping
//! fails, the array is an ordinary vector. A process that has turned huge pages off
//! (`prctl(PR_SET_THP_DISABLE)`, as the `takedown` binary's allocator does) gets
//! ordinary pages too.

use std::ops::{Deref, DerefMut};

/// Arrays smaller than a page of 2 MiB stay ordinary vectors.
const HUGE: usize = 2 << 20;

#[derive(Debug)]
pub struct ValueArray {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Vec(Vec<f32>),
    /// `len` values starting `start` bytes into the mapping (a 2 MiB boundary).
    Map {
        map: memmap2::MmapMut,
        start: usize,
        len: usize,
    },
}

impl ValueArray {
    /// `len` zeros.
    pub fn zeroed(len: usize) -> ValueArray {
        let bytes = len * std::mem::size_of::<f32>();
        if bytes >= HUGE {
            // One page extra, so that the values can start on a 2 MiB boundary.
            if let Ok(map) = memmap2::MmapMut::map_anon(bytes + HUGE) {
                #[cfg(target_os = "linux")]
                // Advice only: without it the pages are ordinary ones.
                let _ = map.advise(memmap2::Advice::HugePage);
                let start = (HUGE - map.as_ptr() as usize % HUGE) % HUGE;
                return ValueArray { inner: Inner::Map { map, start, len } };
            }
        }
        ValueArray { inner: Inner::Vec(vec![0.0; len]) }
    }

    pub fn from_slice(values: &[f32]) -> ValueArray {
        let mut a = ValueArray::zeroed(values.len());
        a.copy_from_slice(values);
        a
    }
}

impl Deref for ValueArray {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        match &self.inner {
            Inner::Vec(v) => v,
            Inner::Map { map, start, len } => bytemuck::cast_slice(&map[*start..*start + len * 4]),
        }
    }
}

impl DerefMut for ValueArray {
    fn deref_mut(&mut self) -> &mut [f32] {
        match &mut self.inner {
            Inner::Vec(v) => v,
            Inner::Map { map, start, len } => bytemuck::cast_slice_mut(&mut map[*start..*start + *len * 4]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_arrays_read_back() {
        for len in [0, 3, HUGE / 4 + 5] {
            let values: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
            let mut a = ValueArray::from_slice(&values);
            assert_eq!(&a[..], &values[..]);
            if len > 0 {
                a[len - 1] = -1.0;
                assert_eq!(a[len - 1], -1.0);
            }
            assert!(ValueArray::zeroed(len).iter().all(|&x| x == 0.0));
        }
    }
}
