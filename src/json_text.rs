//! Arrow values as JSON text, variant-aware: variant columns are rendered from their
//! MessagePack bytes, nested values recursively, timestamps as RFC 3339 strings, binary as
//! base64. The printers and the converters (CSV cells, JSON for variant columns) share it.

use crate::variant::is_variant;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Field, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimeUnit, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use mpq_wire::json::{base64_into, write_json, write_json_str};
use std::fmt::Write as _;

/// Appends row `row` of `columns` (with `fields`) as one JSON object to `out`.
pub fn json_row(fields: &datafusion::arrow::datatypes::Fields, columns: &[ArrayRef], row: usize, out: &mut String) {
    out.push('{');
    for (i, (f, col)) in fields.iter().zip(columns).enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, f.name());
        out.push(':');
        json_cell(f, col, row, out);
    }
    out.push('}');
}

/// True if the field holds JSON text (the canonical `arrow.json` extension type), such as a
/// variant column in its written form.
pub fn is_json_text(f: &Field) -> bool {
    f.metadata().get(crate::variant::EXTENSION_KEY).is_some_and(|n| n == "arrow.json")
}

/// Appends the JSON of `col[row]` (field `f`) to `out`. JSON text columns
/// ([`is_json_text`]) are embedded as the values they hold.
pub fn json_cell(f: &Field, col: &ArrayRef, row: usize, out: &mut String) {
    if col.is_null(row) {
        out.push_str("null");
        return;
    }
    if is_json_text(f) && matches!(col.data_type(), DataType::Utf8) {
        out.push_str(col.as_string::<i32>().value(row));
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
        DataType::Struct(fields) => json_row(fields, col.as_struct().columns(), row, out),
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

/// True if the field or anything nested in it is a variant.
pub fn contains_variant(f: &Field) -> bool {
    is_variant(f)
        || match f.data_type() {
            DataType::List(e) | DataType::LargeList(e) | DataType::Map(e, _) => contains_variant(e),
            DataType::Struct(fs) => fs.iter().any(|c| contains_variant(c)),
            _ => false,
        }
}
