//! Casts and comparisons of variant values do what a user means, rewritten before type
//! coercion (a DataFusion `FunctionRewrite`):
//!
//! - `CAST(v AS BIGINT)` (and `::int`, `TRY_CAST`, ...) becomes `mp_get_int(v)`, and
//!   `CAST(mp_get(v, p...) AS BIGINT)` becomes `mp_get_int(v, p...)`, one skip-parse instead of
//!   two. Integers go through `mp_get_int`, floats `mp_get_float`, text `mp_get_text`, booleans
//!   `mp_get_bool`, timestamps and dates `mp_get_ts`, decimals `mp_get_text`; where the target
//!   differs from the getter's type (`INT`, `REAL`, `TIMESTAMP` without zone, `DECIMAL`) a
//!   `TRY_CAST` is kept around the getter, so a value that does not convert or does not fit is
//!   NULL rather than a failed query. A cast to a binary type keeps the bytes as they are.
//! - A comparison (`=`, `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT FROM`, `IN (...)`,
//!   `LIKE`) of a variant with a non-variant value converts the variant like a cast to the
//!   other side's kind: numbers compare as Float64, strings as text, booleans as booleans,
//!   timestamps and dates as timestamps.
//! - Anything else (a cast to a list or struct, a comparison with one) is a planning error that
//!   names the function to use.
//!
//! Variant values are recognised by the field marker (`ARROW:extension:name = mpq.msgpack`), so
//! plain Binary columns keep DataFusion's own cast and comparison rules.

use crate::functions::Kind;
use crate::variant::is_variant;
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{InList, Like, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::FunctionRewrite;
use datafusion::logical_expr::{BinaryExpr, Cast, Expr, ExprSchemable, Operator, ScalarUDF, TryCast};
use std::sync::Arc;

/// The rewrite; holds the getters it calls.
#[derive(Debug)]
pub struct VariantRewrite {
    fns: Vec<(Kind, Arc<ScalarUDF>)>,
}

impl VariantRewrite {
    /// A rewrite that calls these functions (the ones registered with it).
    pub fn new(lookup: impl Fn(Kind) -> Arc<ScalarUDF>) -> Self {
        let kinds = [Kind::Int, Kind::Float, Kind::Text, Kind::Bool, Kind::Ts];
        VariantRewrite { fns: kinds.into_iter().map(|k| (k, lookup(k))).collect() }
    }

    fn func(&self, kind: Kind) -> Arc<ScalarUDF> {
        let (_, f) = self.fns.iter().find(|(k, _)| *k == kind).expect("every getter kind is registered");
        f.clone()
    }

    /// `v` converted to `target` by the getter `kind` (see [`getter_for`]).
    fn call(&self, kind: Kind, v: Expr, target: &DataType) -> Expr {
        let args = match v {
            Expr::ScalarFunction(f) if f.func.name() == Kind::Get.name() => f.args,
            v => vec![v],
        };
        let call = Expr::ScalarFunction(ScalarFunction::new_udf(self.func(kind), args));
        if kind.output_field("").data_type() == target {
            return call;
        }
        // The kept cast is a TRY_CAST even under CAST: a value that does not convert, or does
        // not fit the narrower type, is NULL like everywhere else, never a failed query.
        Expr::TryCast(TryCast::new(Box::new(call), target.clone()))
    }

    /// The variant side of a comparison, converted for comparing with a value of type `other`.
    fn for_comparison(&self, v: Expr, other: &DataType) -> Result<Transformed<Expr>> {
        let target = match other {
            t if t.is_numeric() => DataType::Float64,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
            DataType::Dictionary(_, t) if t.is_string() => DataType::Utf8,
            DataType::Boolean => DataType::Boolean,
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
            }
            DataType::Null | DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
                return Ok(Transformed::no(v));
            }
            other => {
                return plan_err!(
                    "cannot compare a MessagePack variant with {other}; convert it first with \
                     mp_get_str, mp_get_int, mp_get_float, mp_get_bool, mp_get_ts or mp_get_array"
                );
            }
        };
        let kind = getter_for(&target)?.expect("comparison targets all have a getter");
        Ok(Transformed::yes(self.call(kind, v, &target)))
    }
}

impl VariantRewrite {
    /// Converts the variant side of `left op right` when exactly one side is a variant;
    /// `Transformed::no` otherwise.
    pub fn comparison(&self, left: Expr, right: Expr, schema: &DFSchema) -> Result<Transformed<(Expr, Expr)>> {
        let (lv, rv) = (variant(&left, schema), variant(&right, schema));
        if lv == rv {
            return Ok(Transformed::no((left, right)));
        }
        let (l, r) = if lv {
            let t = right.get_type(schema)?;
            (self.for_comparison(left, &t)?, Transformed::no(right))
        } else {
            let t = left.get_type(schema)?;
            (Transformed::no(left), self.for_comparison(right, &t)?)
        };
        let changed = l.transformed || r.transformed;
        let pair = (l.data, r.data);
        Ok(if changed { Transformed::yes(pair) } else { Transformed::no(pair) })
    }
}

/// The getter that converts a variant to `target`; `None` for binary targets (the bytes as
/// they are).
fn getter_for(target: &DataType) -> Result<Option<Kind>> {
    Ok(Some(match target {
        t if t.is_integer() => Kind::Int,
        t if t.is_floating() => Kind::Float,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            Kind::Text
        }
        DataType::Boolean => Kind::Bool,
        DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => Kind::Ts,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::Null => return Ok(None),
        other => {
            return plan_err!(
                "cannot convert a MessagePack variant to {other}; use mp_get_array for lists, \
                 mp_get / mp_get_<type> for fields, mp_to_json for text"
            );
        }
    }))
}

fn variant(e: &Expr, schema: &DFSchema) -> bool {
    e.to_field(schema).is_ok_and(|(_, f)| is_variant(&f))
}

fn comparison(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

impl FunctionRewrite for VariantRewrite {
    fn name(&self) -> &str {
        "mpq_variant_conversions"
    }

    fn rewrite(&self, expr: Expr, schema: &DFSchema, _config: &ConfigOptions) -> Result<Transformed<Expr>> {
        match expr {
            Expr::Cast(Cast { expr: inner, field }) if variant(&inner, schema) => {
                match getter_for(field.data_type())? {
                    Some(kind) => Ok(Transformed::yes(self.call(kind, *inner, field.data_type()))),
                    None => Ok(Transformed::no(Expr::Cast(Cast { expr: inner, field }))),
                }
            }
            Expr::TryCast(TryCast { expr: inner, field }) if variant(&inner, schema) => {
                match getter_for(field.data_type())? {
                    Some(kind) => Ok(Transformed::yes(self.call(kind, *inner, field.data_type()))),
                    None => Ok(Transformed::no(Expr::TryCast(TryCast { expr: inner, field }))),
                }
            }
            Expr::BinaryExpr(BinaryExpr { left, op, right }) if comparison(op) => Ok(self
                .comparison(*left, *right, schema)?
                .update_data(|(l, r)| Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r))))),
            Expr::InList(InList { expr: inner, list, negated }) if variant(&inner, schema) => {
                let other = list.iter().find_map(|e| e.get_type(schema).ok().filter(|t| *t != DataType::Null));
                let Some(t) = other else {
                    return Ok(Transformed::no(Expr::InList(InList { expr: inner, list, negated })));
                };
                let e = self.for_comparison(*inner, &t)?;
                Ok(e.update_data(|e| Expr::InList(InList { expr: Box::new(e), list, negated })))
            }
            Expr::Like(like) if variant(&like.expr, schema) => {
                let Like { negated, expr: inner, pattern, escape_char, case_insensitive } = like;
                let e = self.for_comparison(*inner, &DataType::Utf8)?;
                Ok(e.update_data(|e| {
                    Expr::Like(Like { negated, expr: Box::new(e), pattern, escape_char, case_insensitive })
                }))
            }
            other => Ok(Transformed::no(other)),
        }
    }
}
