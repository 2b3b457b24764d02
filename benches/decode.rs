//! Criterion benches, one group per stage, over a deterministic generated file of about
//! 100 MB of messy records (`cargo bench --bench decode`; `MPQ_BENCH_MB` changes the size).
//! Under `cargo test --benches` each bench runs once on a small file. The `writer` group runs
//! on the wide shape (`mpq generate --wide`), where conversion spends its time writing; the
//! `late` group compares a selective filter decoded late (in the scan) with one applied after
//! decoding every projected column.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::prelude::SessionContext;
use mpq::framing::{FrameLimits, Framer, Layout};
use mpq::generate::{Spec, to_vecs};
use mpq::reader::{decode_slice, infer_schema};
use mpq::{MsgpackReadOptions, SessionContextExt};
use std::hint::black_box;
use std::sync::Arc;

/// About 200 bytes per generated record (460 for the wide shape), so `mb * 5000` records
/// (`mb * 2200`).
fn data_of(wide: bool) -> Vec<u8> {
    let benching = std::env::args().any(|a| a == "--bench");
    let mb: usize =
        std::env::var("MPQ_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(if benching { 100 } else { 1 });
    let records = if wide { mb * 2200 } else { mb * 5000 };
    to_vecs(&Spec { records, seed: 11, events: false, mixed: false, wide }).0
}

fn data() -> Vec<u8> {
    data_of(false)
}

fn stages(c: &mut Criterion) {
    let bytes = data();
    let opts = MsgpackReadOptions::default();
    let schema = infer_schema(&bytes, &opts).expect("schema");
    let mut g = c.benchmark_group("stages");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("framing", |b| {
        let limits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };
        b.iter(|| Framer::new(&bytes, 0, Layout::Records, limits, 0).filter(|r| r.is_ok()).count())
    });
    g.bench_function("count_on_lanes", |b| {
        let limits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };
        b.iter(|| mpq::framing::lanes::count_records(&bytes, 0, bytes.len(), limits).expect("counts").0)
    });
    g.bench_function("find_boundary", |b| {
        let limits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };
        b.iter(|| mpq::framing::split::find_boundary(&bytes, black_box(bytes.len() / 2), Layout::Records, limits))
    });
    g.bench_function("decode_all_columns", |b| {
        b.iter(|| {
            let it = decode_slice(&bytes[..], Arc::clone(&schema), None, &opts).expect("decoder");
            it.map(|r| r.expect("batch").num_rows()).sum::<usize>()
        })
    });
    let service = schema.index_of("service").expect("service");
    let status = schema.index_of("status").expect("status");
    g.bench_function("decode_two_columns", |b| {
        b.iter(|| {
            let it = decode_slice(&bytes[..], Arc::clone(&schema), Some(&[service, status]), &opts).expect("decoder");
            it.map(|r| r.expect("batch").num_rows()).sum::<usize>()
        })
    });
    g.bench_function("decode_no_columns", |b| {
        b.iter(|| {
            let it = decode_slice(&bytes[..], Arc::clone(&schema), Some(&[]), &opts).expect("decoder");
            it.map(|r| r.expect("batch").num_rows()).sum::<usize>()
        })
    });
    g.bench_function("infer_default_sample", |b| b.iter(|| infer_schema(black_box(&bytes), &opts).expect("schema")));
    let all = opts.clone().infer_all().threads(1);
    g.bench_function("infer_every_record_one_thread", |b| {
        b.iter(|| infer_schema(black_box(&bytes), &all).expect("schema"))
    });
    g.finish();
}

fn sql(c: &mut Criterion) {
    let bytes = data();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("bench.msgpack");
    std::fs::write(&file, &bytes).expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ctx = SessionContext::new();
    let opts = MsgpackReadOptions::default().mmap(mpq::input::source::MmapPolicy::Always);
    rt.block_on(ctx.register_msgpack("t", file.to_str().expect("utf8"), opts)).expect("register");
    let mut g = c.benchmark_group("sql");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    for (name, q) in [
        ("count", "SELECT count(*) FROM t"),
        ("group_by_avg", "SELECT service, avg(latency_ms) FROM t GROUP BY service"),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(async { ctx.sql(q).await.expect("plan").collect().await.expect("run") }))
        });
    }
    g.finish();
}

/// The costs of writing Parquet from decoded batches: the written form (variant columns to
/// JSON text), the Parquet encoding with mpq's defaults (zstd level 3, 122,880-row groups) on
/// one core, and `convert` end to end (decode, form, DataFusion's parallel writer, file).
fn writer(c: &mut Criterion) {
    use mpq::convert::{WriteFormat, WriteOptions};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    let bytes = data_of(true);
    let opts = MsgpackReadOptions::default();
    let schema = infer_schema(&bytes, &opts).expect("schema");
    let batches: Vec<_> = decode_slice(&bytes[..], Arc::clone(&schema), None, &opts)
        .expect("decoder")
        .map(|b| b.expect("batch"))
        .collect();
    let form = WriteOptions::new(WriteFormat::Parquet).form();
    let formed = |b: &datafusion::arrow::array::RecordBatch| {
        let fields: Vec<_> =
            b.schema().fields().iter().map(|f| form.field(f).unwrap_or_else(|| f.as_ref().clone())).collect();
        let columns =
            b.schema().fields().iter().zip(b.columns()).map(|(f, a)| form.array(f, a).expect("form")).collect();
        datafusion::arrow::array::RecordBatch::try_new(
            Arc::new(datafusion::arrow::datatypes::Schema::new(fields)),
            columns,
        )
        .expect("batch")
    };
    let written: Vec<_> = batches.iter().map(formed).collect();
    let mut g = c.benchmark_group("writer");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("form_variants_as_json", |b| b.iter(|| batches.iter().map(formed).count()));
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
        .set_max_row_group_row_count(Some(mpq::convert::DEFAULT_ROW_GROUP_ROWS))
        .build();
    g.bench_function("parquet_zstd_one_core", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            let mut w = ArrowWriter::try_new(&mut out, written[0].schema(), Some(props.clone())).expect("writer");
            for batch in &written {
                w.write(batch).expect("write");
            }
            w.close().expect("close");
            out.len()
        })
    });
    let dir = tempfile::tempdir().expect("tmp");
    let input = dir.path().join("wide.msgpack");
    std::fs::write(&input, &bytes).expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    g.bench_function("convert_end_to_end", |b| {
        b.iter(|| {
            rt.block_on(async {
                let ctx = mpq::session::session(&opts, 0).expect("session");
                ctx.register_msgpack("t", input.to_str().expect("utf8"), opts.clone()).await.expect("register");
                let plan = ctx.sql("SELECT * FROM t").await.expect("plan").into_unoptimized_plan();
                let mut w = WriteOptions::new(WriteFormat::Parquet);
                w.force = true;
                mpq::convert::write(&ctx, plan, &dir.path().join("out.parquet"), &w).await.expect("convert").rows
            })
        })
    });
    g.finish();
}

/// A selective filter over the wide shape: decoded late in the scan (the other projected
/// columns only for the rows that pass) against applied after decoding every projected column.
fn late(c: &mut Criterion) {
    let bytes = data_of(true);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("wide.msgpack");
    std::fs::write(&file, &bytes).expect("write");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let q = "SELECT count(*), max(user_agent), max(http.path), max(request_id) FROM t WHERE status = 503 AND level = 'error'";
    let mut g = c.benchmark_group("late");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    for (name, pushdown) in [("filter_in_scan", true), ("filter_after_decoding", false)] {
        let opts = MsgpackReadOptions::default().mmap(mpq::input::source::MmapPolicy::Always).filter_pushdown(pushdown);
        let ctx = mpq::session::session(&opts, 0).expect("session");
        rt.block_on(ctx.register_msgpack("t", file.to_str().expect("utf8"), opts)).expect("register");
        g.bench_function(name, |b| {
            b.iter(|| rt.block_on(async { ctx.sql(q).await.expect("plan").collect().await.expect("run") }))
        });
    }
    g.finish();
}

criterion_group!(benches, stages, sql, writer, late);
criterion_main!(benches);
