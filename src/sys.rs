//! The only module with `unsafe` code: memory maps, the SIGBUS handler that keeps a file that
//! shrinks under its map from killing the process, the SIGINT handler that counts Ctrl-C
//! presses (for [`crate::interrupt`]), renaming without replacing ([`rename_noreplace`]), an
//! allocator setting for conversions ([`return_freed_blocks_from`]), and
//! building string arrays from bytes this crate has
//! already validated. Each `unsafe` block says what the caller promises.
//!
//! ## Files that shrink while mapped
//! Reading a mapped page past a file's end raises SIGBUS, whose default action kills the
//! process. `--mmap auto` avoids mapping files that are still being written, but another
//! process can always truncate a file mid-query. So every map is registered in [`SLOTS`] and
//! a SIGBUS handler, installed with the first map, looks the faulting address up: inside a
//! registered map, it maps a zero page over the faulting page (`MAP_FIXED`), marks the map as
//! shrunk and returns, so the read is retried and sees zeros. The scan checks the mark after
//! every batch ([`MappedFile::shrank`]) and stops with an error that names the file, instead
//! of returning anything read from the zero pages. An address outside every registered map
//! is not ours: the handler restores the default action and returns, and the retried access
//! ends the process as it would have without the handler.
#![allow(unsafe_code)]

use bytes::Bytes;
use datafusion::arrow::array::StringArray;
use datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The bytes of a whole file mapped read-only. Only [`map_file`] makes one, so [`release`]
/// can rely on the bytes being a file map and never heap memory.
///
/// [`release`]: MappedFile::release
#[derive(Debug, Clone)]
pub struct MappedFile(Bytes, Option<usize>);

/// Maps the SIGBUS handler watches at most at once; a file mapped while all are taken is read
/// instead (see [`map_file`]).
pub const SLOTS: usize = 1024;

/// Where each registered map starts and ends (0, 0: a free slot), and whether the handler
/// patched a page of it.
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static SHRANK: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);

/// A memory map registered with the SIGBUS handler for as long as it lives.
struct Watched {
    map: memmap2::Mmap,
    slot: usize,
}

impl AsRef<[u8]> for Watched {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        // Unregistered before the map goes (the fields drop after this body).
        ENDS[self.slot].store(0, Ordering::Release);
        STARTS[self.slot].store(0, Ordering::Release);
        SHRANK[self.slot].store(false, Ordering::Release);
    }
}

/// Takes a free slot for `range`, or `None` when all are taken.
fn register(range: std::ops::Range<usize>) -> Option<usize> {
    for slot in 0..SLOTS {
        if STARTS[slot].compare_exchange(0, range.start, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            SHRANK[slot].store(false, Ordering::Release);
            ENDS[slot].store(range.end, Ordering::Release);
            return Some(slot);
        }
    }
    None
}

/// The SIGBUS handler (see the module docs). Async-signal-safe: it reads atomics and calls
/// `mmap` and `sigaction`, nothing else.
extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler; for SIGBUS it
    // carries the faulting address.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Relaxed);
    for slot in 0..SLOTS {
        let start = STARTS[slot].load(Ordering::Acquire);
        if start == 0 || addr < start || addr >= ENDS[slot].load(Ordering::Acquire) {
            continue;
        }
        let at = addr / page * page;
        // SAFETY: the page lies inside a live read-only map this process owns (registered
        // until the map is dropped); replacing it with a private zero page changes nothing
        // but what reads past the file's new end see, and the scan discards those reads
        // (`MappedFile::shrank`). When the map is dropped, munmap removes this page with it.
        let p = unsafe {
            libc::mmap(
                at as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_FIXED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            SHRANK[slot].store(true, Ordering::Release);
            return;
        }
    }
    // Not a registered map: back to the default action, which the retried access meets.
    // SAFETY: resetting a signal's disposition to SIG_DFL has no preconditions.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}

/// Installs [`on_sigbus`] once per process.
fn install_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        PAGE.store(page_size(), Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid starting point; the handler has the
        // SA_SIGINFO signature and is async-signal-safe. Failing to install it leaves the
        // default action, as before.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    });
}

/// Renames `from` to `to` only if `to` does not exist, atomically (Linux `renameat2` with
/// `RENAME_NOREPLACE`): of two processes committing to one new name, one wins and the other
/// gets `AlreadyExists`. Where the file system cannot do that (`EINVAL`), a file is linked to
/// its new name (which fails if the name exists) and unlinked from the old one; a directory
/// is renamed plainly, which replaces only an empty directory that appeared meanwhile.
pub fn rename_noreplace(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &std::path::Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| std::io::Error::other("a path with a NUL byte"))
    };
    let (f, t) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated C strings that live across the call; renameat2
    // reads them and touches no memory of ours.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, f.as_ptr(), libc::AT_FDCWD, t.as_ptr(), libc::RENAME_NOREPLACE) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    if !matches!(e.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOSYS)) {
        return Err(e);
    }
    if std::fs::symlink_metadata(from)?.is_dir() {
        if to.symlink_metadata().is_ok() {
            return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
        }
        return std::fs::rename(from, to);
    }
    std::fs::hard_link(from, to)?;
    std::fs::remove_file(from)
}

/// Makes glibc's allocator hand blocks of `bytes` or more straight back to the system when
/// they are freed (`mallopt(M_MMAP_THRESHOLD)`). By default glibc raises that threshold each
/// time such a block is freed (up to 32 MiB), so a pipeline that allocates and frees batch
/// buffers of a few MiB keeps them in its heaps: `mpq convert` (whose memory is those buffers)
/// sets it ([`crate::convert::FREED_BLOCK_BYTES`]). False where the allocator is not glibc's or it
/// refused.
pub fn return_freed_blocks_from(bytes: usize) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let Ok(n) = libc::c_int::try_from(bytes) else { return false };
        // SAFETY: mallopt only sets an allocator parameter (under the allocator's own lock);
        // no memory of ours is touched.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, n) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = bytes;
        false
    }
}

/// SIGINTs received since [`count_sigint`] was first called.
static SIGINTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts one SIGINT. Async-signal-safe: one atomic add.
extern "C" fn on_sigint(_sig: libc::c_int) {
    SIGINTS.fetch_add(1, Ordering::SeqCst);
}

/// From now on, SIGINT (Ctrl-C) only counts ([`sigints`]) instead of ending the process;
/// replaces whatever handled SIGINT before. Installs once per process; an error when the
/// handler cannot be installed.
pub fn count_sigint() -> std::io::Result<()> {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    // SAFETY: a zeroed sigaction is a valid starting point; the handler is async-signal-safe
    // (one atomic add) and has the plain handler signature (no SA_SIGINFO).
    let ok = *ONCE.get_or_init(|| unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as *const () as usize;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) == 0
    });
    if ok { Ok(()) } else { Err(std::io::Error::other("cannot install a SIGINT handler")) }
}

/// SIGINTs counted so far (see [`count_sigint`]).
pub fn sigints() -> u64 {
    SIGINTS.load(Ordering::SeqCst)
}

impl MappedFile {
    /// The mapped bytes (zero copy).
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// True once a read met a page past the file's end: the file shrank while mapped, and
    /// what was read from there is zeros, not the file.
    pub fn shrank(&self) -> bool {
        self.1.is_some_and(|slot| SHRANK[slot].load(Ordering::Acquire))
    }

    /// Drops the whole pages inside `range` from this process's resident memory, so a scan
    /// that has passed them does not keep the file resident: memory stays bounded by the
    /// batches in flight, not by the file's size. The pages stay in the page cache and reading
    /// them again faults them back in from the file, so slices handed out earlier (zero-copy
    /// Binary arrays) stay valid and unchanged.
    pub fn release(&self, range: std::ops::Range<usize>) {
        let Some(part) = self.0.get(range) else { return };
        let page = page_size();
        let start = (part.as_ptr() as usize).next_multiple_of(page);
        let end = (part.as_ptr() as usize + part.len()) / page * page;
        if end > start {
            // SAFETY: [start, end) lies inside a read-only, file-backed map owned by `self.0`
            // (only `map_file` builds a `MappedFile`), and is page-aligned. MADV_DONTNEED on a
            // file map never changes what the memory reads as: the kernel drops the page
            // table entries and later reads fault the same file bytes back in. The map is never
            // written, so no private copy can be lost. The call only advises; its result does
            // not matter.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions; it returns -1 on error, handled below.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as usize } else { 4096 }
}

/// Maps a whole file read-only and returns its bytes without copying; `None` when every
/// [`SLOTS`] slot is taken (the caller reads the file instead).
///
/// The mapping is taken at the file's size when called. A file that shrinks while mapped makes
/// reads past its new end fault (SIGBUS); the handler this installs turns that into
/// [`MappedFile::shrank`] (see the module docs). Callers still avoid mapping files that are
/// being written (`source::MmapPolicy`).
pub fn map_file(file: &File, len: u64) -> std::io::Result<Option<MappedFile>> {
    if len == 0 {
        return Ok(Some(MappedFile(Bytes::new(), None)));
    }
    install_handler();
    // SAFETY: the map is read-only and private to this process. A file truncated while mapped
    // makes reads past its end fault; the SIGBUS handler maps zeros there and the scan stops
    // with an error (module docs). Bytes keeps the map alive for as long as any slice of it is
    // used.
    let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(file)? };
    let start = map.as_ptr() as usize;
    let Some(slot) = register(start..start + map.len()) else { return Ok(None) };
    Ok(Some(MappedFile(Bytes::from_owner(Watched { map, slot }), Some(slot))))
}

/// Builds a `StringArray` from offsets and bytes, validating the bytes in bulk with simdutf8
/// and checking that every offset falls on a character boundary. Returns `None` when the bytes
/// are not valid UTF-8 at those boundaries.
pub fn utf8_array(offsets: Vec<i32>, data: Vec<u8>, nulls: Option<NullBuffer>) -> Option<StringArray> {
    if simdutf8::basic::from_utf8(&data).is_err() {
        return None;
    }
    // A valid buffer can still be cut inside a character: no value may start on a
    // continuation byte (0b10xx_xxxx).
    if offsets.iter().any(|&o| data.get(o as usize).is_some_and(|b| (b & 0xc0) == 0x80)) {
        return None;
    }
    if offsets.windows(2).any(|w| w[0] > w[1]) || offsets.last().is_some_and(|&l| l as usize != data.len()) {
        return None;
    }
    let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
    let values = Buffer::from_vec(data);
    // SAFETY: offsets are monotonic and end at the buffer's length (checked above), the whole
    // buffer is valid UTF-8 (simdutf8) and every offset is on a character boundary (no
    // continuation byte starts a value), so every value is valid UTF-8.
    Some(unsafe { StringArray::new_unchecked(offsets, values, nulls) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Array;

    #[test]
    fn a_file_truncated_under_its_map_reads_as_zeros_and_is_marked() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("shrinking.bin");
        let page = page_size();
        std::fs::write(&path, vec![7u8; page * 4]).expect("write");
        let file = File::open(&path).expect("open");
        let map = map_file(&file, (page * 4) as u64).expect("map").expect("a free slot");
        assert_eq!(map.bytes()[page * 3], 7);
        assert!(!map.shrank());
        // Another process (here: this one) truncates the file to one page.
        std::fs::OpenOptions::new().write(true).open(&path).expect("open").set_len(page as u64).expect("truncate");
        // Without the handler this read would end the test binary with SIGBUS.
        let past_end = map.bytes()[page * 3 + 5];
        assert_eq!(past_end, 0);
        assert!(map.shrank());
        assert_eq!(map.bytes()[3], 7, "the pages still in the file read as before");
        drop(map);
        let again = map_file(&File::open(&path).expect("open"), page as u64).expect("map").expect("slot");
        assert!(!again.shrank(), "a freed slot starts clean");
    }

    #[test]
    fn utf8_array_checks_boundaries() {
        let ok = utf8_array(vec![0, 2, 3], "éa".as_bytes().to_vec(), None).expect("valid");
        assert_eq!(ok.value(0), "é");
        assert!(utf8_array(vec![0, 1, 2], "é".as_bytes().to_vec(), None).is_none());
        assert!(utf8_array(vec![0, 1], vec![0xff], None).is_none());
        assert_eq!(ok.len(), 2);
    }
}
