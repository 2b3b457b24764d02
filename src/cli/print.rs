//! Printing query results: one `print_batches` entry point per output format. Variant columns
//! are rendered as JSON values (never as bytes); nested values as JSON in CSV/TSV.

use super::args::OutputFormat;
use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::FormatOptions;
use mpq::json_text::{contains_variant, json_cell, json_row};
use std::io::Write;
use std::sync::Arc;

/// Writes `batches` in `format`; `max_rows` limits the table view (0: no limit).
pub fn print_batches(
    out: &mut dyn Write,
    batches: &[RecordBatch],
    schema: &Schema,
    format: OutputFormat,
    max_rows: usize,
) -> anyhow::Result<()> {
    if schema.fields().is_empty() {
        return Ok(()); // DDL and other statements without a result
    }
    match format {
        OutputFormat::Table => print_table(out, batches, schema, max_rows),
        OutputFormat::Csv => print_delimited(out, batches, schema, b','),
        OutputFormat::Tsv => print_delimited(out, batches, schema, b'\t'),
        OutputFormat::Json => print_json(out, batches, schema, true),
        OutputFormat::Ndjson => print_json(out, batches, schema, false),
    }
}

/// Replaces variant columns (and, with `nested`, struct/list/map columns) by their JSON text.
fn displayable(batch: &RecordBatch, nested: bool) -> anyhow::Result<RecordBatch> {
    let mut fields = Vec::new();
    let mut columns = Vec::new();
    for (f, col) in batch.schema().fields().iter().zip(batch.columns()) {
        let is_nested = matches!(
            f.data_type(),
            DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(..)
        );
        if contains_variant(f) || (nested && is_nested) {
            let text: StringArray = (0..col.len())
                .map(|i| {
                    if col.is_null(i) {
                        return None;
                    }
                    let mut s = String::new();
                    json_cell(f, col, i, &mut s);
                    Some(s)
                })
                .collect();
            fields.push(Field::new(f.name(), DataType::Utf8, true));
            columns.push(Arc::new(text) as ArrayRef);
        } else {
            fields.push(f.as_ref().clone());
            columns.push(Arc::clone(col));
        }
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?)
}

fn print_table(out: &mut dyn Write, batches: &[RecordBatch], schema: &Schema, max_rows: usize) -> anyhow::Result<()> {
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let limit = if max_rows == 0 { total } else { max_rows.min(total) };
    let mut shown = Vec::new();
    let mut left = limit;
    for b in batches {
        if left == 0 {
            break;
        }
        let n = b.num_rows().min(left);
        shown.push(displayable(&b.slice(0, n), false)?);
        left -= n;
    }
    if shown.is_empty() {
        let empty = RecordBatch::new_empty(Arc::new(schema.clone()));
        shown.push(displayable(&empty, false)?);
    }
    let options = FormatOptions::default().with_null("NULL");
    let table = datafusion::arrow::util::pretty::pretty_format_batches_with_options(&shown, &options)?;
    writeln!(out, "{table}")?;
    if limit < total {
        writeln!(out, "{} of {total} rows shown; {} more not shown (--max-rows 0 shows all)", limit, total - limit)?;
    }
    Ok(())
}

fn print_delimited(out: &mut dyn Write, batches: &[RecordBatch], schema: &Schema, delimiter: u8) -> anyhow::Result<()> {
    let mut w = datafusion::arrow::csv::WriterBuilder::new().with_header(true).with_delimiter(delimiter).build(out);
    if batches.is_empty() {
        let empty = displayable(&RecordBatch::new_empty(Arc::new(schema.clone())), true)?;
        w.write(&empty)?;
    }
    for b in batches {
        w.write(&displayable(b, true)?)?;
    }
    Ok(())
}

fn print_json(out: &mut dyn Write, batches: &[RecordBatch], schema: &Schema, array: bool) -> anyhow::Result<()> {
    let fields = schema.fields();
    let mut first = true;
    if array {
        write!(out, "[")?;
    }
    let mut line = String::new();
    for b in batches {
        for row in 0..b.num_rows() {
            line.clear();
            json_row(fields, b.columns(), row, &mut line);
            if array {
                write!(out, "{}{}", if first { "\n" } else { ",\n" }, line)?;
            } else {
                writeln!(out, "{line}")?;
            }
            first = false;
        }
    }
    if array {
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    }
    Ok(())
}
