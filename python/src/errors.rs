//! The exception hierarchy, and mpq's and DataFusion's errors as exceptions: `Error`, and under
//! it `FramingError` and `RecordError` (with `file`, `record`, `record_offset`, `offset` and
//! `kind` attributes), `SqlError` (planning and SQL) and `OptionError` (a bad option value).
//! Messages are the CLI's.

use datafusion::error::DataFusionError;
use mpq::error::Error as MpqError;
use pyo3::prelude::*;

pyo3::create_exception!(mpq, Error, pyo3::exceptions::PyException, "Every error mpq raises.");
pyo3::create_exception!(
    mpq,
    FramingError,
    Error,
    "A record boundary was lost (truncated record, bad length, depth or size limit). Attributes: file, record, \
     record_offset, offset, kind."
);
pyo3::create_exception!(
    mpq,
    RecordError,
    Error,
    "A record is intact but its content is wrong (under on_error='fail'). Attributes: file, record, record_offset, \
     offset, kind."
);
pyo3::create_exception!(mpq, SqlError, Error, "The SQL does not parse or plan (unknown table or column, bad syntax).");
pyo3::create_exception!(mpq, OptionError, Error, "An option has a bad value, or no such option exists.");

/// mpq's own error inside `e`, wherever DataFusion or Arrow wrapped it.
fn ours<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a MpqError> {
    let mut cur: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    let mut found = None;
    while let Some(c) = cur {
        if let Some(m) = c.downcast_ref::<MpqError>()
            && !matches!(m, MpqError::DataFusion(_))
        {
            found = Some(m);
        }
        cur = c.source();
    }
    found
}

/// The exception for an mpq error.
pub fn from_mpq(py: Python<'_>, e: &MpqError) -> PyErr {
    let msg = e.to_string();
    let problem = |err: PyErr, p: &mpq::problem::Problem| {
        let v = err.value(py);
        let record = (p.record != mpq::problem::UNKNOWN_RECORD).then_some(p.record);
        let _ = v.setattr("file", &p.path);
        let _ = v.setattr("record", record);
        let _ = v.setattr("record_offset", p.record_offset);
        let _ = v.setattr("offset", p.offset);
        let _ = v.setattr("kind", p.kind.name());
        err
    };
    match e {
        MpqError::Framing(p) => problem(FramingError::new_err(msg), p),
        MpqError::Record(p) => problem(RecordError::new_err(msg), p),
        MpqError::Options(_) => OptionError::new_err(msg),
        MpqError::DataFusion(d) => from_datafusion(py, d),
        _ => Error::new_err(msg),
    }
}

/// The exception for a DataFusion error: mpq's own error inside it when there is one, else
/// `SqlError` for planning errors and `Error` for the rest.
pub fn from_datafusion(py: Python<'_>, e: &DataFusionError) -> PyErr {
    if let Some(m) = ours(e) {
        return from_mpq(py, m);
    }
    match e.find_root() {
        DataFusionError::SQL(..) | DataFusionError::Plan(_) | DataFusionError::SchemaError(..) => {
            SqlError::new_err(e.to_string())
        }
        _ => Error::new_err(e.to_string()),
    }
}

/// Turns mpq and DataFusion results into Python results.
pub trait IntoPy<T> {
    /// The result, its error as an exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, MpqError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| Python::attach(|py| from_mpq(py, &e)))
    }
}

impl<T> IntoPy<T> for Result<T, DataFusionError> {
    fn py(self) -> PyResult<T> {
        self.map_err(|e| Python::attach(|py| from_datafusion(py, &e)))
    }
}
