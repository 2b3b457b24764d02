//! The only module with `unsafe` code: memory maps, and building string arrays from bytes this
//! crate has already validated. Each `unsafe` block says what the caller promises.
#![allow(unsafe_code)]

use bytes::Bytes;
use datafusion::arrow::array::StringArray;
use datafusion::arrow::buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use std::fs::File;

/// Maps a whole file read-only and returns its bytes without copying.
///
/// The mapping is taken at the file's size when called. A file that shrinks while mapped makes
/// reads past its new end fault (SIGBUS), so callers only map files that are not being written
/// (see `source::MmapPolicy`); files still being written are read with plain reads.
pub fn map_file(file: &File, len: u64) -> std::io::Result<Bytes> {
    if len == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: the map is read-only and private to this process; the caller promises the file
    // is not being truncated (DESIGN.md, "Memory maps"), which is the one way mapped reads can
    // fault. Bytes keeps the map alive for as long as any slice of it is used.
    let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(file)? };
    Ok(Bytes::from_owner(map))
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
