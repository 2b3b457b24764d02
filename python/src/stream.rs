//! Record batches across the Arrow C interfaces, and waiting for queries: the process-wide
//! Tokio runtime, [`wait`] (GIL released, Ctrl-C checked every 50 ms), the capsules of
//! `__arrow_c_stream__`/`__arrow_c_schema__`, and [`Reader`], the single-use stream that
//! `mpq.read()` returns.

use crate::errors::{Error, from_datafusion};
use datafusion::arrow::array::{Array, RecordBatch, RecordBatchReader, StructArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use datafusion::arrow::ffi_stream::FFI_ArrowArrayStream;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use mpq::datasource::SessionContextExt;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict};
use std::future::Future;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The runtime every query of the process runs on (a worker per core).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a Tokio runtime can be built")
    })
}

/// How often a running query lets Python handle signals.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Runs `work` with the GIL released. Every 50 ms Python handles pending signals: Ctrl-C drops
/// the work (DataFusion stops the plan's tasks) and raises `KeyboardInterrupt`.
pub fn wait<F>(py: Python<'_>, work: F) -> PyResult<F::Output>
where
    F: Future + Send,
    F::Output: Send,
{
    py.detach(|| {
        runtime().block_on(async {
            let mut work = std::pin::pin!(work);
            loop {
                tokio::select! {
                    out = &mut work => return Ok(out),
                    () = tokio::time::sleep(SIGNAL_CHECK) => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

/// A DataFusion stream as a blocking reader, for the C stream interface. Errors reach the
/// consumer as Arrow errors carrying mpq's message.
struct BlockingReader {
    schema: SchemaRef,
    stream: SendableRecordBatchStream,
}

impl Iterator for BlockingReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let next = runtime().block_on(self.stream.next())?;
        Some(next.map_err(|e| ArrowError::ExternalError(Box::new(e))))
    }
}

impl RecordBatchReader for BlockingReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// `stream` as an `arrow_array_stream` capsule.
pub fn stream_capsule(py: Python<'_>, stream: SendableRecordBatchStream) -> PyResult<Bound<'_, PyCapsule>> {
    let reader = BlockingReader { schema: stream.schema(), stream };
    PyCapsule::new_with_value(py, FFI_ArrowArrayStream::new(Box::new(reader)), c"arrow_array_stream")
}

/// `schema` as an `arrow_schema` capsule.
pub fn schema_capsule<'py>(py: Python<'py>, schema: &SchemaRef) -> PyResult<Bound<'py, PyCapsule>> {
    let ffi = FFI_ArrowSchema::try_from(schema.as_ref()).map_err(|e| Error::new_err(e.to_string()))?;
    PyCapsule::new_with_value(py, ffi, c"arrow_schema")
}

/// The scan counters of a session as a dict: records, extra_pairs, duplicate_keys,
/// record_errors, dropped_records, problems, messages, framing, notes.
pub fn report_dict<'py>(py: Python<'py>, ctx: &SessionContext) -> PyResult<Bound<'py, PyDict>> {
    let r = ctx.msgpack_report().snapshot();
    let d = PyDict::new(py);
    d.set_item("records", r.records)?;
    d.set_item("extra_pairs", r.extra_pairs())?;
    d.set_item("duplicate_keys", r.duplicate_keys)?;
    d.set_item("record_errors", r.record_errors)?;
    d.set_item("dropped_records", r.dropped_records)?;
    d.set_item("problems", r.problems)?;
    d.set_item("messages", r.messages)?;
    d.set_item("framing", r.framing)?;
    d.set_item("notes", r.notes)?;
    d.set_item("cached_files", r.cached_files)?;
    Ok(d)
}

/// A stream of record batches over MessagePack input, read as it is consumed (never all in
/// memory). It can be read once: by iterating it (pyarrow `RecordBatch`es), or by handing it
/// to pyarrow, polars or DuckDB (Arrow C stream interface).
#[pyclass(module = "mpq")]
pub struct Reader {
    ctx: SessionContext,
    schema: SchemaRef,
    stream: Mutex<Option<SendableRecordBatchStream>>,
}

impl Reader {
    /// A reader of `stream`, whose scans report to `ctx`.
    pub fn new(ctx: SessionContext, stream: SendableRecordBatchStream) -> Self {
        Reader { ctx, schema: stream.schema(), stream: Mutex::new(Some(stream)) }
    }

    fn take(&self) -> PyResult<SendableRecordBatchStream> {
        self.stream.lock().ok().and_then(|mut s| s.take()).ok_or_else(used_up)
    }
}

/// The error for a stream read a second time.
fn used_up() -> PyErr {
    Error::new_err("this stream was already read: a mpq.read() stream can be read once (call mpq.read() again)")
}

#[pymethods]
impl Reader {
    /// The batches as an Arrow C stream (PyCapsule interface); the stream is used up.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        stream_capsule(py, self.take()?)
    }

    /// The schema as an Arrow C schema (PyCapsule interface).
    fn __arrow_c_schema__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyCapsule>> {
        schema_capsule(py, &self.schema)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next batch as a `pyarrow.RecordBatch` (needs pyarrow).
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let mut guard = self.stream.lock().map_err(|_| Error::new_err("the stream's lock is poisoned"))?;
        let Some(stream) = guard.as_mut() else {
            return Err(used_up());
        };
        let next = wait(py, stream.next())?;
        let batch = match next {
            None => {
                *guard = None;
                return Ok(None);
            }
            Some(Err(e)) => return Err(from_datafusion(py, &e)),
            Some(Ok(b)) => b,
        };
        let data = StructArray::from(batch).to_data();
        let (array, schema) = datafusion::arrow::ffi::to_ffi(&data).map_err(|e| Error::new_err(e.to_string()))?;
        let array: FFI_ArrowArray = array;
        let schema_capsule = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array_capsule = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        let pa = py.import("pyarrow")?;
        let batch =
            pa.getattr("RecordBatch")?.call_method1("_import_from_c_capsule", (schema_capsule, array_capsule))?;
        Ok(Some(batch))
    }

    /// Reads every remaining batch into a `pyarrow.Table` (needs pyarrow).
    fn to_arrow<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        slf.py().import("pyarrow")?.call_method1("table", (slf,))
    }

    /// What the scans met so far: records, extra_pairs, record_errors, dropped_records,
    /// problems, messages, framing, notes.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        report_dict(py, &self.ctx)
    }

    fn __repr__(&self) -> String {
        let cols: Vec<String> = self.schema.fields().iter().map(|f| f.name().clone()).collect();
        format!("mpq.Reader(columns=[{}])", cols.join(", "))
    }
}
