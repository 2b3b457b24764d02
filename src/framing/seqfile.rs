//! Hadoop SequenceFiles (versions 4–6), framed in place: the header ([`SeqHeader`]), the
//! records of an uncompressed file (`[i32 record length][i32 key length][key][value]`, with a
//! sync marker escape, `-1` and the header's 16 sync bytes, every few KiB), and the sync
//! markers where a file splits across cores. Each value holds one MessagePack record
//! (serialized as a `BytesWritable` or a `Text`); the key becomes the `key` column.
//!
//! Compressed SequenceFiles (record or block compression) are decompressed first into an
//! uncompressed image of the same file (see `crate::input::seqfile`), which is framed here too.

use super::framer::{FrameError, Record};
use crate::problem::Kind;
use mpq_wire::Cursor;

/// How a key or value is serialized: the Hadoop `Writable` classes mpq reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Writable {
    /// `org.apache.hadoop.io.BytesWritable`: a big-endian i32 length, then the bytes.
    Bytes,
    /// `org.apache.hadoop.io.Text`: a variable-length length, then UTF-8 bytes.
    Text,
}

impl Writable {
    /// The class of `name`, if mpq reads it.
    pub fn of_class(name: &str) -> Option<Writable> {
        match name {
            "org.apache.hadoop.io.BytesWritable" => Some(Writable::Bytes),
            "org.apache.hadoop.io.Text" => Some(Writable::Text),
            _ => None,
        }
    }

    /// Where the data of a serialized value in `buf[start..end]` lies (its length header
    /// stripped), checked to fill the range exactly; else what is wrong.
    pub fn data(self, buf: &[u8], start: usize, end: usize) -> Result<(usize, usize), String> {
        let bytes = &buf[start..end];
        let (len, header) = match self {
            Writable::Bytes => {
                let Some(h) = bytes.get(..4) else {
                    return Err(format!("expected a BytesWritable of at least 4 bytes, found {}", bytes.len()));
                };
                (i64::from(i32::from_be_bytes([h[0], h[1], h[2], h[3]])), 4)
            }
            Writable::Text => {
                read_vint(bytes).ok_or_else(|| "expected a Text length, found the value's end".to_string())?
            }
        };
        if len < 0 || header as i64 + len != bytes.len() as i64 {
            let class = if self == Writable::Bytes { "BytesWritable" } else { "Text" };
            return Err(format!(
                "expected a {class} whose length ({len}) fills the {} bytes the record gives it",
                bytes.len().saturating_sub(header)
            ));
        }
        Ok((start + header, end))
    }
}

/// How a SequenceFile is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqCompression {
    /// Plain records.
    None,
    /// Each value compressed on its own.
    Record,
    /// Blocks of records, keys and values compressed together.
    Block,
}

/// A SequenceFile header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqHeader {
    /// The format version (4, 5 or 6).
    pub version: u8,
    /// The key class name.
    pub key_class: String,
    /// The value class name.
    pub value_class: String,
    /// The compression.
    pub compression: SeqCompression,
    /// The codec class name of a compressed file (version 4 files use `DefaultCodec`).
    pub codec: Option<String>,
    /// The metadata pairs (version 6).
    pub metadata: Vec<(String, String)>,
    /// The sync marker.
    pub sync: [u8; SYNC_SIZE],
    /// The offset of the first record (or block).
    pub data_start: usize,
}

/// Bytes of a sync marker.
pub const SYNC_SIZE: usize = 16;
/// The record length that announces a sync marker.
const SYNC_ESCAPE: [u8; 4] = [0xff; 4];

/// Whether `buf` starts like a SequenceFile mpq reads: `SEQ` and a version from 4 to 6.
pub fn is_seqfile(buf: &[u8]) -> bool {
    buf.len() >= 4 && &buf[..3] == b"SEQ" && (4..=6).contains(&buf[3])
}

/// Whether an input starting with `buf` is read as a SequenceFile: it has the header, and no
/// other layout was given.
pub fn reads_as_seqfile(buf: &[u8], forced: Option<super::Layout>) -> bool {
    forced.is_none_or(|l| l == super::Layout::SeqFile) && is_seqfile(buf)
}

/// The default codec of version 4 files, and of `DefaultCodec`.
pub const DEFAULT_CODEC: &str = "org.apache.hadoop.io.compress.DefaultCodec";

impl SeqHeader {
    /// Reads the header at the start of `buf`; an error says what is wrong and at which byte.
    pub fn parse(buf: &[u8]) -> Result<SeqHeader, (usize, String)> {
        if !is_seqfile(buf) {
            return Err((0, "expected a SequenceFile header (SEQ and a version from 4 to 6)".into()));
        }
        let version = buf[3];
        let mut pos = 4;
        let text = |pos: &mut usize, what: &str| -> Result<String, (usize, String)> {
            let cut = || (*pos, format!("expected the {what} of the SequenceFile header, found the end of input"));
            let (len, n) = read_vint(&buf[*pos..]).ok_or_else(cut)?;
            let len = usize::try_from(len).map_err(|_| (*pos, format!("expected the {what}, found length {len}")))?;
            let start = *pos + n;
            let bytes = buf.get(start..start.checked_add(len).ok_or_else(cut)?).ok_or_else(cut)?;
            *pos = start + len;
            Ok(String::from_utf8_lossy(bytes).into_owned())
        };
        let key_class = text(&mut pos, "key class")?;
        let value_class = text(&mut pos, "value class")?;
        let flag = |pos: &mut usize| -> Result<bool, (usize, String)> {
            let b = *buf.get(*pos).ok_or((*pos, "expected a compression flag, found the end of input".to_string()))?;
            *pos += 1;
            Ok(b != 0)
        };
        let compressed = flag(&mut pos)?;
        let block = flag(&mut pos)?;
        let compression = match (compressed, block) {
            (false, _) => SeqCompression::None,
            (true, false) => SeqCompression::Record,
            (true, true) => SeqCompression::Block,
        };
        let codec = match (compressed, version >= 5) {
            (false, _) => None,
            (true, true) => Some(text(&mut pos, "codec class")?),
            (true, false) => Some(DEFAULT_CODEC.to_string()),
        };
        let mut metadata = Vec::new();
        if version >= 6 {
            let n = buf
                .get(pos..pos + 4)
                .ok_or((pos, "expected the metadata count, found the end of input".to_string()))?;
            let n = i32::from_be_bytes([n[0], n[1], n[2], n[3]]);
            if n < 0 || n as usize > buf.len() - pos {
                return Err((pos, format!("expected a metadata count, found {n}")));
            }
            pos += 4;
            for _ in 0..n {
                let k = text(&mut pos, "metadata key")?;
                let v = text(&mut pos, "metadata value")?;
                metadata.push((k, v));
            }
        }
        let sync = buf
            .get(pos..pos + SYNC_SIZE)
            .ok_or((pos, "expected the 16-byte sync marker, found the end of input".to_string()))?;
        let sync: [u8; SYNC_SIZE] = sync.try_into().unwrap_or_default();
        Ok(SeqHeader {
            version,
            key_class,
            value_class,
            compression,
            codec,
            metadata,
            sync,
            data_start: pos + SYNC_SIZE,
        })
    }

    /// The key and value serializations, or an error naming the class mpq does not read.
    pub fn writables(&self) -> Result<(Writable, Writable), String> {
        let class = |c: &str, what: &str| {
            Writable::of_class(c).ok_or_else(|| {
                format!(
                    "a SequenceFile whose {what} class is {c}; mpq reads keys and values of \
                     org.apache.hadoop.io.BytesWritable and org.apache.hadoop.io.Text"
                )
            })
        };
        Ok((class(&self.key_class, "key")?, class(&self.value_class, "value")?))
    }

    /// What the header says, for `mpq schema` (compression only when there is some: an
    /// uncompressed image of a compressed file says nothing, its input's steps say the rest).
    pub fn describe(&self) -> String {
        let mut s = format!(
            "a Hadoop SequenceFile, version {}, key class {}, value class {}",
            self.version, self.key_class, self.value_class
        );
        match (self.compression, &self.codec) {
            (SeqCompression::None, _) => {}
            (SeqCompression::Record, Some(c)) => s.push_str(&format!(", record-compressed with {c}")),
            (_, c) => s.push_str(&format!(", block-compressed with {}", c.as_deref().unwrap_or(DEFAULT_CODEC))),
        }
        if !self.metadata.is_empty() {
            let pairs: Vec<String> = self.metadata.iter().map(|(k, v)| format!("{k}={v}")).collect();
            s.push_str(&format!(", metadata {}", pairs.join(", ")));
        }
        s
    }

    /// The first sync marker escape at or after `from` (its `-1`), or `buf.len()`: where a
    /// scan of a range that starts at `from` begins (the SequenceFile way of splitting).
    pub fn next_sync(&self, buf: &[u8], from: usize) -> usize {
        let mut needle = [0u8; 4 + SYNC_SIZE];
        needle[..4].copy_from_slice(&SYNC_ESCAPE);
        needle[4..].copy_from_slice(&self.sync);
        let from = from.max(self.data_start).min(buf.len());
        memchr::memmem::find(&buf[from..], &needle).map_or(buf.len(), |i| from + i)
    }
}

/// How the framer reads a SequenceFile: its header's sync marker and serializations.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SeqFraming {
    sync: [u8; SYNC_SIZE],
    key: Writable,
    value: Writable,
    /// Where the records start.
    pub(crate) data_start: usize,
}

impl SeqFraming {
    /// The framing of the SequenceFile (or uncompressed image) that `buf` starts with.
    pub(crate) fn of(buf: &[u8]) -> Result<SeqFraming, (usize, String)> {
        let h = SeqHeader::parse(buf)?;
        if h.compression != SeqCompression::None {
            return Err((0, format!("expected an uncompressed SequenceFile image, found {}", h.describe())));
        }
        let (key, value) = h.writables().map_err(|m| (0, m))?;
        Ok(SeqFraming { sync: h.sync, key, value, data_start: h.data_start })
    }

    /// Frames the record at `start` of `buf`: `None` and the next offset for a sync marker,
    /// else the record (its body is the MessagePack value, checked complete and alone in the
    /// value, within `depth`).
    pub(crate) fn frame(
        &self,
        buf: &[u8],
        start: usize,
        depth: usize,
        record: u64,
    ) -> Result<(Option<Record>, usize), FrameError> {
        let err = |offset: usize, kind: Kind, message: String, truncated: bool| FrameError {
            record,
            record_offset: start,
            offset,
            message,
            kind,
            truncated,
        };
        let int = |at: usize| -> Result<i32, FrameError> {
            match buf.get(at..at + 4) {
                Some(b) => Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]])),
                None => Err(err(
                    at,
                    Kind::Truncated,
                    format!(
                        "expected a 4-byte SequenceFile length, found only {} bytes",
                        buf.len() - at.min(buf.len())
                    ),
                    true,
                )),
            }
        };
        let len = int(start)?;
        if len == -1 {
            let got = buf.get(start + 4..start + 4 + SYNC_SIZE);
            return match got {
                Some(s) if s == self.sync => Ok((None, start + 4 + SYNC_SIZE)),
                Some(_) => Err(err(
                    start + 4,
                    Kind::Layout,
                    "expected the file's sync marker after a sync escape, found other bytes".into(),
                    false,
                )),
                None => {
                    Err(err(start + 4, Kind::Truncated, "expected a 16-byte sync marker, found the end".into(), true))
                }
            };
        }
        let key_len = int(start + 4)?;
        let end = start as u64 + 8 + len.max(0) as u64;
        if len < 0 || key_len < 0 || key_len > len {
            let msg = format!("expected a SequenceFile record length and key length, found {len} and {key_len}");
            return Err(err(start, Kind::Layout, msg, false));
        }
        if end > buf.len() as u64 {
            let msg = format!(
                "expected a SequenceFile record of {len} bytes, found only {} before the end of input",
                buf.len() - (start + 8).min(buf.len())
            );
            return Err(err(buf.len(), Kind::LengthPastEnd, msg, true));
        }
        let (end, key_end) = (end as usize, start + 8 + key_len as usize);
        let key = self.key.data(buf, start + 8, key_end).map_err(|m| err(start + 8, Kind::Layout, m, false))?;
        let (body, data_end) = self.value.data(buf, key_end, end).map_err(|m| err(key_end, Kind::Layout, m, false))?;
        let mut cur = Cursor::at(&buf[..data_end], body);
        cur.skip_value(depth).map_err(|e| {
            let mut fe = FrameError::wire(record, start, e);
            // The record's length is known: more input cannot complete the value.
            fe.truncated = false;
            fe
        })?;
        if cur.pos() != data_end {
            let msg = format!(
                "expected one MessagePack value filling the SequenceFile value, found {} more bytes after it",
                data_end - cur.pos()
            );
            return Err(err(cur.pos(), Kind::Layout, msg, false));
        }
        Ok((Some(Record { start, end, body, key: Some(key), ..Record::default() }), end))
    }
}

/// A Hadoop variable-length integer (`WritableUtils.readVLong`) and the bytes it took.
pub fn read_vint(buf: &[u8]) -> Option<(i64, usize)> {
    let first = *buf.first()? as i8;
    if first >= -112 {
        return Some((i64::from(first), 1));
    }
    let (negative, len) = if first < -120 { (true, -119 - i32::from(first)) } else { (false, -111 - i32::from(first)) };
    let len = len as usize;
    let bytes = buf.get(1..len)?;
    let v = bytes.iter().fold(0i64, |acc, &b| (acc << 8) | i64::from(b));
    Some((if negative { !v } else { v }, len))
}

/// Appends `v` as a Hadoop variable-length integer (`WritableUtils.writeVLong`).
pub fn write_vint(out: &mut Vec<u8>, v: i64) {
    if (-112..=127).contains(&v) {
        out.push(v as u8);
        return;
    }
    let (mut len, w) = if v < 0 { (-120i64, !v) } else { (-112i64, v) };
    let mut tmp = w;
    while tmp != 0 {
        tmp >>= 8;
        len -= 1;
    }
    out.push(len as u8);
    let n = if len < -120 { -(len + 120) } else { -(len + 112) };
    for i in (0..n).rev() {
        out.push((w >> (i * 8)) as u8);
    }
}

/// Appends a Hadoop `Text` string (a variable-length length, then the bytes).
pub fn write_text(out: &mut Vec<u8>, s: &[u8]) {
    write_vint(out, s.len() as i64);
    out.extend_from_slice(s);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An uncompressed SequenceFile of BytesWritable keys and values (the same layout Hadoop
    /// writes), with a sync marker before every `sync_every` records.
    pub(crate) fn seqfile(records: &[(&[u8], &[u8])], sync_every: usize) -> Vec<u8> {
        let mut out = b"SEQ\x06".to_vec();
        write_text(&mut out, b"org.apache.hadoop.io.BytesWritable");
        write_text(&mut out, b"org.apache.hadoop.io.BytesWritable");
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&1i32.to_be_bytes());
        write_text(&mut out, b"made.by");
        write_text(&mut out, b"mpq tests");
        let sync = *b"0123456789abcdef";
        out.extend_from_slice(&sync);
        for (i, (k, v)) in records.iter().enumerate() {
            if i > 0 && i % sync_every == 0 {
                out.extend_from_slice(&[0xff; 4]);
                out.extend_from_slice(&sync);
            }
            out.extend_from_slice(&((8 + k.len() + v.len()) as i32).to_be_bytes());
            out.extend_from_slice(&((4 + k.len()) as i32).to_be_bytes());
            out.extend_from_slice(&(k.len() as i32).to_be_bytes());
            out.extend_from_slice(k);
            out.extend_from_slice(&(v.len() as i32).to_be_bytes());
            out.extend_from_slice(v);
        }
        out
    }

    #[test]
    fn vints_round_trip_as_hadoop_writes_them() {
        for v in [0i64, 1, -1, 127, -112, -113, 128, 255, 256, 65_535, 1 << 40, -129, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_vint(&mut out, v);
            assert_eq!(read_vint(&out), Some((v, out.len())), "{v}");
        }
        assert_eq!(read_vint(&[0x8f, 0x80]), Some((128, 2)));
        assert_eq!(read_vint(&[0x8e, 0x01]), None, "cut short");
    }

    #[test]
    fn frames_records_and_skips_sync_markers() {
        let a = [0x81, 0xa1, b'n', 0x01];
        let b = [0x81, 0xa1, b'n', 0x02];
        let buf = seqfile(&[(b"k1", &a), (b"k2", &b), (b"k3", &a)], 2);
        let h = SeqHeader::parse(&buf).expect("header");
        assert_eq!(h.metadata, [("made.by".to_string(), "mpq tests".to_string())]);
        assert!(h.describe().contains("key class org.apache.hadoop.io.BytesWritable"), "{}", h.describe());
        let f = SeqFraming::of(&buf).expect("framing");
        let (r, next) = f.frame(&buf, f.data_start, 128, 0).expect("one");
        let r = r.expect("a record");
        assert_eq!(&buf[r.body..r.end], &a);
        let (k0, k1) = r.key.expect("key");
        assert_eq!(&buf[k0..k1], b"k1");
        let (_, next) = f.frame(&buf, next, 128, 1).expect("two");
        let sync = h.next_sync(&buf, f.data_start + 1);
        assert_eq!(sync, next, "the sync marker before the third record");
        let (none, after) = f.frame(&buf, next, 128, 2).expect("sync");
        assert!(none.is_none());
        let (r, end) = f.frame(&buf, after, 128, 2).expect("three");
        assert_eq!((r.map(|r| r.end), end), (Some(buf.len()), buf.len()));
        assert_eq!(h.next_sync(&buf, sync + 1), buf.len());
    }

    #[test]
    fn headers_of_versions_4_and_5() {
        // Version 4: compression flags, no codec name (DefaultCodec), no metadata.
        let mut v4 = b"SEQ\x04".to_vec();
        write_text(&mut v4, b"org.apache.hadoop.io.Text");
        write_text(&mut v4, b"org.apache.hadoop.io.BytesWritable");
        v4.extend_from_slice(&[1, 1]);
        v4.extend_from_slice(b"0123456789abcdef");
        let h = SeqHeader::parse(&v4).expect("v4");
        assert_eq!(
            (h.compression, h.codec.as_deref(), h.data_start),
            (SeqCompression::Block, Some(DEFAULT_CODEC), v4.len())
        );
        // Version 5: the codec named, no metadata.
        let mut v5 = b"SEQ\x05".to_vec();
        write_text(&mut v5, b"org.apache.hadoop.io.Text");
        write_text(&mut v5, b"org.apache.hadoop.io.Text");
        v5.extend_from_slice(&[1, 0]);
        write_text(&mut v5, b"org.apache.hadoop.io.compress.GzipCodec");
        v5.extend_from_slice(b"0123456789abcdef");
        let h = SeqHeader::parse(&v5).expect("v5");
        assert_eq!(h.compression, SeqCompression::Record);
        assert_eq!(h.codec.as_deref(), Some("org.apache.hadoop.io.compress.GzipCodec"));
        assert_eq!(h.writables(), Ok((Writable::Text, Writable::Text)));
        assert!(h.metadata.is_empty() && h.sync == *b"0123456789abcdef");
        // Cut anywhere, a header is an error at a byte, never a panic.
        for cut in 0..v5.len() {
            assert!(SeqHeader::parse(&v5[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn damage_is_a_framing_error_at_its_byte() {
        let a = [0x81, 0xa1, b'n', 0x01];
        let mut buf = seqfile(&[(b"k1", &a), (b"k2", &a)], 1);
        let f = SeqFraming::of(&buf).expect("framing");
        let (_, next) = f.frame(&buf, f.data_start, 128, 0).expect("one");
        buf[next + 6] ^= 0xff; // a bit flip in the sync marker
        let e = f.frame(&buf, next, 128, 1).expect_err("bad sync");
        assert_eq!((e.offset, e.kind), (next + 4, Kind::Layout));
        let cut = &buf[..buf.len() - 2];
        let (_, after) = f.frame(cut, f.data_start, 128, 0).expect("one");
        let e = f.frame(cut, after, 128, 1);
        assert!(e.is_err());
        let mut trailing = seqfile(&[(b"k", &[0x01, 0x02])], 1);
        let e = SeqFraming::of(&trailing).expect("framing");
        let err = e.frame(&trailing, e.data_start, 128, 0).expect_err("two values in one");
        assert!(err.message.contains("1 more bytes after it"), "{}", err.message);
        trailing[3] = 9;
        assert!(SeqHeader::parse(&trailing).is_err());
    }
}
