//! Where bytes come from: local files, memory-mapped when that is safe and read otherwise.

use crate::error::{Error, Result, io_at};
use bytes::Bytes;
use std::path::Path;
use std::time::{Duration, SystemTime};

pub use crate::options::MmapPolicy;

/// Files modified more recently than this are read rather than mapped under `auto`.
pub const RECENT: Duration = Duration::from_secs(10);

/// Files smaller than this are read rather than mapped under `auto`: mapping costs an `mmap`,
/// a page fault per page and an `munmap` that interrupts every other core to flush its TLB,
/// more than copying a few pages (thousands of small files are the common Fluentd case).
pub const SMALL: u64 = 256 << 10;

/// True when `auto` should map this file.
fn should_map(path: &Path, meta: &std::fs::Metadata) -> bool {
    if meta.len() < SMALL {
        return false;
    }
    let staged = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("buffer.b") || super::fluentd::is_staged_chunk_name(n));
    let recent =
        meta.modified().ok().and_then(|m| SystemTime::now().duration_since(m).ok()).is_none_or(|age| age < RECENT);
    !staged && !recent
}

/// The bytes of one input, and the map they live in when they were mapped.
#[derive(Debug, Clone)]
pub struct FileBytes {
    /// The whole input.
    pub bytes: Bytes,
    map: Option<crate::sys::MappedFile>,
}

impl FileBytes {
    /// Bytes read into memory or fetched from a store (not a map).
    pub fn in_memory(bytes: Bytes) -> Self {
        FileBytes { bytes, map: None }
    }

    /// True when the bytes are a memory map.
    pub fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// An error when the file shrank while mapped (another process truncated it): reads past
    /// its new end saw zeros, not the file, so what was read from there must not be used.
    pub fn check_intact(&self, path: &str) -> Result<()> {
        match &self.map {
            Some(m) if m.shrank() => Err(Error::Input(format!(
                "{path}: the file shrank while it was being read (it was {} bytes when opened); the records \
                 past its new end are gone, so the scan stopped rather than return what it read there. Run \
                 again once the file is complete, or with --mmap never to read it once into memory",
                self.bytes.len()
            ))),
            _ => Ok(()),
        }
    }

    /// Tells the system a scan is done with `range`: a mapped file's pages there leave this
    /// process's resident memory (they are read back from the file if needed again). Nothing
    /// happens to bytes held in memory.
    pub fn release(&self, range: std::ops::Range<usize>) {
        if let Some(m) = &self.map {
            m.release(range);
        }
    }
}

impl AsRef<[u8]> for FileBytes {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

fn maps(policy: MmapPolicy, path: &Path, meta: &std::fs::Metadata) -> bool {
    match policy {
        MmapPolicy::Always => true,
        MmapPolicy::Never => false,
        MmapPolicy::Auto => should_map(path, meta),
    }
}

/// True when [`file_bytes`] would map this local file now (false when it cannot be read).
pub fn would_map(path: &Path, policy: MmapPolicy) -> bool {
    std::fs::metadata(path).is_ok_and(|meta| maps(policy, path, &meta))
}

/// The bytes of a local file: mapped (zero copy) or read, as the policy says.
pub fn file_bytes(path: &Path, policy: MmapPolicy) -> Result<FileBytes> {
    let file = std::fs::File::open(path).map_err(io_at(path))?;
    open_file_bytes(file, path, policy)
}

/// [`file_bytes`] of a file a listing just found `listed` bytes long: a file the policy reads
/// at that size (not mapped: `never`, or smaller than [`SMALL`] under `auto`) is read without
/// asking its size again (with thousands of small files, each read by inference and by the
/// scan, those `fstat`s were a tenth of the system calls). It is read to its end whatever its
/// size is now; one that grew past [`SMALL`] since is read, not mapped.
pub fn listed_file_bytes(path: &Path, policy: MmapPolicy, listed: u64) -> Result<FileBytes> {
    let read = match policy {
        MmapPolicy::Never => true,
        MmapPolicy::Auto => listed < SMALL,
        MmapPolicy::Always => false,
    };
    if !read {
        return file_bytes(path, policy);
    }
    let file = std::fs::File::open(path).map_err(io_at(path))?;
    read_in_memory(&file, path, listed)
}

/// `file` read whole into memory, `len` bytes expected (see [`read_whole`]).
fn read_in_memory(file: &std::fs::File, path: &Path, len: u64) -> Result<FileBytes> {
    let buf = read_whole(file, len).map_err(io_at(path))?;
    Ok(FileBytes::in_memory(Bytes::from(buf)))
}

/// [`file_bytes`] of a file already open (an object store's local `get` opens it), so it is
/// not opened twice.
pub fn open_file_bytes(file: std::fs::File, path: &Path, policy: MmapPolicy) -> Result<FileBytes> {
    let meta = file.metadata().map_err(io_at(path))?;
    let map =
        if maps(policy, path, &meta) { crate::sys::map_file(&file, meta.len()).map_err(io_at(path))? } else { None };
    if let Some(map) = map {
        Ok(FileBytes { bytes: map.bytes().clone(), map: Some(map) })
    } else {
        read_in_memory(&file, path, meta.len())
    }
}

/// Every byte of `file` from where it is to its end, `len` (its size when it was looked at)
/// expected. The first read asks for one byte more than that: when it brings exactly `len`
/// bytes, that is the end, and no second read is needed to find it (with thousands of small
/// files, each read by inference and by the scan, that second call counted); a file that grew
/// meanwhile fills the buffer and is read on to its new end, one that shrank ends sooner.
/// (`read_to_end` asks for the size and the position again first: two more system calls.)
fn read_whole(mut file: &std::fs::File, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let len = len.min(1 << 30) as usize;
    let mut buf = vec![0; len + 1];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(filled + filled.max(8192), 0);
        }
        let room = buf.len() - filled;
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled == len && n < room {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file is read whole whether it is as long as its size said, shorter (it shrank), longer
    /// (it grew), or longer than the buffer made for it.
    #[test]
    fn files_are_read_to_their_end_whatever_size_was_expected() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("f");
        let bytes: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).expect("write");
        for expected in [0, 1, 4096, 8192, 49_999, 50_000, 50_001, 1 << 20] {
            let file = std::fs::File::open(&path).expect("open");
            assert_eq!(read_whole(&file, expected).expect("read"), bytes, "expected {expected}");
        }
        let got = file_bytes(&path, MmapPolicy::Never).expect("read");
        assert_eq!(got.bytes.as_ref(), &bytes[..]);
        // Listed at another size (the file changed since): read whole, mapped only when the
        // policy maps whatever the size.
        for (policy, listed, mapped) in [
            (MmapPolicy::Never, 10, false),
            (MmapPolicy::Never, 1 << 30, false),
            (MmapPolicy::Auto, 10, false),
            (MmapPolicy::Auto, 60_000, false),
            (MmapPolicy::Always, 10, true),
        ] {
            let got = listed_file_bytes(&path, policy, listed).expect("read");
            assert_eq!((got.bytes.as_ref(), got.is_mapped()), (&bytes[..], mapped), "{policy:?} {listed}");
        }
    }
}
