//! Shared helpers: a session with the functions, a table of MessagePack values, and running SQL
//! to text.

#![allow(dead_code)]

use datafusion::arrow::array::{ArrayRef, BinaryArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use mpq_udfs::variant::variant_field;
use std::sync::Arc;

/// A session with every function, the operators and the rewrite, in the PostgreSQL dialect.
pub fn session() -> SessionContext {
    let config = datafusion::prelude::SessionConfig::new().set_str("datafusion.sql_parser.dialect", "PostgreSQL");
    let mut ctx = SessionContext::new_with_config(config);
    mpq_udfs::register_all(&mut ctx).expect("register");
    ctx
}

/// Registers `t(name, v, b)`: `v` a variant column, `b` the same bytes as plain Binary.
pub fn register_values(ctx: &SessionContext, rows: &[(String, Option<Vec<u8>>)]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("name", DataType::Utf8, false),
        variant_field("v"),
        Field::new("b", DataType::Binary, true),
    ]));
    let names: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0.as_str())));
    let bytes: ArrayRef = Arc::new(BinaryArray::from_iter(rows.iter().map(|r| r.1.as_deref())));
    let batch = RecordBatch::try_new(schema.clone(), vec![names, bytes.clone(), bytes]).expect("batch");
    let table = MemTable::try_new(schema, vec![vec![batch]]).expect("table");
    ctx.register_table("t", Arc::new(table)).expect("register table");
}

/// Runs `sql` and returns every cell as text, row by row (`NULL` for nulls).
pub async fn cells(ctx: &SessionContext, sql: &str) -> Vec<Vec<String>> {
    let batches = ctx
        .sql(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let opts = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for b in &batches {
        let fmts: Vec<_> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).expect("fmt")).collect();
        for i in 0..b.num_rows() {
            rows.push(fmts.iter().map(|f| f.value(i).to_string()).collect());
        }
    }
    rows
}

/// The error `sql` gives when planned.
pub async fn plan_error(ctx: &SessionContext, sql: &str) -> String {
    match ctx.sql(sql).await {
        Ok(df) => match df.collect().await {
            Ok(_) => panic!("{sql} should fail"),
            Err(e) => e.to_string(),
        },
        Err(e) => e.to_string(),
    }
}

/// Compares `actual` with the golden file `testdata/expected/NAME`, or rewrites it when
/// `UPDATE_EXPECTED=1`.
pub fn check_golden(name: &str, actual: &str) {
    let path = format!("{}/../testdata/expected/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var("UPDATE_EXPECTED").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}; run with UPDATE_EXPECTED=1"));
    assert!(expected == actual, "{name} differs from {path}:\n{actual}");
}
