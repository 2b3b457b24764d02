//! `CREATE TABLE` statements for what `mpq convert` writes, so Hive, Spark and DuckDB can
//! register the output. The schema given is the written one (after [`super::form`]), so JSON
//! text is a string column (DuckDB: `JSON`) and partition columns are listed the way each
//! dialect wants them.

use crate::error::{Error, Result};
use crate::json_text::is_json_text;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};

/// SQL dialects of [`create_table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Hive: `CREATE EXTERNAL TABLE ... PARTITIONED BY ... STORED AS PARQUET`.
    Hive,
    /// Spark SQL: `CREATE TABLE ... USING parquet PARTITIONED BY ...`.
    Spark,
    /// DuckDB: `CREATE TABLE` with DuckDB's types, then an `INSERT` that reads the output.
    Duckdb,
}

impl Dialect {
    /// The name in options (`hive`, `spark`, `duckdb`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Hive => "hive",
            Dialect::Spark => "spark",
            Dialect::Duckdb => "duckdb",
        }
    }

    /// The engine's name in messages.
    pub fn title(self) -> &'static str {
        match self {
            Dialect::Hive => "Hive",
            Dialect::Spark => "Spark",
            Dialect::Duckdb => "DuckDB",
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "hive" => Ok(Self::Hive),
            "spark" => Ok(Self::Spark),
            "duckdb" => Ok(Self::Duckdb),
            other => Err(Error::Options(format!("--ddl and --for take hive, spark or duckdb, not {other:?}"))),
        }
    }
}

/// The statement(s) that declare a table `name` over Parquet files of `schema` at `location`,
/// partitioned by `partition_by` (columns of `schema`, which become directories).
pub fn create_table(
    dialect: Dialect,
    schema: &Schema,
    name: &str,
    location: &str,
    partition_by: &[String],
) -> Result<String> {
    let is_partition = |f: &Field| partition_by.iter().any(|p| p == f.name());
    let q = |n: &str| quote(dialect, n);
    let mut columns = Vec::new();
    for f in schema.fields() {
        if dialect == Dialect::Hive && is_partition(f) {
            continue; // Hive lists them in PARTITIONED BY, with their types
        }
        columns.push(format!("  {} {}", q(f.name()), sql_type(dialect, f)?));
    }
    let mut out = match dialect {
        Dialect::Hive => format!("CREATE EXTERNAL TABLE {} (\n{}\n)", q(name), columns.join(",\n")),
        Dialect::Spark | Dialect::Duckdb => format!("CREATE TABLE {} (\n{}\n)", q(name), columns.join(",\n")),
    };
    let string = |s: &str| format!("'{}'", s.replace('\'', "''"));
    match dialect {
        Dialect::Hive => {
            if !partition_by.is_empty() {
                let parts = partition_by
                    .iter()
                    .map(|p| {
                        let f = schema.field_with_name(p).map_err(|e| Error::Output(e.to_string()))?;
                        Ok(format!("{} {}", q(p), sql_type(dialect, f)?))
                    })
                    .collect::<Result<Vec<_>>>()?;
                out += &format!("\nPARTITIONED BY ({})", parts.join(", "));
            }
            out += &format!("\nSTORED AS PARQUET\nLOCATION {};\n", string(location));
            if !partition_by.is_empty() {
                out += &format!("MSCK REPAIR TABLE {};\n", q(name));
            }
        }
        Dialect::Spark => {
            out += "\nUSING parquet";
            if !partition_by.is_empty() {
                out +=
                    &format!("\nPARTITIONED BY ({})", partition_by.iter().map(|p| q(p)).collect::<Vec<_>>().join(", "));
            }
            out += &format!("\nLOCATION {};\n", string(location));
            // With a metastore (Hive support), a table over existing directories finds its
            // partitions only when asked to.
            if !partition_by.is_empty() {
                out += &format!("MSCK REPAIR TABLE {};\n", q(name));
            }
        }
        Dialect::Duckdb => {
            let files = if partition_by.is_empty() {
                string(location)
            } else {
                string(&format!("{}/**/*.parquet", location.trim_end_matches('/')))
            };
            out += ";\n";
            let names = schema.fields().iter().map(|f| q(f.name())).collect::<Vec<_>>().join(", ");
            out += &format!(
                "INSERT INTO {} SELECT {names} FROM read_parquet({files}{});\n",
                q(name),
                if partition_by.is_empty() { "" } else { ", hive_partitioning = true" }
            );
        }
    }
    Ok(out)
}

/// An identifier quoted for the dialect.
fn quote(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Hive | Dialect::Spark => format!("`{}`", name.replace('`', "``")),
        Dialect::Duckdb => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The dialect's type for a written field.
fn sql_type(dialect: Dialect, f: &Field) -> Result<String> {
    let duck = dialect == Dialect::Duckdb;
    let unsupported = || Err(Error::Output(format!("column {}: no {dialect:?} type for {}", f.name(), f.data_type())));
    Ok(match f.data_type() {
        DataType::Boolean => "BOOLEAN".into(),
        DataType::Int8 => "TINYINT".into(),
        DataType::Int16 => "SMALLINT".into(),
        DataType::Int32 => if duck { "INTEGER" } else { "INT" }.into(),
        DataType::Int64 => "BIGINT".into(),
        DataType::UInt8 => if duck { "UTINYINT" } else { "SMALLINT" }.into(),
        DataType::UInt16 => if duck { "USMALLINT" } else { "INT" }.into(),
        DataType::UInt32 => if duck { "UINTEGER" } else { "BIGINT" }.into(),
        // Parquet UINT_64: DuckDB reads UBIGINT, Spark DECIMAL(20,0).
        DataType::UInt64 => if duck { "UBIGINT" } else { "DECIMAL(20,0)" }.into(),
        DataType::Float32 => "FLOAT".into(),
        DataType::Float64 => "DOUBLE".into(),
        DataType::Decimal128(p, s) => format!("DECIMAL({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View if duck && is_json_text(f) => "JSON".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => if duck { "VARCHAR" } else { "STRING" }.into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => if duck { "BLOB" } else { "BINARY" }.into(),
        DataType::Date32 | DataType::Date64 => "DATE".into(),
        DataType::Timestamp(unit, tz) if duck => match (unit, tz.is_some()) {
            // DuckDB 2.0 keeps nanoseconds with a time zone; older versions lack this type.
            (TimeUnit::Nanosecond, true) => "TIMESTAMPTZ_NS",
            (TimeUnit::Nanosecond, false) => "TIMESTAMP_NS",
            (_, true) => "TIMESTAMP WITH TIME ZONE",
            (TimeUnit::Second, false) => "TIMESTAMP_S",
            (TimeUnit::Millisecond, false) => "TIMESTAMP_MS",
            (TimeUnit::Microsecond, false) => "TIMESTAMP",
        }
        .into(),
        DataType::Timestamp(..) => "TIMESTAMP".into(),
        DataType::List(e) | DataType::LargeList(e) => {
            let inner = sql_type(dialect, e)?;
            if duck { format!("{inner}[]") } else { format!("ARRAY<{inner}>") }
        }
        DataType::Struct(fields) => {
            let parts = fields
                .iter()
                .map(|c| {
                    let t = sql_type(dialect, c)?;
                    Ok(if duck {
                        format!("{} {t}", quote(dialect, c.name()))
                    } else {
                        format!("{}: {t}", quote(dialect, c.name()))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if duck { format!("STRUCT({})", parts.join(", ")) } else { format!("STRUCT<{}>", parts.join(", ")) }
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else { return unsupported() };
            let (k, v) = (sql_type(dialect, &kv[0])?, sql_type(dialect, &kv[1])?);
            if duck { format!("MAP({k}, {v})") } else { format!("MAP<{k}, {v}>") }
        }
        DataType::Null => if duck { "VARCHAR" } else { "STRING" }.into(),
        _ => return unsupported(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn hive_lists_partitions_apart() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, true),
            Field::new("tags", DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), true),
            Field::new("dt", DataType::Date32, true),
        ]);
        let ddl = create_table(Dialect::Hive, &schema, "logs", "/w/logs", &["dt".to_string()]).expect("ddl");
        assert_eq!(
            ddl,
            "CREATE EXTERNAL TABLE `logs` (\n  `id` BIGINT,\n  `tags` ARRAY<STRING>\n)\nPARTITIONED BY (`dt` DATE)\n\
             STORED AS PARQUET\nLOCATION '/w/logs';\nMSCK REPAIR TABLE `logs`;\n"
        );
        let ddl = create_table(Dialect::Duckdb, &schema, "logs", "/w/logs", &[]).expect("ddl");
        assert_eq!(
            ddl,
            "CREATE TABLE \"logs\" (\n  \"id\" BIGINT,\n  \"tags\" VARCHAR[],\n  \"dt\" DATE\n);\n\
             INSERT INTO \"logs\" SELECT \"id\", \"tags\", \"dt\" FROM read_parquet('/w/logs');\n"
        );
    }
}
