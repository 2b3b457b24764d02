//! The real `mpq` binary: output formats, table names, joins, statements, schema, help, exit
//! codes.

use crate::common::{check_golden, int_records, root};
use assert_cmd::Command;

fn mpq() -> Command {
    let mut c = Command::cargo_bin("mpq").expect("binary");
    c.current_dir(root());
    c
}

fn stdout(args: &[&str]) -> String {
    let out = mpq().args(args).output().expect("run");
    assert!(out.status.success(), "mpq {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

#[test]
fn output_formats() {
    let sql = "SELECT msg, pid, extra, time FROM t ORDER BY time LIMIT 3";
    for fmt in ["table", "csv", "tsv", "json", "ndjson"] {
        let out = stdout(&["query", sql, "testdata/events.msgpack", "--format", fmt]);
        check_golden(&format!("cli_format_{fmt}.txt"), &out);
    }
}

#[test]
fn table_names_joins_and_statements() {
    let out = stdout(&[
        "query",
        "SELECT count(*) AS a FROM logs; SELECT count(*) AS b FROM t JOIN ev ON t.status - 158 = ev.pid",
        "testdata/logs.msgpack",
        "--table",
        "ev=testdata/events.msgpack",
    ]);
    check_golden("cli_statements.txt", &out);
    let out = mpq()
        .args(["query", "SELECT count(*) AS n FROM golden", "testdata/golden/*.msgpack", "--format", "csv"])
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n23\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "count(*) decodes no values, so nothing can spill");
}

#[test]
fn ddl_then_query_in_one_call() {
    let out = stdout(&[
        "query",
        "CREATE EXTERNAL TABLE g STORED AS MSGPACK LOCATION 'testdata/golden/'; SELECT count(*) AS n FROM g",
        "--format",
        "csv",
    ]);
    assert_eq!(out, "n\n23\n");
}

#[test]
fn identifiers_keep_their_case() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("camel.msgpack");
    std::fs::write(&f, int_records("userId", &[5, 6])).expect("write");
    let out = stdout(&["query", "SELECT sum(userId) AS s FROM camel", f.to_str().expect("utf8"), "--format", "csv"]);
    assert_eq!(out, "s\n11\n");
}

#[test]
fn max_rows_note() {
    let out = stdout(&["query", "SELECT pid FROM t", "testdata/events.msgpack", "--max-rows", "2"]);
    assert!(out.ends_with("2 of 6 rows shown; 4 more not shown (--max-rows 0 shows all)\n"), "{out}");
}

#[test]
fn schema_explains_every_column() {
    check_golden("cli_schema_logs.txt", &stdout(&["schema", "testdata/logs.msgpack"]));
    check_golden(
        "cli_schema_conflicts.txt",
        &stdout(&["schema", "testdata/golden/py_conflicts.msgpack", "--infer-rows", "3", "--infer-probes", "0"]),
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["schema", "testdata/events.msgpack", "--format", "json"])).expect("json");
    assert_eq!(json["files"][0]["layout"], "events");
    assert_eq!(json["columns"][0]["name"], "time");
}

#[test]
fn errors_exit_2_with_a_message() {
    let out = mpq().args(["query", "SELECT nope FROM t", "testdata/events.msgpack"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("mpq: error: "));
    let out = mpq().args(["query", "SELECT 1", "missing.msgpack"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "mpq: error: missing.msgpack: no such file or directory\n");
    let out = mpq().args(["query"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn framing_problems_are_summarised_on_stderr() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("cut.msgpack");
    let mut bytes = int_records("a", &[1, 2]);
    bytes.extend_from_slice(&[0x81, 0xa1]);
    std::fs::write(&f, &bytes).expect("write");
    let out = mpq()
        .args(["query", "SELECT count(*) AS n FROM t", f.to_str().expect("utf8"), "--format", "csv"])
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n2\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("mpq: 2 records read; 1 files truncated at a framing error\n"), "{err}");
    assert!(err.contains("record 2 at byte 8: framing error at byte 8: expected a container that fits in the 1 remaining bytes, found a header claiming 1 elements [81 a1 61 01 81 a1 61 02 [81] a1]; kept 2 records before it, dropped bytes 8..10 (2 bytes)"), "{err}");
    let out = mpq()
        .args(["query", "SELECT count(*) FROM t", f.to_str().expect("utf8"), "--framing", "fail"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn help_has_examples_for_every_subcommand() {
    for sub in ["query", "schema", "generate"] {
        let out = stdout(&[sub, "--help"]);
        assert!(out.contains("Examples:"), "{sub}");
    }
    assert!(stdout(&["--help"]).contains("Exit codes: 0 success, 2 error"));
}
