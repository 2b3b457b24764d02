//! `mpq-hostile`: feeds arbitrary bytes to each entry point of mpq and checks what must hold
//! for every input, not only valid ones. The fuzz targets under `fuzz/` call these functions
//! with what libFuzzer generates; this crate's tests call them with every file of the seed
//! corpus, of `testdata/hostile/` and of the crash inputs the fuzzers found
//! (`fuzz/regressions/`), so a finding stays fixed.
//!
//! A function here returns normally for any input; a panic is a bug, whether it comes from mpq
//! itself or from a check below (an invariant that failed). Errors are fine: hostile input is
//! expected to produce them.
//!
//! The first byte of an input chooses the options (layout, policies, limits, batch size), so
//! the fuzzer explores them along with the bytes.

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs};
use mpq::framing::{LAYOUTS, Layout};
use mpq::infer::TableInference;
use mpq::options::{FramingPolicy, MsgpackReadOptions, OnError};
use mpq::reader::{decode_reader, decode_slice, infer};
use std::io::Read;
use std::sync::Arc;

pub use datafusion;

/// The options an input's first byte selects, and the rest of the input.
pub fn options_of(data: &[u8]) -> (MsgpackReadOptions, &[u8]) {
    let Some((&b, rest)) = data.split_first() else { return (MsgpackReadOptions::default(), data) };
    let layout = match b % 8 {
        n @ 0..=5 => Some(LAYOUTS[n as usize]),
        _ => None,
    };
    let on_error = match (b >> 3) % 3 {
        0 => OnError::Null,
        1 => OnError::Drop,
        _ => OnError::Fail,
    };
    let framing = if b & 0x20 == 0 { FramingPolicy::Truncate } else { FramingPolicy::Fail };
    let opts = MsgpackReadOptions::default()
        .layout(layout)
        .on_error(on_error)
        .framing(framing)
        .with_record(b & 0x40 != 0)
        .with_corrupt_record(b & 0x40 != 0)
        .max_depth(if b & 0x80 != 0 { 8 } else { 64 })
        .max_record_bytes(if b & 0x80 != 0 { 256 } else { 1 << 20 })
        .batch_size(1 + (b as usize % 5))
        .max_decompressed_bytes(1 << 20)
        .threads(1);
    (opts, rest)
}

/// Frames and decodes `data` as a whole (a slice) and as a stream handed over in pieces of
/// irregular sizes, with the schema inferred from it. Checks: both give the same rows when
/// both succeed; every batch has the schema asked for; no more rows than bytes.
pub fn decode(data: &[u8]) {
    let (opts, bytes) = options_of(data);
    let Ok(inference) = infer(bytes, &opts) else { return };
    let schema = Arc::new(opts.schema_of(&inference));
    // A slice is decoded as files are: compressed forward entries expanded first (a stream
    // expands them as it reads).
    let expanded = match mpq::input::expand_if_forward(bytes, &opts) {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return,
        None => None,
    };
    // A compressed SequenceFile is decompressed into an image first, as files are.
    let image = if mpq::framing::seqfile::reads_as_seqfile(bytes, opts.layout) {
        let input = mpq::input::FileBytes::in_memory(bytes::Bytes::copy_from_slice(bytes));
        match mpq::input::prepare(input, "<fuzz>", &opts) {
            Ok(prepared) => Some(prepared.bytes.bytes.to_vec()),
            Err(_) => return,
        }
    } else {
        None
    };
    let slice = image.as_deref().or(expanded.as_deref()).unwrap_or(bytes);
    let whole = collect(decode_slice(slice, schema.clone(), None, &opts).map(|b| b.collect()));
    let pieces = Pieces { data: bytes, pos: 0, step: 0 };
    let streamed = collect(decode_reader(pieces, schema.clone(), None, &opts).map(|b| b.collect()));
    if let (Ok(a), Ok(b)) = (&whole, &streamed) {
        for batch in a.iter().chain(b) {
            assert_eq!(batch.schema().fields(), schema.fields(), "a batch has another schema");
        }
        let rows = |bs: &[RecordBatch]| bs.iter().map(|b| b.num_rows()).sum::<usize>();
        assert_eq!(rows(a), rows(b), "decoding whole and in pieces give different row counts");
        assert!(rows(a) <= slice.len(), "more rows than bytes");
        // Every projection of one column decodes too (the paths that skip what is not read),
        // to the same rows: which records a scan keeps does not depend on what it reads.
        for i in 0..schema.fields().len() {
            let one = collect(decode_slice(slice, schema.clone(), Some(&[i]), &opts).map(|b| b.collect()));
            if let Ok(one) = one {
                assert_eq!(rows(&one), rows(a), "projecting column {i} changes the row count");
            }
        }
        let counted = collect(decode_slice(slice, schema.clone(), Some(&[]), &opts).map(|b| b.collect()));
        if let Ok(counted) = counted {
            assert_eq!(rows(&counted), rows(a), "count(*) and decoding disagree");
        }
    }
    prepared(bytes, &opts, schema);
}

/// The path a file takes: decompression (gzip, zstd) and forward-entry expansion first, then
/// decoding from the bytes or, for compressed input, from the decompressing reader.
fn prepared(bytes: &[u8], opts: &MsgpackReadOptions, schema: datafusion::arrow::datatypes::SchemaRef) {
    let file = mpq::input::source::FileBytes::in_memory(bytes.to_vec().into());
    let Ok(input) = mpq::input::prepare(file, "<fuzz>", opts) else { return };
    match input.reader() {
        Some(Ok(reader)) => {
            if let Ok(batches) = decode_reader(reader, schema, None, opts) {
                batches.take_while(Result::is_ok).for_each(drop);
            }
        }
        Some(Err(_)) => {}
        None => {
            if let Ok(batches) = decode_slice(input.bytes.clone(), schema, None, opts) {
                batches.take_while(Result::is_ok).for_each(drop);
            }
        }
    }
}

fn collect(r: mpq::error::Result<mpq::error::Result<Vec<RecordBatch>>>) -> mpq::error::Result<Vec<RecordBatch>> {
    r.and_then(|r| r)
}

/// A reader that hands out its bytes in pieces of 1, 2, 3, ... 17, 1, ... bytes.
struct Pieces<'a> {
    data: &'a [u8],
    pos: usize,
    step: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.step = self.step % 17 + 1;
        let n = self.step.min(out.len()).min(self.data.len() - self.pos);
        out[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Infers a schema from `data` (every record, and the default sample), merges the inferences
/// of its two halves, and renders `mpq schema`'s view of each. Checks: the schema has unique
/// names; on an undamaged input, a sample never observes more records than there are (its
/// probes do not overlap). On a damaged one it may: probes start past damage that reading
/// every record stops at.
pub fn inference(data: &[u8]) {
    let (opts, bytes) = options_of(data);
    let all = infer(bytes, &opts.clone().infer_all());
    let sampled = infer(bytes, &opts);
    let (Ok(all), Ok(sampled)) = (all, sampled) else { return };
    if all.files.iter().all(|(_, f)| f.complete) {
        assert!(sampled.records() <= all.records(), "a sample saw more records than the whole input");
    }
    for t in [&all, &sampled] {
        let schema = t.schema(true);
        let mut names: Vec<&String> = schema.fields().iter().map(|f| f.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), schema.fields().len(), "duplicate column names");
        let view = mpq::schema_view::SchemaView::new(t, &opts, None);
        let _ = view.text();
        let _ = view.json();
    }
    let mid = bytes.len() / 2;
    let halves: Vec<_> = [&bytes[..mid], &bytes[mid..]]
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let fi = mpq::infer::infer_slice(b, &format!("half{i}"), &opts.infer_options());
            (format!("half{i}"), Arc::new(fi))
        })
        .collect();
    let _ = TableInference::merge(halves).schema(true);
}

/// The value-reading functions (`mp_get` and its family, `mp_to_json`, `mp_typeof`, ...): the
/// first line of `data` is a path, the rest is split at 0xff bytes into rows of variant
/// values. Each function runs over them with the path as a constant and as a column. Checks:
/// one output row per input row; `mp_get` finds the same value `mp_to_json` renders.
pub fn read_functions(data: &[u8]) {
    let (path, values) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"$"[..], data),
    };
    let Ok(path) = std::str::from_utf8(path) else { return };
    let rows: Vec<&[u8]> = values.split(|&b| b == 0xff).collect();
    let values: ArrayRef = Arc::new(BinaryArray::from_iter_values(rows.iter().copied()));
    let paths: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|_| path)));
    let value_field = Arc::new(mpq_udfs::variant::variant_field("v"));
    let path_field = Arc::new(Field::new("p", DataType::Utf8, true));
    for f in mpq_udfs::all() {
        let name = f.name().to_string();
        if name == "mp_pack" || name == "mp_from_json" {
            continue;
        }
        for args in [
            vec![ColumnarValue::Array(values.clone())],
            vec![ColumnarValue::Array(values.clone()), ColumnarValue::Scalar(path.into())],
            vec![ColumnarValue::Array(values.clone()), ColumnarValue::Array(paths.clone())],
        ] {
            let arg_fields =
                if args.len() == 1 { vec![value_field.clone()] } else { vec![value_field.clone(), path_field.clone()] };
            let types: Vec<DataType> = arg_fields.iter().map(|f| f.data_type().clone()).collect();
            let Ok(return_type) = f.return_type(&types) else { continue };
            let call = ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: rows.len(),
                return_field: Arc::new(Field::new(&name, return_type, true)),
                config_options: Arc::new(ConfigOptions::default()),
            };
            if let Ok(ColumnarValue::Array(out)) = f.invoke_with_args(call) {
                assert_eq!(out.len(), rows.len(), "{name}: one output row per input row");
            }
        }
    }
}

/// The functions that build MessagePack: `mp_from_json` over `data` as text, and `mp_pack`
/// over `data` split into variant values. Checks: what they build is exactly one well-formed
/// value, and JSON rendering of it succeeds.
pub fn build_functions(data: &[u8]) {
    let mut out = Vec::new();
    if let Ok(text) = std::str::from_utf8(data)
        && mpq_udfs::pack::from_json(text, &mut out)
    {
        assert_one_value(&out, "mp_from_json");
        let mut json = String::new();
        assert!(mpq_udfs::convert::json_into(&out, &mut json), "mp_from_json built a value JSON cannot render");
    }
    let rows: Vec<&[u8]> = data.split(|&b| b == 0xff).collect();
    let values: ArrayRef = Arc::new(BinaryArray::from_iter_values(rows.iter().copied()));
    let pack = mpq_udfs::all().into_iter().find(|f| f.name() == "mp_pack").expect("mp_pack exists");
    let call = ScalarFunctionArgs {
        args: vec![ColumnarValue::Array(values)],
        arg_fields: vec![Arc::new(mpq_udfs::variant::variant_field("v"))],
        number_rows: rows.len(),
        return_field: Arc::new(mpq_udfs::variant::variant_field("mp_pack")),
        config_options: Arc::new(ConfigOptions::default()),
    };
    if let Ok(ColumnarValue::Array(out)) = pack.invoke_with_args(call) {
        let out = out.as_any().downcast_ref::<BinaryArray>().expect("mp_pack gives Binary");
        assert_eq!(out.len(), rows.len());
        for v in out.iter().flatten() {
            assert_one_value(v, "mp_pack");
        }
    }
}

fn assert_one_value(v: &[u8], who: &str) {
    let mut cur = mpq_wire::Cursor::new(v);
    assert!(cur.skip_value(mpq_wire::MAX_DEPTH_LIMIT).is_ok(), "{who} built a malformed value");
    assert!(cur.is_empty(), "{who} built more than one value");
}

/// The wire layer alone: skip-parse, JSON rendering and layout detection of `data`. Checks:
/// skipping a value and rendering it as JSON agree on whether it is well formed.
pub fn wire(data: &[u8]) {
    let depth = 64;
    let mut cur = mpq_wire::Cursor::new(data);
    let skipped = cur.skip_value(depth).map(|_| cur.pos());
    let mut out = String::new();
    let mut c2 = mpq_wire::Cursor::new(data);
    let rendered = mpq_wire::json::write_json(&mut c2, &mut out, depth).map(|_| c2.pos());
    assert_eq!(skipped.is_ok(), rendered.is_ok(), "skip and JSON disagree on {data:02x?}");
    if let (Ok(a), Ok(b)) = (skipped, rendered) {
        assert_eq!(a, b, "skip and JSON end at different offsets");
    }
    let _ = mpq::framing::detect(data, depth);
    for l in LAYOUTS.into_iter().chain([Layout::Records]) {
        let _ = mpq::framing::check_forced(data, l, depth);
    }
}
