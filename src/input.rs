//! What an input's bytes are before framing: compressed files (gzip, zstd, several members)
//! are recognised and decompressed as they are read, CompressedPackedForward entries of
//! forward captures are expanded, and a Fluentd buffer chunk's `.meta` sidecar gives the
//! chunk's tag and record count.
//!
//! Byte offsets in messages about decompressed bytes count decompressed bytes. What is held in
//! memory decompressed (inference over every record of a compressed file, a forward capture's
//! expanded entries) is bounded by [`crate::MsgpackReadOptions::max_decompressed_bytes`].

use crate::error::{Error, Result};
use crate::layout::{Layout, compressed_option, detect_or};
use crate::options::MsgpackReadOptions;
use crate::source::FileBytes;
use bytes::Bytes;
use mpq_wire::marker::{GZIP_MAGIC, ZSTD_MAGIC};
use mpq_wire::{Cursor, Head};
use std::io::Read;

/// One input made ready for framing.
#[derive(Debug, Clone)]
pub struct Input {
    /// The bytes to frame: the file's own (mapped or read), or decompressed or expanded.
    pub bytes: FileBytes,
    /// What the buffer chunk's `.meta` sidecar says, when it has one.
    pub meta: Option<ChunkMeta>,
    /// Problems that lost nothing or were kept as far as possible (a damaged compressed
    /// stream keeps what decompressed before the damage; an unreadable sidecar), for the
    /// scan's report.
    pub notes: Vec<String>,
    /// What was done to the bytes, for `mpq schema` (for example "decompressed from gzip").
    pub steps: Vec<String>,
    /// The input is a buffer chunk's `.meta` sidecar (it has no records of its own).
    pub sidecar: bool,
    /// The compression of `bytes`, which are then read through [`Input::reader`].
    pub compression: Option<Compression>,
}

impl Input {
    /// True when the bytes to frame are not the file's own (compressed, expanded, or a
    /// sidecar's none): byte ranges of the file say nothing about them.
    pub fn transformed(&self) -> bool {
        !self.steps.is_empty() || self.sidecar || self.compression.is_some()
    }

    /// A reader of the decompressed stream of a compressed input.
    pub fn reader(&self) -> Option<std::io::Result<Box<dyn Read + Send>>> {
        let c = self.compression?;
        Some(c.reader(std::io::Cursor::new(self.bytes.clone())))
    }

    /// The bytes inference reads, expanded (see [`expand_forward`]): the input's own, or for
    /// a compressed input its first records ([`read_ahead`]), or all of it (at most
    /// `max_decompressed_bytes`) when inference reads every record. The flag says whether
    /// they are the whole input.
    pub fn sample_bytes(&self, path: &str, opts: &MsgpackReadOptions) -> Result<(Bytes, bool)> {
        let fail = |m: String| Error::Input(format!("{path}: {m}"));
        let Some(reader) = self.reader() else { return Ok((self.bytes.bytes.clone(), true)) };
        let mut reader = reader.map_err(|e| fail(e.to_string()))?;
        let (bytes, whole) = if opts.sample == crate::infer::Sample::All {
            let mut out = Vec::new();
            let limit = opts.max_decompressed_bytes;
            // A damaged stream: inference sees what decompressed; the scan reports it.
            let _ = (&mut reader).take(limit.saturating_add(1)).read_to_end(&mut out);
            if out.len() as u64 > limit {
                return Err(fail(format!(
                    "the input decompresses to more than {limit} bytes, the most inference over every record \
                     holds (--max-decompressed-bytes raises it)"
                )));
            }
            (out, true)
        } else {
            let (ahead, end) = read_ahead(&mut reader, opts);
            (ahead, end.is_some())
        };
        if let Some(Ok(expanded)) = expand_if_forward(&bytes, opts) {
            return Ok((Bytes::from(expanded), whole));
        }
        Ok((Bytes::from(bytes), whole))
    }
}

/// The most bytes read ahead for inference from a stream.
pub const READ_AHEAD_MAX: usize = 64 << 20;
/// Bytes read at a time while reading ahead.
const READ_AHEAD_STEP: usize = 1 << 20;

/// Reads the start of a stream for inference: until the options' sample of records is framed,
/// the stream ends, or [`READ_AHEAD_MAX`] bytes were read. Returns the bytes and, when the
/// stream ended (or failed: what was read is kept), why: `Ok` at its end, or the error.
pub fn read_ahead(reader: &mut dyn Read, options: &MsgpackReadOptions) -> (Vec<u8>, Option<std::io::Result<()>>) {
    let want = match options.sample {
        crate::infer::Sample::All => usize::MAX,
        crate::infer::Sample::Records { head, .. } => head,
    };
    let mut buf = Vec::new();
    // Framing goes on where it stopped: at the record the last read cut.
    let (mut pos, mut entry, mut framed) = (0, None, 0);
    loop {
        let old = buf.len();
        buf.resize(old + READ_AHEAD_STEP, 0);
        let read = read_full(reader, &mut buf[old..]);
        let n = *read.as_ref().unwrap_or(&0);
        buf.truncate(old + n);
        if let Err(e) = read {
            return (buf, Some(Err(e)));
        }
        let layout = detect_or(&buf, options.layout, options.max_depth).layout;
        let mut framer = crate::layout::Framer::new(&buf, pos, layout, options.limits(), 0).resume(entry);
        while framed < want && framer.next().is_some_and(|r| r.is_ok()) {
            framed += 1;
            (pos, entry) = (framer.pos(), framer.entry());
        }
        if n < READ_AHEAD_STEP {
            return (buf, Some(Ok(())));
        }
        if framed >= want || buf.len() >= READ_AHEAD_MAX {
            return (buf, None);
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
pub fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Whether the local file at `path` starts like a gzip or zstd stream (a compressed file is
/// never split into byte ranges: its ranges would not be ranges of the decompressed bytes).
pub fn is_compressed_file(path: &std::path::Path) -> bool {
    let mut head = [0u8; 4];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && Compression::of(&head).is_some()
}

/// Makes the bytes of the input `path` (its file name decides whether it may be a sidecar)
/// ready for framing: a sidecar becomes an input without records, a compressed input is marked
/// to be read through [`Input::reader`], and a forward capture's compressed entries are
/// expanded.
pub fn prepare(bytes: FileBytes, path: &str, opts: &MsgpackReadOptions) -> Result<Input> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut input =
        Input { bytes, meta: None, notes: Vec::new(), steps: Vec::new(), sidecar: false, compression: None };
    if is_sidecar(name, &input.bytes.bytes) {
        input.bytes = FileBytes::in_memory(Bytes::new());
        input.sidecar = true;
        return Ok(input);
    }
    let fail = |m: String| Error::Input(format!("{path}: {m}"));
    if let Some(c) = Compression::of(&input.bytes.bytes) {
        input.compression = Some(c);
        input.steps.push(format!("{}-compressed, decompressed as it is read", c.name()));
        return Ok(input);
    }
    if let Some(expanded) = expand_if_forward(&input.bytes.bytes, opts) {
        input.bytes = FileBytes::in_memory(Bytes::from(expanded.map_err(fail)?));
        input.steps.push("CompressedPackedForward entries decompressed".into());
    }
    Ok(input)
}

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

/// What a Fluentd buffer chunk's `.meta` sidecar says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkMeta {
    /// The chunk's tag (`tag`).
    pub tag: Option<String>,
    /// How many records Fluentd says the chunk holds (`s`).
    pub records: Option<u64>,
}

/// The header Fluentd writes before a sidecar's map (0xc1 never starts a MessagePack value).
pub const META_HEADER: [u8; 2] = [0xc1, 0x00];

/// Parses a `.meta` sidecar: `C1 00`, a big-endian u32 length, then a map (older Fluentd
/// versions write the map alone).
pub fn parse_meta(bytes: &[u8]) -> std::result::Result<ChunkMeta, String> {
    let map = match bytes.strip_prefix(&META_HEADER[..]) {
        Some(rest) => {
            let len = rest.get(..4).ok_or("the sidecar ends inside its length header")?;
            let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
            rest.get(4..4 + len).ok_or_else(|| format!("the sidecar claims {len} bytes of metadata, but has fewer"))?
        }
        None => bytes,
    };
    let mut cur = Cursor::new(map);
    let n = match cur.read_head() {
        Ok(Head::Map(n)) => n,
        _ => return Err("the sidecar does not hold a map".into()),
    };
    let mut meta = ChunkMeta::default();
    let err = |e: mpq_wire::WireError| format!("the sidecar's map is damaged: {e}");
    for _ in 0..n {
        let key = cur.read_str_bytes().map_err(err)?;
        match key {
            Some(b"tag") if cur.peek().is_some_and(mpq_wire::marker::is_str) => {
                let tag = cur.read_str_bytes().map_err(err)?.unwrap_or_default();
                meta.tag = Some(String::from_utf8_lossy(tag).into_owned());
            }
            Some(b"s") => match cur.read_head().map_err(err)? {
                Head::UInt(n) => meta.records = Some(n),
                Head::Int(n) => meta.records = u64::try_from(n).ok(),
                head => cur.skip_rest(head, 16).map_err(err)?,
            },
            _ => cur.skip_value(16).map_err(err)?,
        }
    }
    Ok(meta)
}

/// Whether a file name is a Fluentd file-buffer chunk (`<prefix>.b<hex id><suffix>` staged,
/// `.q` queued), which may have a `.meta` sidecar at its path plus `.meta`.
pub fn is_chunk_name(name: &str) -> bool {
    chunk_state(name).is_some()
}

/// Whether a file name is a staged buffer chunk (`.b<hex id>`), which Fluentd is still
/// appending to: it is read, never memory-mapped, under `--mmap auto`.
pub fn is_staged_chunk_name(name: &str) -> bool {
    chunk_state(name) == Some(b'b')
}

/// `b` (staged) or `q` (queued) for a buffer chunk's file name.
fn chunk_state(name: &str) -> Option<u8> {
    if name.ends_with(".meta") {
        return None;
    }
    name.match_indices('.').find_map(|(i, _)| {
        let rest = &name.as_bytes()[i + 1..];
        let state = *rest.first()?;
        let id = rest[1..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        (matches!(state, b'b' | b'q') && id >= 16).then_some(state)
    })
}

/// Whether a file is a buffer chunk's sidecar: it is read for its chunk, and is itself an
/// input with no records.
pub fn is_sidecar(name: &str, bytes: &[u8]) -> bool {
    is_sidecar_name(name) && bytes.starts_with(&META_HEADER)
}

/// Whether a file name is that of a buffer chunk's sidecar (`<chunk name>.meta`).
pub fn is_sidecar_name(name: &str) -> bool {
    name.strip_suffix(".meta").is_some_and(is_chunk_name)
}

/// [`expand_forward`] when `buf` has (or the options force) the forward layout, with the
/// options' limits; `None` otherwise or when there is nothing to expand.
pub fn expand_if_forward(buf: &[u8], opts: &MsgpackReadOptions) -> Option<std::result::Result<Vec<u8>, String>> {
    if detect_or(buf, opts.layout, opts.max_depth).layout != Layout::Forward {
        return None;
    }
    expand_forward(buf, opts.max_depth, opts.max_decompressed_bytes)
}

/// A forward capture with its CompressedPackedForward entries decompressed: each becomes a
/// PackedForward entry `[tag, bin]` holding its events. `None` when there is nothing to
/// expand (the input is used as it is). Values that do not frame are copied as they are, for
/// the framer to report.
pub fn expand_forward(buf: &[u8], max_depth: usize, limit: u64) -> Option<std::result::Result<Vec<u8>, String>> {
    // Every compressed entry's option names the key "compressed": without those bytes
    // anywhere (a search at memory speed), there is nothing to expand and no walk is needed.
    memchr::memmem::find(buf, b"compressed")?;
    let mut out: Option<Vec<u8>> = None;
    let mut pos = 0;
    let mut copied = 0;
    while pos < buf.len() {
        let start = pos;
        let mut cur = Cursor::at(buf, pos);
        if cur.skip_value(max_depth).is_err() {
            break;
        }
        pos = cur.pos();
        let Some((tag, payload, compression)) = compressed_entry(&buf[start..pos]) else { continue };
        let out = out.get_or_insert_with(|| Vec::with_capacity(buf.len().saturating_mul(4)));
        out.extend_from_slice(&buf[copied..start]);
        copied = pos;
        let Some(c) = Compression::named(&compression) else {
            return Some(Err(format!(
                "byte {start}: a CompressedPackedForward entry uses {compression:?} compression; only {COMPRESSIONS} are read"
            )));
        };
        let budget = limit.saturating_sub(out.len() as u64);
        let events = match decompress(payload, c, budget) {
            Ok(Decompressed { bytes, damage: None }) => bytes,
            Ok(Decompressed { damage: Some(d), .. }) => return Some(Err(format!("byte {start}: {d}"))),
            Err(e) => return Some(Err(format!("byte {start}: {e}"))),
        };
        mpq_wire::write::write_array_header(out, 2);
        mpq_wire::write::write_str(out, tag);
        mpq_wire::write::write_bin(out, &events);
    }
    let mut out = out?;
    out.extend_from_slice(&buf[copied..]);
    Some(Ok(out))
}

/// The tag, compressed payload and compression name of a CompressedPackedForward entry.
fn compressed_entry(entry: &[u8]) -> Option<(&[u8], &[u8], String)> {
    let mut cur = Cursor::new(entry);
    if cur.read_head().ok()? != Head::Array(3) {
        return None;
    }
    let tag = cur.read_str_bytes().ok()??;
    let payload = match cur.read_head().ok()? {
        h @ (Head::Bin(_) | Head::Str(_)) => cur.payload_of(h).ok()?,
        _ => return None,
    };
    let compression = compressed_option(&entry[cur.pos()..])?;
    Some((tag, payload, compression))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_wire::write::{write_array_header, write_bin, write_int, write_map_header, write_str};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
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

    #[test]
    fn sidecars_with_and_without_header() {
        let mut map = Vec::new();
        write_map_header(&mut map, 4);
        write_str(&mut map, b"timekey");
        mpq_wire::write::write_nil(&mut map);
        write_str(&mut map, b"tag");
        write_str(&mut map, b"app.web");
        write_str(&mut map, b"id");
        write_bin(&mut map, &[1; 16]);
        write_str(&mut map, b"s");
        write_int(&mut map, 42);
        let want = ChunkMeta { tag: Some("app.web".into()), records: Some(42) };
        assert_eq!(parse_meta(&map), Ok(want.clone()));
        let mut with = META_HEADER.to_vec();
        with.extend((map.len() as u32).to_be_bytes());
        with.extend(&map);
        assert_eq!(parse_meta(&with), Ok(want));
        assert!(parse_meta(&with[..8]).is_err());
        let name = "buffer.b5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.log";
        assert!(is_chunk_name(name) && is_chunk_name("buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.log"));
        assert!(!is_chunk_name("buffer.log") && !is_chunk_name("app.backup.log"));
        assert!(is_staged_chunk_name("out.b5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.buf"));
        assert!(!is_staged_chunk_name("buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f7.log"));
        assert!(is_sidecar(&format!("{name}.meta"), &with) && !is_sidecar(&format!("{name}.meta"), &map));
    }

    #[test]
    fn compressed_packed_forward_is_expanded() {
        let mut events = Vec::new();
        for t in [1, 2] {
            write_array_header(&mut events, 2);
            write_int(&mut events, t);
            write_map_header(&mut events, 1);
            write_str(&mut events, b"a");
            write_int(&mut events, t);
        }
        let mut entry = Vec::new();
        write_array_header(&mut entry, 3);
        write_str(&mut entry, b"tag.x");
        write_bin(&mut entry, &gzip(&events));
        write_map_header(&mut entry, 1);
        write_str(&mut entry, b"compressed");
        write_str(&mut entry, b"gzip");
        let out = expand_forward(&entry, 128, 1 << 20).expect("expanded").expect("ok");
        let mut want = Vec::new();
        write_array_header(&mut want, 2);
        write_str(&mut want, b"tag.x");
        write_bin(&mut want, &events);
        assert_eq!(out, want);
        // Nothing compressed: nothing to do.
        assert!(expand_forward(&want, 128, 1 << 20).is_none());
    }
}
