//! [`MsgpackFormat`] (planning: schema inference over every input file, plan creation) and
//! [`MsgpackFormatFactory`] (turns `OPTIONS(...)` of `CREATE EXTERNAL TABLE ... STORED AS
//! MSGPACK` into a format).

use super::source::MsgpackSource;
use crate::infer::{CACHE_MIN_BYTES, CacheKey, RunInference, TableInference, cache_get, cache_put, infer_slice};
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{GetExt, Result, Statistics};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_plan::ExecutionPlan;
use object_store::{GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt};
use std::collections::HashMap;
use std::sync::Arc;

/// The file extension of MessagePack tables (`STORED AS MSGPACK` and `'path/*.msgpack'`).
pub const MSGPACK_EXTENSION: &str = "msgpack";

/// Creates [`MsgpackFormat`]s, with options from `OPTIONS(...)`: any key of
/// [`crate::options::keys`] (`infer_rows`, `max_depth`, `layout`, `framing`, ...), with or
/// without the `format.` prefix DataFusion adds. Every format it creates adds to its report.
#[derive(Debug, Default)]
pub struct MsgpackFormatFactory {
    /// Options every created format starts from.
    pub options: MsgpackReadOptions,
    /// The report the created formats' scans add to.
    pub report: ScanReport,
}

impl MsgpackFormatFactory {
    /// A factory whose formats start from `options` and add to `report`.
    pub fn new(options: MsgpackReadOptions, report: ScanReport) -> Self {
        MsgpackFormatFactory { options, report }
    }
}

/// Applies `OPTIONS(...)` key/value pairs to read options (see [`crate::options::keys`]).
pub fn apply_options(o: MsgpackReadOptions, kv: &HashMap<String, String>) -> Result<MsgpackReadOptions> {
    // Sorted: which of two bad keys is named must not depend on the map's order.
    let mut pairs: Vec<(&str, &str)> = kv.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    pairs.sort_unstable();
    Ok(o.with_pairs(pairs)?)
}

impl FileFormatFactory for MsgpackFormatFactory {
    fn create(&self, _state: &dyn Session, format_options: &HashMap<String, String>) -> Result<Arc<dyn FileFormat>> {
        let options = apply_options(self.options.clone(), format_options)?;
        Ok(Arc::new(MsgpackFormat::new(options).with_report(self.report.clone())))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(MsgpackFormat::new(self.options.clone()).with_report(self.report.clone()))
    }
}

impl GetExt for MsgpackFormatFactory {
    fn get_ext(&self) -> String {
        MSGPACK_EXTENSION.to_string()
    }
}

/// The MessagePack file format: plain options, and the report its scans add to beside them.
#[derive(Debug, Default)]
pub struct MsgpackFormat {
    options: Arc<MsgpackReadOptions>,
    report: ScanReport,
}

impl MsgpackFormat {
    /// A format with these options (adding to a fresh report; see [`MsgpackFormat::with_report`]).
    pub fn new(options: MsgpackReadOptions) -> Self {
        MsgpackFormat { options: Arc::new(options), report: ScanReport::new() }
    }

    /// The format with its scans adding to `report`.
    pub fn with_report(mut self, report: ScanReport) -> Self {
        self.report = report;
        self
    }

    /// The options.
    pub fn options(&self) -> &MsgpackReadOptions {
        &self.options
    }

    /// The report the scans add to.
    pub fn report(&self) -> &ScanReport {
        &self.report
    }

    /// Infers what every object holds (per file, through the cache) and merges them all,
    /// unlike DataFusion's listing inference, which looks at the first path only.
    pub async fn infer_table(&self, store: &Arc<dyn ObjectStore>, objects: &[ObjectMeta]) -> Result<TableInference> {
        let mut table = self.infer_merging(store, objects).await?.finish();
        table.cap_fields(self.options.max_struct_fields);
        Ok(table)
    }

    /// What the objects hold, merged in their order (`.meta` sidecars left out) as a merge in
    /// progress ([`TableInference::finish`] ends it): each run of objects is merged as it is
    /// inferred, and only each object's summary is kept, so memory does not grow with every
    /// object's lattice (thousands of small files).
    pub(crate) async fn infer_merging(
        &self,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> Result<TableInference> {
        use futures::StreamExt;
        let opts = Arc::new(self.options.infer_options());
        let results: Vec<Result<TableInference>> = match objects.first().is_some_and(|m| local_path(store, m).is_some())
        {
            // Local files are read directly and inferred where their future runs, so a stream
            // of them would be a loop on one core: runs of files go to Tokio's workers, every
            // core inferring its own (thousands of small files are the common case).
            true => {
                let run = objects.len().div_ceil(opts.threads.max(1) * 4).max(1);
                let tasks = objects.chunks(run).map(|run| {
                    let (store, options, opts, run) =
                        (Arc::clone(store), Arc::clone(&self.options), Arc::clone(&opts), run.to_vec());
                    tokio::spawn(async move {
                        let mut merged = RunInference::default();
                        for meta in run {
                            if observed_into(&options, &meta) {
                                infer_object_into(&options, &store, meta, &opts, &mut merged).await?;
                            } else if let Some((name, fi)) = infer_object(&options, &store, meta, &opts).await? {
                                merged.add(name, &fi);
                            }
                        }
                        Ok(merged.into_merged())
                    })
                });
                let joined = futures::future::join_all(tasks.collect::<Vec<_>>()).await;
                joined
                    .into_iter()
                    .map(|j| j.unwrap_or_else(|e| Err(datafusion::common::DataFusionError::ExecutionJoin(Box::new(e)))))
                    .collect()
            }
            // Objects of a remote store are read a few at a time: with thousands of small
            // objects the time is the wait for each read, not the inference.
            false => {
                let mut inferred = futures::stream::iter(objects.to_vec())
                    .map(|meta| infer_object(&self.options, store, meta, &opts))
                    .buffered(INFER_CONCURRENCY);
                let mut merged = TableInference::default();
                while let Some(one) = inferred.next().await {
                    merge_into(&mut merged, one?);
                }
                vec![Ok(merged)]
            }
        };
        let mut all = TableInference::default();
        for run in results {
            all.append(run?);
        }
        Ok(all)
    }
}

/// Adds one object's inference to a merge in progress, keeping only its summary.
fn merge_into(merged: &mut TableInference, one: Inferred) {
    if let Some((name, fi)) = one {
        merged.add_input(name, &fi);
    }
}

/// True when an object's inference is kept nowhere (not in the process's cache, not in the
/// columnar cache's), so that it can be observed straight into a merge in progress rather
/// than into lattices of its own ([`TableInference::observe`]); not for names that may be a
/// `.meta` sidecar, which are dropped after inference.
fn observed_into(options: &MsgpackReadOptions, meta: &ObjectMeta) -> bool {
    options.cache.is_none()
        && meta.size < CACHE_MIN_BYTES
        && !crate::input::is_sidecar_name(meta.location.filename().unwrap_or_default())
}

/// One local object inferred straight into `merged` (see [`observed_into`]): what
/// [`merge_into`] of its [`infer_object`] concludes.
async fn infer_object_into(
    options: &MsgpackReadOptions,
    store: &Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    opts: &crate::infer::InferOptions,
    merged: &mut RunInference,
) -> Result<()> {
    let shown = shown_path(store, &meta);
    let fi = read_and_infer(options, store, &meta, &shown, |sample| merged.observe(sample, &shown, opts)).await?;
    merged.add_observed(shown, &fi);
    Ok(())
}

/// Reads an object and infers its sample with `infer`, completed with what reading it taught:
/// whether the sample was the whole input, a tag from a `.meta` sidecar, and the steps that
/// prepared the bytes.
async fn read_and_infer(
    options: &MsgpackReadOptions,
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    shown: &str,
    infer: impl FnOnce(&bytes::Bytes) -> crate::infer::FileInference,
) -> Result<crate::infer::FileInference> {
    let input = read_shown(store, meta, shown, options).await?;
    let (sample, whole) = input.sample_bytes(shown, options)?;
    let mut fi = infer(&sample);
    input.bytes.check_intact(shown)?;
    fi.summary.complete &= whole;
    fi.summary.tag |= input.meta.as_ref().is_some_and(|m| m.tag.is_some());
    for step in &input.steps {
        fi.summary.detection.evidence.push_str("; ");
        fi.summary.detection.evidence.push_str(step);
    }
    Ok(fi)
}

/// One object's inference: its name in messages and what it holds; `None` for a sidecar.
type Inferred = Option<(String, Arc<crate::infer::FileInference>)>;

/// One object's inference (through the cache); `None` for a `.meta` sidecar, which is read
/// with its chunk rather than as an input.
async fn infer_object(
    options: &MsgpackReadOptions,
    store: &Arc<dyn ObjectStore>,
    meta: ObjectMeta,
    opts: &crate::infer::InferOptions,
) -> Result<Inferred> {
    let shown = shown_path(store, &meta);
    let mtime = meta.last_modified.timestamp_nanos_opt().unwrap_or_default() as i128;
    // Only inferences worth keeping are looked for in (and put into) the process's cache.
    let key = (meta.size >= CACHE_MIN_BYTES).then(|| CacheKey::new(meta.location.as_ref(), meta.size, mtime, opts));
    // The columnar cache keeps inferences too (see `store::inference_get`).
    let kept = options.cache.as_ref().and_then(|c| Some((c, local_path(store, &meta)?)));
    let from_disk = || kept.as_ref().and_then(|(c, p)| crate::store::inference_get(c, p, opts)).map(Arc::new);
    let fi = match key.as_ref().and_then(cache_get).or_else(from_disk) {
        Some(hit) => hit,
        None => {
            let mut fi = read_and_infer(options, store, &meta, &shown, |s| infer_slice(s, &shown, opts)).await?;
            if let Some((c, p)) = &kept {
                crate::store::inference_put(c, p, opts, &fi);
            }
            match key {
                Some(key) => {
                    // From here on only merged from, and kept: without its key indexes.
                    fi.root.compact();
                    fi.values.compact();
                    fi.time.compact();
                    let fi = Arc::new(fi);
                    cache_put(key, Arc::clone(&fi));
                    fi
                }
                None => Arc::new(fi),
            }
        }
    };
    if fi.summary.records == 0 && crate::input::is_sidecar_name(meta.location.filename().unwrap_or_default()) {
        return Ok(None);
    }
    Ok(Some((shown, fi)))
}

/// How messages name an object: its local path for the local store (no lookup needed),
/// else as [`display_path`] shows it.
pub(crate) fn shown_path(store: &Arc<dyn ObjectStore>, meta: &ObjectMeta) -> String {
    // The text itself (showing a `PathBuf` would check it as UTF-8 again).
    local_text(store, meta).unwrap_or_else(|| display_path(meta.location.as_ref()))
}

/// The local path of `meta` when `store` is the local file system rooted at `/` (DataFusion's
/// store for `file://` URLs), as it is or seen through [`super::Visible`].
pub(crate) fn local_path(store: &Arc<dyn ObjectStore>, meta: &ObjectMeta) -> Option<std::path::PathBuf> {
    local_text(store, meta).map(std::path::PathBuf::from)
}

/// [`local_path`] as text.
fn local_text(store: &Arc<dyn ObjectStore>, meta: &ObjectMeta) -> Option<String> {
    super::Visible::is_local(store.as_ref()).then(|| format!("/{}", meta.location))
}

/// How many objects inference reads at once.
const INFER_CONCURRENCY: usize = 16;

/// Object-store paths have no leading slash; local files read better with one.
pub(crate) fn display_path(p: &str) -> String {
    if std::path::Path::new(&format!("/{p}")).exists() { format!("/{p}") } else { p.to_string() }
}

/// The bytes of an object, ready for framing ([`crate::input::prepare`]): memory-mapped for
/// local files (per the mmap policy), fetched otherwise; with a buffer chunk's `.meta`
/// sidecar read from beside it.
pub async fn read_object(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    opts: &MsgpackReadOptions,
) -> Result<crate::input::Input> {
    read_shown(store, meta, &shown_path(store, meta), opts).await
}

/// [`read_object`] of an object messages name `shown` (its [`shown_path`], which the caller
/// has already made: with thousands of small files, writing it again for every use was a
/// twentieth of the time).
pub(crate) async fn read_shown(
    store: &Arc<dyn ObjectStore>,
    meta: &ObjectMeta,
    shown: &str,
    opts: &MsgpackReadOptions,
) -> Result<crate::input::Input> {
    let bytes = match super::Visible::is_local(store.as_ref()) {
        // Opened here rather than through the store, whose every call is a hand-off to
        // Tokio's blocking pool: with thousands of small files those hand-offs were the time.
        // A local object's shown path is its path.
        true => crate::input::source::listed_file_bytes(std::path::Path::new(shown), opts.mmap, meta.size)?,
        false => {
            let got = store.get(&meta.location).await?;
            match got.payload {
                GetResultPayload::File(file, path) => crate::input::source::open_file_bytes(file, &path, opts.mmap)?,
                GetResultPayload::Stream(_) => crate::input::source::FileBytes::in_memory(got.bytes().await?),
            }
        }
    };
    let mut input = crate::input::prepare(bytes, shown, opts)?;
    let name = meta.location.filename().unwrap_or_default();
    if crate::input::is_chunk_name(name) && !input.bytes.bytes.is_empty() {
        let sidecar = object_store::path::Path::from(format!("{}.meta", meta.location));
        match store.get(&sidecar).await {
            Ok(got) => match crate::input::fluentd::parse_meta(&got.bytes().await?) {
                Ok(m) => {
                    input.steps.push(match (&m.tag, m.records) {
                        (Some(t), Some(n)) => format!("tag {t:?} and {n} records per its .meta sidecar"),
                        (Some(t), None) => format!("tag {t:?} per its .meta sidecar"),
                        (None, _) => "a .meta sidecar without a tag".to_string(),
                    });
                    input.meta = Some(m);
                }
                Err(e) => input.notes.push(format!("{shown}.meta: {e}; the chunk is read without it")),
            },
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(input)
}

#[async_trait]
impl FileFormat for MsgpackFormat {
    fn get_ext(&self) -> String {
        MSGPACK_EXTENSION.to_string()
    }

    fn get_ext_with_compression(&self, _c: &FileCompressionType) -> Result<String> {
        Ok(self.get_ext())
    }

    fn compression_type(&self) -> Option<FileCompressionType> {
        None
    }

    async fn infer_schema(
        &self,
        _state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        let t = self.infer_table(store, objects).await?;
        Ok(Arc::new(self.options.schema_of(&t)))
    }

    async fn infer_stats(
        &self,
        _state: &dyn Session,
        _store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        _object: &ObjectMeta,
    ) -> Result<Statistics> {
        Ok(Statistics::new_unknown(&table_schema))
    }

    async fn create_physical_plan(&self, _state: &dyn Session, conf: FileScanConfig) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(DataSourceExec::from_data_source(conf))
    }

    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        Arc::new(MsgpackSource::new(table_schema, Arc::clone(&self.options), self.report.clone()))
    }
}
