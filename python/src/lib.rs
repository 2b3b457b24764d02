//! `mpq._mpq`, the Rust half of the `mpq` Python package: MessagePack record files to Arrow,
//! and SQL over them, with the CLI's inference, functions and error policies.
//!
//! Results leave through the Arrow C stream interface (`__arrow_c_stream__`), so pyarrow,
//! polars, DuckDB and pandas take them without copies and without this crate depending on
//! any of them. Every call that runs a query releases the GIL and wakes every 50 ms to let
//! Python handle signals, so Ctrl-C raises `KeyboardInterrupt` and stops the query.
//!
//! Modules: [`errors`] (the exception hierarchy), [`options`] (keyword arguments to read
//! options), [`sources`] (paths, bytes and file objects as tables), [`stream`] (record batch
//! streams across the C interface), [`context`] (the classes and functions Python sees).

mod context;
mod errors;
mod options;
mod sources;
mod stream;

use pyo3::prelude::*;

/// The module.
#[pymodule]
fn _mpq(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("FramingError", py.get_type::<errors::FramingError>())?;
    m.add("RecordError", py.get_type::<errors::RecordError>())?;
    m.add("SqlError", py.get_type::<errors::SqlError>())?;
    m.add("OptionError", py.get_type::<errors::OptionError>())?;
    m.add_class::<context::Context>()?;
    m.add_class::<context::Query>()?;
    m.add_class::<stream::Reader>()?;
    m.add_function(wrap_pyfunction!(options::option_table, m)?)?;
    m.add_function(wrap_pyfunction!(context::read, m)?)?;
    m.add_function(wrap_pyfunction!(context::convert, m)?)?;
    m.add_function(wrap_pyfunction!(context::schema, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
