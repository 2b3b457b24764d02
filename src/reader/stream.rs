//! [`ReaderBatches`]: bytes arriving from any [`Read`] (a socket, a pipe, a decompressor)
//! decoded into batches, holding at most one batch of records plus one partial record: bytes
//! are fed into a buffer, whole records framed and decoded from it, and the buffer drained of
//! what was decoded. A record cut by the end of the buffer waits for more bytes; at the end of
//! the stream it is a lost record boundary.

use super::core::{ScanCore, iteration};
use crate::error::{Error, Result, hex_excerpt};
use crate::framing::{FrameError, Layout, check_forced, detect_or};
use crate::input::ChunkMeta;
use crate::options::{FramingPolicy, MsgpackReadOptions};
use crate::problem::{Kind, Problem};
use crate::report::ScanReport;
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
    Ok(ReaderBatches {
        core: ScanCore::new(&schema, projection, opts, "<stream>")?,
        reader,
        buf: Vec::new(),
        base: 0,
        eof: false,
        layout: None,
        opts: opts.clone(),
        read_failure: None,
    })
}

/// Lazily decodes a [`Read`] into batches; see [`decode_reader`].
pub struct ReaderBatches<R> {
    core: ScanCore,
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

impl<R: Read> ReaderBatches<R> {
    /// Adds to `report`, as [`super::SliceBatches::with_report`] does.
    pub fn with_report(mut self, report: &ScanReport) -> Self {
        self.core.set_report(report);
        self
    }

    /// What the scan has reported so far.
    pub fn report(&self) -> &ScanReport {
        &self.core.report
    }

    /// Applies a buffer chunk's sidecar, as [`super::SliceBatches::chunk_meta`] does.
    pub fn chunk_meta(mut self, meta: &ChunkMeta) -> Self {
        self.core.set_chunk_meta(meta);
        self
    }

    /// Names the stream in messages (default `<stream>`).
    pub fn named(mut self, path: &str) -> Self {
        self.core.set_path(path);
        self
    }

    /// Decompresses the CompressedPackedForward entries buffered after the current entry (as
    /// [`crate::input::prepare`] does for files); an entry still arriving is left for later.
    fn expand_entries(&mut self) -> Result<()> {
        let from = self.core.entry.map_or(0, |e| e.end);
        let limit = self.opts.max_decompressed_bytes;
        if let Some(expanded) = crate::input::fluentd::expand_forward(&self.buf[from..], self.opts.max_depth, limit) {
            let expanded = expanded.map_err(|m| Error::Input(format!("{}: {m}", self.core.path)))?;
            self.buf.truncate(from);
            self.buf.extend_from_slice(&expanded);
        }
        Ok(())
    }

    /// The end of the stream: a read failure reported, the record count against the
    /// sidecar's.
    fn finish(&mut self) -> Result<Option<RecordBatch>> {
        self.core.done = true;
        if let Some(p) = self.read_failure.take() {
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
        let mut p = e.problem(&self.core.path, &self.buf);
        p.record_offset += self.base;
        p.offset += self.base;
        // A record cut short by a read error: the read error is the problem.
        let read_failure = self.read_failure.take();
        if let Some(f) = &read_failure
            && self.opts.framing == FramingPolicy::Fail
        {
            p = Problem { record: p.record, record_offset: p.record_offset, ..f.clone() };
        }
        let (from, to) = (p.record_offset, self.base + self.buf.len() as u64);
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
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let n = loop {
            match self.reader.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let at = self.base + old as u64;
                    self.read_failure = Some(Problem {
                        path: self.core.path.clone(),
                        record: self.core.next_record,
                        record_offset: self.base,
                        offset: at,
                        kind: Kind::ReadFailed,
                        message: format!("expected more input, found a read error after {at} bytes: {e}"),
                        hex: hex_excerpt(&self.buf[..old], old),
                    });
                    self.buf.truncate(old);
                    self.eof = true;
                    return Ok(());
                }
            }
        };
        self.buf.truncate(old + n);
        self.eof |= n == 0;
        Ok(())
    }

    /// The layout, detected from the first bytes (or given and checked) on the first call.
    fn layout(&mut self) -> Result<Layout> {
        if let Some(layout) = self.layout {
            return Ok(layout);
        }
        while !self.eof && self.buf.len() < DETECT_BYTES {
            self.fill()?;
        }
        let layout = detect_or(&self.buf, self.opts.layout, self.opts.max_depth).layout;
        if self.opts.layout.is_some() {
            check_forced(&self.buf, layout, self.opts.max_depth)
                .map_err(|m| Error::Input(format!("{}: {m}", self.core.path)))?;
        }
        self.layout = Some(layout);
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
            let framed = self.core.frame(&self.buf, layout, 0, usize::MAX, self.core.batch_size);
            // Inside a forward entry, the entry stays in the buffer (its tag is at its start).
            let consumed = self.core.entry.map_or(framed.pos, |e| e.start);
            if self.core.records.is_empty() {
                // Nothing framed: the same records are framed again once more bytes are in.
                self.core.entry = entry;
                match framed.error {
                    Some(e) if e.truncated && !self.eof => {
                        let max = self.core.limits.max_record_bytes;
                        if self.buf.len() > max + READ_CHUNK {
                            let message = format!(
                                "expected a record of at most {max} bytes, found one of more than {} bytes",
                                self.buf.len() - consumed
                            );
                            let start = e.record_offset;
                            let e = FrameError { offset: start, message, kind: Kind::TooLarge, truncated: false, ..e };
                            return self.lost_boundary(e);
                        }
                        self.fill()?;
                        continue;
                    }
                    Some(e) => return self.lost_boundary(e),
                    None if self.eof => return self.finish(),
                    None => {
                        self.fill()?;
                        continue;
                    }
                }
            }
            // Records framed before an error are decoded; the error is met again, with nothing
            // before it, on the next call (or is no error once more bytes are in).
            self.core.next_record = first + self.core.records.len() as u64;
            self.core.decoder.set_base(self.base);
            let batch = self.core.decode(&self.buf, layout, first)?;
            self.buf.drain(..consumed);
            self.base += consumed as u64;
            self.core.entry = self.core.entry.map(|e| e.shifted_down(consumed));
            return Ok(Some(batch));
        }
    }
}

impl<R: Read> Iterator for ReaderBatches<R> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        iteration(next, &mut self.core.done)
    }
}
