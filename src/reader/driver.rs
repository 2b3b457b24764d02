//! One scan of one input, [`Batches`]: a [`ScanCore`] (what every scan holds and does,
//! whatever its bytes: the decoder and the report it adds to, the framing of a run of records
//! into a batch, the framing policy in one function, [`ScanCore::lost_boundary`], and the
//! end-of-input checks) and a source of bytes, `S`: a whole mapped or in-memory slice
//! ([`super::slice::Slice`]) or a stream fed into a buffer ([`super::stream::Stream`]).

use crate::decode::{MAX_BATCH_BYTES, RecordDecoder};
use crate::error::Result;
use crate::framing::{Entry, FrameError, FrameLimits, Framer, Layout, Record};
use crate::input::ChunkMeta;
use crate::options::{ErrorPolicy, FramingPolicy, MsgpackReadOptions};
use crate::problem::{Action, Problem};
use crate::report::ScanReport;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;

/// A lazy scan of one input into batches: the core, and where the bytes come from. The
/// settings every scan shares are here; each source adds its own
/// ([`super::SliceBatches`], [`super::ReaderBatches`]).
pub struct Batches<S> {
    pub(crate) core: ScanCore,
    pub(crate) src: S,
}

impl<S> Batches<S> {
    /// Adds to `report` (a fresh one by default; see [`Batches::report`]).
    pub fn with_report(mut self, report: &ScanReport) -> Self {
        self.core.set_report(report);
        self
    }

    /// What the scan has reported so far: records, `_extra` pairs, problems.
    pub fn report(&self) -> &ScanReport {
        &self.core.report
    }

    /// Applies what a Fluentd buffer chunk's `.meta` sidecar says: every record gets its tag,
    /// and the number of records read is checked against its count at the end (a mismatch is
    /// reported, not fatal: Fluentd updates the sidecar after the chunk).
    pub fn chunk_meta(mut self, meta: &ChunkMeta) -> Self {
        self.core.set_chunk_meta(meta);
        self
    }

    /// The output schema.
    pub fn schema(&self) -> SchemaRef {
        self.core.decoder.schema()
    }
}

/// The state of one input's scan that does not depend on where its bytes come from.
pub(crate) struct ScanCore {
    pub(crate) decoder: RecordDecoder,
    pub(crate) report: ScanReport,
    pub(crate) policy: ErrorPolicy,
    pub(crate) limits: FrameLimits,
    pub(crate) batch_size: usize,
    /// Input bytes a batch spans at most ([`crate::options::MsgpackReadOptions::batch_bytes`]).
    pub(crate) batch_bytes: usize,
    /// The input's name in messages.
    pub(crate) path: String,
    /// The number of the next record (from 0; [`crate::error::UNKNOWN_RECORD`] once unknown).
    pub(crate) next_record: u64,
    /// The forward entry the last batch stopped in.
    pub(crate) entry: Option<Entry>,
    /// The records of the batch being built (of the last batch returned, after it).
    pub(crate) records: Vec<Record>,
    /// Records a buffer chunk's sidecar says the input holds, checked at its end.
    expected_records: Option<u64>,
    /// No more batches.
    pub(crate) done: bool,
}

/// What framing a run of records found.
pub(crate) struct Framed {
    /// Where framing stopped: the next record (inside a forward entry, its next event).
    pub(crate) pos: usize,
    /// What stopped it, when a record could not be framed.
    pub(crate) error: Option<FrameError>,
}

impl ScanCore {
    /// A scan of `schema` projected to `projection`, named `path`, adding to a fresh report.
    pub(crate) fn new(
        schema: &SchemaRef,
        projection: Option<&[usize]>,
        opts: &MsgpackReadOptions,
        path: &str,
    ) -> Result<Self> {
        opts.validate()?;
        let report = ScanReport::new();
        let mut decoder = RecordDecoder::new(schema, projection, opts, &report)?;
        decoder.set_path(path);
        Ok(ScanCore {
            decoder,
            report,
            policy: opts.error_policy(),
            limits: opts.limits(),
            batch_size: opts.batch_size.max(1),
            batch_bytes: opts.batch_bytes.clamp(1, MAX_BATCH_BYTES),
            path: path.to_string(),
            next_record: 0,
            entry: None,
            records: Vec::new(),
            expected_records: None,
            done: false,
        })
    }

    /// Adds to `report` from now on.
    pub(crate) fn set_report(&mut self, report: &ScanReport) {
        self.decoder.set_report(report);
        self.report = report.clone();
    }

    /// Names the input in messages.
    pub(crate) fn set_path(&mut self, path: &str) {
        self.path = path.to_string();
        self.decoder.set_path(path);
    }

    /// Applies what a Fluentd buffer chunk's `.meta` sidecar says: every record gets its tag,
    /// and the number of records read is checked against its count at the end (a mismatch is
    /// reported, not fatal: Fluentd updates the sidecar after the chunk).
    pub(crate) fn set_chunk_meta(&mut self, meta: &ChunkMeta) {
        self.decoder.set_file_tag(meta.tag.as_deref());
        self.expected_records = meta.records;
    }

    /// Frames up to `want` records of `buf` from `pos`, only records that start before `stop`,
    /// into [`ScanCore::records`] (a batch also stops once its records span
    /// [`ScanCore::batch_bytes`]); the framer goes on inside the forward entry the last run stopped
    /// in, and numbers records on from [`ScanCore::next_record`], which it advances.
    pub(crate) fn frame(&mut self, buf: &[u8], layout: Layout, pos: usize, stop: usize, want: usize) -> Framed {
        self.records.clear();
        let mut framer = Framer::new(buf, pos, layout, self.limits, self.next_record).resume(self.entry);
        let mut error = None;
        while self.records.len() < want && framer.pos() < stop {
            match framer.next() {
                None => break,
                Some(Ok(r)) => {
                    self.records.push(r);
                    if r.end - self.records[0].start >= self.batch_bytes {
                        break;
                    }
                }
                Some(Err(e)) => {
                    error = Some(e);
                    break;
                }
            }
        }
        self.entry = framer.entry();
        self.next_record = framer.records;
        Framed { pos: framer.pos(), error }
    }

    /// Decodes the records framed last, numbered from `first`, from `buf`.
    pub(crate) fn decode(&mut self, buf: &[u8], layout: Layout, first: u64) -> Result<RecordBatch> {
        self.decoder.decode(buf, layout, &self.records, first)
    }

    /// The framing policy, in one place: a lost record boundary (problem `p`) ends the scan.
    /// Under `--framing fail`, or when `must_fail` (keeping what was read would not be
    /// right), it is the scan's error; otherwise it is reported, with `summary` saying what
    /// was kept and bytes `dropped` left out, and the scan ends after what it read.
    pub(crate) fn lost_boundary(
        &mut self,
        p: &Problem,
        must_fail: bool,
        summary: String,
        dropped: (u64, u64),
    ) -> Result<()> {
        self.done = true;
        framing_policy(&self.report, &self.policy, p, must_fail, summary, dropped)
    }

    /// At the end of the whole input: the records read against the sidecar's count.
    pub(crate) fn check_count(&mut self) {
        if let Some(want) = self.expected_records.take()
            && self.next_record != want
        {
            let (path, read) = (&self.path, self.next_record);
            self.report
                .add_note(format!("{path}: the buffer chunk holds {read} records, but its .meta sidecar says {want}"));
        }
    }
}

/// The framing policy applied to a lost record boundary `p` (see
/// [`ScanCore::lost_boundary`]): the error under `--framing fail` or `must_fail`, else a
/// truncation of bytes `dropped` reported with `summary`.
pub(crate) fn framing_policy(
    report: &ScanReport,
    policy: &ErrorPolicy,
    p: &Problem,
    must_fail: bool,
    summary: String,
    dropped: (u64, u64),
) -> Result<()> {
    if must_fail || policy.framing == FramingPolicy::Fail {
        return Err(report.failed(p));
    }
    let action = Action::Truncated { from: dropped.0, to: dropped.1 };
    report.problem(p, action, Some(summary), policy.max_errors)
}

/// One iterator step from a batch result: an error ends the iteration after it is returned.
pub(crate) fn iteration(next: Result<Option<RecordBatch>>, done: &mut bool) -> Option<Result<RecordBatch>> {
    match next {
        Ok(b) => b.map(Ok),
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}
