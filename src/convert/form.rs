//! The form columns take in written files. Variant columns (MessagePack bytes) become JSON text
//! marked with the canonical `arrow.json` extension type, which the Parquet writer turns into
//! the Parquet JSON logical type; or they stay bytes (`--variant msgpack`). Variants nested in
//! structs, lists and maps are converted in place, so the rest of the structure stays typed.
//! For CSV, which has no nested types, every struct, list and map column becomes JSON text.
//! Timestamps can be cast to another unit for readers without nanoseconds.
//!
//! The conversion runs inside the DataFusion plan, as a projection over the query
//! ([`write_projection`]), so the writers, the partitioning and the parallelism are
//! DataFusion's own.

use super::project::{map_argument, replace_columns};
use crate::json_text::json_cell;
use crate::variant::{EXTENSION_KEY as EXTENSION_NAME, is_variant};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListArray, MapArray, StringBuilder, StructArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::collections::HashMap;
use std::sync::Arc;

/// The canonical Arrow extension type of JSON text (Parquet: the JSON logical type).
pub const JSON_EXTENSION: &str = "arrow.json";

/// How variant columns are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VariantOutput {
    /// JSON text, marked as JSON (the Parquet JSON logical type).
    #[default]
    Json,
    /// The original MessagePack bytes, as Binary (still marked `mpq.msgpack`).
    Msgpack,
}

impl std::str::FromStr for VariantOutput {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "json" => Ok(VariantOutput::Json),
            "msgpack" => Ok(VariantOutput::Msgpack),
            "parquet-variant" => Err("--variant parquet-variant is not available: arrow-rs 59 has Parquet Variant \
                 only behind its `variant_experimental` feature (see the README); use json or msgpack"
                .to_string()),
            other => Err(format!("--variant takes json or msgpack, not {other:?}")),
        }
    }
}

/// The form of every written column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WriteForm {
    /// How variant values are written.
    pub variant: VariantOutput,
    /// Struct, list and map columns become JSON text (for CSV).
    pub nested_as_json: bool,
    /// Timestamps are cast to this unit (`None`: kept as read, nanoseconds).
    pub timestamp_unit: Option<TimeUnit>,
    /// Columns of nothing but NULL (Arrow's Null type) are written as text, the type Spark
    /// and Hive declare for them (Parquet has no null type of its own).
    pub null_as_text: bool,
}

/// A JSON text field. The canonical extension type needs its (empty) metadata key too, or
/// readers (the Parquet writer included) do not recognise it.
fn json_field(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([
        (EXTENSION_NAME.to_string(), JSON_EXTENSION.to_string()),
        ("ARROW:extension:metadata".to_string(), String::new()),
    ]))
}

fn is_nested(t: &DataType) -> bool {
    matches!(t, DataType::Struct(_) | DataType::List(_) | DataType::LargeList(_) | DataType::Map(..))
}

impl WriteForm {
    /// The field `f` is written as, or `None` when it is written as it is.
    pub fn field(&self, f: &Field) -> Option<Field> {
        self.field_at(f, true)
    }

    fn field_at(&self, f: &Field, top: bool) -> Option<Field> {
        if is_variant(f) {
            return match self.variant {
                VariantOutput::Json => Some(json_field(f.name())),
                VariantOutput::Msgpack => None,
            };
        }
        if top && self.nested_as_json && is_nested(f.data_type()) {
            return Some(json_field(f.name()));
        }
        let changed = |t: DataType| Some(f.clone().with_data_type(t));
        match f.data_type() {
            DataType::Null if self.null_as_text => changed(DataType::Utf8),
            DataType::Timestamp(unit, tz) => match self.timestamp_unit {
                Some(to) if to != *unit => changed(DataType::Timestamp(to, tz.clone())),
                _ => None,
            },
            DataType::Struct(fields) => self.fields(fields).and_then(|fs| changed(DataType::Struct(fs))),
            DataType::List(e) => self.field_at(e, false).and_then(|e| changed(DataType::List(Arc::new(e)))),
            DataType::LargeList(e) => self.field_at(e, false).and_then(|e| changed(DataType::LargeList(Arc::new(e)))),
            DataType::Map(entries, sorted) => {
                self.field_at(entries, false).and_then(|e| changed(DataType::Map(Arc::new(e), *sorted)))
            }
            _ => None,
        }
    }

    /// The struct's fields as written, or `None` when none changes.
    fn fields(&self, fields: &Fields) -> Option<Fields> {
        let changed: Vec<Option<Field>> = fields.iter().map(|c| self.field_at(c, false)).collect();
        if changed.iter().all(Option::is_none) {
            return None;
        }
        Some(fields.iter().zip(changed).map(|(c, n)| n.map(Arc::new).unwrap_or_else(|| Arc::clone(c))).collect())
    }

    /// `array` (of field `f`) in its written form; the same array when `f` is written as it is.
    pub fn array(&self, f: &Field, array: &ArrayRef) -> Result<ArrayRef> {
        self.array_at(f, array, true)
    }

    fn array_at(&self, f: &Field, array: &ArrayRef, top: bool) -> Result<ArrayRef> {
        let Some(out) = self.field_at(f, top) else {
            return Ok(Arc::clone(array));
        };
        if out.metadata().get(EXTENSION_NAME).is_some_and(|n| n == JSON_EXTENSION) {
            return Ok(json_text(f, array));
        }
        Ok(match (array.data_type(), out.data_type()) {
            (DataType::Timestamp(from, _), DataType::Timestamp(to, tz)) => {
                floor_timestamps(array, *from, *to, tz.clone())?
            }
            (DataType::Null, to) => cast(array, to)?,
            (DataType::Struct(fields), DataType::Struct(new_fields)) => {
                let s = array.as_struct();
                let columns =
                    fields.iter().zip(s.columns()).map(|(c, a)| self.array_at(c, a, false)).collect::<Result<_>>()?;
                Arc::new(StructArray::try_new(new_fields.clone(), columns, s.nulls().cloned())?)
            }
            (DataType::List(e), DataType::List(new_e)) => {
                let l = array.as_list::<i32>();
                let values = self.array_at(e, l.values(), false)?;
                Arc::new(ListArray::try_new(Arc::clone(new_e), l.offsets().clone(), values, l.nulls().cloned())?)
            }
            (DataType::LargeList(e), DataType::LargeList(new_e)) => {
                let l = array.as_list::<i64>();
                let values = self.array_at(e, l.values(), false)?;
                Arc::new(datafusion::arrow::array::LargeListArray::try_new(
                    Arc::clone(new_e),
                    l.offsets().clone(),
                    values,
                    l.nulls().cloned(),
                )?)
            }
            (DataType::Map(e, _), DataType::Map(new_e, sorted)) => {
                let m = array.as_map();
                let entries: ArrayRef = Arc::new(m.entries().clone());
                let entries = self.array_at(e, &entries, false)?;
                Arc::new(MapArray::try_new(
                    Arc::clone(new_e),
                    m.offsets().clone(),
                    entries.as_struct().clone(),
                    m.nulls().cloned(),
                    *sorted,
                )?)
            }
            (from, to) => return exec_err!("cannot write {from} as {to}"),
        })
    }
}

/// Timestamps in a coarser (or finer) unit, rounded down: an instant before 1970 with finer
/// digits keeps its second (Arrow's cast rounds toward zero, which would move
/// 1969-12-31T23:59:59.999999999 to 1970-01-01).
fn floor_timestamps(array: &ArrayRef, from: TimeUnit, to: TimeUnit, tz: Option<Arc<str>>) -> Result<ArrayRef> {
    use datafusion::arrow::array::PrimitiveArray;
    use datafusion::arrow::datatypes::{
        ArrowTimestampType, Int64Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    let per_second = |u: TimeUnit| match u {
        TimeUnit::Second => 1i64,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    };
    let (f, t) = (per_second(from), per_second(to));
    if t > f {
        return Ok(cast(array, &DataType::Timestamp(to, tz))?);
    }
    let values: PrimitiveArray<Int64Type> = cast(array, &DataType::Int64)?.as_primitive::<Int64Type>().clone();
    let floored = values.unary::<_, Int64Type>(|v| v.div_euclid(f / t));
    fn typed<T: ArrowTimestampType>(v: PrimitiveArray<Int64Type>, tz: Option<Arc<str>>) -> ArrayRef {
        Arc::new(v.reinterpret_cast::<T>().with_timezone_opt(tz))
    }
    Ok(match to {
        TimeUnit::Microsecond => typed::<TimestampMicrosecondType>(floored, tz),
        TimeUnit::Millisecond => typed::<TimestampMillisecondType>(floored, tz),
        TimeUnit::Second => typed::<TimestampSecondType>(floored, tz),
        TimeUnit::Nanosecond => typed::<TimestampNanosecondType>(floored, tz),
    })
}

/// Each value of `array` as JSON text (NULL stays NULL).
fn json_text(f: &Field, array: &ArrayRef) -> ArrayRef {
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 8);
    let mut cell = String::new();
    for i in 0..array.len() {
        if array.is_null(i) {
            out.append_null();
            continue;
        }
        cell.clear();
        json_cell(f, array, i, &mut cell);
        out.append_value(&cell);
    }
    Arc::new(out.finish())
}

/// The function the write projection calls on each column whose form changes.
#[derive(Debug, PartialEq, Eq, Hash)]
struct WriteFormFn {
    form: WriteForm,
    signature: Signature,
}

impl ScalarUDFImpl for WriteFormFn {
    fn name(&self) -> &str {
        "mpq_write_form"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        plan_err!("mpq_write_form needs its argument's field")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let f = &args.arg_fields[0];
        Ok(self.form.field(f).map(Arc::new).unwrap_or_else(|| Arc::clone(f)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_argument(&args.args[0], |a| self.form.array(&args.arg_fields[0], a))
    }
}

/// The function that writes a column in `form` (named `mpq_write_form`).
pub fn write_form_udf(form: WriteForm) -> ScalarUDF {
    ScalarUDF::new_from_impl(WriteFormFn { form, signature: Signature::any(1, Volatility::Immutable) })
}

/// The form `udf` writes, when it is [`write_form_udf`]'s (a plan shipped to a cluster carries it).
pub fn form_of(udf: &ScalarUDF) -> Option<WriteForm> {
    udf.inner().downcast_ref::<WriteFormFn>().map(|f| f.form)
}

impl WriteForm {
    /// Four bytes: the variant output, nested-as-JSON, the timestamp unit (0: kept), null-as-text.
    pub fn to_bytes(&self) -> [u8; 4] {
        let unit = match self.timestamp_unit {
            None => 0,
            Some(TimeUnit::Second) => 1,
            Some(TimeUnit::Millisecond) => 2,
            Some(TimeUnit::Microsecond) => 3,
            Some(TimeUnit::Nanosecond) => 4,
        };
        [(self.variant == VariantOutput::Msgpack) as u8, self.nested_as_json as u8, unit, self.null_as_text as u8]
    }

    /// The form [`WriteForm::to_bytes`] wrote, or `None` for other bytes.
    pub fn from_bytes(b: &[u8]) -> Option<WriteForm> {
        let &[variant, nested, unit, null] = b else { return None };
        let flag = |b: u8| (b <= 1).then_some(b == 1);
        Some(WriteForm {
            variant: if flag(variant)? { VariantOutput::Msgpack } else { VariantOutput::Json },
            nested_as_json: flag(nested)?,
            timestamp_unit: match unit {
                0 => None,
                1 => Some(TimeUnit::Second),
                2 => Some(TimeUnit::Millisecond),
                3 => Some(TimeUnit::Microsecond),
                4 => Some(TimeUnit::Nanosecond),
                _ => return None,
            },
            null_as_text: flag(null)?,
        })
    }
}

/// `input` with every column whose form changes replaced by its written form, under the same
/// name; `input` itself when nothing changes.
pub fn write_projection(input: LogicalPlan, form: WriteForm) -> Result<LogicalPlan> {
    replace_columns(input, write_form_udf(form), |f| form.field(f).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variant::variant_field;
    use datafusion::arrow::array::{BinaryArray, Int64Array, StringArray};

    fn variant_values() -> ArrayRef {
        // 1, "a", nil-as-NULL, [1, 2]
        Arc::new(BinaryArray::from(vec![Some(&[0x01][..]), Some(&[0xa1, b'a'][..]), None, Some(&[0x92, 1, 2][..])]))
    }

    #[test]
    fn coarser_timestamps_round_down_before_1970_too() {
        use datafusion::arrow::array::{TimestampMicrosecondArray, TimestampNanosecondArray};
        let ns: ArrayRef = Arc::new(
            TimestampNanosecondArray::from(vec![Some(-1), Some(1_999), None, Some(-1_001)]).with_timezone("UTC"),
        );
        let us = floor_timestamps(&ns, TimeUnit::Nanosecond, TimeUnit::Microsecond, Some("UTC".into())).expect("cast");
        let us = us.as_any().downcast_ref::<TimestampMicrosecondArray>().expect("us");
        assert_eq!(us.iter().collect::<Vec<_>>(), [Some(-1), Some(1), None, Some(-2)]);
        assert_eq!(us.timezone(), Some("UTC"));
    }

    #[test]
    fn a_form_survives_its_bytes() {
        for variant in [VariantOutput::Json, VariantOutput::Msgpack] {
            for unit in [None, Some(TimeUnit::Second), Some(TimeUnit::Millisecond), Some(TimeUnit::Microsecond)] {
                let form = WriteForm { variant, nested_as_json: true, timestamp_unit: unit, null_as_text: false };
                assert_eq!(WriteForm::from_bytes(&form.to_bytes()), Some(form));
                assert_eq!(form_of(&write_form_udf(form)), Some(form));
            }
        }
        assert_eq!(WriteForm::from_bytes(&[0, 2, 0, 0]), None);
        assert_eq!(WriteForm::from_bytes(&[0, 0, 0]), None);
    }

    #[test]
    fn variants_become_marked_json_text() {
        let f = variant_field("v");
        let form = WriteForm::default();
        let out = form.field(&f).expect("changes");
        assert_eq!(out.data_type(), &DataType::Utf8);
        assert_eq!(out.metadata().get(EXTENSION_NAME).map(String::as_str), Some(JSON_EXTENSION));
        let a = form.array(&f, &variant_values()).expect("converts");
        let s: &StringArray = a.as_string();
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![Some("1"), Some("\"a\""), None, Some("[1,2]")]);
        let keep = WriteForm { variant: VariantOutput::Msgpack, ..form };
        assert!(keep.field(&f).is_none());
    }

    #[test]
    fn nested_variants_convert_in_place() {
        let inner = Arc::new(variant_field("code"));
        let id = Arc::new(Field::new("id", DataType::Int64, true));
        let fields = Fields::from(vec![Arc::clone(&id), Arc::clone(&inner)]);
        let f = Field::new("s", DataType::Struct(fields.clone()), true);
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, 4]));
        let s: ArrayRef = Arc::new(StructArray::new(fields, vec![ids, variant_values()], None));
        let form = WriteForm::default();
        let out = form.field(&f).expect("changes");
        let DataType::Struct(out_fields) = out.data_type() else { panic!("struct") };
        assert_eq!(out_fields[0].data_type(), &DataType::Int64);
        assert_eq!(out_fields[1].data_type(), &DataType::Utf8);
        let a = form.array(&f, &s).expect("converts");
        assert_eq!(a.data_type(), out.data_type());
        assert_eq!(a.as_struct().column(1).as_string::<i32>().value(3), "[1,2]");
        // CSV: the whole struct is one JSON text.
        let csv = WriteForm { nested_as_json: true, ..form };
        let a = csv.array(&f, &s).expect("converts");
        assert_eq!(a.as_string::<i32>().value(1), r#"{"id":2,"code":"a"}"#);
    }

    #[test]
    fn plain_columns_are_left_alone() {
        let form = WriteForm { nested_as_json: true, ..WriteForm::default() };
        assert!(form.field(&Field::new("a", DataType::Int64, true)).is_none());
        assert!(form.field(&Field::new("b", DataType::Binary, true)).is_none());
        let us = WriteForm { timestamp_unit: Some(TimeUnit::Microsecond), ..form };
        let ts = Field::new("t", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true);
        assert_eq!(
            us.field(&ts).map(|f| f.data_type().clone()),
            Some(DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())))
        );
    }
}
