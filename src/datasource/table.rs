//! [`MsgpackTable`]: a MessagePack table as DataFusion sees it, a [`ListingTable`] that also
//! keeps its own description ([`TableDesc`], plain data) so that it can be rebuilt in another
//! process (a cluster's scheduler) from the description and the already inferred schema,
//! without listing or inferring again.

use super::format::MsgpackFormat;
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::Constraints;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// What makes a MessagePack table, apart from its schema: where its files are, which names
/// it lists, its Hive partition columns (text) and the read options. Plain data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableDesc {
    /// The table's URLs (`file:///dir/`, `s3://bucket/key`), as listed.
    pub urls: Vec<String>,
    /// The partition columns' names, in order (their values are text).
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
        let partitions = desc.partitions.iter().map(|n| (n.clone(), DataType::Utf8)).collect();
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

    /// What the table is made of.
    pub fn desc(&self) -> &TableDesc {
        &self.desc
    }
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
        self.inner.scan(state, projection, filters, limit).await
    }

    async fn scan_with_args<'a>(&self, state: &dyn Session, args: ScanArgs<'a>) -> Result<ScanResult> {
        self.inner.scan_with_args(state, args).await
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }
}
