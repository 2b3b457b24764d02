//! [`ReaderBatches`]: bytes arriving from any [`Read`] (a socket, a pipe, a decompressor)
//! decoded into batches, holding at most one batch of records plus one partial record: bytes
//! are fed into a buffer, whole records framed and decoded from it, and the buffer drained of
//! what was decoded. A record cut by the end of the buffer waits for more bytes; at the end of
//! the stream it is a lost record boundary.

use super::driver::{Batches, ScanCore, iteration};
use crate::error::{Error, Result, hex_excerpt};
use crate::framing::{FrameError, Layout, check_forced, layout_or};
use crate::options::{FramingPolicy, MsgpackReadOptions};
use crate::problem::{Kind, Problem};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use std::io::Read;

/// Bytes read from a [`Read`] at a time.
const READ_CHUNK: usize = 1 << 20;

/// Bytes read before the layout is detected (or a stream ends).
const DETECT_BYTES: usize = 64 << 10;

/// Decodes a byte stream (socket, pipe, decompressor) into batches of `schema`, holding at most
/// one batch of records plus one partial record in memory.
pub fn decode_reader<R: Read>(
    reader: R,
    schema: SchemaRef,
    projection: Option<&[usize]>,
    opts: &MsgpackReadOptions,
) -> Result<ReaderBatches<R>> {
    let src =
        Stream { reader, buf: Vec::new(), base: 0, eof: false, layout: None, opts: opts.clone(), read_failure: None };
    Ok(Batches { core: ScanCore::new(&schema, projection, opts, "<stream>")?, src })
}

/// Lazily decodes a [`Read`] into batches; see [`decode_reader`].
pub type ReaderBatches<R> = Batches<Stream<R>>;

/// The bytes of a [`ReaderBatches`] scan: the stream and what of it is buffered.
pub struct Stream<R> {
    reader: R,
    /// The bytes read and not yet decoded (the current forward entry's from its start).
    buf: Vec<u8>,
    /// The offset in the stream of `buf[0]`.
    base: u64,
    eof: bool,
    layout: Option<Layout>,
    opts: MsgpackReadOptions,
    /// Why reading stopped early (under `truncate`), reported with what it cut.
    read_failure: Option<Problem>,
}

impl<R: Read> Batches<Stream<R>> {
    /// Names the stream in messages (default `<stream>`).
    pub fn named(mut self, path: &str) -> Self {
        self.core.set_path(path);
        self
    }

    /// Decompresses the CompressedPackedForward entries buffered after the current entry (as
    /// [`crate::input::prepare`] does for files); an entry still arriving is left for later.
    fn expand_entries(&mut self) -> Result<()> {
        let from = self.core.entry.map_or(0, |e| e.end);
        let limit = self.src.opts.max_decompressed_bytes;
        if let Some(expanded) =
            crate::input::fluentd::expand_forward(&self.src.buf[from..], self.src.opts.max_depth, limit)
        {
            let expanded = expanded.map_err(|m| Error::Input(format!("{}: {m}", self.core.path)))?;
            self.src.buf.truncate(from);
            self.src.buf.extend_from_slice(&expanded);
        }
        Ok(())
    }

    /// The end of the stream: a read failure reported, the record count against the
    /// sidecar's.
    fn finish(&mut self) -> Result<Option<RecordBatch>> {
        self.core.done = true;
        if let Some(p) = self.src.read_failure.take() {
            let p = Problem { record: self.core.next_record, record_offset: p.offset, ..p };
            let summary = format!("{p}; kept the {} records before it", self.core.next_record);
            self.core.lost_boundary(&p, false, summary, (p.offset, p.offset))?;
        }
        self.core.check_count();
        Ok(None)
    }

    /// A lost record boundary at `e` (offsets into the buffer): the error under `fail`, else
    /// the rest of the stream dropped and reported.
    fn lost_boundary(&mut self, e: FrameError) -> Result<Option<RecordBatch>> {
        let mut p = e.problem(&self.core.path, &self.src.buf);
        p.record_offset += self.src.base;
        p.offset += self.src.base;
        // A record cut short by a read error: the read error is the problem.
        let read_failure = self.src.read_failure.take();
        if let Some(f) = &read_failure
            && self.src.opts.framing == FramingPolicy::Fail
        {
            p = Problem { record: p.record, record_offset: p.record_offset, ..f.clone() };
        }
        let (from, to) = (p.record_offset, self.src.base + self.src.buf.len() as u64);
        let why = read_failure.map(|f| format!("; {}", f.message)).unwrap_or_default();
        let kept = self.core.next_record;
        let summary = format!("{p}{why}; kept the {kept} records before it, dropped the rest of the stream");
        self.core.lost_boundary(&p, false, summary, (from, to))?;
        self.finish()
    }

    /// Feeds the buffer: reads up to [`READ_CHUNK`] more bytes. A read error ends the stream
    /// (like a truncated file, the records before it are kept under `truncate`) and is
    /// reported where it cuts a record, or at the end of the stream.
    fn fill(&mut self) -> Result<()> {
        let old = self.src.buf.len();
        self.src.buf.resize(old + READ_CHUNK, 0);
        let n = loop {
            match self.src.reader.read(&mut self.src.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let at = self.src.base + old as u64;
                    self.src.read_failure = Some(Problem {
                        path: self.core.path.clone(),
                        record: self.core.next_record,
                        record_offset: self.src.base,
                        offset: at,
                        kind: Kind::ReadFailed,
                        message: format!("expected more input, found a read error after {at} bytes: {e}"),
                        hex: hex_excerpt(&self.src.buf[..old], old),
                    });
                    self.src.buf.truncate(old);
                    self.src.eof = true;
                    return Ok(());
                }
            }
        };
        self.src.buf.truncate(old + n);
        self.src.eof |= n == 0;
        Ok(())
    }

    /// The layout, detected from the first bytes (or given and checked) on the first call.
    fn layout(&mut self) -> Result<Layout> {
        if let Some(layout) = self.src.layout {
            return Ok(layout);
        }
        while !self.src.eof && self.src.buf.len() < DETECT_BYTES {
            self.fill()?;
        }
        let layout = layout_or(&self.src.buf, self.src.opts.layout, self.src.opts.max_depth);
        if layout == Layout::SeqFile {
            // A stream drops what it has framed, and a SequenceFile's framer reads the header.
            let path = &self.core.path;
            return Err(Error::Input(format!("{path}: a Hadoop SequenceFile is read from a file, not from a stream")));
        }
        if self.src.opts.layout.is_some() {
            check_forced(&self.src.buf, layout, self.src.opts.max_depth)
                .map_err(|m| Error::Input(format!("{}: {m}", self.core.path)))?;
        }
        self.src.layout = Some(layout);
        Ok(layout)
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.core.done {
                return Ok(None);
            }
            let layout = self.layout()?;
            if layout == Layout::Forward {
                self.expand_entries()?;
            }
            let (first, entry) = (self.core.next_record, self.core.entry);
            let framed = self.core.frame(&self.src.buf, layout, 0, usize::MAX, self.core.batch_size);
            // Inside a forward entry, the entry stays in the buffer (its tag is at its start).
            let consumed = self.core.entry.map_or(framed.pos, |e| e.start);
            if self.core.records.is_empty() {
                // Nothing framed: the same records are framed again once more bytes are in.
                self.core.entry = entry;
                match framed.error {
                    Some(e) if e.truncated && !self.src.eof => {
                        let max = self.core.limits.max_record_bytes;
                        if self.src.buf.len() > max + READ_CHUNK {
                            let message = format!(
                                "expected a record of at most {max} bytes, found one of more than {} bytes",
                                self.src.buf.len() - consumed
                            );
                            let start = e.record_offset;
                            let e = FrameError { offset: start, message, kind: Kind::TooLarge, truncated: false, ..e };
                            return self.lost_boundary(e);
                        }
                        self.fill()?;
                        continue;
                    }
                    Some(e) => return self.lost_boundary(e),
                    None if self.src.eof => return self.finish(),
                    None => {
                        self.fill()?;
                        continue;
                    }
                }
            }
            // Records framed before an error are decoded; the error is met again, with nothing
            // before it, on the next call (or is no error once more bytes are in).
            self.core.next_record = first + self.core.records.len() as u64;
            self.core.decoder.set_base(self.src.base);
            let batch = self.core.decode(&self.src.buf, layout, first)?;
            self.src.buf.drain(..consumed);
            self.src.base += consumed as u64;
            self.core.entry = self.core.entry.map(|e| e.shifted_down(consumed));
            return Ok(Some(batch));
        }
    }
}

impl<R: Read> Iterator for Batches<Stream<R>> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        iteration(next, &mut self.core.done)
    }
}
