//! `mpq cluster scheduler` and `mpq cluster executor`: Ballista's scheduler and executor with
//! mpq's session (format, functions, settings) and codecs. Each says on stderr the addresses
//! it bound (a port of 0 is chosen by the system) and stops on SIGINT or SIGTERM.

use super::codec::{LogicalCodec, PhysicalCodec};
use crate::datasource::ScanPlace;
use crate::options::MsgpackReadOptions;
use ballista_core::RuntimeProducer;
use ballista_core::extension::SessionConfigExt;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use std::net::SocketAddr;
use std::sync::Arc;

fn setup(e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Configuration(e.to_string())
}

/// Resolves when the process is asked to stop (SIGINT or SIGTERM).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// The session configuration schedulers and executors start from: Ballista's, with mpq's
/// codecs; for an executor (named `executor`), its [`ScanPlace`], so its scans name it in
/// errors, write their problems to stderr and count into their metrics.
fn config(executor: Option<&str>) -> SessionConfig {
    let config = super::with_codecs(SessionConfig::new_with_ballista());
    match executor {
        Some(name) => config.with_extension(Arc::new(ScanPlace(format!("executor {name}")))),
        None => config,
    }
}

/// Runs a scheduler on `bind` until stopped; `opts` are the defaults of tables made by SQL
/// (`CREATE EXTERNAL TABLE ... STORED AS MSGPACK`).
pub async fn scheduler(bind: SocketAddr, opts: MsgpackReadOptions) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| setup(format!("--bind {bind}: {e}")))?;
    let addr = listener.local_addr().map_err(setup)?;
    let config = SchedulerConfig {
        bind_host: addr.ip().to_string(),
        external_host: addr.ip().to_string(),
        bind_port: addr.port(),
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        override_config_producer: Some(Arc::new(|| config(None))),
        override_session_builder: Some(Arc::new(move |c: SessionConfig| super::state(c, &opts))),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(setup)?;
    let server =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config)).await.map_err(setup)?;
    eprintln!("mpq cluster scheduler: listening on {addr} (mpq {})", env!("CARGO_PKG_VERSION"));
    tokio::select! {
        r = start_grpc_service_with_listener(listener, server) => r.map_err(setup),
        _ = stopped() => {
            eprintln!("mpq cluster scheduler: stopped");
            Ok(())
        }
    }
}

/// Where an executor listens and works.
#[derive(Debug, Clone)]
pub struct ExecutorSetup {
    /// The scheduler's `host:port`.
    pub scheduler: String,
    /// The Arrow Flight address other executors and clients fetch results from (port 0:
    /// chosen by the system).
    pub bind: SocketAddr,
    /// The gRPC address the scheduler may push tasks to (port 0: chosen by the system).
    pub grpc_bind: SocketAddr,
    /// The host others reach this executor by (default: the `--bind` address).
    pub external_host: Option<String>,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
    /// Tasks run at once (0: every core).
    pub vcores: usize,
}

/// A free port on `addr`'s address when its port is 0 (Ballista's executor needs its ports
/// before it binds them, to register them with the scheduler).
fn resolve_port(addr: SocketAddr) -> Result<SocketAddr> {
    if addr.port() != 0 {
        return Ok(addr);
    }
    let probe = std::net::TcpListener::bind(addr).map_err(|e| setup(format!("{addr}: {e}")))?;
    probe.local_addr().map_err(setup)
}

/// Runs an executor until stopped: it registers with the scheduler (waiting at most
/// [`super::EXECUTOR_WAIT`]), runs the tasks it is given, and writes the problems its scans
/// meet to stderr (one JSON line each, as `--rejects` would); their counts go back to the
/// client with the job's metrics.
pub async fn executor(s: ExecutorSetup, opts: MsgpackReadOptions) -> Result<()> {
    let (host, port) = s
        .scheduler
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .ok_or_else(|| setup(format!("--scheduler takes HOST:PORT, not {:?}", s.scheduler)))?;
    let bind = resolve_port(s.bind)?;
    let grpc = resolve_port(s.grpc_bind)?;
    let name = format!("{}:{}", s.external_host.as_deref().unwrap_or(&bind.ip().to_string()), bind.port());
    // Shuffle and spill files go to the work directory; objects of `s3://` buckets are read with
    // stores made from this process's environment.
    let temporary =
        s.work_dir.is_none().then(|| std::env::temp_dir().join(format!("mpq-executor-{}", std::process::id())));
    if let Some(d) = &temporary {
        std::fs::create_dir_all(d).map_err(|e| setup(format!("{}: {e}", d.display())))?;
    }
    let work_dir = match (&s.work_dir, &temporary) {
        (Some(d), _) => d.clone(),
        (None, t) => t.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
    };
    let wd = work_dir.clone();
    let runtime: RuntimeProducer = Arc::new(move |_: &SessionConfig| {
        let stores = Arc::new(crate::datasource::OnDemandStores::default());
        Ok(Arc::new(
            RuntimeEnvBuilder::new().with_temp_file_path(wd.clone()).with_object_store_registry(stores).build()?,
        ))
    });
    let functions = super::state(config(Some(&name)), &opts)?;
    let process = ExecutorProcessConfig {
        bind_host: bind.ip().to_string(),
        external_host: Some(s.external_host.clone().unwrap_or_else(|| bind.ip().to_string())),
        port: bind.port(),
        grpc_port: grpc.port(),
        scheduler_host: host,
        scheduler_port: port,
        scheduler_connect_timeout_seconds: super::EXECUTOR_WAIT.as_secs() as u16,
        vcores: s.vcores,
        work_dir: Some(work_dir),
        override_runtime_producer: Some(runtime),
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        override_config_producer: Some(Arc::new(move || config(Some(&name)))),
        override_function_registry: Some(Arc::new((&functions).into())),
        ..Default::default()
    };
    eprintln!(
        "mpq cluster executor: listening on {bind} (flight) and {grpc} (grpc), scheduler {} (mpq {})",
        s.scheduler,
        env!("CARGO_PKG_VERSION")
    );
    let result = tokio::select! {
        r = start_executor_process(Arc::new(process)) => r.map_err(setup),
        _ = stopped() => {
            eprintln!("mpq cluster executor: stopped");
            Ok(())
        }
    };
    if let Some(d) = temporary {
        let _ = std::fs::remove_dir_all(d);
    }
    result
}
