//! [`MsgpackTable`]: a MessagePack table as DataFusion sees it, a [`ListingTable`] that also
//! keeps its own description ([`TableDesc`], plain data) so that it can be rebuilt in another
//! process (a cluster's scheduler) from the description and the already inferred schema,
//! without listing or inferring again. Tables made by SQL (`CREATE EXTERNAL TABLE ... STORED AS
//! MSGPACK`, URL tables such as `'logs/*.msgpack'`) become MessagePack tables too
//! ([`MsgpackTableFactory`], [`enable_url_tables`]).

use super::format::MsgpackFormat;
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{
    DynamicFileCatalog, ScanArgs, ScanResult, Session, TableProvider, TableProviderFactory, UrlTableFactory,
};
use datafusion::common::{Constraints, Statistics, project_schema};
use datafusion::datasource::dynamic_file::DynamicListTableFactory;
use datafusion::datasource::listing::helpers::{expr_applicable_for_cols, pruned_partition_list};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl, PartitionedFile,
};
use datafusion::datasource::listing_table_factory::ListingTableFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::logical_expr::{CreateExternalTable, Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

/// What makes a MessagePack table, apart from its schema: where its files are, which names
/// it lists, its Hive partition columns (text) and the read options. Plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDesc {
    /// The table's URLs (`file:///dir/`, `s3://bucket/key`), as listed.
    pub urls: Vec<String>,
    /// The partition columns' names, in order (their types are the table schema's).
    pub partitions: Vec<String>,
    /// The read options (the file extension listed among them).
    pub options: MsgpackReadOptions,
}

/// A MessagePack table: a listing of files read by [`MsgpackFormat`], with its description.
#[derive(Debug)]
pub struct MsgpackTable {
    inner: ListingTable,
    desc: TableDesc,
}

impl MsgpackTable {
    /// The table `desc` describes, with `schema` (its file columns, then its partition
    /// columns); its scans add to `report`. Nothing is listed or inferred.
    pub fn new(desc: TableDesc, schema: SchemaRef, report: ScanReport) -> Result<Self> {
        let urls = desc.urls.iter().map(ListingTableUrl::parse).collect::<Result<Vec<_>>>()?;
        let format = Arc::new(MsgpackFormat::new(desc.options.clone()).with_report(report));
        // A partition column's type is the schema's (text unless SQL declared another).
        let type_of = |n: &String| schema.field_with_name(n).map_or(DataType::Utf8, |f| f.data_type().clone());
        let partitions = desc.partitions.iter().map(|n| (n.clone(), type_of(n))).collect();
        let listing = ListingOptions::new(format)
            .with_file_extension(desc.options.file_extension.clone())
            .with_table_partition_cols(partitions);
        // The listing table takes the file columns; it adds the partition columns itself.
        let files = schema.fields().iter().filter(|f| !desc.partitions.contains(f.name())).cloned();
        let file_schema = Arc::new(Schema::new_with_metadata(files.collect::<Vec<_>>(), schema.metadata().clone()));
        let config =
            ListingTableConfig::new_with_multi_paths(urls).with_listing_options(listing).with_schema(file_schema);
        Ok(MsgpackTable { inner: ListingTable::try_new(config)?, desc })
    }

    /// `table` as a MessagePack table when it is a listing read by [`MsgpackFormat`] (what
    /// DataFusion's factories make from SQL); else `table` itself.
    pub fn adopt(table: Arc<dyn TableProvider>) -> Arc<dyn TableProvider> {
        let Some(listing) = table.downcast_ref::<ListingTable>() else { return table };
        let listed = listing.options();
        let Some(format) = listed.format.downcast_ref::<MsgpackFormat>() else { return table };
        let mut options = format.options().clone();
        options.file_extension = listed.file_extension.clone();
        let desc = TableDesc {
            urls: listing.table_paths().iter().map(|u| u.as_str().to_string()).collect(),
            partitions: listed.table_partition_cols.iter().map(|(n, _)| n.clone()).collect(),
            options,
        };
        // DataFusion infers partition columns as dictionaries of text; they are plain text here,
        // as in tables mpq registers (a cluster's executors read them back as text, and a sort
        // over both failed).
        let plain = |t: &DataType| match t {
            DataType::Dictionary(_, v) => (**v).clone(),
            t => t.clone(),
        };
        if listed.table_partition_cols.iter().all(|(_, t)| plain(t) == *t) {
            return Arc::new(MsgpackTable { inner: listing.clone(), desc });
        }
        let schema = listing.schema();
        let fields: Vec<_> = schema
            .fields()
            .iter()
            .map(|f| match desc.partitions.contains(f.name()) {
                true => Arc::new(f.as_ref().clone().with_data_type(plain(f.data_type()))),
                false => Arc::clone(f),
            })
            .collect();
        let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
        match MsgpackTable::new(desc, schema, format.report().clone()) {
            Ok(t) => Arc::new(t),
            Err(_) => table,
        }
    }

    /// What the table is made of.
    pub fn desc(&self) -> &TableDesc {
        &self.desc
    }

    /// The scan of the listed files, as DataFusion's listing table plans it (files listed per
    /// URL and pruned by the filters on partition columns, split into one group per target
    /// partition) except that no file gets statistics of its own. The listing table gives
    /// every file an unknown `Statistics` with an entry per table column (MessagePack files
    /// have none to give), whatever the session's `collect_statistics`: with 100,000 small
    /// files that was 549 MiB, and with 5,000 a tenth of a query's time.
    async fn scan_files(&self, state: &dyn Session, args: &ScanArgs<'_>) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = self.inner.schema();
        let listed = self.inner.options();
        let projection = args.projection().map(|p| p.to_vec());
        let partitions: Vec<&str> = listed.table_partition_cols.iter().map(|(n, _)| n.as_str()).collect();
        let partition_filters: Vec<Expr> = match partitions.is_empty() {
            true => vec![],
            false => {
                let filters = args.filters().unwrap_or_default().iter();
                filters.filter(|f| expr_applicable_for_cols(&partitions, f)).cloned().collect()
            }
        };
        let paths = self.inner.table_paths();
        let Some(first) = paths.first() else {
            return Ok(Arc::new(EmptyExec::new(project_schema(&schema, projection.as_ref())?)));
        };
        let store = state.runtime_env().object_store(first)?;
        // A URL may name a file another URL's directory holds: each file is read once.
        let mut seen = HashSet::new();
        let mut files = vec![];
        for url in paths {
            let ext = &listed.file_extension;
            let cols = &listed.table_partition_cols;
            let mut found = pruned_partition_list(state, store.as_ref(), url, &partition_filters, ext, cols).await?;
            while let Some(file) = found.try_next().await? {
                if paths.len() == 1 || seen.insert(file.object_meta.location.clone()) {
                    files.push(file);
                }
            }
        }
        if files.is_empty() {
            return Ok(Arc::new(EmptyExec::new(project_schema(&schema, projection.as_ref())?)));
        }
        let steal = steals_work(&files, &self.desc.options);
        let groups = FileGroup::new(files).split_files(state.config().target_partitions().max(1));
        let file_fields = schema.fields().iter().filter(|f| !partitions.contains(&f.name().as_str())).cloned();
        let file_schema =
            Arc::new(Schema::new_with_metadata(file_fields.collect::<Vec<_>>(), schema.metadata().clone()));
        let partition_fields: Vec<_> =
            listed.table_partition_cols.iter().map(|(n, t)| Arc::new(Field::new(n, t.clone(), false))).collect();
        let source = listed
            .format
            .file_source(TableSchema::builder(file_schema).with_table_partition_cols(partition_fields).build());
        let config = FileScanConfigBuilder::new(first.object_store(), source)
            .with_file_groups(groups)
            .with_constraints(self.inner.constraints().cloned().unwrap_or_default())
            .with_statistics(Statistics::new_unknown(&schema))
            .with_projection_indices(projection)?
            .with_limit(args.limit())
            .with_preserve_order(!steal)
            .build();
        listed.format.create_physical_plan(state, config).await
    }
}

/// Whether a scan of `files` lets DataFusion's partitions take unopened files from each other
/// (its file-stream work stealing, on by default): not when every file is small and the
/// columnar cache is off. Stealing balances files of uneven cost (large or compressed ones,
/// some read from the cache and some decoded), but it copies every file's entry into a queue
/// the partitions share, and each partition copies its group too; small files are each a
/// small part of a core's work, so the groups as planned are balanced enough and those copies
/// cost more than stealing saves (100,000 files of 5 records: 1.88 -> 1.66 s and 277 -> 212
/// MiB; 5,000 of 20: 0.158 -> 0.141 s).
/// DataFusion 55's one switch per scan is `preserve_order` (the files of a group read in
/// order, which a partition does anyway); a pushed-down `LIMIT` sets it as its own order
/// requires.
fn steals_work(files: &[PartitionedFile], options: &MsgpackReadOptions) -> bool {
    options.cache.is_some() || files.iter().any(|f| f.object_meta.size >= crate::input::source::SMALL)
}

#[async_trait]
impl TableProvider for MsgpackTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // The same scan as `scan_with_args` (DataFusion's planner calls that one).
        let args = ScanArgs::default()
            .with_projection(projection.map(|p| p.as_slice()))
            .with_filters(Some(filters))
            .with_limit(limit);
        Ok(self.scan_with_args(state, args).await?.into_inner())
    }

    async fn scan_with_args<'a>(&self, state: &dyn Session, args: ScanArgs<'a>) -> Result<ScanResult> {
        let listed = self.inner.options();
        // A declared file order or output partitioning: DataFusion's listing scan, which knows them.
        if !listed.file_sort_order.is_empty() || listed.output_partitioning.is_some() {
            return self.inner.scan_with_args(state, args).await;
        }
        Ok(ScanResult::new(self.scan_files(state, &args).await?))
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
}

/// `CREATE EXTERNAL TABLE ... STORED AS MSGPACK`: DataFusion's listing factory (which finds the
/// `msgpack` format and applies the `OPTIONS`), its table adopted as a [`MsgpackTable`].
#[derive(Debug, Default)]
pub struct MsgpackTableFactory(ListingTableFactory);

#[async_trait]
impl TableProviderFactory for MsgpackTableFactory {
    async fn create(&self, state: &dyn Session, cmd: &CreateExternalTable) -> Result<Arc<dyn TableProvider>> {
        Ok(MsgpackTable::adopt(self.0.create(state, cmd).await?))
    }
}

/// URL tables (`SELECT * FROM 'logs/*.msgpack'`): DataFusion's dynamic listing, its
/// MessagePack tables adopted as [`MsgpackTable`]s.
#[derive(Debug)]
struct UrlTables(DynamicListTableFactory);

#[async_trait]
impl UrlTableFactory for UrlTables {
    async fn try_new(&self, url: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.0.try_new(url).await?.map(MsgpackTable::adopt))
    }
}

/// `ctx` with URL tables (as [`SessionContext::enable_url_table`]), MessagePack ones as
/// [`MsgpackTable`]s so that they also run on a cluster.
pub fn enable_url_tables(ctx: SessionContext) -> SessionContext {
    let factory = Arc::new(UrlTables(DynamicListTableFactory::default()));
    let catalogs = Arc::new(DynamicFileCatalog::new(
        Arc::clone(ctx.state_ref().read().catalog_list()),
        Arc::clone(&factory) as Arc<dyn UrlTableFactory>,
    ));
    let id = ctx.session_id();
    let ctx: SessionContext = ctx.into_state_builder().with_session_id(id).with_catalog_list(catalogs).build().into();
    factory.0.session_store().with_state(ctx.state_weak_ref());
    ctx
}
