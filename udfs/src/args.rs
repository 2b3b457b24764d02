//! Arguments: planning-time checks of the value and path arguments, and the driver that walks
//! a batch of MessagePack values with their paths into a [`Sink`].
//!
//! The value argument is any Binary-like array or scalar (dictionary-encoded input is read
//! once per distinct value). Path arguments are strings (parsed as paths, see [`crate::path`])
//! or integers (array indexes); constant paths are parsed once per batch.

use crate::path::{Seg, parse_path};
use crate::variant::is_binary_like;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, take};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

/// Receives one row at a time: the value (`None` when it, or a path argument, is NULL) and the
/// path to follow into it; builds the output column.
pub trait Sink {
    /// Takes one row.
    fn push(&mut self, value: Option<&[u8]>, path: &[Seg]);
    /// The finished column.
    fn finish(self) -> ArrayRef;
}

/// Checks and coerces the argument types of a function that reads a MessagePack value and then
/// `min_paths` or more path arguments: the value stays as it is, integer paths become Int64,
/// string paths Utf8.
pub fn coerce_value_and_paths(name: &str, args: &[DataType], min_paths: usize) -> Result<Vec<DataType>> {
    let Some((value, paths)) = args.split_first() else {
        return plan_err!("{name} needs a MessagePack value argument");
    };
    if !is_binary_like(value) && *value != DataType::Null {
        return plan_err!(
            "{name} reads MessagePack bytes (a variant or Binary column), found {value}; \
             for JSON text use {name}(mp_from_json(...))"
        );
    }
    if paths.len() < min_paths {
        return plan_err!("{name} needs at least {min_paths} key or path argument(s) after the value");
    }
    let mut out = vec![value.clone()];
    for t in paths {
        out.push(match t {
            t if t.is_integer() => DataType::Int64,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => DataType::Utf8,
            DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                DataType::Utf8
            }
            other => return plan_err!("{name}: a key or path must be a string or an integer, found {other}"),
        });
    }
    Ok(out)
}

/// Checks a constant path argument at planning time, so a malformed path is a planning error.
pub fn check_constant_path(name: &str, arg: Option<&ScalarValue>) -> Result<()> {
    if let Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s))) = arg
        && let Err(e) = parse_path(s, &mut Vec::new())
    {
        return plan_err!("{name}: {e}");
    }
    Ok(())
}

/// The path arguments of one call.
enum Paths {
    /// All constant: parsed once.
    Fixed(Vec<Seg>),
    /// A constant NULL among them: every row is NULL.
    Null,
    /// Per row.
    PerRow(Vec<ArrayRef>),
}

fn constant_paths(args: &[ColumnarValue]) -> Result<Option<Paths>> {
    let mut segs = Vec::new();
    for a in args {
        let ColumnarValue::Scalar(s) = a else { return Ok(None) };
        if s.is_null() {
            return Ok(Some(Paths::Null));
        }
        match s {
            ScalarValue::Utf8(Some(p)) | ScalarValue::LargeUtf8(Some(p)) | ScalarValue::Utf8View(Some(p)) => {
                if let Err(e) = parse_path(p, &mut segs) {
                    return exec_err!("{e}");
                }
            }
            ScalarValue::Int64(Some(i)) => segs.push(Seg::index(*i)),
            other => return exec_err!("a key or path must be a string or an integer, found {}", other.data_type()),
        }
    }
    Ok(Some(Paths::Fixed(segs)))
}

/// Runs `sink` over the rows of `args` (value first, then paths) and returns its column, or a
/// scalar when every argument is one.
pub fn run<S: Sink>(args: &[ColumnarValue], rows: usize, sink: S) -> Result<ColumnarValue> {
    let all_scalar = args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let n = if all_scalar { 1 } else { rows };
    let value = args[0].to_array(n)?;
    let paths = match constant_paths(&args[1..])? {
        Some(p) => p,
        None => Paths::PerRow(args[1..].iter().map(|a| a.to_array(n)).collect::<Result<_>>()?),
    };
    let out = drive(&value, &paths, sink)?;
    if all_scalar { Ok(ColumnarValue::Scalar(scalar_of(&out)?)) } else { Ok(ColumnarValue::Array(out)) }
}

/// The one value of a one-row result as a scalar. Lists are wrapped as they are, so their item
/// field (with the variant marker) survives; `ScalarValue::try_from_array` would rebuild it.
pub fn scalar_of(out: &ArrayRef) -> Result<ScalarValue> {
    match out.data_type() {
        DataType::List(_) => Ok(ScalarValue::List(Arc::new(out.as_list::<i32>().slice(0, 1)))),
        _ => ScalarValue::try_from_array(out, 0),
    }
}

fn drive<S: Sink>(value: &ArrayRef, paths: &Paths, mut sink: S) -> Result<ArrayRef> {
    if let (Some(dict), Paths::Fixed(_) | Paths::Null) = (value.as_any_dictionary_opt(), paths) {
        // Each distinct value once, then spread by the keys.
        let per_value = drive(dict.values(), paths, sink)?;
        return Ok(take(per_value.as_ref(), dict.keys(), None)?);
    }
    if let DataType::Dictionary(_, inner) = value.data_type() {
        let plain = cast(value, inner)?;
        return drive(&plain, paths, sink);
    }
    match paths {
        Paths::Fixed(segs) => for_each_value(value, |v| sink.push(v, segs))?,
        Paths::Null => for_each_value(value, |_| sink.push(None, &[]))?,
        Paths::PerRow(arrays) => {
            let mut segs = Vec::new();
            let mut row = 0;
            for_each_value(value, |v| {
                let ok = row_path(arrays, row, &mut segs);
                sink.push(if ok { v } else { None }, &segs);
                row += 1;
            })?;
        }
    }
    Ok(sink.finish())
}

/// The path of one row; `false` when an argument is NULL or not a valid path.
fn row_path(arrays: &[ArrayRef], row: usize, segs: &mut Vec<Seg>) -> bool {
    segs.clear();
    for a in arrays {
        if a.is_null(row) {
            return false;
        }
        let ok = match a.data_type() {
            DataType::Int64 => {
                segs.push(Seg::index(a.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(row)));
                true
            }
            DataType::Utf8 => parse_path(a.as_string::<i32>().value(row), segs).is_ok(),
            DataType::LargeUtf8 => parse_path(a.as_string::<i64>().value(row), segs).is_ok(),
            DataType::Utf8View => parse_path(a.as_string_view().value(row), segs).is_ok(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Calls `f` with each value of a Binary-like (or all-NULL) array.
pub fn for_each_value(values: &dyn Array, mut f: impl FnMut(Option<&[u8]>)) -> Result<()> {
    match values.data_type() {
        DataType::Binary => values.as_binary::<i32>().iter().for_each(f),
        DataType::LargeBinary => values.as_binary::<i64>().iter().for_each(f),
        DataType::BinaryView => values.as_binary_view().iter().for_each(f),
        DataType::Null => (0..values.len()).for_each(|_| f(None)),
        other => return exec_err!("expected MessagePack bytes (Binary), found {other}"),
    }
    Ok(())
}
