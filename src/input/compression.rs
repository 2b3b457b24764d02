//! Compressed inputs: gzip and zstd streams (several members or frames allowed), recognised
//! by their magic bytes and decompressed as they are read, with a bound on what is held in
//! memory decompressed.

use mpq_wire::marker::{GZIP_MAGIC, ZSTD_MAGIC};
use std::io::Read;

/// The compressions read, for messages.
pub const COMPRESSIONS: &str = "gzip and zstd";

/// A compression recognised by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip (RFC 1952), one member or several concatenated.
    Gzip,
    /// zstd, one frame or several.
    Zstd,
}

impl Compression {
    /// The compression `bytes` start with, if any.
    pub fn of(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&GZIP_MAGIC) {
            Some(Compression::Gzip)
        } else if bytes.starts_with(&ZSTD_MAGIC) {
            Some(Compression::Zstd)
        } else {
            None
        }
    }

    /// The name a forward entry's option uses (`{"compressed": "gzip"}`), if one we read.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The name for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// A reader of the decompressed stream of `r` (every member or frame in turn).
    pub fn reader<'a, R: Read + Send + 'a>(self, r: R) -> std::io::Result<Box<dyn Read + Send + 'a>> {
        Ok(match self {
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(r)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(r)?),
        })
    }
}

/// A decompressed input: the bytes decompressed, and what stopped the decompression early,
/// if anything (the bytes before the damage are kept).
#[derive(Debug)]
pub struct Decompressed {
    /// The decompressed bytes (up to the damage, if any).
    pub bytes: Vec<u8>,
    /// Why the stream ended early, as text.
    pub damage: Option<String>,
}

/// Decompresses `bytes`, at most `limit` bytes of output: an error when the input would
/// decompress to more (a zip bomb must not exhaust memory).
pub fn decompress(bytes: &[u8], c: Compression, limit: u64) -> std::result::Result<Decompressed, String> {
    let mut out = Vec::new();
    let damage = match c.reader(bytes) {
        Ok(r) => r.take(limit.saturating_add(1)).read_to_end(&mut out).err(),
        Err(e) => Some(e),
    };
    if out.len() as u64 > limit {
        return Err(format!(
            "the {} stream decompresses to more than {limit} bytes (the limit; --max-decompressed-bytes raises it)",
            c.name()
        ));
    }
    let damage =
        damage.map(|e| format!("the {} stream is damaged after {} decompressed bytes: {e}", c.name(), out.len()));
    Ok(Decompressed { bytes: out, damage })
}

/// Whether the local file at `path` starts like a gzip or zstd stream (a compressed file is
/// never split into byte ranges: its ranges would not be ranges of the decompressed bytes).
/// (A compressed SequenceFile splits at its sync markers, so it does not count.)
pub fn is_compressed_file(path: &std::path::Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && Compression::of(&head).is_some()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// `data` as one gzip member.
    pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("write");
        e.finish().expect("finish")
    }

    #[test]
    fn gzip_members_and_zstd_frames_are_read_whole() {
        let mut two = gzip(b"abc");
        two.extend(gzip(b"def"));
        assert_eq!(Compression::of(&two), Some(Compression::Gzip));
        assert_eq!(decompress(&two, Compression::Gzip, 100).expect("ok").bytes, b"abcdef");
        let mut z = zstd::encode_all(&b"abc"[..], 3).expect("zstd");
        z.extend(zstd::encode_all(&b"def"[..], 3).expect("zstd"));
        assert_eq!(Compression::of(&z), Some(Compression::Zstd));
        assert_eq!(decompress(&z, Compression::Zstd, 100).expect("ok").bytes, b"abcdef");
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_damage_keeps_the_prefix() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        let e = decompress(&bomb, Compression::Gzip, 1000).expect_err("too big");
        assert_eq!(
            e,
            "the gzip stream decompresses to more than 1000 bytes (the limit; --max-decompressed-bytes raises it)"
        );
        let whole = gzip(&[7u8; 100_000]);
        let cut = &whole[..whole.len() / 2];
        let d = decompress(cut, Compression::Gzip, 1 << 20).expect("prefix");
        assert!(!d.bytes.is_empty() && d.bytes.iter().all(|b| *b == 7), "{}", d.bytes.len());
        assert!(d.damage.expect("damage").starts_with("the gzip stream is damaged after "));
    }
}
