//! [`session`]: the DataFusion session mpq runs SQL in, set up once for the CLI and for
//! library callers alike: the `msgpack` format, the `mp_*` functions, mpq's NDJSON writer, the
//! dialect and case rules, local listings without hidden names, and a fresh scan report ([`SessionContextExt::msgpack_report`]).

use crate::datasource::SessionContextExt;
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use datafusion::error::Result;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;

/// A session with the msgpack format (its formats start from `opts`) and the UDFs, keeping
/// identifier case, with the PostgreSQL dialect (for the `?` operator; `->`, `->>` work in
/// every dialect) and `information_schema` (`SHOW TABLES`, `SHOW COLUMNS`; DataFusion's `SHOW
/// FUNCTIONS` leaves out functions with user-defined signatures, so `mpq functions` lists
/// ours). `threads` sets the partitions (0: every core). Its scans add to a fresh report.
///
/// ```
/// use mpq::{MsgpackReadOptions, SessionContextExt};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let opts = MsgpackReadOptions::default();
/// let ctx = mpq::session::session(&opts, 0).unwrap();
/// ctx.register_msgpack("logs", "testdata/logs.msgpack", opts).await.unwrap();
/// let sql = "SELECT count(*) FROM logs WHERE mp_typeof(code) = 'int'";
/// let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
/// assert_eq!(batches[0].num_rows(), 1);
/// assert_eq!(ctx.msgpack_report().snapshot().records, 2000, "every record was read once");
/// # });
/// ```
pub fn session(opts: &MsgpackReadOptions, threads: usize) -> Result<SessionContext> {
    let mut config = SessionConfig::new();
    if threads > 0 {
        config = config.with_target_partitions(threads);
    }
    Ok(crate::datasource::enable_url_tables(session_with_config(config, opts)?))
}

/// Bytes of file listings a session keeps (see [`session_with_config`]).
const LISTINGS_KEPT: usize = 64 << 20;

/// How long a session reuses a listing (see [`session_with_config`]): long enough for a
/// query's scans to reuse what its planning listed, short enough that the next question sees
/// the files that arrived.
const LISTINGS_FRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// [`session`] from `config` (a cluster's scheduler starts from the configuration its client
/// sends), without URL tables (they hold on to their session: a cluster client adds them to
/// the session Ballista makes of this one): mpq's settings and a fresh report are added to it.
pub fn session_with_config(config: SessionConfig, opts: &MsgpackReadOptions) -> Result<SessionContext> {
    let config = config
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        // Directories are read recursively, not only their Hive-style (`k=v`) subdirectories.
        .set_bool("datafusion.execution.listing_table_ignore_subdirectory", false)
        .set_str("datafusion.sql_parser.dialect", "PostgreSQL")
        .set_usize("datafusion.execution.objectstore_writer_buffer_size", crate::convert::WRITE_PART_BYTES)
        .with_information_schema(true)
        .with_extension(Arc::new(ScanReport::new()));
    // A query's scans read the listing its inference made moments before (DataFusion's cache
    // of listings, here large enough for 300,000 or so files; at its default of 1 MiB a
    // directory of more than about 5,000 files was listed again by every scan: a tenth of a
    // query's time over 100,000 small files). Listings expire after `LISTINGS_FRESH`: by
    // default they never did, so a long-lived session (the shell, a Python `Context`) never
    // saw a file added to a directory it had listed, even in a table registered again.
    let runtime = RuntimeEnvBuilder::new()
        .with_object_list_cache_limit(LISTINGS_KEPT)
        .with_object_list_cache_ttl(Some(LISTINGS_FRESH))
        .build_arc()?;
    let mut ctx = SessionContext::new_with_config_rt(config, runtime);
    // Local directories are listed without hidden names (`_SUCCESS`, `.crc` files), for every
    // table of the session (see `datasource::Visible`).
    let local = datafusion::execution::object_store::ObjectStoreUrl::local_filesystem();
    let env = ctx.runtime_env();
    env.register_object_store(local.as_ref(), crate::datasource::Visible::wrap(env.object_store(&local)?));
    ctx.register_msgpack_format(opts.clone())?;
    // `COPY ... TO 'x.ndjson'` (or `.jsonl`): mpq's NDJSON writer (see `convert::ndjson`).
    for ext in ["ndjson", "jsonl"] {
        let factory = Arc::new(crate::convert::ndjson::NdjsonFormatFactory::new(ext));
        ctx.state_ref().write().register_file_format(factory, false)?;
    }
    mpq_udfs::register_all(&mut ctx)?;
    Ok(ctx)
}
