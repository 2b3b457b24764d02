//! Filling the cache after a query: every file the query read from its source (a miss) is
//! scanned once more, whole and with every column, into a Parquet entry. This is a separate
//! scan, not a copy of the query's batches, because the query decoded only what it needed and
//! its summary must stay what it is without the cache.
//!
//! One fill at a time per entry (a lock file, [`File::try_lock`]; a busy entry is left to its
//! filler); the data is written under a temporary name, synced, and renamed into place
//! without replacing; the entry's description is in place before its data. A file that met
//! anything a query's summary depends on, or changed meanwhile, is not cached.

use crate::convert::staging::Staged;
use crate::error::{Error, Result, io_at};
use crate::options::CacheOptions;
use crate::options::MsgpackReadOptions;
use crate::reader::scan::{ScanRequest, scan_input};
use crate::report::CacheMiss;
use crate::report::{ReportData, ScanReport};
use crate::store::{self, Meta, Scope, Source};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// A miss with its scope.
struct Miss {
    path: PathBuf,
    scope: Scope,
}

/// What [`fill`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FillSummary {
    /// Files added to the cache.
    pub added: u64,
    /// Of those, files that had grown, of which only the new tail was scanned (another part).
    pub tails: u64,
    /// Bytes of the entries added.
    pub bytes: u64,
    /// Files found not cacheable (marked, so later queries do not try again), and files too
    /// small for their table's width (under 256 bytes per leaf column).
    pub not_cacheable: u64,
    /// Files left alone: changed too recently, being filled by another process, or already
    /// filled.
    pub left: u64,
    /// Seconds the fill took.
    pub seconds: f64,
    /// The first failure (a full disk, a read-only directory): the queries answered from the
    /// sources all the same.
    pub warning: Option<String>,
}

enum Outcome {
    /// Bytes written, and whether only a new tail was.
    Added(u64, bool),
    NotCacheable,
    Left,
}

/// Adds every missed file to its cache, a few at a time, then evicts beyond the size bound.
/// Never fails: a file that cannot be cached is read from its source next time too, and the
/// first failure becomes [`FillSummary::warning`].
pub async fn fill(misses: Vec<CacheMiss>) -> FillSummary {
    let started = Instant::now();
    let mut summary = FillSummary::default();
    let misses = scoped(misses);
    let store: Arc<dyn ObjectStore> = Arc::new(object_store::local::LocalFileSystem::new());
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let outcomes: Vec<(Miss, Result<Outcome>)> = futures::stream::iter(misses)
        .map(|m| {
            let store = Arc::clone(&store);
            async move {
                let r = fill_one(&store, &m).await;
                (m, r)
            }
        })
        .buffer_unordered(workers)
        .collect()
        .await;
    let mut caches: Vec<CacheOptions> = Vec::new();
    for (m, r) in outcomes {
        match r {
            Ok(Outcome::Added(bytes, tail)) => {
                summary.added += 1;
                summary.tails += tail as u64;
                summary.bytes += bytes;
            }
            Ok(Outcome::NotCacheable) => summary.not_cacheable += 1,
            Ok(Outcome::Left) => summary.left += 1,
            Err(e) => {
                summary.left += 1;
                summary.warning.get_or_insert_with(|| format!("the cache in {}: {e}", m.scope.cache.dir.display()));
            }
        }
        if !caches.contains(&m.scope.cache) {
            caches.push(m.scope.cache.clone());
        }
    }
    for c in caches {
        if let Err(e) = store::evict(&c) {
            summary.warning.get_or_insert_with(|| format!("the cache in {}: {e}", c.dir.display()));
        }
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary
}

/// An error of the object store or the Parquet writer, as text.
fn other(e: impl std::fmt::Display) -> Error {
    Error::Output(e.to_string())
}

/// Each miss once (a file split across cores is missed once per byte range), with its scope;
/// misses whose options ask for no cache are dropped.
fn scoped(misses: Vec<CacheMiss>) -> Vec<Miss> {
    let mut scopes: Vec<Scope> = Vec::new();
    let mut out: Vec<Miss> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for m in misses {
        let same = |s: &&Scope| Arc::ptr_eq(s.schema(), &m.schema) && s.options == m.options;
        let scope = match scopes.iter().find(same) {
            Some(s) => s.clone(),
            None => match Scope::of(&m.schema, &m.options) {
                Some(s) => {
                    scopes.push(s.clone());
                    s
                }
                None => continue,
            },
        };
        if seen.insert((m.path.clone(), scope.hash, scope.cache.dir.clone())) {
            out.push(Miss { path: m.path, scope });
        }
    }
    out
}

/// Fills one entry (see the module's description): a file that grew since its entry was
/// filled, its old bytes unchanged, has only its new tail scanned, into another part.
async fn fill_one(store: &Arc<dyn ObjectStore>, m: &Miss) -> Result<Outcome> {
    store::create(&m.scope.cache).map_err(io_at(&m.scope.cache.dir))?;
    let Some((entry, source)) = m.scope.entry_of(&m.path) else { return Ok(Outcome::Left) };
    if entry.covers() || entry.skipped() || !source.settled() {
        return Ok(Outcome::Left);
    }
    if source.size < MIN_BYTES_PER_COLUMN * leaf_columns(m.scope.schema().fields()) {
        return Ok(Outcome::NotCacheable);
    }
    let lock_path = entry.path("lock");
    let lock = File::options().create(true).truncate(false).write(true).open(&lock_path).map_err(io_at(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Outcome::Left),
        Err(std::fs::TryLockError::Error(e)) => return Err(io_at(&lock_path)(e)),
    }
    if entry.covers() {
        return Ok(Outcome::Left);
    }
    let old =
        entry.meta().filter(|old| old.extended_by(&source) && old.parts.iter().all(|p| entry.file(&p.file).exists()));
    // Problems are counted, not fatal: a file that met any is not cached, whatever the
    // query's policies.
    let opts = MsgpackReadOptions {
        cache: None,
        framing: crate::options::FramingPolicy::Truncate,
        on_error: crate::options::OnError::Null,
        max_errors: None,
        batch_bytes: crate::convert::WRITE_BATCH_BYTES,
        ..m.scope.options.clone()
    };
    let location = object_store::path::Path::from_filesystem_path(&source.path).map_err(other)?;
    let meta = store.head(&location).await.map_err(other)?;
    let input = crate::datasource::read_object(store, &meta, &opts).await?;
    let appendable =
        !input.transformed() && !crate::framing::seqfile::reads_as_seqfile(&input.bytes.bytes, opts.layout);
    let tail = old.as_ref().filter(|_| appendable).map(|o| o.source.size as usize..source.size as usize);
    // A whole fill starts a new generation of parts: readers of the old description still
    // find the old parts until it is replaced. A tail is the next part of the generation.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    let (mut parts, generation) = match (&tail, &old) {
        (Some(_), Some(o)) => (o.parts.clone(), o.parts[0].file.split('.').nth(1).unwrap_or_default().to_string()),
        _ => (Vec::new(), format!("{nanos:x}")),
    };
    let file = format!("{}.{generation}.{}.parquet", entry.name, parts.len());
    // Written under a hidden temporary name, removed unless committed (see `Staged`).
    let staged = Staged::new(&entry.file(&file), false, false)?;
    let temp = staged.temp().to_path_buf();
    let report = match tail.is_none() && source.size >= SPLIT_BYTES {
        true => {
            drop(input);
            write_split(&source.path, &m.scope, &opts, &temp).await?
        }
        false => {
            let (scope, shown, range) = (m.scope.clone(), m.path.display().to_string(), tail.clone());
            tokio::task::spawn_blocking(move || write_entry(input, &shown, &scope, &opts, range, &temp))
                .await
                .map_err(other)??
        }
    };
    if !cacheable(&report) {
        write_json(&entry.skip_path(), &source)?;
        return Ok(Outcome::NotCacheable);
    }
    if Source::stat(&m.path).ok().as_ref() != Some(&source) {
        return Ok(Outcome::Left);
    }
    let bytes = staged.commit()?;
    parts.push(store::Part { file, records: report.records, bytes: report.bytes });
    let description = Meta {
        key: entry.key.clone(),
        window: store::window(&source.path, source.size).map_err(io_at(&source.path))?,
        source,
        parts,
        appendable,
    };
    write_json(&entry.path("json"), &description)?;
    // The old generation's parts, once nobody is sent to them.
    if let (None, Some(o)) = (&tail, &old) {
        for p in &o.parts {
            let _ = std::fs::remove_file(entry.file(&p.file));
        }
    }
    Ok(Outcome::Added(bytes, tail.is_some()))
}

/// Writes `value` as JSON to `path`, replacing what is there atomically.
fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    let staged = Staged::new(path, false, true)?;
    std::fs::write(staged.temp(), serde_json::to_vec(value).map_err(other)?).map_err(io_at(path))?;
    staged.commit()?;
    Ok(())
}

/// True when nothing met in the file depends on the columns a query reads: its summary is
/// then the same for every query.
fn cacheable(r: &ReportData) -> bool {
    r.problems == 0 && r.duplicate_keys == 0 && r.value_spills == 0 && r.notes.is_empty()
}

/// The codec of entries: LZ4 reads back several times faster than zstd (whose decompression
/// was a sixth of a warm group-by's time) for about a fifth more bytes.
fn compression() -> Compression {
    Compression::LZ4_RAW
}

/// A file smaller than this many bytes per leaf column of its table is not cached: a Parquet
/// file costs about 150 bytes of footer per column chunk, which for a small file of a wide
/// table is more to read than the file itself (and small files decode quickly anyway).
const MIN_BYTES_PER_COLUMN: u64 = 256;

/// The leaf columns a Parquet file of these fields has.
fn leaf_columns(fields: &datafusion::arrow::datatypes::Fields) -> u64 {
    use datafusion::arrow::datatypes::DataType;
    fields
        .iter()
        .map(|f| match f.data_type() {
            DataType::Struct(children) => leaf_columns(children),
            DataType::List(c) | DataType::LargeList(c) | DataType::FixedSizeList(c, _) | DataType::Map(c, _) => {
                leaf_columns(&vec![std::sync::Arc::clone(c)].into())
            }
            _ => 1,
        })
        .sum()
}

/// Files at least this large are filled by a scan split over every core (DataFusion's, with
/// its parallel Parquet writer); smaller ones one per core, by a plain scan and writer.
const SPLIT_BYTES: u64 = 32 << 20;

/// Writes the entry of a large file at `temp` through DataFusion: the file's byte ranges
/// decoded in parallel, row groups encoded in parallel (as `mpq convert` writes, variant
/// columns as their MessagePack bytes); returns what the scan met.
async fn write_split(path: &Path, scope: &Scope, opts: &MsgpackReadOptions, temp: &Path) -> Result<ReportData> {
    use crate::convert::{Compression as Codec, VariantOutput, WriteFormat, WriteOptions};
    use crate::datasource::SessionContextExt;
    use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
    let ctx = crate::session::session(opts, 0)?;
    let url = ListingTableUrl::parse(path.display().to_string())?;
    let format = crate::datasource::MsgpackFormat::new(opts.clone()).with_report(ctx.msgpack_report());
    let listing = ListingOptions::new(Arc::new(format)).with_file_extension("");
    let config = ListingTableConfig::new(url).with_listing_options(listing).with_schema(Arc::clone(scope.schema()));
    let plan = ctx.read_table(Arc::new(ListingTable::try_new(config)?))?.into_unoptimized_plan();
    let write = WriteOptions {
        format: WriteFormat::Parquet,
        compression: Some(Codec::Lz4),
        row_group_size: None,
        partition_by: Vec::new(),
        variant: VariantOutput::Msgpack,
        timestamp_unit: None,
        force: false,
        directory: false,
        target: None,
    };
    crate::convert::write(&ctx, plan, temp, &write).await?;
    Ok(ctx.msgpack_report().snapshot())
}

/// Scans `input` (whole, or the records that start in `range`) with every column of the
/// scope's schema into a Parquet file at `temp` (synced when committed); returns what the
/// scan met.
fn write_entry(
    input: crate::input::Input,
    shown: &str,
    scope: &Scope,
    opts: &MsgpackReadOptions,
    range: Option<std::ops::Range<usize>>,
    temp: &Path,
) -> Result<ReportData> {
    let report = ScanReport::new();
    let schema = scope.schema();
    let projection: Vec<usize> = (0..schema.fields().len()).collect();
    let request = ScanRequest { path: shown, schema, projection: &projection, filter: None, range, limit: None };
    let batches = scan_input(input, request, opts, &report)?;
    let file = File::create(temp).map_err(io_at(temp))?;
    let props = WriterProperties::builder().set_compression(compression()).build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(schema), Some(props)).map_err(other)?;
    for batch in batches {
        writer.write(&batch?).map_err(other)?;
    }
    writer.close().map_err(other)?;
    Ok(report.snapshot())
}

/// The schema metadata key of a fill manifest that holds the options and paths.
const MANIFEST_KEY: &str = "mpq.cache.fill";

/// What a fill manifest says besides the schema.
#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    options: MsgpackReadOptions,
    paths: Vec<PathBuf>,
}

/// Writes the misses down for a fill by another process ([`read_manifest`], `mpq cache fill
/// --manifest`): one manifest per table scope, a hidden file in its cache directory (an Arrow
/// IPC stream of the table's schema, with the options and paths in its metadata). Returns the
/// manifests written.
pub fn write_manifests(misses: &[CacheMiss]) -> Result<Vec<PathBuf>> {
    let misses = scoped(misses.to_vec());
    let mut scopes: Vec<(&Scope, Vec<PathBuf>)> = Vec::new();
    for m in &misses {
        match scopes.iter_mut().find(|(s, _)| s.hash == m.scope.hash && s.cache == m.scope.cache) {
            Some((_, paths)) if !paths.contains(&m.path) => paths.push(m.path.clone()),
            Some(_) => {}
            None => scopes.push((&m.scope, vec![m.path.clone()])),
        }
    }
    let mut written = Vec::new();
    for (scope, paths) in scopes {
        let dir = store::create(&scope.cache).map_err(io_at(&scope.cache.dir))?;
        let text = serde_json::to_string(&Manifest { options: scope.options.clone(), paths }).map_err(other)?;
        let mut metadata = scope.schema().metadata().clone();
        metadata.insert(MANIFEST_KEY.to_string(), text);
        let schema = scope.schema().as_ref().clone().with_metadata(metadata);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let path = dir.join(format!(".fill-{}-{nanos}.arrow", std::process::id()));
        let file = File::create(&path).map_err(io_at(&path))?;
        let done = datafusion::arrow::ipc::writer::StreamWriter::try_new(file, &schema)
            .and_then(|mut w| w.finish().map(|()| w.into_inner()))
            .map_err(Error::from)
            .and_then(|f| f?.sync_all().map_err(io_at(&path)));
        if let Err(e) = done {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        written.push(path);
    }
    Ok(written)
}

/// The misses a manifest of [`write_manifests`] holds; the manifest is removed.
pub fn read_manifest(path: &Path) -> Result<Vec<CacheMiss>> {
    let file = File::open(path).map_err(io_at(path))?;
    let reader = datafusion::arrow::ipc::reader::StreamReader::try_new(file, None)?;
    let _ = std::fs::remove_file(path);
    let mut metadata = reader.schema().metadata().clone();
    let text = metadata
        .remove(MANIFEST_KEY)
        .ok_or_else(|| Error::Input(format!("{}: not a fill manifest", path.display())))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(other)?;
    let schema = Arc::new(reader.schema().as_ref().clone().with_metadata(metadata));
    let options = manifest.options;
    Ok(manifest
        .paths
        .into_iter()
        .map(|path| CacheMiss { path, schema: Arc::clone(&schema), options: options.clone() })
        .collect())
}
