//! SQL through DataFusion: `register_msgpack`, `CREATE EXTERNAL TABLE ... STORED AS MSGPACK`,
//! URL tables, lazy `LIMIT`, with expectations kept as table snapshots in `testdata/expected/`.

use crate::common::{check_golden, path, table};
use datafusion::prelude::SessionContext;
use mpq::{MsgpackReadOptions, SessionContextExt};

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

/// The snapshot queries over `testdata/logs.msgpack` (table `logs`), each with its golden
/// file `sql_NAME.txt`.
pub const SNAPSHOTS: [(&str, &str); 6] = [
    ("count", "SELECT count(*) AS n FROM logs"),
    (
        "group_by",
        "SELECT service, count(*) AS n, round(avg(latency_ms), 3) AS avg_ms FROM logs GROUP BY service ORDER BY service",
    ),
    ("nested", "SELECT \"user\".geo.country AS country, count(*) AS n FROM logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4"),
    ("types", "SELECT ts, big, delta, ratio, flag, tags, seen_at, mp_typeof(code) AS code_type FROM logs LIMIT 3"),
    (
        "map_column",
        "SELECT sum(cardinality(attrs)) AS entries, count(attrs['k100']) AS k100, max(attrs['k100']) AS v FROM logs",
    ),
    ("variant_json", "SELECT mp_to_json(code) AS code, count(*) AS n FROM logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"),
];

#[tokio::test]
async fn snapshots_over_generated_logs() {
    let ctx = ctx_with_logs().await;
    for (name, sql) in SNAPSHOTS {
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
    // Every read setting is an OPTIONS key, parsed as its CLI flag is.
    let err = ctx
        .sql(&format!("CREATE EXTERNAL TABLE bad STORED AS MSGPACK LOCATION '{dir}' OPTIONS ('max_errors' 'many')"))
        .await
        .expect_err("not a number");
    assert!(err.to_string().contains("msgpack option max_errors takes a number, not \"many\""), "{err}");
    let file = path("testdata/hostile/not_a_map.msgpack");
    ctx.sql(&format!("CREATE EXTERNAL TABLE dropped STORED AS MSGPACK LOCATION '{file}' OPTIONS ('on_error' 'drop')"))
        .await
        .expect("create")
        .collect()
        .await
        .expect("ok");
    ctx.sql(&format!("CREATE EXTERNAL TABLE kept STORED AS MSGPACK LOCATION '{file}'")).await.expect("create");
    let rows = |t: &str| format!("SELECT count(*) AS n FROM {t}");
    assert_eq!(run(&ctx, &rows("kept")).await, run(&ctx, "SELECT 5 AS n").await);
    assert_eq!(run(&ctx, &rows("dropped")).await, run(&ctx, "SELECT 4 AS n").await, "the record that is not a map");
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
    mpq::generate::write(
        &mpq::generate::Spec { records: 50_000, seed: 1, events: false, mixed: false, wide: false },
        &mut f,
        None,
    )
    .expect("gen");
    let ctx = SessionContext::new();
    let report = ctx.msgpack_report();
    ctx.register_msgpack("t", file.to_str().expect("utf8"), MsgpackReadOptions::default()).await.expect("reg");
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
    let names = |f: std::path::PathBuf| async move {
        let ctx = SessionContext::new();
        ctx.register_msgpack("t", f.to_str().expect("utf8"), MsgpackReadOptions::default()).await.expect("reg");
        let t = ctx.table_provider("t").await.expect("table");
        t.schema().fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>()
    };
    // Rewrites a file with the same size and modification time: the cache's key is unchanged.
    let rewrite_in_place = |f: &std::path::Path, bytes: Vec<u8>| {
        let mtime = std::fs::metadata(f).and_then(|m| m.modified()).expect("mtime");
        std::fs::write(f, bytes).expect("w");
        std::fs::File::options().write(true).open(f).and_then(|h| h.set_modified(mtime)).expect("set mtime");
    };
    // 4-byte records: a file past the size from which inferences are kept.
    let records = (mpq::infer::CACHE_MIN_BYTES / 4 + 1) as usize;
    let big = dir.path().join("big.msgpack");
    std::fs::write(&big, crate::common::int_records("a", &vec![1; records])).expect("w");
    assert_eq!(names(big.clone()).await, ["a", "_extra"]);
    rewrite_in_place(&big, crate::common::int_records("b", &vec![1; records]));
    assert_eq!(names(big.clone()).await, ["a", "_extra"], "same path, size and mtime: the kept inference");
    std::fs::write(&big, crate::common::int_records("bb", &vec![1; records])).expect("w");
    assert_eq!(names(big).await, ["bb", "_extra"], "a changed size misses the cache");
    // A small file is inferred again every time (cheaper than keeping its lattice).
    let small = dir.path().join("small.msgpack");
    std::fs::write(&small, crate::common::int_records("a", &[1])).expect("w");
    assert_eq!(names(small.clone()).await, ["a", "_extra"]);
    rewrite_in_place(&small, crate::common::int_records("b", &[1]));
    assert_eq!(names(small).await, ["b", "_extra"], "small files are not kept");
}

/// One file split into byte ranges across partitions (as on a many-core machine) answers
/// exactly as the unsplit scan does, and the plan shows the ranges.
#[tokio::test]
async fn split_scans_equal_whole_file_scans() {
    use datafusion::prelude::SessionConfig;
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("big.msgpack");
    for events in [false, true] {
        let spec = mpq::generate::Spec { records: 20_000, seed: 3, events, mixed: false, wide: false };
        std::fs::write(&file, mpq::generate::to_vecs(&spec).0).expect("write");
        let opts = MsgpackReadOptions::default().mmap(mpq::input::source::MmapPolicy::Always);
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

/// A large file among small ones is split into ranges as a large file alone is (it was read on
/// one core while the others read the small files), and small files the ranges cut are read
/// whole once per range: the answers equal one partition's. Small files alone, or a
/// compressed one among them, are not split.
#[tokio::test]
async fn a_large_file_among_small_ones_is_split_and_answers_the_same() {
    use datafusion::prelude::SessionConfig;
    use std::io::Write;
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, records: usize, seed: u64| {
        let spec = mpq::generate::Spec { records, seed, events: false, mixed: false, wide: false };
        let path = dir.path().join(name);
        std::fs::write(&path, mpq::generate::to_vecs(&spec).0).expect("write");
        // Written long enough ago that `auto` maps it (a file being written is read).
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&path).expect("open").set_modified(old).expect("mtime");
        path
    };
    let big = write("a-big.msgpack", 2_000, 1);
    assert!(std::fs::metadata(&big).expect("stat").len() >= mpq::input::source::SMALL, "mapped under auto");
    for i in 0..12 {
        let small = write(&format!("s{i:02}.msgpack"), 300, 10 + i);
        assert!(std::fs::metadata(&small).expect("stat").len() < mpq::input::source::SMALL, "read under auto");
    }
    let sql = "SELECT count(*), sum(status), count(DISTINCT service), sum(\"user\".id), min(ts), max(ts) FROM t";
    let answers = |partitions: usize, urls: Vec<String>| async move {
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .set_usize("datafusion.optimizer.repartition_file_min_size", 1024);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_msgpack("t", urls, MsgpackReadOptions::default()).await.expect("register");
        let plan = ctx.sql(sql).await.expect("plan").create_physical_plan().await.expect("physical");
        (scanned_files(&plan), run(&ctx, sql).await, run(&ctx, "SELECT count(*) FROM t").await)
    };
    let whole_dir = vec![format!("{}/", dir.path().display())];
    let (one, expected, count) = answers(1, whole_dir.clone()).await;
    assert_eq!(one.len(), 1);
    assert!(count.contains("| 5600 "), "{count}");
    let (groups, got, got_count) = answers(7, whole_dir).await;
    assert_eq!(groups.len(), 7, "{groups:?}");
    let reads_of = |name: &str| groups.iter().filter(|g| g.iter().any(|f| f == name)).count();
    assert!(reads_of("a-big.msgpack") >= 2, "the large file in ranges: {groups:?}");
    let cut = (0..12).filter(|i| reads_of(&format!("s{i:02}.msgpack")) > 1).count();
    assert!(cut >= 1, "a small file cut at a range boundary: {groups:?}");
    assert_eq!((got, got_count), (expected, count));

    // Small files alone: as listed, whole.
    let smalls: Vec<String> =
        (0..12).map(|i| dir.path().join(format!("s{i:02}.msgpack")).display().to_string()).collect();
    let (groups, _, _) = answers(7, smalls.clone()).await;
    assert_eq!(groups.concat().len(), 12, "{groups:?}");
    // A small compressed file among them may be cut too: the range at its start reads it all.
    let gzip = |from: &std::path::Path, to: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&std::fs::read(from).expect("read")).expect("gzip");
        let path = dir.path().join(to);
        std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().write(true).open(&path).expect("open").set_modified(old).expect("mtime");
        path.display().to_string()
    };
    let mut urls = smalls;
    let raw = write("raw.msgpack.tmp", 1_000, 3);
    urls.extend([big.display().to_string(), gzip(&raw, "s05z.msgpack.gz")]);
    let (_, expected, count) = answers(1, urls.clone()).await;
    assert!(count.contains("| 6600 "), "{count}");
    let mut gz_cut = false;
    for partitions in 2..=12 {
        let (groups, got, got_count) = answers(partitions, urls.clone()).await;
        gz_cut |= groups.iter().filter(|g| g.iter().any(|f| f == "s05z.msgpack.gz")).count() > 1;
        assert_eq!((got, got_count), (expected.clone(), count.clone()), "{partitions} partitions");
    }
    assert!(gz_cut, "some partition count cuts the compressed file");
    // A large compressed file is not split (its ranges would leave it all to one).
    let large_gz = gzip(&write("c-big.msgpack", 6_000, 2), "c-big.msgpack.gz");
    assert!(std::fs::metadata(&large_gz).expect("stat").len() >= mpq::input::source::SMALL);
    let (groups, _, _) = answers(7, vec![big.display().to_string(), large_gz]).await;
    assert_eq!(groups.concat().len(), 2, "{groups:?}");
}

/// Partitions take unopened files from each other (DataFusion's work stealing) unless every
/// file is small and the columnar cache is off: small files' groups are balanced by size, and
/// the shared queue of every file costs more than it balances. Answers are the same either way.
#[tokio::test]
async fn small_files_alone_are_not_shared_between_partitions() {
    use datafusion::config::ConfigOptions;
    use datafusion::datasource::source::DataSource;
    use datafusion::prelude::SessionConfig;
    let shares = |plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>| -> Vec<bool> {
        let configs = scan_configs(plan);
        configs.iter().map(|c| c.create_sibling_state(&ConfigOptions::default()).is_some()).collect()
    };
    let dir = tempfile::tempdir().expect("tmp");
    let write = |name: &str, records: usize, seed: u64| {
        let spec = mpq::generate::Spec { records, seed, events: false, mixed: false, wide: false };
        let path = dir.path().join(name);
        std::fs::write(&path, mpq::generate::to_vecs(&spec).0).expect("write");
        path.display().to_string()
    };
    let smalls: Vec<String> = (0..12).map(|i| write(&format!("s{i:02}.msgpack"), 200, i)).collect();
    let big = write("big.msgpack", 2_000, 99);
    assert!(std::fs::metadata(&big).expect("stat").len() >= mpq::input::source::SMALL);
    let sql = "SELECT count(*), sum(status), count(DISTINCT service), max(ts) FROM t";
    let answers = |partitions: usize, urls: Vec<String>, opts: MsgpackReadOptions| async move {
        let config = SessionConfig::new().with_target_partitions(partitions);
        let ctx = SessionContext::new_with_config(config);
        ctx.register_msgpack("t", urls, opts).await.expect("register");
        let plan = ctx.sql(sql).await.expect("plan").create_physical_plan().await.expect("physical");
        (shares(&plan), run(&ctx, sql).await)
    };
    let plain = MsgpackReadOptions::default();
    let (shared, expected) = answers(1, smalls.clone(), plain.clone()).await;
    assert_eq!(shared, [false]);
    let (shared, got) = answers(4, smalls.clone(), plain.clone()).await;
    assert_eq!((shared, got), (vec![false], expected), "small files alone: no shared queue");
    let mut mixed = smalls.clone();
    mixed.push(big);
    let (_, expected) = answers(1, mixed.clone(), plain.clone()).await;
    let (shared, got) = answers(4, mixed, plain).await;
    assert_eq!((shared, got), (vec![true], expected), "a large file among them: shared");
    let cache = dir.path().join("cache");
    let cached = MsgpackReadOptions::default().cache(Some(mpq::cache::CacheOptions::new(cache)));
    let (shared, _) = answers(4, smalls, cached).await;
    assert_eq!(shared, [true], "with the cache, some files may be hits and others not: shared");
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

/// One query with the scan applying its filter and with DataFusion applying it after the
/// scan: the rows, and the report's records, record errors and problems, which must agree.
async fn filtered_both_ways(file: &str, options: MsgpackReadOptions, sql: &str) -> (String, String) {
    let mut out = Vec::new();
    for pushdown in [true, false] {
        let opts = options.clone().filter_pushdown(pushdown);
        // Small batches: the scan switches between decoding late and decoding every column
        // first as the share of rows that pass moves.
        let config = datafusion::prelude::SessionConfig::new().with_batch_size(97);
        let mut ctx = SessionContext::new_with_config(config);
        ctx.register_msgpack("t", path(file).as_str(), opts).await.expect("register");
        mpq_udfs::register_all(&mut ctx).expect("udfs");
        let plan = run(&ctx, &format!("EXPLAIN {sql}")).await;
        assert_eq!(plan.contains("predicate="), pushdown, "{sql}\n{plan}");
        let rows = run(&ctx, sql).await;
        let r = ctx.msgpack_report().snapshot();
        out.push((rows, format!("records {} errors {} problems {}", r.records, r.record_errors, r.problems)));
    }
    let (with, without) = (out.remove(0), out.remove(0));
    assert_eq!(with.0, without.0, "{file}: {sql}");
    // Under a LIMIT each way stops after its own number of records.
    if !sql.contains("LIMIT") {
        assert_eq!(with.1, without.1, "{file}: {sql}");
    }
    with
}

/// Filters applied in the scan (the other columns decoded late, for the rows that pass)
/// answer exactly as a filter after the scan, over record and event files, `_extra`,
/// `_record` and `_corrupt_record`, records that are not maps, duplicate keys and values
/// that do not fit, and a LIMIT (which counts the rows that pass).
#[tokio::test]
async fn filters_in_the_scan_answer_as_filters_after_it() {
    let plain = MsgpackReadOptions::default();
    let raw = MsgpackReadOptions::default().with_record(true).with_corrupt_record(true);
    let cases = [
        ("testdata/logs.msgpack", &plain, "SELECT * FROM t WHERE level = 'error' AND status >= 500 ORDER BY ts"),
        (
            "testdata/logs.msgpack",
            &plain,
            "SELECT service, \"user\".name AS n, tags, attrs FROM t WHERE \"user\".geo.country = 'DE' ORDER BY ts, n",
        ),
        ("testdata/logs.msgpack", &plain, "SELECT ts, service FROM t WHERE level = 'warn' LIMIT 7"),
        ("testdata/logs.msgpack", &plain, "SELECT * FROM t WHERE status >= 400 ORDER BY ts"),
        ("testdata/logs.msgpack", &plain, "SELECT * FROM t WHERE latency_ms < 500 OR level = 'error' ORDER BY ts"),
        ("testdata/logs.msgpack", &plain, "SELECT count(*), max(payload) FROM t WHERE status IS NULL OR code IS NULL"),
        (
            "testdata/logs.msgpack",
            &raw,
            "SELECT _record, _corrupt_record, service FROM t WHERE latency_ms > 850 ORDER BY ts",
        ),
        ("testdata/events.msgpack", &plain, "SELECT * FROM t WHERE pid IS NOT NULL ORDER BY time"),
        // A compressed file is a stream: the filter drops rows after the projection is decoded.
        ("testdata/layouts/events.msgpack.gz", &plain, "SELECT * FROM t WHERE status >= 400 ORDER BY time, ms"),
        ("testdata/events.msgpack", &plain, "SELECT msg, _extra FROM t WHERE time > '2000-01-01' ORDER BY msg"),
        // The values layout: `value` and `_extra` decoded late.
        (
            "testdata/mixed.msgpack",
            &raw,
            "SELECT value, _extra, _record FROM t WHERE _corrupt_record IS NULL AND mp_typeof(value) = 'map' ORDER BY _record",
        ),
        ("testdata/hostile/not_a_map.msgpack", &raw, "SELECT * FROM t WHERE id IS NULL OR id > 1 ORDER BY id"),
        ("testdata/hostile/duplicate_keys.msgpack", &plain, "SELECT * FROM t WHERE a IS NOT NULL"),
        ("testdata/hostile/invalid_utf8.msgpack", &plain, "SELECT * FROM t WHERE id IS NOT NULL ORDER BY id"),
    ];
    for (file, options, sql) in cases {
        let (rows, _) = filtered_both_ways(file, (*options).clone(), sql).await;
        assert!(rows.lines().count() > 4, "{file}: {sql} returned no rows:\n{rows}");
    }
    // The limit counts rows that pass: 7 of them, all warnings.
    let (rows, _) =
        filtered_both_ways("testdata/logs.msgpack", plain.clone(), "SELECT level FROM t WHERE level = 'warn' LIMIT 7")
            .await;
    assert_eq!(rows.matches("| warn  |").count(), 7, "{rows}");
    // Under `drop` the filter's columns are decoded with the projection (rows can go).
    let drop = MsgpackReadOptions::default().on_error(mpq::options::OnError::Drop);
    filtered_both_ways("testdata/hostile/not_a_map.msgpack", drop, "SELECT * FROM t WHERE id > 1 ORDER BY id").await;
    // The option as a table option.
    let ctx = SessionContext::new();
    ctx.register_msgpack_format(MsgpackReadOptions::default()).expect("format");
    let file = path("testdata/logs.msgpack");
    for (name, on) in [("a", "true"), ("b", "false")] {
        let ddl = format!(
            "CREATE EXTERNAL TABLE {name} STORED AS MSGPACK LOCATION '{file}' OPTIONS ('format.filter_pushdown' '{on}')"
        );
        ctx.sql(&ddl).await.expect("create").collect().await.expect("ok");
        let plan = run(&ctx, &format!("EXPLAIN SELECT service FROM {name} WHERE status = 503")).await;
        assert_eq!(plan.contains("predicate="), on == "true", "{plan}");
    }
}

/// Duplicate keys: the last one wins in columns and in every `mp_*` function and operator, at
/// every level of a path, so a column and the function reading the same path agree.
#[tokio::test]
async fn columns_and_functions_agree_on_duplicate_keys_at_every_level() {
    use mpq_wire::write::{write_int, write_map_header, write_str};
    // {"user": {"id": 1, "geo": {"c": "A", "c": "B"}, "id": 2}, "n": 0,
    //  "user": {"id": 3, "geo": {"c": "C", "c": "D"}, "id": 4}, "n": 5}, and a record
    // without duplicates.
    let user = |out: &mut Vec<u8>, ids: [i64; 2], cs: [&str; 2]| {
        write_map_header(out, 3);
        write_str(out, b"id");
        write_int(out, ids[0]);
        write_str(out, b"geo");
        write_map_header(out, 2);
        for c in cs {
            write_str(out, b"c");
            write_str(out, c.as_bytes());
        }
        write_str(out, b"id");
        write_int(out, ids[1]);
    };
    let mut bytes = Vec::new();
    write_map_header(&mut bytes, 4);
    write_str(&mut bytes, b"user");
    user(&mut bytes, [1, 2], ["A", "B"]);
    write_str(&mut bytes, b"n");
    write_int(&mut bytes, 0);
    write_str(&mut bytes, b"user");
    user(&mut bytes, [3, 4], ["C", "D"]);
    write_str(&mut bytes, b"n");
    write_int(&mut bytes, 5);
    write_map_header(&mut bytes, 2);
    write_str(&mut bytes, b"user");
    user(&mut bytes, [6, 6], ["E", "E"]);
    write_str(&mut bytes, b"n");
    write_int(&mut bytes, 7);
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("dup.msgpack");
    std::fs::write(&file, &bytes).expect("write");
    let mut ctx = SessionContext::new();
    ctx.register_msgpack("t", file.to_str().expect("utf8"), MsgpackReadOptions::default().with_record(true))
        .await
        .expect("register");
    mpq_udfs::register_all(&mut ctx).expect("udfs");
    let sql = "SELECT n, \"user\".id AS id, \"user\".geo.c AS c, \
               mp_get_int(_record, 'n') AS f_n, mp_get_int(_record, 'user', 'id') AS f_id, \
               mp_get_str(_record, 'user.geo.c') AS f_c, _record -> 'user' -> 'geo' ->> 'c' AS op_c, \
               mp_len(_record, 'user') AS len, mp_keys(_record, 'user', 'geo') AS keys FROM t";
    let rows = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
    let got = table(&rows);
    let expected = "\
+---+----+---+-----+------+-----+------+-----+------+
| n | id | c | f_n | f_id | f_c | op_c | len | keys |
+---+----+---+-----+------+-----+------+-----+------+
| 5 | 4  | D | 5   | 4    | D   | D    | 2   | [c]  |
| 7 | 6  | E | 7   | 6    | E   | E    | 2   | [c]  |
+---+----+---+-----+------+-----+------+-----+------+
";
    assert_eq!(got, expected);
    // Every column equals its function, row by row.
    let disagree = "SELECT count(*) AS n FROM t WHERE (n IS DISTINCT FROM mp_get_int(_record, 'n')) \
                    OR (\"user\".id IS DISTINCT FROM mp_get_int(_record, 'user', 'id')) \
                    OR (\"user\".geo.c IS DISTINCT FROM mp_get_str(_record, 'user', 'geo', 'c'))";
    let n = ctx.sql(disagree).await.expect("plan").collect().await.expect("run");
    assert_eq!(table(&n), "+---+\n| n |\n+---+\n| 0 |\n+---+\n");
}

/// The files a scan reads, per group, from its physical plan.
fn scanned_files(plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>) -> Vec<Vec<String>> {
    let configs = scan_configs(plan);
    let groups = configs.iter().flat_map(|config| &config.file_groups);
    groups
        .map(|g| {
            g.files()
                .iter()
                .map(|f| {
                    assert!(f.statistics.is_none(), "a file with statistics of its own: {f:?}");
                    f.object_meta.location.filename().expect("name").to_string()
                })
                .collect()
        })
        .collect()
}

/// The file scans of a physical plan, in plan order.
fn scan_configs(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> Vec<datafusion::datasource::physical_plan::FileScanConfig> {
    use datafusion::datasource::physical_plan::FileScanConfig;
    use datafusion::datasource::source::DataSourceExec;
    if let Some(config) =
        plan.downcast_ref::<DataSourceExec>().and_then(|e| e.data_source().downcast_ref::<FileScanConfig>())
    {
        return vec![config.clone()];
    }
    plan.children().into_iter().flat_map(scan_configs).collect()
}

/// A scan lists its files as DataFusion's listing table does — filters on Hive partition
/// columns prune them, a file two URLs name is read once, files are split into groups per
/// target partition — but gives no file statistics of its own (with 100,000 small files
/// those were most of the memory), and answers the same.
#[tokio::test]
async fn scans_list_and_prune_files_without_per_file_statistics() {
    use datafusion::prelude::SessionConfig;
    let dir = tempfile::tempdir().expect("tmp");
    for (part, name, values) in [("a", "x", &[1, 2][..]), ("a", "y", &[3]), ("b", "z", &[40, 50])] {
        let sub = dir.path().join("hive").join(format!("service={part}"));
        std::fs::create_dir_all(&sub).expect("mkdir");
        std::fs::write(sub.join(format!("{name}.msgpack")), crate::common::int_records("n", values)).expect("w");
    }
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(2));
    let hive = format!("{}/", dir.path().join("hive").display());
    ctx.register_msgpack("t", hive.as_str(), MsgpackReadOptions::default()).await.expect("register");
    let sql = "SELECT count(*) AS n, sum(n) AS s FROM t WHERE service = 'a'";
    let plan = ctx.sql(sql).await.expect("plan").create_physical_plan().await.expect("physical");
    assert_eq!(scanned_files(&plan), [vec!["x.msgpack".to_string()], vec!["y.msgpack".to_string()]]);
    let out = run(&ctx, sql).await;
    assert!(out.contains("| 3 | 6 |"), "{out}");
    let out = run(&ctx, "SELECT service, sum(n) AS s FROM t GROUP BY 1 ORDER BY 1").await;
    assert!(out.contains("| a       | 6  |") && out.contains("| b       | 90 |"), "{out}");

    // A directory and a file in it: the file is read once.
    let z = dir.path().join("hive/service=b/z.msgpack");
    let plain = format!("{}/", z.parent().expect("dir").display());
    let ctx = SessionContext::new();
    let urls = vec![plain.as_str(), z.to_str().expect("utf8")];
    ctx.register_msgpack("t", urls, MsgpackReadOptions::default()).await.expect("register");
    let plan = ctx.sql("SELECT * FROM t").await.expect("plan").create_physical_plan().await.expect("physical");
    assert_eq!(scanned_files(&plan).concat(), ["z.msgpack"]);
    // The provider's older entry point plans the same scan.
    let provider = ctx.table_provider("t").await.expect("table");
    let plan = provider.scan(&ctx.state(), None, &[], None).await.expect("scan");
    assert_eq!(scanned_files(&plan).concat(), ["z.msgpack"]);
    let out = run(&ctx, "SELECT count(*) AS n, sum(n) AS s FROM t").await;
    assert!(out.contains("| 2 | 90 |"), "{out}");
}
