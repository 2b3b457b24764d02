//! Writing query results to files: Parquet, Arrow IPC, NDJSON and CSV, optionally
//! Hive-partitioned. [`write`] is what `mpq convert` runs, and [`stage_copy`] turns a SQL
//! `COPY ... TO` into the same thing.
//!
//! The writing itself is DataFusion's (its `COPY` plan: the format sinks, the partition demuxer,
//! the parallel Parquet encoder). This module adds what a pipeline step needs around it: the
//! written form of variant columns ([`form`]), partition directory names that keep NULLs
//! apart ([`partition`]), safe output under a temporary name
//! ([`staging`]), format and compression choices with checked names, and the `CREATE TABLE`
//! statements that describe the result ([`ddl`]).
//!
//! ```
//! use mpq::convert::{WriteFormat, WriteOptions, write};
//! use mpq::{MsgpackReadOptions, SessionContextExt};
//! use datafusion::prelude::SessionContext;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let ctx = SessionContext::new();
//! ctx.register_msgpack("t", "testdata/logs.msgpack", MsgpackReadOptions::default()).await.unwrap();
//! let plan = ctx.sql("SELECT * FROM t WHERE level = 'error'").await.unwrap().into_unoptimized_plan();
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("errors.parquet");
//! let written = write(&ctx, plan, &out, &WriteOptions::new(WriteFormat::Parquet)).await.unwrap();
//! assert!(written.rows > 0 && out.exists());
//! # });
//! ```

pub mod ddl;
pub mod form;
pub mod ndjson;
pub mod partition;
mod project;
pub mod staging;

use crate::error::{Error, Result};
use datafusion::arrow::datatypes::TimeUnit;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::datasource::file_format::{FileFormatFactory, format_as_file_type};
use datafusion::execution::SessionState;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::dml::CopyTo;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::SessionContext;
pub use ddl::Dialect;
pub use form::{VariantOutput, WriteForm, write_projection};
pub use staging::Staged;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The size of the parts written files go out in; `mpq::cli::session` sets it as
/// `datafusion.execution.objectstore_writer_buffer_size`. object_store's writer keeps up to 8
/// parts in flight, so DataFusion's default of 10 MiB held up to 80 MB of output in memory
/// when the disk was slower than the encoder.
pub const WRITE_PART_BYTES: usize = 1 << 20;

/// Rows per Parquet row group unless asked otherwise: DuckDB's default. Memory grows with the
/// row group (the parallel encoder holds about two in flight); readers split work by row group.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 122_880;

/// The largest dictionary a Parquet column chunk keeps before falling back to plain encoding
/// (the writer's default is 1 MiB). Log columns are either of few values (levels, services,
/// user names: dictionaries of a few KiB) or of nearly unique ones (request ids, timestamps,
/// latencies, paths), for which a dictionary only costs: at 1 MiB a row group of 122,880
/// unique timestamps was dictionary-encoded whole (1.25x the plain size) and a request id
/// column hashed 30,000 values before falling back. Measured on 1M records of the wide shape:
/// 104.7 -> 94.9 MiB (DuckDB: 89.2), 2.22 -> 1.99 s; on 2M of the plain shape 87 -> 74 MiB,
/// 2.31 -> 1.62 s. Readers see ordinary dictionary and plain pages either way.
pub const DICTIONARY_PAGE_BYTES: usize = 64 << 10;

/// The input bytes a batch spans at most when converting (records per batch stay at most
/// DataFusion's `batch_size`, 8,192): DataFusion's write pipeline holds about eight batches
/// at once (being decoded on each core, merged, and queued per column for the Parquet
/// encoders), so batches of wide records are what a conversion's memory grows with. Measured
/// on 1M records of the wide shape (484 MiB, about 500 bytes each; one run, 2 cores): peak
/// resident memory 259 MiB with batches of 8,192 rows, 215 MiB with 4,096, 189 MiB with
/// 2,048, at the same speed within 3%; the plain shape (about 200 bytes a record) keeps
/// about 5,000 rows a batch. Set on the read options of `mpq convert`, the Python `convert`
/// and the cache's fills ([`crate::options::MsgpackReadOptions::batch_bytes`]).
pub const WRITE_BATCH_BYTES: usize = 1 << 20;

/// Blocks of this size or more go back to the system as soon as they are freed during `mpq
/// convert` ([`crate::sys::return_freed_blocks_from`]): with glibc's default, buffers of a few
/// MiB freed by the write pipeline (pages, column chunks) stayed in the heap. Measured with
/// batches of 2,048 wide records (one run, twice each): peak 196-207 MiB by default, 186-188
/// MiB with 1 MiB, at the same speed; 171-172 MiB with 128 KiB, but 4% slower.
pub const FREED_BLOCK_BYTES: usize = 1 << 20;

/// Sets this process's allocator up for converting ([`FREED_BLOCK_BYTES`]): for a program
/// whose work is the conversion (`mpq convert` calls it); a library caller decides for its own
/// process. False where it has no effect (an allocator other than glibc's).
pub fn return_freed_buffers() -> bool {
    crate::sys::return_freed_blocks_from(FREED_BLOCK_BYTES)
}

/// Output file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file (Feather v2).
    Arrow,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header.
    Csv,
}

impl WriteFormat {
    /// The output format: `format` when given, else the one `output`'s extension implies, else
    /// Parquet.
    pub fn for_output(format: Option<&str>, output: &str) -> Result<Self> {
        Ok(match format {
            Some(f) => f.parse()?,
            None => Self::from_path(output).unwrap_or(Self::Parquet),
        })
    }

    /// The format a file name's extension implies (`.parquet`, `.arrow`/`.feather`/`.ipc`,
    /// `.ndjson`/`.jsonl`/`.json`, `.csv`; a compression suffix such as `.gz` is looked through).
    pub fn from_path(path: &str) -> Option<Self> {
        let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
        let mut parts = name.rsplit('.');
        let mut ext = parts.next()?;
        if matches!(ext, "gz" | "zst" | "bz2" | "xz") {
            ext = parts.next()?;
        }
        match ext {
            "parquet" | "pq" => Some(Self::Parquet),
            "arrow" | "feather" | "ipc" => Some(Self::Arrow),
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }

    /// DataFusion's name of the format (its file-format factory).
    fn datafusion_name(self) -> &'static str {
        match self {
            Self::Parquet => "parquet",
            Self::Arrow => "arrow",
            Self::Ndjson => "json",
            Self::Csv => "csv",
        }
    }

    /// The factory of the format's writer: DataFusion's, but mpq's NDJSON writer
    /// ([`ndjson`]), which embeds JSON columns as values.
    fn factory(self, state: &SessionState) -> Result<Arc<dyn FileFormatFactory>> {
        if self == Self::Ndjson {
            return Ok(Arc::new(ndjson::NdjsonFormatFactory::new("ndjson")));
        }
        let name = self.datafusion_name();
        state
            .get_file_format_factory(name)
            .ok_or_else(|| Error::Output(format!("this build of mpq cannot write {name}")))
    }

    /// The compression used when none is asked for.
    pub fn default_compression(self) -> Compression {
        match self {
            Self::Parquet => Compression::Zstd(None),
            Self::Arrow => Compression::Lz4,
            Self::Ndjson | Self::Csv => Compression::None,
        }
    }

    /// The form columns take in this format. CSV has no nested types: nested columns become
    /// JSON text. NDJSON and CSV always carry variants as JSON.
    fn form(self, variant: VariantOutput, timestamp_unit: Option<TimeUnit>) -> WriteForm {
        let text = matches!(self, Self::Csv | Self::Ndjson);
        WriteForm {
            variant: if text { VariantOutput::Json } else { variant },
            nested_as_json: self == Self::Csv,
            timestamp_unit,
            null_as_text: false,
        }
    }
}

impl std::str::FromStr for WriteFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "parquet" => Ok(Self::Parquet),
            "arrow" => Ok(Self::Arrow),
            "ndjson" => Ok(Self::Ndjson),
            "csv" => Ok(Self::Csv),
            other => Err(Error::Options(format!("--format takes parquet, arrow, ndjson or csv, not {other:?}"))),
        }
    }
}

/// Compression codecs, with an optional level where the codec has levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Zstandard (Parquet default level 3).
    Zstd(Option<u32>),
    /// Snappy (Parquet only).
    Snappy,
    /// gzip.
    Gzip(Option<u32>),
    /// LZ4 (Parquet: LZ4_RAW; Arrow: LZ4 frames).
    Lz4,
    /// No compression.
    None,
}

impl std::str::FromStr for Compression {
    type Err = Error;
    /// `zstd`, `zstd(5)`, `snappy`, `gzip`, `gzip(9)`, `lz4`, `none`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Options(format!("--compression takes zstd, snappy, gzip, lz4 or none, not {s:?}"));
        let (name, level) = match s.split_once('(') {
            Some((n, rest)) => {
                let level = rest.strip_suffix(')').and_then(|l| l.parse::<u32>().ok()).ok_or_else(bad)?;
                (n, Some(level))
            }
            None => (s, None),
        };
        match (name, level) {
            ("zstd", l) => Ok(Self::Zstd(l)),
            ("gzip", l) => Ok(Self::Gzip(l)),
            ("snappy", None) => Ok(Self::Snappy),
            ("lz4", None) => Ok(Self::Lz4),
            ("none" | "uncompressed", None) => Ok(Self::None),
            _ => Err(bad()),
        }
    }
}

/// How [`write`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// The file format.
    pub format: WriteFormat,
    /// The codec; `None`: the format's default ([`WriteFormat::default_compression`]).
    pub compression: Option<Compression>,
    /// Rows per Parquet row group (`None`: DataFusion's default, 1,048,576); the default is
    /// [`DEFAULT_ROW_GROUP_ROWS`].
    pub row_group_size: Option<usize>,
    /// Columns to partition by, Hive-style (`col=value/` directories); the output is then a
    /// directory and the columns are not repeated inside the files.
    pub partition_by: Vec<String>,
    /// How variant columns are written.
    pub variant: VariantOutput,
    /// Cast timestamps to this unit (`None`: nanoseconds, as read).
    pub timestamp_unit: Option<TimeUnit>,
    /// Replace an existing output.
    pub force: bool,
    /// Write a directory of part files even without partition columns (Spark's and Hive's
    /// tables are directories; see [`WriteOptions::target`]).
    pub directory: bool,
    /// The engine the output is shaped for ([`WriteOptions::target`]).
    pub target: Option<Dialect>,
}

/// A timestamp unit as written by users: `ns` (as read: `None`), `us` or `ms`.
pub fn timestamp_unit(s: &str) -> Result<Option<TimeUnit>> {
    match s {
        "ns" => Ok(None),
        "us" => Ok(Some(TimeUnit::Microsecond)),
        "ms" => Ok(Some(TimeUnit::Millisecond)),
        other => Err(Error::Options(format!("--timestamp-unit takes ns, us or ms, not {other:?}"))),
    }
}

impl WriteOptions {
    /// Options for `format` with every other choice at its default.
    pub fn new(format: WriteFormat) -> Self {
        WriteOptions {
            format,
            compression: None,
            row_group_size: Some(DEFAULT_ROW_GROUP_ROWS),
            partition_by: Vec::new(),
            variant: VariantOutput::Json,
            timestamp_unit: None,
            force: false,
            directory: false,
            target: None,
        }
    }

    /// The form columns are written in.
    pub fn form(&self) -> WriteForm {
        let form = self.format.form(self.variant, self.timestamp_unit);
        WriteForm { null_as_text: matches!(self.target, Some(Dialect::Spark | Dialect::Hive)), ..form }
    }

    /// DataFusion's `COPY` options for these choices.
    fn copy_options(&self) -> Result<HashMap<String, String>> {
        let compression = self.compression.unwrap_or(self.format.default_compression());
        let unsupported = || {
            Err(Error::Output(format!(
                "{} output does not support {compression:?} compression",
                self.format.datafusion_name()
            )))
        };
        let mut o = HashMap::new();
        match self.format {
            WriteFormat::Parquet => {
                let codec = match compression {
                    Compression::Zstd(l) => format!("zstd({})", l.unwrap_or(3)),
                    Compression::Gzip(l) => format!("gzip({})", l.unwrap_or(6)),
                    Compression::Snappy => "snappy".to_string(),
                    Compression::Lz4 => "lz4_raw".to_string(),
                    Compression::None => "uncompressed".to_string(),
                };
                o.insert("format.compression".to_string(), codec);
                if let Some(n) = self.row_group_size {
                    o.insert("format.max_row_group_size".to_string(), n.to_string());
                }
                o.insert("format.dictionary_page_size_limit".to_string(), DICTIONARY_PAGE_BYTES.to_string());
            }
            WriteFormat::Ndjson | WriteFormat::Csv => {
                let (codec, level) = match compression {
                    Compression::Zstd(l) => ("zstd", l),
                    Compression::Gzip(l) => ("gzip", l),
                    Compression::None => ("uncompressed", None),
                    Compression::Snappy | Compression::Lz4 => return unsupported(),
                };
                o.insert("format.compression".to_string(), codec.to_string());
                if let Some(l) = level {
                    o.insert("format.compression_level".to_string(), l.to_string());
                }
            }
            // DataFusion's Arrow writer always compresses buffers with LZ4 frames.
            WriteFormat::Arrow if compression != Compression::Lz4 => return unsupported(),
            WriteFormat::Arrow => {}
        }
        if self.format == WriteFormat::Csv {
            o.insert("format.has_header".to_string(), "true".to_string());
        }
        o.insert("execution.keep_partition_by_columns".to_string(), "false".to_string());
        Ok(o)
    }

    /// True when the output is a directory (partitioned output, or asked for).
    pub fn is_directory(&self) -> bool {
        self.directory || !self.partition_by.is_empty()
    }

    /// Shapes the output for the engine that reads it (`--for spark|hive|duckdb`), with the
    /// timestamp unit given (`None`: the target's). Spark and Hive (through Spark's reader)
    /// read Parquet only, timestamps in microseconds at most (a nanosecond Parquet timestamp
    /// is an error to them), and tables as directories: the output is a directory of part
    /// files, timestamps microseconds (finer digits cut) unless `ms` is asked for, and columns
    /// of nothing but NULL text (as their DDL declares them). DuckDB
    /// reads everything mpq writes as it is.
    pub fn target(mut self, target: Dialect, unit: Option<&str>) -> Result<Self> {
        self.target = Some(target);
        if target == Dialect::Duckdb {
            if let Some(u) = unit {
                self.timestamp_unit = timestamp_unit(u)?;
            }
            return Ok(self);
        }
        let (name, title) = (target.name(), target.title());
        if self.format != WriteFormat::Parquet {
            return Err(Error::Options(format!(
                "--for {name} writes Parquet, which {title} reads as a table; not {}",
                self.format.datafusion_name()
            )));
        }
        self.timestamp_unit = match unit.map(timestamp_unit).transpose()? {
            Some(None) => {
                return Err(Error::Options(format!(
                    "--for {name}: {title} cannot read nanosecond timestamps from Parquet; give --timestamp-unit us or ms, \
                     or leave it out (us)"
                )));
            }
            Some(u) => u,
            None => Some(TimeUnit::Microsecond),
        };
        self.directory = true;
        Ok(self)
    }
}

/// What [`write`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Rows written.
    pub rows: u64,
    /// Bytes of the written file(s).
    pub bytes: u64,
}

/// The `COPY` plan that writes `input` in `opts`' form and format to `url` (a local path or an
/// object-store URL), without staging.
pub fn write_plan(state: &SessionState, input: LogicalPlan, url: &str, opts: &WriteOptions) -> Result<LogicalPlan> {
    let factory = opts.format.factory(state)?;
    let mut options = opts.copy_options()?;
    options.insert("single_file_output".to_string(), (!opts.is_directory()).to_string());
    let input = write_projection(input, opts.form())?;
    check_partition_columns(&input, &opts.partition_by)?;
    let input = partition::partition_projection(input, &opts.partition_by)?;
    Ok(LogicalPlanBuilder::copy_to(
        input,
        url.to_string(),
        format_as_file_type(factory),
        options,
        opts.partition_by.clone(),
    )?
    .build()?)
}

fn check_partition_columns(input: &LogicalPlan, cols: &[String]) -> Result<()> {
    let names: Vec<&str> = input.schema().fields().iter().map(|f| f.name().as_str()).collect();
    for c in cols {
        if !names.contains(&c.as_str()) {
            return Err(Error::Output(format!(
                "--partition-by {c}: no such column in the output (columns: {})",
                names.join(", ")
            )));
        }
    }
    if !cols.is_empty() && cols.len() == names.len() {
        return Err(Error::Output("--partition-by: at least one column must stay in the files".to_string()));
    }
    Ok(())
}

/// Runs `input` and writes it to the local path `target`: under a temporary name in the same
/// directory, synced, then renamed into place (see [`staging`]). For memory bounded by the row
/// groups, give `ctx` a small write part size ([`WRITE_PART_BYTES`]).
pub async fn write(ctx: &SessionContext, input: LogicalPlan, target: &Path, opts: &WriteOptions) -> Result<Written> {
    let staged = Staged::new(target, opts.is_directory(), opts.force)?;
    let url = staged.temp().display().to_string();
    let plan = write_plan(&ctx.state(), input, &url, opts)?;
    let rows = run_copy(ctx, plan).await?;
    let bytes = staged.commit()?;
    Ok(Written { rows, bytes })
}

/// [`write`] for a session whose queries run elsewhere (a cluster): `input` runs on `ctx`, and
/// this process writes the rows it sends back with `writer`, a local session (which applies the
/// written form and the partitioning, so every output format works as locally).
pub async fn write_fetched(
    ctx: &SessionContext,
    writer: &SessionContext,
    input: LogicalPlan,
    target: &Path,
    opts: &WriteOptions,
) -> Result<Written> {
    // An existing output is refused before the cluster does any work.
    drop(Staged::new(target, opts.is_directory(), opts.force)?);
    let input = fetch(ctx, writer, input).await?;
    write(writer, input, target, opts).await
}

/// A plan of `writer` that reads the rows `input` gives on `ctx` (run once).
async fn fetch(ctx: &SessionContext, writer: &SessionContext, input: LogicalPlan) -> Result<LogicalPlan> {
    let stream = ctx.execute_logical_plan(input).await?.execute_stream().await?;
    let fetched = Fetched { schema: stream.schema(), stream: std::sync::Mutex::new(Some(stream)) };
    let table = StreamingTable::try_new(fetched.schema.clone(), vec![Arc::new(fetched)])?;
    Ok(writer.read_table(Arc::new(table))?.into_unoptimized_plan())
}

/// A `COPY ... TO` planned on `ctx` (a cluster's client) as a plan of `writer`, a local
/// session: its query runs on `ctx`, and `writer` writes the rows it sends back (so the output
/// is this process's, in every format). `None` for other plans.
pub async fn fetch_copy(
    ctx: &SessionContext,
    writer: &SessionContext,
    plan: &LogicalPlan,
) -> Result<Option<LogicalPlan>> {
    let LogicalPlan::Copy(copy) = plan else { return Ok(None) };
    let input = fetch(ctx, writer, copy.input.as_ref().clone()).await?;
    let copy = LogicalPlanBuilder::copy_to(
        input,
        copy.output_url.clone(),
        Arc::clone(&copy.file_type),
        copy.options.clone(),
        copy.partition_by.clone(),
    )?;
    Ok(Some(copy.build()?))
}

/// The rows of a query run elsewhere, as a stream a local plan reads once.
struct Fetched {
    schema: datafusion::arrow::datatypes::SchemaRef,
    stream: std::sync::Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched").finish_non_exhaustive()
    }
}

impl PartitionStream for Fetched {
    fn schema(&self) -> &datafusion::arrow::datatypes::SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        match self.stream.lock().ok().and_then(|mut s| s.take()) {
            Some(s) => s,
            None => {
                let err = datafusion::error::DataFusionError::Execution("the fetched rows were read already".into());
                Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), futures::stream::once(async { Err(err) })))
            }
        }
    }
}

async fn run_copy(ctx: &SessionContext, plan: LogicalPlan) -> Result<u64> {
    let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
    let count = batches
        .first()
        .filter(|b| b.num_rows() == 1 && b.num_columns() == 1)
        .and_then(|b| b.column(0).as_any().downcast_ref::<datafusion::arrow::array::UInt64Array>().map(|a| a.value(0)));
    Ok(count.unwrap_or_default())
}

/// A SQL `COPY ... TO` prepared the way [`write`] writes: variant columns in their written
/// form, and for local targets a temporary name that `staged` renames into place
/// ([`Staged::commit`]) once the plan has run.
pub struct StagedCopy {
    /// The plan to run.
    pub plan: LogicalPlan,
    /// The staging of a local target (`None` for object-store URLs).
    pub staged: Option<Staged>,
}

/// Prepares a `COPY` plan: its input gets the written form of its format, with the variant
/// output chosen by the option `variant` (`'json'`, the default, or `'msgpack'`), and a local
/// target is staged. Other plans are returned unchanged in [`StagedCopy::plan`].
pub fn stage_copy(plan: LogicalPlan, force: bool) -> Result<StagedCopy> {
    let LogicalPlan::Copy(copy) = plan else {
        return Ok(StagedCopy { plan, staged: None });
    };
    let CopyTo { input, output_url, partition_by, mut file_type, mut options, .. } = copy;
    let variant = match options.remove("format.variant") {
        Some(v) => v.parse().map_err(Error::Options)?,
        None => VariantOutput::Json,
    };
    // The plan carries the format's extension (`parquet`, `json`, `ndjson`, ...).
    let format = WriteFormat::from_path(&file_type.get_ext());
    if format == Some(WriteFormat::Ndjson) {
        file_type = format_as_file_type(Arc::new(ndjson::NdjsonFormatFactory::new("json")));
    }
    let form = format.map(|f| f.form(variant, None)).unwrap_or(WriteForm { variant, ..WriteForm::default() });
    let input = write_projection(Arc::unwrap_or_clone(input), form)?;
    let input = partition::partition_projection(input, &partition_by)?;
    let local = !output_url.contains("://") || output_url.starts_with("file://");
    let (url, staged) = if local {
        let path = output_url.strip_prefix("file://").unwrap_or(&output_url);
        // DataFusion's rule: a partitioned output, a trailing `/` or a name without an
        // extension is a directory.
        let single = match options.get("single_file_output").map(|v| v.trim()) {
            Some("true") => true,
            Some("false") => false,
            _ => partition_by.is_empty() && !path.ends_with('/') && Path::new(path).extension().is_some(),
        };
        let staged = Staged::new(Path::new(path.trim_end_matches('/')), !single, force)?;
        options.insert("single_file_output".to_string(), single.to_string());
        (staged.temp().display().to_string(), Some(staged))
    } else {
        (output_url, None)
    };
    let plan = LogicalPlan::Copy(CopyTo::new(Arc::new(input), url, partition_by, file_type, options));
    Ok(StagedCopy { plan, staged })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_extensions() {
        assert_eq!(WriteFormat::from_path("out/logs.parquet"), Some(WriteFormat::Parquet));
        assert_eq!(WriteFormat::from_path("a.ndjson.gz"), Some(WriteFormat::Ndjson));
        assert_eq!(WriteFormat::from_path("a.feather"), Some(WriteFormat::Arrow));
        assert_eq!(WriteFormat::from_path("A.CSV"), Some(WriteFormat::Csv));
        assert_eq!(WriteFormat::from_path("warehouse/logs"), None);
    }

    #[test]
    fn compression_names_are_checked() {
        assert_eq!("zstd".parse::<Compression>().ok(), Some(Compression::Zstd(None)));
        assert_eq!("zstd(7)".parse::<Compression>().ok(), Some(Compression::Zstd(Some(7))));
        assert_eq!("none".parse::<Compression>().ok(), Some(Compression::None));
        let e = "brotli".parse::<Compression>().expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "invalid option: --compression takes zstd, snappy, gzip, lz4 or none, not \"brotli\""
        );
        let mut o = WriteOptions::new(WriteFormat::Csv);
        o.compression = Some(Compression::Snappy);
        let e = o.copy_options().expect_err("csv has no snappy");
        assert_eq!(e.to_string(), "csv output does not support Snappy compression");
        o.compression = Some(Compression::Gzip(Some(9)));
        let opts = o.copy_options().expect("gzip");
        assert_eq!(opts.get("format.compression").map(String::as_str), Some("gzip"));
        assert_eq!(opts.get("format.compression_level").map(String::as_str), Some("9"));
    }
}
