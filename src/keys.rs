//! Map keys as the reader compares and hashes them: [`KeyIndex`] maps a record's key bytes to
//! the column it belongs to (the decoder's struct columns), with the comparison, hasher and
//! [`SlotTable`] that inference's lattice uses too.

use std::hash::{BuildHasher, BuildHasherDefault};

/// Maps key bytes to a slot, trying the slots after the previous hit first (records of one
/// stream usually repeat their key order, leaving out optional keys) before hashing.
#[derive(Debug, Clone, Default)]
pub struct KeyIndex {
    names: Vec<Box<[u8]>>,
    table: SlotTable,
}

/// Slots found by name, holding only the slot numbers: the names stay where their owner keeps
/// them (a name per slot), which every call lends as `name`, and are compared with [`same`]
/// (no copy of every name for the table, no library comparison call per probe).
#[derive(Debug, Clone, Default)]
pub(crate) struct SlotTable(hashbrown::HashTable<usize>);

impl SlotTable {
    /// A table of slots `0..n`.
    pub fn new<'a>(n: usize, name: impl Fn(usize) -> &'a [u8]) -> Self {
        let mut t = SlotTable(hashbrown::HashTable::with_capacity(n));
        for i in 0..n {
            t.insert(i, &name);
        }
        t
    }

    /// The slot named `key`.
    #[inline]
    pub fn find<'a>(&self, key: &[u8], name: impl Fn(usize) -> &'a [u8]) -> Option<usize> {
        self.0.find(hash(key), |&i| same(name(i), key)).copied()
    }

    /// Adds slot `slot` (`name(slot)` is its name, and no other slot has it).
    pub fn insert<'a>(&mut self, slot: usize, name: impl Fn(usize) -> &'a [u8]) {
        self.0.insert_unique(hash(name(slot)), slot, |&i| hash(name(i)));
    }

    /// Slots in the table.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// A key's hash for [`SlotTable`].
#[inline]
fn hash(key: &[u8]) -> u64 {
    BuildHasherDefault::<KeyHasher>::default().hash_one(key)
}

/// Up to this many names, a lookup compares them all rather than hashing.
const FEW_NAMES: usize = 8;

/// Slots after the previous hit compared before the hash lookup (the decoder's and the
/// inference lattice's).
const LOOKAHEAD: usize = 3;

/// The slot of `key` among the [`LOOKAHEAD`] slots from `hint` on, as `name` gives each slot's
/// name: what the decoder's key index and inference's lattice try before hashing.
#[inline(always)]
pub(crate) fn find_ahead<T>(slots: &[T], hint: usize, key: &[u8], name: impl Fn(&T) -> &[u8]) -> Option<usize> {
    let ahead = slots.get(hint..(hint + LOOKAHEAD).min(slots.len())).unwrap_or_default();
    ahead.iter().position(|s| same(name(s), key)).map(|i| hint + i)
}

/// Short keys compared inline: a call to `memcmp` costs more than the comparison. Keys of 4
/// bytes or more are compared a word at a time (the last word overlapping the one before it),
/// not byte by byte: most keys are 4 to 16 bytes.
#[inline]
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default());
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default());
    match n {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => (0..n / 8).all(|i| word(a, i * 8) == word(b, i * 8)) && word(a, n - 8) == word(b, n - 8),
    }
}

/// A fast hasher for key bytes (multiply-rotate over 8-byte words). Keys come from the data,
/// but a slot lookup only decides which column a value goes to, and the table is built from
/// the inferred schema, so collisions cost time, never correctness.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl KeyIndex {
    /// An index over these names; slot `i` is `names[i]`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let names: Vec<Box<[u8]>> = names.into_iter().map(|n| n.as_bytes().into()).collect();
        let table = SlotTable::new(names.len(), |i| &names[i]);
        KeyIndex { names, table }
    }

    /// The slot of `key`: among a few names, by comparing each; otherwise trying `hint` and
    /// the [`LOOKAHEAD`] slots after it before hashing.
    #[inline(always)]
    pub fn find(&self, key: &[u8], hint: usize) -> Option<usize> {
        if self.names.len() <= FEW_NAMES {
            return self.names.iter().position(|n| same(n, key));
        }
        if let Some(i) = find_ahead(&self.names, hint, key, |n| n) {
            return Some(i);
        }
        self.table.find(key, |i| &self.names[i])
    }

    /// Number of slots.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no slots.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slot is found by its name, whatever the hint, as the table grows past the sizes
    /// it was made with; names not among them (one byte off, a prefix) are not found.
    #[test]
    fn slots_are_found_by_name_only() {
        let mut names: Vec<String> = (0..3).map(|i| format!("key_{i}")).collect();
        let mut table = SlotTable::new(names.len(), |i| names[i].as_bytes());
        for i in 3..500 {
            names.push(format!("key_{i}"));
            table.insert(i, |j| names[j].as_bytes());
        }
        assert_eq!(table.len(), 500);
        let index = KeyIndex::new(names.iter().map(String::as_str));
        for (i, n) in names.iter().enumerate() {
            assert_eq!(table.find(n.as_bytes(), |j| names[j].as_bytes()), Some(i));
            for hint in [0, i, i + 1, 499, 600] {
                assert_eq!(index.find(n.as_bytes(), hint), Some(i), "{n} from {hint}");
            }
        }
        for absent in ["key_500", "key_", "kez_1", "key_1 ", ""] {
            assert_eq!(table.find(absent.as_bytes(), |j| names[j].as_bytes()), None);
            assert_eq!(index.find(absent.as_bytes(), 1), None);
        }
    }

    /// Word-wise comparison agrees with byte-wise at every length and every differing byte.
    #[test]
    fn same_compares_every_byte_at_every_length() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37).wrapping_add(1)).collect();
            assert!(same(&a, &a.clone()), "length {n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x80;
                assert!(!same(&a, &b), "length {n}, byte {i}");
            }
            if n > 0 {
                assert!(!same(&a, &a[..n - 1]), "length {n} against {}", n - 1);
            }
        }
    }
}
