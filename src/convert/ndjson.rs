//! NDJSON output whose JSON columns are JSON values. DataFusion's JSON writer (arrow-json)
//! writes every string as a JSON string, so a variant written as JSON text would come out
//! quoted (`"code":"[1,2]"`). This format is DataFusion's `JsonFormat` for everything but
//! writing; its sink writes each row with [`crate::json_text::json_row`], the renderer of
//! `mpq query --format ndjson`, so `COPY ... TO 'x.json'` and `mpq convert -o x.ndjson` write
//! exactly what the query prints. Partitioning and compression stay DataFusion's.
//!
//! The CLI registers it for `.ndjson` and `.jsonl` (which DataFusion does not know), and
//! `convert::stage_copy` puts it in place of DataFusion's writer for `.json`.

use crate::json_text::json_row;
use async_trait::async_trait;
use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::config::JsonOptions;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{GetExt, Result, Statistics, not_impl_err};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::json::{JsonFormat, JsonFormatFactory};
use datafusion::datasource::file_format::write::BatchSerializer;
use datafusion::datasource::file_format::write::demux::DemuxedStreamReceiver;
use datafusion::datasource::file_format::write::orchestration::spawn_writer_tasks_and_join;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSink, FileSinkConfig, FileSource};
use datafusion::datasource::sink::{DataSink, DataSinkExec};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::physical_expr::LexRequirement;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, SendableRecordBatchStream};
use object_store::{ObjectMeta, ObjectStore};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Makes [`NdjsonFormat`]s, for one file extension.
#[derive(Debug)]
pub struct NdjsonFormatFactory {
    inner: JsonFormatFactory,
    ext: String,
}

impl NdjsonFormatFactory {
    /// A factory for files ending in `.EXT` (`json`, `ndjson`, `jsonl`), with DataFusion's
    /// default JSON options.
    pub fn new(ext: &str) -> Self {
        NdjsonFormatFactory { inner: JsonFormatFactory::new(), ext: ext.to_string() }
    }
}

impl GetExt for NdjsonFormatFactory {
    fn get_ext(&self) -> String {
        self.ext.clone()
    }
}

impl FileFormatFactory for NdjsonFormatFactory {
    fn create(&self, state: &dyn Session, format_options: &HashMap<String, String>) -> Result<Arc<dyn FileFormat>> {
        let inner = self.inner.create(state, format_options)?;
        let options = inner.downcast_ref::<JsonFormat>().map(|f| f.options().clone()).unwrap_or_default();
        Ok(Arc::new(NdjsonFormat { inner, options }))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(NdjsonFormat { inner: self.inner.default(), options: JsonOptions::default() })
    }
}

/// DataFusion's JSON format with mpq's NDJSON writer.
#[derive(Debug)]
pub struct NdjsonFormat {
    inner: Arc<dyn FileFormat>,
    options: JsonOptions,
}

#[async_trait]
impl FileFormat for NdjsonFormat {
    fn get_ext(&self) -> String {
        self.inner.get_ext()
    }
    fn get_ext_with_compression(&self, c: &FileCompressionType) -> Result<String> {
        self.inner.get_ext_with_compression(c)
    }
    fn compression_type(&self) -> Option<FileCompressionType> {
        self.inner.compression_type()
    }
    async fn infer_schema(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        objects: &[ObjectMeta],
    ) -> Result<SchemaRef> {
        self.inner.infer_schema(state, store, objects).await
    }
    async fn infer_stats(
        &self,
        state: &dyn Session,
        store: &Arc<dyn ObjectStore>,
        table_schema: SchemaRef,
        object: &ObjectMeta,
    ) -> Result<Statistics> {
        self.inner.infer_stats(state, store, table_schema, object).await
    }
    async fn create_physical_plan(&self, state: &dyn Session, conf: FileScanConfig) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.create_physical_plan(state, conf).await
    }
    async fn create_writer_physical_plan(
        &self,
        input: Arc<dyn ExecutionPlan>,
        _state: &dyn Session,
        conf: FileSinkConfig,
        order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if conf.insert_op != InsertOp::Append {
            return not_impl_err!("NDJSON output only appends");
        }
        let sink = Arc::new(NdjsonSink {
            config: conf,
            compression: self.options.compression.into(),
            level: self.options.compression_level,
        });
        Ok(Arc::new(DataSinkExec::new(input, sink, order_requirements)))
    }
    fn file_source(&self, table_schema: TableSchema) -> Arc<dyn FileSource> {
        self.inner.file_source(table_schema)
    }
}

/// Writes NDJSON files with [`json_row`].
struct NdjsonSink {
    config: FileSinkConfig,
    compression: FileCompressionType,
    level: Option<u32>,
}

impl fmt::Debug for NdjsonSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NdjsonSink").finish()
    }
}

impl DisplayAs for NdjsonSink {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NdjsonSink(url={})", self.config.original_url)
    }
}

#[async_trait]
impl FileSink for NdjsonSink {
    fn config(&self) -> &FileSinkConfig {
        &self.config
    }

    async fn spawn_writer_tasks_and_join(
        &self,
        context: &Arc<TaskContext>,
        demux_task: SpawnedTask<Result<()>>,
        file_stream_rx: DemuxedStreamReceiver,
        object_store: Arc<dyn ObjectStore>,
    ) -> Result<u64> {
        spawn_writer_tasks_and_join(
            context,
            Arc::new(JsonLines),
            self.compression,
            self.level,
            object_store,
            demux_task,
            file_stream_rx,
        )
        .await
    }
}

#[async_trait]
impl DataSink for NdjsonSink {
    fn schema(&self) -> &SchemaRef {
        self.config.output_schema()
    }

    async fn write_all(&self, data: SendableRecordBatchStream, context: &Arc<TaskContext>) -> Result<u64> {
        FileSink::write_all(self, data, context).await
    }
}

/// One JSON object per row, one row per line.
struct JsonLines;

impl BatchSerializer for JsonLines {
    fn serialize(&self, batch: RecordBatch, _initial: bool) -> Result<Bytes> {
        let schema = batch.schema();
        let mut out = String::with_capacity(batch.num_rows() * 64);
        for row in 0..batch.num_rows() {
            json_row(schema.fields(), batch.columns(), row, &mut out);
            out.push('\n');
        }
        Ok(Bytes::from(out))
    }
}
