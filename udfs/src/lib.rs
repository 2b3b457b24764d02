//! `mpq-udfs`: MessagePack-aware SQL functions for DataFusion. They read columns of raw
//! MessagePack (mpq's variant columns, or any Binary column of MessagePack bytes) by
//! skip-parsing the bytes, never by building a value tree. A row that cannot be read becomes
//! NULL. Works in any `SessionContext`: `mpq_udfs::register_all(&ctx)`.
//!
//! This crate starts small (`mp_to_json`, `mp_typeof`); the full function set is its own issue.

mod common;
mod mp_to_json;
mod mp_typeof;

pub use common::ValueToText;
pub use mp_to_json::mp_to_json;
pub use mp_typeof::mp_typeof;

use datafusion::error::Result;
use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;

/// Every function of this crate.
pub fn all() -> Vec<ScalarUDF> {
    vec![ScalarUDF::new_from_impl(mp_to_json()), ScalarUDF::new_from_impl(mp_typeof())]
}

/// Registers every function in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    for f in all() {
        ctx.register_udf(f);
    }
    Ok(())
}
