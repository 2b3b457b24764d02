//! `mpq cluster scheduler|executor`, and the client sessions of `--cluster` and
//! `--local-cluster` ([`mpq::cluster`]).

use super::args::{ClusterArgs, ClusterRole, ClusterTarget};
use anyhow::Result;
use datafusion::prelude::SessionContext;
use mpq::cluster::process::{self, ExecutorSetup};
use mpq::options::MsgpackReadOptions;

/// Runs a cluster process until it is stopped.
pub async fn serve(a: ClusterArgs) -> Result<()> {
    let opts = MsgpackReadOptions::default();
    match a.role {
        ClusterRole::Scheduler { bind } => process::scheduler(bind, opts).await?,
        ClusterRole::Executor { scheduler, bind, grpc_bind, external_host, work_dir, vcores } => {
            let setup = ExecutorSetup { scheduler, bind, grpc_bind, external_host, work_dir, vcores };
            process::executor(setup, opts).await?
        }
    }
    Ok(())
}

/// The client session of `--cluster URL` or `--local-cluster N`, if either is given, for a
/// query over `files`.
pub async fn session(
    opts: &MsgpackReadOptions,
    target: &ClusterTarget,
    files: &[String],
) -> Result<Option<SessionContext>> {
    let threads = super::THREADS.get().copied().unwrap_or(0);
    let on_cluster = target.on_cluster();
    if on_cluster && files.iter().any(|f| f == super::STDIN) {
        anyhow::bail!(
            "standard input (-) is read by this process only, so it cannot be read on a cluster: \
             save it to a file every executor can read"
        );
    }
    if opts.cache.is_some() && on_cluster {
        anyhow::bail!(
            "--cache is this machine's columnar cache; a cluster's executors read the files from their source: \
             leave out --cache (or MPQ_CACHE) with --cluster and --local-cluster"
        );
    }
    if let Some(url) = &target.cluster {
        return Ok(Some(mpq::cluster::connect(url, opts, threads).await?));
    }
    if let Some(n) = target.local_cluster {
        return Ok(Some(mpq::cluster::local(n, opts, threads).await?));
    }
    Ok(None)
}
