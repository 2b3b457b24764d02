//! How MessagePack tables and scans cross the network: a [`LogicalCodec`] for the table
//! (client to scheduler) and a [`PhysicalCodec`] for the scan (scheduler to executors). Both
//! wrap Ballista's own codecs, which handle every other node, and mark their bytes with a
//! magic prefix and mpq's version, so a node from another mpq version is refused by name
//! rather than misread.

use crate::convert::WriteForm;
use crate::convert::form::{form_of, write_form_udf};
use crate::convert::partition::partition_text_udf;
use crate::datasource::{MsgpackSource, MsgpackTable, ScanPlace, TableDesc};
use crate::options::MsgpackReadOptions;
use crate::report::ScanReport;
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Extension, LogicalPlan, ScalarUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::from_proto::parse_protobuf_file_scan_config;
use datafusion_proto::physical_plan::to_proto::serialize_file_scan_config;
use datafusion_proto::physical_plan::{
    PhysicalExtensionCodec, PhysicalPlanDecodeContext, PhysicalProtoConverterExtension,
};
use datafusion_proto::protobuf;
use prost::Message;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The prefix of an encoded MessagePack table.
const TABLE_MAGIC: &[u8] = b"mpq-table\0";
/// The prefix of an encoded MessagePack scan.
const SCAN_MAGIC: &[u8] = b"mpq-scan\0";
/// This build's version, which encoded nodes carry.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A MessagePack table on the wire.
#[derive(Serialize, Deserialize)]
struct TableNode {
    version: String,
    table: TableDesc,
}

/// A MessagePack scan on the wire: DataFusion's file scan description (files and their byte
/// ranges, schema, projection, limit), mpq's read options and the filter the scan applies.
#[derive(Clone, PartialEq, Message)]
struct ScanNode {
    #[prost(string, tag = "1")]
    version: String,
    #[prost(message, optional, tag = "2")]
    conf: Option<protobuf::FileScanExecConf>,
    /// [`MsgpackReadOptions`] as JSON.
    #[prost(string, tag = "3")]
    options: String,
    #[prost(message, optional, tag = "4")]
    filter: Option<protobuf::PhysicalExprNode>,
}

/// The bytes after `magic`, refusing a node of another mpq version (`version` read from them).
fn check_version(what: &str, theirs: &str) -> Result<()> {
    if theirs == VERSION {
        return Ok(());
    }
    Err(DataFusionError::Plan(format!(
        "a MessagePack {what} encoded by mpq {theirs} reached mpq {VERSION}: every client, scheduler and \
         executor of a cluster must run the same mpq version"
    )))
}

/// The report a decoded table or scan adds to: the one in the session's configuration (the
/// client's own in an in-process cluster), else a fresh one.
fn report_of(ctx: &TaskContext) -> ScanReport {
    ctx.session_config().get_extension::<ScanReport>().map(|r| (*r).clone()).unwrap_or_default()
}

/// The functions `COPY` and `convert` add to a plan, which no session registers: the written
/// form (its four bytes) and the partition texts (its name alone, one marker byte). Whether
/// `udf` is one of them (then encoded into `buf`).
fn encode_udf(udf: &ScalarUDF, buf: &mut Vec<u8>) -> bool {
    if let Some(form) = form_of(udf) {
        buf.extend_from_slice(&form.to_bytes());
        return true;
    }
    if udf.name() == partition_text_udf().name() {
        buf.push(1);
        return true;
    }
    false
}

/// The function `name` encoded as `buf` by [`encode_udf`], or `None` for others.
fn decode_udf(name: &str, buf: &[u8]) -> Option<Result<Arc<ScalarUDF>>> {
    if name == partition_text_udf().name() {
        return Some(Ok(Arc::new(partition_text_udf())));
    }
    if name != write_form_udf(WriteForm::default()).name() {
        return None;
    }
    Some(match WriteForm::from_bytes(buf) {
        Some(f) => Ok(Arc::new(write_form_udf(f))),
        None => Err(codec_error("function", format!("{name} with {} bytes", buf.len()))),
    })
}

fn codec_error(what: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Internal(format!("cannot decode a MessagePack {what}: {e}"))
}

/// Ballista's logical codec, plus MessagePack tables ([`MsgpackTable`]): a table travels as
/// its description; the schema travels beside it (inferred once, by the client).
#[derive(Debug, Default)]
pub struct LogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(&self, buf: &[u8], inputs: &[LogicalPlan], ctx: &TaskContext) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let Some(json) = buf.strip_prefix(TABLE_MAGIC) else {
            return self.inner.try_decode_table_provider(buf, table_ref, schema, ctx);
        };
        let node: TableNode = serde_json::from_slice(json).map_err(|e| codec_error("table", e))?;
        check_version("table", &node.version)?;
        for url in &node.table.urls {
            let url = datafusion::datasource::listing::ListingTableUrl::parse(url)?;
            crate::datasource::ensure_store(ctx.runtime_env().as_ref(), &url)?;
        }
        Ok(Arc::new(MsgpackTable::new(node.table, schema, report_of(ctx))?))
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        let Some(table) = node.downcast_ref::<MsgpackTable>() else {
            let stream = node.downcast_ref::<datafusion::catalog::streaming::StreamingTable>().is_some();
            return self.inner.try_encode_table_provider(table_ref, node, buf).map_err(|e| match stream {
                true => DataFusionError::Plan(format!(
                    "table {table_ref} reads a stream (standard input) that only this process has, so it cannot \
                     run on a cluster: save it to a file every executor can read"
                )),
                false => e,
            });
        };
        let mut desc = table.desc().clone();
        // The cache is the client's: executors read their files from the source.
        desc.options = desc.options.cache(None);
        buf.extend_from_slice(TABLE_MAGIC);
        serde_json::to_writer(&mut *buf, &TableNode { version: VERSION.to_string(), table: desc })
            .map_err(|e| DataFusionError::Internal(format!("cannot encode a MessagePack table: {e}")))
    }

    fn try_decode_file_format(&self, buf: &[u8], ctx: &TaskContext) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(&self, buf: &mut Vec<u8>, node: Arc<dyn FileFormatFactory>) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_udf(node, buf) { Ok(()) } else { self.inner.try_encode_udf(node, buf) }
    }
}

/// Ballista's physical codec, plus MessagePack scans (a `DataSourceExec` over a
/// [`MsgpackSource`]).
#[derive(Debug, Default)]
pub struct PhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(bytes) = buf.strip_prefix(SCAN_MAGIC) else {
            return self.inner.try_decode(buf, inputs, ctx, proto_converter);
        };
        let node = ScanNode::decode(bytes).map_err(|e| codec_error("scan", e))?;
        check_version("scan", &node.version)?;
        let conf = node.conf.ok_or_else(|| codec_error("scan", "it has no file scan"))?;
        let options: MsgpackReadOptions = serde_json::from_str(&node.options).map_err(|e| codec_error("scan", e))?;
        // The scan's object store comes from the runtime that runs it: an executor process makes
        // `s3://` stores on demand (`datasource::OnDemandStores`), an in-process one shares the client's.
        let table_schema = FileScanConfig::parse_table_schema_from_proto(&conf)?;
        let decode = PhysicalPlanDecodeContext::new(ctx, self);
        let filter = match &node.filter {
            Some(f) => Some(proto_converter.proto_to_physical_expr(f, table_schema.table_schema(), &decode)?),
            None => None,
        };
        let place = ctx.session_config().get_extension::<ScanPlace>();
        let source =
            MsgpackSource::new(table_schema, Arc::new(options), report_of(ctx)).with_filter(filter).with_place(place);
        let config = parse_protobuf_file_scan_config(&conf, &decode, proto_converter, Arc::new(source))?;
        Ok(DataSourceExec::from_data_source(config))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        let scan = node.downcast_ref::<DataSourceExec>().and_then(|e| e.downcast_to_file_source::<MsgpackSource>());
        let Some((config, source)) = scan else {
            return self.inner.try_encode(node, buf, proto_converter);
        };
        let filter = match source.pushed_filter() {
            Some(f) => Some(proto_converter.physical_expr_to_proto(f, self)?),
            None => None,
        };
        // The cache is the client's: executors read their files from the source.
        let options = serde_json::to_string(&source.options().clone().cache(None))
            .map_err(|e| DataFusionError::Internal(format!("cannot encode MessagePack read options: {e}")))?;
        let node = ScanNode {
            version: VERSION.to_string(),
            conf: Some(serialize_file_scan_config(config, self, proto_converter)?),
            options,
            filter,
        };
        buf.extend_from_slice(SCAN_MAGIC);
        node.encode(buf).map_err(|e| DataFusionError::Internal(format!("cannot encode a MessagePack scan: {e}")))
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf).unwrap_or_else(|| self.inner.try_decode_udf(name, buf))
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if encode_udf(node, buf) { Ok(()) } else { self.inner.try_encode_udf(node, buf) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasource::SessionContextExt;
    use crate::options::{MsgpackReadOptions, OnError};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::datasource::source_as_provider;
    use datafusion::physical_plan::{collect, displayable};
    use datafusion::prelude::{SessionConfig, SessionContext};
    use datafusion_proto::bytes::{
        logical_plan_from_bytes_with_extension_codec, logical_plan_to_bytes_with_extension_codec,
        physical_plan_from_bytes_with_extension_codec, physical_plan_to_bytes_with_extension_codec,
    };

    fn logs() -> String {
        format!("{}/testdata/logs.msgpack", env!("CARGO_MANIFEST_DIR"))
    }

    async fn ctx(opts: MsgpackReadOptions) -> SessionContext {
        let state = crate::cluster::state(SessionConfig::new().with_target_partitions(3), &opts).expect("state");
        let ctx = SessionContext::new_with_state(state);
        ctx.register_msgpack("logs", logs(), opts).await.expect("register");
        ctx
    }

    /// The MessagePack table under a plan's first scan.
    fn table_of(plan: &LogicalPlan) -> Arc<dyn TableProvider> {
        let mut found = None;
        plan.apply(|n| {
            if let LogicalPlan::TableScan(s) = n {
                found = Some(source_as_provider(&s.source).expect("provider"));
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .expect("walk");
        found.expect("a table scan")
    }

    #[tokio::test]
    async fn a_table_travels_as_its_description_and_schema() {
        let opts = MsgpackReadOptions::default().on_error(OnError::Drop).max_errors(Some(7)).with_record(true);
        let ctx = ctx(opts.clone()).await;
        let sql = "SELECT service, count(*) FROM logs WHERE level = 'error' GROUP BY 1";
        let plan = ctx.sql(sql).await.expect("plan").into_optimized_plan().expect("optimize");
        let codec = LogicalCodec::default();
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &codec).expect("encode");
        let back = logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).expect("decode");
        assert_eq!(format!("{}", back.display_indent()), format!("{}", plan.display_indent()));
        let (sent, got) = (table_of(&plan), table_of(&back));
        let got = got.downcast_ref::<MsgpackTable>().expect("a MessagePack table");
        assert_eq!(got.desc(), sent.downcast_ref::<MsgpackTable>().expect("sent").desc());
        assert_eq!(got.desc().options, opts);
        assert_eq!(got.schema(), sent.schema(), "the schema travels; nothing is inferred again");
    }

    #[tokio::test]
    async fn a_scan_travels_with_its_projection_filter_limit_and_options() {
        let ctx = ctx(MsgpackReadOptions::default().on_error(OnError::Null)).await;
        for sql in [
            "SELECT service, latency_ms FROM logs WHERE latency_ms > 100 AND service <> 'auth'",
            "SELECT \"user\".geo.country AS c FROM logs LIMIT 7",
            "SELECT count(*) FROM logs WHERE mp_typeof(code) = 'int'",
        ] {
            let plan = ctx.sql(sql).await.expect("plan").create_physical_plan().await.expect("physical");
            let codec = PhysicalCodec::default();
            let bytes = physical_plan_to_bytes_with_extension_codec(Arc::clone(&plan), &codec).expect("encode");
            let back = physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).expect("decode");
            let shown = |p: &Arc<dyn ExecutionPlan>| displayable(p.as_ref()).indent(true).to_string();
            assert_eq!(shown(&back), shown(&plan), "{sql}");
            assert!(shown(&plan).contains("file_type=msgpack"), "{}", shown(&plan));
            let rows = |b: Vec<datafusion::arrow::array::RecordBatch>| {
                datafusion::arrow::util::pretty::pretty_format_batches(&b).expect("format").to_string()
            };
            let want = rows(collect(plan, ctx.task_ctx()).await.expect("run"));
            assert_eq!(rows(collect(back, ctx.task_ctx()).await.expect("run decoded")), want, "{sql}");
        }
    }

    #[tokio::test]
    async fn a_write_plan_travels_with_its_written_form_and_partition_texts() {
        use crate::convert::{WriteFormat, WriteOptions, write_plan};
        let ctx = ctx(MsgpackReadOptions::default()).await;
        let input = ctx.sql("SELECT * FROM logs").await.expect("plan").into_unoptimized_plan();
        let mut opts = WriteOptions::new(WriteFormat::Parquet);
        opts.partition_by = vec!["level".into()];
        opts.timestamp_unit = Some(datafusion::arrow::datatypes::TimeUnit::Microsecond);
        let plan = write_plan(&ctx.state(), input, "/nonexistent/out/", &opts).expect("write plan");
        let shown = format!("{}", plan.display_indent());
        assert!(shown.contains("mpq_write_form") && shown.contains("mpq_partition_text"), "{shown}");
        let codec = LogicalCodec::default();
        let bytes = logical_plan_to_bytes_with_extension_codec(&plan, &codec).expect("encode");
        let back = logical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).expect("decode");
        // DataFusion 55 ships a COPY without its options (compression, row groups), which is
        // why the CLI writes in the client (`convert::fetch_copy`): only the query is compared.
        let query = |p: &LogicalPlan| format!("{}", p.inputs()[0].display_indent());
        assert_eq!(query(&back), query(&plan));
        assert_eq!(back.inputs()[0].schema(), plan.inputs()[0].schema());
    }

    #[tokio::test]
    async fn a_file_an_executor_cannot_open_is_named_with_the_executor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("gone.msgpack");
        std::fs::copy(logs(), &file).expect("copy");
        let opts = MsgpackReadOptions::default();
        let config = SessionConfig::new().with_extension(Arc::new(ScanPlace("executor x1:50051".into())));
        let ctx = SessionContext::new_with_state(crate::cluster::state(config, &opts).expect("state"));
        ctx.register_msgpack("t", file.display().to_string(), opts).await.expect("register");
        let plan = ctx.sql("SELECT count(*) FROM t").await.expect("plan").create_physical_plan().await.expect("plan");
        let codec = PhysicalCodec::default();
        let bytes = physical_plan_to_bytes_with_extension_codec(plan, &codec).expect("encode");
        let back = physical_plan_from_bytes_with_extension_codec(&bytes, &ctx.task_ctx(), &codec).expect("decode");
        std::fs::remove_file(&file).expect("remove");
        let err = collect(back, ctx.task_ctx()).await.expect_err("the file is gone");
        let msg = err.to_string();
        assert!(msg.contains("gone.msgpack") && msg.contains("on executor x1:50051"), "{msg}");
    }

    #[tokio::test]
    async fn a_node_from_another_version_is_refused_by_name() {
        let ctx = ctx(MsgpackReadOptions::default()).await;
        let mut buf = TABLE_MAGIC.to_vec();
        let desc = TableDesc { urls: vec![logs()], partitions: vec![], options: MsgpackReadOptions::default() };
        serde_json::to_writer(&mut buf, &TableNode { version: "0.0.1".into(), table: desc }).expect("json");
        let schema = Arc::new(datafusion::arrow::datatypes::Schema::empty());
        let err = LogicalCodec::default()
            .try_decode_table_provider(&buf, &TableReference::bare("t"), schema, &ctx.task_ctx())
            .expect_err("another version");
        assert!(err.to_string().contains("encoded by mpq 0.0.1 reached mpq"), "{err}");
    }
}
