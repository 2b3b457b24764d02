//! The columnar cache: a Parquet copy of each MessagePack file a query read, kept under the
//! user's cache directory, so that later queries over the unchanged file read the copy through
//! Parquet instead of decoding MessagePack again. Opt-in ([`CacheOptions`] in
//! [`crate::MsgpackReadOptions::cache`]; the CLI's `--cache`). Scans read copies and note the
//! files they decoded ([`crate::report::ScanReport::take_cache_misses`]); [`fill`] copies
//! those. The entries themselves are [`crate::store`]'s.
//!
//! How it keeps answers exact:
//! - An entry's name is a hash of its key: the file's canonical path, device, inode, size,
//!   modification and change times (nanoseconds), the cache format and mpq version, the table's
//!   file schema and every read option that changes rows ([`crate::store::Scope`]). Anything
//!   different is another entry; the key is also stored beside the entry and compared on
//!   every use.
//! - An entry holds every column of the schema as the scan produces it (variant columns and
//!   `_extra` as their MessagePack bytes), and the file's record count and bytes.
//! - Only files whose whole scan met nothing that depends on which columns a query reads are
//!   cached: no record errors, no duplicate keys, no framing problems, no warnings. Such a
//!   file's rows are the same under every error policy, and its summary the same for every
//!   query, so a hit replays it; pairs kept in `_extra` are counted from the cached `_extra`
//!   values exactly as a scan counts them. Files that met anything else get a marker (`.skip`)
//!   and are read from the source.
//! - Entries are written only by a separate full scan after the query ([`fill`]), under a
//!   per-entry lock, to a temporary name, synced and renamed without replacing; a file modified
//!   within [`SETTLE`] of the fill, or changed during it, is not cached.

mod fill;

pub use crate::options::CacheOptions;
pub use crate::store::{CacheInfo, FORMAT_VERSION, GcSummary, SETTLE, clear, fill_log_in, gc, info};
pub use fill::{FillSummary, fill, read_manifest, write_manifests};
