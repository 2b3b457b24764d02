//! Shared pieces: a function from one MessagePack value to text (the scalar/array driver with
//! NULL for NULL input and for bytes that cannot be read), and argument checks.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{ScalarValue, exec_err};
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use std::sync::Arc;

/// A SQL function of one MessagePack (Binary) argument that returns text. Two are equal when
/// their names are (function pointers have no meaningful equality).
#[derive(Debug)]
pub struct ValueToText {
    name: &'static str,
    signature: Signature,
    f: fn(&[u8]) -> Option<String>,
}

impl ValueToText {
    /// The function `name`, computing `f` per value.
    pub fn new(name: &'static str, f: fn(&[u8]) -> Option<String>) -> Self {
        ValueToText { name, signature: Signature::any(1, Volatility::Immutable), f }
    }
}

impl PartialEq for ValueToText {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for ValueToText {}

impl std::hash::Hash for ValueToText {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl ScalarUDFImpl for ValueToText {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        binary_arg(self.name, args)?;
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_to_string(&args.args[0], self.f)
    }
}

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
