//! The plain Rust API below DataFusion: infer a schema from bytes, and decode bytes (a slice,
//! or any [`Read`](std::io::Read)) into an iterator of [`RecordBatch`]es. Batches are produced
//! lazily, one per `next()`, so taking a few rows reads a few records.
//!
//! - [`driver`]: the one scan driver, [`Batches`]: a core that every scan shares (decoder,
//!   report, framing a batch, the framing policy, end-of-input checks) over a source of bytes.
//! - [`slice`]: [`SliceBatches`] (`Batches<Slice>`), a whole mapped or in-memory input, with
//!   the fast paths that need the whole input (count lanes, decode-while-framing) and byte
//!   ranges for split scans.
//! - [`stream`]: [`ReaderBatches`] (`Batches<Stream>`), bytes fed from a `Read` into a buffer,
//!   one batch held at a time.
//! - [`filter`]: a filter evaluated in the scan, with late decoding of the other columns (as
//!   DataFusion's Parquet reader owns its row filter).
//! - [`scan`]: one prepared input scanned as a query asks (range, projection, filter, limit),
//!   the one call the DataFusion opener makes.
//!
//! ```
//! use mpq::reader::{decode_slice, infer_schema};
//! use mpq::MsgpackReadOptions;
//!
//! let bytes = std::fs::read("testdata/events.msgpack").unwrap();
//! let opts = MsgpackReadOptions::default();
//! let schema = infer_schema(&bytes, &opts).unwrap();
//! let rows: usize = decode_slice(&bytes, schema, None, &opts).unwrap().map(|b| b.unwrap().num_rows()).sum();
//! assert_eq!(rows, 6);
//! ```
//!
//! [`RecordBatch`]: datafusion::arrow::array::RecordBatch

pub mod driver;
pub mod filter;
pub mod scan;
pub mod slice;
pub mod stream;

pub use crate::decode::MAX_BATCH_BYTES;
pub use driver::Batches;
pub use filter::{FilteredSlice, FilteredStream, ScanFilter};
pub use slice::{SliceBatches, decode_slice};
pub use stream::{ReaderBatches, decode_reader};

use crate::error::Result;
use crate::infer::{TableInference, infer_slice};
use crate::options::MsgpackReadOptions;
use datafusion::arrow::datatypes::SchemaRef;
use std::sync::Arc;

/// Infers what `bytes` hold, with per-field statistics (see [`TableInference`]).
pub fn infer(bytes: &[u8], opts: &MsgpackReadOptions) -> Result<TableInference> {
    opts.validate()?;
    let fi = infer_slice(bytes, "<memory>", &opts.infer_options());
    Ok(TableInference::merge(vec![("<memory>".to_string(), Arc::new(fi))]))
}

/// Infers the Arrow schema of `bytes`.
pub fn infer_schema(bytes: &[u8], opts: &MsgpackReadOptions) -> Result<SchemaRef> {
    Ok(Arc::new(opts.schema_of(&infer(bytes, opts)?)))
}
