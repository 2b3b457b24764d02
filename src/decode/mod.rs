//! Decoding framed records into Arrow record batches. [`RecordDecoder`] is the decode plan: it
//! is built once per scan from the table schema and the projection, and then only follows it.
//! Each batch is decoded in one fast pass; if that pass meets a duplicate key or its bulk UTF-8
//! check fails, the same records are decoded again carefully (per-value UTF-8 checks, last
//! duplicate key wins), so the rare case costs time but never correctness.

pub mod bytes;
pub mod column;
pub mod list;
pub mod map;
pub mod primitive;
pub mod structs;
pub mod timestamp;
pub mod variant;

use crate::error::{Error, Result, hex_excerpt};
use crate::framing::{FrameError, FrameLimits, Layout, Record, describe};
use crate::infer::{Role, Roles};
use crate::options::{ErrorPolicy, MsgpackReadOptions, OnError};
use crate::problem::{Action, Kind, Problem};
use crate::report::{BatchStats, ScanReport};
use bytes::{BytesCol, BytesKind};
use column::{Column, RowCtx};
use datafusion::arrow::array::BooleanArray;
use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, TimestampNanosecondArray};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use mpq_wire::ext::time_to_nanos;
use mpq_wire::{Cursor, Head, WireResult};
use primitive::Prim;
use std::sync::Arc;
use structs::{ExtraPairs, StructCol};

pub use crate::options::MAX_BATCH_BYTES;

/// Decodes framed records of one table into batches of a projected schema.
#[derive(Debug)]
pub struct RecordDecoder {
    schema: SchemaRef,
    roles: Vec<Role>,
    record: StructCol,
    time: Prim<i64>,
    value: Column,
    extra: BytesCol,
    whole: BytesCol,
    tag: BytesCol,
    /// A SequenceFile's keys: Utf8 (checked) or Binary, as the `key` column's type says.
    key: BytesCol,
    metadata: BytesCol,
    corrupt: BytesCol,
    /// The tag of every record without its own (a buffer chunk's sidecar says it).
    file_tag: Option<Vec<u8>>,
    /// The roles the projected columns hold.
    present: Roles,
    wants_pairs: bool,
    max_depth: usize,
    report: ScanReport,
    policy: ErrorPolicy,
    /// Check what can hold a record error even when not projected (`drop` and `fail`).
    check_all: bool,
    path: String,
    /// The offset in the input of the buffer's first byte (a stream drops what it has read).
    base: u64,
    /// A second decoder over records another decoder has read (see [`RecordDecoder::late`]).
    late: bool,
}

impl RecordDecoder {
    /// A decoder for `file_schema` (as inference produced it) projected to `projection`
    /// (indices into it; `None` for all columns), with the nesting limit and error policies of
    /// `opts`, adding to `report`.
    pub fn new(
        file_schema: &Schema,
        projection: Option<&[usize]>,
        opts: &MsgpackReadOptions,
        report: &ScanReport,
    ) -> Result<Self> {
        let (max_depth, report) = (opts.max_depth, report.clone());
        let all: Vec<usize> = (0..file_schema.fields().len()).collect();
        let schema = Arc::new(file_schema.project(projection.unwrap_or(&all))?);
        // Every record key of the table is known, projected or not.
        let names: Vec<&str> =
            file_schema.fields().iter().filter(|f| Role::of(f) == Role::Key).map(|f| f.name().as_str()).collect();
        let mut slots = vec![None; names.len()];
        let mut children = Vec::new();
        let mut roles = Vec::new();
        let mut value = Column::Null(0);
        for f in schema.fields() {
            let r = Role::of(f);
            match r {
                Role::Key => {
                    let k = names.iter().position(|n| n == f.name()).unwrap_or(usize::MAX);
                    if let Some(s) = slots.get_mut(k) {
                        *s = Some(children.len());
                    }
                    children.push(Column::new(f));
                }
                Role::Value => value = Column::new(f),
                _ => {}
            }
            roles.push(r);
        }
        let present: Roles = roles.iter().copied().collect();
        let (names, slots) = if present.has(Role::Extra) {
            (names, slots)
        } else {
            // Without `_extra`, a known key that is not projected and an unknown key are both
            // skipped: only the projected keys need to be told apart, which makes the lookup
            // of every other key a few length comparisons.
            names.into_iter().zip(slots).filter(|(_, s)| s.is_some()).unzip()
        };
        Ok(RecordDecoder {
            schema,
            wants_pairs: present.has(Role::Key) || present.has(Role::Extra),
            roles,
            record: StructCol::with_slots(&names, slots, children),
            time: Prim::default(),
            value,
            extra: BytesCol::new(BytesKind::Variant),
            whole: BytesCol::new(BytesKind::Variant),
            tag: BytesCol::new(BytesKind::Utf8),
            key: BytesCol::new(key_kind(file_schema)),
            metadata: BytesCol::new(BytesKind::Variant),
            corrupt: BytesCol::new(BytesKind::Variant),
            file_tag: None,
            present,
            max_depth,
            report,
            policy: opts.error_policy(),
            check_all: opts.on_error != OnError::Null,
            base: 0,
            path: "<memory>".to_string(),
            late: false,
        })
    }

    /// Makes this a second decoder of records that another decoder of the same scan has
    /// already decoded (a filter's columns; see `datasource::filter`): that one counted the
    /// records and their bytes and applied the error policy to their problems, so this one
    /// reports only the pairs its `_extra` holds and the duplicate keys it met. Its batches
    /// have a row for every record it is given.
    pub fn late(mut self) -> Self {
        self.late = true;
        self
    }

    /// Takes the input's name, file tag and base offset from another decoder of the input.
    pub fn adopt_settings(&mut self, from: &RecordDecoder) {
        self.path.clone_from(&from.path);
        self.file_tag.clone_from(&from.file_tag);
        self.base = from.base;
    }

    /// Adds to `report` from now on.
    pub fn set_report(&mut self, report: &ScanReport) {
        self.report = report.clone();
    }

    /// The report this decoder adds to.
    pub fn report(&self) -> &ScanReport {
        &self.report
    }

    /// Names the input in error messages.
    pub fn set_path(&mut self, path: &str) {
        self.path = path.to_string();
    }

    /// Says where in the input the buffer [`RecordDecoder::decode`] is given starts, so the
    /// offsets of problems are the input's (a stream's buffer holds only its latest bytes).
    pub fn set_base(&mut self, base: u64) {
        self.base = base;
    }

    /// Gives every record without a tag of its own this tag (from a buffer chunk's sidecar).
    pub fn set_file_tag(&mut self, tag: Option<&str>) {
        self.file_tag = tag.map(|t| t.as_bytes().to_vec());
    }

    /// The projected output schema.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// Decodes `records` (framed from `buf` with `layout`; the first is record number
    /// `first_record`) into one batch.
    pub fn decode(&mut self, buf: &[u8], layout: Layout, records: &[Record], first_record: u64) -> Result<RecordBatch> {
        if let Some(batch) = self.decode_pass(buf, layout, records, first_record, false)? {
            return Ok(batch);
        }
        self.decode_pass(buf, layout, records, first_record, true)?
            .ok_or_else(|| Error::Internal(format!("{}: a careful pass could not build the batch", self.path)))
    }

    fn decode_pass(
        &mut self,
        buf: &[u8],
        layout: Layout,
        records: &[Record],
        first_record: u64,
        careful: bool,
    ) -> Result<Option<RecordBatch>> {
        let mut ctx = RowCtx { careful, depth_left: self.max_depth, ..Default::default() };
        let mut pairs = ExtraPairs::new();
        let mut stats = BatchStats::default();
        for (i, rec) in records.iter().enumerate() {
            let number = first_record.saturating_add(i as u64);
            pairs.clear();
            stats.row = i;
            let row = self.decode_row(buf, layout, rec, number, &mut ctx, &mut pairs, &mut stats);
            if let Err(e) = row {
                self.finish(0);
                let mut p = FrameError::wire(number, rec.start, e).problem(&self.path, buf);
                p.record_offset += self.base;
                p.offset += self.base;
                return Err(p.error());
            }
            if ctx.needs_careful {
                self.finish(0);
                return Ok(None);
            }
            self.push_corrupt(buf, rec, &stats, i);
        }
        match self.finish(records.len()) {
            Some(batch) => {
                stats.duplicate_keys = ctx.duplicate_keys;
                if self.late {
                    stats.problems.clear();
                    self.report.add_batch(0, 0, &stats);
                    return Ok(Some(batch?));
                }
                let bytes = records.iter().map(|r| (r.end - r.start) as u64).sum();
                self.report.add_batch(records.len(), bytes, &stats);
                Ok(Some(self.settle(batch?, &stats)?))
            }
            None => Ok(None),
        }
    }

    /// `_corrupt_record` of row `i`: its raw bytes if it had a record error, else NULL.
    fn push_corrupt(&mut self, buf: &[u8], rec: &Record, stats: &BatchStats, i: usize) {
        if !self.present.has(Role::Corrupt) {
            return;
        }
        if stats.problems.last().is_some_and(|(row, _)| *row == i) {
            self.corrupt.push_bytes(&buf[rec.start..rec.end]);
        } else {
            self.corrupt.push_null();
        }
    }

    /// Applies `--on-error` to a decoded batch's record problems: each is reported (and
    /// counted against `--max-errors`); under `fail` the first is the error, under `drop`
    /// the rows that had one are left out.
    fn settle(&self, batch: RecordBatch, stats: &BatchStats) -> Result<RecordBatch> {
        if stats.problems.is_empty() {
            return Ok(batch);
        }
        let action = match self.policy.on_error {
            OnError::Fail => Action::Failed,
            OnError::Null => Action::Nulled,
            OnError::Drop => Action::Dropped,
        };
        for (_, p) in &stats.problems {
            if action == Action::Failed {
                return Err(self.report.failed(p));
            }
            self.report.problem(p, action, None, self.policy.max_errors)?;
        }
        if action != Action::Dropped {
            return Ok(batch);
        }
        let mut keep = vec![true; batch.num_rows()];
        for (row, _) in &stats.problems {
            keep[*row] = false;
        }
        let kept = filter_record_batch(&batch, &BooleanArray::from(keep))?;
        Ok(kept)
    }

    #[allow(clippy::too_many_arguments)]
    fn decode_row(
        &mut self,
        buf: &[u8],
        layout: Layout,
        rec: &Record,
        number: u64,
        ctx: &mut RowCtx,
        pairs: &mut ExtraPairs,
        stats: &mut BatchStats,
    ) -> WireResult<usize> {
        // Under `drop` and `fail` the time and the tag are checked even when not projected,
        // so which records a query keeps does not depend on the columns it reads.
        if self.present.has(Role::EventTime) || self.check_all {
            let time = rec.time.map(|p| event_time(buf, p));
            if self.present.has(Role::EventTime) {
                self.time.push(time.as_ref().and_then(|t| t.as_ref().ok()).copied());
            }
            if let Some(Err(msg)) = time {
                let at = rec.time.unwrap_or(rec.start);
                stats.problem(self.problem(buf, rec, number, at, Kind::BadTime, msg));
            }
        }
        if self.present.has(Role::Tag) || self.check_all {
            self.push_tag(buf, rec, number, ctx.careful || !self.present.has(Role::Tag), stats);
        }
        if self.present.has(Role::RowKey) || self.check_all {
            self.push_key(buf, rec, number, stats);
        }
        if self.present.has(Role::Metadata) {
            match rec.meta {
                Some(p) => self.metadata.push_bytes(Cursor::at(buf, p).value_bytes(self.max_depth)?),
                None => self.metadata.push_null(),
            }
        }
        let mut cur = Cursor::at(buf, rec.body);
        if layout == Layout::Values {
            self.record.push_null();
            if !self.present.has(Role::Value) {
                // `value` not projected: nothing to decode.
                self.value.push_null();
            } else {
                ctx.spilled = false;
                ctx.depth_left = self.max_depth;
                self.value.push(&mut cur, ctx)?;
            }
            if self.present.has(Role::Value) && ctx.spilled {
                stats.value_spills += 1;
                pairs.push((usize::MAX, rec.body));
            }
        } else {
            self.value.push_null();
            let at = cur.pos();
            match cur.read_head()? {
                Head::Map(n) if self.wants_pairs => {
                    // What the map holds nests one level below it, and the map of an event
                    // one below the event's array (as framing counts).
                    let levels = if matches!(layout, Layout::Records | Layout::SeqFile) { 1 } else { 2 };
                    ctx.depth_left = self.max_depth.checked_sub(levels).ok_or(mpq_wire::WireError {
                        offset: at,
                        kind: mpq_wire::WireErrorKind::TooDeep { limit: self.max_depth },
                    })?;
                    let extra = if self.present.has(Role::Extra) { Some(&mut *pairs) } else { None };
                    self.record.push_pairs(&mut cur, n, ctx, extra)?;
                }
                Head::Map(_) => self.record.push_null(),
                head => {
                    self.record.push_null();
                    let msg = format!("expected a map, found {}", describe(head));
                    stats.problem(self.problem(buf, rec, number, at, Kind::NotAMap, msg));
                }
            }
        }
        if self.present.has(Role::Extra) {
            self.push_extra(buf, rec, pairs, stats)?;
        }
        if self.present.has(Role::Record) {
            self.whole.push_bytes(&buf[rec.body..rec.end]);
        }
        Ok(cur.pos())
    }

    /// True when no column needs the records' bytes (the `count(*)` projection): rows are
    /// only counted ([`RecordDecoder::rows_only`]).
    pub fn reads_nothing(&self) -> bool {
        self.schema.fields().is_empty()
    }

    /// A batch of `rows` rows and no columns, for records counted elsewhere (spanning
    /// `bytes` bytes).
    pub fn rows_only(&mut self, rows: usize, bytes: u64) -> Result<RecordBatch> {
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let batch = RecordBatch::try_new_with_options(self.schema(), vec![], &options)?;
        self.report.add_batch(rows, bytes, &BatchStats::default());
        Ok(batch)
    }

    /// Whether [`RecordDecoder::decode_unframed`] can frame records of `layout`: decoding
    /// walks a record to its end only when it reads the record's pairs, and `_record` needs
    /// the end before.
    pub fn frames_while_decoding(&self, layout: Layout) -> bool {
        matches!(layout, Layout::Records | Layout::Events) && self.wants_pairs && !self.present.has(Role::Record)
    }

    /// Decodes up to `want` records that start in `from..stop` without framing them first:
    /// the decoding walk of a record *is* its framing, so each record is walked once rather
    /// than twice. Every read is checked, the nesting is counted as framing counts it, and
    /// the size limit is applied, so a record decoded here is one framing accepts. Anything
    /// unusual (a record that does not decode, is not a map, is too large, a duplicate key,
    /// invalid UTF-8) gives `None`, with nothing kept: the caller then frames and decodes
    /// the same records the classic way, which handles and reports each case. On success,
    /// `records` holds the records decoded.
    #[allow(clippy::too_many_arguments)]
    pub fn decode_unframed(
        &mut self,
        buf: &[u8],
        layout: Layout,
        (from, stop): (usize, usize),
        (want, max_bytes): (usize, usize),
        limits: FrameLimits,
        first_record: u64,
        records: &mut Vec<Record>,
    ) -> Option<RecordBatch> {
        records.clear();
        let mut ctx = RowCtx { careful: false, depth_left: self.max_depth, ..Default::default() };
        let mut pairs = ExtraPairs::new();
        let mut stats = BatchStats::default();
        let mut pos = from;
        let mut ok = true;
        while ok && records.len() < want && pos < stop.min(buf.len()) {
            let number = first_record.saturating_add(records.len() as u64);
            pairs.clear();
            stats.row = records.len();
            match self.frame_by_decoding(buf, layout, pos, limits, number, &mut ctx, &mut pairs, &mut stats) {
                Some(rec) if !ctx.needs_careful && stats.problems.is_empty() => {
                    self.push_corrupt(buf, &rec, &stats, records.len());
                    pos = rec.end;
                    records.push(rec);
                    if rec.end - records[0].start >= max_bytes {
                        break;
                    }
                }
                _ => ok = false,
            }
        }
        let batch = self.finish(if ok { records.len() } else { 0 });
        match batch {
            Some(Ok(batch)) if ok && !records.is_empty() => {
                stats.duplicate_keys = ctx.duplicate_keys;
                let bytes = (pos - from) as u64;
                self.report.add_batch(records.len(), bytes, &stats);
                Some(batch)
            }
            _ => None,
        }
    }

    /// Decodes the record at `start` and returns it framed, or `None` (see
    /// [`RecordDecoder::decode_unframed`]).
    #[allow(clippy::too_many_arguments)]
    fn frame_by_decoding(
        &mut self,
        buf: &[u8],
        layout: Layout,
        start: usize,
        limits: FrameLimits,
        number: u64,
        ctx: &mut RowCtx,
        pairs: &mut ExtraPairs,
        stats: &mut BatchStats,
    ) -> Option<Record> {
        let mut cur = Cursor::at(buf, start);
        let time = match layout {
            Layout::Records => None,
            Layout::Events => {
                if cur.read_head().ok()? != Head::Array(2) {
                    return None;
                }
                let t = cur.pos();
                cur.skip_value(limits.max_depth).ok()?;
                Some(t)
            }
            Layout::Values | Layout::FluentBit | Layout::Forward | Layout::SeqFile => return None,
        };
        let body = cur.pos();
        if !buf.get(body).is_some_and(|&b| mpq_wire::marker::is_map(b)) {
            return None;
        }
        let rec = Record { start, end: usize::MAX, body, time, ..Record::default() };
        let end = self.decode_row(buf, layout, &rec, number, ctx, pairs, stats).ok()?;
        (end - start <= limits.max_record_bytes).then_some(Record { end, ..rec })
    }

    /// The record's tag: its own (forward layout), else the file's, else NULL; only checked
    /// when the tag column is not projected.
    fn push_tag(&mut self, buf: &[u8], rec: &Record, number: u64, careful: bool, stats: &mut BatchStats) {
        let push = self.present.has(Role::Tag);
        let Some(p) = rec.tag else {
            match &self.file_tag {
                Some(t) if push => self.tag.push_bytes(t),
                _ if push => self.tag.push_null(),
                _ => {}
            }
            return;
        };
        match Cursor::at(buf, p).read_str_bytes() {
            Ok(Some(t)) if !careful || simdutf8::basic::from_utf8(t).is_ok() => {
                if push {
                    self.tag.push_bytes(t);
                }
            }
            found => {
                if push {
                    self.tag.push_null();
                }
                let found = match found {
                    Ok(Some(_)) => "a str that is not valid UTF-8".to_string(),
                    _ => Cursor::at(buf, p).read_head().map_or_else(|e| e.to_string(), describe),
                };
                let msg = format!("expected a UTF-8 str tag, found {found}");
                stats.problem(self.problem(buf, rec, number, p, Kind::BadTag, msg));
            }
        }
    }

    /// The record's SequenceFile key (NULL in other layouts); a `Text` key that is not UTF-8
    /// is a record error.
    fn push_key(&mut self, buf: &[u8], rec: &Record, number: u64, stats: &mut BatchStats) {
        let push = self.present.has(Role::RowKey);
        let Some((from, to)) = rec.key else {
            if push {
                self.key.push_null();
            }
            return;
        };
        let bytes = &buf[from..to];
        if self.key.kind() == BytesKind::Binary || simdutf8::basic::from_utf8(bytes).is_ok() {
            if push {
                self.key.push_bytes(bytes);
            }
            return;
        }
        if push {
            self.key.push_null();
        }
        let msg = "expected a UTF-8 Text key, found bytes that are not UTF-8".to_string();
        stats.problem(self.problem(buf, rec, number, from, Kind::BadKey, msg));
    }

    /// A record problem at byte `at` of record `number`.
    fn problem(&self, buf: &[u8], rec: &Record, number: u64, at: usize, kind: Kind, message: String) -> Problem {
        Problem {
            path: self.path.clone(),
            record: number,
            record_offset: self.base + rec.start as u64,
            offset: self.base + at as u64,
            kind,
            message,
            hex: hex_excerpt(buf, at),
        }
    }

    fn push_extra(&mut self, buf: &[u8], rec: &Record, pairs: &ExtraPairs, stats: &mut BatchStats) -> WireResult<()> {
        if pairs.is_empty() {
            self.extra.push_null();
            return Ok(());
        }
        let out = self.extra.data_mut();
        write_map_header(out, pairs.len() as u32);
        for &(from, to) in pairs {
            if from == usize::MAX {
                // A top-level value that did not fit `value`: kept under the key "value".
                out.extend_from_slice(b"\xa5value");
                out.extend_from_slice(&buf[rec.body..rec.end]);
                continue;
            }
            out.extend_from_slice(&buf[from..to]);
            let mut c = Cursor::at(buf, from);
            match c.read_str_bytes()? {
                Some(k) => stats.extra_key(k),
                None => stats.extra_key(b"<non-string key>"),
            }
        }
        self.extra.end_value();
        Ok(())
    }

    /// Builds the batch of the rows decoded so far and resets; `None` if a bulk UTF-8 check
    /// failed.
    fn finish(&mut self, rows: usize) -> Option<Result<RecordBatch>> {
        let fields = self.schema.fields().clone();
        let record_fields =
            self.roles.iter().zip(fields.iter()).filter(|(r, _)| **r == Role::Key).map(|(_, f)| f.as_ref());
        let children = self.record.finish_children(record_fields);
        let time: ArrayRef =
            Arc::new(TimestampNanosecondArray::new(self.time.values(), self.time.nulls()).with_timezone("UTC"));
        let value_field = self.roles.iter().position(|r| *r == Role::Value).map(|i| Arc::clone(&fields[i]));
        let value = value_field.map(|f| self.value.finish(&f));
        let extra = self.extra.finish();
        let whole = self.whole.finish();
        let tag = self.tag.finish();
        let key = self.key.finish();
        let metadata = self.metadata.finish();
        let corrupt = self.corrupt.finish();
        let mut children = children?.into_iter();
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.roles.len());
        for r in &self.roles {
            columns.push(match r {
                Role::Key => children.next()?,
                Role::EventTime => Arc::clone(&time),
                Role::Value => value.clone()??,
                Role::Extra => extra.clone()?,
                Role::Record => whole.clone()?,
                Role::Tag => tag.clone()?,
                Role::RowKey => key.clone()?,
                Role::Metadata => metadata.clone()?,
                Role::Corrupt => corrupt.clone()?,
            });
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Some(RecordBatch::try_new_with_options(self.schema(), columns, &options).map_err(Error::from))
    }
}

use mpq_wire::write::write_map_header;

/// How the `key` column of `schema` is built: Binary when it is Binary, else checked UTF-8.
fn key_kind(schema: &Schema) -> BytesKind {
    match schema.fields().iter().find(|f| Role::of(f) == Role::RowKey).map(|f| f.data_type()) {
        Some(DataType::Binary) => BytesKind::Binary,
        _ => BytesKind::Utf8,
    }
}

/// Decodes an event time: EventTime (ext 0), timestamp (ext -1), integer or float seconds.
fn event_time(buf: &[u8], pos: usize) -> std::result::Result<i64, String> {
    let mut cur = Cursor::at(buf, pos);
    let head = cur.read_head().map_err(|e| e.to_string())?;
    let payload = cur.payload_of(head).map_err(|e| e.to_string())?;
    match time_to_nanos(head, payload) {
        Some(nanos) => nanos.map_err(|e| format!("bad event time: {e}")),
        None => {
            Err(format!("expected an event time (EventTime, timestamp, integer or float), found {}", describe(head)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::Framer;
    use crate::variant::variant_field;
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::arrow::datatypes::{DataType, Fields, Int64Type, TimeUnit, UInt64Type};

    /// Decodes hand-built records against a hand-built schema.
    fn decode(schema: Schema, bytes: &[u8]) -> RecordBatch {
        let limits = crate::framing::FrameLimits { max_depth: 16, max_record_bytes: 1 << 20 };
        let records: Vec<Record> =
            Framer::new(bytes, 0, Layout::Records, limits, 0).collect::<std::result::Result<_, _>>().expect("framing");
        let opts = MsgpackReadOptions::default().max_depth(16);
        let mut d = RecordDecoder::new(&schema, None, &opts, &ScanReport::new()).expect("plan");
        d.decode(bytes, Layout::Records, &records, 0).expect("decode")
    }

    fn one(key: &str, value: &[u8]) -> Vec<u8> {
        let mut v = vec![0x81, 0xa0 | key.len() as u8];
        v.extend_from_slice(key.as_bytes());
        v.extend_from_slice(value);
        v
    }

    #[test]
    fn each_column_family_from_hand_built_bytes() {
        let ts = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
        let schema = Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("u", DataType::UInt64, true),
            Field::new("f", DataType::Float64, true),
            Field::new("b", DataType::Boolean, true),
            Field::new("s", DataType::Utf8, true),
            Field::new("x", DataType::Binary, true),
            Field::new("t", ts, true),
            Field::new("l", DataType::List(Arc::new(Field::new("item", DataType::Int64, true))), true),
            Field::new("m", DataType::Struct(Fields::from(vec![Field::new("a", DataType::Int64, true)])), true),
            variant_field("v"),
        ]);
        let mut bytes = Vec::new();
        bytes.extend(one("i", &[0xd0, 0x85]));
        bytes.extend(one("u", &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
        bytes.extend(one("f", &[0xca, 0x3f, 0xc0, 0, 0]));
        bytes.extend(one("f", &[0x07])); // an int in a Float64 column
        bytes.extend(one("b", &[0xc3]));
        bytes.extend(one("s", &[0xd9, 2, b'h', b'i']));
        bytes.extend(one("x", &[0xa1, b'z'])); // str in a Binary column
        bytes.extend(one("t", &[0xd7, 0x00, 0, 0, 0, 2, 0, 0, 0, 3])); // EventTime
        bytes.extend(one("l", &[0x93, 0x01, 0xc0, 0x03]));
        bytes.extend(one("m", &[0x81, 0xa1, b'a', 0x09]));
        bytes.extend(one("v", &[0x92, 0x01, 0xa1, b'q']));
        bytes.extend(one("i", &[0xc0])); // nil is NULL
        let b = decode(schema, &bytes);
        assert_eq!(b.num_rows(), 12);
        assert_eq!(b.column(0).as_primitive::<Int64Type>().value(0), -123);
        assert_eq!(b.column(1).as_primitive::<UInt64Type>().value(1), u64::MAX);
        let f = b.column(2).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
        assert_eq!((f.value(2), f.value(3)), (1.5, 7.0));
        assert!(b.column(3).as_boolean().value(4));
        assert_eq!(b.column(4).as_string::<i32>().value(5), "hi");
        assert_eq!(b.column(5).as_binary::<i32>().value(6), b"z");
        let t = b.column(6).as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>();
        assert_eq!(t.value(7), 2_000_000_003);
        let l = b.column(7).as_list::<i32>().value(8);
        assert_eq!(l.as_primitive::<Int64Type>().iter().collect::<Vec<_>>(), [Some(1), None, Some(3)]);
        assert_eq!(b.column(8).as_struct().column(0).as_primitive::<Int64Type>().value(9), 9);
        assert_eq!(b.column(9).as_binary::<i32>().value(10), [0x92, 0x01, 0xa1, b'q']);
        assert!(b.column(0).is_null(11));
        assert!(b.column(8).is_null(0), "a missing struct is NULL, not a struct of NULLs");
    }

    #[test]
    fn misfits_are_null_and_marked() {
        let schema =
            Schema::new(vec![Field::new("i", DataType::Int64, true), variant_field(crate::infer::EXTRA_COLUMN)]);
        let extra = Role::Extra.mark(schema.fields()[1].as_ref().clone());
        let schema = Schema::new(vec![schema.fields()[0].as_ref().clone(), extra]);
        let mut bytes = one("i", &[0xa1, b'x']);
        bytes.extend(one("i", &[0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0]));
        let b = decode(schema, &bytes);
        assert!(b.column(0).is_null(0) && b.column(0).is_null(1));
        let extra = b.column(1).as_binary::<i32>();
        assert_eq!(extra.value(0), [0x81, 0xa1, b'i', 0xa1, b'x']);
        assert_eq!(extra.value(1)[..3], [0x81, 0xa1, b'i']);
    }
}
