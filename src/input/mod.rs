//! Bytes, the first stage: where an input's bytes come from and what they are before
//! framing.
//!
//! - [`source`]: local files, memory-mapped when that is safe and read otherwise.
//! - [`compression`]: gzip and zstd files, decompressed as they are read.
//! - [`foreign`]: other formats' files (SequenceFile, Parquet, Avro, ORC, Arrow), refused.
//! - [`seqfile`]: Hadoop SequenceFiles: classes and codecs checked, compressed ones
//!   decompressed into an uncompressed image.
//! - [`fluentd`]: buffer chunk names and `.meta` sidecars (tag, record count), and forward
//!   captures whose CompressedPackedForward entries are expanded.
//! - here: [`prepare`] makes one input ready for framing ([`Input`]), and [`read_ahead`]
//!   reads the start of a stream for inference.
//!
//! Byte offsets in messages about decompressed bytes count decompressed bytes. What is held in
//! memory decompressed (inference over every record of a compressed file, a forward capture's
//! expanded entries) is bounded by [`crate::MsgpackReadOptions::max_decompressed_bytes`].

pub mod compression;
pub mod fluentd;
pub mod foreign;
pub mod seqfile;
pub mod source;

pub use compression::{Compression, is_compressed_file};
pub use fluentd::{ChunkMeta, expand_if_forward, is_chunk_name, is_sidecar, is_sidecar_name, is_staged_chunk_name};
pub use foreign::foreign_format;
pub use source::{FileBytes, MmapPolicy};

use crate::error::{Error, Result};
use crate::framing::layout_or;
use crate::options::MsgpackReadOptions;
use bytes::Bytes;
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
    /// A compressed SequenceFile, decompressed by the scan a range at a time (`bytes` are
    /// the file's own).
    pub seq: Option<std::sync::Arc<seqfile::Compressed>>,
}

impl Input {
    /// True when the bytes to frame are not the file's own (compressed, expanded, or a
    /// sidecar's none): byte ranges of the file say nothing about them.
    /// (A compressed SequenceFile is not: it is decompressed a range of the file at a time.)
    pub fn transformed(&self) -> bool {
        (!self.steps.is_empty() && self.seq.is_none()) || self.sidecar || self.compression.is_some()
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
        if let Some(seq) = &self.seq {
            let head = match opts.sample {
                crate::options::Sample::All => None,
                crate::options::Sample::Records { head, .. } => Some(head as u64),
            };
            let image = seq.image(&self.bytes.bytes, path, None, head, opts.max_decompressed_bytes)?;
            return Ok((image.bytes, image.complete && image.damage.is_empty()));
        }
        let Some(reader) = self.reader() else { return Ok((self.bytes.bytes.clone(), true)) };
        let mut reader = reader.map_err(|e| fail(e.to_string()))?;
        let (bytes, whole) = if opts.sample == crate::options::Sample::All {
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
        crate::options::Sample::All => usize::MAX,
        crate::options::Sample::Records { head, .. } => head,
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
        let layout = layout_or(&buf, options.layout, options.max_depth);
        let mut framer = crate::framing::Framer::new(&buf, pos, layout, options.limits(), 0).resume(entry);
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

/// Refuses an input that starts with another format's magic bytes ([`foreign_format`]),
/// unless a layout was given.
pub fn refuse_foreign(head: &[u8], path: &str, opts: &MsgpackReadOptions) -> Result<()> {
    match foreign_format(head) {
        Some(f) if opts.layout.is_none() => Err(Error::Input(f.message(path))),
        _ => Ok(()),
    }
}

/// Refuses a file of a MessagePack table whose name says another format a table can have
/// ([`foreign::TableFormat::of_name`]: a `users.csv` in a directory of logs), unless a layout
/// or the extension of the table's files (`--ext`) was given.
fn refuse_named(path: &str, opts: &MsgpackReadOptions) -> Result<()> {
    match foreign::TableFormat::of_name(path) {
        Some(named) if opts.layout.is_none() && opts.file_extension.is_empty() => Err(Error::Input(format!(
            "{path}: a {} file by its name ({}), in a MessagePack table; read it as its own table \
             (--table NAME={path}), or give --ext or --layout to read it as MessagePack",
            named.format.name(),
            named.ext
        ))),
        _ => Ok(()),
    }
}

/// Makes the bytes of the input `path` (its file name decides whether it may be a sidecar)
/// ready for framing: a sidecar becomes an input without records, a compressed input is marked
/// to be read through [`Input::reader`], and a forward capture's compressed entries are
/// expanded.
pub fn prepare(bytes: FileBytes, path: &str, opts: &MsgpackReadOptions) -> Result<Input> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut input =
        Input { bytes, meta: None, notes: Vec::new(), steps: Vec::new(), sidecar: false, compression: None, seq: None };
    if is_sidecar(name, &input.bytes.bytes) {
        input.bytes = FileBytes::in_memory(Bytes::new());
        input.sidecar = true;
        return Ok(input);
    }
    let fail = |m: String| Error::Input(format!("{path}: {m}"));
    refuse_foreign(&input.bytes.bytes, path, opts)?;
    refuse_named(path, opts)?;
    if crate::framing::seqfile::reads_as_seqfile(&input.bytes.bytes, opts.layout) {
        seqfile::prepare(&mut input, path)?;
        return Ok(input);
    }
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
