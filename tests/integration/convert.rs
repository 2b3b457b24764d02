//! `mpq convert`, `COPY ... TO` and `mpq schema --ddl` through the real binary: every format
//! read back by DataFusion's own readers, safe output (existing outputs kept, nothing left
//! after an error or a kill), Hive partitioning, DDL. Independent readers (pyarrow, DuckDB)
//! check the values in `tests/py/test_convert.py`.

use crate::common::{check_golden, int_records, mpq};
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::{CsvReadOptions, JsonReadOptions, ParquetReadOptions, SessionContext};
use std::path::Path;

/// Runs mpq, expects success, returns stderr.
fn run(args: &[&str]) -> String {
    let out = mpq().args(args).output().expect("run");
    assert!(out.status.success(), "mpq {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).expect("utf8")
}

/// Names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into()).collect();
    v.sort();
    v
}

/// `SELECT count(*), count(service), sum(status)` over a registered table `x`.
/// (Variant values are compared in full in `tests/py/test_convert.py`: DataFusion's own JSON
/// reader cannot read the mixed-type `code` back.)
async fn fingerprint(ctx: &SessionContext) -> (i64, i64, i64) {
    let b = ctx
        .sql("SELECT count(*), count(service), CAST(sum(status) AS BIGINT) FROM x")
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    let v = |i: usize| b[0].column(i).as_primitive::<Int64Type>().value(0);
    (v(0), v(1), v(2))
}

#[tokio::test]
async fn every_format_reads_back_with_the_same_rows() {
    let dir = tempfile::tempdir().expect("tmp");
    let ctx = SessionContext::new();
    mpq::SessionContextExt::register_msgpack(&ctx, "x", "testdata/logs.msgpack", mpq::MsgpackReadOptions::default())
        .await
        .expect("register");
    let expected = fingerprint(&ctx).await;
    assert_eq!(expected.0, 2000);
    for name in ["logs.parquet", "logs.arrow", "logs.ndjson", "logs.csv", "logs.csv.gz", "logs.ndjson.zst"] {
        let out = dir.path().join(name);
        let out_s = out.to_str().expect("utf8");
        let mut args = vec!["convert", "testdata/logs.msgpack", "-o", out_s];
        if name.ends_with(".gz") {
            args.extend(["--compression", "gzip"]);
        } else if name.ends_with(".zst") {
            args.extend(["--compression", "zstd"]);
        }
        let err = run(&args);
        assert!(err.starts_with("mpq: 2000 records read, 2000 rows written to "), "{err}");
        assert!(err.contains(" 0 rejected, "), "{err}");
        let ctx = SessionContext::new();
        match name {
            "logs.parquet" => ctx.register_parquet("x", out_s, ParquetReadOptions::default()).await,
            "logs.arrow" => ctx.register_arrow("x", out_s, Default::default()).await,
            "logs.ndjson" => ctx.register_json("x", out_s, JsonReadOptions::default().file_extension(".ndjson")).await,
            "logs.ndjson.zst" => {
                let o = JsonReadOptions::default().file_extension(".ndjson.zst").file_compression_type(
                    datafusion::datasource::file_format::file_compression_type::FileCompressionType::ZSTD,
                );
                ctx.register_json("x", out_s, o).await
            }
            "logs.csv" => ctx.register_csv("x", out_s, CsvReadOptions::default()).await,
            _ => {
                let o = CsvReadOptions::default().file_extension(".csv.gz").file_compression_type(
                    datafusion::datasource::file_format::file_compression_type::FileCompressionType::GZIP,
                );
                ctx.register_csv("x", out_s, o).await
            }
        }
        .expect("register output");
        assert_eq!(fingerprint(&ctx).await, expected, "{name}");
    }
    assert_eq!(listing(dir.path()).len(), 6, "no temporaries left: {:?}", listing(dir.path()));
}

#[tokio::test]
async fn parquet_marks_variant_columns_as_json() {
    let dir = tempfile::tempdir().expect("tmp");
    let json = dir.path().join("json.parquet");
    let raw = dir.path().join("raw.parquet");
    run(&["convert", "testdata/logs.msgpack", "-o", json.to_str().expect("utf8")]);
    run(&["convert", "testdata/logs.msgpack", "-o", raw.to_str().expect("utf8"), "--variant", "msgpack"]);
    let file = std::fs::File::open(&json).expect("open");
    let reader = datafusion::parquet::file::reader::SerializedFileReader::new(file).expect("parquet");
    use datafusion::parquet::file::reader::FileReader;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let code = schema.columns().iter().find(|c| c.name() == "code").expect("code column");
    assert_eq!(code.logical_type_ref(), Some(&datafusion::parquet::basic::LogicalType::Json));
    // The raw variant keeps the MessagePack bytes: mp_ functions still read them.
    let ctx = mpq::session::session(&mpq::MsgpackReadOptions::default(), 0).expect("session");
    ctx.register_parquet("r", raw.to_str().expect("utf8"), ParquetReadOptions::default()).await.expect("register");
    ctx.register_parquet("j", json.to_str().expect("utf8"), ParquetReadOptions::default()).await.expect("register");
    let b = ctx
        .sql(
            "SELECT count(*) FROM (SELECT mp_to_json(code) AS c, row_number() OVER () AS n FROM r) a \
             JOIN (SELECT code AS c, row_number() OVER () AS n FROM j) b USING (n) WHERE a.c IS DISTINCT FROM b.c",
        )
        .await
        .expect("sql")
        .collect()
        .await
        .expect("collect");
    assert_eq!(b[0].column(0).as_primitive::<Int64Type>().value(0), 0);
}

#[test]
fn existing_outputs_are_kept_unless_forced() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("o.parquet");
    let o = out.to_str().expect("utf8");
    std::fs::write(&out, b"precious").expect("write");
    let r = mpq().args(["convert", "testdata/logs.msgpack", "-o", o]).output().expect("run");
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&r.stderr), format!("mpq: error: {o}: already exists; --force replaces it\n"));
    assert_eq!(std::fs::read(&out).expect("read"), b"precious");
    run(&["convert", "testdata/logs.msgpack", "-o", o, "--force"]);
    assert!(std::fs::read(&out).expect("read").starts_with(b"PAR1"));
    assert_eq!(listing(dir.path()), ["o.parquet"]);
}

#[test]
fn failed_conversions_leave_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("o.parquet");
    let o = out.to_str().expect("utf8");
    // A query error, before anything is written.
    let r = mpq().args(["convert", "testdata/logs.msgpack", "-o", o, "--query", "SELECT nope FROM t"]).output();
    assert_eq!(r.expect("run").status.code(), Some(2));
    // A framing error in the middle of the input: convert fails by default.
    let cut = dir.path().join("cut.msgpack");
    let mut bytes = int_records("a", &(0..20_000).collect::<Vec<_>>());
    bytes.extend_from_slice(&[0x81, 0xa1]);
    std::fs::write(&cut, &bytes).expect("write");
    let r = mpq().args(["convert", cut.to_str().expect("utf8"), "-o", o]).output().expect("run");
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("record 20000 at byte "), "{err}");
    assert!(err.contains("framing error"), "{err}");
    assert_eq!(listing(dir.path()), ["cut.msgpack"]);
    // With --framing truncate the good records are converted and the drop is reported.
    let err = run(&["convert", cut.to_str().expect("utf8"), "-o", o, "--framing", "truncate"]);
    assert!(err.starts_with("mpq: 20000 records read, 20000 rows written to "), "{err}");
    assert!(err.contains("1 files truncated at a framing error"), "{err}");
}

#[test]
fn a_killed_conversion_leaves_no_partial_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let big = dir.path().join("big.msgpack");
    run(&["generate", "--records", "400000", "--out", big.to_str().expect("utf8")]);
    for signal in ["TERM", "INT"] {
        let out = dir.path().join("big.parquet");
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mpq"))
            // Small row groups: the writer writes while it reads, so there is a partial file.
            .args([
                "convert",
                big.to_str().expect("utf8"),
                "-o",
                out.to_str().expect("utf8"),
                "--row-group-size",
                "5000",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        // Wait (bounded) until the temporary output exists, then signal.
        let mut seen = false;
        for _ in 0..600 {
            if listing(dir.path()).iter().any(|n| n.starts_with(".big.parquet.mpq-tmp-")) {
                seen = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(seen, "the converter never started writing");
        let sent = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(130), "{status:?}");
        assert_eq!(listing(dir.path()), ["big.msgpack"], "signal {signal}");
    }
}

#[tokio::test]
async fn partitioned_output_is_hive_style() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("warehouse/logs");
    let o = out.to_str().expect("utf8");
    run(&[
        "convert",
        "testdata/logs.msgpack",
        "-o",
        o,
        "--partition-by",
        "dt,level",
        "--query",
        "SELECT *, CAST(ts AS DATE) AS dt FROM t",
    ]);
    let days = listing(&out);
    assert!(!days.is_empty() && days.iter().all(|d| d.starts_with("dt=")), "{days:?}");
    let levels = listing(&out.join(&days[0]));
    assert!(levels.iter().all(|l| l.starts_with("level=")), "{levels:?}");
    assert_eq!(listing(dir.path()), ["warehouse"], "no temporaries left");
    // Read back with the partition columns restored from the directory names.
    let ctx = SessionContext::new();
    let opts = ParquetReadOptions::default().table_partition_cols(vec![
        ("dt".to_string(), datafusion::arrow::datatypes::DataType::Utf8),
        ("level".to_string(), datafusion::arrow::datatypes::DataType::Utf8),
    ]);
    ctx.register_parquet("x", &format!("{o}/"), opts).await.expect("register");
    let n = ctx.sql("SELECT count(*) FROM x WHERE level = 'error'").await.expect("sql").collect().await.expect("run");
    let src = mpq()
        .args([
            "query",
            "SELECT count(*) AS n FROM t WHERE level = 'error'",
            "testdata/logs.msgpack",
            "--format",
            "csv",
        ])
        .output()
        .expect("run");
    assert_eq!(
        format!("n\n{}\n", n[0].column(0).as_primitive::<Int64Type>().value(0)),
        String::from_utf8_lossy(&src.stdout)
    );
}

#[test]
fn copy_to_writes_safely_and_in_the_written_form() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("errors.ndjson");
    let sql = format!("COPY (SELECT ts, code FROM t WHERE level = 'error' ORDER BY ts) TO '{}'", out.display());
    let r = mpq().args(["query", &sql, "testdata/logs.msgpack", "--format", "csv"]).output().expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let copied = std::fs::read_to_string(&out).expect("read");
    let direct = mpq()
        .args([
            "query",
            "SELECT ts, code FROM t WHERE level = 'error' ORDER BY ts",
            "testdata/logs.msgpack",
            "--format",
            "ndjson",
        ])
        .output()
        .expect("run");
    assert_eq!(copied, String::from_utf8_lossy(&direct.stdout), "COPY writes what the query prints");
    assert_eq!(String::from_utf8_lossy(&r.stdout), format!("count\n{}\n", copied.lines().count()));
    let again = mpq().args(["query", &sql, "testdata/logs.msgpack"]).output().expect("run");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists; --force replaces it"));
    let forced = mpq().args(["query", &sql, "testdata/logs.msgpack", "--force"]).output().expect("run");
    assert!(forced.status.success());
    assert_eq!(listing(dir.path()), ["errors.ndjson"]);
    // OPTIONS (variant 'msgpack') keeps the raw bytes; the default is JSON text.
    for (variant, expected) in [("", "Utf8"), (" OPTIONS (variant 'msgpack')", "Binary")] {
        let out = dir.path().join(format!("v{}.parquet", variant.len()));
        let sql = format!("COPY (SELECT code FROM t) TO '{}'{variant}", out.display());
        let r = mpq().args(["query", &sql, "testdata/logs.msgpack"]).output().expect("run");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let file = std::fs::File::open(&out).expect("open");
        let reader =
            datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet");
        assert_eq!(reader.schema().field(0).data_type().to_string(), expected);
    }
}

#[test]
fn ddl_for_every_dialect() {
    let mut all = String::new();
    for dialect in ["hive", "spark", "duckdb"] {
        let out = mpq()
            .args([
                "schema",
                "testdata/logs.msgpack",
                "--ddl",
                dialect,
                "--table-name",
                "logs",
                "--location",
                "/warehouse/logs",
                "--partition-by",
                "dt",
                "--query",
                "SELECT *, CAST(ts AS DATE) AS dt FROM t",
            ])
            .output()
            .expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        all += &format!("-- {dialect}\n{}\n", String::from_utf8_lossy(&out.stdout));
    }
    check_golden("cli_ddl.txt", &all);
}

/// Dictionaries stop at 64 KiB (`convert::DICTIONARY_PAGE_BYTES`): a column of unique values
/// falls back to plain pages early, one of few values stays dictionary-encoded.
#[test]
fn nearly_unique_columns_fall_back_to_plain_pages() {
    use datafusion::parquet::basic::Encoding;
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    let dir = tempfile::tempdir().expect("tmp");
    let mut bytes = Vec::new();
    for i in 0..20_000u32 {
        // {"id": "request-000000000001", "level": "info"}: 20 bytes of unique id (400 KB).
        bytes.extend_from_slice(b"\x82\xa2id\xb4");
        bytes.extend_from_slice(format!("request-{i:012}").as_bytes());
        bytes.extend_from_slice(b"\xa5level\xa4info");
    }
    let input = dir.path().join("ids.msgpack");
    std::fs::write(&input, &bytes).expect("write");
    let out = dir.path().join("ids.parquet");
    run(&["convert", input.to_str().expect("path"), "-o", out.to_str().expect("path")]);
    let reader = SerializedFileReader::new(std::fs::File::open(&out).expect("open")).expect("parquet");
    let rg = reader.get_row_group(0).expect("row group");
    // The encodings of a column's data pages.
    let encodings = |name: &str| {
        let i = reader.metadata().row_group(0).columns().iter().position(|c| c.column_path().string() == name);
        let pages = rg.get_column_page_reader(i.expect("column")).expect("pages");
        pages
            .map(|p| p.expect("page"))
            .filter(|p| p.page_type() != datafusion::parquet::basic::PageType::DICTIONARY_PAGE)
            .map(|p| p.encoding())
            .collect::<Vec<_>>()
    };
    assert!(encodings("id").contains(&Encoding::PLAIN), "unique ids fell back to plain: {:?}", encodings("id"));
    assert!(encodings("level").iter().all(|e| *e == Encoding::RLE_DICTIONARY), "{:?}", encodings("level"));
}
