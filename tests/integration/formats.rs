//! Other formats beside MessagePack: Hadoop and Spark output directories read as their part
//! files, other formats' files refused by their magic bytes or names, and tables of Parquet,
//! CSV, TSV, NDJSON and Arrow IPC (DataFusion's readers) joined with MessagePack tables.

use crate::common::{int_records, mpq, root};

/// Runs mpq; its stdout when it succeeds, else panics with its stderr.
fn run(args: &[&str]) -> String {
    let out = mpq().args(args).output().expect("run");
    assert!(out.status.success(), "mpq {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// Runs mpq expecting exit code 2; its stderr.
fn refused(args: &[&str]) -> String {
    let out = mpq().args(args).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "mpq {args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8(out.stderr).expect("utf8")
}

fn count(args: &[&str]) -> String {
    let mut all = vec!["query", "SELECT count(*) AS n FROM t", "--format", "csv"];
    all.extend_from_slice(args);
    run(&all).trim().trim_start_matches("n\n").to_string()
}

/// A directory as Spark leaves it: two part files, `_SUCCESS`, a `.crc` checksum beside each
/// part (bytes that frame as garbage values), and a `_temporary/` attempt.
fn spark_output() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::write(d.join("part-00000"), int_records("n", &[1, 2, 3])).expect("write");
    std::fs::write(d.join("part-00001"), int_records("n", &[4, 5])).expect("write");
    std::fs::write(d.join("_SUCCESS"), b"").expect("write");
    // Hadoop's checksum files: "crc\0", bytes per checksum, then CRC-32s.
    let crc = b"crc\x00\x00\x00\x02\x00\x12\x34\x56\x78\x9a\xbc\xde\xf0";
    std::fs::write(d.join(".part-00000.crc"), crc).expect("write");
    std::fs::write(d.join(".part-00001.crc"), crc).expect("write");
    std::fs::create_dir_all(d.join("_temporary/0")).expect("mkdir");
    std::fs::write(d.join("_temporary/0/part-00002"), int_records("n", &[6])).expect("write");
    dir
}

#[test]
fn spark_output_directories_read_as_their_part_files() {
    let dir = spark_output();
    let d = dir.path().display().to_string();
    assert_eq!(count(&[&format!("{d}/")]), "5", "_SUCCESS, .crc files and _temporary/ are not inputs");
    assert_eq!(count(&[&format!("{d}/*")]), "5", "a glob skips them too");
    assert_eq!(count(&[&format!("{d}/**/part-*")]), "5", "also below a **");
    assert_eq!(count(&[&format!("{d}/_temporary/")]), "1", "a hidden directory named explicitly is read");
    assert_eq!(count(&[&format!("{d}/_temporary/0/part-00002")]), "1");
    // A hidden file named explicitly is read too: a .crc file is no MessagePack, and says so.
    let out = mpq()
        .args(["query", "SELECT count(*) FROM t", &format!("{d}/.part-00000.crc"), "--framing", "fail"])
        .output()
        .expect("run");
    assert_ne!(out.status.code(), Some(0), "garbage is not read silently");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".part-00000.crc: record 12 at byte 12"), "read, and its framing error named: {err}");
    // Spark's own temporary names are skipped in a directory's listing of partitions too.
    let sums = run(&["query", "SELECT sum(n) AS s FROM t", &format!("{d}/"), "--format", "csv"]);
    assert_eq!(sums, "s\n15\n");
}

#[test]
fn other_formats_are_refused_by_their_magic_bytes() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let parquet = d.join("part-00000");
    std::fs::copy(root().join("testdata/formats/services.parquet"), &parquet).expect("copy");
    let err = refused(&["query", "SELECT count(*) FROM t", parquet.to_str().expect("path")]);
    assert!(err.contains("its first bytes say it is a Parquet file, not MessagePack records"), "{err}");
    for (name, magic) in [("avro", &b"Obj\x01\x04\x16avro.schema"[..]), ("orc", b"ORC\x0a\x03"), ("ipc", b"ARROW1\0\0")]
    {
        let p = d.join(name);
        std::fs::write(&p, magic).expect("write");
        let err = refused(&["query", "SELECT count(*) FROM t", p.to_str().expect("path")]);
        assert!(err.contains("its first bytes say it is a"), "{name}: {err}");
    }
    // A layout given reads the bytes as told.
    let out = run(&[
        "query",
        "SELECT count(*) AS n FROM t",
        parquet.to_str().expect("path"),
        "--layout",
        "values",
        "--format",
        "csv",
    ]);
    assert!(out.starts_with("n\n"), "{out}");
}

#[test]
fn a_file_named_as_another_format_is_not_read_as_messagepack() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    std::fs::write(d.join("a.msgpack"), int_records("n", &[1])).expect("write");
    std::fs::copy(root().join("testdata/formats/services.csv"), d.join("b.csv")).expect("copy");
    let both = [format!("{}/a.msgpack", d.display()), format!("{}/b.csv", d.display())];
    let err = refused(&["query", "SELECT count(*) FROM t", &both[0], &both[1]]);
    assert!(err.contains("is CSV and") || err.contains("is MessagePack and"), "{err}");
    let err = refused(&["query", "SELECT count(*) FROM t", &format!("{}/", d.display())]);
    assert!(err.contains("CSV"), "{err}");
    assert_eq!(count(&[&format!("{}/", d.display()), "--ext", ".msgpack"]), "1", "--ext reads only MessagePack");
    // MessagePack in a file named .json: read as MessagePack when --layout or --ext says so.
    std::fs::write(d.join("c.json"), int_records("n", &[1, 2])).expect("write");
    let named = format!("{}/c.json", d.display());
    assert_eq!(count(&[&named, "--layout", "records"]), "2");
    assert_eq!(count(&[&named, "--ext", ".json"]), "2");
}

/// The same join of the logs with the services table in every format.
#[test]
fn tables_of_every_format_join_messagepack_tables() {
    let sql = "SELECT s.team, s.tier, count(*) AS n FROM t JOIN s ON t.service = s.service GROUP BY 1, 2 ORDER BY 1, 2";
    let want = "team,tier,n\ndiscovery,2,236\nfrontend,1,275\ngrowth,3,243\nidentity,1,282\n\
                payments,2,260\nplatform,1,222\nplatform,2,229\nplatform,3,253\n";
    for ext in ["csv", "tsv", "ndjson", "parquet", "arrow"] {
        let table = format!("s=testdata/formats/services.{ext}");
        let got = run(&["query", sql, "testdata/logs.msgpack", "--table", &table, "--format", "csv"]);
        assert_eq!(got, want, "{ext}");
    }
    // A table of another format is also the query's input table.
    let got =
        run(&["query", "SELECT count(*) AS n FROM services", "testdata/formats/services.parquet", "--format", "csv"]);
    assert_eq!(got, "n\n8\n");
}

#[test]
fn mp_functions_read_messagepack_in_a_parquet_binary_column() {
    let sql = "SELECT mp_get_str(cell, 'user', 'name') AS name, mp_get_int(cell, 'visits') AS visits, \
               mp_typeof(cell -> 'visits') AS t, mp_get_bool(cell, 'vip') AS vip FROM cells ORDER BY row";
    let got = run(&["query", sql, "--table", "cells=testdata/formats/cells.parquet", "--format", "csv"]);
    // Row 3 holds visits: nil; row 4 is cut short (the functions give NULL); row 5 is NULL.
    assert_eq!(got, "name,visits,t,vip\nada,3,int,\nbob,7,int,true\n,,nil,\n,,,\n,,,\n");
}

#[test]
fn a_directory_of_parquet_with_hive_partitions_is_a_table() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("wh");
    let out = out.to_str().expect("path");
    run(&["convert", "testdata/logs.msgpack", "-o", out, "--partition-by", "service"]);
    std::fs::write(format!("{out}/_SUCCESS"), b"").expect("write");
    let sql = "SELECT service, count(*) AS n FROM t GROUP BY 1 ORDER BY 1";
    let from_parquet = run(&["query", sql, &format!("{out}/"), "--format", "csv"]);
    let from_msgpack = run(&["query", sql, "testdata/logs.msgpack", "--format", "csv"]);
    assert_eq!(from_parquet, from_msgpack);
}
