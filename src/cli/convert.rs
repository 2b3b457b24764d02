//! `mpq convert` and `mpq schema --ddl`: resolve the arguments into [`WriteOptions`], run
//! [`convert::write`] with a progress bar, and print the one-line summary.

use super::Policies;
use super::args::{ClusterTarget, ConvertArgs, ReadArgs, SchemaArgs, ShapeArgs};
use super::progress::Progress;
use anyhow::{Context, Result};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use mpq::convert::{self, Compression, Dialect, VariantOutput, WriteFormat, WriteOptions, ddl};
use mpq::datasource::SessionContextExt;
use mpq::options::MsgpackReadOptions;
use std::path::Path;
use std::time::Instant;

/// The write options the shape flags and the output ask for.
fn write_options(shape: &ShapeArgs, format: WriteFormat) -> Result<WriteOptions> {
    let mut o = WriteOptions::new(format);
    o.partition_by = shape.partition_by.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
    o.variant = shape.variant.parse::<VariantOutput>().map_err(anyhow::Error::msg)?;
    let unit = shape.timestamp_unit.as_deref();
    Ok(match shape.target.as_deref() {
        Some(t) => o.target(t.parse::<Dialect>()?, unit)?,
        None => {
            o.timestamp_unit = convert::timestamp_unit(unit.unwrap_or("ns"))?;
            o
        }
    })
}

/// Registers the inputs as `t` and plans the shape's query over them.
async fn plan(
    files: &[String],
    shape: &ShapeArgs,
    read: &ReadArgs,
    target: &ClusterTarget,
    mut opts: MsgpackReadOptions,
) -> Result<(SessionContext, LogicalPlan, MsgpackReadOptions)> {
    let sql = shape.query.clone().unwrap_or_else(|| "SELECT * FROM t".to_string());
    opts = super::with_named_columns(opts, &sql);
    let ctx = super::target_session(&opts, read, target, files).await?;
    super::register_inputs(&ctx, files, &opts).await?;
    let plan = ctx.sql(&sql).await.with_context(|| format!("--query {sql:?}"))?.into_unoptimized_plan();
    Ok((ctx, plan, opts))
}

/// `mpq convert`.
pub async fn run(a: ConvertArgs) -> Result<()> {
    let started = Instant::now();
    // Batch buffers freed go back to the system (a conversion's memory is those buffers).
    convert::return_freed_buffers();
    let format = WriteFormat::for_output(a.format.as_deref(), &a.output)?;
    let mut wopts = write_options(&a.shape, format)?;
    wopts.compression = a.compression.as_deref().map(str::parse::<Compression>).transpose()?;
    if let Some(n) = a.row_group_size {
        wopts.row_group_size = Some(n);
    }
    wopts.force = a.force;
    let opts = super::read_options(&a.read, Policies::FAIL)?.batch_bytes(convert::WRITE_BATCH_BYTES);
    let files = super::expand_all(&a.files)?;
    let bytes_in = super::input_bytes(&files, &opts.file_extension);
    let (ctx, plan, _) = plan(&files, &a.shape, &a.read, &a.target, opts).await?;
    let scan_report = ctx.msgpack_report();
    let progress = (!a.no_progress).then(|| Progress::start(scan_report.clone(), bytes_in));
    let written = match a.target.on_cluster() {
        // The reading query runs on the cluster; this process writes what it sends back.
        true => {
            let writer = mpq::session::session(&MsgpackReadOptions::default(), 0)?;
            convert::write_fetched(&ctx, &writer, plan, Path::new(&a.output), &wopts).await
        }
        false => convert::write(&ctx, plan, Path::new(&a.output), &wopts).await,
    };
    if let Some(p) = progress {
        p.finish();
    }
    let written = written?;
    let report = scan_report.snapshot();
    let secs = started.elapsed().as_secs_f64();
    let ratio = if written.bytes > 0 { bytes_in as f64 / written.bytes as f64 } else { 0.0 };
    eprintln!(
        "mpq: {} records read, {} rows written to {}: {} in, {} out ({ratio:.1}x), {} rejected, {secs:.2} s",
        report.records,
        written.rows,
        a.output,
        human_bytes(bytes_in),
        human_bytes(written.bytes),
        report.problems,
    );
    super::remote_note(&a.target);
    super::summary(&scan_report).await
}

/// `mpq schema --ddl`: the CREATE TABLE for what `convert` writes with the same shape.
pub async fn ddl(a: &SchemaArgs, dialect: &str) -> Result<String> {
    let dialect: ddl::Dialect = dialect.parse()?;
    let opts = super::read_options(&a.read, Policies::KEEP)?;
    let files = super::expand_all(&a.files)?;
    let (_ctx, plan, _) = plan(&files, &a.shape, &a.read, &ClusterTarget::default(), opts).await?;
    let wopts = write_options(&a.shape, WriteFormat::Parquet)?;
    let written = convert::write_projection(plan, wopts.form())?;
    let schema = written.schema().as_arrow().clone();
    Ok(ddl::create_table(dialect, &schema, &a.table_name, &a.location, &wopts.partition_by)?)
}

/// `1.5 MiB`, `812 B`.
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[u]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_default_from_the_output_name() {
        assert_eq!(WriteFormat::for_output(None, "a/b.csv").ok(), Some(WriteFormat::Csv));
        assert_eq!(WriteFormat::for_output(None, "warehouse/logs").ok(), Some(WriteFormat::Parquet));
        assert_eq!(WriteFormat::for_output(Some("arrow"), "x.parquet").ok(), Some(WriteFormat::Arrow));
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
