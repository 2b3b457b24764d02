//! The command-line interface: resolves arguments into a validated configuration, calls the
//! library, and is the only place that prints. `main` only maps the result to an exit code.

pub mod args;
pub mod cat;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod convert;
pub mod functions;
pub mod print;
pub mod progress;
pub mod shell;
pub mod sql;

use anyhow::{Context, Result};
use args::{Cli, Command, GenerateArgs, QueryArgs, ReadArgs, SchemaArgs};
use clap::{CommandFactory, Parser};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use mpq::datasource::SessionContextExt;
use mpq::options::MsgpackReadOptions;
pub use mpq::options::Policies;
use mpq::report::{ReportData, ScanReport};
pub(crate) use mpq::tables::{STDIN, expand_all, input_bytes, register_inputs};
use std::io::{IsTerminal, Write};

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    // A cluster process stops cleanly on SIGINT/SIGTERM itself (exit 0), without the handler
    // below.
    #[cfg(feature = "cluster")]
    if let Some(Command::Cluster(a)) = cli.command {
        return cluster::serve(a).await;
    }
    // Ctrl-C and SIGTERM remove unfinished outputs before the process ends (130, as a shell
    // reports an interrupted command). Failing to install the handler only loses that.
    let _ = ctrlc::set_handler(|| {
        mpq::convert::staging::remove_pending();
        std::process::exit(130);
    });
    if let Some(n) = cli.threads {
        let _ = THREADS.set(n as usize);
    }
    // `mpq FILES...` is `mpq shell FILES...`.
    let command = match cli.command {
        Some(c) => c,
        None => Cli::parse_from(["mpq", "shell"].into_iter().map(String::from).chain(cli.files))
            .command
            .context("`mpq shell` parses as a command")?,
    };
    match command {
        Command::Query(a) => query(a).await,
        Command::Shell(a) => shell::run(a).await,
        Command::Completions(a) => {
            clap_complete::generate(a.shell, &mut Cli::command(), "mpq", &mut std::io::stdout());
            Ok(())
        }
        Command::Manpage => Ok(clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?),
        Command::Schema(a) => schema(a).await,
        Command::Cat(a) => cat::run(a).await,
        Command::Convert(a) => convert::run(a).await,
        Command::Generate(a) => generate(a),
        Command::Functions(a) => functions::print(&a),
        Command::Cache(a) => cache(&a).await,
        #[cfg(feature = "cluster")]
        Command::Cluster(_) => unreachable!("served above"),
    }
}

/// `--threads`, for the sessions this process creates.
static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// `--cache-fill wait`: the command fills the cache itself before it ends.
static FILL_WAITS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Read options from the shared flags, with the command's default error policies; each
/// value parsed as `OPTIONS (...)` parses it ([`MsgpackReadOptions::set_flag`]).
pub fn read_options(a: &ReadArgs, defaults: Policies) -> Result<MsgpackReadOptions> {
    let mut o = defaults.options();
    for (flag, value) in a.flags() {
        if let Some(v) = value {
            o.set_flag(flag, &v)?;
        }
    }
    if let Some(&n) = THREADS.get() {
        o = o.threads(n);
    }
    let on = a.cache || std::env::var("MPQ_CACHE").is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"));
    if on {
        o = o.cache(Some(cache_options(&a.cache_place)?));
    }
    let fill = a.cache_fill.clone().or_else(|| std::env::var("MPQ_CACHE_FILL").ok().filter(|v| !v.is_empty()));
    let wait = match fill.as_deref() {
        None | Some("background") => false,
        Some("wait") => true,
        Some(other) => anyhow::bail!("--cache-fill takes background or wait, not {other:?}"),
    };
    let _ = FILL_WAITS.set(wait);
    o.validate()?;
    Ok(o)
}

/// The cache's place from the flags, the environment and the defaults.
fn cache_options(p: &args::CachePlace) -> Result<mpq::cache::CacheOptions> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    let dir = p.cache_dir.clone().or_else(|| env("MPQ_CACHE_DIR").map(Into::into));
    let dir = dir
        .or_else(mpq::cache::CacheOptions::default_dir)
        .context("no cache directory: give --cache-dir (or set MPQ_CACHE_DIR, XDG_CACHE_HOME or HOME)")?;
    let mut c = mpq::cache::CacheOptions::new(dir);
    let max = p.cache_max_bytes.clone().or_else(|| std::env::var("MPQ_CACHE_MAX_BYTES").ok().filter(|v| !v.is_empty()));
    if let Some(m) = max {
        c = c.max_bytes(
            byte_size(&m).with_context(|| format!("--cache-max-bytes takes bytes such as 500M or 4G, not {m:?}"))?,
        );
    }
    Ok(c)
}

/// `123`, `64K`, `500M`, `4G` (also `KiB`, `MiB`, `GiB`; powers of 1024).
fn byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(digits);
    let shift = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => return None,
    };
    n.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// The fill log is started afresh beyond this size.
const FILL_LOG_BYTES: u64 = 1 << 20;

/// Hands the misses to a detached `mpq cache fill` (its own process group, so a Ctrl-C at the
/// terminal does not stop it), which appends what it did to the cache's fill log.
fn fill_in_background(misses: &[mpq::report::CacheMiss]) -> Result<()> {
    let exe = std::env::current_exe().context("finding this program")?;
    for manifest in mpq::cache::write_manifests(misses)? {
        let log = manifest.parent().map(mpq::cache::fill_log_in).context("a manifest in a directory")?;
        // The log keeps the recent fills only.
        if std::fs::metadata(&log).is_ok_and(|m| m.len() > FILL_LOG_BYTES) {
            let _ = std::fs::remove_file(&log);
        }
        let stderr = match std::fs::File::options().create(true).append(true).open(&log) {
            Ok(f) => std::process::Stdio::from(f),
            Err(_) => std::process::Stdio::null(),
        };
        use std::os::unix::process::CommandExt;
        let spawned = std::process::Command::new(&exe)
            .arg("cache")
            .arg("fill")
            .arg("--manifest")
            .arg(&manifest)
            .env("MPQ_CACHE_FILL", "wait")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .process_group(0)
            .spawn();
        if let Err(e) = spawned {
            let _ = std::fs::remove_file(&manifest);
            return Err(e).context("starting the fill");
        }
    }
    Ok(())
}

/// `mpq cache info|clear|gc`.
async fn cache(a: &args::CacheArgs) -> Result<()> {
    use args::CacheAction;
    if let CacheAction::Fill { manifest } = &a.action {
        let misses = mpq::cache::read_manifest(manifest)?;
        let s = mpq::cache::fill(misses).await;
        let when = chrono_free_now();
        eprintln!(
            "{when} added {} files ({}, {} only their new tail), {} not cacheable, {} left, in {:.2} s",
            s.added,
            convert::human_bytes(s.bytes),
            s.tails,
            s.not_cacheable,
            s.left,
            s.seconds
        );
        if let Some(w) = s.warning {
            eprintln!("{when} warning: {w}");
        }
        return Ok(());
    }
    let c = cache_options(&a.place)?;
    let dir = c.dir.display().to_string();
    match &a.action {
        CacheAction::Fill { .. } => {}
        CacheAction::Info => {
            let i = mpq::cache::info(&c).with_context(|| dir.clone())?;
            println!("directory    {dir}");
            println!("entries      {}", i.entries);
            println!("bytes        {} ({})", i.bytes, convert::human_bytes(i.bytes));
            println!("hits         {}", i.hits);
            println!("not cacheable {}", i.skipped);
            println!("max bytes    {} ({})", i.max_bytes, convert::human_bytes(i.max_bytes));
            if let Some(last) = i.last_fill {
                println!("last fill    {last}");
            }
        }
        CacheAction::Clear => {
            let n = mpq::cache::clear(&c).with_context(|| dir.clone())?;
            println!("removed {n} entries from {dir}");
        }
        CacheAction::Gc => {
            let s = mpq::cache::gc(&c).with_context(|| dir.clone())?;
            println!(
                "removed {} stale entries, {} stale inferences, {} leftovers of interrupted fills, {} entries beyond the size bound from {dir}",
                s.stale, s.inferences, s.leftovers, s.evicted
            );
        }
    }
    Ok(())
}

/// Now as seconds since the epoch (UTC), for the fill log.
fn chrono_free_now() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("[{}]", mpq_wire::ext::rfc3339_parts(secs as i64, 0))
}

/// A session for this process ([`mpq::session::session`], with `--threads` partitions),
/// its report writing every problem to `--rejects` when given.
pub fn session(opts: &MsgpackReadOptions, read: &ReadArgs) -> Result<SessionContext> {
    session_with_threads(opts, read, THREADS.get().copied().unwrap_or(0))
}

/// [`session`], or with `--cluster`/`--local-cluster` a session whose queries run on a cluster
/// (its report writing to `--rejects` as well).
pub async fn target_session(
    opts: &MsgpackReadOptions,
    read: &ReadArgs,
    target: &args::ClusterTarget,
    files: &[String],
) -> Result<SessionContext> {
    #[cfg(feature = "cluster")]
    if let Some(ctx) = cluster::session(opts, target, files).await? {
        rejects_to(&ctx, read)?;
        return Ok(ctx);
    }
    let _ = (target, files);
    session(opts, read)
}

/// After a run on a separate cluster (`--cluster`), says where its problems were reported:
/// counted in this process's summary (see `mpq::cluster::gather`), their lines on each
/// executor's stderr rather than in `--rejects`.
pub(crate) fn remote_note(target: &args::ClusterTarget) {
    #[cfg(feature = "cluster")]
    if let Some(url) = &target.cluster {
        eprintln!(
            "mpq: ran on the cluster at {url}: its executors counted what they read (below, when anything \
             was met) and wrote each problem to their stderr (one JSON line each), not to --rejects"
        );
    }
    let _ = target;
}

/// Writes the session's problems to `--rejects` when given.
fn rejects_to(ctx: &SessionContext, read: &ReadArgs) -> Result<()> {
    if let Some(path) = &read.rejects {
        let file = std::fs::File::create(path).with_context(|| format!("--rejects {path}"))?;
        ctx.msgpack_report().rejects_to(Box::new(std::io::BufWriter::new(file)));
    }
    Ok(())
}

/// [`session`] with `threads` partitions (0: `--threads`, else every core).
pub fn session_with_threads(opts: &MsgpackReadOptions, read: &ReadArgs, threads: usize) -> Result<SessionContext> {
    let ctx = mpq::session::session(opts, threads)?;
    rejects_to(&ctx, read)?;
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

/// The name and path of a `--table NAME=PATH`.
pub(crate) fn table_spec(spec: &str) -> Result<(&str, &str)> {
    spec.split_once('=').with_context(|| format!("--table takes NAME=PATH, not {spec:?}"))
}

/// The SQL of `mpq query` and its inputs: the first argument and the rest; with `-f FILE`,
/// the file's text and every argument; with neither, standard input's text when it is not a
/// terminal.
fn query_text(a: &QueryArgs) -> Result<(String, Vec<String>)> {
    let read = |path: &str| -> Result<String> {
        if path == STDIN {
            std::io::read_to_string(std::io::stdin()).context("reading SQL from standard input")
        } else {
            std::fs::read_to_string(path).with_context(|| format!("cannot read SQL from {path}"))
        }
    };
    let mut files: Vec<String> = a.sql.iter().chain(&a.files).cloned().collect();
    let sql = match &a.sql_file {
        Some(path) => {
            if path == STDIN && files.iter().any(|f| f == STDIN) {
                anyhow::bail!("standard input cannot hold both the SQL (-f -) and the data (-)");
            }
            read(path)?
        }
        None if a.sql.is_none() && !std::io::stdin().is_terminal() => read(STDIN)?,
        None if a.sql.is_none() => {
            anyhow::bail!("no SQL: give it as the first argument, with -f FILE, or on standard input")
        }
        None => files.remove(0),
    };
    if sql.trim().is_empty() {
        anyhow::bail!("no SQL: the SQL given is empty");
    }
    Ok((sql, files))
}

async fn query(a: QueryArgs) -> Result<()> {
    let (sql, files) = query_text(&a)?;
    let opts = with_named_columns(read_options(&a.read, Policies::KEEP)?, &sql);
    let ctx = target_session(&opts, &a.read, &a.target, &files).await?;
    if !files.is_empty() {
        register_inputs(&ctx, &expand_all(&files)?, &opts).await?;
    }
    for spec in &a.tables {
        let (name, path) = table_spec(spec)?;
        mpq::tables::register_table(&ctx, name, &expand_all(&[path.to_string()])?, &opts).await?;
    }
    let mut stdout = std::io::stdout().lock();
    let view = print::View { max_rows: a.max_rows, width: None, hint: "--max-rows 0" };
    let mut output = sql::Output { out: &mut stdout, format: a.format, view };
    for stmt in sql::parse(&sql)? {
        sql::run(&ctx, stmt, a.force, &mut output).await?;
    }
    remote_note(&a.target);
    summary(&ctx.msgpack_report()).await
}

/// The one-line summary on stderr when anything was skipped, nulled, truncated or sent to
/// `_extra`, followed by the problems themselves; then the rejects file is flushed.
pub(crate) async fn summary(report: &ScanReport) -> Result<()> {
    fill_cache(report).await;
    print_summary(&report.snapshot());
    report.finish_rejects().context("writing --rejects")
}

/// Adds the files read from their source to the columnar cache (with `--cache`), saying what
/// was added and warning once if the cache could not take them.
pub(crate) async fn fill_cache(report: &ScanReport) {
    let misses = report.take_cache_misses();
    if misses.is_empty() {
        return;
    }
    if !FILL_WAITS.get().copied().unwrap_or(false) {
        if let Err(e) = fill_in_background(&misses) {
            eprintln!("mpq: warning: the cache: {e:#}; the answers came from the files themselves");
        }
        return;
    }
    let s = mpq::cache::fill(misses).await;
    if s.added > 0 {
        let tails = if s.tails > 0 { format!("; {} of them only their new tail", s.tails) } else { String::new() };
        eprintln!(
            "mpq: cache: added {} files ({}{tails}) in {:.2} s",
            s.added,
            convert::human_bytes(s.bytes),
            s.seconds
        );
    }
    if let Some(w) = s.warning {
        eprintln!("mpq: warning: {w}; the answers came from the files themselves");
    }
}

pub(crate) fn print_summary(r: &ReportData) {
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
    if r.cached_files > 0 {
        parts.push(format!("{} files read from the cache", r.cached_files));
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
    summary(&ctx.msgpack_report()).await
}

fn generate(a: GenerateArgs) -> Result<()> {
    let spec = mpq::generate::Spec { records: a.records, seed: a.seed, events: a.events, mixed: a.mixed, wide: a.wide };
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
