//! Partition directory names. DataFusion's partition writer renders a NULL partition value as
//! the type's zero (`false`, `0`, `1970-01-01`, an empty string), filing NULL rows under a
//! real value without a word. Before the rows reach it, every partition column is therefore
//! replaced by its directory text the way Hive writes it: NULL (and the empty string, which
//! cannot name a directory) becomes `__HIVE_DEFAULT_PARTITION__`. Characters that are unsafe
//! in a path (`/`, `%`, `#`, `?`, ...) are `%XX`-escaped by object_store when DataFusion builds
//! the path, as Hive escapes them. The columns are not stored in the files, so only the
//! directory names change.

use super::project::{map_argument, replace_columns};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, LogicalPlan, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use std::fmt::Write as _;
use std::sync::Arc;

/// The directory text of a NULL partition value (Hive's, read back as NULL by Hive, Spark and
/// DuckDB).
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// Each value of `array` (the column `name`) as its partition directory text. A value with
/// `=` is an error: object_store escapes `%` itself, so `=` cannot be escaped as `%3D`, and
/// readers such as DuckDB cannot read `col=a=b` back.
fn directory_texts(name: &str, array: &ArrayRef) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 12);
    let mut text = String::new();
    let strings = matches!(array.data_type(), DataType::Utf8);
    let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
    for i in 0..array.len() {
        text.clear();
        if array.is_null(i) {
            text.push_str(NULL_PARTITION);
        } else if strings {
            text.push_str(array.as_string::<i32>().value(i));
        } else {
            let _ = write!(text, "{}", formatter.value(i));
        }
        if text.contains('=') {
            return exec_err!(
                "--partition-by {name}: the value {text:?} contains '=', which cannot name a partition directory \
                 that readers can parse; derive a column without it in --query, e.g. replace({name}, '=', '_')"
            );
        }
        if text.is_empty() {
            // An empty directory name cannot be read back; Hive files it as NULL too.
            text.push_str(NULL_PARTITION);
        }
        out.append_value(&text);
    }
    Ok(Arc::new(out.finish()))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PartitionTextFn {
    signature: Signature,
}

impl ScalarUDFImpl for PartitionTextFn {
    fn name(&self) -> &str {
        "mpq_partition_text"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(args.arg_fields[0].name(), DataType::Utf8, false)))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_argument(&args.args[0], |a| directory_texts(args.arg_fields[0].name(), a))
    }
}

/// The function that gives a column's partition directory texts (named `mpq_partition_text`).
pub fn partition_text_udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(PartitionTextFn { signature: Signature::any(1, Volatility::Immutable) })
}

/// `input` with the columns `cols` replaced by their partition directory texts.
pub fn partition_projection(input: LogicalPlan, cols: &[String]) -> Result<LogicalPlan> {
    replace_columns(input, partition_text_udf(), |f| cols.iter().any(|c| c == f.name()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BooleanArray, Date32Array, StringArray};

    fn texts(a: ArrayRef) -> Vec<String> {
        let t = directory_texts("c", &a).expect("texts");
        t.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()).collect()
    }

    #[test]
    fn nulls_and_unsafe_characters() {
        assert_eq!(
            texts(Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)]))),
            ["true", NULL_PARTITION, "false"]
        );
        assert_eq!(texts(Arc::new(Date32Array::from(vec![Some(19675), None]))), ["2023-11-14", NULL_PARTITION]);
        assert_eq!(
            texts(Arc::new(StringArray::from(vec![Some("a/b"), Some(""), Some("ünï")]))),
            ["a/b", NULL_PARTITION, "ünï"]
        );
        let e = directory_texts("c", &(Arc::new(StringArray::from(vec!["a=b"])) as ArrayRef)).expect_err("=");
        assert!(e.to_string().contains("--partition-by c: the value \"a=b\" contains '='"), "{e}");
    }
}
