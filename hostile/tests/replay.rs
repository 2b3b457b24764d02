//! Every input the fuzz targets start from or ever failed on, and the hostile corpus, through
//! every target of `mpq-hostile`, with a counting allocator that bounds the memory each
//! takes; and property tests that mutate valid files the same way.
//!
//! The counting allocator needs `unsafe` (implementing `GlobalAlloc`); it only forwards to
//! the system allocator and counts.
#![allow(unsafe_code)]

use mpq::generate::{Spec, to_vecs};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};

/// Counts the bytes each thread has allocated and not freed, and the peak since reset.
struct Counting;

thread_local! {
    static NOW: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = NOW.try_with(|n| {
        let now = n.get() + delta;
        n.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

// SAFETY: every call is forwarded to the system allocator unchanged; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's promises are passed on as they are.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The most memory any target may take for an input of `len` bytes: a fixed allowance for
/// buffers, builders and planning state, plus a multiple of the input (batches hold copies
/// of values; JSON text is larger than MessagePack). A length header that claims gigabytes
/// must not move this.
fn bound(len: usize) -> isize {
    (24 << 20) + 64 * len as isize
}

/// Runs `f` on this thread and returns the peak of memory it held at once.
fn peak_of(f: impl FnOnce()) -> isize {
    let base = NOW.with(Cell::get);
    PEAK.with(|p| p.set(base));
    f();
    PEAK.with(Cell::get) - base
}

type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 5] = [
    ("decode", mpq_hostile::decode),
    ("inference", mpq_hostile::inference),
    ("read_functions", mpq_hostile::read_functions),
    ("build_functions", mpq_hostile::build_functions),
    ("wire", mpq_hostile::wire),
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.expect("entry").path()).filter(|p| p.is_file()).collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

/// Runs `target` on `data` and checks its memory against the bound.
fn check(name: &str, target: Target, data: &[u8], what: &str) {
    let ran = std::panic::catch_unwind(|| peak_of(|| target(data)));
    let peak = ran.unwrap_or_else(|_| panic!("{name} failed on {what}"));
    assert!(peak <= bound(data.len()), "{name} on {what}: peak {peak} bytes for {} input bytes", data.len());
}

#[test]
fn seeds_regressions_and_the_hostile_corpus_pass_every_target() {
    let hostile = files_in(&root().join("testdata/hostile"));
    assert!(hostile.len() >= 15);
    let mut ran = 0;
    for (name, target) in TARGETS {
        let mut files = files_in(&root().join("fuzz/seeds").join(name));
        assert!(!files.is_empty(), "seeds of {name}");
        files.extend(files_in(&root().join("fuzz/regressions").join(name)));
        for f in &files {
            let data = std::fs::read(f).expect("read");
            check(name, target, &data, &f.display().to_string());
            ran += 1;
        }
        // The corpus as it is, and behind each options byte that matters.
        for f in &hostile {
            let data = std::fs::read(f).expect("read");
            for options in [0x07u8, 0x0f, 0x17, 0x27, 0x47, 0x87] {
                let mut input = vec![options];
                input.extend_from_slice(&data);
                check(name, target, &input, &format!("{} behind {options:#04x}", f.display()));
            }
            ran += 1;
        }
    }
    assert!(ran > 100, "{ran}");
}

#[test]
fn a_length_bomb_allocates_nothing_like_its_claim() {
    // `DF 20 00 00 00` claims 2^29 pairs: gigabytes if believed.
    let bomb = std::fs::read(root().join("testdata/hostile/length_bomb_map.msgpack")).expect("bomb");
    assert_eq!(bomb.len(), 15);
    for (name, target) in TARGETS {
        let peak = peak_of(|| target(&bomb));
        // About 2 MiB for decode (the stream reader's 1 MiB buffer), far less for the rest.
        assert!(peak < 4 << 20, "{name}: {peak} bytes");
    }
}

fn valid_file(events: bool) -> Vec<u8> {
    to_vecs(&Spec { records: 40, seed: 11, events, mixed: false, wide: false }).0
}

/// One mutation of a valid file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Overwrite one byte.
    Set(prop::sample::Index, u8),
    /// Insert bytes.
    Insert(prop::sample::Index, Vec<u8>),
    /// Delete a run of bytes.
    Delete(prop::sample::Index, usize),
    /// Put a 32-bit length or count header claiming far more than remains.
    Bomb(prop::sample::Index, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<prop::sample::Index>(), proptest::collection::vec(any::<u8>(), 1..6))
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<prop::sample::Index>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (any::<prop::sample::Index>(), prop::sample::select(vec![0xc6u8, 0xc9, 0xdb, 0xdd, 0xdf]))
            .prop_map(|(i, h)| Mutation::Bomb(i, h)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        match m {
            Mutation::Set(i, b) => {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            Mutation::Insert(i, b) => {
                let at = i.index(bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i.index(bytes.len());
                let end = (at + n).min(bytes.len());
                bytes.drain(at..end);
            }
            Mutation::Bomb(i, h) => {
                let at = i.index(bytes.len());
                bytes.splice(at..at, [*h, 0x7f, 0xff, 0xff, 0xf0]);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn mutations_never_panic_nor_allocate_beyond_a_bound(
        events in any::<bool>(),
        options in any::<u8>(),
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let mut input = vec![options];
        input.extend(mutate(valid_file(events), &mutations));
        for (name, target) in TARGETS {
            let peak = peak_of(|| target(&input));
            prop_assert!(peak <= bound(input.len()), "{}: peak {} for {} bytes", name, peak, input.len());
        }
    }
}
