//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};

/// SQL over MessagePack record files, as they are: no schema, no cleansing first.
///
/// Exit codes: 0 success, 2 error (bad arguments, unreadable input, SQL errors, framing
/// errors under `--framing fail`). A closed output pipe (`mpq ... | head`) is not an error.
#[derive(Debug, Parser)]
#[command(name = "mpq", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Cores to use: worker threads and DataFusion partitions (a large file is split into
    /// this many byte ranges). Default: every core.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over MessagePack files.
    ///
    /// The files form one table called `t`, also reachable under the single file's stem or
    /// the files' shared directory name when that is a plain identifier (`logs/*.msgpack`
    /// gives `logs`). Several statements separated by `;` run in order.
    #[command(after_help = "Examples:
  mpq query \"SELECT service, count(*) FROM t GROUP BY 1\" logs/*.msgpack
  mpq query \"SELECT * FROM logs LIMIT 5\" 'logs/*.msgpack' --format ndjson
  mpq query \"SELECT a.id, b.name FROM a JOIN b USING (id)\" --table a=a.msgpack --table b=b/
  mpq query \"SELECT count(*) FROM 'testdata/logs.msgpack'\"
  mpq query \"SELECT \\\"user\\\".geo.country, count(*) FROM t GROUP BY 1\" testdata/logs.msgpack")]
    Query(QueryArgs),
    /// Show the inferred schema, with the MessagePack types seen per field and why a field
    /// became variant or went to `_extra`.
    #[command(after_help = "Examples:
  mpq schema logs/*.msgpack
  mpq schema testdata/events.msgpack --format json
  mpq schema big.msgpack --infer-rows all")]
    Schema(SchemaArgs),
    /// Print records as JSON lines, in file order: a plain record as its map; a record of an
    /// event layout as {"time", "tag", "metadata", "record"} (the parts its layout has, and
    /// Hive partition columns); a value of the values layout as itself.
    #[command(after_help = "Examples:
  mpq cat testdata/logs.msgpack --limit 3
  mpq cat buffer/ --ext .log | jq .record.status
  cat capture.bin | mpq cat -
  mpq cat events.msgpack.gz --format json")]
    Cat(CatArgs),
    /// Convert MessagePack files to Parquet, Arrow IPC, NDJSON or CSV, optionally through a
    /// query and Hive-partitioned.
    ///
    /// The output is written under a temporary name next to it and renamed into place when
    /// complete and synced; an existing output is kept unless `--force`. Variant columns are
    /// written as JSON text (Parquet JSON logical type) unless `--variant msgpack`. Framing
    /// errors fail the conversion unless `--framing truncate`.
    #[command(after_help = "Examples:
  mpq convert logs/*.msgpack -o logs.parquet
  mpq convert logs/ -o warehouse/logs --partition-by dt --query \"SELECT *, CAST(ts AS DATE) AS dt FROM t\"
  mpq convert testdata/logs.msgpack -o errors.ndjson --query \"SELECT * FROM t WHERE level = 'error'\"
  mpq convert big.msgpack -o big.parquet --compression zstd(9) --row-group-size 500000")]
    Convert(ConvertArgs),
    /// Write deterministic messy test data (MessagePack, and optionally its NDJSON twin).
    #[command(after_help = "Examples:
  mpq generate --records 5000 --out messy.msgpack --ndjson messy.ndjson
  mpq generate --records 1000000 --out big.msgpack --seed 7")]
    Generate(GenerateArgs),
    /// Frame every record of the files and count them, split across the cores as a query
    /// would be, decoding nothing: the bare structural walk that queries are measured
    /// against (benches/peers/run.sh). Prints records, bytes and seconds.
    #[command(hide = true)]
    Walk(WalkArgs),
    /// List the SQL functions for MessagePack values, or describe one.
    #[command(after_help = "Examples:
  mpq functions
  mpq functions mp_get
  mpq functions --format markdown")]
    Functions(FunctionsArgs),
}

/// Arguments of `mpq functions`.
#[derive(Debug, Args)]
pub struct FunctionsArgs {
    /// Describe only this function (with its arguments).
    pub name: Option<String>,
    /// `text` (default) or `markdown` (a table, as in the README).
    #[arg(long, value_enum, default_value = "text")]
    pub format: FunctionsFormat,
}

/// Output formats of `mpq functions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FunctionsFormat {
    /// Plain text.
    Text,
    /// A Markdown table.
    Markdown,
}

/// Output formats of `mpq query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// Comma-separated values with a header.
    Csv,
    /// Tab-separated values with a header.
    Tsv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Options that shape reading, shared by `query` and `schema`.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// Records per file schema inference reads: a number (plus 8 probes of 100 records spread
    /// through each file), or `all`.
    #[arg(long, default_value = "1000")]
    pub infer_rows: String,
    /// Probes of 100 records spread through each file that inference reads besides the first
    /// records (ignored with `--infer-rows all`).
    #[arg(long, default_value_t = 8)]
    pub infer_probes: usize,
    /// Add the `_record` column: each whole record as a variant. `mpq query` adds it by
    /// itself when the SQL names `_record`.
    #[arg(long)]
    pub with_record: bool,
    /// On a lost record boundary (truncated record, length past the end, 0xc1, depth or
    /// size limit, a value that does not fit the layout, a zero-filled tail): `truncate`
    /// keeps the records before it and reports the dropped bytes, `fail` stops. Default:
    /// `truncate`, but `fail` for `convert`.
    #[arg(long, value_name = "fail|truncate")]
    pub framing: Option<String>,
    /// On a record whose content is wrong (not a map, a bad event time, a tag that is not
    /// text): `null` keeps it with the bad part NULL, `drop` leaves it out, `fail` stops.
    /// Default: `null`, but `fail` for `convert`.
    #[arg(long, value_name = "fail|null|drop")]
    pub on_error: Option<String>,
    /// Stop with an error once more than N problems (record errors and truncations) were
    /// met. Default: no bound.
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
    /// Add the `_corrupt_record` column: the raw bytes of each record that had a record
    /// error (NULL for the others). `mpq query` adds it by itself when the SQL names it.
    #[arg(long)]
    pub corrupt_record: bool,
    /// Write every problem to FILE as one JSON line: file, record, record_offset, offset,
    /// kind, message, hex, action (and dropped_bytes for a truncation).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<String>,
    /// Deepest nesting of arrays and maps allowed (at most 1024); deeper is a framing error.
    #[arg(long, default_value_t = mpq_wire::DEFAULT_MAX_DEPTH)]
    pub max_depth: usize,
    /// Largest record in bytes; larger is a framing error.
    #[arg(long, default_value_t = crate::options::DEFAULT_MAX_RECORD_BYTES)]
    pub max_record_bytes: usize,
    /// Memory-map files: `auto` (not files still being written), `always`, `never`. Pages a
    /// scan has passed are released, so memory does not grow with the file.
    #[arg(long, default_value = "auto")]
    pub mmap: String,
    /// Maps with more distinct keys than this become Map columns instead of structs.
    #[arg(long, default_value_t = 256)]
    pub max_struct_fields: usize,
    /// Only read files with this extension from directories (e.g. `.msgpack`); default all.
    #[arg(long, default_value = "")]
    pub ext: String,
    /// The layout of every input: `auto` (detected per input from its first records),
    /// `records`, `events`, `fluentbit`, `forward` or `values`. A forced layout that the
    /// first record does not have is an error.
    #[arg(long, default_value = "auto")]
    pub layout: String,
    /// The most bytes of a compressed input held in memory decompressed: by inference over
    /// every record (`--infer-rows all`) and by a forward capture's compressed entries. Scans
    /// decompress as they read.
    #[arg(long, default_value_t = crate::options::DEFAULT_MAX_DECOMPRESSED_BYTES)]
    pub max_decompressed_bytes: u64,
}

/// `mpq query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// SQL; several statements may be separated by `;`.
    pub sql: String,
    /// Input files, directories or globs (quoted globs are expanded by mpq).
    pub files: Vec<String>,
    /// More tables for joins: NAME=PATH (file, directory or glob); repeatable.
    #[arg(long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: OutputFormat,
    /// Rows the table view shows at most (0: all); a note says how many were not shown.
    #[arg(long, default_value_t = 100)]
    pub max_rows: usize,
    /// Let `COPY ... TO` replace an existing output.
    #[arg(long)]
    pub force: bool,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Output formats of `mpq schema`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    /// A readable tree.
    Text,
    /// JSON for machines.
    Json,
}

/// `mpq schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: SchemaFormat,
    /// Skip the full scan that counts what goes to `_extra` (report the sample only).
    #[arg(long)]
    pub sample_only: bool,
    /// Print the CREATE TABLE statement for what `mpq convert` writes with the same
    /// `--query`, `--partition-by`, `--variant` and `--timestamp-unit`: `hive`, `spark` or
    /// `duckdb`.
    #[arg(long, value_name = "DIALECT")]
    pub ddl: Option<String>,
    /// The table name in the DDL.
    #[arg(long, default_value = "logs", requires = "ddl")]
    pub table_name: String,
    /// Where the converted files are, for the DDL's LOCATION.
    #[arg(long, default_value = "logs.parquet", requires = "ddl")]
    pub location: String,
    /// How `convert` shapes the output (for `--ddl`).
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// Output formats of `mpq cat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CatFormat {
    /// One JSON value per line.
    Ndjson,
    /// One JSON array.
    Json,
}

/// `mpq cat`.
#[derive(Debug, Args)]
pub struct CatArgs {
    /// Input files, directories or globs; `-` for standard input.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Print at most this many records.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "ndjson")]
    pub format: CatFormat,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}

/// `mpq walk`.
#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Files to walk.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// `mpq generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of records.
    #[arg(long, default_value_t = 5000)]
    pub records: usize,
    /// MessagePack output file.
    #[arg(long)]
    pub out: String,
    /// Also write the same records as NDJSON here.
    #[arg(long)]
    pub ndjson: Option<String>,
    /// Write a Fluentd event stream (`[EventTime, record]`) instead of plain maps.
    #[arg(long)]
    pub events: bool,
    /// Make every second record a non-map value (an array, a string or an integer), so the
    /// file has the values layout: one variant column `value`.
    #[arg(long)]
    pub mixed: bool,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// What shapes converted output; shared by `convert` and `schema --ddl`.
#[derive(Debug, Clone, Args)]
pub struct ShapeArgs {
    /// SQL over the input table `t` whose result is written (default `SELECT * FROM t`).
    #[arg(long)]
    pub query: Option<String>,
    /// Columns to partition by, Hive-style (`col=value/` directories): `dt` or `dt,hour`.
    #[arg(long, value_delimiter = ',')]
    pub partition_by: Vec<String>,
    /// Variant columns as `json` text (Parquet JSON logical type) or raw `msgpack` bytes.
    #[arg(long, default_value = "json")]
    pub variant: String,
    /// Timestamp unit in the output: `ns` (as read), `us` or `ms` (for readers without
    /// nanoseconds, such as Spark; finer digits are cut).
    #[arg(long, default_value = "ns")]
    pub timestamp_unit: String,
}

/// `mpq convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// The output file (a directory with `--partition-by`).
    #[arg(short, long)]
    pub output: String,
    /// `parquet`, `arrow`, `ndjson` or `csv`; default: from the output's extension, else
    /// Parquet.
    #[arg(long)]
    pub format: Option<String>,
    /// `zstd` (Parquet default, level 3; `zstd(9)` sets the level), `snappy`, `gzip`, `lz4` or
    /// `none` (NDJSON/CSV default). NDJSON and CSV take zstd and gzip; Arrow files are always
    /// LZ4.
    #[arg(long)]
    pub compression: Option<String>,
    /// Rows per Parquet row group (default 122,880, as DuckDB); memory grows with it.
    #[arg(long)]
    pub row_group_size: Option<usize>,
    /// Replace an existing output.
    #[arg(long)]
    pub force: bool,
    /// No progress bar (it is only drawn when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// What is written.
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}
