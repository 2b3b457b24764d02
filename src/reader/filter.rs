//! Filters evaluated inside the scan, with late decoding of the other columns.
//!
//! DataFusion offers a scan the filters above it; [`crate::datasource::MsgpackSource`] takes
//! those over file columns (not dynamic filters) and hands them to the reader here. A scan with a filter decodes each batch's filter
//! columns first, evaluates the filter, and decodes the rest of the projection only for the
//! records that passed, straight from their bytes: `SELECT * ... WHERE level = 'error'`
//! builds strings, lists and structs for the errors alone.
//!
//! When more than half of a batch passes, decoding most records twice costs more than
//! decoding every column once, so the scan switches to that (the filter then only drops
//! rows) and back when fewer than a third pass.
//!
//! Late columns are record keys, `value`, `_extra`, `_record` and `_corrupt_record`, and only
//! under `--on-error null` or `fail`: there every record keeps its row, so a batch's rows are
//! its records. The first decoder's report is the scan's: it counts the records and reports
//! their problems (the late decoder meets no others: the same records, and no event time or
//! tag). The late decoder reports the pairs its `_extra` holds, so with a filter the summary
//! counts those of the rows that passed, and the duplicate keys it meets (with `_extra` it
//! decodes the filter's keys again, so a duplicate among those in a row that passed is
//! counted twice). Otherwise (under `drop`, or reading a stream) the projection is decoded
//! with the filter's columns and the filter only drops rows.
//!
//! A LIMIT applies to the rows that pass, so the scan counts them itself.

use super::SliceBatches;
use crate::decode::RecordDecoder;
use crate::error::{Error, Result};
use crate::framing::{Layout, Record};
use crate::infer::Role;
use crate::options::{MsgpackReadOptions, OnError};
use crate::report::ScanReport;
use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::compute::{filter_record_batch, prep_null_mask_filter};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::physical_expr::DynamicFilterTracking;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::PhysicalExpr;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The columns (indices into the table schema) an expression reads.
fn columns(expr: &Arc<dyn PhysicalExpr>) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    // Infallible: the closure never fails.
    let _ = expr.apply(|e| {
        if let Some(c) = e.downcast_ref::<Column>() {
            out.insert(c.index());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    out
}

/// Whether the scan can take `filter` over: it reads file columns only (partition values are
/// not decoded) and is not a dynamic filter (those change as a query runs; DataFusion
/// applies them itself).
pub fn pushable(filter: &Arc<dyn PhysicalExpr>, file_columns: usize) -> bool {
    !DynamicFilterTracking::classify(filter).contains_dynamic_filter()
        && columns(filter).iter().all(|&i| i < file_columns)
}

/// `expr` reading column `indices[k]` as column `k`.
fn remap(expr: &Arc<dyn PhysicalExpr>, indices: &[usize]) -> Result<Arc<dyn PhysicalExpr>> {
    let remapped = Arc::clone(expr).transform(|e| {
        let Some(c) = e.downcast_ref::<Column>() else {
            return Ok(Transformed::no(e));
        };
        let k = indices.iter().position(|&i| i == c.index()).ok_or_else(|| {
            datafusion::error::DataFusionError::Internal(format!("filter column {} is not decoded", c.name()))
        })?;
        Ok(Transformed::yes(Arc::new(Column::new(c.name(), k)) as Arc<dyn PhysicalExpr>))
    })?;
    Ok(remapped.data)
}

/// Where each output column comes from: the first decoder's batch or the late one's.
#[derive(Debug, Clone, Copy)]
enum Origin {
    First(usize),
    Late(usize),
}

/// One way to decode and filter a batch: some columns first, the filter over them, the rest
/// (if any) late.
struct Split {
    /// Columns the scan's decoder reads for every record.
    first: Vec<usize>,
    /// Columns decoded only for records that passed.
    late: Vec<usize>,
    /// The filter over the first decoder's batch.
    predicate: Arc<dyn PhysicalExpr>,
    output: Vec<Origin>,
}

impl Split {
    fn new(first: Vec<usize>, late: Vec<usize>, projection: &[usize], filter: &Arc<dyn PhysicalExpr>) -> Result<Self> {
        let output = projection
            .iter()
            .map(|i| match late.iter().position(|l| l == i) {
                Some(k) => Origin::Late(k),
                None => Origin::First(first.iter().position(|f| f == i).unwrap_or(0)),
            })
            .collect();
        Ok(Split { predicate: remap(filter, &first)?, first, late, output })
    }
}

/// Above this share of a batch passing, decoding every column of every record costs less
/// than decoding the filter's columns and then most records again: the scan switches to
/// that, and back below [`BACK_TO_LATE`].
const WHOLE_ABOVE: f64 = 0.5;
/// See [`WHOLE_ABOVE`].
const BACK_TO_LATE: f64 = 0.35;

/// A scan's filter and the ways it can decode around it.
pub struct ScanFilter {
    /// Every column decoded first, the filter dropping rows.
    whole: Split,
    /// The filter's columns first and the rest late, when that is allowed.
    late: Option<Split>,
    schema: SchemaRef,
    /// Rows still to return (a limit applies to the rows that pass).
    remaining: Option<usize>,
}

impl ScanFilter {
    /// Splits `projection` (indices into `schema`, the decoded file schema) around `filter`;
    /// late decoding only when `late` allows it (a mapped or in-memory input) and the options
    /// do (see the module docs).
    pub fn new(
        schema: &SchemaRef,
        projection: &[usize],
        filter: &Arc<dyn PhysicalExpr>,
        opts: &MsgpackReadOptions,
        late: bool,
        limit: Option<usize>,
    ) -> Result<Self> {
        let role = |i: usize| Role::of(schema.field(i));
        let filter_columns = columns(filter);
        let rest: BTreeSet<usize> = projection.iter().copied().filter(|i| !filter_columns.contains(i)).collect();
        let whole = Split::new(filter_columns.union(&rest).copied().collect(), Vec::new(), projection, filter)?;
        // Record keys, the value of the values layout, and what comes from the record's bytes
        // alone; not the event time or tag, whose problems the first decoder would not see.
        let late_roles = rest.iter().all(|&i| role(i).from_record_bytes());
        // The first decoder must read some column: with none it counts records without
        // listing them, and the late one needs the list.
        let late =
            late && late_roles && opts.on_error != OnError::Drop && !rest.is_empty() && !filter_columns.is_empty();
        let late = match late {
            false => None,
            true => {
                let mut late_columns = rest.clone();
                if rest.iter().any(|&i| role(i) == Role::Extra) {
                    // `_extra` holds the pairs (and values) that did not fit, so the late
                    // decoder decodes the filter's keys (or value) again to see which do not.
                    let fitting = |&i: &usize| matches!(role(i), Role::Key | Role::Value);
                    late_columns.extend(filter_columns.iter().copied().filter(fitting));
                }
                let first = filter_columns.into_iter().collect();
                Some(Split::new(first, late_columns.into_iter().collect(), projection, filter)?)
            }
        };
        Ok(ScanFilter { whole, late, schema: Arc::new(schema.project(projection)?), remaining: limit })
    }

    /// The columns the scan decodes first, as it starts (late decoding when it can).
    pub fn first(&self) -> &[usize] {
        &self.late.as_ref().unwrap_or(&self.whole).first
    }

    /// The other way's first decoder and the late decoder, when decoding late is allowed
    /// (each [`RecordDecoder::late`] decoder counts nothing the first decoder counts).
    fn decoders(
        &self,
        schema: &Schema,
        opts: &MsgpackReadOptions,
        report: &ScanReport,
    ) -> Result<Option<(RecordDecoder, RecordDecoder)>> {
        let Some(late) = &self.late else {
            return Ok(None);
        };
        let whole = RecordDecoder::new(schema, Some(&self.whole.first), opts, report)?;
        Ok(Some((whole, RecordDecoder::new(schema, Some(&late.late), opts, report)?.late())))
    }

    /// The output batch: the projection of the rows of `first` that pass, with the late
    /// columns (when `late` is given) decoded from `records` (the records `first` was
    /// decoded from, one per row). Also the share of rows that passed.
    fn apply(
        &mut self,
        first: RecordBatch,
        late: Option<(&mut RecordDecoder, &[u8], Layout, &[Record])>,
    ) -> Result<(RecordBatch, f64)> {
        let split = match (&late, &self.late) {
            (Some(_), Some(s)) => s,
            _ => &self.whole,
        };
        let value = split.predicate.evaluate(&first)?.into_array(first.num_rows())?;
        let mask = value
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| Error::Internal(format!("a filter gave {} rather than booleans", value.data_type())))?;
        let mask = if mask.null_count() > 0 { prep_null_mask_filter(mask) } else { mask.clone() };
        let share = mask.true_count() as f64 / first.num_rows().max(1) as f64;
        let mut passed = filter_record_batch(&first, &mask)?;
        if let Some(r) = self.remaining.as_mut() {
            passed = passed.slice(0, passed.num_rows().min(*r));
            *r -= passed.num_rows();
        }
        if passed.num_rows() == 0 {
            return Ok((RecordBatch::new_empty(Arc::clone(&self.schema)), share));
        }
        let late_batch = match late {
            Some((decoder, buf, layout, records)) => {
                if records.len() != first.num_rows() {
                    return Err(Error::Internal(format!(
                        "{} records for a batch of {} rows",
                        records.len(),
                        first.num_rows()
                    )));
                }
                let chosen: Vec<Record> = records
                    .iter()
                    .zip(mask.values())
                    .filter(|(_, m)| *m)
                    .map(|(r, _)| *r)
                    .take(passed.num_rows())
                    .collect();
                Some(decoder.decode(buf, layout, &chosen, 0)?)
            }
            None => None,
        };
        let columns = split
            .output
            .iter()
            .map(|from| match (from, &late_batch) {
                (Origin::First(k), _) => Ok(Arc::clone(passed.column(*k))),
                (Origin::Late(k), Some(b)) => Ok(Arc::clone(b.column(*k))),
                (Origin::Late(_), None) => Err(Error::Internal("no late decoder".into())),
            })
            .collect::<Result<Vec<ArrayRef>>>()?;
        let options = RecordBatchOptions::new().with_row_count(Some(passed.num_rows()));
        Ok((RecordBatch::try_new_with_options(Arc::clone(&self.schema), columns, &options)?, share))
    }

    /// True once a limit is reached.
    fn full(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// A mapped or in-memory input's batches, filtered in the scan (see the module docs).
pub struct FilteredSlice<B> {
    inner: SliceBatches<B>,
    filter: ScanFilter,
    /// With late decoding allowed: the late decoder, and the first decoder of the way not in
    /// use (swapped with the scan's as the share that passes moves).
    decoders: Option<(RecordDecoder, RecordDecoder)>,
    /// Decoding late now (else every column first).
    decoding_late: bool,
    done: bool,
}

impl<B: AsRef<[u8]>> FilteredSlice<B> {
    /// Filters `inner`, which decodes [`ScanFilter::first`] of `schema`.
    pub fn new(inner: SliceBatches<B>, filter: ScanFilter, schema: &Schema, opts: &MsgpackReadOptions) -> Result<Self> {
        let mut decoders = filter.decoders(schema, opts, inner.report())?;
        if let Some((_, late)) = &mut decoders {
            inner.share_settings(late);
        }
        Ok(FilteredSlice { inner, filter, decoding_late: decoders.is_some(), decoders, done: false })
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>> {
        loop {
            if self.done || self.filter.full() {
                return Ok(None);
            }
            let Some(first) = self.inner.next().transpose()? else {
                return Ok(None);
            };
            let late = match (&mut self.decoders, self.decoding_late) {
                (Some((_, late)), true) => {
                    Some((late, self.inner.bytes(), self.inner.layout(), self.inner.batch_records()))
                }
                _ => None,
            };
            let (batch, share) = self.filter.apply(first, late)?;
            if let Some((spare, _)) = &mut self.decoders
                && (self.decoding_late && share > WHOLE_ABOVE || !self.decoding_late && share < BACK_TO_LATE)
            {
                self.inner.swap_decoder(spare);
                self.decoding_late = !self.decoding_late;
            }
            if batch.num_rows() > 0 {
                return Ok(Some(batch));
            }
        }
    }
}

impl<B: AsRef<[u8]>> Iterator for FilteredSlice<B> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = self.next_batch();
        if next.is_err() {
            self.done = true;
        }
        next.transpose()
    }
}

/// A stream's batches (decoded with the projection), filtered.
pub struct FilteredStream<I> {
    inner: I,
    filter: ScanFilter,
}

impl<I> FilteredStream<I> {
    /// Filters `inner`, whose batches hold [`ScanFilter::first`].
    pub fn new(inner: I, filter: ScanFilter) -> Self {
        FilteredStream { inner, filter }
    }
}

impl<I: Iterator<Item = Result<RecordBatch>>> Iterator for FilteredStream<I> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.filter.full() {
                return None;
            }
            let batch = match self.inner.next()? {
                Ok(b) => self.filter.apply(b, None).map(|(b, _)| b),
                Err(e) => Err(e),
            };
            match batch {
                Ok(b) if b.num_rows() == 0 => continue,
                other => return Some(other),
            }
        }
    }
}
