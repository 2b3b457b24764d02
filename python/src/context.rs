//! What Python calls: [`Context`] (a session with tables, `sql()`), [`Query`] (a planned
//! statement, executed each time it is consumed), and the one-call functions [`read`],
//! [`convert`] and [`schema`]. Each sets up its session with [`mpq::session::session`], as the
//! CLI does.

use crate::errors::{IntoPy, from_datafusion};
use crate::options::read_options;
use crate::sources::Source;
use crate::stream::{Reader, report_dict, schema_capsule, stream_capsule, wait};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use mpq::convert::{Compression, VariantOutput, WriteFormat, WriteOptions};
use mpq::datasource::SessionContextExt;
use mpq::options::{MsgpackReadOptions, Policies};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::sync::Arc;

/// A session for `opts` with `threads` partitions (None: every core), writing every problem
/// its scans meet to the file `rejects` as one JSON line (as the CLI's `--rejects`).
fn new_session(opts: &MsgpackReadOptions, threads: Option<usize>, rejects: Option<&str>) -> PyResult<SessionContext> {
    with_rejects(mpq::session::session(opts, threads.unwrap_or(0)).py()?, rejects)
}

/// `ctx`, its report writing every problem to the file `rejects` when given.
fn with_rejects(ctx: SessionContext, rejects: Option<&str>) -> PyResult<SessionContext> {
    if let Some(path) = rejects {
        let file = std::fs::File::create(path)
            .map_err(|e| crate::errors::Error::new_err(format!("rejects file {path}: {e}")))?;
        ctx.msgpack_report().rejects_to(Box::new(file));
    }
    Ok(ctx)
}

/// A session whose queries run on a cluster, for a `cluster=` argument: a `"df://host:port"`
/// string (a running scheduler) or a number of executors (an in-process cluster); `None`
/// when the argument is absent.
fn cluster_session(
    py: Python<'_>,
    cluster: Option<&Bound<'_, PyAny>>,
    opts: &MsgpackReadOptions,
    threads: Option<usize>,
) -> PyResult<Option<SessionContext>> {
    let Some(c) = cluster.filter(|c| !c.is_none()) else { return Ok(None) };
    if opts.cache.is_some() {
        return Err(crate::errors::OptionError::new_err(
            "cache= is this machine's columnar cache; a cluster's executors read the files from their source",
        ));
    }
    let threads = threads.unwrap_or(0);
    let ctx = match c.extract::<usize>() {
        Ok(n) => wait(py, mpq::cluster::local(n, opts, threads))?,
        Err(_) => {
            let url = c.extract::<String>().map_err(|_| {
                crate::errors::OptionError::new_err("cluster= takes \"df://HOST:PORT\" or a number of executors")
            })?;
            wait(py, mpq::cluster::connect(&url, opts, threads))?
        }
    };
    Ok(Some(ctx.map_err(|e| from_datafusion(py, &e))?))
}

/// The cache a `cache=` argument names: `True` (the default directory), a path, or nothing
/// (`None`, `False`).
fn cache_options(
    cache: Option<&Bound<'_, PyAny>>,
    max_bytes: Option<u64>,
) -> PyResult<Option<mpq::cache::CacheOptions>> {
    let Some(c) = cache.filter(|c| !c.is_none()) else { return Ok(None) };
    let dir = match c.extract::<bool>() {
        Ok(false) => return Ok(None),
        Ok(true) => mpq::cache::CacheOptions::default_dir()
            .ok_or_else(|| crate::errors::OptionError::new_err("cache=True: no XDG_CACHE_HOME or HOME; give a path"))?,
        Err(_) => c.str()?.to_string().into(),
    };
    let mut o = mpq::cache::CacheOptions::new(dir);
    if let Some(n) = max_bytes {
        o = o.max_bytes(n);
    }
    Ok(Some(o))
}

/// A session over MessagePack tables: register sources, run SQL. Keyword arguments are read
/// options, the defaults of every table registered here.
#[pyclass(module = "mpq")]
pub struct Context {
    ctx: SessionContext,
    opts: MsgpackReadOptions,
}

#[pymethods]
impl Context {
    /// `cache`: `True` reads files from the columnar cache in its default directory, a path
    /// from the cache there; [`Context::fill_cache`] fills it with the files read since.
    /// `cluster`: queries run on the Ballista cluster whose scheduler is at `"df://host:port"`,
    /// or on an in-process cluster of that many executors (see the README's "Cluster").
    #[new]
    #[pyo3(signature = (threads=None, rejects=None, cache=None, cache_max_bytes=None, cluster=None, **options))]
    fn new(
        py: Python<'_>,
        threads: Option<usize>,
        rejects: Option<&str>,
        cache: Option<&Bound<'_, PyAny>>,
        cache_max_bytes: Option<u64>,
        cluster: Option<&Bound<'_, PyAny>>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let opts = read_options(Policies::KEEP, options)?.cache(cache_options(cache, cache_max_bytes)?);
        let ctx = match cluster_session(py, cluster, &opts, threads)? {
            Some(ctx) => with_rejects(ctx, rejects)?,
            None => new_session(&opts, threads, rejects)?,
        };
        Ok(Context { ctx, opts })
    }

    /// Adds the files this context's queries read from their source to the columnar cache
    /// (nothing without `cache`); returns added, bytes, not_cacheable, left, seconds and
    /// warning (the first failure; the queries answered from the files all the same).
    fn fill_cache<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let misses = self.ctx.msgpack_report().take_cache_misses();
        let s = wait(py, mpq::cache::fill(misses))?;
        let d = PyDict::new(py);
        d.set_item("added", s.added)?;
        d.set_item("bytes", s.bytes)?;
        d.set_item("not_cacheable", s.not_cacheable)?;
        d.set_item("left", s.left)?;
        d.set_item("seconds", s.seconds)?;
        d.set_item("warning", s.warning)?;
        Ok(d)
    }

    /// Registers `source` (a path, glob, directory, URL, list of them, bytes or a binary file
    /// object) as table `name`; keyword arguments override the context's read options.
    #[pyo3(signature = (name, source, **options))]
    fn register(
        &self,
        py: Python<'_>,
        name: &str,
        source: &Bound<'_, PyAny>,
        options: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        let opts = crate::options::apply(self.opts.clone(), options)?;
        let source = Source::extract(source)?;
        wait(py, source.register(&self.ctx, name, opts))?
    }

    /// Plans `sql` (errors in it are raised now) and returns a [`Query`], which runs each time
    /// it is consumed. Statements without a result (`CREATE ...`, `COPY ...`) run now.
    fn sql(&self, py: Python<'_>, sql: &str) -> PyResult<Query> {
        let ctx = self.ctx.clone();
        let sql = sql.to_string();
        let plan = wait(py, async move { ctx.state().create_logical_plan(&sql).await })?
            .map_err(|e| from_datafusion(py, &e))?;
        let eager = matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Copy(_) | LogicalPlan::Dml(_));
        let query = match mpq::cluster::is_client(&self.ctx) && matches!(plan, LogicalPlan::Copy(_)) {
            // On a cluster, a COPY's query runs there and this process writes what it sends.
            true => {
                let writer = mpq::session::session(&self.opts, 0).py()?;
                let (ctx, w) = (self.ctx.clone(), writer.clone());
                let fetched = wait(py, async move { mpq::convert::fetch_copy(&ctx, &w, &plan).await })?.py()?;
                let plan = fetched.ok_or_else(|| crate::errors::Error::new_err("a COPY is planned as a COPY"))?;
                Query { ctx: writer, plan }
            }
            false => Query { ctx: self.ctx.clone(), plan },
        };
        if eager {
            query.collect_now(py)?;
        }
        Ok(query)
    }

    /// The names of the tables.
    fn tables(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .ctx
            .catalog("datafusion")
            .and_then(|c| c.schema("public"))
            .map(|s| s.table_names())
            .unwrap_or_default();
        names.sort();
        names
    }

    /// What this context's scans met so far: records, extra_pairs, record_errors,
    /// dropped_records, problems, messages, framing, notes.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        report_dict(py, &self.ctx)
    }
}

/// A planned query. Consuming it (`to_arrow()`, `pyarrow.table(q)`, `polars.DataFrame(q)`,
/// DuckDB) runs it; it can be consumed again, and runs again.
#[pyclass(module = "mpq")]
pub struct Query {
    ctx: SessionContext,
    plan: LogicalPlan,
}

impl Query {
    fn schema(&self) -> SchemaRef {
        Arc::new(self.plan.schema().as_arrow().clone())
    }

    /// Starts the plan; its rows as a stream.
    fn execute(&self, py: Python<'_>) -> PyResult<datafusion::execution::SendableRecordBatchStream> {
        let (ctx, plan) = (self.ctx.clone(), self.plan.clone());
        wait(py, async move { ctx.execute_logical_plan(plan).await?.execute_stream().await })?
            .map_err(|e| from_datafusion(py, &e))
    }

    /// Runs the plan, keeping nothing (for statements without a result).
    fn collect_now(&self, py: Python<'_>) -> PyResult<()> {
        let (ctx, plan) = (self.ctx.clone(), self.plan.clone());
        wait(py, async move { ctx.execute_logical_plan(plan).await?.collect().await })?
            .map_err(|e| from_datafusion(py, &e))?;
        Ok(())
    }
}

#[pymethods]
impl Query {
    /// Runs the query; its rows as an Arrow C stream (PyCapsule interface).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        stream_capsule(py, self.execute(py)?)
    }

    /// The result's schema as an Arrow C schema (PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema())
    }

    /// Runs the query into a `pyarrow.Table` (needs pyarrow). Ctrl-C stops it.
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let this = slf.borrow();
        let stream = this.execute(py)?;
        let reader = Bound::new(py, Reader::new(this.ctx.clone(), stream))?;
        let pa = py.import("pyarrow")?;
        let batches: Vec<Bound<'py, PyAny>> = reader.try_iter()?.collect::<PyResult<_>>()?;
        let schema = pa.call_method1("schema", (reader,))?;
        pa.getattr("Table")?.call_method1("from_batches", (batches, schema))
    }

    /// Runs the query into a `pandas.DataFrame` (needs pyarrow and pandas).
    fn to_pandas<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Query::to_arrow(slf)?.call_method0("to_pandas")
    }

    /// Runs the query into a `polars.DataFrame` (needs polars).
    fn to_polars<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("polars")?.call_method1("DataFrame", (slf,))
    }

    /// What the scans of this query's context met so far (see `Context.report`).
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        report_dict(py, &self.ctx)
    }

    fn __repr__(&self) -> String {
        let cols: Vec<String> = self.plan.schema().fields().iter().map(|f| f.name().clone()).collect();
        format!("mpq.Query(columns=[{}])", cols.join(", "))
    }
}

/// Reads `source` as a stream of record batches (table `t` of a fresh session).
#[pyfunction]
#[pyo3(signature = (source, threads=None, rejects=None, **options))]
pub fn read(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    threads: Option<usize>,
    rejects: Option<&str>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<Reader> {
    let opts = read_options(Policies::KEEP, options)?;
    let ctx = new_session(&opts, threads, rejects)?;
    let source = Source::extract(source)?;
    let c = ctx.clone();
    let stream = wait(py, async move {
        source.register(&c, "t", opts).await?;
        c.table("t").await.py()?.execute_stream().await.py()
    })??;
    Ok(Reader::new(ctx, stream))
}

/// Converts `source` to `output` as `mpq convert` does (`target` is `--for`); returns rows,
/// bytes, records and problems.
#[pyfunction]
#[pyo3(signature = (source, output, *, query=None, format=None, compression=None, partition_by=None,
    variant="json", timestamp_unit=None, target=None, row_group_size=None, force=false, threads=None, rejects=None,
    **options))]
#[allow(clippy::too_many_arguments)]
pub fn convert<'py>(
    py: Python<'py>,
    source: &Bound<'py, PyAny>,
    output: &str,
    query: Option<String>,
    format: Option<&str>,
    compression: Option<&str>,
    partition_by: Option<Vec<String>>,
    variant: &str,
    timestamp_unit: Option<&str>,
    target: Option<&str>,
    row_group_size: Option<usize>,
    force: bool,
    threads: Option<usize>,
    rejects: Option<&str>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = read_options(Policies::FAIL, options)?.batch_bytes(mpq::convert::WRITE_BATCH_BYTES);
    let option = |e: mpq::Error| crate::errors::from_mpq(py, &e);
    let mut w = WriteOptions::new(WriteFormat::for_output(format, output).map_err(option)?);
    w.compression = compression.map(str::parse::<Compression>).transpose().map_err(option)?;
    w.partition_by = partition_by.unwrap_or_default();
    w.variant = variant.parse::<VariantOutput>().map_err(|e| crate::errors::OptionError::new_err(e.to_string()))?;
    w = match target {
        Some(t) => w.target(t.parse::<mpq::convert::Dialect>().map_err(option)?, timestamp_unit).map_err(option)?,
        None => {
            w.timestamp_unit = mpq::convert::timestamp_unit(timestamp_unit.unwrap_or("ns")).map_err(option)?;
            w
        }
    };
    if row_group_size.is_some() {
        w.row_group_size = row_group_size;
    }
    w.force = force;
    let sql = query.unwrap_or_else(|| "SELECT * FROM t".to_string());
    let ctx = new_session(&opts, threads, rejects)?;
    let source = Source::extract(source)?;
    let (c, target) = (ctx.clone(), std::path::PathBuf::from(output));
    let written = wait(py, async move {
        source.register(&c, "t", opts).await?;
        let plan = c.sql(&sql).await.py()?.into_unoptimized_plan();
        mpq::convert::write(&c, plan, &target, &w).await.py()
    })??;
    let d = PyDict::new(py);
    let r = ctx.msgpack_report().snapshot();
    d.set_item("rows", written.rows)?;
    d.set_item("bytes", written.bytes)?;
    d.set_item("records", r.records)?;
    d.set_item("problems", r.problems)?;
    Ok(d)
}

/// The `mpq schema` view of `source` as JSON text (a full scan unless `sample_only`), and its
/// Arrow schema as an object with `__arrow_c_schema__`.
#[pyfunction]
#[pyo3(signature = (source, sample_only=false, threads=None, **options))]
pub fn schema(
    py: Python<'_>,
    source: &Bound<'_, PyAny>,
    sample_only: bool,
    threads: Option<usize>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<(String, ArrowSchema)> {
    let opts = read_options(Policies::KEEP, options)?;
    let ctx = new_session(&opts, threads, None)?;
    let source = Source::extract(source)?;
    let (paths, bytes) = match &source {
        Source::Paths(p) => (Some(mpq::tables::expand_all(p).py()?), None),
        Source::Bytes(_) => (None, Some(())),
    };
    let c = ctx.clone();
    let o = opts.clone();
    let (inference, scan) = wait(py, async move {
        source.register(&c, "t", o.clone()).await?;
        let inference = match (paths, bytes) {
            (Some(files), _) => c.infer_msgpack(files, o.clone()).await.py()?,
            _ => c.infer_msgpack("memory:///", o.clone()).await.py()?,
        };
        let table_schema = o.schema_of(&inference);
        let scan = if sample_only {
            None
        } else {
            c.sql("SELECT * FROM t").await.py()?.count().await.py()?;
            Some((c.msgpack_report().snapshot(), table_schema))
        };
        PyResult::Ok((inference, scan))
    })??;
    let view = mpq::schema_view::SchemaView::new(&inference, &opts, scan.as_ref());
    let arrow = Arc::new(opts.schema_of(&inference));
    Ok((view.json().to_string(), ArrowSchema(arrow)))
}

/// An Arrow schema for the PyCapsule interface (`pyarrow.schema(s)`).
#[pyclass(module = "mpq")]
pub struct ArrowSchema(SchemaRef);

#[pymethods]
impl ArrowSchema {
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.0)
    }

    fn __repr__(&self) -> String {
        format!("mpq.ArrowSchema({} columns)", self.0.fields().len())
    }
}
