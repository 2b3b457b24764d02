//! The variant type lives in `mpq-udfs`, which reads it; the reader uses the same definition.

pub use mpq_udfs::variant::*;
