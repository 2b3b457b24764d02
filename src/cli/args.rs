//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use mpq::options::keys;

/// SQL over MessagePack record files, as they are: no schema, no cleansing first.
///
/// Exit codes: 0 success, 2 error (bad arguments, unreadable input, SQL errors, framing
/// errors under `--framing fail`). A closed output pipe (`mpq ... | head`) is not an error.
#[derive(Debug, Parser)]
#[command(name = "mpq", version, about, long_about)]
pub struct Cli {
    /// What to do; without a command, `mpq FILES...` opens the shell over FILES.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Input files, directories or globs for the shell (`mpq shell FILES...`).
    #[arg(value_name = "FILES")]
    pub files: Vec<String>,
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
    /// An interactive SQL prompt over MessagePack files (or run commands from standard input
    /// or `-c`).
    ///
    /// The files are table `t` and their alias, as in `mpq query`. Statements end with `;`
    /// and may span lines; `.help` lists the meta commands (`.tables`, `.schema`, `.mode`,
    /// `.timer`, `.open`, ...; `\d` and friends work too). History is kept in
    /// `$XDG_STATE_HOME/mpq/history` (`MPQ_HISTORY` overrides, empty: none).
    #[command(after_help = "Examples:
  mpq shell logs/*.msgpack
  mpq logs/*.msgpack                      (the same)
  mpq shell testdata/logs.msgpack -c \"SELECT level, count(*) FROM t GROUP BY 1\"
  mpq shell --table users=users.msgpack < report.sql")]
    Shell(ShellArgs),
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
    /// List the SQL functions for MessagePack values, or describe one.
    #[command(after_help = "Examples:
  mpq functions
  mpq functions mp_get
  mpq functions --format markdown")]
    Functions(FunctionsArgs),
    /// Show, clear or tidy the columnar cache that `--cache` reads and fills.
    ///
    /// With `--cache` (or `MPQ_CACHE=1`), a query reads every file it has a Parquet copy of
    /// from that copy, and after answering adds a copy of each file it decoded. Copies are
    /// keyed by the file's path, inode, size and times, the table's schema and the options
    /// that change rows: a changed file is read from its source again.
    #[command(after_help = "Examples:
  mpq query --cache \"SELECT level, count(*) FROM t GROUP BY 1\" logs/*.msgpack
  mpq cache info
  mpq cache gc --cache-max-bytes 1G
  mpq cache clear")]
    Cache(CacheArgs),
    /// Run a scheduler or an executor of a Ballista cluster that runs mpq's SQL
    /// (`mpq query --cluster df://HOST:PORT`).
    ///
    /// Every process of a cluster runs the same mpq version. The paths a query names must
    /// resolve on the client, the scheduler and every executor (a shared filesystem or an object
    /// store). Each process says on stderr the addresses it bound (port 0: the system picks one)
    /// and stops on SIGINT or SIGTERM.
    #[cfg(feature = "cluster")]
    #[command(after_help = "Examples:
  mpq cluster scheduler --bind 0.0.0.0:50050
  mpq cluster executor --scheduler sched:50050 --bind 0.0.0.0:50051 --grpc-bind 0.0.0.0:50052 --work-dir /tmp/mpq-x
  mpq query --cluster df://sched:50050 \"SELECT service, count(*) FROM logs GROUP BY 1\" /shared/logs/")]
    Cluster(ClusterArgs),
    /// Print a completion script for a shell: bash, zsh, fish, elvish or powershell.
    #[command(after_help = "Examples:
  mpq completions bash > ~/.local/share/bash-completion/completions/mpq
  mpq completions zsh > ~/.zfunc/_mpq
  mpq completions fish > ~/.config/fish/completions/mpq.fish")]
    Completions(CompletionsArgs),
    /// Print the man page (roff), generated from this help.
    #[command(after_help = "Examples:
  mpq manpage > ~/.local/share/man/man1/mpq.1 && man mpq")]
    Manpage,
}

/// `mpq cluster`.
#[cfg(feature = "cluster")]
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// Which process to run.
    #[command(subcommand)]
    pub role: ClusterRole,
}

/// The processes of a cluster.
#[cfg(feature = "cluster")]
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ClusterRole {
    /// The scheduler: clients send it queries, it plans them and hands tasks to executors.
    Scheduler {
        /// The address to listen on.
        #[arg(long, default_value = "0.0.0.0:50050")]
        bind: std::net::SocketAddr,
    },
    /// An executor: runs the tasks the scheduler gives it, and serves their results. The
    /// problems its scans meet are written to stderr, one JSON line each.
    Executor {
        /// The scheduler's HOST:PORT.
        #[arg(long, default_value = "localhost:50050")]
        scheduler: String,
        /// The address results are fetched from (Arrow Flight).
        #[arg(long, default_value = "0.0.0.0:50051")]
        bind: std::net::SocketAddr,
        /// The address the scheduler may push tasks to (gRPC).
        #[arg(long, default_value = "0.0.0.0:50052")]
        grpc_bind: std::net::SocketAddr,
        /// The host name others reach this executor by (default: the --bind address; give it
        /// when binding 0.0.0.0 on a machine others reach by name).
        #[arg(long)]
        external_host: Option<String>,
        /// Where shuffle files go (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<String>,
        /// Tasks run at once (default: every core).
        #[arg(long, default_value_t = 0)]
        vcores: usize,
    },
}

/// Where a query runs: this process (default) or a Ballista cluster.
#[derive(Debug, Clone, Default, Args)]
pub struct ClusterTarget {
    /// Run on the Ballista cluster whose scheduler is at df://HOST:PORT (`mpq cluster`). The
    /// paths named must resolve on the scheduler and every executor.
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "df://HOST:PORT", conflicts_with = "local_cluster")]
    pub cluster: Option<String>,
    /// Run on an in-process cluster: a scheduler and N executors in this process (for trying
    /// the cluster path on one machine).
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "N")]
    pub local_cluster: Option<usize>,
}

impl ClusterTarget {
    /// Whether the query runs on a cluster (`--cluster` or `--local-cluster`).
    pub fn on_cluster(&self) -> bool {
        #[cfg(feature = "cluster")]
        if self.cluster.is_some() || self.local_cluster.is_some() {
            return true;
        }
        false
    }
}

/// Arguments of `mpq completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `mpq shell`.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Input files, directories or globs: table `t` and its alias.
    pub files: Vec<String>,
    /// More tables: NAME=PATH (file, directory or glob); repeatable.
    #[arg(long = "table", value_name = "NAME=PATH")]
    pub tables: Vec<String>,
    /// Run these statements and meta commands, then exit (the first error ends them, with
    /// exit code 2).
    #[arg(short = 'c', long = "command", value_name = "SQL")]
    pub command: Option<String>,
    /// How results are printed at first (`.mode` changes it).
    #[arg(long, value_enum, default_value = "table")]
    pub mode: OutputFormat,
    /// Rows a result shows at most in table, markdown and line mode (0: all; `.maxrows`).
    #[arg(long, default_value_t = 100)]
    pub max_rows: usize,
    /// Where the statements run.
    #[command(flatten)]
    pub target: ClusterTarget,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
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
    /// Each row as `column = value` lines.
    Line,
    /// A GitHub Markdown table.
    Markdown,
}

/// Options that shape reading, shared by `query`, `schema`, `cat` and `convert`. Their help
/// and defaults come from [`mpq::options::keys`], and their values are parsed there, as
/// `OPTIONS (...)` keys are.
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// `--infer-rows`.
    #[arg(long, help = keys::INFER_ROWS.help, default_value = keys::INFER_ROWS.default)]
    pub infer_rows: String,
    /// `--infer-probes`.
    #[arg(long, help = keys::INFER_PROBES.help, default_value = keys::INFER_PROBES.default)]
    pub infer_probes: String,
    /// `--with-record`.
    #[arg(long, help = keys::WITH_RECORD.help)]
    pub with_record: bool,
    /// `--framing` (the command's default when not given).
    #[arg(long, value_name = "fail|truncate", help = keys::FRAMING.help)]
    pub framing: Option<String>,
    /// `--on-error` (the command's default when not given).
    #[arg(long, value_name = "fail|null|drop", help = keys::ON_ERROR.help)]
    pub on_error: Option<String>,
    /// `--max-errors`.
    #[arg(long, value_name = "N", help = keys::MAX_ERRORS.help)]
    pub max_errors: Option<String>,
    /// `--corrupt-record`.
    #[arg(long, help = keys::WITH_CORRUPT_RECORD.help)]
    pub corrupt_record: bool,
    /// Write every problem to FILE as one JSON line: file, record, record_offset, offset,
    /// kind, message, hex, action (and dropped_bytes for a truncation).
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<String>,
    /// `--max-depth`.
    #[arg(long, help = keys::MAX_DEPTH.help, default_value = keys::MAX_DEPTH.default)]
    pub max_depth: String,
    /// `--max-record-bytes`.
    #[arg(long, help = keys::MAX_RECORD_BYTES.help, default_value = keys::MAX_RECORD_BYTES.default)]
    pub max_record_bytes: String,
    /// `--mmap`.
    #[arg(long, help = keys::MMAP.help, default_value = keys::MMAP.default)]
    pub mmap: String,
    /// `--max-struct-fields`.
    #[arg(long, help = keys::MAX_STRUCT_FIELDS.help, default_value = keys::MAX_STRUCT_FIELDS.default)]
    pub max_struct_fields: String,
    /// `--ext`.
    #[arg(long, help = keys::FILE_EXTENSION.help, default_value = keys::FILE_EXTENSION.default)]
    pub ext: String,
    /// `--layout`.
    #[arg(long, help = keys::LAYOUT.help, default_value = keys::LAYOUT.default)]
    pub layout: String,
    /// `--max-decompressed-bytes`.
    #[arg(long, help = keys::MAX_DECOMPRESSED_BYTES.help, default_value = keys::MAX_DECOMPRESSED_BYTES.default)]
    pub max_decompressed_bytes: String,
    /// `--filter-pushdown`.
    #[arg(long, value_name = "true|false", help = keys::FILTER_PUSHDOWN.help, default_value = keys::FILTER_PUSHDOWN.default)]
    pub filter_pushdown: String,
    /// Read files from the columnar cache, and add the files read from their source to it
    /// after the query (also `MPQ_CACHE=1`).
    #[arg(long)]
    pub cache: bool,
    /// When files read from their source go into the cache: `background` (a detached process
    /// fills it; the command ends at once) or `wait` (the command fills it before it ends and
    /// says what it added). Also `MPQ_CACHE_FILL`.
    #[arg(long, value_name = "background|wait")]
    pub cache_fill: Option<String>,
    /// Where the cache lives (also `MPQ_CACHE_DIR`; default `$XDG_CACHE_HOME/mpq`, else
    /// `~/.cache/mpq`).
    #[command(flatten)]
    pub cache_place: CachePlace,
}

/// Where the columnar cache is and how large it may grow.
#[derive(Debug, Clone, Args)]
pub struct CachePlace {
    /// The cache directory (also `MPQ_CACHE_DIR`; default `$XDG_CACHE_HOME/mpq`, else
    /// `~/.cache/mpq`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<std::path::PathBuf>,
    /// Bytes the cache may hold before the least recently used entries go, with an optional
    /// K, M or G (also `MPQ_CACHE_MAX_BYTES`; default 4G).
    #[arg(long, value_name = "BYTES")]
    pub cache_max_bytes: Option<String>,
}

/// `mpq cache`.
#[derive(Debug, Args)]
pub struct CacheArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: CacheAction,
    /// The cache.
    #[command(flatten)]
    pub place: CachePlace,
}

/// What `mpq cache` does.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CacheAction {
    /// Show the directory, entries, bytes, hits and size bound.
    Info,
    /// Remove every entry.
    Clear,
    /// Remove entries whose file changed or is gone, leftovers of interrupted fills, and the
    /// least recently used entries beyond the size bound.
    Gc,
    /// Fill the cache from a manifest a query wrote (what `--cache-fill background` runs).
    #[command(hide = true)]
    Fill {
        /// The manifest.
        #[arg(long)]
        manifest: std::path::PathBuf,
    },
}

impl ReadArgs {
    /// Each read flag (as [`mpq::options::keys`] names it) and its value, when it has one.
    pub fn flags(&self) -> [(&'static str, Option<String>); 15] {
        let on = |yes: bool| Some(yes.to_string());
        [
            (keys::INFER_ROWS.flag, Some(self.infer_rows.clone())),
            (keys::INFER_PROBES.flag, Some(self.infer_probes.clone())),
            (keys::WITH_RECORD.flag, on(self.with_record)),
            (keys::FRAMING.flag, self.framing.clone()),
            (keys::ON_ERROR.flag, self.on_error.clone()),
            (keys::MAX_ERRORS.flag, self.max_errors.clone()),
            (keys::WITH_CORRUPT_RECORD.flag, on(self.corrupt_record)),
            (keys::MAX_DEPTH.flag, Some(self.max_depth.clone())),
            (keys::MAX_RECORD_BYTES.flag, Some(self.max_record_bytes.clone())),
            (keys::MMAP.flag, Some(self.mmap.clone())),
            (keys::MAX_STRUCT_FIELDS.flag, Some(self.max_struct_fields.clone())),
            (keys::FILE_EXTENSION.flag, Some(self.ext.clone())),
            (keys::LAYOUT.flag, Some(self.layout.clone())),
            (keys::MAX_DECOMPRESSED_BYTES.flag, Some(self.max_decompressed_bytes.clone())),
            (keys::FILTER_PUSHDOWN.flag, Some(self.filter_pushdown.clone())),
        ]
    }
}

/// `mpq query`.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// SQL; several statements may be separated by `;`. Without it (and without `-f`), the
    /// SQL is read from standard input when that is not a terminal.
    pub sql: Option<String>,
    /// Input files, directories or globs (quoted globs are expanded by mpq).
    pub files: Vec<String>,
    /// Read the SQL from FILE (`-`: standard input); every positional argument is then an
    /// input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub sql_file: Option<String>,
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
    /// Where the query runs.
    #[command(flatten)]
    pub target: ClusterTarget,
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
    /// Add the fields of messier production logs: `request_id` and `user_agent`
    /// (high-cardinality strings), `http` (nested, with a sometimes-present map), `port` (int,
    /// str or nil: variant), `ctx` (30 sparse optional keys), `labels` (a list of strings).
    #[arg(long)]
    pub wide: bool,
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
    /// Timestamp unit in the output: `ns` (as read; the default), `us` or `ms` (for readers
    /// without nanoseconds, such as Spark; finer digits are cut).
    #[arg(long)]
    pub timestamp_unit: Option<String>,
    /// Shape the output for the engine that reads it: `spark` and `hive` (Parquet, a
    /// directory of part files, timestamps in microseconds unless `--timestamp-unit ms`),
    /// `duckdb` (as it is).
    #[arg(long = "for", value_name = "ENGINE")]
    pub target: Option<String>,
}

/// `mpq convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input files, directories or globs.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// The output file (a directory with `--partition-by` or `--for spark|hive`).
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
    /// Where the query that reads the inputs runs (the output is written by this process).
    #[command(flatten)]
    pub target: ClusterTarget,
    /// What is written.
    #[command(flatten)]
    pub shape: ShapeArgs,
    /// Reading options.
    #[command(flatten)]
    pub read: ReadArgs,
}
