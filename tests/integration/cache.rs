//! The columnar cache through the library: the SQL snapshots give their golden answers with
//! the cache cold and warm, and a warm session reads every file from the cache.

use crate::common::{check_golden, path, table};
use crate::sql::SNAPSHOTS;
use mpq::cache::{CacheOptions, fill};
use mpq::{MsgpackReadOptions, SessionContextExt};
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn snapshots_agree_with_the_cache_cold_and_warm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("logs.msgpack");
    std::fs::copy(path("testdata/logs.msgpack"), &file).expect("copy");
    let past = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(&file).and_then(|f| f.set_modified(past)).expect("age");
    // A file changed in the last 2 s is not cached (its change time cannot be set back).
    std::thread::sleep(mpq::cache::SETTLE + Duration::from_millis(100));
    let opts = MsgpackReadOptions::default().cache(Some(CacheOptions::new(dir.path().join("cache"))));
    for round in ["cold", "warm"] {
        let ctx = mpq::session::session(&opts, 2).expect("session");
        ctx.register_msgpack("logs", file.to_str().expect("utf-8"), opts.clone()).await.expect("register");
        for (name, sql) in SNAPSHOTS {
            let batches = ctx.sql(sql).await.expect("plan").collect().await.expect("run");
            check_golden(&format!("sql_{name}.txt"), &table(&batches));
        }
        let report = ctx.msgpack_report();
        let served = report.snapshot().cached_files;
        let filled = fill(report.take_cache_misses()).await;
        match round {
            "cold" => {
                assert_eq!(served, 0);
                assert_eq!((filled.added, filled.warning), (1, None));
            }
            _ => {
                assert_eq!(served, SNAPSHOTS.len() as u64, "every query read the cache");
                assert_eq!(filled.added, 0);
            }
        }
    }
}
