//! Building MessagePack: `mp_pack` (any SQL value) and `mp_from_json` (JSON text). Both write
//! the smallest encodings, so `mp_from_json(mp_to_json(v))` gives back `v` byte for byte for
//! every value JSON can represent.

use crate::docs;
use crate::variant::{is_variant, variant_field};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::*;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use mpq_wire::Cursor;
use mpq_wire::write::*;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::sync::{Arc, OnceLock};

/// `mp_pack(value)`: any SQL value as a MessagePack variant.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PackFn {
    signature: Signature,
}

impl Default for PackFn {
    fn default() -> Self {
        PackFn { signature: Signature::any(1, Volatility::Immutable) }
    }
}

static PACK_DOC: OnceLock<Documentation> = OnceLock::new();
static FROM_JSON_DOC: OnceLock<Documentation> = OnceLock::new();

impl ScalarUDFImpl for PackFn {
    fn name(&self) -> &str {
        "mp_pack"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(variant_field(self.name())))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let embed = is_variant(&args.arg_fields[0]);
        per_row(&args, |input, out| {
            let mut buf = Vec::new();
            // Logical nulls: a NullArray has no null buffer but every row is NULL.
            let nulls = input.logical_nulls();
            for i in 0..input.len() {
                if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                    out.append_null();
                    continue;
                }
                buf.clear();
                pack_value(input, embed, i, &mut buf)?;
                out.append_value(&buf);
            }
            Ok(())
        })
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some(PACK_DOC.get_or_init(docs::pack))
    }
}

/// Runs `fill` over the one argument as an array (one row when it is a scalar) into a Binary
/// builder, and returns the column, or a scalar for a scalar argument.
fn per_row(
    args: &ScalarFunctionArgs,
    fill: impl FnOnce(&ArrayRef, &mut BinaryBuilder) -> Result<()>,
) -> Result<ColumnarValue> {
    let scalar = matches!(args.args[0], ColumnarValue::Scalar(_));
    let input = args.args[0].to_array(if scalar { 1 } else { args.number_rows })?;
    let mut out = BinaryBuilder::with_capacity(input.len(), input.len() * 16);
    fill(&input, &mut out)?;
    let out: ArrayRef = Arc::new(out.finish());
    Ok(if scalar { ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?) } else { ColumnarValue::Array(out) })
}

/// Appends row `i` of `arr` as MessagePack. `embed`: the array is a variant column, whose
/// bytes are written as they are when they hold exactly one value.
fn pack_value(arr: &ArrayRef, embed: bool, i: usize, out: &mut Vec<u8>) -> Result<()> {
    if arr.is_null(i) {
        write_nil(out);
        return Ok(());
    }
    macro_rules! int {
        ($t:ty) => {
            write_int(out, arr.as_primitive::<$t>().value(i) as i64)
        };
    }
    macro_rules! uint {
        ($t:ty) => {
            write_uint(out, arr.as_primitive::<$t>().value(i) as u64)
        };
    }
    match arr.data_type() {
        DataType::Null => write_nil(out),
        DataType::Boolean => write_bool(out, arr.as_boolean().value(i)),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => uint!(UInt8Type),
        DataType::UInt16 => uint!(UInt16Type),
        DataType::UInt32 => uint!(UInt32Type),
        DataType::UInt64 => uint!(UInt64Type),
        DataType::Float16 => write_f32(out, arr.as_primitive::<Float16Type>().value(i).to_f32()),
        DataType::Float32 => write_f32(out, arr.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => write_f64(out, arr.as_primitive::<Float64Type>().value(i)),
        DataType::Utf8 => write_str(out, arr.as_string::<i32>().value(i).as_bytes()),
        DataType::LargeUtf8 => write_str(out, arr.as_string::<i64>().value(i).as_bytes()),
        DataType::Utf8View => write_str(out, arr.as_string_view().value(i).as_bytes()),
        DataType::Binary => bytes(out, arr.as_binary::<i32>().value(i), embed),
        DataType::LargeBinary => bytes(out, arr.as_binary::<i64>().value(i), embed),
        DataType::BinaryView => bytes(out, arr.as_binary_view().value(i), embed),
        DataType::FixedSizeBinary(_) => write_bin(out, arr.as_fixed_size_binary().value(i)),
        DataType::Timestamp(unit, _) => {
            let (v, per_sec): (i64, i64) = match unit {
                TimeUnit::Second => (arr.as_primitive::<TimestampSecondType>().value(i), 1),
                TimeUnit::Millisecond => (arr.as_primitive::<TimestampMillisecondType>().value(i), 1_000),
                TimeUnit::Microsecond => (arr.as_primitive::<TimestampMicrosecondType>().value(i), 1_000_000),
                TimeUnit::Nanosecond => (arr.as_primitive::<TimestampNanosecondType>().value(i), 1_000_000_000),
            };
            let nanos = v.rem_euclid(per_sec) * (1_000_000_000 / per_sec);
            write_timestamp(out, v.div_euclid(per_sec), nanos as u32);
        }
        DataType::Date32 => write_timestamp(out, arr.as_primitive::<Date32Type>().value(i) as i64 * 86_400, 0),
        DataType::Date64 => {
            let ms = arr.as_primitive::<Date64Type>().value(i);
            write_timestamp(out, ms.div_euclid(1000), (ms.rem_euclid(1000) * 1_000_000) as u32);
        }
        DataType::List(f) => {
            let items = arr.as_list::<i32>().value(i);
            elements(out, &items, is_variant(f))?;
        }
        DataType::LargeList(f) => {
            let items = arr.as_list::<i64>().value(i);
            elements(out, &items, is_variant(f))?;
        }
        DataType::FixedSizeList(f, _) => {
            let items = arr.as_fixed_size_list().value(i);
            elements(out, &items, is_variant(f))?;
        }
        DataType::Struct(fields) => {
            let s = arr.as_struct();
            write_map_header(out, fields.len() as u32);
            for (f, col) in fields.iter().zip(s.columns()) {
                write_str(out, f.name().as_bytes());
                pack_value(col, is_variant(f), i, out)?;
            }
        }
        DataType::Map(entries, _) => {
            let m = arr.as_map().value(i);
            let variant_values = match entries.data_type() {
                DataType::Struct(kv) => kv.get(1).is_some_and(|f| is_variant(f)),
                _ => false,
            };
            write_map_header(out, m.len() as u32);
            for j in 0..m.len() {
                pack_value(m.column(0), false, j, out)?;
                pack_value(m.column(1), variant_values, j, out)?;
            }
        }
        DataType::Dictionary(_, value_type) => {
            let one = cast(&arr.slice(i, 1), value_type)?;
            pack_value(&one, embed, 0, out)?;
        }
        _ => {
            // Decimals, times, durations, intervals and the rest: their text, losslessly.
            let f = ArrayFormatter::try_new(arr.as_ref(), &FormatOptions::default())?;
            write_str(out, f.value(i).to_string().as_bytes());
        }
    }
    Ok(())
}

fn elements(out: &mut Vec<u8>, items: &ArrayRef, embed: bool) -> Result<()> {
    write_array_header(out, items.len() as u32);
    for j in 0..items.len() {
        pack_value(items, embed, j, out)?;
    }
    Ok(())
}

/// A variant's bytes go in as they are when they are exactly one value; other bytes as bin.
fn bytes(out: &mut Vec<u8>, b: &[u8], embed: bool) {
    let mut c = Cursor::new(b);
    if embed && c.skip_flat().is_ok() && c.pos() == b.len() {
        out.extend_from_slice(b);
    } else {
        write_bin(out, b);
    }
}

/// `mp_from_json(text)`: JSON text as a MessagePack variant.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FromJsonFn {
    signature: Signature,
}

impl Default for FromJsonFn {
    fn default() -> Self {
        FromJsonFn { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for FromJsonFn {
    fn name(&self) -> &str {
        "mp_from_json"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        match args {
            [DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null] => Ok(vec![DataType::Utf8]),
            [DataType::Dictionary(_, v)] if v.is_string() => Ok(vec![DataType::Utf8]),
            _ => plan_err!("mp_from_json takes one JSON text argument, found {args:?}"),
        }
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(variant_field(self.name())))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        per_row(&args, |input, out| {
            let input = cast(input, &DataType::Utf8)?;
            let mut buf = Vec::new();
            for text in input.as_string::<i32>() {
                out.append_option(text.and_then(|t| from_json(t, &mut buf).then_some(&buf)));
            }
            Ok(())
        })
    }
    fn documentation(&self) -> Option<&Documentation> {
        Some(FROM_JSON_DOC.get_or_init(docs::from_json))
    }
}

/// Transcodes JSON text to MessagePack into `out` (cleared first), streaming: no value tree,
/// keys in their order. `false` when the text is not one JSON value.
pub fn from_json(text: &str, out: &mut Vec<u8>) -> bool {
    out.clear();
    let mut de = serde_json::Deserializer::from_str(text);
    Transcode(out).deserialize(&mut de).is_ok() && de.end().is_ok()
}

/// Writes the JSON value it is given into the buffer.
struct Transcode<'o>(&'o mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Transcode<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Transcode<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        write_nil(self.0);
        Ok(())
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<(), E> {
        write_bool(self.0, v);
        Ok(())
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<(), E> {
        write_int(self.0, v);
        Ok(())
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<(), E> {
        write_uint(self.0, v);
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<(), E> {
        write_f64(self.0, v);
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<(), E> {
        write_str(self.0, v.as_bytes());
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let start = self.0.len();
        let mut n = 0u32;
        while seq.next_element_seed(Transcode(&mut *self.0))?.is_some() {
            n += 1;
        }
        // The count is known only now: put the header in front of the elements.
        self.0.splice(start..start, array_header(n));
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let start = self.0.len();
        let mut n = 0u32;
        while map.next_key_seed(Transcode(&mut *self.0))?.is_some() {
            map.next_value_seed(Transcode(&mut *self.0))?;
            n += 1;
        }
        self.0.splice(start..start, map_header(n));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mpq_wire::json::to_json;

    fn json_round_trip(json: &str) -> String {
        let mut buf = Vec::new();
        assert!(from_json(json, &mut buf), "{json} should parse");
        to_json(&buf, 128).expect("readable")
    }

    #[test]
    fn json_transcodes_in_order_with_smallest_forms() {
        let mut buf = Vec::new();
        assert!(from_json(r#"{"b": 1, "a": [true, null, -1, 2.5, "x"]}"#, &mut buf));
        assert_eq!(
            buf,
            [0x82, 0xa1, b'b', 1, 0xa1, b'a', 0x95, 0xc3, 0xc0, 0xff, 0xcb, 0x40, 0x04, 0, 0, 0, 0, 0, 0, 0xa1, b'x']
        );
        assert_eq!(
            json_round_trip(r#"{"z":{"y":[1,[],{}]},"a":18446744073709551615}"#),
            r#"{"z":{"y":[1,[],{}]},"a":18446744073709551615}"#
        );
        assert_eq!(json_round_trip("1e17"), "1e17");
        assert_eq!(json_round_trip("\"\\u00fc\\n\""), "\"ü\\n\"");
        for bad in ["", "{", "[1,]", "1 2", "{\"a\" 1}", "nul"] {
            assert!(!from_json(bad, &mut buf), "{bad:?} is not JSON");
        }
        let long: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect::<String>();
        let long = format!("{{{}\"end\":0}}", long);
        assert_eq!(json_round_trip(&long), long.replace(' ', ""));
    }
}
