//! The library's error type. Every error about input bytes names the file, the record number
//! (0-based), the byte offset of the record and of the failing byte, what was expected and what
//! was found, and a short hex excerpt around the failing byte.

use crate::problem::Problem;
use datafusion::arrow::error::ArrowError;
use datafusion::error::DataFusionError;

/// Errors from reading, inferring and decoding MessagePack.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record boundary was lost: truncated value, length past the end, 0xc1, depth limit,
    /// or a top-level value that does not fit the layout. The problem names the file, record,
    /// offsets, what was expected and found, and a hex excerpt.
    #[error("{0}")]
    Framing(Problem),
    /// The record is intact but its content is wrong (not a map, bad time, ...).
    #[error("{0}")]
    Record(Problem),
    /// More problems than `--max-errors` allows (the message names the last one).
    #[error("{0}")]
    TooManyErrors(String),
    /// A scan split across cores found a range boundary it cannot vouch for (the message
    /// names the file and offsets).
    #[error("{0}")]
    Split(String),
    /// An input that cannot be read as asked: a forced layout it does not have, a compressed
    /// stream too large or damaged under `--framing fail` (the message names the file).
    #[error("{0}")]
    Input(String),
    /// An I/O error on a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An invalid option or argument.
    #[error("invalid option: {0}")]
    Options(String),
    /// An Arrow error while building batches.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// Output that cannot be written as asked (it exists, a column is missing, ...).
    #[error("{0}")]
    Output(String),
    /// Something mpq's own code should never do happened (a bug, not bad input or options).
    #[error("internal error (a bug in mpq; please report it): {0}")]
    Internal(String),
    /// An error from DataFusion while planning or running a query (boxed: it is large).
    #[error(transparent)]
    DataFusion(Box<DataFusionError>),
}

/// Turns an I/O error at `path` into an [`Error::Io`] naming it (for `map_err`).
pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.display().to_string(), source }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        Error::DataFusion(Box::new(e))
    }
}

pub use crate::problem::UNKNOWN_RECORD;

impl Problem {
    /// The error a scan that fails on this problem returns ([`Error::Framing`] or
    /// [`Error::Record`], whose text names everything the problem holds).
    pub fn error(&self) -> Error {
        if self.kind.is_framing() { Error::Framing(self.clone()) } else { Error::Record(self.clone()) }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::Arrow(a) => DataFusionError::ArrowError(Box::new(a), None),
            Error::DataFusion(d) => *d,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

impl From<Error> for ArrowError {
    fn from(e: Error) -> Self {
        match e {
            Error::Arrow(a) => a,
            other => ArrowError::ExternalError(Box::new(other)),
        }
    }
}

/// Up to 8 bytes before and 8 from `offset`, in hex, the byte at `offset` in brackets:
/// `82 a1 61 [c1] 00`. `<end of input>` stands for a missing byte at the end.
pub fn hex_excerpt(buf: &[u8], offset: usize) -> String {
    let from = offset.saturating_sub(8).min(buf.len());
    let to = (offset + 8).min(buf.len());
    let mut parts: Vec<String> = Vec::with_capacity(17);
    for (i, b) in buf[from..to].iter().enumerate() {
        if from + i == offset {
            parts.push(format!("[{b:02x}]"));
        } else {
            parts.push(format!("{b:02x}"));
        }
    }
    if offset >= buf.len() {
        parts.push("<end of input>".to_string());
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_marks_failing_byte() {
        let buf = [0x82u8, 0xa1, 0x61, 0xc1, 0x00];
        assert_eq!(hex_excerpt(&buf, 3), "82 a1 61 [c1] 00");
        assert_eq!(hex_excerpt(&buf, 5), "82 a1 61 c1 00 <end of input>");
    }
}
