//! The in-process cluster (`mpq::cluster::local`): a scheduler and two executors in this
//! process, reached over loopback gRPC, answer like a local run: the SQL snapshots (same golden
//! files), and functions, variants, `_extra`, error policies, partitions and compressed event
//! files row for row against a local session.

use crate::common::{check_golden, path, table};
use crate::sql::SNAPSHOTS;
use datafusion::prelude::SessionContext;
use mpq::options::{FramingPolicy, MsgpackReadOptions, OnError};
use mpq::{ScanReport, SessionContextExt};

async fn cluster(opts: &MsgpackReadOptions) -> SessionContext {
    mpq::cluster::local(2, opts, 4).await.expect("in-process cluster")
}

async fn rows(ctx: &SessionContext, sql: &str) -> String {
    let batches = ctx.sql(sql).await.unwrap_or_else(|e| panic!("plan {sql}: {e}")).collect().await;
    table(&batches.unwrap_or_else(|e| panic!("run {sql}: {e}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn snapshots_run_on_two_executors() {
    let opts = MsgpackReadOptions::default();
    let ctx = cluster(&opts).await;
    ctx.register_msgpack("logs", path("testdata/logs.msgpack").as_str(), opts).await.expect("register");
    for (name, sql) in SNAPSHOTS {
        check_golden(&format!("sql_{name}.txt"), &rows(&ctx, sql).await);
    }
}

/// Each case: a table (name, path, options) and queries over it; every answer must equal the
/// local session's, and so must the report's counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_kind_of_table_answers_as_locally() {
    let null = MsgpackReadOptions::default().on_error(OnError::Null);
    let cases: Vec<(&str, MsgpackReadOptions, Vec<&str>)> = vec![
        (
            "testdata/logs.msgpack",
            MsgpackReadOptions::default(),
            vec![
                "SELECT mp_typeof(code) AS t, count(*) FROM t GROUP BY 1 ORDER BY 1",
                "SELECT mp_to_json(code) AS c, count(*) FROM t WHERE mp_typeof(code) <> 'int' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5",
                "SELECT service, level, count(*) AS n FROM t WHERE latency_ms > 50 GROUP BY 1, 2 ORDER BY 1, 2",
                "SELECT ts, service FROM t ORDER BY latency_ms DESC, ts LIMIT 5",
                "SELECT count(*) FROM t WHERE \"user\".geo.country = 'DE'",
            ],
        ),
        (
            "testdata/mixed.msgpack",
            MsgpackReadOptions::default(),
            vec!["SELECT * FROM t ORDER BY 1 NULLS FIRST LIMIT 20", "SELECT count(*), count(_extra) FROM t"],
        ),
        ("testdata/hostile/not_a_map.msgpack", null.clone(), vec!["SELECT count(*) FROM t", "SELECT * FROM t"]),
        (
            "testdata/layouts/hive/",
            MsgpackReadOptions::default(),
            vec![
                "SELECT dt, hour, count(*) FROM t GROUP BY 1, 2 ORDER BY 1, 2",
                "SELECT count(*) FROM t WHERE hour = '02'",
            ],
        ),
        (
            "testdata/layouts/events.msgpack.gz",
            MsgpackReadOptions::default(),
            vec!["SELECT * FROM t ORDER BY 1, 2 LIMIT 10"],
        ),
        ("testdata/layouts/forward_compressed.msgpack", MsgpackReadOptions::default(), vec!["SELECT count(*) FROM t"]),
    ];
    for (file, opts, queries) in cases {
        let local = mpq::session::session(&opts, 4).expect("session");
        let remote = cluster(&opts).await;
        for ctx in [&local, &remote] {
            mpq::tables::register_table(ctx, "t", &[path(file)], &opts).await.expect("register");
        }
        for sql in queries {
            assert_eq!(rows(&remote, sql).await, rows(&local, sql).await, "{file}: {sql}");
        }
        let counts = |r: ScanReport| {
            let d = r.snapshot();
            (d.records, d.problems, d.record_errors, d.extra_pairs())
        };
        assert_eq!(counts(remote.msgpack_report()), counts(local.msgpack_report()), "{file}: the reports");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_framing_error_under_fail_fails_the_job_naming_file_and_offset() {
    let opts = MsgpackReadOptions::default().framing(FramingPolicy::Fail);
    let ctx = cluster(&opts).await;
    let file = path("testdata/hostile/truncated.msgpack");
    mpq::tables::register_table(&ctx, "t", std::slice::from_ref(&file), &opts).await.expect("register");
    let err = ctx.sql("SELECT count(*) FROM t").await.expect("plan").collect().await.expect_err("fails");
    let msg = err.to_string();
    assert!(msg.contains("truncated.msgpack") && msg.contains("offset"), "{msg}");
}

#[tokio::test]
async fn an_unreachable_scheduler_is_one_clear_error() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr");
    let started = std::time::Instant::now();
    let Err(err) = mpq::cluster::connect(&format!("df://{free}"), &MsgpackReadOptions::default(), 1).await else {
        panic!("nothing listens there")
    };
    assert!(err.to_string().contains("cannot reach the cluster's scheduler"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let Err(err) = mpq::cluster::connect("df://nope", &MsgpackReadOptions::default(), 1).await else {
        panic!("no port")
    };
    assert!(err.to_string().contains("--cluster takes df://HOST:PORT"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tables_made_by_sql_run_on_the_cluster() {
    let opts = MsgpackReadOptions::default();
    let local = mpq::session::session(&opts, 4).expect("session");
    let remote = cluster(&opts).await;
    let (hive, hostile, logs) =
        (path("testdata/layouts/hive/"), path("testdata/hostile/not_a_map.msgpack"), path("testdata/logs.msgpack"));
    let statements = [
        format!("CREATE EXTERNAL TABLE h STORED AS MSGPACK LOCATION '{hive}'"),
        format!("CREATE EXTERNAL TABLE d STORED AS MSGPACK LOCATION '{hostile}' OPTIONS ('on_error' 'drop')"),
    ];
    for ctx in [&local, &remote] {
        for s in &statements {
            ctx.sql(s).await.expect("create").collect().await.expect("created");
        }
    }
    for sql in [
        "SELECT dt, hour, count(*), sum(status) FROM h GROUP BY 1, 2 ORDER BY 1, 2".to_string(),
        "SELECT * FROM d".to_string(),
        format!("SELECT service, count(*) FROM '{logs}' GROUP BY 1 ORDER BY 1"),
    ] {
        assert_eq!(rows(&remote, &sql).await, rows(&local, &sql).await, "{sql}");
    }
}
