//! `mp_typeof(v)`: the MessagePack type of a value.

use crate::common::{binary_arg, map_to_string};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use mpq_wire::{Cursor, Head};

/// `mp_typeof(v)`: `nil`, `bool`, `int`, `float`, `str`, `bin`, `array`, `map`, `ext` or
/// `timestamp` (ext -1).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MpTypeof {
    signature: Signature,
}

impl MpTypeof {
    /// The function.
    pub fn new() -> Self {
        MpTypeof { signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl Default for MpTypeof {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for MpTypeof {
    fn name(&self) -> &str {
        "mp_typeof"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        binary_arg(self.name(), args)?;
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_to_string(&args.args[0], |b| {
            let head = Cursor::new(b).read_head().ok()?;
            Some(match head {
                Head::Ext(-1, _) => "timestamp".to_string(),
                h => h.family().to_string(),
            })
        })
    }
}
