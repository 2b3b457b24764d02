//! Printing query results: one `print_batches` entry point per output format. Variant columns
//! are rendered as JSON values (never as bytes); nested values as JSON in CSV/TSV.

use super::args::OutputFormat;
use crate::variant::is_variant;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    Schema, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mpq_wire::json::{base64_into, write_json, write_json_str};
use std::fmt::Write as _;
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

/// True if the field or anything nested in it is a variant.
fn contains_variant(f: &Field) -> bool {
    is_variant(f)
        || match f.data_type() {
            DataType::List(e) | DataType::LargeList(e) | DataType::Map(e, _) => contains_variant(e),
            DataType::Struct(fs) => fs.iter().any(|c| contains_variant(c)),
            _ => false,
        }
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
            line.push('{');
            for (i, (f, col)) in fields.iter().zip(b.columns()).enumerate() {
                if i > 0 {
                    line.push(',');
                }
                write_json_str(&mut line, f.name());
                line.push(':');
                json_cell(f, col, row, &mut line);
            }
            line.push('}');
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

/// Appends the JSON of `col[row]` (field `f`) to `out`.
pub fn json_cell(f: &Field, col: &ArrayRef, row: usize, out: &mut String) {
    if col.is_null(row) {
        out.push_str("null");
        return;
    }
    if is_variant(f) {
        let bytes = col.as_binary::<i32>().value(row);
        let mut cur = mpq_wire::Cursor::new(bytes);
        let mark = out.len();
        if write_json(&mut cur, out, mpq_wire::MAX_DEPTH_LIMIT).is_err() {
            out.truncate(mark);
            out.push_str("null");
        }
        return;
    }
    macro_rules! num {
        ($t:ty) => {{
            let _ = write!(out, "{}", col.as_primitive::<$t>().value(row));
        }};
    }
    match col.data_type() {
        DataType::Boolean => out.push_str(if col.as_boolean().value(row) { "true" } else { "false" }),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float32 => float(out, col.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => float(out, col.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, 0) => num!(Decimal128Type),
        DataType::Utf8 => write_json_str(out, col.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => write_json_str(out, col.as_string::<i64>().value(row)),
        DataType::Utf8View => write_json_str(out, col.as_string_view().value(row)),
        DataType::Binary => {
            out.push('"');
            base64_into(out, col.as_binary::<i32>().value(row));
            out.push('"');
        }
        DataType::Timestamp(unit, _) => {
            let ns = match unit {
                TimeUnit::Second => col.as_primitive::<TimestampSecondType>().value(row).checked_mul(1_000_000_000),
                TimeUnit::Millisecond => {
                    col.as_primitive::<TimestampMillisecondType>().value(row).checked_mul(1_000_000)
                }
                TimeUnit::Microsecond => col.as_primitive::<TimestampMicrosecondType>().value(row).checked_mul(1_000),
                TimeUnit::Nanosecond => Some(col.as_primitive::<TimestampNanosecondType>().value(row)),
            };
            match ns {
                Some(ns) => write_json_str(out, &mpq_wire::ext::rfc3339(ns)),
                None => display(out, col, row),
            }
        }
        DataType::Date32 => {
            let days = col.as_primitive::<Date32Type>().value(row) as i64;
            let s = mpq_wire::ext::rfc3339(days * 86_400_000_000_000);
            write_json_str(out, &s[..10]);
        }
        DataType::List(inner) => {
            let list = col.as_list::<i32>();
            seq(out, inner, &list.value(row));
        }
        DataType::LargeList(inner) => {
            let list = col.as_list::<i64>();
            seq(out, inner, &list.value(row));
        }
        DataType::Struct(fields) => {
            let s = col.as_struct();
            out.push('{');
            for (i, (cf, c)) in fields.iter().zip(s.columns()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_str(out, cf.name());
                out.push(':');
                json_cell(cf, c, row, out);
            }
            out.push('}');
        }
        DataType::Map(entries, _) => {
            let m = col.as_map();
            let kv = m.value(row);
            let DataType::Struct(kvf) = entries.data_type() else {
                return display(out, col, row);
            };
            out.push('{');
            for i in 0..kv.len() {
                if i > 0 {
                    out.push(',');
                }
                let mut key = String::new();
                json_cell(&kvf[0], kv.column(0), i, &mut key);
                if key.starts_with('"') {
                    out.push_str(&key);
                } else {
                    write_json_str(out, &key);
                }
                out.push(':');
                json_cell(&kvf[1], kv.column(1), i, out);
            }
            out.push('}');
        }
        DataType::Null => out.push_str("null"),
        _ => display(out, col, row),
    }
}

fn seq(out: &mut String, inner: &Field, values: &ArrayRef) {
    out.push('[');
    for i in 0..values.len() {
        if i > 0 {
            out.push(',');
        }
        json_cell(inner, values, i, out);
    }
    out.push(']');
}

fn float(out: &mut String, v: f64) {
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str("null");
    }
}

/// Anything else: Arrow's display text as a JSON string.
fn display(out: &mut String, col: &ArrayRef, row: usize) {
    let options = FormatOptions::default();
    let text = ArrayFormatter::try_new(col.as_ref(), &options).map(|f| f.value(row).to_string()).unwrap_or_default();
    write_json_str(out, &text);
}
