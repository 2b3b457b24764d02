//! [`SliceBatches`]: a whole input in memory (a memory map, bytes read or fetched) decoded
//! into batches. Having every byte at hand allows what a stream cannot do: counting records
//! on interleaved lanes for `count(*)`, decoding records while framing them, and scanning a
//! byte range of the input so that several cores share one file.

use super::driver::{Batches, ScanCore, iteration};
use crate::decode::RecordDecoder;
use crate::error::{Error, Result, UNKNOWN_RECORD};
use crate::framing::split::find_boundary;
use crate::framing::{Layout, Record, check_forced, layout_or};
use crate::options::MsgpackReadOptions;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

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
pub type SliceBatches<B> = Batches<Slice<B>>;

/// The bytes of a [`SliceBatches`] scan: the whole input, and how far the scan has got.
pub struct Slice<B> {
    buf: B,
    pos: usize,
    layout: Layout,
    remaining_limit: Option<usize>,
    /// Called with the byte ranges the scan has passed (see [`SliceBatches::on_consumed`]).
    consumed: Option<Box<dyn Fn(std::ops::Range<usize>) + Send>>,
    /// Bytes before this offset were already passed to `consumed`.
    reported: usize,
    /// Only records that start before this offset are read (see [`SliceBatches::range`]).
    stop: usize,
}

/// Bytes the `count(*)` path counts at a time (on [`crate::framing::lanes::LANES`] lanes), and
/// so the most it holds resident between page releases.
const LANE_SEGMENT: usize = 32 << 20;

/// The scan tells its `on_consumed` callback about passed bytes in steps of at least this.
const CONSUMED_STEP: usize = 8 << 20;

impl<B: AsRef<[u8]>> Batches<Slice<B>> {
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
        let layout = layout_or(buf.as_ref(), opts.layout, opts.max_depth);
        if opts.layout.is_some() {
            check_forced(buf.as_ref(), layout, opts.max_depth).map_err(|m| Error::Input(format!("{path}: {m}")))?;
        }
        let src = Slice { buf, pos: 0, layout, remaining_limit: limit, consumed: None, reported: 0, stop: usize::MAX };
        Ok(Batches { core: ScanCore::new(schema, projection, opts, path)?, src })
    }

    /// Restricts the scan to the records that *start* in `range`, so that scans of adjacent
    /// ranges together read every record exactly once (DataFusion splits large files into
    /// byte ranges, one per core). A range that starts inside the buffer begins at the
    /// boundary [`find_boundary`] finds, and its records are numbered
    /// [`crate::error::UNKNOWN_RECORD`] in messages. A range that ends inside the buffer
    /// verifies the next range's start: after its last record it checks that the record it
    /// reaches is the one `find_boundary` found there, and fails the scan if not. The values
    /// layout cannot be split: the range at offset 0 reads the whole buffer and the others
    /// read nothing. A SequenceFile splits exactly at its sync markers: a range reads the
    /// records from the first marker at or after its start to the first at or after its end.
    pub fn range(mut self, range: std::ops::Range<usize>) -> Self {
        let len = self.src.buf.as_ref().len();
        if range.start == 0 && range.end >= len {
            return self;
        }
        match find_boundary(self.src.buf.as_ref(), range.start, self.src.layout, self.core.limits) {
            None if range.start == 0 => {}
            None => self.core.done = true,
            Some(start) => {
                self.src.pos = start;
                self.src.reported = start;
                // A SequenceFile range reads on to the sync marker where the next one starts.
                self.src.stop = match self.src.layout {
                    Layout::SeqFile => {
                        find_boundary(self.src.buf.as_ref(), range.end, Layout::SeqFile, self.core.limits)
                            .unwrap_or(range.end)
                    }
                    _ => range.end,
                };
                if range.start > 0 {
                    self.core.next_record = UNKNOWN_RECORD;
                }
                self.core.done = start >= range.end || start >= len;
            }
        }
        self
    }

    /// Numbers the records from `first` in messages ([`crate::error::UNKNOWN_RECORD`] when
    /// they are not the input's first).
    pub fn numbered_from(mut self, first: u64) -> Self {
        self.core.next_record = first;
        self
    }

    /// Moves past a batch read without the framer: the next record is at `end` and numbered
    /// `next_record`.
    fn advance(&mut self, end: usize, next_record: u64) -> Result<()> {
        self.src.pos = end;
        self.core.next_record = next_record;
        self.after_batch()?;
        self.report_consumed();
        Ok(())
    }

    /// Bookkeeping after a batch's records were framed without error: the end of the range
    /// (verified), of the buffer, or of the limit.
    fn after_batch(&mut self) -> Result<()> {
        if self.src.pos >= self.src.stop && !self.core.done {
            self.core.done = true;
            self.verify_stop()?;
        }
        if self.src.pos >= self.src.buf.as_ref().len() {
            self.core.done = true;
        }
        if let Some(l) = self.src.remaining_limit.as_mut() {
            *l -= self.core.records.len();
            if *l == 0 {
                self.core.done = true;
            }
        }
        Ok(())
    }

    /// After the last record of a range that ends inside the buffer: the record reached must
    /// start where the next range starts.
    fn verify_stop(&self) -> Result<()> {
        let buf = self.src.buf.as_ref();
        if self.src.stop >= buf.len() {
            return Ok(());
        }
        let guessed = find_boundary(buf, self.src.stop, self.src.layout, self.core.limits);
        if guessed == Some(self.src.pos) {
            return Ok(());
        }
        Err(Error::Split(format!(
            "{}: a scan split at byte {} started the next range at byte {}, but the records end at byte {} there; \
             the split guessed wrong, so the results would be wrong: run again with --threads 1 (and report this file)",
            self.core.path,
            self.src.stop,
            guessed.unwrap_or(buf.len()),
            self.src.pos
        )))
    }

    /// Calls `f` with each byte range the scan has passed for good (in steps of several MiB),
    /// so a memory-mapped input can drop those pages from resident memory
    /// ([`crate::input::FileBytes::release`]).
    pub fn on_consumed(mut self, f: impl Fn(std::ops::Range<usize>) + Send + 'static) -> Self {
        self.src.consumed = Some(Box::new(f));
        self
    }

    fn report_consumed(&mut self) {
        if let Some(f) = &self.src.consumed
            && (self.src.pos - self.src.reported >= CONSUMED_STEP || self.core.done)
        {
            f(self.src.reported..self.src.pos);
            self.src.reported = self.src.pos;
        }
    }

    /// Decodes the next batches with `decoder` (given the path, file tag and base this one's
    /// has), handing back the one used so far.
    pub(crate) fn swap_decoder(&mut self, decoder: &mut RecordDecoder) {
        self.share_settings(decoder);
        std::mem::swap(&mut self.core.decoder, decoder);
    }

    /// Gives another decoder of this input the path, file tag and base this one's has.
    pub(crate) fn share_settings(&self, decoder: &mut RecordDecoder) {
        decoder.adopt_settings(&self.core.decoder);
    }

    /// The bytes being decoded.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.src.buf.as_ref()
    }

    /// The records of the batch just returned, one per row (empty after a batch that was
    /// only counted).
    pub(crate) fn batch_records(&self) -> &[Record] {
        &self.core.records
    }

    /// The detected layout.
    pub fn layout(&self) -> Layout {
        self.src.layout
    }

    /// `count(*)`: records counted on interleaved lanes, a segment at a time, when nothing is
    /// decoded; `None` when the lanes give up (the framer then reads the segment).
    fn counted(&mut self) -> Result<Option<RecordBatch>> {
        let (buf, pos) = (self.src.buf.as_ref(), self.src.pos);
        let to = self.src.stop.min(pos.saturating_add(LANE_SEGMENT));
        let Some((n, end)) = crate::framing::lanes::count_records(buf, pos, to, self.core.limits) else {
            return Ok(None);
        };
        if n == 0 {
            return Ok(None);
        }
        let first = self.core.next_record;
        self.core.records.clear();
        self.advance(end, first.saturating_add(n))?;
        Ok(Some(self.core.decoder.rows_only(n as usize, (end - pos) as u64)?))
    }

    /// The common case: up to `want` records framed by decoding them (one walk each); `None`
    /// when anything is unusual (the framer then reads the same records).
    fn decoded_while_framing(&mut self, want: usize) -> Result<Option<RecordBatch>> {
        let first = self.core.next_record;
        let buf = self.src.buf.as_ref();
        let core = &mut self.core;
        let range = (self.src.pos, self.src.stop);
        let batch = core.decoder.decode_unframed(
            buf,
            self.src.layout,
            range,
            (want, core.batch_bytes),
            core.limits,
            first,
            &mut core.records,
        );
        let Some(batch) = batch else { return Ok(None) };
        let end = self.core.records.last().map_or(self.src.pos, |r| r.end);
        self.advance(end, first.saturating_add(self.core.records.len() as u64))?;
        Ok(Some(batch))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        if self.core.done {
            if self.src.stop == usize::MAX {
                self.core.check_count();
            }
            return Ok(None);
        }
        let want = self.src.remaining_limit.map_or(self.core.batch_size, |l| l.min(self.core.batch_size));
        // The fast paths first; each gives up on anything unusual, and the framer below then
        // reads the same records and reports each case.
        if self.core.decoder.reads_nothing()
            && self.src.layout == Layout::Records
            && self.src.remaining_limit.is_none()
            && let Some(batch) = self.counted()?
        {
            return Ok(Some(batch));
        }
        if self.core.decoder.frames_while_decoding(self.src.layout)
            && let Some(batch) = self.decoded_while_framing(want)?
        {
            return Ok(Some(batch));
        }
        let first = self.core.next_record;
        let framed = self.core.frame(self.src.buf.as_ref(), self.src.layout, self.src.pos, self.src.stop, want);
        self.src.pos = framed.pos;
        match framed.error {
            Some(e) => self.lost_boundary(e)?,
            None => self.after_batch()?,
        }
        if self.core.records.is_empty() {
            self.report_consumed();
            return Ok(None);
        }
        let batch = self.core.decode(self.src.buf.as_ref(), self.src.layout, first)?;
        self.report_consumed();
        Ok(Some(batch))
    }

    /// A record boundary lost at `e`: the records before it are kept (and decoded), the rest
    /// of the input dropped, under the framing policy. A split scan cannot truncate: the
    /// other ranges read past the damage.
    fn lost_boundary(&mut self, mut e: crate::framing::FrameError) -> Result<()> {
        let buf = self.src.buf.as_ref();
        let split = self.src.stop < buf.len();
        if split {
            // Truncating here would keep the records other cores read after the damage
            // (their ranges start past it), and which ones depends on the core count.
            e.message.push_str(
                "; the file was split across cores and other ranges read past the damage: \
                 run again with --threads 1 to keep only the records before it",
            );
        }
        let (from, to) = (e.record_offset as u64, buf.len() as u64);
        let p = e.problem(&self.core.path, buf);
        let kept = match self.core.next_record {
            UNKNOWN_RECORD => "the records".to_string(),
            n => format!("{n} records"),
        };
        let summary = format!("{p}; kept {kept} before it, dropped bytes {from}..{to} ({} bytes)", to - from);
        self.core.lost_boundary(&p, split, summary, (from, to))
    }
}

impl<B: AsRef<[u8]>> Iterator for Batches<Slice<B>> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        iteration(next, &mut self.core.done)
    }
}
