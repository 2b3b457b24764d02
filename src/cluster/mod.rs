//! [`cluster`](self): the same SQL on a DataFusion Ballista cluster. A client session
//! ([`connect`], or [`local`] for an in-process scheduler and executors) plans on the
//! scheduler and runs on the executors; [`process`] runs a scheduler or an executor as a
//! process (`mpq cluster scheduler|executor`).
//!
//! What crosses the network: the client infers a table's schema once and sends its
//! description ([`crate::datasource::TableDesc`]) with the plan ([`codec::LogicalCodec`]);
//! the scheduler lists the files (no inference), splits them into tasks as a local run
//! would, and sends each executor its scans ([`codec::PhysicalCodec`]). Paths must resolve
//! alike on the client, the scheduler and every executor (a shared filesystem or an object
//! store).

pub mod codec;
pub mod gather;
pub mod process;

use crate::options::MsgpackReadOptions;
use ballista_core::extension::{SessionConfigExt, SessionStateExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
use std::sync::Arc;
use std::time::Duration;

/// How long a client waits for a scheduler to answer before it gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long an executor waits for its scheduler at start.
pub const EXECUTOR_WAIT: Duration = Duration::from_secs(10);

/// `config` with mpq's codecs for Ballista.
pub fn with_codecs(config: SessionConfig) -> SessionConfig {
    config
        .with_ballista_logical_extension_codec(Arc::new(codec::LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(codec::PhysicalCodec::default()))
}

/// mpq's session (`msgpack` format, `mp_*` functions, settings) from `config`, with mpq's
/// codecs: what schedulers and executors plan and run in.
pub fn state(config: SessionConfig, opts: &MsgpackReadOptions) -> Result<SessionState> {
    let ctx = crate::session::session_with_config(config, opts)?;
    let state = ctx.state();
    let config = with_codecs(state.config().clone());
    Ok(SessionStateBuilder::new_from_existing(state).with_config(config).build())
}

/// The scheduler's gRPC URL for a cluster URL: `df://host:port` (or `http://host:port`, or
/// `host:port`).
pub fn scheduler_url(url: &str) -> Result<String> {
    let rest = url.strip_prefix("df://").or_else(|| url.strip_prefix("http://")).unwrap_or(url);
    let rest = rest.trim_end_matches('/');
    let ok = rest.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if !ok || rest.contains('/') {
        return Err(DataFusionError::Configuration(format!(
            "--cluster takes df://HOST:PORT (the scheduler's address), not {url:?}"
        )));
    }
    Ok(format!("http://{rest}"))
}

/// Waits (at most [`CONNECT_TIMEOUT`], trying again every 100 ms: a scheduler started just
/// before may not listen yet) until the scheduler at `url` (an `http://` URL) answers, so an
/// unreachable scheduler is one clear error, not a hang.
async fn reach(url: &str) -> Result<SchedulerGrpcClient<tonic::transport::Channel>> {
    let unreachable = |e: String| {
        DataFusionError::Configuration(format!(
            "cannot reach the cluster's scheduler at {url} within {}s: {e}",
            CONNECT_TIMEOUT.as_secs()
        ))
    };
    let endpoint = tonic::transport::Endpoint::from_shared(url.to_string())
        .map_err(|e| unreachable(e.to_string()))?
        .connect_timeout(CONNECT_TIMEOUT);
    let deadline = tokio::time::Instant::now() + CONNECT_TIMEOUT;
    loop {
        let last = match tokio::time::timeout_at(deadline, endpoint.connect()).await {
            Ok(Ok(channel)) => return Ok(SchedulerGrpcClient::new(channel)),
            Ok(Err(e)) => format!("{e} ({})", source_chain(&e)),
            Err(_) => "no answer".to_string(),
        };
        if tokio::time::Instant::now() + Duration::from_millis(100) >= deadline {
            return Err(unreachable(last));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The causes of an error, innermost last, for messages that would otherwise say only
/// "transport error".
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out.join(": ")
}

/// A client session whose queries run on the cluster whose scheduler is at `url`
/// (`df://host:port`): mpq's session ([`crate::session::session`]) with `threads`
/// partitions per stage, planned on the scheduler. Register tables on it as on a local
/// session; their paths must resolve on the scheduler and every executor.
pub async fn connect(url: &str, opts: &MsgpackReadOptions, threads: usize) -> Result<SessionContext> {
    let url = scheduler_url(url)?;
    reach(&url).await?;
    let state = state(base_config(threads), opts)?.upgrade_for_ballista(url.clone())?;
    // The executors' scans count into metrics; the client adds them to its report.
    let report = state.config().get_extension::<crate::report::ScanReport>().map(|r| (*r).clone()).unwrap_or_default();
    let planner = gather::GatheringPlanner { inner: Arc::clone(state.query_planner()), url, report };
    upgraded(SessionStateBuilder::new_from_existing(state).with_query_planner(Arc::new(planner)).build())
}

/// The client session over a state Ballista upgraded: with URL tables, and mpq's functions
/// again (the upgrade replaces the scalar functions with Ballista's list).
fn upgraded(state: SessionState) -> Result<SessionContext> {
    let mut ctx = crate::datasource::enable_url_tables(SessionContext::new_with_state(state));
    mpq_udfs::register_all(&mut ctx)?;
    Ok(ctx)
}

/// Whether `ctx` is a cluster's client (its queries run on a cluster).
pub fn is_client(ctx: &SessionContext) -> bool {
    ctx.state().config().options().extensions.get::<ballista_core::config::BallistaConfig>().is_some()
}

/// A session configuration with `threads` partitions (0: every core).
fn base_config(threads: usize) -> SessionConfig {
    match threads {
        0 => SessionConfig::new(),
        n => SessionConfig::new().with_target_partitions(n),
    }
}

/// A client session on an in-process cluster: a scheduler and `executors` executors in this
/// process, on loopback ports the system picks, sharing `threads` cores (0: every core).
/// For trying the cluster path on one machine and for tests: the executors share this
/// process's report, so problems reach its summary as in a local run.
pub async fn local(executors: usize, opts: &MsgpackReadOptions, threads: usize) -> Result<SessionContext> {
    if executors == 0 {
        return Err(DataFusionError::Configuration("--local-cluster takes at least 1 executor".into()));
    }
    let base = state(base_config(threads), opts)?;
    let setup = |e: ballista_core::error::BallistaError| DataFusionError::Configuration(e.to_string());
    let addr = ballista_scheduler::standalone::new_standalone_scheduler_from_state(&base).await.map_err(setup)?;
    let url = format!("http://localhost:{}", addr.port());
    let scheduler = reach(&url).await?;
    let cores = if threads > 0 { threads } else { std::thread::available_parallelism().map_or(1, |n| n.get()) };
    let vcores = (cores / executors).max(1);
    for _ in 0..executors {
        ballista_executor::new_standalone_executor_from_state(scheduler.clone(), vcores, &base).await.map_err(setup)?;
    }
    upgraded(base.upgrade_for_ballista(url)?)
}
