//! `mpq-wire`: the lowest layer of mpq. A zero-copy MessagePack [`Cursor`] that checks every
//! length and count header against the bytes that remain, skips values with bounded nesting,
//! decodes the two time extensions, and renders values as JSON. The reader (`mpq`) and the
//! SQL functions (`mpq-udfs`) both build on it, so the wire format is parsed in one place.

pub mod cursor;
pub mod ext;
pub mod json;
pub mod marker;
pub mod skip;
pub mod write;

pub use cursor::{Cursor, DEFAULT_MAX_DEPTH, Head, MAX_DEPTH_LIMIT, WireError, WireErrorKind, WireResult};
pub use skip::{size_from_first_byte, skip_at, skip_fast, skip_shallow};
