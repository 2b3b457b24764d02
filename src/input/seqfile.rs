//! Hadoop SequenceFiles before framing: the header is checked (the key and value classes and
//! the codec mpq reads, any other named in the error), and a compressed file (record or block
//! compression) is decompressed, a byte range at a time (split at sync markers as an
//! uncompressed file is), into an uncompressed image held in memory, which the framer reads
//! as it reads an uncompressed file ([`crate::framing::seqfile`]). Damage found while
//! decompressing (a block that does not decompress, a bad sync marker, a file cut short) is
//! left out up to the next sync marker and reported by the scan under the framing policy, at
//! its byte offsets in the file.

use super::Input;
use crate::error::{Error, Result, hex_excerpt};
use crate::framing::seqfile::{SYNC_SIZE, SeqCompression, SeqHeader, read_vint, write_text};
use crate::problem::{Kind, Problem};
use bytes::Bytes;
use std::io::Read;

/// The codecs mpq decompresses, by their Hadoop class names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `DefaultCodec` and `DeflateCodec`: zlib streams.
    Zlib,
    /// `GzipCodec`: gzip members.
    Gzip,
    /// `SnappyCodec`: raw Snappy chunks in Hadoop's block framing.
    Snappy,
    /// `Lz4Codec`: raw LZ4 blocks in Hadoop's block framing.
    Lz4,
    /// `ZStandardCodec`: zstd frames.
    Zstd,
}

/// The codec class names mpq reads, for messages.
const CODECS: &str = "DefaultCodec, DeflateCodec, GzipCodec, SnappyCodec, Lz4Codec and ZStandardCodec";

impl Codec {
    /// The codec of a Hadoop codec class.
    pub fn of_class(class: &str) -> std::result::Result<Codec, String> {
        let name = class.strip_prefix("org.apache.hadoop.io.compress.").unwrap_or(class);
        Ok(match name {
            "DefaultCodec" | "DeflateCodec" => Codec::Zlib,
            "GzipCodec" => Codec::Gzip,
            "SnappyCodec" => Codec::Snappy,
            "Lz4Codec" => Codec::Lz4,
            "ZStandardCodec" => Codec::Zstd,
            _ => return Err(format!("a SequenceFile compressed with {class}; mpq reads {CODECS}")),
        })
    }

    /// Decompresses one compressed buffer (a record's value, or one of a block's four
    /// buffers), producing at most `limit` bytes.
    pub fn decompress(self, data: &[u8], limit: u64) -> std::result::Result<Vec<u8>, String> {
        let read = |r: &mut dyn Read| -> std::result::Result<Vec<u8>, String> {
            let mut out = Vec::new();
            r.take(limit.saturating_add(1)).read_to_end(&mut out).map_err(|e| e.to_string())?;
            if out.len() as u64 > limit {
                return Err(format!("expected at most {limit} bytes decompressed, found more"));
            }
            Ok(out)
        };
        match self {
            Codec::Zlib => read(&mut flate2::read::ZlibDecoder::new(data)),
            Codec::Gzip => read(&mut flate2::read::MultiGzDecoder::new(data)),
            Codec::Zstd => read(&mut zstd::stream::read::Decoder::new(data).map_err(|e| e.to_string())?),
            Codec::Snappy | Codec::Lz4 => block_framed(self, data, limit),
        }
    }
}

/// Hadoop's block framing (`BlockCompressorStream`), which Snappy and LZ4 use: blocks of a
/// big-endian u32 uncompressed length, then compressed chunks (a u32 length and the bytes),
/// each decompressing on its own, until the block's length is reached.
fn block_framed(codec: Codec, data: &[u8], limit: u64) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    let u32_at = |pos: usize| -> std::result::Result<usize, String> {
        let b =
            data.get(pos..pos + 4).ok_or_else(|| format!("expected a 4-byte length at byte {pos}, found the end"))?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    while pos < data.len() {
        let block = u32_at(pos)?;
        pos += 4;
        if (out.len() + block) as u64 > limit {
            return Err(format!("expected at most {limit} bytes decompressed, found a block of {block}"));
        }
        let want = out.len() + block;
        while out.len() < want {
            let len = u32_at(pos)?;
            pos += 4;
            let chunk =
                data.get(pos..pos + len).ok_or_else(|| format!("expected a chunk of {len} bytes, found the end"))?;
            pos += len;
            let got = match codec {
                Codec::Snappy => snap::raw::Decoder::new().decompress_vec(chunk).map_err(|e| e.to_string())?,
                _ => lz4_flex::block::decompress(chunk, want - out.len()).map_err(|e| e.to_string())?,
            };
            if got.is_empty() || out.len() + got.len() > want {
                return Err(format!(
                    "expected {} more bytes in the block, found a chunk of {}",
                    want - out.len(),
                    got.len()
                ));
            }
            out.extend_from_slice(&got);
        }
    }
    Ok(out)
}

/// Checks a SequenceFile input's header; a compressed one is marked to be decompressed as it
/// is scanned ([`Input::seq`]), a byte range at a time.
pub fn prepare(input: &mut Input, path: &str) -> Result<()> {
    let fail = |m: String| Error::Input(format!("{path}: {m}"));
    let header = SeqHeader::parse(&input.bytes.bytes)
        .map_err(|(at, m)| fail(format!("a Hadoop SequenceFile whose header cannot be read: at byte {at}: {m}")))?;
    header.writables().map_err(fail)?;
    if header.compression == SeqCompression::None {
        return Ok(());
    }
    let codec = Codec::of_class(header.codec.as_deref().unwrap_or_default()).map_err(fail)?;
    let kind = if header.compression == SeqCompression::Block { "block" } else { "record" };
    let name = header.codec.as_deref().unwrap_or_default();
    input
        .steps
        .push(format!("version {}, {kind}-compressed with {name}, decompressed as it is scanned", header.version));
    input.seq = Some(std::sync::Arc::new(Compressed { header, codec }));
    Ok(())
}

/// A compressed SequenceFile: its header and codec.
#[derive(Debug)]
pub struct Compressed {
    header: SeqHeader,
    codec: Codec,
}

/// An uncompressed image of (part of) a compressed SequenceFile.
#[derive(Debug)]
pub struct Image {
    /// The image: a SequenceFile header without compression, then the records.
    pub bytes: Bytes,
    /// Records in it.
    pub records: u64,
    /// Damage met, each with the offset where reading resumed (the next sync marker, or the
    /// end of the range): the bytes in between were left out.
    pub damage: Vec<(Problem, u64)>,
    /// Every record of the range is in the image (no record limit stopped it).
    pub complete: bool,
}

impl Compressed {
    /// Decompresses the records of `buf` (the whole file) that a scan of `range` reads (all of
    /// them without one): from the first sync marker at or after its start (the first record
    /// for a range at 0) up to the first at or after its end, as Hadoop splits. With
    /// `max_records`, stops after about that many (for inference). A damaged block or record
    /// is left out and reading resumes at the next sync marker, so a file reads the same on
    /// any number of cores; each damage is returned, at its file offsets, for the scan to
    /// report. More than `limit` bytes decompressed is an error.
    pub fn image(
        &self,
        buf: &[u8],
        path: &str,
        range: Option<std::ops::Range<usize>>,
        max_records: Option<u64>,
        limit: u64,
    ) -> Result<Image> {
        let h = &self.header;
        let (start, stop) = match &range {
            Some(r) if r.start > 0 => (h.next_sync(buf, r.start), h.next_sync(buf, r.end)),
            Some(r) => (h.data_start, h.next_sync(buf, r.end)),
            None => (h.data_start, buf.len()),
        };
        let mut out = b"SEQ\x06".to_vec();
        write_text(&mut out, h.key_class.as_bytes());
        write_text(&mut out, h.value_class.as_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(h.metadata.len() as i32).to_be_bytes());
        for (k, v) in &h.metadata {
            write_text(&mut out, k.as_bytes());
            write_text(&mut out, v.as_bytes());
        }
        out.extend_from_slice(&h.sync);
        let mut image = Building { bytes: out, records: 0, limit, max_records: max_records.unwrap_or(u64::MAX) };
        let mut damage = Vec::new();
        let mut w = Walk { buf: &buf[..stop], pos: start, sync: h.sync };
        let first = if range.as_ref().is_none_or(|r| r.start == 0) { 0 } else { crate::error::UNKNOWN_RECORD };
        while w.pos < stop && image.records < image.max_records {
            let walked = match h.compression {
                SeqCompression::Block => blocks(&mut w, self.codec, &mut image),
                _ => records(&mut w, self.codec, &mut image),
            };
            let Err((from, at, kind, message)) = walked else { break };
            if kind == Kind::TooLarge {
                return Err(Error::Input(format!("{path}: {message}")));
            }
            let resume = h.next_sync(buf, from + 1).min(stop);
            let record = if first == 0 { image.records } else { first };
            let hex = hex_excerpt(buf, at);
            let p = Problem {
                path: path.to_string(),
                record,
                record_offset: from as u64,
                offset: at as u64,
                kind,
                hex,
                message,
            };
            damage.push((p, resume as u64));
            w.pos = resume;
        }
        let complete = w.pos >= stop;
        Ok(Image { bytes: Bytes::from(image.bytes), records: image.records, damage, complete })
    }
}

/// An image being built.
struct Building {
    bytes: Vec<u8>,
    records: u64,
    limit: u64,
    max_records: u64,
}

/// Where decompressing stopped: the record or block start, the failing byte, what is wrong.
type Damage = (usize, usize, Kind, String);

/// A position in a compressed SequenceFile.
struct Walk<'a> {
    buf: &'a [u8],
    pos: usize,
    sync: [u8; SYNC_SIZE],
}

impl<'a> Walk<'a> {
    fn int(&mut self, start: usize) -> std::result::Result<i32, Damage> {
        let b = self.buf.get(self.pos..self.pos + 4).ok_or_else(|| self.cut(start, "a 4-byte length"))?;
        self.pos += 4;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn bytes(&mut self, start: usize, len: usize, what: &str) -> std::result::Result<&'a [u8], Damage> {
        let end = self.pos.checked_add(len).filter(|&e| e <= self.buf.len());
        let Some(end) = end else { return Err(self.cut(start, &format!("{what} of {len} bytes"))) };
        let buf: &'a [u8] = self.buf;
        let b = &buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn vint(&mut self, start: usize, what: &str) -> std::result::Result<usize, Damage> {
        let at = self.pos;
        let (v, n) = read_vint(&self.buf[self.pos..]).ok_or_else(|| self.cut(start, what))?;
        self.pos += n;
        usize::try_from(v).map_err(|_| (start, at, Kind::Layout, format!("expected {what}, found {v}")))
    }

    /// The sync marker after an escape already read.
    fn sync(&mut self, start: usize) -> std::result::Result<(), Damage> {
        let at = self.pos;
        if self.bytes(start, SYNC_SIZE, "a sync marker")? != self.sync {
            return Err((start, at, Kind::Layout, "expected the file's sync marker, found other bytes".into()));
        }
        Ok(())
    }

    fn cut(&self, start: usize, what: &str) -> Damage {
        let msg = format!("expected {what}, found the end of the file after {} bytes", self.buf.len());
        (start, self.buf.len(), Kind::Truncated, msg)
    }
}

/// Appends one record to the image: its key and value serializations.
fn push_record(image: &mut Building, key: &[u8], value: &[u8]) -> std::result::Result<(), Damage> {
    let limit = image.limit;
    if (image.bytes.len() + 8 + key.len() + value.len()) as u64 > limit {
        let msg = format!(
            "the SequenceFile decompresses to more than {limit} bytes, the most mpq holds in memory \
             (--max-decompressed-bytes raises it)"
        );
        return Err((0, 0, Kind::TooLarge, msg));
    }
    image.bytes.extend_from_slice(&((key.len() + value.len()) as i32).to_be_bytes());
    image.bytes.extend_from_slice(&(key.len() as i32).to_be_bytes());
    image.bytes.extend_from_slice(key);
    image.bytes.extend_from_slice(value);
    image.records += 1;
    Ok(())
}

/// One compressed buffer (`what`, at `at` in the record or block at `start`) decompressed
/// within the room the image has left; damage when it does not decompress.
fn decompress(
    codec: Codec,
    data: &[u8],
    image: &Building,
    (start, at): (usize, usize),
    what: &str,
) -> std::result::Result<Vec<u8>, Damage> {
    let room = image.limit.saturating_sub(image.bytes.len() as u64);
    codec.decompress(data, room).map_err(|e| {
        (
            start,
            at,
            Kind::ReadFailed,
            format!("expected the compressed {what}, found bytes that do not decompress: {e}"),
        )
    })
}

/// A record-compressed file: each record's value decompressed on its own.
fn records(w: &mut Walk<'_>, codec: Codec, image: &mut Building) -> std::result::Result<(), Damage> {
    while w.pos < w.buf.len() && image.records < image.max_records {
        let start = w.pos;
        let len = w.int(start)?;
        if len == -1 {
            w.sync(start)?;
            continue;
        }
        let key_len = w.int(start)?;
        if len < 0 || key_len < 0 || key_len > len {
            let msg = format!("expected a SequenceFile record length and key length, found {len} and {key_len}");
            return Err((start, start, Kind::Layout, msg));
        }
        let key = w.bytes(start, key_len as usize, "a key")?;
        let at = w.pos;
        let value = w.bytes(start, (len - key_len) as usize, "a compressed value")?;
        let value = decompress(codec, value, image, (start, at), "value")?;
        push_record(image, key, &value)?;
    }
    Ok(())
}

/// A block-compressed file: blocks of a sync marker, a record count, and four compressed
/// buffers (key lengths, keys, value lengths, values).
fn blocks(w: &mut Walk<'_>, codec: Codec, image: &mut Building) -> std::result::Result<(), Damage> {
    while w.pos < w.buf.len() && image.records < image.max_records {
        let start = w.pos;
        if w.int(start)? != -1 {
            let msg = "expected a sync marker escape (-1) before a block, found another length".to_string();
            return Err((start, start, Kind::Layout, msg));
        }
        w.sync(start)?;
        let n = w.vint(start, "a block's record count")?;
        let mut buffers = Vec::with_capacity(4);
        for what in ["key lengths", "keys", "value lengths", "values"] {
            let len = w.vint(start, &format!("the length of the block's {what}"))?;
            let at = w.pos;
            let data = w.bytes(start, len, &format!("the block's {what}"))?;
            let plain = decompress(codec, data, image, (start, at), &format!("block's {what}"))?;
            buffers.push((plain, at));
        }
        let lengths = |(plain, at): &(Vec<u8>, usize), what: &str| -> std::result::Result<Vec<usize>, Damage> {
            let mut out = Vec::with_capacity(n.min(plain.len()));
            let mut p = 0;
            for _ in 0..n {
                let bad = || (start, *at, Kind::Layout, format!("expected {n} {what} in the block, found fewer"));
                let (v, used) = read_vint(&plain[p..]).ok_or_else(bad)?;
                p += used;
                out.push(usize::try_from(v).map_err(|_| bad())?);
            }
            Ok(out)
        };
        let key_lens = lengths(&buffers[0], "key lengths")?;
        let value_lens = lengths(&buffers[2], "value lengths")?;
        let (keys, values) = (&buffers[1], &buffers[3]);
        let fits = |lens: &[usize], data: &(Vec<u8>, usize), what: &str| {
            if lens.iter().sum::<usize>() == data.0.len() {
                return Ok(());
            }
            Err((
                start,
                data.1,
                Kind::Layout,
                format!("expected the block's {what} to fill their lengths, found otherwise"),
            ))
        };
        fits(&key_lens, keys, "keys")?;
        fits(&value_lens, values, "values")?;
        let (mut k, mut v) = (0, 0);
        for (kl, vl) in key_lens.into_iter().zip(value_lens) {
            push_record(image, &keys.0[k..k + kl], &values.0[v..v + vl])?;
            (k, v) = (k + kl, v + vl);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_by_class_and_unknown_ones_named() {
        assert_eq!(Codec::of_class("org.apache.hadoop.io.compress.DefaultCodec"), Ok(Codec::Zlib));
        assert_eq!(Codec::of_class("org.apache.hadoop.io.compress.SnappyCodec"), Ok(Codec::Snappy));
        let err = Codec::of_class("org.apache.hadoop.io.compress.BZip2Codec").expect_err("not read");
        assert!(err.starts_with("a SequenceFile compressed with org.apache.hadoop.io.compress.BZip2Codec"));
    }

    #[test]
    fn hadoop_block_framing_round_trips() {
        let plain: Vec<u8> = (0..5000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for codec in [Codec::Snappy, Codec::Lz4] {
            // Two blocks, the first in two chunks.
            let mut framed = Vec::new();
            let (a, b) = plain.split_at(7000);
            let (a1, a2) = a.split_at(3000);
            framed.extend_from_slice(&(a.len() as u32).to_be_bytes());
            for chunk in [a1, a2] {
                let c = match codec {
                    Codec::Snappy => snap::raw::Encoder::new().compress_vec(chunk).expect("snappy"),
                    _ => lz4_flex::block::compress(chunk),
                };
                framed.extend_from_slice(&(c.len() as u32).to_be_bytes());
                framed.extend_from_slice(&c);
            }
            let c = match codec {
                Codec::Snappy => snap::raw::Encoder::new().compress_vec(b).expect("snappy"),
                _ => lz4_flex::block::compress(b),
            };
            framed.extend_from_slice(&(b.len() as u32).to_be_bytes());
            framed.extend_from_slice(&(c.len() as u32).to_be_bytes());
            framed.extend_from_slice(&c);
            assert_eq!(codec.decompress(&framed, 1 << 20).expect("decompress"), plain, "{codec:?}");
            assert!(codec.decompress(&framed, 100).is_err(), "bounded");
            assert!(codec.decompress(&framed[..framed.len() - 3], 1 << 20).is_err(), "cut short");
        }
    }
}
