//! The integration test binary: the library API, SQL through DataFusion (with golden
//! expectations in `testdata/expected/`), the real `mpq` binary, and property tests.

mod api;
mod cache;
mod cli;
#[cfg(feature = "cluster")]
mod cluster;
mod common;
mod convert;
mod formats;
mod hostile;
mod layouts;
mod props;
mod seqfile;
mod sql;
