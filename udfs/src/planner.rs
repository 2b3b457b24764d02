//! SQL operators on MessagePack values, planned as function calls:
//!
//! | operator | means |
//! |---|---|
//! | `v -> 'key'`, `v -> 0` | `mp_get(v, key)`: the value under one key (taken literally, dots and all) or index |
//! | `v ->> 'key'` | `mp_get_text(v, key)`: the same as text |
//! | `v #> 'a.b[0]'` | `mp_get(v, path)`: the right side is a path |
//! | `v #>> 'a.b[0]'` | `mp_get_text(v, path)` |
//! | `v ? 'key'` | `mp_contains(v, key)` |
//!
//! The left side must be Binary-like (a variant or any Binary column); other operands are left
//! to DataFusion. Chains fold into one call: `v -> 'a' ->> 'b'` is `mp_get_text(v, 'a', 'b')`.
//! `?` needs a dialect that has the operator (PostgreSQL; the mpq CLI uses it). A right side
//! that is not a literal is read as a path.

use crate::functions::Kind;
use crate::path::quote_key;
use crate::rewrite::VariantRewrite;
use crate::variant::is_binary_like;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, Operator, ScalarUDF};
use datafusion::sql::sqlparser::ast::BinaryOperator;
use std::sync::Arc;

/// Plans `->`, `->>`, `#>`, `#>>` and `?` on MessagePack values, and comparisons of
/// variants (through [`VariantRewrite::comparison`], here so SQL gets its conversion, and its
/// error message, before DataFusion types the comparison).
#[derive(Debug)]
pub struct MsgpackPlanner {
    get: Arc<ScalarUDF>,
    text: Arc<ScalarUDF>,
    contains: Arc<ScalarUDF>,
    conversions: Arc<VariantRewrite>,
}

impl MsgpackPlanner {
    /// A planner that calls these functions (the ones registered with it).
    pub fn new(lookup: impl Fn(Kind) -> Arc<ScalarUDF>, conversions: Arc<VariantRewrite>) -> Self {
        MsgpackPlanner {
            get: lookup(Kind::Get),
            text: lookup(Kind::Text),
            contains: lookup(Kind::Contains),
            conversions,
        }
    }
}

fn comparison_op(op: &BinaryOperator) -> Option<Operator> {
    Some(match op {
        BinaryOperator::Eq => Operator::Eq,
        BinaryOperator::NotEq => Operator::NotEq,
        BinaryOperator::Lt => Operator::Lt,
        BinaryOperator::LtEq => Operator::LtEq,
        BinaryOperator::Gt => Operator::Gt,
        BinaryOperator::GtEq => Operator::GtEq,
        _ => return None,
    })
}

impl ExprPlanner for MsgpackPlanner {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        if let Some(op) = comparison_op(&expr.op) {
            let RawBinaryExpr { op: raw, left, right } = expr;
            let t = self.conversions.comparison(left, right, schema)?;
            let (left, right) = t.data;
            if !t.transformed {
                return Ok(PlannerResult::Original(RawBinaryExpr { op: raw, left, right }));
            }
            return Ok(PlannerResult::Planned(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, Box::new(right)))));
        }
        let (func, literal_key) = match expr.op {
            BinaryOperator::Arrow => (&self.get, true),
            BinaryOperator::LongArrow => (&self.text, true),
            BinaryOperator::HashArrow => (&self.get, false),
            BinaryOperator::HashLongArrow => (&self.text, false),
            BinaryOperator::Question => (&self.contains, true),
            _ => return Ok(PlannerResult::Original(expr)),
        };
        match expr.left.get_type(schema) {
            Ok(t) if is_binary_like(&t) => {}
            _ => return Ok(PlannerResult::Original(expr)),
        }
        let key = match expr.right {
            Expr::Literal(ScalarValue::Utf8(Some(k)) | ScalarValue::Utf8View(Some(k)), m) if literal_key => {
                Expr::Literal(ScalarValue::Utf8(Some(quote_key(&k))), m)
            }
            other => other,
        };
        let mut args = match expr.left {
            Expr::ScalarFunction(f) if f.func.name() == Kind::Get.name() => f.args,
            left => vec![left],
        };
        args.push(key);
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(func.clone(), args))))
    }
}
