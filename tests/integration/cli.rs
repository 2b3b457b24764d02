//! The real `mpq` binary: output formats, table names, joins, statements, schema, help, exit
//! codes.

use crate::common::{check_golden, int_records, mpq, root};

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

/// The queries of the README's "SQL functions" section (the udfs issue's "What a user gets"),
/// from the real binary; each answer is checked against a second route to the same data.
#[test]
fn function_queries_from_the_readme() {
    let csv = |args: &[&str]| stdout(&[args, &["--format", "csv"]].concat());
    // 1. A nested string through _record equals the typed struct column.
    let by_udf = csv(&[
        "query",
        "SELECT mp_get_str(_record, 'user', 'geo', 'country') AS country, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1",
        "testdata/logs.msgpack",
    ]);
    let by_column = csv(&[
        "query",
        "SELECT \"user\".geo.country AS country, count(*) AS n FROM logs GROUP BY 1 ORDER BY 1",
        "testdata/logs.msgpack",
    ]);
    assert_eq!(by_udf, by_column);
    check_golden("cli_udf_country.txt", &by_udf);
    // 2. ->> on the variant column of a values-layout file, maps only.
    let codes = csv(&[
        "query",
        "SELECT value ->> 'code' AS code, count(*) AS n FROM t WHERE mp_typeof(value) = 'map' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
        "testdata/mixed.msgpack",
    ]);
    check_golden("cli_udf_code.txt", &codes);
    let maps = csv(&["query", "SELECT count(*) AS n FROM t WHERE value ? 'code'", "testdata/mixed.msgpack"]);
    assert_eq!(maps, "n\n250\n", "every second record is a map with a code");
    // 3. A key first seen late lands in _extra; the cast runs the typed getter.
    let out = mpq()
        .args([
            "query",
            "SELECT CAST(mp_get(_extra, 'retry') AS BIGINT) AS retry, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
            "testdata/logs.msgpack",
            "--infer-probes",
            "0",
            "--format",
            "csv",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let from_extra = String::from_utf8(out.stdout).expect("utf8");
    let from_record = csv(&[
        "query",
        "SELECT mp_get_int(_record, 'retry') AS retry, count(*) AS n FROM t GROUP BY 1 ORDER BY 1",
        "testdata/logs.msgpack",
    ]);
    assert_eq!(from_extra, from_record);
    check_golden("cli_udf_retry.txt", &from_extra);
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept in _extra"), "the spill is reported");
}

/// `mpq functions` lists every function, and the README carries the same table.
#[test]
fn functions_listing_matches_the_readme() {
    let table = stdout(&["functions", "--format", "markdown"]);
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let start = readme.find("<!-- functions:start").expect("start marker");
    let body = &readme[start..];
    let body = &body[body.find('\n').expect("line") + 1..body.find("<!-- functions:end -->").expect("end marker")];
    assert_eq!(body, table, "README function table is stale: paste `mpq functions --format markdown`");
    for f in mpq_udfs::all() {
        assert!(table.contains(&format!("`{}(", f.name())), "{} missing", f.name());
    }
    let one = stdout(&["functions", "mp_get_ts"]);
    assert!(one.contains("EventTime") && one.contains("key_or_path:"), "{one}");
    let out = mpq().args(["functions", "nope"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

/// `--threads`: a file above the 10 MiB split threshold answers the same on one thread and on
/// three (a split scan), and the thread count is validated. (The walk is the `walk`
/// example's, tested there.)
#[test]
fn threads_answer_alike() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("big.msgpack");
    let spec = mpq::generate::Spec { records: 60_000, seed: 2, events: false, mixed: false, wide: false };
    std::fs::write(&file, mpq::generate::to_vecs(&spec).0).expect("write");
    let f = file.to_str().expect("utf8");
    assert!(std::fs::metadata(&file).expect("meta").len() > 10 << 20);
    let sql = "SELECT count(*) AS n, sum(status) AS s, count(DISTINCT \"user\".geo.city) AS c FROM t";
    let answers: Vec<String> = ["1", "3"]
        .iter()
        .map(|t| stdout(&["--threads", t, "query", sql, f, "--mmap", "always", "--format", "csv"]))
        .collect();
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].starts_with("n,s,c\n60000,"), "{}", answers[0]);
    let count =
        stdout(&["--threads", "3", "query", "SELECT count(*) AS n FROM t", f, "--mmap", "always", "--format", "csv"]);
    assert_eq!(count, "n\n60000\n");
    let out = mpq().args(["--threads", "0", "query", "SELECT 1"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn query_reads_its_sql_from_a_file_or_standard_input() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("q.sql");
    std::fs::write(&file, "SELECT count(*) AS n FROM t;\n-- a comment\nSELECT 2 AS two").expect("write");
    let out = stdout(&["query", "-f", file.to_str().expect("utf8"), "testdata/logs.msgpack", "--format", "csv"]);
    assert_eq!(out, "n\n2000\ntwo\n2\n");
    let out = mpq().args(["query", "--format", "csv"]).write_stdin("SELECT 40 + 2 AS x").output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n42\n");
    let out = mpq()
        .args(["query", "-f", "-", "testdata/logs.msgpack", "--format", "csv"])
        .write_stdin("SELECT count(*) AS n FROM logs")
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n2000\n");
    let out = mpq().args(["query", "-f", "-", "-"]).write_stdin("SELECT 1").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot hold both"));
}

#[test]
fn shell_runs_statements_and_meta_commands_from_c_and_stdin() {
    let dir = tempfile::tempdir().expect("tmp");
    let csv = dir.path().join("out.csv");
    let script = dir.path().join("more.sql");
    std::fs::write(&script, "SELECT 'from .read' AS s;\n").expect("write");
    let commands = format!(
        ".mode csv\nSELECT level, count(*) AS n FROM t GROUP BY 1 ORDER BY 1 LIMIT 1;\n.output {}\nSELECT 7 AS seven;\n.output\n.read {}\n.mode ndjson\nSELECT 1 AS a",
        csv.display(),
        script.display()
    );
    let out = stdout(&["shell", "testdata/logs.msgpack", "-c", &commands]);
    assert_eq!(out, "level,n\ndebug,191\ns\nfrom .read\n{\"a\":1}\n");
    assert_eq!(std::fs::read_to_string(&csv).expect("output file"), "seven\n7\n");
    // `mpq FILES` with commands on standard input is the same shell.
    let out = mpq()
        .args(["testdata/logs.msgpack"])
        .write_stdin(".mode markdown\nSELECT count(*) AS n FROM logs;\n.tables\n")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "| n |\n|---|\n| 2000 |\nlogs  (testdata/logs.msgpack)\nt  (testdata/logs.msgpack)\n"
    );
    // A script stops at its first error, with exit code 2.
    let out =
        mpq().args(["shell", "-c", "SELECT 1 AS a;\n.nope\nSELECT 2 AS b;", "--mode", "csv"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\n1\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown command .nope"));
    // `.functions` lists mpq's own and describes any function, DataFusion's too.
    let out = stdout(&["shell", "-c", ".functions\n.functions mp_get_str\n.functions upper"]);
    assert!(out.contains("mp_get_int(") && out.contains(".functions NAME describes any"), "{out}");
    assert!(out.contains("mp_get_str\n\nmp_get_str("), "{out}");
    assert!(out.contains("upper\n\nupper(str)"), "{out}");
    let out = stdout(&["shell", "-c", ".help"]);
    assert!(out.contains(".schema, \\d [TABLE]") && out.contains("Ctrl-C cancels"), "{out}");
}

#[test]
fn completion_scripts_and_the_man_page_come_from_the_definitions() {
    for (shell, marker) in [("bash", "_mpq()"), ("zsh", "#compdef mpq"), ("fish", "complete -c mpq")] {
        let out = stdout(&["completions", shell]);
        assert!(out.contains(marker), "{shell}: {out:.200}");
        assert!(out.contains("max-rows") && out.contains("shell"), "{shell}");
    }
    let man = stdout(&["manpage"]);
    assert!(man.starts_with(".ie") || man.contains(".TH mpq"), "{man:.200}");
    assert!(man.contains("shell") && man.contains("convert"));
}

#[test]
fn files_with_unusual_names_are_read_directly_and_alike() {
    // Local files are opened by path, not through the object store: names the store would
    // escape must still open.
    let dir = tempfile::tempdir().expect("tmp");
    let names = ["a b.msgpack", "p%41q.msgpack", "ü.msgpack", "h#x.msgpack", "c:d.msgpack", "small.msgpack"];
    let data = std::fs::read(root().join("testdata/logs.msgpack")).expect("read");
    for n in names {
        std::fs::write(dir.path().join(n), &data).expect("write");
    }
    let d = dir.path().to_str().expect("utf8");
    let out = stdout(&["query", "SELECT count(*) AS n, count(DISTINCT status) AS s FROM t", d, "--format", "csv"]);
    let mapped = stdout(&[
        "query",
        "SELECT count(*) AS n, count(DISTINCT status) AS s FROM t",
        d,
        "--format",
        "csv",
        "--mmap",
        "always",
    ]);
    assert_eq!(out, mapped);
    assert!(out.starts_with(&format!("n,s\n{},", names.len() * 2000)), "{out}");
}
