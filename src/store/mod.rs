//! The columnar cache's store: where a file's Parquet copy lives and under which key
//! ([`Scope`], [`Source`], [`Entry`]), the description beside it ([`Meta`]), reading a copy as
//! the scan of its file would have read it ([`scan_hit`]), and the housekeeping
//! ([`info`], [`clear`], [`gc`], eviction). Scans use it; [`crate::cache`] fills it (see there
//! for how answers stay exact).
//!
//! The directory holds `v<FORMAT_VERSION>/<hash>.parquet` (the data), `.json` (key, source,
//! counts), `.lock`, `.hits` (one byte per use) and `.skip` (not cacheable) files.

mod read;

pub(crate) use read::{HitRequest, scan_hit};

pub use crate::options::CacheOptions;
use crate::options::MsgpackReadOptions;
use datafusion::arrow::datatypes::{DataType, Field, SchemaRef};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What an entry holds and how it is named; a new version ignores older entries.
pub const FORMAT_VERSION: u32 = 1;
/// A file modified this recently is not cached: a change within the file system's time
/// resolution could leave the same modification time on other content.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The directory of this format version's entries in `cache`.
pub(crate) fn entries_dir(cache: &CacheOptions) -> PathBuf {
    cache.dir.join(format!("v{FORMAT_VERSION}"))
}

/// Creates the entries directory (the cache directory with mode 0700); returns it.
pub(crate) fn create(cache: &CacheOptions) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&cache.dir)?;
    let entries = entries_dir(cache);
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&entries)?;
    Ok(entries)
}

/// A source file as the key sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Source {
    /// The canonical path.
    pub path: PathBuf,
    dev: u64,
    ino: u64,
    pub size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Source {
    /// The file at `path` now.
    pub(crate) fn stat(path: &Path) -> io::Result<Source> {
        use std::os::unix::fs::MetadataExt;
        let path = std::fs::canonicalize(path)?;
        let m = std::fs::metadata(&path)?;
        let ns = |s: i64, n: i64| s as i128 * 1_000_000_000 + n as i128;
        Ok(Source {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: ns(m.mtime(), m.mtime_nsec()),
            ctime_ns: ns(m.ctime(), m.ctime_nsec()),
            path,
        })
    }

    /// True when neither time is within [`SETTLE`] of now.
    pub(crate) fn settled(&self) -> bool {
        let now = now_ns();
        let settle = SETTLE.as_nanos() as i128;
        now - self.mtime_ns >= settle && now - self.ctime_ns >= settle
    }
}

fn now_ns() -> i128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i128).unwrap_or_default()
}

/// A 128-bit FNV-1a hash: stable across builds and platforms (the entry names depend on it).
fn fnv128(parts: &[&[u8]]) -> u128 {
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for part in parts {
        for &b in *part {
            h ^= b as u128;
            h = h.wrapping_mul(PRIME);
        }
        // A separator, so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(PRIME);
    }
    h
}

/// What the entries of one table share: the cache, the file schema and the options that
/// change rows, hashed once per scan.
#[derive(Debug, Clone)]
pub struct Scope {
    pub(crate) cache: CacheOptions,
    schema: SchemaRef,
    pub(crate) options: MsgpackReadOptions,
    pub(crate) hash: u128,
}

impl Scope {
    /// The scope of a scan of `schema` (the table's file schema) with `opts`, when `opts` ask
    /// for the cache.
    pub fn of(schema: &SchemaRef, opts: &MsgpackReadOptions) -> Option<Scope> {
        let cache = opts.cache.clone()?;
        let text = format!(
            "mpq {} cache {FORMAT_VERSION}\n{:?}\n{:?}",
            env!("CARGO_PKG_VERSION"),
            row_options(opts),
            fingerprint(schema)
        );
        let hash = fnv128(&[text.as_bytes()]);
        Some(Scope { cache, schema: SchemaRef::clone(schema), options: opts.clone(), hash })
    }

    /// The entry of `source` in this scope: named by the file's lineage (its path, device and
    /// inode), so that the entry of a file that grew can take its new tail as another part; the
    /// size and times the parts cover are in its [`Meta`]. A file found not cacheable is marked
    /// under its whole identity.
    pub(crate) fn entry(&self, source: &Source) -> Entry {
        let key = format!("{:032x} {:?} {} {}", self.hash, source.path, source.dev, source.ino);
        let name = format!("{:032x}", fnv128(&[key.as_bytes()]));
        let skip = format!("{:032x}", fnv128(&[key.as_bytes(), format!("{source:?}").as_bytes()]));
        Entry { dir: entries_dir(&self.cache), name, key, skip, source: source.clone() }
    }

    /// The entry of the local file `path`, if it can be read.
    pub(crate) fn entry_of(&self, path: &Path) -> Option<(Entry, Source)> {
        let source = Source::stat(path).ok()?;
        Some((self.entry(&source), source))
    }

    /// The table's file schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }
}

/// The schema as text that is the same in every process: field metadata (hash maps, whose
/// order varies) is listed sorted, by field path, after the types without it.
fn fingerprint(schema: &SchemaRef) -> String {
    let mut meta = Vec::new();
    let plain: Vec<Field> = schema.fields().iter().map(|f| plain_field(f, "", &mut meta)).collect();
    meta.sort();
    format!("{plain:?}\n{meta:?}")
}

fn plain_field(f: &Field, path: &str, meta: &mut Vec<(String, String, String)>) -> Field {
    let path = format!("{path}/{}", f.name());
    for (k, v) in f.metadata() {
        meta.push((path.clone(), k.clone(), v.clone()));
    }
    let t = match f.data_type() {
        DataType::Struct(fs) => DataType::Struct(fs.iter().map(|c| plain_field(c, &path, meta)).collect()),
        DataType::List(c) => DataType::List(Arc::new(plain_field(c, &path, meta))),
        DataType::LargeList(c) => DataType::LargeList(Arc::new(plain_field(c, &path, meta))),
        DataType::FixedSizeList(c, n) => DataType::FixedSizeList(Arc::new(plain_field(c, &path, meta)), *n),
        DataType::Map(c, sorted) => DataType::Map(Arc::new(plain_field(c, &path, meta)), *sorted),
        other => other.clone(),
    };
    Field::new(f.name(), t, f.is_nullable())
}

/// The options as far as they change the rows of a file whose schema is given and that the
/// cache takes: those that only steer inference, parallelism, batching, file listing, error
/// counting or the cache itself are set to their defaults, and so are the error policies,
/// because only files that met no problem at all are cached (every policy reads the same rows
/// from them).
fn row_options(opts: &MsgpackReadOptions) -> MsgpackReadOptions {
    let d = MsgpackReadOptions::default();
    MsgpackReadOptions {
        framing: d.framing,
        on_error: d.on_error,
        sample: d.sample,
        batch_size: d.batch_size,
        batch_bytes: d.batch_bytes,
        max_errors: d.max_errors,
        mmap: d.mmap,
        file_extension: d.file_extension,
        threads: d.threads,
        max_decompressed_bytes: d.max_decompressed_bytes,
        filter_pushdown: d.filter_pushdown,
        cache: None,
        ..opts.clone()
    }
}

/// Bytes at the start of a file and before a covered end whose hash tells that a file that
/// grew kept its old content (appended to, not rewritten).
const WINDOW_BYTES: u64 = 4096;

/// The hash of the first [`WINDOW_BYTES`] of `path` (before `end`) and of the
/// [`WINDOW_BYTES`] before `end`.
pub(crate) fn window(path: &Path, end: u64) -> io::Result<u128> {
    use std::os::unix::fs::FileExt;
    let file = File::open(path)?;
    let mut head = vec![0; end.min(WINDOW_BYTES) as usize];
    file.read_exact_at(&mut head, 0)?;
    let from = end.saturating_sub(WINDOW_BYTES);
    let mut tail = vec![0; (end - from) as usize];
    file.read_exact_at(&mut tail, from)?;
    Ok(fnv128(&[&head, &tail]))
}

/// One Parquet file of an entry: the records of a stretch of the source, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Part {
    /// The file's name in the entries directory.
    pub file: String,
    /// Records it holds.
    pub records: u64,
    /// Bytes of the source those records spanned.
    pub bytes: u64,
}

/// What is stored beside an entry's data (`<name>.json`, replaced as a whole).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    /// The lineage key the entry was written under (compared on every use).
    pub key: String,
    /// The source as the parts cover it: a hit needs exactly this identity.
    pub source: Source,
    /// The parts, in the source's order.
    pub parts: Vec<Part>,
    /// The hash of the source's bytes before its covered end ([`window`]).
    pub window: u128,
    /// Whether a longer file with the same lineage and window may be extended by its tail:
    /// the file's own bytes are framed (not decompressed, expanded or a SequenceFile).
    pub appendable: bool,
}

impl Meta {
    /// Source bytes of all parts.
    pub fn bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// True when `now` is this source grown, with the bytes the parts cover unchanged.
    pub fn extended_by(&self, now: &Source) -> bool {
        self.appendable
            && now.size > self.source.size
            && (now.dev, now.ino, &now.path) == (self.source.dev, self.source.ino, &self.source.path)
            && window(&now.path, self.source.size).is_ok_and(|w| w == self.window)
    }
}

/// One entry's files.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    dir: PathBuf,
    pub(crate) name: String,
    pub(crate) key: String,
    /// The name of the not-cacheable marker of this identity.
    skip: String,
    /// The source as it is now.
    pub(crate) source: Source,
}

impl Entry {
    /// The entry's file with this extension.
    pub(crate) fn path(&self, ext: &str) -> PathBuf {
        self.dir.join(format!("{}.{ext}", self.name))
    }

    /// A file of the entries directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The not-cacheable marker of this identity.
    pub(crate) fn skip_path(&self) -> PathBuf {
        self.dir.join(format!("{}.skip", self.skip))
    }

    /// The entry's description, when it is there, readable and of this lineage.
    pub(crate) fn meta(&self) -> Option<Meta> {
        let meta: Meta = serde_json::from_slice(&std::fs::read(self.path("json")).ok()?).ok()?;
        (meta.key == self.key).then_some(meta)
    }

    /// True when the entry covers the source as it is now, with every part there.
    pub fn covers(&self) -> bool {
        self.meta().is_some_and(|m| m.source == self.source && m.parts.iter().all(|p| self.file(&p.file).exists()))
    }

    /// True when the source was found not to be cacheable as it is now.
    pub fn skipped(&self) -> bool {
        self.skip_path().exists()
    }

    /// The entry, if it covers the source as it is now: its parts opened with their footers
    /// read, and its meta. A damaged part removes the entry (a miss); a part missing (replaced
    /// by a fill meanwhile) is a miss.
    pub fn load(&self, schema: &SchemaRef) -> Option<(Vec<read::Opened>, Meta)> {
        let meta = match std::fs::read(self.path("json")) {
            Ok(b) => match serde_json::from_slice::<Meta>(&b) {
                Ok(m) => m,
                Err(e) => return self.damaged(&format!("its description: {e}")),
            },
            Err(_) => return None,
        };
        if meta.key != self.key || meta.source != self.source {
            return None;
        }
        let mut parts = Vec::with_capacity(meta.parts.len());
        for p in &meta.parts {
            let data = File::open(self.file(&p.file)).ok()?;
            match read::Opened::new(data, schema) {
                Ok(o) => parts.push(o),
                Err(e) => return self.damaged(&format!("{}: {e}", p.file)),
            }
        }
        // Least recently used first when evicting: a use makes the entry new.
        if let Ok(f) = File::options().write(true).open(self.path("json")) {
            let _ = f.set_modified(SystemTime::now());
        }
        if let Ok(mut hits) = File::options().append(true).create(true).open(self.path("hits")) {
            let _ = io::Write::write_all(&mut hits, b"+");
        }
        Some((parts, meta))
    }

    fn damaged<T>(&self, why: &str) -> Option<T> {
        if std::env::var_os("MPQ_DEBUG").is_some() {
            eprintln!("mpq: debug: cache entry {} is damaged ({why}); removed", self.path("json").display());
        }
        remove_entry(&self.dir, &self.name);
        None
    }
}

/// Removes every file of the entry `name` (its description, parts, hits and lock).
fn remove_entry(dir: &Path, name: &str) {
    let prefix = format!("{name}.");
    if let Ok(files) = std::fs::read_dir(dir) {
        for f in files.flatten() {
            if f.file_name().to_str().is_some_and(|n| n.starts_with(&prefix)) {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
}

/// What inference saw in a file, kept beside the entries (`<hash>.infer`) so that a query over
/// unchanged files samples none of them again (with `--infer-rows all`, reads none of their
/// records): named by the file's identity and the inference options.
#[derive(Serialize, Deserialize)]
struct KeptInference {
    key: String,
    source: Source,
    inference: crate::infer::FileInference,
}

/// The name and key of the kept inference of `source` under `opts`.
fn inference_key(cache: &CacheOptions, source: &Source, opts: &crate::infer::InferOptions) -> (PathBuf, String) {
    // The threads inference uses do not change what it sees.
    let opts = crate::infer::InferOptions { threads: 1, ..*opts };
    let key = format!("mpq {} infer {FORMAT_VERSION} {opts:?} {source:?}", env!("CARGO_PKG_VERSION"));
    let name = format!("{:032x}.infer", fnv128(&[key.as_bytes()]));
    (entries_dir(cache).join(name), key)
}

/// The kept inference of the local file `path` as it is now, if any.
pub(crate) fn inference_get(
    cache: &CacheOptions,
    path: &Path,
    opts: &crate::infer::InferOptions,
) -> Option<crate::infer::FileInference> {
    let source = Source::stat(path).ok()?;
    let (file, key) = inference_key(cache, &source, opts);
    let kept: KeptInference = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    (kept.key == key && kept.source == source).then_some(kept.inference)
}

/// Keeps what inference saw in the local file `path` (not when the file changed within
/// [`SETTLE`], nor when the cache cannot be written: inference is then simply redone).
pub(crate) fn inference_put(
    cache: &CacheOptions,
    path: &Path,
    opts: &crate::infer::InferOptions,
    inference: &crate::infer::FileInference,
) {
    let Ok(source) = Source::stat(path) else { return };
    if !source.settled() || create(cache).is_err() {
        return;
    }
    let (file, key) = inference_key(cache, &source, opts);
    let Ok(text) = serde_json::to_vec(&KeptInference { key, source, inference: inference.clone() }) else { return };
    let temp = file.with_file_name(format!(
        ".{}.{}",
        file.file_name().and_then(|n| n.to_str()).unwrap_or("infer"),
        std::process::id()
    ));
    if std::fs::write(&temp, text).and_then(|()| std::fs::rename(&temp, &file)).is_err() {
        let _ = std::fs::remove_file(&temp);
    }
}

/// What `mpq cache info` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheInfo {
    /// The cache directory.
    pub dir: PathBuf,
    /// Entries (cached files).
    pub entries: u64,
    /// Bytes the entries hold.
    pub bytes: u64,
    /// Times entries were used.
    pub hits: u64,
    /// Files found not cacheable (read from their source every time).
    pub skipped: u64,
    /// The size bound.
    pub max_bytes: u64,
    /// The last line of the fill log (what the last background fill did).
    pub last_fill: Option<String>,
}

/// The log background fills append to, in a cache's entries directory.
pub fn fill_log_in(entries: &Path) -> PathBuf {
    entries.join("fill.log")
}

/// The files of the entries directory, by entry name, with the extensions present.
fn listing(cache: &CacheOptions) -> io::Result<Vec<(String, std::fs::DirEntry)>> {
    let dir = entries_dir(cache);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        if let Some(name) = e.file_name().to_str() {
            out.push((name.to_string(), e));
        }
    }
    Ok(out)
}

/// Counts the cache's entries, bytes and hits.
pub fn info(cache: &CacheOptions) -> io::Result<CacheInfo> {
    let mut info = CacheInfo { dir: cache.dir.clone(), max_bytes: cache.max_bytes, ..Default::default() };
    for (name, e) in listing(cache)? {
        let len = e.metadata().map(|m| m.len()).unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        match name.rsplit_once('.').map(|(_, ext)| ext) {
            Some("json") => info.entries += 1,
            Some("parquet") => info.bytes += len,
            Some("hits") => info.hits += len,
            Some("skip") => info.skipped += 1,
            _ => {}
        }
    }
    let log = std::fs::read_to_string(fill_log_in(&entries_dir(cache))).unwrap_or_default();
    info.last_fill = log.lines().last().map(str::to_string);
    Ok(info)
}

/// Removes every entry (and everything else of this format version); returns how many
/// entries there were.
pub fn clear(cache: &CacheOptions) -> io::Result<u64> {
    let n = info(cache)?.entries;
    match std::fs::remove_dir_all(entries_dir(cache)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(n),
    }
}

/// What [`gc`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcSummary {
    /// Entries and markers whose source changed or is gone.
    pub stale: u64,
    /// Kept inferences whose source changed or is gone.
    pub inferences: u64,
    /// Leftovers of fills that did not finish (a killed process).
    pub leftovers: u64,
    /// Entries evicted to keep within the size bound.
    pub evicted: u64,
}

/// Removes entries whose source disappeared or changed other than by growing, markers of
/// sources that changed, leftovers of interrupted fills, and the least recently used entries
/// beyond the size bound.
pub fn gc(cache: &CacheOptions) -> io::Result<GcSummary> {
    let mut s = GcSummary::default();
    let dir = entries_dir(cache);
    for (name, e) in listing(cache)? {
        let path = e.path();
        if name.starts_with('.') {
            // A fill's temporary: left behind only by a process that died (live fills take
            // seconds, not an hour).
            let old = e.metadata().and_then(|m| m.modified()).map(|t| t.elapsed().unwrap_or_default());
            if old.is_ok_and(|age| age > Duration::from_secs(3600)) {
                let _ = std::fs::remove_file(&path);
                s.leftovers += 1;
            }
            continue;
        }
        let Some((stem, ext)) = name.rsplit_once('.') else { continue };
        let bytes = || std::fs::read(&path).ok();
        let current = match ext {
            "json" => bytes()
                .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
                .is_some_and(|m| Source::stat(&m.source.path).is_ok_and(|now| now == m.source || m.extended_by(&now))),
            "skip" => bytes()
                .and_then(|b| serde_json::from_slice::<Source>(&b).ok())
                .is_some_and(|src| Source::stat(&src.path).is_ok_and(|now| now == src)),
            "infer" => bytes()
                .and_then(|b| serde_json::from_slice::<KeptInference>(&b).ok())
                .is_some_and(|k| Source::stat(&k.source.path).is_ok_and(|now| now == k.source)),
            _ => continue,
        };
        if !current {
            match ext {
                "json" => remove_entry(&dir, stem),
                _ => drop(std::fs::remove_file(&path)),
            }
            match ext {
                "infer" => s.inferences += 1,
                _ => s.stale += 1,
            }
        }
    }
    s.evicted = evict(cache)?;
    Ok(s)
}

/// Removes the least recently used entries until the rest fit the size bound; returns how
/// many were removed.
pub(crate) fn evict(cache: &CacheOptions) -> io::Result<u64> {
    let dir = entries_dir(cache);
    let mut sizes: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut used = Vec::new();
    for (name, e) in listing(cache)? {
        if name.starts_with('.') {
            continue;
        }
        let Some((stem, ext)) = name.split_once('.') else { continue };
        let Ok(m) = e.metadata() else { continue };
        match ext.rsplit_once('.').map_or(ext, |(_, last)| last) {
            "parquet" => *sizes.entry(stem.to_string()).or_default() += m.len(),
            "json" if ext == "json" => used.push((m.modified().unwrap_or(UNIX_EPOCH), stem.to_string())),
            _ => {}
        }
    }
    let mut total: u64 = sizes.values().sum();
    used.sort();
    let mut removed = 0;
    for (_, stem) in used {
        if total <= cache.max_bytes {
            break;
        }
        remove_entry(&dir, &stem);
        total -= sizes.get(&stem).copied().unwrap_or_default();
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Schema;
    use std::collections::HashMap;

    #[test]
    fn the_hash_is_fnv1a_and_separates_parts() {
        // Entry names must not change between builds or platforms: FNV-1a 128 of "a" is a
        // published test vector (the separator byte follows it here).
        let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
        h = (h ^ b'a' as u128).wrapping_mul(0x0000000001000000000000000000013B);
        assert_eq!(h, 0xd228cb696f1a8caf78912b704e4a8964);
        h = (h ^ 0xff).wrapping_mul(0x0000000001000000000000000000013B);
        assert_eq!(fnv128(&[b"a"]), h);
        assert_ne!(fnv128(&[b"ab", b"c"]), fnv128(&[b"a", b"bc"]));
    }

    #[test]
    fn the_schema_fingerprint_does_not_depend_on_metadata_order() {
        let meta = || -> HashMap<String, String> { (1..=6).map(|i| (format!("k{i}"), format!("v{i}"))).collect() };
        let schema = |m: &HashMap<String, String>| -> SchemaRef {
            let inner = Field::new("x", DataType::Binary, true).with_metadata(m.clone());
            let s = DataType::Struct(vec![inner].into());
            Arc::new(Schema::new(vec![Field::new("s", s, true).with_metadata(m.clone())]))
        };
        // Each map has its own random order: find two that list their pairs differently.
        let a = meta();
        let b = (0..1000).map(|_| meta()).find(|b| format!("{b:?}") != format!("{a:?}")).expect("another order");
        assert_ne!(format!("{:?}", schema(&a)), format!("{:?}", schema(&b)));
        assert_eq!(fingerprint(&schema(&a)), fingerprint(&schema(&b)));
        assert!(fingerprint(&schema(&a)).contains("(\"/s/x\", \"k1\", \"v1\")"));
    }

    #[test]
    fn keys_change_with_schema_options_and_source() {
        let dir = std::env::temp_dir().join(format!("mpq-cache-keys-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = dir.join("a.msgpack");
        std::fs::write(&file, b"\x80").expect("write");
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Int64, true)]));
        let opts = MsgpackReadOptions::default().cache(Some(CacheOptions::new(dir.join("c"))));
        let scope = Scope::of(&schema, &opts).expect("cacheable");
        let (entry, source) = scope.entry_of(&file).expect("stat");
        // Options that do not change rows keep the key; those that do change it.
        let same = Scope::of(&schema, &opts.clone().batch_size(7).threads(1)).expect("cacheable");
        assert_eq!(same.entry(&source).name, entry.name);
        let other = Scope::of(&schema, &opts.clone().max_depth(9)).expect("cacheable");
        assert_ne!(other.entry(&source).name, entry.name);
        let wider: SchemaRef = Arc::new(Schema::new(vec![Field::new("a", DataType::Utf8, true)]));
        assert_ne!(Scope::of(&wider, &opts).expect("cacheable").entry(&source).name, entry.name);
        std::fs::write(&file, b"\x81\xa1a\x01").expect("rewrite");
        let (grown, _) = scope.entry_of(&file).expect("stat");
        assert_eq!(grown.name, entry.name, "a file keeps its entry (its lineage) as it changes");
        assert_ne!(grown.skip, entry.skip, "its size and times are in what a marker and a hit compare");
        assert_ne!(grown.source, entry.source);
        let drop = Scope::of(&schema, &opts.clone().on_error(crate::options::OnError::Drop)).expect("cacheable");
        assert_eq!(drop.entry(&source).name, entry.name, "clean files read the same under every policy");
        assert!(Scope::of(&schema, &MsgpackReadOptions::default()).is_none(), "off unless asked for");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
