//! Rows per second of each function family over small records (about 80 bytes:
//! `{"ts": <timestamp>, "level": str, "user": {"id": int, "name": str}, "msg": str, "code": int}`),
//! calling the functions the way DataFusion does (one batch of 8192 rows per call), with
//! constant paths. `MPQ_BENCH_ROWS` sets the rows per iteration (default 1,000,000).
//!
//! Run: `cargo bench -p mpq-udfs --bench functions`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, BinaryBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use mpq_udfs::variant::variant_field;
use mpq_wire::write::*;
use std::hint::black_box;
use std::sync::Arc;

const BATCH: usize = 8192;

fn record(i: usize, out: &mut Vec<u8>) {
    write_map_header(out, 5);
    write_str(out, b"ts");
    write_timestamp(out, 1_700_000_000 + i as i64, (i % 1000) as u32 * 1000);
    write_str(out, b"level");
    write_str(out, if i.is_multiple_of(10) { b"error" } else { b"info" });
    write_str(out, b"user");
    write_map_header(out, 2);
    write_str(out, b"id");
    write_int(out, (i * 7919 % 100_000) as i64);
    write_str(out, b"name");
    write_str(out, format!("user{}", i % 5000).as_bytes());
    write_str(out, b"msg");
    write_str(out, b"request served");
    write_str(out, b"code");
    write_int(out, (i % 50) as i64);
}

fn batches(rows: usize) -> Vec<ArrayRef> {
    let mut out = Vec::new();
    let mut buf = Vec::new();
    for start in (0..rows).step_by(BATCH) {
        let mut b = BinaryBuilder::new();
        for i in start..(start + BATCH).min(rows) {
            buf.clear();
            record(i, &mut buf);
            b.append_value(&buf);
        }
        out.push(Arc::new(b.finish()) as ArrayRef);
    }
    out
}

fn udf(name: &str) -> Arc<ScalarUDF> {
    mpq_udfs::all().into_iter().find(|f| f.name() == name).expect("function")
}

/// Calls `f(column, paths...)` over every batch, as DataFusion would.
fn call(f: &ScalarUDF, data: &[ArrayRef], paths: &[&str], arg_type: DataType) {
    let config = Arc::new(ConfigOptions::default());
    let mut fields = vec![Arc::new(variant_field("v"))];
    fields.extend(paths.iter().map(|_| Arc::new(Field::new("p", DataType::Utf8, false))));
    let ret = f
        .return_field_from_args(datafusion::logical_expr::ReturnFieldArgs {
            arg_fields: &fields,
            scalar_arguments: &vec![None; fields.len()],
        })
        .expect("return field");
    for col in data {
        let mut args = vec![ColumnarValue::Array(col.clone())];
        args.extend(paths.iter().map(|p| ColumnarValue::Scalar(ScalarValue::Utf8(Some(p.to_string())))));
        let mut arg_fields = fields.clone();
        arg_fields[0] = Arc::new(Field::new("v", arg_type.clone(), true));
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: col.len(),
                return_field: ret.clone(),
                config_options: config.clone(),
            })
            .expect("invoke");
        black_box(out);
    }
}

fn bench(c: &mut Criterion) {
    let rows: usize = std::env::var("MPQ_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let data = batches(rows);
    let bytes: usize = data.iter().map(|a| a.get_buffer_memory_size()).sum();
    eprintln!("{rows} records, about {} bytes each", bytes / rows.max(1));
    let mut g = c.benchmark_group("udfs");
    g.throughput(Throughput::Elements(rows as u64));
    g.sample_size(10);
    let cases: &[(&str, &str, &[&str])] = &[
        ("get_int user.id", "mp_get_int", &["user", "id"]),
        ("get_int user.id (path string)", "mp_get_int", &["user.id"]),
        ("get_str level", "mp_get_str", &["level"]),
        ("get variant user", "mp_get", &["user"]),
        ("get_float code", "mp_get_float", &["code"]),
        ("get_ts ts", "mp_get_ts", &["ts"]),
        ("get_text code", "mp_get_text", &["code"]),
        ("typeof", "mp_typeof", &[]),
        ("len", "mp_len", &[]),
        ("contains user.geo", "mp_contains", &["user", "geo"]),
        ("keys", "mp_keys", &[]),
        ("to_json", "mp_to_json", &[]),
    ];
    for (label, name, paths) in cases {
        let f = udf(name);
        g.bench_function(*label, |b| b.iter(|| call(&f, &data, paths, DataType::Binary)));
    }
    // Building values: JSON text in, MessagePack out; and packing SQL values.
    let json: Vec<ArrayRef> = {
        let f = udf("mp_to_json");
        data.iter()
            .map(|col| {
                let args = ScalarFunctionArgs {
                    args: vec![ColumnarValue::Array(col.clone())],
                    arg_fields: vec![Arc::new(variant_field("v"))],
                    number_rows: col.len(),
                    return_field: Arc::new(Field::new("j", DataType::Utf8, true)),
                    config_options: Arc::new(ConfigOptions::default()),
                };
                match f.invoke_with_args(args).expect("json") {
                    ColumnarValue::Array(a) => a,
                    ColumnarValue::Scalar(_) => unreachable!("array in, array out"),
                }
            })
            .collect()
    };
    let from_json = udf("mp_from_json");
    g.bench_function("from_json", |b| b.iter(|| call(&from_json, &json, &[], DataType::Utf8)));
    let pack = udf("mp_pack");
    g.bench_function("pack (utf8 column)", |b| b.iter(|| call(&pack, &json, &[], DataType::Utf8)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
