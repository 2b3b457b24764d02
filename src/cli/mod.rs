//! The command-line interface: resolves arguments into a validated configuration, calls the
//! library, and is the only place that prints. `main` only maps the result to an exit code.

pub mod args;
pub mod cat;
pub mod convert;
pub mod functions;
pub mod print;
pub mod progress;

use anyhow::{Context, Result};
use args::{Cli, Command, GenerateArgs, QueryArgs, ReadArgs, SchemaArgs};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::DFParser;
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use futures::StreamExt;
use mpq::datasource::SessionContextExt;
use mpq::options::{FramingPolicy, MsgpackReadOptions, OnError};
use mpq::report::{ReportData, ScanReport};
pub(crate) use mpq::tables::{STDIN, expand_all, input_bytes, register_inputs};
use std::io::Write;

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    // Ctrl-C and SIGTERM remove unfinished outputs before the process ends (130, as a shell
    // reports an interrupted command). Failing to install the handler only loses that.
    let _ = ctrlc::set_handler(|| {
        mpq::convert::staging::remove_pending();
        std::process::exit(130);
    });
    if let Some(n) = cli.threads {
        let _ = THREADS.set(n as usize);
    }
    match cli.command {
        Command::Query(a) => query(a).await,
        Command::Schema(a) => schema(a).await,
        Command::Cat(a) => cat::run(a).await,
        Command::Convert(a) => convert::run(a).await,
        Command::Generate(a) => generate(a),
        Command::Functions(a) => functions::print(&a),
    }
}

/// `--threads`, for the sessions this process creates.
static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// A command's default error policies.
#[derive(Debug, Clone, Copy)]
pub struct Policies {
    /// Without `--framing`.
    pub framing: FramingPolicy,
    /// Without `--on-error`.
    pub on_error: OnError,
}

impl Policies {
    /// `query`, `schema` and `cat`: keep the good data and warn.
    pub const KEEP: Policies = Policies { framing: FramingPolicy::Truncate, on_error: OnError::Null };
    /// `convert`: a pipeline must not produce partial output unknowingly.
    pub const FAIL: Policies = Policies { framing: FramingPolicy::Fail, on_error: OnError::Fail };
}

/// Read options from the shared flags, with the command's default error policies; each
/// value parsed as `OPTIONS (...)` parses it ([`MsgpackReadOptions::set_flag`]).
pub fn read_options(a: &ReadArgs, defaults: Policies) -> Result<MsgpackReadOptions> {
    let mut o = MsgpackReadOptions::default().framing(defaults.framing).on_error(defaults.on_error);
    for (flag, value) in a.flags() {
        if let Some(v) = value {
            o.set_flag(flag, &v)?;
        }
    }
    if let Some(&n) = THREADS.get() {
        o = o.threads(n);
    }
    o.validate()?;
    Ok(o)
}

/// A session for this process ([`mpq::session::session`], with `--threads` partitions),
/// its report writing every problem to `--rejects` when given.
pub fn session(opts: &MsgpackReadOptions, read: &ReadArgs) -> Result<SessionContext> {
    session_with_threads(opts, read, THREADS.get().copied().unwrap_or(0))
}

/// [`session`] with `threads` partitions (0: `--threads`, else every core).
pub fn session_with_threads(opts: &MsgpackReadOptions, read: &ReadArgs, threads: usize) -> Result<SessionContext> {
    let ctx = mpq::session::session(opts, threads)?;
    if let Some(path) = &read.rejects {
        let file = std::fs::File::create(path).with_context(|| format!("--rejects {path}"))?;
        ctx.msgpack_report().rejects_to(Box::new(std::io::BufWriter::new(file)));
    }
    Ok(ctx)
}

/// Adds the optional columns the SQL names (outside string literals): `_record` and
/// `_corrupt_record`, so they need no `--with-record` or `--corrupt-record`. They cost nothing
/// unless a query reads them.
pub(crate) fn with_named_columns(opts: MsgpackReadOptions, sql: &str) -> MsgpackReadOptions {
    let record = mentions(sql, mpq::infer::RECORD_COLUMN);
    let corrupt = mentions(sql, mpq::infer::CORRUPT_COLUMN);
    let (r, c) = (opts.with_record, opts.with_corrupt_record);
    opts.with_record(r || record).with_corrupt_record(c || corrupt)
}

/// True when `sql` names `column` outside string literals.
fn mentions(sql: &str, column: &str) -> bool {
    let mut in_string = false;
    let b = sql.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if *c == b'\'' {
            in_string = !in_string;
        } else if !in_string && b[i..].starts_with(column.as_bytes()) {
            let before = i.checked_sub(1).map(|j| b[j]);
            let after = b.get(i + column.len()).copied();
            let ident = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
            if !ident(before) && !ident(after) {
                return true;
            }
        }
    }
    false
}

async fn query(a: QueryArgs) -> Result<()> {
    let opts = with_named_columns(read_options(&a.read, Policies::KEEP)?, &a.sql);
    let ctx = session(&opts, &a.read)?;
    if !a.files.is_empty() {
        register_inputs(&ctx, &expand_all(&a.files)?, &opts).await?;
    }
    for spec in &a.tables {
        let (name, path) = spec.split_once('=').with_context(|| format!("--table takes NAME=PATH, not {spec:?}"))?;
        ctx.register_msgpack(name, expand_all(&[path.to_string()])?, opts.clone()).await?;
    }
    let statements = DFParser::parse_sql_with_dialect(&a.sql, &PostgreSqlDialect {})?;
    let stdout = std::io::stdout();
    for stmt in statements {
        let plan = ctx.state().statement_to_plan(stmt).await?;
        // COPY writes the way `mpq convert` does: variant columns as JSON, under a temporary
        // name renamed into place when complete, an existing output kept unless --force.
        let copy = mpq::convert::stage_copy(plan, a.force)?;
        let df = ctx.execute_logical_plan(copy.plan).await?;
        let schema = df.schema().as_arrow().clone();
        let batches = df.collect().await?;
        if let Some(staged) = copy.staged {
            staged.commit()?;
        }
        let mut out = stdout.lock();
        print::print_batches(&mut out, &batches, &schema, a.format, a.max_rows)?;
        out.flush()?;
    }
    summary(&ctx.msgpack_report())
}

/// The one-line summary on stderr when anything was skipped, nulled, truncated or sent to
/// `_extra`, followed by the problems themselves; then the rejects file is flushed.
pub(crate) fn summary(report: &ScanReport) -> Result<()> {
    print_summary(&report.snapshot());
    report.finish_rejects().context("writing --rejects")
}

fn print_summary(r: &ReportData) {
    let mut parts = Vec::new();
    if r.extra_pairs() > 0 {
        parts.push(format!("{} key/value pairs not foreseen by the schema kept in _extra", r.extra_pairs()));
    }
    if r.duplicate_keys > 0 {
        parts.push(format!("{} duplicate keys (the last one wins, in columns and mp_* functions)", r.duplicate_keys));
    }
    if r.record_errors > 0 {
        parts.push(format!("{} record errors (values set to NULL)", r.record_errors));
    }
    if r.dropped_records > 0 {
        parts.push(format!("{} records dropped for record errors", r.dropped_records));
    }
    if !r.framing.is_empty() {
        parts.push(format!("{} files truncated at a framing error", r.framing.len()));
    }
    if !r.notes.is_empty() {
        parts.push(format!("{} warnings", r.notes.len()));
    }
    if parts.is_empty() {
        return;
    }
    eprintln!("mpq: {} records read; {}", r.records, parts.join("; "));
    for m in r.framing.iter().chain(&r.notes).chain(&r.messages) {
        eprintln!("mpq: {m}");
    }
}

async fn schema(a: SchemaArgs) -> Result<()> {
    if let Some(dialect) = &a.ddl {
        print!("{}", convert::ddl(&a, dialect).await?);
        return Ok(());
    }
    let opts = read_options(&a.read, Policies::KEEP)?;
    let ctx = session(&opts, &a.read)?;
    let files = expand_all(&a.files)?;
    let inference = if files.iter().any(|f| f == STDIN) {
        register_inputs(&ctx, &files, &opts).await?.context("standard input gives its inference")?
    } else {
        ctx.infer_msgpack(files.clone(), opts.clone()).await?
    };
    let scan = if a.sample_only {
        None
    } else {
        let table_schema = opts.schema_of(&inference);
        if !ctx.table_exist("t")? {
            ctx.register_msgpack("t", files, opts.clone()).await?;
        }
        // Read every record, keeping no batch: memory stays at the batches in flight.
        let mut stream = ctx.sql("SELECT * FROM t").await?.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            batch?;
        }
        Some((ctx.msgpack_report().snapshot(), table_schema))
    };
    let view = mpq::schema_view::SchemaView::new(&inference, &opts, scan.as_ref());
    let mut out = std::io::stdout().lock();
    match a.format {
        args::SchemaFormat::Text => write!(out, "{}", view.text())?,
        args::SchemaFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&view.json())?)?,
    }
    out.flush()?;
    summary(&ctx.msgpack_report())
}

fn generate(a: GenerateArgs) -> Result<()> {
    let spec = mpq::generate::Spec { records: a.records, seed: a.seed, events: a.events, mixed: a.mixed };
    let mp = std::fs::File::create(&a.out).with_context(|| format!("cannot create {}", a.out))?;
    let mut mp = std::io::BufWriter::new(mp);
    let mut nd = match &a.ndjson {
        Some(p) => {
            Some(std::io::BufWriter::new(std::fs::File::create(p).with_context(|| format!("cannot create {p}"))?))
        }
        None => None,
    };
    mpq::generate::write(&spec, &mut mp, nd.as_mut().map(|w| w as &mut dyn Write))?;
    mp.flush()?;
    if let Some(w) = nd.as_mut() {
        w.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn optional_columns_are_noticed_outside_strings_only() {
        let mentions_record = |sql: &str| super::mentions(sql, mpq::infer::RECORD_COLUMN);
        assert!(mentions_record("SELECT _record -> 'a' FROM t"));
        assert!(mentions_record("SELECT mp_get(_record,'a') FROM t"));
        assert!(mentions_record("SELECT \"_record\" FROM t"));
        assert!(!mentions_record("SELECT '_record' FROM t"));
        assert!(!mentions_record("SELECT my_record, _records FROM t"));
        assert!(!mentions_record("SELECT 'ünï' AS _recordx"));
        assert!(!mentions_record("SELECT _corrupt_record FROM t"));
        let opts = super::with_named_columns(Default::default(), "SELECT _corrupt_record FROM t");
        assert!(opts.with_corrupt_record && !opts.with_record);
    }
}
