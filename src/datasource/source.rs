//! [`MsgpackSource`] (the immutable per-scan configuration, with projection pushdown) and
//! [`MsgpackOpener`] (per-file I/O: maps the file and returns a lazy stream of batches).

use super::counts::Counts;
use super::format::{local_path, read_shown, shown_path};
use super::prune;
use crate::input::source::{SMALL, would_map};
use crate::options::{MmapPolicy, MsgpackReadOptions};
use crate::reader::scan::{ScanRequest, scan_input};
use crate::report::CacheMiss;
use crate::report::ScanReport;
use crate::store::{HitRequest, Scope, scan_hit};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroupPartitioner, FileOpenFuture, FileOpener, FileScanConfig, FileSource,
};
use datafusion::datasource::projection::{ProjectionOpener, SplitProjection};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_expr::conjunction;
use datafusion::physical_plan::filter_pushdown::{FilterPushdownPropagation, PushedDown};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::projection::ProjectionExprs;
use datafusion::physical_plan::{DisplayFormatType, PhysicalExpr};
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::ObjectStore;
use std::fmt::Formatter;
use std::path::Path;
use std::sync::Arc;

/// Where a scan runs, when that is not the process that asked for it (a cluster's executor),
/// kept in the session configuration's extensions. Such a scan names it in the errors of files
/// it cannot open, writes its problems to stderr (one rejects line each), and counts into its
/// metrics what its client adds to its report ([`super::counts`]).
#[derive(Debug, Clone)]
pub struct ScanPlace(pub String);

/// The per-scan configuration of a MessagePack scan.
#[derive(Clone)]
pub struct MsgpackSource {
    table_schema: TableSchema,
    options: Arc<MsgpackReadOptions>,
    /// What the scan adds to: beside the options, never inside them.
    report: ScanReport,
    batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
    projection: SplitProjection,
    /// Filters the scan applies itself (over the table schema), ANDed.
    filter: Option<Arc<dyn PhysicalExpr>>,
    /// Where the scan runs, if elsewhere than its client.
    place: Option<Arc<ScanPlace>>,
}

impl MsgpackSource {
    /// A source over `table_schema` with these options, adding to `report`.
    pub fn new(table_schema: TableSchema, options: Arc<MsgpackReadOptions>, report: ScanReport) -> Self {
        MsgpackSource {
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            options,
            report,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
            filter: None,
            place: None,
        }
    }

    /// This source running at `place` (a cluster's executor), which errors opening a file name.
    pub fn with_place(mut self, place: Option<Arc<ScanPlace>>) -> Self {
        self.place = place;
        self
    }

    /// This source with `filter` as the filter it applies itself (a scan rebuilt from its
    /// description; see `cluster::codec`).
    pub fn with_filter(mut self, filter: Option<Arc<dyn PhysicalExpr>>) -> Self {
        self.filter = filter;
        self
    }

    /// The filter the scan applies itself, if any.
    pub fn pushed_filter(&self) -> Option<&Arc<dyn PhysicalExpr>> {
        self.filter.as_ref()
    }

    /// The scan's read options.
    pub fn options(&self) -> &MsgpackReadOptions {
        &self.options
    }

    /// The file schema the scan decodes: pruned to the field paths its projection and filter
    /// read ([`prune::pruned_schema`]).
    fn decoded_schema(&self) -> SchemaRef {
        let exprs = self.projection.source.iter().map(|p| &p.expr).chain(self.filter.as_ref());
        prune::pruned_schema(self.table_schema.file_schema(), exprs)
    }
}

impl FileSource for MsgpackSource {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = Arc::clone(self.table_schema.file_schema());
        // On an executor, each partition has a report of its own, carried back as metrics.
        let (report, counts) = match &self.place {
            Some(_) => {
                let report = ScanReport::new();
                report.rejects_to(Box::new(std::io::stderr()));
                (report, Some(Arc::new(Counts::new(&self.metrics, partition))))
            }
            None => (self.report.clone(), None),
        };
        let opener = Arc::new(MsgpackOpener {
            store: object_store,
            scope: Scope::of(&file_schema, &self.options),
            // Struct columns read only through field paths are decoded with just those paths.
            file_schema: self.decoded_schema(),
            filter: self.filter.clone(),
            projection: self.projection.file_indices.clone(),
            options: Arc::new((*self.options).clone().batch_size(self.batch_size.unwrap_or(self.options.batch_size))),
            report,
            limit: base_config.limit,
            place: self.place.clone(),
            counts,
        }) as Arc<dyn FileOpener>;
        ProjectionOpener::try_new(self.projection.clone(), opener, &file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut s = self.clone();
        s.batch_size = Some(batch_size);
        Arc::new(s)
    }

    fn try_pushdown_projection(&self, projection: &ProjectionExprs) -> Result<Option<Arc<dyn FileSource>>> {
        let mut s = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        s.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(s)))
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    /// Names the struct fields a scan decodes when it decodes only some (nested projection).
    fn fmt_extra(&self, t: DisplayFormatType, f: &mut Formatter) -> std::fmt::Result {
        let file_schema = self.table_schema.file_schema();
        let kept = prune::kept_paths(file_schema, &self.decoded_schema());
        let tree = t == DisplayFormatType::TreeRender;
        if !kept.is_empty() {
            match tree {
                true => writeln!(f, "nested_projection={}", kept.join(", "))?,
                false => write!(f, ", nested_projection=[{}]", kept.join(", "))?,
            }
        }
        match (&self.filter, tree) {
            (Some(p), true) => writeln!(f, "predicate={p}"),
            (Some(p), false) => write!(f, ", predicate={p}"),
            (None, _) => Ok(()),
        }
    }

    /// Takes over the filters over file columns (not dynamic ones): the scan decodes their
    /// columns first and the rest of the projection only for the rows that pass (see
    /// [`filter`]).
    fn try_pushdown_filters(
        &self,
        filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        let file_columns = self.table_schema.file_schema().fields().len();
        let on = self.options.filter_pushdown;
        let taken: Vec<bool> = filters.iter().map(|f| on && crate::reader::filter::pushable(f, file_columns)).collect();
        let results = taken.iter().map(|&t| if t { PushedDown::Yes } else { PushedDown::No }).collect();
        let mut pushed = filters.into_iter().zip(&taken).filter(|(_, t)| **t).map(|(f, _)| f).peekable();
        if pushed.peek().is_none() {
            return Ok(FilterPushdownPropagation::with_parent_pushdown_result(results));
        }
        let mut s = self.clone();
        s.filter = Some(conjunction(self.filter.clone().into_iter().chain(pushed)));
        Ok(FilterPushdownPropagation::with_parent_pushdown_result(results).with_updated_node(Arc::new(s) as _))
    }

    fn filter(&self) -> Option<Arc<dyn PhysicalExpr>> {
        self.filter.clone()
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "msgpack"
    }

    /// Large files are split into byte ranges, one per core; each range finds its first
    /// record and verifies where the next one starts (see [`crate::framing::split`] and
    /// [`SliceBatches::range`]).
    fn supports_repartitioning(&self) -> bool {
        true
    }

    /// Splits files into ranges only where that is cheap and balanced: local files, each either
    /// mapped by the mmap policy and not compressed (its ranges share the map; a large file read
    /// into memory would be read whole once per range, and a compressed one's ranges would leave
    /// all of it to the range at its start) or read because it is small (`auto`, under
    /// [`SMALL`]: the partitioner cuts at most one file at each range boundary, and a small file
    /// cut there is read once per range, which costs little; if it is compressed, the range at
    /// its start reads it all and the others nothing, which is exact), at least one of them
    /// mapped (small files alone gain nothing from ranges), and scans without a limit (a few
    /// rows come from the first range anyway). Otherwise files stay whole and are spread over
    /// the partitions as listed: one large file among many small ones was read on one core
    /// while the others read the small files. Small files are judged by their listed size
    /// alone, without opening them.
    fn repartitioned(
        &self,
        target_partitions: usize,
        repartition_file_min_size: usize,
        output_ordering: Option<LexOrdering>,
        config: &FileScanConfig,
    ) -> Result<Option<FileScanConfig>> {
        let local = config.object_store_url.as_str().starts_with("file://");
        let policy = self.options.mmap;
        let mut mapped = false;
        let splittable = config.file_groups.iter().flat_map(|g| g.iter()).all(|f| {
            if policy == MmapPolicy::Auto && f.object_meta.size < SMALL {
                return true;
            }
            let path = format!("/{}", f.object_meta.location);
            let path = Path::new(&path);
            let maps = would_map(path, policy) && !crate::input::is_compressed_file(path);
            mapped |= maps;
            maps
        });
        if config.limit.is_some() || !local || !splittable || !mapped {
            return Ok(None);
        }
        let groups = FileGroupPartitioner::new()
            .with_target_partitions(target_partitions)
            .with_repartition_file_min_size(repartition_file_min_size)
            .with_preserve_order_within_groups(output_ordering.is_some())
            .repartition_file_groups(&config.file_groups);
        Ok(groups.map(|file_groups| {
            let mut c = config.clone();
            c.file_groups = file_groups;
            c
        }))
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let roots = datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)?;
        match (&self.filter, roots) {
            (Some(p), TreeNodeRecursion::Continue) => f(p),
            (_, r) => Ok(r),
        }
    }
}

/// A lazy stream of an iterator's batches.
fn stream(
    batches: impl Iterator<Item = crate::error::Result<RecordBatch>> + Send + 'static,
) -> BoxStream<'static, Result<RecordBatch>> {
    futures::stream::iter(batches.map(|b| b.map_err(Into::into))).boxed()
}

/// Opens one file: reads its bytes (a memory map for local files) and decodes it lazily.
pub struct MsgpackOpener {
    store: Arc<dyn ObjectStore>,
    /// The columnar cache's scope for this table, when the cache is on.
    scope: Option<Scope>,
    file_schema: SchemaRef,
    filter: Option<Arc<dyn PhysicalExpr>>,
    projection: Vec<usize>,
    options: Arc<MsgpackReadOptions>,
    report: ScanReport,
    limit: Option<usize>,
    place: Option<Arc<ScanPlace>>,
    /// Where the report's totals go as each file ends (on an executor).
    counts: Option<Arc<Counts>>,
}

/// `batches`; when `counts`, the report's totals are set in the scan's metrics once the stream
/// is done with (read to its end, or dropped early by a limit).
fn counted(
    batches: BoxStream<'static, Result<RecordBatch>>,
    counts: Option<Arc<Counts>>,
    report: ScanReport,
) -> BoxStream<'static, Result<RecordBatch>> {
    let Some(counts) = counts else { return batches };
    let guard = RecordOnDrop(counts, report);
    batches
        .map(move |b| {
            let _ = &guard;
            b
        })
        .boxed()
}

/// Sets the counts from the report when dropped.
struct RecordOnDrop(Arc<Counts>, ScanReport);

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        self.0.record(&self.1.snapshot());
    }
}

impl FileOpener for MsgpackOpener {
    fn open(&self, file: PartitionedFile) -> Result<FileOpenFuture> {
        let store = Arc::clone(&self.store);
        let schema = Arc::clone(&self.file_schema);
        let projection = self.projection.clone();
        let options = Arc::clone(&self.options);
        let report = self.report.clone();
        let limit = self.limit;
        let filter = self.filter.clone();
        let scope = self.scope.clone();
        let place = self.place.clone();
        let counts = self.counts.clone();
        Ok(Box::pin(async move {
            let meta = file.object_meta;
            // Only with the cache on: local files, not buffer chunks (their `.meta` sidecar is not
            // part of the key).
            let cached = |scope: Scope| {
                let chunk = crate::input::is_chunk_name(meta.location.filename().unwrap_or_default());
                local_path(&store, &meta).filter(|_| !chunk).map(|path| (scope, path))
            };
            if let Some((scope, path)) = scope.and_then(cached)
                && let Some((entry, _)) = scope.entry_of(&path)
            {
                if let Some((opened, described)) = entry.load(scope.schema()) {
                    let range = file.range.as_ref().map(|r| r.start.max(0) as u64..r.end.max(0) as u64);
                    let request = HitRequest {
                        full: scope.schema(),
                        decoded: &schema,
                        projection: &projection,
                        filter: filter.as_ref(),
                        limit,
                        batch_size: options.batch_size,
                        range: (range, meta.size),
                    };
                    return Ok(counted(stream(scan_hit(opened, &described, request, &report)?), counts, report));
                }
                if !entry.skipped() {
                    report.cache_miss(CacheMiss {
                        path,
                        schema: Arc::clone(scope.schema()),
                        options: (*options).clone(),
                    });
                }
            }
            let path = shown_path(&store, &meta);
            let input = read_shown(&store, &meta, &path, &options).await.map_err(|e| match &place {
                Some(p) => DataFusionError::Context(format!("on {}", p.0), Box::new(e)),
                None => e,
            })?;
            let range = file.range.map(|r| r.start.max(0) as usize..r.end.max(0) as usize);
            let request = ScanRequest {
                path: &path,
                schema: &schema,
                projection: &projection,
                filter: filter.as_ref(),
                range,
                limit,
            };
            Ok(counted(stream(scan_input(input, request, &options, &report)?), counts, report))
        }))
    }
}
