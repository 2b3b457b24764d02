//! The variant type: a Binary column of each value's original MessagePack bytes, marked with
//! the field metadata `ARROW:extension:name = mpq.msgpack`. The reader produces it and the
//! functions of this crate read it (and mark their own variant results with it).

use datafusion::arrow::datatypes::{DataType, Field};
use std::collections::HashMap;

/// The Arrow extension-name metadata key.
pub const EXTENSION_KEY: &str = "ARROW:extension:name";
/// The extension name of variant columns.
pub const VARIANT_EXTENSION: &str = "mpq.msgpack";

/// The storage type of variant columns.
pub fn variant_type() -> DataType {
    DataType::Binary
}

/// A nullable variant field.
pub fn variant_field(name: &str) -> Field {
    Field::new(name, variant_type(), true)
        .with_metadata(HashMap::from([(EXTENSION_KEY.to_string(), VARIANT_EXTENSION.to_string())]))
}

/// True if the field is a variant column.
pub fn is_variant(field: &Field) -> bool {
    field.metadata().get(EXTENSION_KEY).map(String::as_str) == Some(VARIANT_EXTENSION)
}

/// True if values of this type can hold MessagePack bytes: Binary, LargeBinary, BinaryView,
/// or a dictionary of one of them.
pub fn is_binary_like(data_type: &DataType) -> bool {
    match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => true,
        DataType::Dictionary(_, v) => is_binary_like(v),
        _ => false,
    }
}
