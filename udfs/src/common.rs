//! Shared driver: applies a per-value function to a Binary argument, scalar or array, with
//! NULL for NULL input and for bytes that cannot be read.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::ColumnarValue;
use std::sync::Arc;

/// Maps each MessagePack value of `arg` to an optional string.
pub fn map_to_string(arg: &ColumnarValue, f: impl Fn(&[u8]) -> Option<String>) -> Result<ColumnarValue> {
    match arg {
        ColumnarValue::Scalar(ScalarValue::Binary(v) | ScalarValue::LargeBinary(v) | ScalarValue::BinaryView(v)) => {
            Ok(ColumnarValue::Scalar(ScalarValue::Utf8(v.as_deref().and_then(&f))))
        }
        ColumnarValue::Scalar(s) if s.is_null() => Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None))),
        ColumnarValue::Array(a) => {
            let out: StringArray = match a.data_type() {
                DataType::Binary => a.as_binary::<i32>().iter().map(|v| v.and_then(&f)).collect(),
                DataType::LargeBinary => a.as_binary::<i64>().iter().map(|v| v.and_then(&f)).collect(),
                DataType::BinaryView => a.as_binary_view().iter().map(|v| v.and_then(&f)).collect(),
                DataType::Null => StringArray::new_null(a.len()),
                other => return exec_err!("expected MessagePack bytes (Binary), found {other}"),
            };
            Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
        }
        ColumnarValue::Scalar(s) => exec_err!("expected MessagePack bytes (Binary), found {}", s.data_type()),
    }
}

/// Checks at planning time that the one argument is Binary-like.
pub fn binary_arg(name: &str, args: &[DataType]) -> Result<()> {
    match args {
        [DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null] => Ok(()),
        _ => datafusion::common::plan_err!("{name} takes one MessagePack (Binary) argument, found {args:?}"),
    }
}
