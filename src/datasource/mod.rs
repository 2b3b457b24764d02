//! DataFusion integration: the glue adapts DataFusion's contracts (FileFormat, FileSource,
//! FileOpener, TableProvider) and holds no decoding logic.

pub mod counts;
mod format;
mod listing;
mod prune;
mod source;
mod stream;
mod table;
mod visible;

pub use format::{MSGPACK_EXTENSION, MsgpackFormat, MsgpackFormatFactory, apply_options, read_object};
pub use source::{MsgpackOpener, MsgpackSource, ScanPlace};
pub use stream::register_stream;
pub use table::{MsgpackTable, MsgpackTableFactory, TableDesc, enable_url_tables};
pub use visible::{Visible, is_hidden_name};

use crate::infer::TableInference;
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::Session;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::DataFilePaths;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{DataFrame, SessionContext};
use futures::TryStreamExt;
use std::sync::Arc;

/// Adds MessagePack tables to a [`SessionContext`].
#[async_trait]
pub trait SessionContextExt {
    /// Registers `paths` (files, directories or globs; one or many) as table `name`. The
    /// schema is inferred from every file.
    async fn register_msgpack<P: DataFilePaths + Send>(
        &self,
        name: &str,
        paths: P,
        options: MsgpackReadOptions,
    ) -> Result<()>;

    /// A [`DataFrame`] over `paths`.
    async fn read_msgpack<P: DataFilePaths + Send>(&self, paths: P, options: MsgpackReadOptions) -> Result<DataFrame>;

    /// Infers what `paths` hold without registering anything (for `mpq schema`).
    async fn infer_msgpack<P: DataFilePaths + Send>(
        &self,
        paths: P,
        options: MsgpackReadOptions,
    ) -> Result<TableInference>;

    /// Registers the `msgpack` file format (for `CREATE EXTERNAL TABLE ... STORED AS MSGPACK`
    /// and `SELECT * FROM 'path/*.msgpack'`).
    fn register_msgpack_format(&self, options: MsgpackReadOptions) -> Result<()>;

    /// The report every MessagePack scan of this session adds to (records, `_extra` pairs,
    /// problems). It lives in the session's configuration, beside the tables' options: a
    /// session made without one gets a fresh one on first use.
    fn msgpack_report(&self) -> ScanReport;
}

async fn build_table(
    ctx: &SessionContext,
    urls: Vec<ListingTableUrl>,
    options: MsgpackReadOptions,
) -> Result<(MsgpackTable, TableInference)> {
    options.validate()?;
    for url in &urls {
        ensure_store(&ctx.runtime_env(), url)?;
    }
    let format = Arc::new(MsgpackFormat::new(options.clone()).with_report(ctx.msgpack_report()));
    let state = ctx.state();
    let mut inference = infer_urls(&state, &format, &urls, &options.file_extension, options.max_struct_fields).await?;
    // Hive-style directories (`dt=2026-11-20/hour=01/`) under one directory argument give
    // partition columns, as text.
    if let [url] = urls.as_slice()
        && url.is_collection()
    {
        let listing = ListingOptions::new(format).with_file_extension(options.file_extension.clone());
        let names = listing.infer_partitions(&state, url).await?;
        inference.reserve(&names.iter().map(String::as_str).collect::<Vec<_>>());
        inference.partitions = names;
    }
    let file_schema = options.schema_of(&inference);
    let mut fields = file_schema.fields().to_vec();
    fields.extend(inference.partitions.iter().map(|n| Arc::new(Field::new(n, DataType::Utf8, true))));
    let desc = TableDesc {
        urls: urls.iter().map(|u| u.as_str().to_string()).collect(),
        partitions: inference.partitions.clone(),
        options,
    };
    let table = MsgpackTable::new(
        desc,
        Arc::new(Schema::new_with_metadata(fields, file_schema.metadata().clone())),
        ctx.msgpack_report(),
    )?;
    Ok((table, inference))
}

/// Registers an object store for an `s3://bucket/...` URL unless one is registered: S3 (or an
/// S3-compatible server) configured from the environment, as the AWS tools are:
/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`), `AWS_ENDPOINT_URL` and `AWS_ALLOW_HTTP=true` for plain http.
///
/// Every store a table lists is seen through [`Visible`], which leaves hidden names
/// (`_SUCCESS`, `.crc` files) out of directory listings.
pub(crate) fn ensure_store(env: &RuntimeEnv, url: &ListingTableUrl) -> Result<()> {
    let base = url.object_store();
    let base_url: &url::Url = base.as_ref();
    if let Ok(store) = env.object_store(&base) {
        if !Visible::is_wrapped(store.as_ref()) {
            env.register_object_store(base_url, Visible::wrap(store));
        }
        return Ok(());
    }
    if let Some(store) = s3_store(base_url)? {
        env.register_object_store(base_url, store);
    }
    Ok(())
}

/// An S3 store for an `s3://bucket/` URL, configured from the environment (see
/// [`ensure_store`]); `None` for other schemes.
fn s3_store(base_url: &url::Url) -> Result<Option<Arc<dyn object_store::ObjectStore>>> {
    if base_url.scheme() != "s3" {
        return Ok(None);
    }
    let bucket = base_url.host_str().unwrap_or_default();
    let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
    if let Ok(region) = std::env::var("AWS_DEFAULT_REGION")
        && std::env::var("AWS_REGION").is_err()
    {
        builder = builder.with_region(region);
    }
    Ok(Some(Visible::wrap(Arc::new(builder.build()?))))
}

/// Object stores for processes that read whatever URLs they are sent (a cluster's executors):
/// DataFusion's registry, which also makes an `s3://` bucket's store from the environment the
/// first time it is asked for one.
#[derive(Debug, Default)]
pub struct OnDemandStores(DefaultObjectStoreRegistry);

impl ObjectStoreRegistry for OnDemandStores {
    fn register_store(
        &self,
        url: &url::Url,
        store: Arc<dyn object_store::ObjectStore>,
    ) -> Option<Arc<dyn object_store::ObjectStore>> {
        self.0.register_store(url, store)
    }

    fn deregister_store(&self, url: &url::Url) -> Result<Arc<dyn object_store::ObjectStore>> {
        self.0.deregister_store(url)
    }

    fn get_store(&self, url: &url::Url) -> Result<Arc<dyn object_store::ObjectStore>> {
        match self.0.get_store(url) {
            Ok(store) => Ok(store),
            Err(e) => match s3_store(url)? {
                Some(store) => {
                    self.0.register_store(url, Arc::clone(&store));
                    Ok(store)
                }
                None => Err(e),
            },
        }
    }
}

/// Lists every file of every URL and infers over all of them.
async fn infer_urls(
    state: &dyn Session,
    format: &MsgpackFormat,
    urls: &[ListingTableUrl],
    ext: &str,
    max_struct_fields: usize,
) -> Result<TableInference> {
    let mut all = TableInference::default();
    for url in urls {
        let store = state.runtime_env().object_store(url)?;
        let mut objects: Vec<_> = url.list_all_files(state, store.as_ref(), ext).await?.try_collect().await?;
        if objects.is_empty() {
            return Err(DataFusionError::Plan(format!("no files found at {}", url.as_str())));
        }
        objects.sort_by(|a, b| a.location.cmp(&b.location));
        all.append(format.infer_merging(&store, &objects).await?);
    }
    let mut table = all.finish();
    table.cap_fields(max_struct_fields);
    Ok(table)
}

#[async_trait]
impl SessionContextExt for SessionContext {
    async fn register_msgpack<P: DataFilePaths + Send>(
        &self,
        name: &str,
        paths: P,
        options: MsgpackReadOptions,
    ) -> Result<()> {
        let (table, _) = build_table(self, paths.to_urls()?, options).await?;
        self.register_table(name, Arc::new(table))?;
        Ok(())
    }

    async fn read_msgpack<P: DataFilePaths + Send>(&self, paths: P, options: MsgpackReadOptions) -> Result<DataFrame> {
        let (table, _) = build_table(self, paths.to_urls()?, options).await?;
        self.read_table(Arc::new(table))
    }

    async fn infer_msgpack<P: DataFilePaths + Send>(
        &self,
        paths: P,
        options: MsgpackReadOptions,
    ) -> Result<TableInference> {
        Ok(build_table(self, paths.to_urls()?, options).await?.1)
    }

    fn register_msgpack_format(&self, options: MsgpackReadOptions) -> Result<()> {
        let report = self.msgpack_report();
        let state = self.state_ref();
        let mut state = state.write();
        state.register_file_format(Arc::new(MsgpackFormatFactory::new(options, report)), true)?;
        // `CREATE EXTERNAL TABLE ... STORED AS MSGPACK` looks up a table factory by the
        // upper-cased type; DataFusion's listing factory (which `MsgpackTableFactory` wraps) then finds
        // our format by extension.
        state.table_factories_mut().insert("MSGPACK".to_string(), Arc::new(MsgpackTableFactory::default()));
        Ok(())
    }

    fn msgpack_report(&self) -> ScanReport {
        let state = self.state_ref();
        let mut state = state.write();
        if let Some(r) = state.config().get_extension::<ScanReport>() {
            return (*r).clone();
        }
        let report = ScanReport::new();
        state.config_mut().set_extension(Arc::new(report.clone()));
        report
    }
}
