//! [`MsgpackReadOptions`]: every knob of reading, inference and decoding, as one builder that
//! the library API, the DataFusion format and the CLI share. Options are plain data: they
//! serialize (serde), so a table description can be shipped to another process; what a scan
//! reports travels beside them ([`crate::report::ScanReport`]). [`keys`] is the one list of
//! settings by name, which both `OPTIONS (...)` and the CLI's flags go through.

pub mod keys;

use crate::error::{Error, Result};
use crate::framing::{FrameLimits, Layout};
use mpq_wire::{DEFAULT_MAX_DEPTH, MAX_DEPTH_LIMIT};
use serde::{Deserialize, Serialize};

/// What to do when a record boundary is lost (truncated value, length past the end, 0xc1,
/// depth or size limit, a value that does not fit the layout).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FramingPolicy {
    /// Stop with an error.
    Fail,
    /// Keep every record before the problem, report the dropped byte range, go on with the
    /// next file (the default for queries).
    #[default]
    Truncate,
}

impl std::str::FromStr for FramingPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fail" => Ok(FramingPolicy::Fail),
            "truncate" => Ok(FramingPolicy::Truncate),
            o => Err(Error::Options(format!("framing policy must be fail or truncate, not {o:?}"))),
        }
    }
}

/// What to do with a record whose boundary is intact but whose content is wrong (not a map,
/// an unreadable or out-of-range event time, a tag that is not UTF-8 text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop with an error (the default for `convert`).
    Fail,
    /// Keep the record, the bad part NULL (the default for queries).
    #[default]
    Null,
    /// Leave the record out.
    Drop,
}

impl std::str::FromStr for OnError {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fail" => Ok(OnError::Fail),
            "null" => Ok(OnError::Null),
            "drop" => Ok(OnError::Drop),
            o => Err(Error::Options(format!("--on-error takes fail, null or drop, not {o:?}"))),
        }
    }
}

/// A caller's default error policies: what its options start from before the user's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// Without `framing` given.
    pub framing: FramingPolicy,
    /// Without `on_error` given.
    pub on_error: OnError,
}

impl Policies {
    /// Exploring (`query`, `schema`, `cat`, the shell, Python's `read`/`query`): keep the good
    /// data and report the rest.
    pub const KEEP: Policies = Policies { framing: FramingPolicy::Truncate, on_error: OnError::Null };
    /// Pipelines (`convert`): never produce partial output unknowingly.
    pub const FAIL: Policies = Policies { framing: FramingPolicy::Fail, on_error: OnError::Fail };

    /// Default options with these policies.
    pub fn options(self) -> MsgpackReadOptions {
        MsgpackReadOptions::default().policies(self)
    }
}

/// The error policies a scan follows, as the decoder and the report need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ErrorPolicy {
    /// What a framing problem does.
    pub framing: FramingPolicy,
    /// What a record problem does.
    pub on_error: OnError,
    /// The scan fails once more problems than this were met (`None`: no bound).
    pub max_errors: Option<u64>,
}

/// When to memory-map local files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MmapPolicy {
    /// Map, except files that look like they are still being written: Fluentd staged buffer
    /// chunks (`buffer.b*`, `*.b<hex id>*`) and files modified in the last [`crate::input::source::RECENT`].
    #[default]
    Auto,
    /// Always map.
    Always,
    /// Never map: read files into memory.
    Never,
}

impl std::str::FromStr for MmapPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(MmapPolicy::Auto),
            "always" => Ok(MmapPolicy::Always),
            "never" => Ok(MmapPolicy::Never),
            other => Err(Error::Options(format!("--mmap takes auto, always or never, not {other:?}"))),
        }
    }
}

/// How much of each input inference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sample {
    /// The first `head` records of each file, plus `probes` runs of `probe_records` records
    /// starting at record boundaries found at evenly spread offsets.
    Records {
        /// Leading records per file.
        head: usize,
        /// Probes per file.
        probes: usize,
        /// Records per probe.
        probe_records: usize,
    },
    /// Every record of every file.
    All,
}

impl Default for Sample {
    /// The documented default: 1000 leading records and 8 probes of 100 records per file.
    fn default() -> Self {
        Sample::Records { head: 1000, probes: 8, probe_records: 100 }
    }
}

/// Default threshold above which a map is a dictionary (`Map`), not a struct.
pub const DEFAULT_MAX_STRUCT_FIELDS: usize = 256;

/// Default largest record (64 MiB).
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 << 20;
/// Default records per batch when DataFusion does not say.
pub const DEFAULT_BATCH_SIZE: usize = 8192;

/// A batch stops growing once its records span this many bytes of input, so no column's
/// offsets can overflow (`i32`) and batch memory stays bounded whatever the record sizes: the
/// default and the most [`MsgpackReadOptions::batch_bytes`] takes.
pub const MAX_BATCH_BYTES: usize = 256 << 20;

/// Options for reading MessagePack. `Default` gives the documented defaults. They are plain
/// data (every field serializes; nothing live such as a report or an open file), so they can
/// be compared, cached and sent to another process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MsgpackReadOptions {
    /// How much of each file inference reads.
    pub sample: Sample,
    /// A map with more distinct keys than this is a dictionary (`Map`), not a struct.
    pub max_struct_fields: usize,
    /// Deepest nesting allowed.
    pub max_depth: usize,
    /// Largest record in bytes.
    pub max_record_bytes: usize,
    /// Records per batch (DataFusion's `batch_size` when registered through it).
    pub batch_size: usize,
    /// A batch also ends once its records span this many bytes of input (at most
    /// [`MAX_BATCH_BYTES`], the default): `convert` sets it lower, so that wide records hold
    /// fewer rows per batch in its write pipeline (see [`crate::convert::WRITE_BATCH_BYTES`]).
    pub batch_bytes: usize,
    /// Add the `_record` column.
    pub with_record: bool,
    /// What a framing error does.
    pub framing: FramingPolicy,
    /// What a record error does.
    pub on_error: OnError,
    /// Fail once more problems than this were met (`None`: no bound).
    pub max_errors: Option<u64>,
    /// Add the `_corrupt_record` column: the raw bytes of each record that had a record error.
    pub with_corrupt_record: bool,
    /// When to memory-map.
    pub mmap: MmapPolicy,
    /// Only files ending with this are read from directories and globs ("" reads all).
    pub file_extension: String,
    /// Threads inference over every record may use per file (`None`: every core).
    pub threads: Option<usize>,
    /// The layout of every input (`None`: detected per input).
    pub layout: Option<Layout>,
    /// The most bytes of a compressed input held in memory decompressed: by inference over
    /// every record, and by a forward capture's compressed entries (scans decompress as they
    /// read).
    pub max_decompressed_bytes: u64,
    /// Scans apply the filters DataFusion offers them, decoding the other columns only for
    /// the rows that pass (on by default; off, a filter runs after the scan).
    pub filter_pushdown: bool,
    /// The columnar cache to read files from and fill (`None`: no cache; see `mpq::cache`).
    pub cache: Option<CacheOptions>,
}

/// Default bound on the columnar cache's size (4 GiB).
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 4 << 30;

/// Where the columnar cache lives and how large it may grow. Plain data, like the other read
/// options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheOptions {
    /// The cache directory (created with mode 0700).
    pub dir: std::path::PathBuf,
    /// Least recently used entries are removed once the entries hold more bytes than this.
    pub max_bytes: u64,
}

impl CacheOptions {
    /// A cache in `dir`, with the default size bound.
    pub fn new(dir: impl Into<std::path::PathBuf>) -> Self {
        CacheOptions { dir: dir.into(), max_bytes: DEFAULT_CACHE_MAX_BYTES }
    }

    /// The default directory: `$XDG_CACHE_HOME/mpq`, else `~/.cache/mpq` (`None` without
    /// either variable).
    pub fn default_dir() -> Option<std::path::PathBuf> {
        use std::path::PathBuf;
        let xdg = std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = || std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".cache"));
        xdg.filter(|p| p.is_absolute()).or_else(home).map(|d| d.join("mpq"))
    }

    /// With another size bound.
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = n;
        self
    }
}

/// Default bound on decompressed input (8 GiB).
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: u64 = 8 << 30;

impl Default for MsgpackReadOptions {
    fn default() -> Self {
        MsgpackReadOptions {
            sample: Sample::default(),
            max_struct_fields: DEFAULT_MAX_STRUCT_FIELDS,
            max_depth: DEFAULT_MAX_DEPTH,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            batch_size: DEFAULT_BATCH_SIZE,
            batch_bytes: MAX_BATCH_BYTES,
            with_record: false,
            framing: FramingPolicy::default(),
            on_error: OnError::default(),
            max_errors: None,
            with_corrupt_record: false,
            mmap: MmapPolicy::default(),
            file_extension: String::new(),
            threads: None,
            layout: None,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            filter_pushdown: true,
            cache: None,
        }
    }
}

impl MsgpackReadOptions {
    /// Infer from the first `n` records of each file (plus the default probes).
    pub fn infer_rows(mut self, n: usize) -> Self {
        self.sample = match self.sample {
            Sample::Records { probes, probe_records, .. } => Sample::Records { head: n, probes, probe_records },
            Sample::All => Sample::Records { head: n, probes: 8, probe_records: 100 },
        };
        self
    }
    /// Sets how many probes (of 100 records) inference reads per file besides the first
    /// records; no effect when inferring from every record.
    pub fn infer_probes(mut self, probes: usize) -> Self {
        if let Sample::Records { head, probe_records, .. } = self.sample {
            self.sample = Sample::Records { head, probes, probe_records };
        }
        self
    }
    /// Infer from every record.
    pub fn infer_all(mut self) -> Self {
        self.sample = Sample::All;
        self
    }
    /// Sets the dictionary threshold.
    pub fn max_struct_fields(mut self, n: usize) -> Self {
        self.max_struct_fields = n;
        self
    }
    /// Sets the nesting limit (at most 1024).
    pub fn max_depth(mut self, n: usize) -> Self {
        self.max_depth = n;
        self
    }
    /// Sets the record size limit.
    pub fn max_record_bytes(mut self, n: usize) -> Self {
        self.max_record_bytes = n;
        self
    }
    /// Sets the threads inference over every record may use per file.
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = Some(n.max(1));
        self
    }
    /// Sets the batch size.
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }
    /// Sets the input bytes a batch spans at most (between 1 and [`MAX_BATCH_BYTES`]; a
    /// batch holds at least one record).
    pub fn batch_bytes(mut self, n: usize) -> Self {
        self.batch_bytes = n.clamp(1, MAX_BATCH_BYTES);
        self
    }
    /// Adds the `_record` column.
    pub fn with_record(mut self, yes: bool) -> Self {
        self.with_record = yes;
        self
    }
    /// Sets both error policies (see [`Policies`]).
    pub fn policies(self, p: Policies) -> Self {
        self.framing(p.framing).on_error(p.on_error)
    }
    /// Sets the framing policy.
    pub fn framing(mut self, p: FramingPolicy) -> Self {
        self.framing = p;
        self
    }
    /// Sets what a record error does.
    pub fn on_error(mut self, p: OnError) -> Self {
        self.on_error = p;
        self
    }
    /// Fails once more than `n` problems were met (`None`: no bound).
    pub fn max_errors(mut self, n: Option<u64>) -> Self {
        self.max_errors = n;
        self
    }
    /// Adds the `_corrupt_record` column.
    pub fn with_corrupt_record(mut self, yes: bool) -> Self {
        self.with_corrupt_record = yes;
        self
    }
    /// The error policies.
    pub fn error_policy(&self) -> ErrorPolicy {
        ErrorPolicy { framing: self.framing, on_error: self.on_error, max_errors: self.max_errors }
    }
    /// Reads files from this columnar cache and notes the files read from their source for it
    /// ([`crate::cache`]).
    pub fn cache(mut self, cache: Option<CacheOptions>) -> Self {
        self.cache = cache;
        self
    }
    /// Whether scans apply filters themselves ([`MsgpackReadOptions::filter_pushdown`]).
    pub fn filter_pushdown(mut self, yes: bool) -> Self {
        self.filter_pushdown = yes;
        self
    }
    /// Sets the memory-map policy.
    pub fn mmap(mut self, p: MmapPolicy) -> Self {
        self.mmap = p;
        self
    }
    /// Only read files with this ending from directories and globs.
    pub fn file_extension(mut self, ext: impl Into<String>) -> Self {
        self.file_extension = ext.into();
        self
    }
    /// Reads every input with this layout instead of detecting it.
    pub fn layout(mut self, layout: Option<Layout>) -> Self {
        self.layout = layout;
        self
    }
    /// Sets the bound on decompressed input.
    pub fn max_decompressed_bytes(mut self, n: u64) -> Self {
        self.max_decompressed_bytes = n;
        self
    }
    /// Checks the options.
    pub fn validate(&self) -> Result<()> {
        if self.max_depth == 0 || self.max_depth > MAX_DEPTH_LIMIT {
            return Err(Error::Options(format!("max depth must be 1..={MAX_DEPTH_LIMIT}, not {}", self.max_depth)));
        }
        if self.max_struct_fields == 0 {
            return Err(Error::Options("max struct fields must be at least 1".into()));
        }
        Ok(())
    }

    /// Framing limits.
    pub fn limits(&self) -> FrameLimits {
        FrameLimits { max_depth: self.max_depth.min(MAX_DEPTH_LIMIT), max_record_bytes: self.max_record_bytes }
    }
}
