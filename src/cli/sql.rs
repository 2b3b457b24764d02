//! Running SQL text, for `mpq query` and the shell alike: each statement planned, `COPY`
//! staged the way `mpq convert` writes, and its result streamed into a [`Printer`].

use super::args::OutputFormat;
use super::print::{Printer, View};
use anyhow::Result;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use futures::StreamExt;
use std::io::Write;

/// The statements of `sql`, in the dialect mpq speaks.
pub fn parse(sql: &str) -> Result<Vec<Statement>> {
    Ok(DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})?.into_iter().collect())
}

/// Where and how a statement's result is printed.
pub struct Output<'a> {
    /// Where rows go.
    pub out: &'a mut dyn Write,
    /// In which format.
    pub format: OutputFormat,
    /// How the views for people are cut.
    pub view: View,
}

/// Runs one statement and prints its result; the number of rows (`None`: no result).
/// `COPY ... TO` writes under a temporary name renamed into place when complete, an existing
/// output kept unless `force`; variant columns are written as JSON.
pub async fn run(ctx: &SessionContext, stmt: Statement, force: bool, o: &mut Output<'_>) -> Result<Option<usize>> {
    let plan = ctx.state().statement_to_plan(stmt).await?;
    // On a cluster, a COPY's query runs there and this process writes (see `fetch_copy`).
    #[cfg(feature = "cluster")]
    if mpq::cluster::is_client(ctx) {
        let writer = mpq::session::session(&mpq::MsgpackReadOptions::default(), 0)?;
        if let Some(copy) = mpq::convert::fetch_copy(ctx, &writer, &plan).await? {
            return execute(&writer, copy, force, o).await;
        }
    }
    execute(ctx, plan, force, o).await
}

/// Runs a planned statement ([`run`]).
async fn execute(
    ctx: &SessionContext,
    plan: datafusion::logical_expr::LogicalPlan,
    force: bool,
    o: &mut Output<'_>,
) -> Result<Option<usize>> {
    let copy = mpq::convert::stage_copy(plan, force)?;
    let df = ctx.execute_logical_plan(copy.plan).await?;
    let schema = df.schema().as_arrow().clone();
    let mut stream = df.execute_stream().await?;
    let mut printer = Printer::new(o.out, &schema, o.format, o.view);
    while let Some(batch) = stream.next().await {
        printer.batch(&batch?)?;
    }
    if let Some(staged) = copy.staged {
        staged.commit()?;
    }
    let rows = printer.finish()?;
    o.out.flush()?;
    Ok(rows)
}
