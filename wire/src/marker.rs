//! What a value's first byte says about it, and the magic numbers of the compressed streams
//! records arrive in: the one place these byte patterns are written down.

/// Whether `b` starts a map (fixmap, map 16, map 32).
#[inline(always)]
pub const fn is_map(b: u8) -> bool {
    matches!(b, 0x80..=0x8f | 0xde | 0xdf)
}

/// Whether `b` starts an array (fixarray, array 16, array 32).
#[inline(always)]
pub const fn is_array(b: u8) -> bool {
    matches!(b, 0x90..=0x9f | 0xdc | 0xdd)
}

/// Whether `b` starts a string (fixstr, str 8, str 16, str 32).
#[inline(always)]
pub const fn is_str(b: u8) -> bool {
    matches!(b, 0xa0..=0xbf | 0xd9..=0xdb)
}

/// The first bytes of a gzip member (RFC 1952).
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The first bytes of a zstd frame.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Whether `bytes` start like a gzip or zstd stream.
pub fn is_compressed(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC) || bytes.starts_with(&ZSTD_MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_agree_with_the_cursor() {
        for b in 0..=255u8 {
            let mut buf = [0u8; 64];
            buf[0] = b;
            let head = crate::Cursor::new(&buf).read_head();
            assert_eq!(is_map(b), matches!(head, Ok(crate::Head::Map(_))), "{b:#x}");
            assert_eq!(is_array(b), matches!(head, Ok(crate::Head::Array(_))), "{b:#x}");
            assert_eq!(is_str(b), matches!(head, Ok(crate::Head::Str(_))), "{b:#x}");
        }
        assert!(is_compressed(&[0x1f, 0x8b, 8]) && is_compressed(&ZSTD_MAGIC) && !is_compressed(&[0x80]));
    }
}
