//! `mpq cat`: records as JSON, in file order, streamed. A plain record prints as its map; a
//! record of an event layout prints as `{"time": ..., "tag": ..., "metadata": ..., "record":
//! {...}}` (the parts its layout has, and Hive partition columns); a value of the values
//! layout prints as itself. The
//! records come from the same table a query reads, so every layout, compression and input
//! kind `mpq query` reads, `mpq cat` reads too.

use super::args::{CatArgs, CatFormat};
use super::{Policies, expand_all, read_options, register_inputs, session_with_threads, summary};
use anyhow::Result;
use datafusion::arrow::array::RecordBatch;
use futures::StreamExt;
use mpq::datasource::MsgpackTable;
use mpq::datasource::SessionContextExt;
use mpq::infer::{METADATA_COLUMN, RECORD_COLUMN, TAG_COLUMN, TIME_COLUMN};
use mpq::json_text::json_cell;
use mpq_wire::json::write_json_str;
use std::io::Write;

/// Runs `mpq cat`.
pub async fn run(a: CatArgs) -> Result<()> {
    let opts = read_options(&a.read, Policies::KEEP)?.with_record(true);
    // One partition: files whole and in order, so records come out as they are stored.
    let ctx = session_with_threads(&opts, &a.read, 1)?;
    register_inputs(&ctx, &expand_all(&a.files)?, &opts).await?;
    let table = ctx.table_provider("t").await?;
    let schema = table.schema();
    let mut parts: Vec<&str> = [TIME_COLUMN, TAG_COLUMN, METADATA_COLUMN]
        .into_iter()
        .filter(|c| schema.field_with_name(c).is_ok_and(|f| mpq::infer::Role::of(f) != mpq::infer::Role::Key))
        .collect();
    // Hive partition columns come with each record too.
    if let Some(t) = table.as_ref().downcast_ref::<MsgpackTable>() {
        parts.extend(t.desc().partitions.iter().map(String::as_str));
    }
    let mut sql = String::from("SELECT ");
    for c in &parts {
        sql.push_str(&format!("\"{c}\", "));
    }
    sql.push_str(&format!("\"{RECORD_COLUMN}\" FROM t"));
    if let Some(n) = a.limit {
        sql.push_str(&format!(" LIMIT {n}"));
    }
    let mut stream = ctx.sql(&sql).await?.execute_stream().await?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut first = true;
    if a.format == CatFormat::Json {
        out.write_all(b"[")?;
    }
    let mut line = String::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for row in 0..batch.num_rows() {
            line.clear();
            if a.format == CatFormat::Json && !first {
                line.push(',');
            }
            first = false;
            render(&batch, &parts, row, &mut line);
            line.push('\n');
            out.write_all(line.as_bytes())?;
        }
    }
    if a.format == CatFormat::Json {
        out.write_all(b"]\n")?;
    }
    out.flush()?;
    summary(&ctx.msgpack_report()).await
}

/// Appends row `row`: the record alone, or an object of the layout's parts and the record.
fn render(batch: &RecordBatch, parts: &[&str], row: usize, out: &mut String) {
    let schema = batch.schema();
    let fields = schema.fields();
    let last = batch.num_columns() - 1;
    if parts.is_empty() {
        json_cell(&fields[last], batch.column(last), row, out);
        return;
    }
    out.push('{');
    for (i, name) in parts.iter().enumerate() {
        write_json_str(out, name);
        out.push(':');
        json_cell(&fields[i], batch.column(i), row, out);
        out.push(',');
    }
    out.push_str("\"record\":");
    json_cell(&fields[last], batch.column(last), row, out);
    out.push('}');
}
