//! Bad and hostile input through the real binary: the corpus of `testdata/hostile/` against a
//! golden file of exact output, messages and rejects lines; the error policies (`--framing`,
//! `--on-error`, `--max-errors`), `_corrupt_record`, `--rejects`, the limits as options, and
//! each command's defaults.

use crate::common::{check_golden, mpq, root};
use serde_json::Value;

/// Exit code, stdout and stderr (with the repository root taken out of paths).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = mpq().args(args).output().expect("run");
    let prefix = format!("{}/", root().display());
    let text = |b: Vec<u8>| String::from_utf8_lossy(&b).replace(&prefix, "");
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

fn hostile(name: &str) -> String {
    format!("testdata/hostile/{name}")
}

#[test]
fn hostile_corpus_keeps_the_good_records_and_names_every_problem() {
    let dir = tempfile::tempdir().expect("tmp");
    let rejects = dir.path().join("rejects.ndjson");
    let rejects_arg = rejects.display().to_string();
    let mut names: Vec<String> = std::fs::read_dir(root().join("testdata/hostile"))
        .expect("corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".msgpack"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "{names:?}");
    let mut golden = String::new();
    for name in &names {
        let file = hostile(name);
        let (code, out, err) =
            run(&["query", "SELECT * FROM t", &file, "--format", "ndjson", "--rejects", &rejects_arg]);
        let lines = std::fs::read_to_string(&rejects).expect("rejects written");
        for line in lines.lines() {
            let v: Value = serde_json::from_str(line).expect("each rejects line is JSON");
            for field in ["file", "record", "record_offset", "offset", "kind", "message", "hex", "action"] {
                assert!(v.get(field).is_some(), "{name}: {field} missing from {line}");
            }
        }
        let lines = lines.replace(&format!("{}/", root().display()), "");
        golden.push_str(&format!("== {name}: exit {code}\n{out}-- stderr\n{err}-- rejects\n{lines}\n"));
    }
    check_golden("hostile.txt", &golden);
}

#[test]
fn on_error_null_drop_fail_and_the_corrupt_record_column() {
    let file = hostile("not_a_map.msgpack");
    let sql = "SELECT id, _corrupt_record FROM t";
    let (code, out, err) = run(&["query", sql, &file, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "id,_corrupt_record\n0,\n1,\n,5\n3,\n4,\n");
    assert_eq!(
        err,
        "mpq: 5 records read; 1 record errors (values set to NULL)\n\
         mpq: testdata/hostile/not_a_map.msgpack: record 2 at byte 28: record error at byte 28: expected a map, \
         found an int [6d 73 67 a4 6f 6b 20 31 [05] 82 a2 69 64 03 a3 6d]\n"
    );
    let (code, out, err) = run(&["query", "SELECT id FROM t", &file, "--format", "csv", "--on-error", "drop"]);
    assert_eq!((code, out.as_str()), (0, "id\n0\n1\n3\n4\n"), "{err}");
    assert!(err.starts_with("mpq: 5 records read; 1 records dropped for record errors\n"), "{err}");
    // count(*) reads no column, yet finds and drops the record too.
    let (_, out, _) = run(&["query", "SELECT count(*) AS n FROM t", &file, "--format", "csv", "--on-error", "drop"]);
    assert_eq!(out, "n\n4\n");
    let (code, out, err) = run(&["query", "SELECT id FROM t", &file, "--on-error", "fail"]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(
        err,
        "mpq: error: testdata/hostile/not_a_map.msgpack: record 2 at byte 28: record error at byte 28: expected a \
         map, found an int [6d 73 67 a4 6f 6b 20 31 [05] 82 a2 69 64 03 a3 6d]\n"
    );
    // --corrupt-record adds the column to `select *` as well.
    let (_, out, _) =
        run(&["query", "SELECT * FROM t WHERE id IS NULL", &file, "--format", "ndjson", "--corrupt-record"]);
    assert_eq!(out, "{\"id\":null,\"msg\":null,\"_extra\":null,\"_corrupt_record\":5}\n");
}

#[test]
fn max_errors_stops_the_scan() {
    let file = hostile("bad_nanos.msgpack");
    let (code, _, err) = run(&["query", "SELECT n FROM t", &file, "--max-errors", "1"]);
    assert_eq!(code, 0, "the time column is not read, so nothing is wrong: {err}");
    let (code, _, err) = run(&["query", "SELECT n, time FROM t", &file, "--max-errors", "1"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "mpq: error: stopped after 2 problems in the input, more than --max-errors 1 allows; the last: \
         testdata/hostile/bad_nanos.msgpack: record 2 at byte 30: record error at byte 31: bad event time: expected \
         nanoseconds below 1000000000, found 2000000000 [68 2f 00 81 a1 6e 01 92 [c7] 0c ff 77 35 94 00 00]\n"
    );
    let (code, _, err) = run(&["query", "SELECT n, time FROM t", &file, "--max-errors", "2"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn convert_fails_by_default_and_keeps_no_partial_output() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, kind) in [("not_a_map.msgpack", "record error"), ("truncated.msgpack", "framing error")] {
        let out = dir.path().join(format!("{name}.parquet"));
        let out_arg = out.display().to_string();
        let rejects = dir.path().join(format!("{name}.rejects"));
        let rejects_arg = rejects.display().to_string();
        let (code, _, err) = run(&["convert", &hostile(name), "-o", &out_arg, "--rejects", &rejects_arg]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(kind), "{err}");
        assert!(!out.exists(), "no output under the requested name");
        // The problem that stopped the conversion is in the rejects file too.
        let line = std::fs::read_to_string(&rejects).expect("rejects");
        assert!(line.ends_with("\"action\":\"failed\"}\n") && line.lines().count() == 1, "{line}");
        let (code, _, err) =
            run(&["convert", &hostile(name), "-o", &out_arg, "--on-error", "null", "--framing", "truncate"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.exists());
        assert!(err.contains(" 1 rejected,"), "{err}");
    }
}

#[test]
fn cat_and_schema_keep_the_good_records_and_warn() {
    let file = hostile("zero_tail.msgpack");
    let (code, out, err) = run(&["cat", &file]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(err.starts_with("mpq: 3 records read; 1 files truncated at a framing error\n"), "{err}");
    let (code, out, err) = run(&["schema", &file]);
    assert_eq!(code, 0);
    assert!(out.contains("id: Int64"), "{out}");
    assert!(err.contains("found a zero-filled tail of 4096 bytes"), "{err}");
}

#[test]
fn limits_are_options() {
    let file = "testdata/logs.msgpack";
    let (code, out, err) = run(&["query", "SELECT count(*) AS n FROM t", file, "--format", "csv"]);
    assert_eq!((code, out.as_str()), (0, "n\n2000\n"), "{err}");
    let (code, out, err) =
        run(&["query", "SELECT count(*) AS n FROM t", file, "--format", "csv", "--max-record-bytes", "40"]);
    assert_eq!((code, out.as_str()), (0, "n\n0\n"), "{err}");
    assert!(err.contains("framing error at byte 0: expected a record of at most 40 bytes, found one of "), "{err}");
    let (code, _, err) = run(&["query", "SELECT count(*) FROM t", file, "--max-depth", "1", "--framing", "fail"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected nesting of at most 1 levels, found deeper nesting"), "{err}");
    let (code, _, err) = run(&["query", "SELECT 1", file, "--max-depth", "5000"]);
    assert_eq!(code, 2);
    assert_eq!(err, "mpq: error: invalid option: max depth must be 1..=1024, not 5000\n");
}

/// A file of `n` plain records, `{"i": k, "pad": "..."}`, about 60 bytes each.
fn padded_records(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for k in 0..n {
        rmp::encode::write_map_len(&mut out, 2).expect("vec");
        rmp::encode::write_str(&mut out, "i").expect("vec");
        rmp::encode::write_uint(&mut out, k as u64).expect("vec");
        rmp::encode::write_str(&mut out, "pad").expect("vec");
        rmp::encode::write_str(&mut out, "a padding string of some fifty bytes, or so.....").expect("vec");
    }
    out
}

/// Streams `SELECT i FROM t` over a memory-mapped `path`, calls `change` after the first
/// batch, and returns the rows read and the error that ended the stream, if any.
async fn query_while_changing(path: &std::path::Path, change: impl FnOnce()) -> (usize, Option<String>) {
    use datafusion::prelude::{SessionConfig, SessionContext};
    use futures::StreamExt;
    use mpq::{MsgpackReadOptions, SessionContextExt};
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(1).with_batch_size(1000));
    let opts = MsgpackReadOptions::default().mmap(mpq::input::source::MmapPolicy::Always);
    ctx.register_msgpack("t", path.display().to_string(), opts).await.expect("register");
    let mut stream = ctx.sql("SELECT i FROM t").await.expect("sql").execute_stream().await.expect("stream");
    let first = stream.next().await.expect("a batch").expect("read");
    let mut rows = first.num_rows();
    change();
    while let Some(batch) = stream.next().await {
        match batch {
            Ok(b) => rows += b.num_rows(),
            Err(e) => return (rows, Some(e.to_string())),
        }
    }
    (rows, None)
}

#[tokio::test]
async fn files_that_change_during_a_query() {
    let dir = tempfile::tempdir().expect("tmp");
    let n = 200_000;
    let bytes = padded_records(n);
    // Appended to: the scan reads the file as it was when opened, whole, without error.
    let grows = dir.path().join("grows.msgpack");
    std::fs::write(&grows, &bytes).expect("write");
    let (rows, err) = query_while_changing(&grows, || {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&grows).expect("open");
        f.write_all(&padded_records(10)).expect("append");
    })
    .await;
    assert_eq!((rows, err), (n, None));
    // Truncated: no SIGBUS death, and no rows made up of the zeros past the new end, but an
    // error that names the file.
    let shrinks = dir.path().join("shrinks.msgpack");
    std::fs::write(&shrinks, &bytes).expect("write");
    let (rows, err) = query_while_changing(&shrinks, || {
        let f = std::fs::OpenOptions::new().write(true).open(&shrinks).expect("open");
        f.set_len(1 << 20).expect("truncate");
    })
    .await;
    let err = err.expect("the scan fails");
    assert!(rows < n, "{rows}");
    assert!(
        err.contains(&format!(
            "{}: the file shrank while it was being read (it was {} bytes when opened)",
            shrinks.display(),
            bytes.len()
        )),
        "{err}"
    );
}
