//! # mpq: SQL over MessagePack record files, as they are
//!
//! mpq reads MessagePack record streams (plain streams of maps, Fluentd event streams of
//! `[time, record]`, streams of other values) through a memory map, infers a schema from the
//! data, decodes straight into Arrow record batches and hands them to DataFusion.
//!
//! Stages, in the order a batch flows (each a module): [`tables`] (input arguments to
//! tables), [`input`] (bytes: memory maps, decompression, Fluentd files), [`framing`] (layouts
//! and record boundaries), [`infer`] (schema inference), [`decode`] (the decode plan and
//! column decoders), [`reader`] (the scan drivers and the plain Rust API), [`datasource`] (the
//! DataFusion format, source and opener, and [`SessionContextExt`]), [`convert`] (writing).
//! Beside them: [`cache`] (the opt-in columnar cache of files read: filling it; [`store`]: its
//! entries, read by scans), [`options`] (plain settings), [`report`] (what scans report), [`problem`] and
//! [`error`], [`session`] (a ready DataFusion session), `cluster` (with the `cluster` feature: the
//! same SQL on a Ballista cluster), [`interrupt`] (Ctrl-C cancels a
//! running query instead of ending the process). The command line lives in the binary.
//!
//! ```
//! use mpq::{MsgpackReadOptions, SessionContextExt};
//! use datafusion::prelude::SessionContext;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let ctx = SessionContext::new();
//! ctx.register_msgpack("logs", "testdata/logs.msgpack", MsgpackReadOptions::default()).await.unwrap();
//! let df = ctx.sql("SELECT count(*) AS n FROM logs").await.unwrap();
//! let batches = df.collect().await.unwrap();
//! assert_eq!(batches[0].num_rows(), 1);
//! # });
//! ```

pub mod cache;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod convert;
pub mod datasource;
pub mod decode;
pub mod error;
pub mod framing;
pub mod generate;
pub mod infer;
pub mod input;
pub mod interrupt;
pub mod json_text;
pub mod keys;
pub mod options;
pub mod problem;
pub mod reader;
pub mod report;
pub mod schema_view;
pub mod session;
pub mod store;
mod sys;
pub mod tables;
pub mod variant;

pub use datasource::{MsgpackFormat, MsgpackFormatFactory, MsgpackSource, SessionContextExt};
pub use error::{Error, Result};
pub use options::{FramingPolicy, MsgpackReadOptions};
pub use report::ScanReport;
