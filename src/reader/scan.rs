//! [`scan_input`]: one prepared input ([`crate::input::Input`]) scanned as a query asks: a
//! byte range of it or all of it, projected, with a filter evaluated in the scan, up to a
//! limit, adding to a report. It picks the driver (a whole slice, or a stream for compressed
//! inputs), applies the chunk's sidecar, releases a mapped file's pages behind the scan, and
//! checks the map against the file shrinking under it. The DataFusion opener only calls it.

use super::filter::{FilteredSlice, FilteredStream, ScanFilter};
use super::{SliceBatches, decode_reader};
use crate::error::{Error, Result};
use crate::input::{FileBytes, Input};
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::PhysicalExpr;
use std::sync::Arc;

/// Batches of one input, lazily.
pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// What a scan of one input reads.
pub struct ScanRequest<'a> {
    /// The input's name in messages.
    pub path: &'a str,
    /// The decoded file schema.
    pub schema: &'a SchemaRef,
    /// The columns wanted (indices into `schema`).
    pub projection: &'a [usize],
    /// A filter over `schema`'s columns the scan applies itself.
    pub filter: Option<&'a Arc<dyn PhysicalExpr>>,
    /// The byte range of the input's own bytes to read (records that start in it).
    pub range: Option<std::ops::Range<usize>>,
    /// Rows wanted at most.
    pub limit: Option<usize>,
}

/// Scans `input` as `request` says, adding to `report`.
pub fn scan_input(
    input: Input,
    request: ScanRequest<'_>,
    opts: &MsgpackReadOptions,
    report: &ScanReport,
) -> Result<Batches> {
    let ScanRequest { path, schema, projection, filter, range, limit } = request;
    if range.as_ref().is_none_or(|r| r.start == 0) {
        for note in &input.notes {
            report.add_note(note.clone());
        }
    }
    // Byte ranges of the file are not ranges of the bytes framed when those are not the
    // file's own: the range at the start reads them all, the others nothing. Planning does
    // not split such files; this keeps a plan made elsewhere (a cluster) correct.
    let range = match (range, input.transformed()) {
        (Some(r), true) if r.start > 0 => return Ok(Box::new(std::iter::empty())),
        (_, true) => None,
        (r, false) => r,
    };
    // A compressed SequenceFile: the range's records decompressed (split at sync markers),
    // then scanned as an uncompressed file, with the damage met reported after them.
    let mut input = input;
    let mut damage = Vec::new();
    let mut numbered_from = 0;
    let range = match input.seq.take() {
        Some(seq) => {
            let image = seq.image(&input.bytes.bytes, path, range.clone(), None, opts.max_decompressed_bytes)?;
            // The file was read whole for this range: what a map read after a cut is zeros.
            input.bytes.check_intact(path)?;
            if range.as_ref().is_some_and(|r| r.start > 0) {
                numbered_from = crate::error::UNKNOWN_RECORD;
            }
            input.bytes = FileBytes::in_memory(image.bytes);
            damage = image.damage;
            None
        }
        None => range,
    };
    // Built once: a compressed input's reader sets up its decompressor.
    let reader = input.reader();
    let streamed = reader.is_some();
    let scan_filter = match filter {
        Some(f) => Some(ScanFilter::new(schema, projection, f, opts, !streamed, limit)?),
        None => None,
    };
    // The columns decoded first: the filter's when there is one (which then counts the limit).
    let (decode, limit) = match &scan_filter {
        Some(f) => (f.first().to_vec(), None),
        None => (projection.to_vec(), limit),
    };
    if let Some(reader) = reader {
        // Decompressed as it is read, a batch at a time: memory does not grow with the file.
        let reader = reader.map_err(|e| Error::Io { path: path.to_string(), source: e })?;
        let mut batches =
            decode_reader(reader, Arc::clone(schema), Some(&decode), opts)?.named(path).with_report(report);
        if let Some(m) = &input.meta {
            batches = batches.chunk_meta(m);
        }
        return Ok(match scan_filter {
            Some(f) => Box::new(FilteredStream::new(batches, f)),
            None => Box::new(batches),
        });
    }
    let bytes = input.bytes;
    let mut batches = SliceBatches::new(bytes.clone(), path, schema, Some(&decode), opts, limit)?
        .with_report(report)
        .numbered_from(numbered_from);
    if let Some(m) = &input.meta {
        batches = batches.chunk_meta(m);
    }
    if let Some(r) = range {
        batches = batches.range(r);
    }
    if bytes.is_mapped() {
        // Pages the scan has passed leave resident memory: a scan of a file larger than
        // memory needs only the batches in flight.
        let mapped = bytes.clone();
        batches = batches.on_consumed(move |range| mapped.release(range));
    }
    let mut batches: Batches = match scan_filter {
        Some(f) => Box::new(FilteredSlice::new(batches, f, schema, opts)?),
        None => Box::new(batches),
    };
    if !damage.is_empty() {
        let end = Damaged { damage: damage.into_iter(), report: report.clone(), opts: opts.clone() };
        batches = Box::new(batches.chain(end));
    }
    if !bytes.is_mapped() {
        return Ok(batches);
    }
    Ok(Box::new(Intact { batches, bytes, path: path.to_string(), done: false }))
}

/// After the records of a compressed SequenceFile's range: the damage met decompressing it
/// (each with the offset where reading resumed), under the framing policy: the scan's error
/// under `fail`, else reported as a truncation of the bytes left out.
struct Damaged {
    damage: std::vec::IntoIter<(crate::problem::Problem, u64)>,
    report: ScanReport,
    opts: MsgpackReadOptions,
}

impl Iterator for Damaged {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        for (p, resume) in self.damage.by_ref() {
            let summary = format!("{p}; left out bytes {}..{resume}, up to the next sync marker", p.record_offset);
            let dropped = (p.record_offset, resume.max(p.record_offset));
            let policy = self.opts.error_policy();
            if let Err(e) = super::driver::framing_policy(&self.report, &policy, &p, false, summary, dropped) {
                self.damage = Vec::new().into_iter();
                return Some(Err(e));
            }
        }
        None
    }
}

/// A mapped file's batches, each checked against the file shrinking under its map
/// ([`FileBytes::check_intact`]) before it is handed on, and once more at the end: a batch
/// that read zeros where the file was cut becomes the error instead.
struct Intact<I> {
    batches: I,
    bytes: FileBytes,
    path: String,
    done: bool,
}

impl<I: Iterator<Item = Result<RecordBatch>>> Iterator for Intact<I> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let next = self.batches.next();
        if let Err(e) = self.bytes.check_intact(&self.path) {
            self.done = true;
            return Some(Err(e));
        }
        self.done = next.is_none();
        next
    }
}
