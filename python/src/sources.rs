//! What Python passes as input, as a table: a path, glob, directory or URL (`str` or
//! `os.PathLike`), a list of them, or the bytes themselves (`bytes`, `bytearray`,
//! `memoryview`, or a binary file object, read whole). Bytes are kept as an object in an
//! in-memory object store (`memory:///`), so the table can be scanned as often as a file.

use crate::errors::IntoPy;
use datafusion::prelude::SessionContext;
use mpq::datasource::SessionContextExt;
use mpq::options::MsgpackReadOptions;
use object_store::memory::InMemory;
use object_store::{ObjectStoreExt, PutPayload};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyMemoryView, PyString, PyTuple};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An input, taken from Python.
pub enum Source {
    /// Paths, globs, directories or URLs.
    Paths(Vec<String>),
    /// MessagePack bytes.
    Bytes(Vec<u8>),
}

impl Source {
    /// The source a Python object stands for.
    pub fn extract(obj: &Bound<'_, PyAny>) -> PyResult<Source> {
        let py = obj.py();
        if obj.is_instance_of::<PyString>() {
            return Ok(Source::Paths(vec![obj.extract()?]));
        }
        if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
            return Ok(Source::Bytes(obj.extract()?));
        }
        if obj.is_instance_of::<PyMemoryView>() {
            return Ok(Source::Bytes(obj.call_method0("tobytes")?.extract()?));
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            let mut paths = Vec::new();
            for item in obj.try_iter()? {
                match Source::extract(&item?)? {
                    Source::Paths(p) => paths.extend(p),
                    Source::Bytes(_) => return Err(PyTypeError::new_err("a list of sources holds paths only")),
                }
            }
            return Ok(Source::Paths(paths));
        }
        if obj.hasattr("read")? {
            let data = obj.call_method0("read")?;
            if !(data.is_instance_of::<PyBytes>() || data.is_instance_of::<PyByteArray>()) {
                return Err(PyTypeError::new_err("a file object must be opened in binary mode ('rb')"));
            }
            return Ok(Source::Bytes(data.extract()?));
        }
        if let Ok(path) = py.import("os")?.call_method1("fspath", (obj,)) {
            return Ok(Source::Paths(vec![path.extract()?]));
        }
        Err(PyTypeError::new_err(format!(
            "a source is a path, a list of paths, bytes or a binary file object, not {}",
            obj.get_type().name()?
        )))
    }

    /// Registers the source as table `name` of `ctx`.
    pub async fn register(self, ctx: &SessionContext, name: &str, opts: MsgpackReadOptions) -> PyResult<()> {
        match self {
            Source::Paths(paths) => {
                let files = mpq::tables::expand_all(&paths).py()?;
                mpq::tables::register_table(ctx, name, &files, &opts).await.py()
            }
            Source::Bytes(data) => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let url = url::Url::parse("memory:///").map_err(|e| crate::errors::Error::new_err(e.to_string()))?;
                let store_url = datafusion::execution::object_store::ObjectStoreUrl::parse("memory://").py()?;
                let store = match ctx.runtime_env().object_store(store_url) {
                    Ok(s) => s,
                    Err(_) => {
                        let s: Arc<dyn object_store::ObjectStore> = Arc::new(InMemory::new());
                        ctx.register_object_store(&url, Arc::clone(&s));
                        s
                    }
                };
                let key = format!("bytes-{}.msgpack", NEXT.fetch_add(1, Ordering::Relaxed));
                let path = object_store::path::Path::from(key.as_str());
                store
                    .put(&path, PutPayload::from(data))
                    .await
                    .map_err(|e| crate::errors::Error::new_err(e.to_string()))?;
                ctx.register_msgpack(name, format!("memory:///{key}"), opts).await.py()
            }
        }
    }
}
