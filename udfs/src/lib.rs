//! `mpq-udfs`: MessagePack-aware SQL functions for DataFusion. They read columns of raw
//! MessagePack (mpq's variant columns, or any Binary column of MessagePack bytes, for example
//! one read back from Parquet) by skip-parsing the bytes, never by building a value tree. A row
//! that cannot be read becomes NULL; misuse (a malformed constant path, a value argument that
//! is not binary, a cast a variant cannot make) is a planning error.
//!
//! [`register_all`] adds, to any `SessionContext`:
//! - the functions ([`all`]; each documented through DataFusion's function documentation);
//! - the operators `->`, `->>`, `#>`, `#>>` and `?` ([`planner`]);
//! - casts and comparisons of variant values that go through the typed getters ([`rewrite`]).
//!
//! ```
//! # use datafusion::prelude::SessionContext;
//! # async fn demo() -> datafusion::error::Result<()> {
//! let mut ctx = SessionContext::new();
//! mpq_udfs::register_all(&mut ctx)?;
//! let df = ctx.sql("SELECT mp_get_int(mp_from_json('{\"user\": {\"id\": 7}}'), 'user.id') AS id").await?;
//! # Ok(()) }
//! ```

pub mod args;
pub mod convert;
pub mod docs;
pub mod functions;
pub mod pack;
pub mod path;
pub mod planner;
pub mod rewrite;
pub mod variant;

use datafusion::error::Result;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;
use functions::{Kind, ValueFn};
use std::sync::Arc;

/// Every function of this crate, in the order they are documented.
pub fn all() -> Vec<Arc<ScalarUDF>> {
    let mut fns: Vec<Arc<ScalarUDF>> =
        Kind::ALL.iter().map(|k| Arc::new(ScalarUDF::new_from_impl(ValueFn::new(*k)))).collect();
    fns.push(Arc::new(ScalarUDF::new_from_impl(pack::PackFn::default())));
    fns.push(Arc::new(ScalarUDF::new_from_impl(pack::FromJsonFn::default())));
    fns
}

/// Registers every function, the operators and the variant conversions in `ctx`.
pub fn register_all(ctx: &mut SessionContext) -> Result<()> {
    let fns = all();
    for f in &fns {
        ctx.register_udf(f.clone())?;
    }
    let lookup = |k: Kind| {
        let f = fns.iter().find(|f| f.name() == k.name()).expect("every kind is in all()");
        f.clone()
    };
    let conversions = Arc::new(rewrite::VariantRewrite::new(lookup));
    ctx.register_expr_planner(Arc::new(planner::MsgpackPlanner::new(lookup, conversions.clone())))?;
    ctx.register_function_rewrite(conversions)?;
    Ok(())
}
