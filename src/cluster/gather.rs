//! The counts of a job's MessagePack scans, brought back to a client whose executors run in
//! other processes: the client's query planner wraps each distributed plan in
//! [`GatherCounts`], whose stream, once the results are read to their end, fetches the job's
//! operator metrics from the scheduler and adds the gauges the executors' scans set
//! (`datasource::counts`) to the client's report. So `mpq query --cluster`, the shell, Python
//! and library callers all see the executors' counts in their report.

use super::reach;
use crate::datasource::counts::{PREFIX, report_data};
use crate::report::ScanReport;
use async_trait::async_trait;
use ballista_core::execution_plans::DistributedQueryExec;
use ballista_core::serde::protobuf::GetJobMetricsParams;
use ballista_core::serde::protobuf::operator_metric::Metric;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion_proto::protobuf::LogicalPlanNode;
use futures::StreamExt;
use std::sync::Arc;

/// A query planner (Ballista's) whose distributed plans are wrapped in [`GatherCounts`].
#[derive(Debug)]
pub(crate) struct GatheringPlanner {
    /// The planner wrapped.
    pub(crate) inner: Arc<dyn QueryPlanner + Send + Sync>,
    /// The scheduler's `http://` URL.
    pub(crate) url: String,
    /// The client's report.
    pub(crate) report: ScanReport,
}

#[async_trait]
impl QueryPlanner for GatheringPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn datafusion::catalog::Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.create_physical_plan(logical_plan, session).await?;
        if plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>().is_none() {
            return Ok(plan);
        }
        Ok(Arc::new(GatherCounts { inner: plan, url: self.url.clone(), report: self.report.clone() }))
    }
}

/// A distributed plan whose results, read to their end, are followed by fetching the job's
/// scan counts into the report (a failure to fetch them is a warning in the report, the
/// answer stands).
#[derive(Debug)]
pub struct GatherCounts {
    inner: Arc<dyn ExecutionPlan>,
    url: String,
    report: ScanReport,
}

impl DisplayAs for GatherCounts {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "GatherCountsExec")
    }
}

impl ExecutionPlan for GatherCounts {
    fn name(&self) -> &str {
        "GatherCountsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.inner.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.inner]
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let [inner] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("GatherCountsExec has one child".into()))?;
        Ok(Arc::new(GatherCounts { inner, url: self.url.clone(), report: self.report.clone() }))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let rows = self.inner.execute(partition, context)?;
        let (inner, url, report) = (Arc::clone(&self.inner), self.url.clone(), self.report.clone());
        let tail = futures::stream::once(async move {
            if let Err(e) = gather(&inner, &url, &report).await {
                report.add_note(format!("the cluster's counts of what it read could not be fetched: {e}"));
            }
        })
        .filter_map(|()| futures::future::ready(None));
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), rows.chain(tail))))
    }
}

/// Adds the counts of the job `plan` (a [`DistributedQueryExec`] that has run) to `report`.
async fn gather(plan: &Arc<dyn ExecutionPlan>, url: &str, report: &ScanReport) -> Result<()> {
    let Some(job) = plan.downcast_ref::<DistributedQueryExec<LogicalPlanNode>>().and_then(|d| d.job_id()) else {
        return Ok(());
    };
    let metrics = reach(url)
        .await?
        .get_job_metrics(GetJobMetricsParams { job_id: job.to_string() })
        .await
        .map_err(|e| DataFusionError::Execution(e.message().to_string()))?
        .into_inner();
    let gauges =
        metrics.stages.iter().flat_map(|s| &s.operators).flat_map(|o| &o.metrics).filter_map(|m| match &m.metric {
            Some(Metric::Gauge(g)) if g.name.starts_with(PREFIX) => Some((g.name.as_str(), g.value)),
            _ => None,
        });
    report.add(&report_data(gauges));
    Ok(())
}
