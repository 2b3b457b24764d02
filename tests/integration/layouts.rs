//! Every layout, compression and input kind of `testdata/layouts/` (made by msgpack-python,
//! see `testdata/make_layouts.py`) through the real binary: `mpq cat` gives the six expected
//! events from each, `mpq query` and `mpq schema` read them, detection names the right layout
//! for every file of the test corpus, and a forced wrong layout is an error.

use crate::common::{mpq, root};
use mpq::framing::{LAYOUTS, Layout, check_forced, detect};
use mpq::input::compression::{Compression, decompress};
use serde_json::Value;

fn run(args: &[&str]) -> (String, String) {
    let out = mpq().args(args).output().expect("run");
    assert!(out.status.success(), "mpq {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8(out.stdout).expect("utf8"), String::from_utf8(out.stderr).expect("utf8"))
}

fn fails(args: &[&str]) -> String {
    let out = mpq().args(args).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "mpq {args:?} should fail");
    String::from_utf8(out.stderr).expect("utf8")
}

/// The six events every fixture holds: (time in ns, record).
fn expected() -> Vec<(i64, Value)> {
    let text = std::fs::read_to_string(root().join("testdata/layouts/expected.json")).expect("expected.json");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["time_ns"].as_i64().expect("ns"), e["record"].clone()))
        .collect()
}

fn rfc3339(ns: i64) -> String {
    mpq_wire::ext::rfc3339(ns)
}

fn cat_lines(args: &[&str]) -> Vec<Value> {
    let (out, _) = run(args);
    out.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect()
}

/// Compares `mpq cat` of a fixture with the expectation: times (whole seconds when the file
/// has integer times), the tag when the layout has one, the records.
fn check_cat(file: &str, tag: Option<&str>, whole_seconds: bool, metadata: bool) {
    let lines = cat_lines(&["cat", &format!("testdata/layouts/{file}")]);
    let want = expected();
    assert_eq!(lines.len(), want.len(), "{file}");
    for (line, (ns, record)) in lines.iter().zip(&want) {
        let ns = if whole_seconds { ns - ns % 1_000_000_000 } else { *ns };
        assert_eq!(line["time"], Value::String(rfc3339(ns)), "{file}: {line}");
        assert_eq!(line.get("tag").and_then(Value::as_str), tag, "{file}: {line}");
        assert_eq!(line.get("metadata").is_some(), metadata, "{file}: {line}");
        assert_eq!(&line["record"], record, "{file}: {line}");
    }
}

#[test]
fn every_layout_and_compression_gives_the_same_events() {
    check_cat("fluentbit.msgpack", None, false, true);
    for f in [
        "forward_message",
        "forward_forward",
        "forward_packed",
        "forward_compressed",
        "forward_compressed_zstd",
        "forward_mixed",
    ] {
        check_cat(&format!("{f}.msgpack"), Some("app.web"), false, false);
    }
    check_cat("forward_message_int_time.msgpack", Some("app.web"), true, false);
    for f in ["events.msgpack.gz", "events.msgpack.zst", "events_gz_no_extension"] {
        check_cat(f, None, false, false);
    }
    // Standard input, gzip-compressed, streamed.
    let gz = std::fs::read(root().join("testdata/layouts/events.msgpack.gz")).expect("gz");
    let out = mpq().args(["cat", "-"]).write_stdin(gz).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> =
        String::from_utf8(out.stdout).expect("utf8").lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    let want = expected();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[5]["record"], want[5].1);
    assert_eq!(lines[1]["time"], Value::String(rfc3339(want[1].0)));
}

#[test]
fn metadata_and_tag_columns_in_sql() {
    let (out, _) = run(&[
        "query",
        "SELECT metadata ->> 'source' AS src, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
        "testdata/layouts/fluentbit.msgpack",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "src,n\ntail,3\n,3\n");
    let (out, _) = run(&[
        "query",
        "SELECT tag, count(*) AS n, sum(status) AS s FROM t GROUP BY 1",
        "testdata/layouts/forward_mixed.msgpack",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "tag,n,s\napp.web,6,1806\n");
}

#[test]
fn buffer_chunks_take_tag_and_count_from_their_sidecars() {
    let (out, err) = run(&[
        "query",
        "SELECT tag, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
        "testdata/layouts/buffer/",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "tag,n\napp.queued,3\napp.staged,3\n");
    let path = root().join("testdata/layouts/buffer/buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f7.log");
    assert_eq!(
        err,
        format!(
            "mpq: 6 records read; 1 warnings\nmpq: {}: the buffer chunk holds 3 records, but its .meta sidecar says 4\n",
            path.display()
        )
    );
    let (out, _) = run(&["schema", "testdata/layouts/buffer/", "--format", "json", "--sample-only"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    let files = v["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "the sidecars are not inputs: {files:?}");
    let evidence = files[1]["evidence"].as_str().expect("evidence");
    assert!(evidence.contains("gzip-compressed") && evidence.contains("tag \"app.queued\""), "{evidence}");
}

#[test]
fn hive_partitions_globs_and_directories() {
    let (out, _) = run(&[
        "query",
        "SELECT dt, hour, count(*) AS n, min(ts) AS first FROM t GROUP BY 1, 2 ORDER BY 2",
        "testdata/layouts/hive/",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "dt,hour,n,first\n2026-11-21,01,3,1763683200\n2026-11-21,02,3,1763683203\n");
    let count = |args: &[&str]| run(&[&["query", "SELECT count(*) AS n FROM t", "--format", "csv"], args].concat()).0;
    assert_eq!(count(&["testdata/layouts/nested/**/*.msgpack"]), "n\n6\n");
    assert_eq!(count(&["testdata/layouts/nested/", "--ext", ".msgpack"]), "n\n6\n");
    let lines = cat_lines(&["cat", "testdata/layouts/hive/", "--limit", "1"]);
    assert_eq!(lines[0]["dt"], "2026-11-21");
    assert_eq!(lines[0]["hour"], "01");
    assert_eq!(lines[0]["record"]["service"], "api");
    let (out, _) = run(&["schema", "testdata/layouts/hive/", "--sample-only"]);
    assert!(out.contains("  hour: Utf8  Hive partition column, from directory names (name=value)"), "{out}");
}

#[test]
fn forcing_a_wrong_layout_is_an_error() {
    let err = fails(&["query", "SELECT * FROM t", "testdata/layouts/fluentbit.msgpack", "--layout", "events"]);
    let path = root().join("testdata/layouts/fluentbit.msgpack");
    assert_eq!(
        err,
        format!(
            "mpq: error: {}: the first record at byte 0 does not fit the events layout given by --layout \
             (a [time, map] array); detection says fluentbit: 6 of the first 6 records are [[time, metadata], map] \
             arrays (Fluent Bit) [[92] 92 d7 00 69 1f ab 80]\n",
            path.display()
        )
    );
    let (out, _) = run(&["query", "SELECT count(*) AS n FROM t", "testdata/events.msgpack", "--layout", "events"]);
    assert!(out.contains("| 6 |"), "{out}");
}

/// The bytes a file holds once decompressed.
fn plain_bytes(rel: &str) -> Vec<u8> {
    let raw = std::fs::read(root().join(rel)).expect("read");
    match Compression::of(&raw) {
        Some(c) => decompress(&raw, c, 1 << 30).expect("decompress").bytes,
        None => raw,
    }
}

#[test]
fn detection_never_mistakes_a_layout_on_the_corpus() {
    let corpus = [
        ("testdata/logs.msgpack", Layout::Records),
        ("testdata/events.msgpack", Layout::Events),
        ("testdata/mixed.msgpack", Layout::Values),
        ("testdata/golden/py_formats.msgpack", Layout::Records),
        ("testdata/golden/py_values.msgpack", Layout::Values),
        ("testdata/golden/py_conflicts.msgpack", Layout::Records),
        ("testdata/golden/rb_records.msgpack", Layout::Records),
        ("testdata/layouts/fluentbit.msgpack", Layout::FluentBit),
        ("testdata/layouts/forward_message.msgpack", Layout::Forward),
        ("testdata/layouts/forward_message_int_time.msgpack", Layout::Forward),
        ("testdata/layouts/forward_forward.msgpack", Layout::Forward),
        ("testdata/layouts/forward_packed.msgpack", Layout::Forward),
        ("testdata/layouts/forward_compressed.msgpack", Layout::Forward),
        ("testdata/layouts/forward_mixed.msgpack", Layout::Forward),
        ("testdata/layouts/forward_compressed_zstd.msgpack", Layout::Forward),
        ("testdata/layouts/events.msgpack.gz", Layout::Events),
        ("testdata/layouts/events.msgpack.zst", Layout::Events),
        ("testdata/layouts/events_gz_no_extension", Layout::Events),
        ("testdata/layouts/buffer/buffer.b5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f6.log", Layout::Events),
        ("testdata/layouts/buffer/buffer.q5e2f0c1a9d3b4c7e8f90a1b2c3d4e5f7.log", Layout::Events),
        ("testdata/layouts/hive/dt=2026-11-21/hour=01/part-0.msgpack", Layout::Records),
    ];
    for (file, want) in corpus {
        let bytes = plain_bytes(file);
        let d = detect(&bytes, 128);
        assert_eq!(d.layout, want, "{file}: {}", d.evidence);
        // Every other layout, forced, is refused (the values layout takes any value; the
        // values file starts with a map, so the records layout reads it with record errors).
        let takes =
            |l: Layout| l == want || l == Layout::Values || (file.ends_with("mixed.msgpack") && l == Layout::Records);
        for other in LAYOUTS.into_iter().filter(|l| !takes(*l)) {
            assert!(check_forced(&bytes, other, 128).is_err(), "{file} forced to {}", other.name());
        }
    }
}

#[test]
fn damaged_and_oversized_compressed_inputs() {
    let dir = tempfile::tempdir().expect("tmp");
    let whole = std::fs::read(root().join("testdata/layouts/events_gz_no_extension")).expect("gz");
    let cut = dir.path().join("cut.msgpack.gz");
    std::fs::write(&cut, &whole[..whole.len() - 12]).expect("write");
    let cut = cut.display().to_string();
    // The records that decompressed before the damage are kept, with a warning.
    let (out, err) = run(&["query", "SELECT count(*) AS n FROM t", &cut, "--format", "csv"]);
    let kept: u64 = out.lines().nth(1).expect("n").parse().expect("number");
    assert!((1..6).contains(&kept), "{out}");
    assert!(err.starts_with(&format!("mpq: {kept} records read; 1 files truncated at a framing error\n")), "{err}");
    assert!(
        err.contains(
            "; expected more input, found a read error after 310 bytes: incomplete deflate stream; \
             kept the 5 records before it, dropped the rest of the stream"
        ),
        "{err}"
    );
    let err = fails(&["query", "SELECT count(*) FROM t", &cut, "--framing", "fail"]);
    assert_eq!(
        err,
        format!(
            "mpq: error: {cut}: record 5 at byte 257: framing error at byte 310: expected more input, found a read \
             error after 310 bytes: incomplete deflate stream [00 a4 75 73 65 72 81 a2 <end of input>]\n"
        )
    );
    // Scans decompress as they read; only inference over every record holds a compressed
    // input decompressed, within the limit.
    let zst = "testdata/layouts/events.msgpack.zst";
    let (out, _) =
        run(&["query", "SELECT count(*) AS n FROM t", zst, "--max-decompressed-bytes", "100", "--format", "csv"]);
    assert_eq!(out, "n\n6\n");
    let err =
        fails(&["query", "SELECT count(*) FROM t", zst, "--max-decompressed-bytes", "100", "--infer-rows", "all"]);
    let path = root().join(zst);
    assert_eq!(
        err,
        format!(
            "mpq: error: {}: the input decompresses to more than 100 bytes, the most inference over every record \
             holds (--max-decompressed-bytes raises it)\n",
            path.display()
        )
    );
}

/// Reads one byte per call, so a stream's batches end anywhere, inside forward entries too.
struct Trickle(std::io::Cursor<Vec<u8>>);

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(1);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn forward_entries_resume_between_batches_in_slices_and_streams() {
    use mpq::MsgpackReadOptions;
    use mpq::reader::{decode_reader, decode_slice, infer_schema};
    for f in ["forward_forward", "forward_packed", "forward_mixed", "fluentbit"] {
        let bytes = mpq::input::prepare(
            mpq::input::source::FileBytes::in_memory(
                std::fs::read(root().join(format!("testdata/layouts/{f}.msgpack"))).expect("read").into(),
            ),
            f,
            &MsgpackReadOptions::default(),
        )
        .expect("prepare")
        .bytes
        .bytes
        .to_vec();
        let whole_opts = MsgpackReadOptions::default();
        let schema = infer_schema(&bytes, &whole_opts).expect("schema");
        let render = |batches: Vec<datafusion::arrow::array::RecordBatch>| crate::common::table(&batches);
        let whole: Vec<_> = decode_slice(&bytes, schema.clone(), None, &whole_opts)
            .expect("decode")
            .map(|b| b.expect("batch"))
            .collect();
        let want = render(whole);
        for batch_size in 1..=4 {
            let opts = MsgpackReadOptions::default().batch_size(batch_size);
            let sliced: Vec<_> =
                decode_slice(&bytes, schema.clone(), None, &opts).expect("decode").map(|b| b.expect("batch")).collect();
            assert_eq!(render(sliced), want, "{f}: slices of {batch_size}");
            let streamed: Vec<_> =
                decode_reader(Trickle(std::io::Cursor::new(bytes.clone())), schema.clone(), None, &opts)
                    .expect("decode")
                    .map(|b| b.expect("batch"))
                    .collect();
            assert_eq!(render(streamed), want, "{f}: stream in batches of {batch_size}");
        }
    }
}

/// A compressed file larger than the split threshold (10 MiB) is not cut into byte ranges of
/// the compressed bytes: every record is read once, on any number of cores.
#[test]
fn a_large_compressed_file_is_read_whole() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tmp");
    let raw = dir.path().join("big.msgpack");
    let raw_s = raw.display().to_string();
    run(&["generate", "--records", "200000", "--out", &raw_s]);
    let gz = dir.path().join("big.msgpack.gz");
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&std::fs::read(&raw).expect("read")).expect("gzip");
    std::fs::write(&gz, e.finish().expect("gzip")).expect("write");
    assert!(std::fs::metadata(&gz).expect("meta").len() > 10 << 20, "too small to be split");
    // Old enough to be memory-mapped (and so considered for splitting) under --mmap auto.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&gz).expect("open").set_modified(old).expect("mtime");
    let gz = gz.display().to_string();
    for threads in ["1", "3"] {
        let (out, _) = run(&["--threads", threads, "query", "SELECT count(*) AS n FROM t", &gz, "--format", "csv"]);
        assert_eq!(out, "n\n200000\n", "--threads {threads}");
    }
}

/// `mpq schema` names each fixture's layout and `mpq query` counts its six records, from the
/// file and (for single-file inputs) from standard input.
#[test]
fn schema_and_query_read_every_fixture() {
    let fixtures = [
        ("fluentbit.msgpack", "fluentbit"),
        ("forward_message.msgpack", "forward"),
        ("forward_message_int_time.msgpack", "forward"),
        ("forward_forward.msgpack", "forward"),
        ("forward_packed.msgpack", "forward"),
        ("forward_compressed.msgpack", "forward"),
        ("forward_compressed_zstd.msgpack", "forward"),
        ("forward_mixed.msgpack", "forward"),
        ("events.msgpack.gz", "events"),
        ("events.msgpack.zst", "events"),
        ("events_gz_no_extension", "events"),
        ("buffer/", "events"),
        ("hive/", "records"),
    ];
    for (name, layout) in fixtures {
        let path = format!("testdata/layouts/{name}");
        let (out, _) = run(&["schema", &path, "--format", "json"]);
        let v: Value = serde_json::from_str(&out).expect("json");
        for f in v["files"].as_array().expect("files") {
            assert_eq!(f["layout"], layout, "{name}: {f}");
        }
        assert_eq!(v["extra"]["records_scanned"], 6, "{name}");
        let (out, _) =
            run(&["query", "SELECT count(*) AS n, count(DISTINCT service) AS s FROM t", &path, "--format", "csv"]);
        assert_eq!(out, "n,s\n6,3\n", "{name}");
        if name.ends_with('/') {
            continue; // directories are not streams
        }
        let bytes = std::fs::read(root().join(&path)).expect("read");
        let out = mpq().args(["schema", "-", "--format", "json"]).write_stdin(bytes.clone()).output().expect("run");
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v["files"][0]["layout"], layout, "{name} on stdin");
        let out = mpq()
            .args(["query", "SELECT count(*) AS n FROM t", "-", "--format", "csv"])
            .write_stdin(bytes)
            .output()
            .expect("run");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n6\n", "{name} on stdin");
    }
}
