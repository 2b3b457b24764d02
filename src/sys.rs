//! The only module with `unsafe` code: memory maps, and building string arrays from bytes this
//! crate has already validated. Each `unsafe` block says what the caller promises.
#![allow(unsafe_code)]

use bytes::Bytes;
use datafusion::arrow::array::StringArray;
use datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use std::fs::File;

/// The bytes of a whole file mapped read-only. Only [`map_file`] makes one, so [`release`]
/// can rely on the bytes being a file map and never heap memory.
///
/// [`release`]: MappedFile::release
#[derive(Debug, Clone)]
pub struct MappedFile(Bytes);

impl MappedFile {
    /// The mapped bytes (zero copy).
    pub fn bytes(&self) -> &Bytes {
        &self.0
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

/// Maps a whole file read-only and returns its bytes without copying.
///
/// The mapping is taken at the file's size when called. A file that shrinks while mapped makes
/// reads past its new end fault (SIGBUS), so callers only map files that are not being written
/// (see `source::MmapPolicy`); files still being written are read with plain reads.
pub fn map_file(file: &File, len: u64) -> std::io::Result<MappedFile> {
    if len == 0 {
        return Ok(MappedFile(Bytes::new()));
    }
    // SAFETY: the map is read-only and private to this process; the caller promises the file
    // is not being truncated (DESIGN.md, "Memory maps"), which is the one way mapped reads can
    // fault. Bytes keeps the map alive for as long as any slice of it is used.
    let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(file)? };
    Ok(MappedFile(Bytes::from_owner(map)))
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
    fn utf8_array_checks_boundaries() {
        let ok = utf8_array(vec![0, 2, 3], "éa".as_bytes().to_vec(), None).expect("valid");
        assert_eq!(ok.value(0), "é");
        assert!(utf8_array(vec![0, 1, 2], "é".as_bytes().to_vec(), None).is_none());
        assert!(utf8_array(vec![0, 1], vec![0xff], None).is_none());
        assert_eq!(ok.len(), 2);
    }
}
