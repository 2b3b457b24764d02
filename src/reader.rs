//! The plain Rust API below DataFusion: infer a schema from bytes, and decode bytes (a slice,
//! or any [`Read`]) into an iterator of [`RecordBatch`]es. Batches are produced lazily, one per
//! `next()`, so taking a few rows reads a few records.
//!
//! ```
//! use mpq::reader::{decode_slice, infer_schema};
//! use mpq::MsgpackReadOptions;
//!
//! let bytes = std::fs::read("testdata/events.msgpack").unwrap();
//! let opts = MsgpackReadOptions::default();
//! let schema = infer_schema(&bytes, &opts).unwrap();
//! let rows: usize = decode_slice(&bytes, schema, None, &opts).unwrap().map(|b| b.unwrap().num_rows()).sum();
//! assert_eq!(rows, 6);
//! ```

use crate::decode::RecordDecoder;
use crate::error::{Error, Result, UNKNOWN_RECORD, hex_excerpt};
use crate::framing::split::find_boundary;
use crate::framing::{Entry, FrameError, FrameLimits, Framer, Layout, Record, check_forced, detect_or};
use crate::infer::{TableInference, infer_slice};
use crate::input::ChunkMeta;
use crate::options::{ErrorPolicy, FramingPolicy, MsgpackReadOptions};
use crate::problem::{Action, Kind, Problem};
use crate::report::ScanReport;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use std::io::Read;
use std::sync::Arc;

pub use crate::decode::MAX_BATCH_BYTES;

/// Infers what `bytes` hold, with per-field statistics (see [`TableInference`]).
pub fn infer(bytes: &[u8], opts: &MsgpackReadOptions) -> Result<TableInference> {
    opts.validate()?;
    let fi = infer_slice(bytes, "<memory>", &opts.infer_options());
    Ok(TableInference::merge(vec![("<memory>".to_string(), Arc::new(fi))]))
}

/// Infers the Arrow schema of `bytes`.
pub fn infer_schema(bytes: &[u8], opts: &MsgpackReadOptions) -> Result<SchemaRef> {
    Ok(Arc::new(opts.schema_of(&infer(bytes, opts)?)))
}

/// Decodes `bytes` into batches of `schema` (projected to `projection`, indices into it).
pub fn decode_slice<B: AsRef<[u8]>>(
    bytes: B,
    schema: SchemaRef,
    projection: Option<&[usize]>,
    opts: &MsgpackReadOptions,
) -> Result<SliceBatches<B>> {
    SliceBatches::new(bytes, "<memory>", &schema, projection, opts, None)
}

/// Lazily decodes a whole in-memory input into batches.
pub struct SliceBatches<B> {
    buf: B,
    pos: usize,
    layout: Layout,
    decoder: RecordDecoder,
    records: Vec<Record>,
    next_record: u64,
    batch_size: usize,
    limits: FrameLimits,
    policy: ErrorPolicy,
    path: String,
    done: bool,
    report: ScanReport,
    remaining_limit: Option<usize>,
    /// Called with the byte ranges the scan has passed (see [`SliceBatches::on_consumed`]).
    consumed: Option<Box<dyn Fn(std::ops::Range<usize>) + Send>>,
    /// Bytes before this offset were already passed to `consumed`.
    reported: usize,
    /// Only records that start before this offset are read (see [`SliceBatches::range`]).
    stop: usize,
    /// The forward entry the last batch stopped in.
    entry: Option<Entry>,
    /// Records a buffer chunk's sidecar says the input holds, checked at its end.
    expected_records: Option<u64>,
}

/// Bytes the `count(*)` path counts at a time (on [`crate::framing::lanes::LANES`] lanes), and so the
/// most it holds resident between page releases.
const LANE_SEGMENT: usize = 32 << 20;

/// The scan tells its `on_consumed` callback about passed bytes in steps of at least this.
const CONSUMED_STEP: usize = 8 << 20;

impl<B: AsRef<[u8]>> SliceBatches<B> {
    /// Decodes `buf` (named `path` in messages) into batches; with `limit`, stops after that
    /// many rows.
    pub fn new(
        buf: B,
        path: &str,
        schema: &SchemaRef,
        projection: Option<&[usize]>,
        opts: &MsgpackReadOptions,
        limit: Option<usize>,
    ) -> Result<Self> {
        opts.validate()?;
        let layout = detect_or(buf.as_ref(), opts.layout, opts.max_depth).layout;
        if opts.layout.is_some() {
            check_forced(buf.as_ref(), layout, opts.max_depth).map_err(|m| Error::Input(format!("{path}: {m}")))?;
        }
        let report = ScanReport::new();
        let mut decoder = RecordDecoder::new(schema, projection, opts, &report)?;
        decoder.set_path(path);
        Ok(SliceBatches {
            buf,
            pos: 0,
            layout,
            decoder,
            records: Vec::new(),
            next_record: 0,
            batch_size: opts.batch_size.max(1),
            limits: opts.limits(),
            policy: opts.error_policy(),
            path: path.to_string(),
            done: false,
            report,
            remaining_limit: limit,
            consumed: None,
            reported: 0,
            stop: usize::MAX,
            entry: None,
            expected_records: None,
        })
    }

    /// Adds to `report` (a fresh one by default; see [`SliceBatches::report`]).
    pub fn with_report(mut self, report: &ScanReport) -> Self {
        self.decoder.set_report(report);
        self.report = report.clone();
        self
    }

    /// What the scan has reported so far: records, `_extra` pairs, problems.
    pub fn report(&self) -> &ScanReport {
        &self.report
    }

    /// Applies what a Fluentd buffer chunk's `.meta` sidecar says: every record gets its tag,
    /// and the number of records read is checked against its count at the end (a mismatch is
    /// reported, not fatal: Fluentd updates the sidecar after the chunk).
    pub fn chunk_meta(mut self, meta: &ChunkMeta) -> Self {
        self.decoder.set_file_tag(meta.tag.as_deref());
        self.expected_records = meta.records;
        self
    }

    /// At the end of a whole input: the records read against the sidecar's count.
    fn check_count(&mut self) {
        let want = self.expected_records.take();
        if self.stop == usize::MAX {
            check_count(&self.report, &self.path, self.next_record, want);
        }
    }

    /// Restricts the scan to the records that *start* in `range`, so that scans of adjacent
    /// ranges together read every record exactly once (DataFusion splits large files into
    /// byte ranges, one per core). A range that starts inside the buffer begins at the
    /// boundary [`find_boundary`] finds, and its records are numbered
    /// [`crate::error::UNKNOWN_RECORD`] in messages. A range that ends inside the buffer
    /// verifies the next range's start: after its last record it checks that the record it
    /// reaches is the one `find_boundary` found there, and fails the scan if not. The values
    /// layout cannot be split: the range at offset 0 reads the whole buffer and the others
    /// read nothing.
    pub fn range(mut self, range: std::ops::Range<usize>) -> Self {
        let len = self.buf.as_ref().len();
        if range.start == 0 && range.end >= len {
            return self;
        }
        match find_boundary(self.buf.as_ref(), range.start, self.layout, self.limits) {
            None if range.start == 0 => {}
            None => self.done = true,
            Some(start) => {
                self.pos = start;
                self.reported = start;
                self.stop = range.end;
                if range.start > 0 {
                    self.next_record = UNKNOWN_RECORD;
                }
                self.done = start >= range.end || start >= len;
            }
        }
        self
    }

    /// Moves past a batch read without the framer: the next record is at `end` and numbered
    /// `next_record`.
    fn advance(&mut self, end: usize, next_record: u64) -> Result<()> {
        self.pos = end;
        self.next_record = next_record;
        self.after_batch()?;
        self.report_consumed();
        Ok(())
    }

    /// Bookkeeping after a batch's records were framed without error: the end of the range
    /// (verified), of the buffer, or of the limit.
    fn after_batch(&mut self) -> Result<()> {
        if self.pos >= self.stop && !self.done {
            self.done = true;
            self.verify_stop()?;
        }
        if self.pos >= self.buf.as_ref().len() {
            self.done = true;
        }
        if let Some(l) = self.remaining_limit.as_mut() {
            *l -= self.records.len();
            if *l == 0 {
                self.done = true;
            }
        }
        Ok(())
    }

    /// After the last record of a range that ends inside the buffer: the record reached must
    /// start where the next range starts.
    fn verify_stop(&self) -> Result<()> {
        let buf = self.buf.as_ref();
        if self.stop >= buf.len() {
            return Ok(());
        }
        let guessed = find_boundary(buf, self.stop, self.layout, self.limits);
        if guessed == Some(self.pos) {
            return Ok(());
        }
        Err(Error::Split(format!(
            "{}: a scan split at byte {} started the next range at byte {}, but the records end at byte {} there; \
             the split guessed wrong, so the results would be wrong: run again with --threads 1 (and report this file)",
            self.path,
            self.stop,
            guessed.unwrap_or(buf.len()),
            self.pos
        )))
    }

    /// Calls `f` with each byte range the scan has passed for good (in steps of several MiB),
    /// so a memory-mapped input can drop those pages from resident memory
    /// ([`crate::input::source::FileBytes::release`]).
    pub fn on_consumed(mut self, f: impl Fn(std::ops::Range<usize>) + Send + 'static) -> Self {
        self.consumed = Some(Box::new(f));
        self
    }

    fn report_consumed(&mut self) {
        if let Some(f) = &self.consumed
            && (self.pos - self.reported >= CONSUMED_STEP || self.done)
        {
            f(self.reported..self.pos);
            self.reported = self.pos;
        }
    }

    /// Decodes the next batches with `decoder` (given the path, file tag and base this one's
    /// has), handing back the one used so far.
    pub(crate) fn swap_decoder(&mut self, decoder: &mut RecordDecoder) {
        self.share_settings(decoder);
        std::mem::swap(&mut self.decoder, decoder);
    }

    /// Gives another decoder of this input the path, file tag and base this one's has.
    pub(crate) fn share_settings(&self, decoder: &mut RecordDecoder) {
        decoder.adopt_settings(&self.decoder);
    }

    /// The bytes being decoded.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The records of the batch just returned, one per row (empty after a batch that was
    /// only counted).
    pub(crate) fn batch_records(&self) -> &[Record] {
        &self.records
    }

    /// The detected layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The output schema.
    pub fn schema(&self) -> SchemaRef {
        self.decoder.schema()
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.done {
            self.check_count();
            return Ok(None);
        }
        let buf = self.buf.as_ref();
        let want = self.remaining_limit.map_or(self.batch_size, |l| l.min(self.batch_size));
        let first = self.next_record;
        // `count(*)`: records counted on interleaved lanes, a segment at a time.
        if self.decoder.reads_nothing() && self.layout == Layout::Records && self.remaining_limit.is_none() {
            let to = self.stop.min(self.pos.saturating_add(LANE_SEGMENT));
            if let Some((n, end)) = crate::framing::lanes::count_records(buf, self.pos, to, self.limits)
                && n > 0
            {
                let bytes = (end - self.pos) as u64;
                self.records.clear();
                self.advance(end, first.saturating_add(n))?;
                return Ok(Some(self.decoder.rows_only(n as usize, bytes)?));
            }
        }
        // The common case first: records framed by decoding them (one walk each).
        let fused = if self.decoder.frames_while_decoding(self.layout) {
            let range = (self.pos, self.stop);
            self.decoder.decode_unframed(buf, self.layout, range, want, self.limits, first, &mut self.records)
        } else {
            None
        };
        if let Some(batch) = fused {
            let end = self.records.last().map_or(self.pos, |r| r.end);
            self.advance(end, first.saturating_add(self.records.len() as u64))?;
            return Ok(Some(batch));
        }
        self.records.clear();
        let mut framer = Framer::new(buf, self.pos, self.layout, self.limits, self.next_record).resume(self.entry);
        let mut error = None;
        while self.records.len() < want && framer.pos() < self.stop {
            match framer.next() {
                None => break,
                Some(Ok(r)) => {
                    self.records.push(r);
                    if r.end - self.records[0].start >= MAX_BATCH_BYTES {
                        break;
                    }
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
            }
        }
        self.pos = framer.pos();
        self.entry = framer.entry();
        self.next_record = framer.records;
        if let Some(mut e) = error {
            self.done = true;
            let split = self.stop < buf.len();
            if split {
                // Truncating here would keep the records other cores read after the damage
                // (their ranges start past it), and which ones depends on the core count.
                e.message.push_str(
                    "; the file was split across cores and other ranges read past the damage: \
                     run again with --threads 1 to keep only the records before it",
                );
            }
            let (from, to) = (e.record_offset as u64, buf.len() as u64);
            let p = e.problem(&self.path, buf);
            if split || self.policy.framing == FramingPolicy::Fail {
                return Err(self.report.failed(&p));
            }
            let kept = match self.next_record {
                UNKNOWN_RECORD => "the records".to_string(),
                n => format!("{n} records"),
            };
            let summary = format!("{p}; kept {kept} before it, dropped bytes {from}..{to} ({} bytes)", to - from);
            self.report.problem(&p, Action::Truncated { from, to }, Some(summary), self.policy.max_errors)?;
        } else {
            self.after_batch()?;
        }
        if self.records.is_empty() {
            self.report_consumed();
            return Ok(None);
        }
        let batch = self.decoder.decode(self.buf.as_ref(), self.layout, &self.records, first)?;
        self.report_consumed();
        Ok(Some(batch))
    }
}

impl<B: AsRef<[u8]>> Iterator for SliceBatches<B> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        iteration(next, &mut self.done)
    }
}

/// One iterator step from a batch result: an error ends the iteration after it is returned.
fn iteration(next: Result<Option<RecordBatch>>, done: &mut bool) -> Option<Result<RecordBatch>> {
    match next {
        Ok(b) => b.map(Ok),
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}

/// Reports a buffer chunk whose records differ in number from its sidecar's count.
fn check_count(report: &ScanReport, path: &str, read: u64, want: Option<u64>) {
    if let Some(want) = want
        && read != want
    {
        report.add_note(format!("{path}: the buffer chunk holds {read} records, but its .meta sidecar says {want}"));
    }
}

/// Bytes read from a [`Read`] at a time.
const READ_CHUNK: usize = 1 << 20;

/// Decodes a byte stream (socket, pipe, decompressor) into batches of `schema`, holding at most
/// one batch of records plus one partial record in memory.
pub fn decode_reader<R: Read>(
    reader: R,
    schema: SchemaRef,
    projection: Option<&[usize]>,
    opts: &MsgpackReadOptions,
) -> Result<ReaderBatches<R>> {
    opts.validate()?;
    let report = ScanReport::new();
    let mut decoder = RecordDecoder::new(&schema, projection, opts, &report)?;
    decoder.set_path("<stream>");
    Ok(ReaderBatches {
        reader,
        buf: Vec::new(),
        base: 0,
        eof: false,
        layout: None,
        decoder,
        next_record: 0,
        opts: opts.clone(),
        report,
        done: false,
        entry: None,
        path: "<stream>".to_string(),
        expected_records: None,
        read_failure: None,
    })
}

/// Lazily decodes a [`Read`] into batches; see [`decode_reader`].
pub struct ReaderBatches<R> {
    reader: R,
    buf: Vec<u8>,
    base: u64,
    eof: bool,
    layout: Option<Layout>,
    decoder: RecordDecoder,
    next_record: u64,
    opts: MsgpackReadOptions,
    report: ScanReport,
    done: bool,
    /// The forward entry the last batch stopped in (offsets into `buf`).
    entry: Option<Entry>,
    /// The stream's name in messages.
    path: String,
    /// Records a buffer chunk's sidecar says the stream holds, checked at its end.
    expected_records: Option<u64>,
    /// Why reading stopped early (under `truncate`), reported with what it cut.
    read_failure: Option<Problem>,
}

impl<R: Read> ReaderBatches<R> {
    /// Decompresses the CompressedPackedForward entries buffered after the current entry (as
    /// [`crate::input::prepare`] does for files); an entry still arriving is left for later.
    fn expand_entries(&mut self) -> Result<()> {
        let from = self.entry.map_or(0, |e| e.end);
        let limit = self.opts.max_decompressed_bytes;
        if let Some(expanded) = crate::input::fluentd::expand_forward(&self.buf[from..], self.opts.max_depth, limit) {
            let expanded = expanded.map_err(|m| Error::Input(format!("{}: {m}", self.path)))?;
            self.buf.truncate(from);
            self.buf.extend_from_slice(&expanded);
        }
        Ok(())
    }

    /// Adds to `report`, as [`SliceBatches::with_report`] does.
    pub fn with_report(mut self, report: &ScanReport) -> Self {
        self.decoder.set_report(report);
        self.report = report.clone();
        self
    }

    /// What the scan has reported so far.
    pub fn report(&self) -> &ScanReport {
        &self.report
    }

    /// Applies a buffer chunk's sidecar, as [`SliceBatches::chunk_meta`] does.
    pub fn chunk_meta(mut self, meta: &ChunkMeta) -> Self {
        self.decoder.set_file_tag(meta.tag.as_deref());
        self.expected_records = meta.records;
        self
    }

    /// The end of the stream: a read failure reported, the record count against the
    /// sidecar's.
    fn finish(&mut self) -> Result<Option<RecordBatch>> {
        self.done = true;
        if let Some(p) = self.read_failure.take() {
            let p = Problem { record: self.next_record, record_offset: p.offset, ..p };
            if self.opts.framing == FramingPolicy::Fail {
                return Err(self.report.failed(&p));
            }
            let summary = format!("{p}; kept the {} records before it", self.next_record);
            let cut = Action::Truncated { from: p.offset, to: p.offset };
            self.report.problem(&p, cut, Some(summary), self.opts.max_errors)?;
        }
        check_count(&self.report, &self.path, self.next_record, self.expected_records.take());
        Ok(None)
    }

    /// A lost record boundary at `e` (offsets into the buffer): the error under `fail`, else
    /// the rest of the stream dropped and reported.
    fn framing_failure(&mut self, e: FrameError) -> Result<Option<RecordBatch>> {
        self.done = true;
        let mut p = e.problem(&self.path, &self.buf);
        p.record_offset += self.base;
        p.offset += self.base;
        // A record cut short by a read error: the read error is the problem.
        let read_failure = self.read_failure.take();
        if let Some(f) = &read_failure
            && self.opts.framing == FramingPolicy::Fail
        {
            p = Problem { record: p.record, record_offset: p.record_offset, ..f.clone() };
        }
        if self.opts.framing == FramingPolicy::Fail {
            return Err(self.report.failed(&p));
        }
        let (from, to) = (p.record_offset, self.base + self.buf.len() as u64);
        let why = read_failure.map(|f| format!("; {}", f.message)).unwrap_or_default();
        let summary =
            format!("{p}{why}; kept the {} records before it, dropped the rest of the stream", self.next_record);
        self.report.problem(&p, Action::Truncated { from, to }, Some(summary), self.opts.max_errors)?;
        self.finish()
    }

    /// Names the stream in messages (default `<stream>`).
    pub fn named(mut self, path: &str) -> Self {
        self.path = path.to_string();
        self.decoder.set_path(path);
        self
    }

    fn fill(&mut self) -> Result<()> {
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let n = loop {
            match self.reader.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // A damaged compressed stream, or a failing pipe: like a truncated file, the
                // records before are kept under `truncate`.
                Err(e) => {
                    let at = self.base + old as u64;
                    let p = Problem {
                        path: self.path.clone(),
                        record: self.next_record,
                        record_offset: self.base,
                        offset: at,
                        kind: Kind::ReadFailed,
                        message: format!("expected more input, found a read error after {at} bytes: {e}"),
                        hex: hex_excerpt(&self.buf[..old], old),
                    };
                    // Reported where it cuts a record, or at the end of the stream.
                    self.read_failure = Some(p);
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

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.layout.is_none() {
                while !self.eof && self.buf.len() < 64 * 1024 {
                    self.fill()?;
                }
                let layout = detect_or(&self.buf, self.opts.layout, self.opts.max_depth).layout;
                if self.opts.layout.is_some() {
                    check_forced(&self.buf, layout, self.opts.max_depth)
                        .map_err(|m| Error::Input(format!("{}: {m}", self.path)))?;
                }
                self.layout = Some(layout);
            }
            let layout = self.layout.unwrap_or(Layout::Records);
            let limits = self.opts.limits();
            if layout == Layout::Forward {
                self.expand_entries()?;
            }
            let mut framer = Framer::new(&self.buf, 0, layout, limits, self.next_record).resume(self.entry);
            let mut records = Vec::new();
            let mut error = None;
            while records.len() < self.opts.batch_size {
                match framer.next() {
                    None => break,
                    Some(Ok(r)) => records.push(r),
                    Some(Err(e)) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            // Inside a forward entry, the entry stays in the buffer (its tag is at its start).
            let entry = framer.entry();
            let consumed = entry.map_or(framer.pos(), |e| e.start);
            let incomplete = error.as_ref().is_some_and(|e| e.truncated);
            if records.is_empty() {
                match error {
                    Some(e) if incomplete && !self.eof => {
                        if self.buf.len() > limits.max_record_bytes + READ_CHUNK {
                            let message = format!(
                                "expected a record of at most {} bytes, found one of more than {} bytes",
                                limits.max_record_bytes,
                                self.buf.len() - consumed
                            );
                            let start = e.record_offset;
                            let e = FrameError { offset: start, message, kind: Kind::TooLarge, truncated: false, ..e };
                            return self.framing_failure(e);
                        }
                        self.fill()?;
                        continue;
                    }
                    Some(e) => return self.framing_failure(e),
                    None if self.eof => return self.finish(),
                    None => {
                        self.fill()?;
                        continue;
                    }
                }
            }
            let first = self.next_record;
            self.next_record += records.len() as u64;
            self.decoder.set_base(self.base);
            let batch = self.decoder.decode(&self.buf, layout, &records, first)?;
            self.buf.drain(..consumed);
            self.base += consumed as u64;
            self.entry = entry.map(|e| e.shifted_down(consumed));
            return Ok(Some(batch));
        }
    }
}

impl<R: Read> Iterator for ReaderBatches<R> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        iteration(next, &mut self.done)
    }
}
