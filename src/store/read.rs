//! Reading a cache entry as the scan of its source would have produced it: the projected
//! columns (struct columns pruned as the scan prunes them), the pushed filter applied while
//! reading (its columns first, the others only for the rows that pass), the limit, and the
//! source's summary replayed into the report.

use super::Meta;
use crate::error::{Error, Result};
use crate::infer::Role;
use crate::report::ScanReport;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, RecordBatchOptions, StructArray};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{ArrowPredicateFn, ParquetRecordBatchReaderBuilder, RowFilter};
use datafusion::parquet::schema::types::SchemaDescriptor;
use datafusion::physical_expr::utils::{collect_columns, reassign_expr_columns};
use datafusion::physical_plan::PhysicalExpr;
use std::collections::BTreeMap;
use std::fs::File;
use std::sync::Arc;

/// Batches of one cached file, lazily (as [`crate::reader::scan::scan_input`] gives them).
pub(crate) type Batches = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// An entry's data with its footer read and its schema checked against the table's.
pub(crate) struct Opened {
    builder: ParquetRecordBatchReaderBuilder<File>,
}

impl Opened {
    /// Reads the footer of `data`; an error when it is damaged or holds another schema than
    /// `schema`.
    pub fn new(data: File, schema: &SchemaRef) -> Result<Opened> {
        let builder = ParquetRecordBatchReaderBuilder::try_new(data).map_err(|e| Error::Output(e.to_string()))?;
        if builder.schema().fields() != schema.fields() {
            return Err(Error::Output("it holds another schema".to_string()));
        }
        Ok(Opened { builder })
    }
}

/// What a scan of a cached file reads (as [`crate::reader::scan::ScanRequest`] says it for
/// the source).
pub(crate) struct HitRequest<'a> {
    /// The table's file schema (what the entry holds).
    pub full: &'a SchemaRef,
    /// `full` with struct columns pruned to the fields the scan reads.
    pub decoded: &'a SchemaRef,
    /// The columns wanted (indices into `full`).
    pub projection: &'a [usize],
    /// A filter over `full`'s columns.
    pub filter: Option<&'a Arc<dyn PhysicalExpr>>,
    /// Rows wanted at most.
    pub limit: Option<usize>,
    /// Rows per batch.
    pub batch_size: usize,
    /// The byte range of the source this scan reads (`None`: all of it), and the source's size.
    pub range: (Option<std::ops::Range<u64>>, u64),
}

/// The batches of a cached file (of the row groups, across its parts, that stand for the
/// byte range asked for), their share of the file's summary added to `report`.
pub(crate) fn scan_hit(parts: Vec<Opened>, meta: &Meta, req: HitRequest<'_>, report: &ScanReport) -> Result<Batches> {
    let HitRequest { full, decoded, projection, filter, limit, batch_size, range } = req;
    let first = range.0.as_ref().is_none_or(|r| r.start == 0);
    // Every row group of every part, in order: (part, group) and its rows.
    let (mut index, mut rows) = (Vec::new(), Vec::new());
    for (p, o) in parts.iter().enumerate() {
        for (g, rg) in o.builder.metadata().row_groups().iter().enumerate() {
            index.push((p, g));
            rows.push(rg.num_rows().max(0) as u64);
        }
    }
    let (picked, records, bytes) = row_groups(&rows, meta.bytes(), range);
    report.add_cached(records, bytes, first);
    let extra = full.fields().iter().position(|f| Role::of(f) == Role::Extra);
    let filter_cols: Vec<usize> = match filter {
        Some(f) => {
            let mut c: Vec<usize> = collect_columns(f).iter().map(|c| c.index()).collect();
            c.sort_unstable();
            c.dedup();
            c
        }
        None => Vec::new(),
    };
    // A scan counts the pairs of `_extra` where it decodes `_extra`: for every record when the
    // filter reads it (or there is no filter), else for the records that pass.
    let extra_in_filter = extra.is_some_and(|e| filter_cols.contains(&e));
    let extra_in_output = !extra_in_filter && extra.is_some_and(|e| projection.contains(&e));
    let mut sorted = projection.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // The filter runs on its columns' batch, counting `_extra` there when it reads it.
    let test: Option<Test> = match filter {
        Some(f) => {
            let schema = Arc::new(decoded.project(&filter_cols)?);
            let expr = reassign_expr_columns(Arc::clone(f), &schema)?;
            let counted = extra.filter(|_| extra_in_filter).and_then(|e| filter_cols.iter().position(|&c| c == e));
            let report = report.clone();
            Some(Arc::new(move |batch: &RecordBatch| {
                if let Some(i) = counted {
                    report.add_extra_keys(&extra_keys(batch.column(i)));
                }
                let values = expr.evaluate(batch).and_then(|v| v.into_array(batch.num_rows()))?;
                values
                    .as_boolean_opt()
                    .cloned()
                    .ok_or_else(|| Error::Output("a filter that is not boolean".to_string()))
            }))
        }
        None => None,
    };
    // Late materialization (the filter's columns first, the others only for the rows that
    // pass) when the query reads columns the filter does not; else one read and the filter
    // after it (the reader would decode the filter's columns twice).
    let late = test.is_some() && sorted.iter().any(|c| !filter_cols.contains(c));
    let read: Vec<usize> = match late {
        true => sorted.clone(),
        false => {
            let mut all: Vec<usize> = sorted.iter().chain(&filter_cols).copied().collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    };
    let mut readers = Vec::new();
    for (p, opened) in parts.into_iter().enumerate() {
        let groups: Vec<usize> = picked.iter().map(|&i| index[i]).filter(|(q, _)| *q == p).map(|(_, g)| g).collect();
        if groups.is_empty() {
            continue;
        }
        let descr = opened.builder.parquet_schema().clone();
        let mut builder = opened.builder.with_batch_size(batch_size).with_row_groups(groups);
        if let (true, Some(test)) = (late, &test) {
            let mask = ProjectionMask::leaves(&descr, leaves(&descr, decoded, &filter_cols));
            let test = Arc::clone(test);
            let predicate = move |batch: RecordBatch| -> std::result::Result<BooleanArray, ArrowError> {
                test(&batch).map_err(ArrowError::from)
            };
            builder = builder.with_row_filter(RowFilter::new(vec![Box::new(ArrowPredicateFn::new(mask, predicate))]));
        }
        // The reader's limit counts rows after its row filter: not usable when filtering
        // after it.
        if let (Some(n), true) = (limit, late || test.is_none()) {
            builder = builder.with_limit(n);
        }
        let builder = builder.with_projection(ProjectionMask::leaves(&descr, leaves(&descr, decoded, &read)));
        readers.push(builder.build().map_err(|e| Error::Output(e.to_string()))?);
    }
    let reader = readers.into_iter().flatten();
    let at = |c: &usize| read.partition_point(|r| r < c);
    let positions: Vec<usize> = projection.iter().map(at).collect();
    let after = test.filter(|_| !late).map(|t| (t, filter_cols.iter().map(at).collect::<Vec<_>>()));
    let filter_schema = Arc::new(decoded.project(&filter_cols)?);
    let extra_at = extra.filter(|_| extra_in_output).and_then(|e| projection.iter().position(|&p| p == e));
    let target = Arc::new(decoded.project(projection)?);
    let report = report.clone();
    let shape = move |batch: std::result::Result<RecordBatch, ArrowError>,
                      left: &mut Option<usize>|
          -> Result<RecordBatch> {
        let batch = batch?;
        let mut columns = positions
            .iter()
            .zip(target.fields())
            .map(|(&i, f)| conform(batch.column(i), f.data_type()))
            .collect::<Result<Vec<_>>>()?;
        let mut rows = batch.num_rows();
        if let Some((test, at)) = &after {
            let tested = at.iter().zip(filter_schema.fields()).map(|(&i, f)| conform(batch.column(i), f.data_type()));
            let tested = RecordBatch::try_new(Arc::clone(&filter_schema), tested.collect::<Result<Vec<_>>>()?)?;
            let pass = test(&tested)?;
            columns = columns
                .iter()
                .map(|c| datafusion::arrow::compute::filter(c, &pass))
                .collect::<std::result::Result<_, _>>()?;
            rows = pass.true_count();
        }
        if let Some(n) = left.as_mut() {
            let kept = rows.min(*n);
            columns = columns.iter().map(|c| c.slice(0, kept)).collect();
            rows = kept;
            *n -= kept;
        }
        if let Some(i) = extra_at {
            report.add_extra_keys(&extra_keys(&columns[i]));
        }
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(SchemaRef::clone(&target), columns, &options)?)
    };
    // Once the limit is reached, nothing more is read.
    let batches = reader.scan(limit, move |left, batch| {
        if *left == Some(0) {
            return None;
        }
        Some(shape(batch, left))
    });
    Ok(Box::new(batches))
}

/// A filter evaluated on its columns' batch.
type Test = Arc<dyn Fn(&RecordBatch) -> Result<BooleanArray> + Send + Sync>;

/// The row groups that stand for a byte range of the source, with their records and bytes.
/// Each row group stands at the source position its first row has in proportion (rows before
/// it over all rows, times the source size); byte ranges that partition the source (the
/// ranges planning splits a file into) thus read every row group exactly once, in order.
fn row_groups(
    rows: &[u64],
    all_bytes: u64,
    (range, size): (Option<std::ops::Range<u64>>, u64),
) -> (Vec<usize>, u64, u64) {
    let total: u64 = rows.iter().sum();
    let share = |n: u64, of: u64| if total == 0 { 0 } else { (n as u128 * of as u128 / total as u128) as u64 };
    let mut picked = Vec::new();
    let (mut before, mut from, mut to) = (0u64, None, 0u64);
    for (i, &n) in rows.iter().enumerate() {
        if range.as_ref().is_none_or(|r| r.contains(&share(before, size))) {
            picked.push(i);
            from.get_or_insert(before);
            to = before + n;
        }
        before += n;
    }
    let from = from.unwrap_or(to);
    (picked, to - from, share(to, all_bytes) - share(from, all_bytes))
}

/// The Parquet leaf columns of the `roots` as `decoded` reads them: a struct column pruned
/// to some fields reads only their leaves.
fn leaves(descr: &SchemaDescriptor, decoded: &SchemaRef, roots: &[usize]) -> Vec<usize> {
    (0..descr.num_columns())
        .filter(|&i| {
            let root = descr.get_column_root_idx(i);
            if !roots.contains(&root) {
                return false;
            }
            let path = descr.column(i).path().parts().to_vec();
            let mut t = decoded.field(root).data_type();
            for name in path.iter().skip(1) {
                match t {
                    DataType::Struct(fields) => match fields.find(name) {
                        Some((_, f)) => t = f.data_type(),
                        None => return false,
                    },
                    // Below anything else (a list, a map) the whole value is read.
                    _ => return true,
                }
            }
            true
        })
        .collect()
}

/// `array` as `to`: struct columns keep only the fields `to` names (a scan decodes only the
/// fields a query reads), recursively.
fn conform(array: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    match (array.data_type(), to) {
        (from, to) if from == to => Ok(ArrayRef::clone(array)),
        (DataType::Struct(_), DataType::Struct(fields)) => {
            let s = array.as_struct();
            let children = fields
                .iter()
                .map(|f| match s.column_by_name(f.name()) {
                    Some(c) => conform(c, f.data_type()),
                    None => Err(Error::Output(format!("the cached struct lacks the field {:?}", f.name()))),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(StructArray::try_new(fields.clone(), children, s.nulls().cloned())?))
        }
        (_, to) => Ok(datafusion::arrow::compute::cast(array, to)?),
    }
}

/// The keys of the pairs an `_extra` column holds, counted as the scan counts them when it
/// writes them (a key that is not a string counts as `<non-string key>`).
fn extra_keys(array: &ArrayRef) -> BTreeMap<Vec<u8>, u64> {
    let mut keys = BTreeMap::new();
    let Some(values) = array.as_binary_opt::<i32>() else { return keys };
    for v in values.iter().flatten() {
        let mut c = mpq_wire::Cursor::new(v);
        let Ok(mpq_wire::Head::Map(n)) = c.read_head() else { continue };
        for _ in 0..n {
            let key = match c.read_str_bytes() {
                Ok(Some(k)) => k.to_vec(),
                Ok(None) => {
                    if c.skip_value(mpq_wire::MAX_DEPTH_LIMIT).is_err() {
                        break;
                    }
                    b"<non-string key>".to_vec()
                }
                Err(_) => break,
            };
            *keys.entry(key).or_default() += 1;
            if c.skip_value(mpq_wire::MAX_DEPTH_LIMIT).is_err() {
                break;
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BinaryArray, Int64Array};
    use datafusion::arrow::datatypes::{Field, Fields};

    #[test]
    fn extra_keys_are_counted_per_key() {
        // {"a": 1, "b": [1, 2]}, NULL, {"a": "x"}, {1: 2}
        let values: ArrayRef = Arc::new(BinaryArray::from(vec![
            Some(&b"\x82\xa1a\x01\xa1b\x92\x01\x02"[..]),
            None,
            Some(&b"\x81\xa1a\xa1x"[..]),
            Some(&b"\x81\x01\x02"[..]),
        ]));
        let keys = extra_keys(&values);
        let expect: BTreeMap<Vec<u8>, u64> =
            [(b"a".to_vec(), 2), (b"b".to_vec(), 1), (b"<non-string key>".to_vec(), 1)].into_iter().collect();
        assert_eq!(keys, expect);
    }

    #[test]
    fn byte_ranges_that_partition_the_file_read_every_row_group_once() {
        let rows = [100, 100, 100, 50, 7];
        assert_eq!(row_groups(&rows, 1000, (None, 1000)), (vec![0, 1, 2, 3, 4], 357, 1000));
        for cuts in [vec![0, 500, 1000], vec![0, 1, 2, 999, 1000], vec![0, 280, 281, 561, 840, 1000]] {
            let mut groups = Vec::new();
            let (mut records, mut bytes) = (0, 0);
            for w in cuts.windows(2) {
                let (g, r, b) = row_groups(&rows, 1000, (Some(w[0]..w[1]), 1000));
                groups.extend(g);
                records += r;
                bytes += b;
            }
            assert_eq!(groups, vec![0, 1, 2, 3, 4], "{cuts:?}");
            assert_eq!((records, bytes), (357, 1000), "{cuts:?}");
        }
        assert_eq!(row_groups(&[], 0, (Some(0..10), 10)), (vec![], 0, 0));
    }

    /// A cached file's columns come out as written: text at the top, in structs (pruned) and
    /// in lists, whole, filtered after the read (the filter's columns are all the query reads)
    /// and filtered while reading (it reads more), and under a limit.
    #[test]
    fn cached_columns_come_out_as_written() {
        use datafusion::arrow::array::{ListArray, StringArray};
        use datafusion::arrow::datatypes::{Int32Type, Schema};
        use datafusion::logical_expr::Operator;
        use datafusion::physical_expr::expressions::{BinaryExpr, Column, IsNotNullExpr, lit};
        use datafusion::scalar::ScalarValue;
        let name = |i: usize| format!("value {}", i % 7);
        let n: usize = 1000;
        let s: ArrayRef = Arc::new((0..n).map(|i| (!i.is_multiple_of(3)).then(|| name(i))).collect::<StringArray>());
        let a: ArrayRef =
            Arc::new((0..n).map(|i| (!i.is_multiple_of(5)).then(|| name(i * 3))).collect::<StringArray>());
        let k: ArrayRef = Arc::new(Int64Array::from((0..n as i64).collect::<Vec<_>>()));
        let st_fields =
            Fields::from(vec![Field::new("a", DataType::Utf8, true), Field::new("k", DataType::Int64, true)]);
        let st: ArrayRef = Arc::new(StructArray::new(st_fields.clone(), vec![a, k], None));
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(
            (0..n).map(|i| (!i.is_multiple_of(4)).then(|| vec![Some(i as i32)])),
        ));
        let l: ArrayRef =
            Arc::new(datafusion::arrow::compute::cast(&list, &DataType::new_list(DataType::Utf8, true)).expect("cast"));
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, true),
            Field::new("st", DataType::Struct(st_fields), true),
            Field::new("l", l.data_type().clone(), true),
        ]));
        let written = RecordBatch::try_new(Arc::clone(&schema), vec![s, st, l]).expect("batch");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("part.parquet");
        let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
            File::create(&path).expect("create"),
            Arc::clone(&schema),
            None,
        )
        .expect("writer");
        w.write(&written).expect("write");
        w.close().expect("close");
        let source = crate::store::Source::stat(&path).expect("stat");
        let part = crate::store::Part { file: "part.parquet".to_string(), records: n as u64, bytes: 1000 };
        let meta = Meta { key: String::new(), source, parts: vec![part], window: 0, appendable: false };
        // The struct pruned to its text field, as a scan of `st.a` decodes it.
        let pruned = Fields::from(vec![Field::new("a", DataType::Utf8, true)]);
        let decoded = Arc::new(Schema::new(vec![
            schema.field(0).clone(),
            Field::new("st", DataType::Struct(pruned), true),
            schema.field(2).clone(),
        ]));
        let read = |projection: &[usize], filter: Option<Arc<dyn PhysicalExpr>>, limit: Option<usize>| {
            let opened = vec![Opened::new(File::open(&path).expect("open"), &schema).expect("opened")];
            let req = HitRequest {
                full: &schema,
                decoded: &decoded,
                projection,
                filter: filter.as_ref(),
                limit,
                batch_size: 128,
                range: (None, 1000),
            };
            let batches: Vec<RecordBatch> = scan_hit(opened, &meta, req, &ScanReport::new())
                .expect("scan")
                .collect::<Result<_>>()
                .expect("batches");
            let out = datafusion::arrow::compute::concat_batches(
                &Arc::new(decoded.project(projection).expect("p")),
                &batches,
            )
            .expect("concat");
            (0..out.num_columns()).map(|c| format!("{:?}", out.column(c))).collect::<Vec<_>>()
        };
        let expect = |keep: &dyn Fn(usize) -> bool, projection: &[usize], limit: usize| {
            let mask = BooleanArray::from((0..n).map(keep).collect::<Vec<_>>());
            let pruned = conform(written.column(1), decoded.field(1).data_type()).expect("pruned");
            let all = [ArrayRef::clone(written.column(0)), pruned, ArrayRef::clone(written.column(2))];
            let picked =
                projection.iter().map(|&c| datafusion::arrow::compute::filter(&all[c], &mask).expect("filter"));
            picked.map(|c| format!("{:?}", c.slice(0, limit.min(c.len())))).collect::<Vec<_>>()
        };
        assert_eq!(read(&[0, 1, 2], None, None), expect(&|_| true, &[0, 1, 2], n));
        assert_eq!(read(&[2, 0], None, Some(10)), expect(&|_| true, &[2, 0], 10));
        // `s IS NOT NULL`: the query reads only the filter's column.
        let not_null: Arc<dyn PhysicalExpr> = Arc::new(IsNotNullExpr::new(Arc::new(Column::new("s", 0))));
        assert_eq!(read(&[0], Some(Arc::clone(&not_null)), None), expect(&|i| !i.is_multiple_of(3), &[0], n));
        // `s = 'value 2'`, reading more than the filter's column.
        let eq: Arc<dyn PhysicalExpr> =
            Arc::new(BinaryExpr::new(Arc::new(Column::new("s", 0)), Operator::Eq, lit(ScalarValue::from("value 2"))));
        let keep = |i: usize| !i.is_multiple_of(3) && i % 7 == 2;
        assert_eq!(read(&[1, 0, 2], Some(Arc::clone(&eq)), None), expect(&keep, &[1, 0, 2], n));
        assert_eq!(read(&[1, 2], Some(eq), Some(5)), expect(&keep, &[1, 2], 5));
        assert_eq!(read(&[0], Some(not_null), Some(3)), expect(&|i| !i.is_multiple_of(3), &[0], 3));
    }

    #[test]
    fn structs_keep_only_the_fields_asked_for() {
        let a = Arc::new(Field::new("a", DataType::Int64, true));
        let b = Arc::new(Field::new("b", DataType::Int64, true));
        let full = StructArray::new(
            Fields::from(vec![Arc::clone(&a), Arc::clone(&b)]),
            vec![Arc::new(Int64Array::from(vec![1, 2])), Arc::new(Int64Array::from(vec![3, 4]))],
            None,
        );
        let to = DataType::Struct(Fields::from(vec![b]));
        let out = conform(&(Arc::new(full) as ArrayRef), &to).expect("conforms");
        assert_eq!(out.data_type(), &to);
        assert_eq!(out.as_struct().column(0).as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(1), 4);
    }
}
