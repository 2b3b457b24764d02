//! SQL through DataFusion: `register_msgpack`, `CREATE EXTERNAL TABLE ... STORED AS MSGPACK`,
//! URL tables, lazy `LIMIT`, with expectations kept as table snapshots in `testdata/expected/`.

use crate::common::{check_golden, path, table};
use datafusion::prelude::SessionContext;
use mpq::{MsgpackReadOptions, ScanReport, SessionContextExt};

async fn ctx_with_logs() -> SessionContext {
    let ctx = SessionContext::new();
    ctx.register_msgpack("logs", path("testdata/logs.msgpack").as_str(), MsgpackReadOptions::default())
        .await
        .expect("register");
    let mut ctx = ctx;
    mpq_udfs::register_all(&mut ctx).expect("udfs");
    ctx
}

async fn run(ctx: &SessionContext, sql: &str) -> String {
    table(&ctx.sql(sql).await.expect("plan").collect().await.expect("run"))
}

#[tokio::test]
async fn snapshots_over_generated_logs() {
    let ctx = ctx_with_logs().await;
    let queries = [
        ("count", "SELECT count(*) AS n FROM logs"),
        (
            "group_by",
            "SELECT service, count(*) AS n, round(avg(latency_ms), 3) AS avg_ms FROM logs GROUP BY service ORDER BY service",
        ),
        (
            "nested",
            "SELECT \"user\".geo.country AS country, count(*) AS n FROM logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4",
        ),
        ("types", "SELECT ts, big, delta, ratio, flag, tags, seen_at, mp_typeof(code) AS code_type FROM logs LIMIT 3"),
        (
            "map_column",
            "SELECT sum(cardinality(attrs)) AS entries, count(attrs['k100']) AS k100, max(attrs['k100']) AS v FROM logs",
        ),
        (
            "variant_json",
            "SELECT mp_to_json(code) AS code, count(*) AS n FROM logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3",
        ),
    ];
    for (name, sql) in queries {
        check_golden(&format!("sql_{name}.txt"), &run(&ctx, sql).await);
    }
}

#[tokio::test]
async fn create_external_table_stored_as_msgpack() {
    let ctx = SessionContext::new();
    ctx.register_msgpack_format(MsgpackReadOptions::default()).expect("format");
    let dir = path("testdata/golden/");
    ctx.sql(&format!("CREATE EXTERNAL TABLE g STORED AS MSGPACK LOCATION '{dir}'"))
        .await
        .expect("create")
        .collect()
        .await
        .expect("ok");
    check_golden(
        "sql_external_table.txt",
        &run(&ctx, "SELECT count(*) AS n, count(host) AS hosts, count(value) AS values FROM g").await,
    );
    let err = ctx
        .sql(&format!("CREATE EXTERNAL TABLE bad STORED AS MSGPACK LOCATION '{dir}' OPTIONS ('format.nope' 'x')"))
        .await
        .expect_err("unknown option");
    assert!(err.to_string().contains("unknown msgpack option \"nope\""), "{err}");
}

#[tokio::test]
async fn url_table_and_read_msgpack() {
    let ctx = SessionContext::new().enable_url_table();
    ctx.register_msgpack_format(MsgpackReadOptions::default()).expect("format");
    let n = run(&ctx, &format!("SELECT count(*) AS n FROM '{}'", path("testdata/logs.msgpack"))).await;
    assert!(n.contains("| 2000 |"), "{n}");
    let df =
        ctx.read_msgpack(path("testdata/events.msgpack").as_str(), MsgpackReadOptions::default()).await.expect("read");
    assert_eq!(df.count().await.expect("count"), 6);
}

#[tokio::test]
async fn limit_reads_a_few_records_not_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("big.msgpack");
    let mut f = std::fs::File::create(&file).expect("create");
    mpq::generate::write(&mpq::generate::Spec { records: 50_000, seed: 1, events: false, mixed: false }, &mut f, None)
        .expect("gen");
    let report = ScanReport::new();
    let ctx = SessionContext::new();
    ctx.register_msgpack("t", file.to_str().expect("utf8"), MsgpackReadOptions::default().report(report.clone()))
        .await
        .expect("reg");
    let out = ctx.sql("SELECT service FROM t LIMIT 10").await.expect("plan").collect().await.expect("run");
    assert_eq!(out.iter().map(|b| b.num_rows()).sum::<usize>(), 10);
    assert_eq!(report.snapshot().records, 10, "the opener stops at the limit");
}

#[tokio::test]
async fn schema_merges_every_file_not_only_the_first() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("a.msgpack"), crate::common::int_records("a", &[1])).expect("w");
    std::fs::write(dir.path().join("b.msgpack"), crate::common::int_records("b", &[2])).expect("w");
    let ctx = SessionContext::new();
    ctx.register_msgpack("t", format!("{}/", dir.path().display()).as_str(), MsgpackReadOptions::default())
        .await
        .expect("reg");
    let out = run(&ctx, "SELECT a, b FROM t ORDER BY a NULLS LAST").await;
    check_golden("sql_merge_files.txt", &out);
}

#[tokio::test]
async fn schema_cache_follows_file_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    let f = dir.path().join("c.msgpack");
    let names = |ctx: SessionContext| async move {
        let t = ctx.table_provider("t").await.expect("table");
        t.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>()
    };
    std::fs::write(&f, crate::common::int_records("a", &[1])).expect("w");
    let ctx = SessionContext::new();
    ctx.register_msgpack("t", f.to_str().expect("utf8"), MsgpackReadOptions::default()).await.expect("reg");
    assert_eq!(names(ctx).await, ["a", "_extra"]);
    std::fs::write(&f, crate::common::int_records("bb", &[1, 2])).expect("w");
    let ctx = SessionContext::new();
    ctx.register_msgpack("t", f.to_str().expect("utf8"), MsgpackReadOptions::default()).await.expect("reg");
    assert_eq!(names(ctx).await, ["bb", "_extra"], "a changed size misses the cache");
}

/// One file split into byte ranges across partitions (as on a many-core machine) answers
/// exactly as the unsplit scan does, and the plan shows the ranges.
#[tokio::test]
async fn split_scans_equal_whole_file_scans() {
    use datafusion::prelude::SessionConfig;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("big.msgpack");
    for events in [false, true] {
        let spec = mpq::generate::Spec { records: 20_000, seed: 3, events, mixed: false };
        std::fs::write(&file, mpq::generate::to_vecs(&spec).0).expect("write");
        let opts = MsgpackReadOptions::default().mmap(mpq::source::MmapPolicy::Always);
        let sql = "SELECT count(*), sum(status), count(DISTINCT service), sum(\"user\".id), min(ts), max(ts), \
                   sum(CASE WHEN _extra IS NULL THEN 0 ELSE 1 END) FROM t";
        let mut answers = Vec::new();
        for partitions in [1, 7] {
            let config = SessionConfig::new()
                .with_target_partitions(partitions)
                .set_usize("datafusion.optimizer.repartition_file_min_size", 1024);
            let ctx = SessionContext::new_with_config(config);
            ctx.register_msgpack("t", file.to_str().expect("utf8"), opts.clone()).await.expect("register");
            let plan = run(&ctx, "EXPLAIN SELECT count(*) FROM t").await;
            let groups = if partitions == 1 { "{1 group:" } else { "{7 groups:" };
            assert!(plan.contains(groups), "ranges in the plan: {plan}");
            answers.push(run(&ctx, sql).await);
            // The count(*) path (no column decoded: records counted on lanes).
            answers.push(run(&ctx, "SELECT count(*) FROM t").await);
        }
        assert_eq!(answers[0], answers[2], "events={events}");
        assert_eq!(answers[1], answers[3], "events={events}");
        assert!(answers[1].contains("| 20000 "), "{}", answers[1]);
        assert!(answers[0].contains("| 20000 "), "{}", answers[0]);
    }
}

/// A struct column read only through field paths is decoded with just those fields (the scan
/// says so in the plan), and answers exactly as the whole struct does.
#[tokio::test]
async fn nested_projection_decodes_only_the_paths_it_reads() {
    let ctx = ctx_with_logs().await;
    let paths = "SELECT \"user\".geo.country AS c, \"user\".id AS i FROM logs WHERE \"user\".name IS NOT NULL";
    // `"user" IS NULL` reads the column itself, so it is decoded whole.
    let whole = "SELECT \"user\".geo.country AS c, \"user\".id AS i, \"user\" IS NULL AS u FROM logs \
                 WHERE \"user\".name IS NOT NULL";
    let plan = |sql: &str| format!("EXPLAIN {sql}");
    let pruned_plan = run(&ctx, &plan(paths)).await;
    assert!(pruned_plan.contains("nested_projection=[user.id, user.name, user.geo.country]"), "{pruned_plan}");
    let whole_plan = run(&ctx, &plan(whole)).await;
    assert!(!whole_plan.contains("nested_projection"), "{whole_plan}");

    let rows = |sql: String| {
        let ctx = &ctx;
        async move { ctx.sql(&sql).await.expect("plan").collect().await.expect("run") }
    };
    let a = rows(format!("{paths} ORDER BY i, c")).await;
    let b = rows(format!("{whole} ORDER BY i, c")).await;
    let b: Vec<_> = b.iter().map(|b| b.project(&[0, 1]).expect("project")).collect();
    assert_eq!(table(&a), table(&b));
    let n: usize = a.iter().map(|b| b.num_rows()).sum();
    assert!(n > 1000, "{n} rows");
    // `_extra` keeps every struct whole: a pruned struct would send its other keys there.
    let extra = run(&ctx, &plan("SELECT \"user\".id, _extra FROM logs")).await;
    assert!(!extra.contains("nested_projection"), "{extra}");
}
