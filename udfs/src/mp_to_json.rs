//! `mp_to_json(v)`: a MessagePack value as JSON text.

use crate::common::{binary_arg, map_to_string};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

/// `mp_to_json(v)`: renders a MessagePack value as JSON text (bin as base64, timestamps as RFC
/// 3339, other ext as `{"ext": type, "data": base64}`, non-string keys stringified).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MpToJson {
    signature: Signature,
}

impl MpToJson {
    /// The function.
    pub fn new() -> Self {
        MpToJson { signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl Default for MpToJson {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for MpToJson {
    fn name(&self) -> &str {
        "mp_to_json"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        binary_arg(self.name(), args)?;
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_to_string(&args.args[0], |b| mpq_wire::json::to_json(b, mpq_wire::DEFAULT_MAX_DEPTH).ok())
    }
}
