//! Keyword arguments to read options. The names are the keys of [`mpq::options::keys`]
//! (`infer_rows`, `on_error`, ...; the CLI's flag names with `_` work too: `ext`,
//! `corrupt_record`), each value parsed by the same code as the CLI's flags and SQL's
//! `OPTIONS (...)`; the Python package builds its signatures and help from [`option_table`].

use crate::errors::OptionError;
use mpq::options::{MsgpackReadOptions, Policies, keys};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

/// Every read option: (keyword, the CLI's flag, default as text ("" when unset), help).
#[pyfunction]
pub fn option_table() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    keys::KEYS.iter().map(|k| (k.key, k.flag, k.default, k.help)).collect()
}

/// A value as the text the option parser reads: booleans as `true`/`false`, numbers and
/// strings as themselves.
fn text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if v.is_instance_of::<PyBool>() {
        return Ok(if v.extract::<bool>()? { "true" } else { "false" }.to_string());
    }
    Ok(v.str()?.to_string())
}

/// Read options from keyword arguments over `base`; `None` values are left at their default.
pub fn apply(base: MsgpackReadOptions, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<MsgpackReadOptions> {
    let mut o = base;
    if let Some(kw) = kwargs {
        for (k, v) in kw.iter() {
            if v.is_none() {
                continue;
            }
            let name: String = k.extract()?;
            let value = text(&v)?;
            let key = keys::by_key(&name).or_else(|| keys::by_flag(&name.replace('_', "-")));
            let Some(key) = key else {
                let known: Vec<&str> = keys::KEYS.iter().map(|k| k.key).collect();
                return Err(OptionError::new_err(format!("no option {name:?}; the options are {}", known.join(", "))));
            };
            o.set(key.key, &value).map_err(|e| OptionError::new_err(e.to_string()))?;
        }
    }
    o.validate().map_err(|e| OptionError::new_err(e.to_string()))?;
    Ok(o)
}

/// Options with a call's default policies ([`Policies::KEEP`] for reading and querying,
/// [`Policies::FAIL`] for `convert`, as the CLI's commands), then its keyword arguments.
pub fn read_options(policies: Policies, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<MsgpackReadOptions> {
    apply(policies.options(), kwargs)
}
