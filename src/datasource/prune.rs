//! Nested projection pushdown: which parts of each struct column a scan's projection reads.
//!
//! DataFusion moves struct field access (`"user".geo.country`, a `get_field` call) below
//! filters and aggregates into the scan's projection. A struct column that the projection
//! reaches only through such paths is decoded with just the fields on those paths: the other
//! keys of its maps are skipped without being decoded, as unprojected top-level keys are.
//!
//! What each path reaches is kept whole, so every expression evaluates to exactly the type it
//! was planned with (`get_field` looks fields up by name). A column the projection also uses
//! any other way is decoded whole. Only record keys are pruned, and only when `_extra` is not
//! read: a pruned struct treats the keys it leaves out as unknown, which would otherwise send
//! the whole pair to `_extra`.

use crate::infer::Role;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::physical_expr::ScalarFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_plan::PhysicalExpr;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a projection reads of one column or field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    /// All of it.
    Whole,
    /// Only these fields (by name), each with what is read of it.
    Fields(BTreeMap<String, Need>),
}

impl Need {
    /// Adds a path (field names from here down) to what is read.
    fn add(&mut self, path: &[String]) {
        let Some((first, rest)) = path.split_first() else {
            *self = Need::Whole;
            return;
        };
        if let Need::Fields(fields) = self {
            fields.entry(first.clone()).or_insert_with(|| Need::Fields(BTreeMap::new())).add(rest);
        }
    }
}

/// The struct field path of a `get_field` chain over a column: the column's index and the
/// field names, outermost first. `None` for any other expression.
fn field_path(expr: &Arc<dyn PhysicalExpr>) -> Option<(usize, Vec<String>)> {
    if let Some(c) = expr.downcast_ref::<Column>() {
        return Some((c.index(), Vec::new()));
    }
    let f = expr.downcast_ref::<ScalarFunctionExpr>()?;
    let (base, names) = f.args().split_first()?;
    if f.name() != "get_field" || names.is_empty() {
        return None;
    }
    let (column, mut path) = field_path(base)?;
    for n in names {
        let name = n.downcast_ref::<Literal>()?.value().try_as_str()??;
        path.push(name.to_string());
    }
    Some((column, path))
}

/// What `exprs` read of each column they reference (indices into the table schema).
fn needs<'a>(exprs: impl IntoIterator<Item = &'a Arc<dyn PhysicalExpr>>) -> BTreeMap<usize, Need> {
    let mut needs: BTreeMap<usize, Need> = BTreeMap::new();
    for expr in exprs {
        // Infallible: the closure never fails.
        let _ = expr.apply(|e| {
            let Some((column, path)) = field_path(e) else {
                return Ok(TreeNodeRecursion::Continue);
            };
            needs.entry(column).or_insert_with(|| Need::Fields(BTreeMap::new())).add(&path);
            // The chain's own arguments are its column and literal names: nothing more below.
            Ok(TreeNodeRecursion::Jump)
        });
    }
    needs
}

/// `field` with only what `need` reads of it (the whole field when it is not a struct).
fn prune_field(field: &Field, need: &Need) -> Field {
    let (Need::Fields(wanted), DataType::Struct(fields)) = (need, field.data_type()) else {
        return field.clone();
    };
    let kept: Fields = fields
        .iter()
        .filter_map(|f| wanted.get(f.name()).map(|n| Arc::new(prune_field(f, n))))
        .collect::<Vec<_>>()
        .into();
    if kept.is_empty() {
        // A path that names no field of the struct cannot plan; keep the struct as it is.
        return field.clone();
    }
    field.clone().with_data_type(DataType::Struct(kept))
}

/// The file schema a scan decodes: `file_schema` with each struct record key that the scan's
/// expressions (its projection, and its filter if it has one) read only through field paths
/// cut down to those paths. The same schema when nothing can be pruned.
pub fn pruned_schema<'a>(
    file_schema: &SchemaRef,
    exprs: impl IntoIterator<Item = &'a Arc<dyn PhysicalExpr>>,
) -> SchemaRef {
    let is_key = |f: &Field| Role::of(f) == Role::Key;
    let needs = needs(exprs);
    let reads_extra = needs.keys().filter_map(|&i| file_schema.fields().get(i)).any(|f| Role::of(f) == Role::Extra);
    if reads_extra || !needs.values().any(|n| matches!(n, Need::Fields(_))) {
        return Arc::clone(file_schema);
    }
    let fields: Vec<Field> = file_schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match needs.get(&i) {
            Some(need) if is_key(f) => prune_field(f, need),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, file_schema.metadata().clone()))
}

/// The field paths `pruned` (from [`pruned_schema`]) keeps of the struct columns it cut down,
/// as `column.field.field`, for the plan display.
pub fn kept_paths(file_schema: &Schema, pruned: &Schema) -> Vec<String> {
    fn walk(prefix: String, full: &Field, kept: &Field, out: &mut Vec<String>) {
        match (full.data_type(), kept.data_type()) {
            (DataType::Struct(all), DataType::Struct(some)) if full != kept => {
                for k in some {
                    if let Some((_, f)) = all.find(k.name()) {
                        walk(format!("{prefix}.{}", k.name()), f, k, out);
                    }
                }
            }
            _ => out.push(prefix),
        }
    }
    let mut out = Vec::new();
    for (full, kept) in file_schema.fields().iter().zip(pruned.fields()) {
        if full != kept {
            walk(full.name().clone(), full, kept, &mut out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::DataType::{Int64, Utf8};
    use datafusion::common::ScalarValue;
    use datafusion::functions::core::get_field;

    fn schema() -> SchemaRef {
        let geo = Fields::from(vec![Field::new("country", Utf8, true), Field::new("city", Utf8, true)]);
        let user = Fields::from(vec![
            Field::new("id", Int64, true),
            Field::new("geo", DataType::Struct(geo), true),
            Field::new("name", Utf8, true),
        ]);
        let extra = Role::Extra.mark(Field::new("_extra", DataType::Binary, true));
        Arc::new(Schema::new(vec![
            Field::new("service", Utf8, true),
            Field::new("user", DataType::Struct(user), true),
            extra,
        ]))
    }

    fn col(name: &str, i: usize) -> Arc<dyn PhysicalExpr> {
        Arc::new(Column::new(name, i))
    }

    fn path(base: Arc<dyn PhysicalExpr>, names: &[&str]) -> Arc<dyn PhysicalExpr> {
        let mut args = vec![base];
        args.extend(
            names
                .iter()
                .map(|n| Arc::new(Literal::new(ScalarValue::Utf8(Some(n.to_string())))) as Arc<dyn PhysicalExpr>),
        );
        let udf = get_field();
        let return_field = Arc::new(Field::new("x", Utf8, true));
        let config = Arc::new(datafusion::common::config::ConfigOptions::default());
        Arc::new(ScalarFunctionExpr::new("get_field", udf, args, return_field, config))
    }

    fn user_type(s: &SchemaRef) -> String {
        format!("{}", s.field(1).data_type())
    }

    #[test]
    fn a_path_keeps_only_its_fields() {
        let s = schema();
        let p = vec![path(col("user", 1), &["geo", "country"]), col("service", 0)];
        let pruned = pruned_schema(&s, &p);
        assert_eq!(user_type(&pruned), "Struct(\"geo\": Struct(\"country\": Utf8))");
        assert_eq!(pruned.field(0), s.field(0));
        assert_eq!(kept_paths(&s, &pruned), ["user.geo.country"]);
        // Nested calls (one name each) read the same as one call with the whole path.
        let nested = vec![path(path(col("user", 1), &["geo"]), &["country"])];
        assert_eq!(user_type(&pruned_schema(&s, &nested)), user_type(&pruned));
    }

    #[test]
    fn paths_merge_and_what_a_path_reaches_is_whole() {
        let s = schema();
        let p =
            vec![path(col("user", 1), &["geo", "city"]), path(col("user", 1), &["geo"]), path(col("user", 1), &["id"])];
        assert_eq!(
            user_type(&pruned_schema(&s, &p)),
            "Struct(\"id\": Int64, \"geo\": Struct(\"country\": Utf8, \"city\": Utf8))"
        );
        assert_eq!(kept_paths(&s, &pruned_schema(&s, &p)), ["user.id", "user.geo"]);
    }

    #[test]
    fn a_bare_reference_or_extra_keeps_everything() {
        let s = schema();
        let bare = vec![path(col("user", 1), &["id"]), col("user", 1)];
        assert_eq!(pruned_schema(&s, &bare), s);
        let extra = vec![path(col("user", 1), &["id"]), col("_extra", 2)];
        assert_eq!(pruned_schema(&s, &extra), s);
        let none = vec![col("service", 0)];
        assert_eq!(pruned_schema(&s, &none), s);
    }
}
