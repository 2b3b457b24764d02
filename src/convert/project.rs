//! Replacing some columns of a plan by a one-argument function of themselves, under the same
//! names: how the written form ([`super::form`]) and the partition names
//! ([`super::partition`]) get into the plan.

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::Field;
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::{ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarUDF};
use std::sync::Arc;

/// `input` with each column that `pick` chooses replaced by `udf(column) AS column`; `input`
/// itself when `pick` chooses none.
pub(crate) fn replace_columns(
    input: LogicalPlan,
    udf: ScalarUDF,
    pick: impl Fn(&Field) -> bool,
) -> Result<LogicalPlan> {
    let schema = Arc::clone(input.schema());
    if !schema.fields().iter().any(|f| pick(f)) {
        return Ok(input);
    }
    let udf = Arc::new(udf);
    let exprs: Vec<Expr> = schema
        .iter()
        .map(|(q, f)| {
            let col = Expr::Column(Column::new(q.cloned(), f.name()));
            if pick(f) {
                Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(&udf), vec![col])).alias(f.name())
            } else {
                col
            }
        })
        .collect();
    LogicalPlanBuilder::from(input).project(exprs)?.build()
}

/// Applies an array function to a function argument: to the array, or to a scalar as a
/// one-row array, giving a scalar back.
pub(crate) fn map_argument(
    value: &ColumnarValue,
    f: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    match value {
        ColumnarValue::Array(a) => Ok(ColumnarValue::Array(f(a)?)),
        ColumnarValue::Scalar(s) => Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&f(&s.to_array()?)?, 0)?)),
    }
}
