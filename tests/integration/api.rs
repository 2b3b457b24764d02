//! The plain Rust API: inference, slice and `Read` decoding, `_extra`, framing policies.

use crate::common::{int_records, path, table};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use mpq::reader::{decode_reader, decode_slice, infer, infer_schema};
use mpq::{FramingPolicy, MsgpackReadOptions, ScanReport};
use std::io::Read;
use std::sync::Arc;

fn all(opts: &MsgpackReadOptions, bytes: &[u8]) -> Vec<RecordBatch> {
    reported(opts, bytes, &ScanReport::new())
}

/// [`all`], adding to `report`.
fn reported(opts: &MsgpackReadOptions, bytes: &[u8], report: &ScanReport) -> Vec<RecordBatch> {
    let schema = infer_schema(bytes, opts).expect("schema");
    let batches = decode_slice(bytes, schema, None, opts).expect("decoder").with_report(report);
    batches.collect::<Result<_, _>>().expect("decode")
}

#[test]
fn events_schema_and_rows() {
    let bytes = std::fs::read(path("testdata/events.msgpack")).expect("read");
    let opts = MsgpackReadOptions::default();
    let schema = infer_schema(&bytes, &opts).expect("schema");
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["time", "msg", "pid", "extra", "_extra"]);
    assert_eq!(
        schema.field(0).data_type(),
        &DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Nanosecond, Some("UTC".into()))
    );
    let DataType::List(item) = schema.field(3).data_type() else { panic!("extra is a list") };
    assert!(mpq::variant::is_variant(item), "extra is [1, \"two\"]: a list of variants");
    let batches = all(&opts, &bytes);
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 6);
}

/// A reader that hands out at most `step` bytes per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

#[test]
fn read_decoding_equals_slice_decoding() {
    let bytes = std::fs::read(path("testdata/logs.msgpack")).expect("read");
    let opts = MsgpackReadOptions::default().batch_size(100);
    let schema = infer_schema(&bytes, &opts).expect("schema");
    let whole = table(
        &decode_slice(&bytes, Arc::clone(&schema), None, &opts).expect("d").collect::<Result<Vec<_>, _>>().expect("ok"),
    );
    for step in [1, 7, 4096] {
        let r = Trickle { data: &bytes, step };
        let got: Vec<_> =
            decode_reader(r, Arc::clone(&schema), None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        assert_eq!(table(&got), whole, "step {step}");
    }
}

#[test]
fn unforeseen_keys_and_values_go_to_extra() {
    let bytes = std::fs::read(path("testdata/golden/py_conflicts.msgpack")).expect("read");
    let report = ScanReport::new();
    let opts = MsgpackReadOptions::default().infer_rows(3).infer_probes(0);
    let schema = infer_schema(&bytes, &opts).expect("schema");
    let names: Vec<_> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "v", "s", "_extra"]);
    let batches = reported(&opts, &bytes, &report);
    let extra = batches[0].column(3).as_binary::<i32>();
    let json = |i: usize| (!extra.is_null(i)).then(|| mpq_wire::json::to_json(extra.value(i), 64).expect("json"));
    assert_eq!(json(0), None);
    assert_eq!(json(3).as_deref(), Some(r#"{"v":"ten","late":true}"#));
    assert_eq!(json(4).as_deref(), Some(r#"{"late":{"deep":[1]}}"#));
    assert_eq!(json(5).as_deref(), Some(r#"{"s":"//4=","dup":1}"#), "bin in a Utf8 column, unseen key");
    assert_eq!(json(6).as_deref(), Some(r#"{"1":"int key"}"#));
    // Duplicate key: the last one wins.
    assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().value(6), 7);
    let r = report.snapshot();
    assert_eq!(r.extra_pairs(), 6);
    assert_eq!(r.duplicate_keys, 1);
    assert_eq!(r.extra_keys.get("late"), Some(&2));
}

#[test]
fn truncated_tail_keeps_good_records_and_reports() {
    let mut bytes = int_records("a", &[1, 2, 3]);
    bytes.extend_from_slice(&[0x81, 0xa1, b'a', 0xcd, 0x01]); // uint16 cut short
    let report = ScanReport::new();
    let opts = MsgpackReadOptions::default();
    let batches = reported(&opts, &bytes, &report);
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    assert_eq!(
        report.snapshot().framing,
        [
            "<memory>: record 3 at byte 12: framing error at byte 16: expected 2 more bytes, found only 1 before the end of input [81 a1 61 03 81 a1 61 cd [01]]; kept 3 records before it, dropped bytes 12..17 (5 bytes)"
        ]
    );
    let fail = MsgpackReadOptions::default().framing(FramingPolicy::Fail);
    let schema = infer_schema(&bytes, &fail).expect("schema");
    let err = decode_slice(&bytes, schema, None, &fail).expect("d").find_map(Result::err).expect("an error");
    assert_eq!(
        err.to_string(),
        "<memory>: record 3 at byte 12: framing error at byte 16: expected 2 more bytes, found only 1 before the end of input [81 a1 61 03 81 a1 61 cd [01]]"
    );
}

#[test]
fn non_map_record_is_a_record_error_with_nulls() {
    let mut bytes = int_records("a", &[1; 20]);
    bytes.push(0x05);
    bytes.extend(int_records("a", &[2]));
    let report = ScanReport::new();
    let opts = MsgpackReadOptions::default();
    let batches = reported(&opts, &bytes, &report);
    let col = batches[0].column(0).as_primitive::<Int64Type>();
    assert!(col.is_null(20));
    assert_eq!(col.value(21), 2);
    let r = report.snapshot();
    assert_eq!(r.record_errors, 1);
    assert_eq!(
        r.messages,
        [
            "<memory>: record 20 at byte 80: record error at byte 80: expected a map, found an int [81 a1 61 01 81 a1 61 01 [05] 81 a1 61 02]"
        ]
    );
}

#[test]
fn lattice_types_from_data() {
    let bytes = std::fs::read(path("testdata/logs.msgpack")).expect("read");
    let t = infer(&bytes, &MsgpackReadOptions::default()).expect("infer");
    let schema = t.schema(false);
    let ty = |n: &str| schema.field_with_name(n).expect(n).data_type().clone();
    assert_eq!(ty("big"), DataType::UInt64);
    assert_eq!(ty("delta"), DataType::Decimal128(20, 0));
    assert_eq!(ty("latency_ms"), DataType::Float64);
    assert!(matches!(ty("attrs"), DataType::Map(_, false)));
    assert!(matches!(ty("user"), DataType::Struct(_)));
    assert!(mpq::variant::is_variant(schema.field_with_name("code").expect("code")));
}

#[test]
fn depth_limit_is_a_framing_error_not_a_stack_overflow() {
    let mut bytes = int_records("a", &[1]);
    bytes.extend(std::iter::repeat_n(0x91u8, 100_000));
    bytes.push(0xc0);
    let report = ScanReport::new();
    let opts = MsgpackReadOptions::default();
    let batches = reported(&opts, &bytes, &report);
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
    assert!(report.snapshot().framing[0].contains("expected nesting of at most 128 levels"));
}

#[test]
fn invalid_utf8_after_the_sample_goes_to_extra_via_the_careful_pass() {
    let mut bytes = Vec::new();
    for i in 0..30u8 {
        rmp::encode::write_map_len(&mut bytes, 2).expect("vec");
        rmp::encode::write_str(&mut bytes, "s").expect("vec");
        if i == 25 {
            bytes.extend_from_slice(&[0xa2, 0xff, 0xfe]); // a str that is not UTF-8
        } else {
            rmp::encode::write_str(&mut bytes, "ok").expect("vec");
        }
        rmp::encode::write_str(&mut bytes, "tags").expect("vec");
        rmp::encode::write_array_len(&mut bytes, 1).expect("vec");
        rmp::encode::write_str(&mut bytes, "t").expect("vec");
    }
    let opts = MsgpackReadOptions::default().infer_rows(10).infer_probes(0);
    let batches = all(&opts, &bytes);
    let b = &batches[0];
    assert_eq!(b.num_rows(), 30);
    let s = b.column(0).as_string::<i32>();
    assert!(s.is_null(25));
    assert_eq!(s.value(24), "ok");
    assert_eq!(b.column(1).as_list::<i32>().value(29).len(), 1, "the list column was reset between passes");
    let extra = b.column(2).as_binary::<i32>();
    assert_eq!(mpq_wire::json::to_json(extra.value(25), 8).expect("json"), r#"{"s":"//4="}"#);
}

/// A range of a split scan that meets damage before its end fails with the reason (other
/// ranges read past the damage), and a later range names records by offset only.
#[test]
fn split_ranges_and_damage() {
    let mut bytes = int_records("n", &(0..40_000).collect::<Vec<_>>());
    let mid = bytes.len() / 2;
    let damage = (mid - 100..).find(|&i| bytes[i..].starts_with(&[0x81, 0xa1, b'n'])).expect("a record start");
    bytes[damage] = 0xc1;
    let opts = MsgpackReadOptions::default();
    let schema = infer_schema(&bytes[..mid - 200], &opts).expect("schema");
    let first = decode_slice(&bytes[..], Arc::clone(&schema), None, &opts).expect("d").range(0..mid);
    let err = first.collect::<Result<Vec<_>, _>>().expect_err("damage");
    assert_eq!(
        err.to_string(),
        "<memory>: record 20016 at byte 119712: framing error at byte 119712: expected a MessagePack value, found \
         reserved byte 0xc1; the file was split across cores and other ranges read past the damage: run again \
         with --threads 1 to keep only the records before it [4e 2e 81 a1 6e cd 4e 2f [c1] a1 6e cd 4e 30 81 a1]"
    );
    let second = decode_slice(&bytes[..], schema, None, &opts).expect("d").range(mid..bytes.len());
    let rows: usize = second.map(|b| b.expect("clean").num_rows()).sum();
    assert!(rows > 10_000 && rows < 21_000, "{rows}");
    let e = mpq::Error::Record(mpq::problem::Problem {
        path: "f".into(),
        record: mpq::error::UNKNOWN_RECORD,
        record_offset: 9,
        offset: 10,
        kind: mpq::problem::Kind::NotAMap,
        message: "m".into(),
        hex: "00".into(),
    });
    assert_eq!(e.to_string(), "f: a record at byte 9: record error at byte 10: m [00]");
}

#[test]
fn a_stream_reports_record_errors_at_their_offsets_in_the_input() {
    let bytes = std::fs::read(crate::common::root().join("testdata/hostile/not_a_map.msgpack")).expect("corpus");
    let report = ScanReport::new();
    let opts = MsgpackReadOptions::default().batch_size(1);
    let schema = mpq::reader::infer_schema(&bytes, &opts).expect("schema");
    let rows: usize = mpq::reader::decode_reader(&bytes[..], schema, None, &opts)
        .expect("reader")
        .with_report(&report)
        .map(|b| b.expect("batch").num_rows())
        .sum();
    assert_eq!(rows, 5);
    // Record 2 starts at byte 28 of the input, after two batches the stream has let go of.
    assert_eq!(
        report.snapshot().messages,
        [
            "<stream>: record 2 at byte 28: record error at byte 28: expected a map, found an int [[05] 82 a2 69 64 03 a3 6d]"
        ]
    );
}

/// Local files are inferred in runs on every core and merged in path order: the schema (keys in
/// the order they are first seen across the files, a type conflict between files) and the
/// per-file list are the same on one thread as on several, with any number of files a run.
#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn many_files_infer_in_parallel_and_merge_in_path_order() {
    use mpq::datasource::SessionContextExt;
    let dir = tempfile::tempdir().expect("tmp");
    for i in 0..61 {
        let bytes = crate::common::mp(|w| {
            rmp::encode::write_map_len(w, 3).expect("vec");
            rmp::encode::write_str(w, &format!("k{i}")).expect("vec");
            rmp::encode::write_sint(w, i).expect("vec");
            rmp::encode::write_str(w, "common").expect("vec");
            rmp::encode::write_sint(w, i).expect("vec");
            rmp::encode::write_str(w, "x").expect("vec");
            match i % 2 {
                0 => rmp::encode::write_sint(w, i).map(|_| ()).expect("vec"),
                _ => rmp::encode::write_str(w, "odd").expect("vec"),
            }
        });
        std::fs::write(dir.path().join(format!("part-{i:03}.msgpack")), bytes).expect("write");
    }
    let url = dir.path().display().to_string();
    let mut seen = Vec::new();
    for threads in [1, 2, 7, 100] {
        let ctx = datafusion::prelude::SessionContext::new();
        let opts = MsgpackReadOptions::default().threads(threads);
        let t = ctx.infer_msgpack(url.as_str(), opts.clone()).await.expect("infer");
        let names: Vec<String> = opts.schema_of(&t).fields().iter().map(|f| f.name().clone()).collect();
        let files: Vec<String> =
            t.files.iter().map(|(p, _)| p.rsplit('/').next().unwrap_or_default().to_string()).collect();
        assert_eq!(t.records(), 61, "{threads} threads");
        seen.push((names, files, opts.schema_of(&t)));
    }
    let mut want = vec!["k0".to_string(), "common".to_string(), "x".to_string()];
    want.extend((1..61).map(|i| format!("k{i}")));
    want.push("_extra".to_string());
    assert_eq!(seen[0].0, want, "first-seen order across the files");
    assert_eq!(seen[0].1, (0..61).map(|i| format!("part-{i:03}.msgpack")).collect::<Vec<_>>());
    for s in &seen[1..] {
        assert_eq!(s, &seen[0]);
    }
}
