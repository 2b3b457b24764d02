//! Criterion benches, one group per stage, over a deterministic generated file of about
//! 100 MB of messy records (`cargo bench --bench decode`; `MPQ_BENCH_MB` changes the size).
//! Under `cargo test --benches` each bench runs once on a small file.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::prelude::SessionContext;
use mpq::framing::{FrameLimits, Framer, Layout};
use mpq::generate::{Spec, to_vecs};
use mpq::reader::{decode_slice, infer_schema};
use mpq::{MsgpackReadOptions, SessionContextExt};
use std::hint::black_box;
use std::sync::Arc;

/// About 200 bytes per generated record, so `mb * 5000` records.
fn data() -> Vec<u8> {
    let benching = std::env::args().any(|a| a == "--bench");
    let mb: usize =
        std::env::var("MPQ_BENCH_MB").ok().and_then(|v| v.parse().ok()).unwrap_or(if benching { 100 } else { 1 });
    to_vecs(&Spec { records: mb * 5000, seed: 11, events: false, mixed: false, wide: false }).0
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

criterion_group!(benches, stages, sql);
criterion_main!(benches);
