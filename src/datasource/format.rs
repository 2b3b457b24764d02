//! [`MsgpackFormat`] (planning: schema inference over every input file, plan creation) and
//! [`MsgpackFormatFactory`] (turns `OPTIONS(...)` of `CREATE EXTERNAL TABLE ... STORED AS
//! MSGPACK` into a format).

use super::source::MsgpackSource;
use crate::infer::{CacheKey, TableInference, cache_get, cache_put, infer_slice};
use crate::options::{FramingPolicy, MsgpackReadOptions};
use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{GetExt, Result, Statistics};
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::{FileFormat, FileFormatFactory};
use datafusion::datasource::physical_plan::{FileScanConfig, FileSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::DataFusionError;
use datafusion::physical_plan::ExecutionPlan;
use object_store::{GetResultPayload, ObjectMeta, ObjectStore, ObjectStoreExt};
use std::collections::HashMap;
use std::sync::Arc;

/// The file extension of MessagePack tables (`STORED AS MSGPACK` and `'path/*.msgpack'`).
pub const MSGPACK_EXTENSION: &str = "msgpack";

/// Creates [`MsgpackFormat`]s, with options from `OPTIONS(...)`:
/// `infer_rows` (a number or `all`), `max_struct_fields`, `max_depth`, `max_record_bytes`,
/// `with_record` (`true`/`false`), `framing` (`fail`/`truncate`), `layout` (`auto` or a
/// layout name), `max_decompressed_bytes`.
#[derive(Debug, Default)]
pub struct MsgpackFormatFactory {
    /// Options every created format starts from.
    pub options: MsgpackReadOptions,
}

impl MsgpackFormatFactory {
    /// A factory whose formats start from `options`.
    pub fn new(options: MsgpackReadOptions) -> Self {
        MsgpackFormatFactory { options }
    }
}

fn parse_num(k: &str, v: &str) -> Result<usize> {
    v.parse().map_err(|_| DataFusionError::Configuration(format!("msgpack option {k} takes a number, not {v:?}")))
}

/// Applies `OPTIONS(...)` key/value pairs to read options.
pub fn apply_options(mut o: MsgpackReadOptions, kv: &HashMap<String, String>) -> Result<MsgpackReadOptions> {
    for (k, v) in kv {
        let key = k.strip_prefix("format.").unwrap_or(k);
        o = match key {
            "infer_rows" if v == "all" => o.infer_all(),
            "infer_rows" => o.infer_rows(parse_num(key, v)?),
            "max_struct_fields" => o.max_struct_fields(parse_num(key, v)?),
            "max_depth" => o.max_depth(parse_num(key, v)?),
            "max_record_bytes" => o.max_record_bytes(parse_num(key, v)?),
            "with_record" => o.with_record(v == "true"),
            "filter_pushdown" => o.filter_pushdown(v == "true"),
            "layout" if v == "auto" => o.layout(None),
            "layout" => o.layout(Some(v.parse().map_err(DataFusionError::Configuration)?)),
            "max_decompressed_bytes" => o.max_decompressed_bytes(parse_num(key, v)? as u64),
            "framing" => {
                o.framing(v.parse::<FramingPolicy>().map_err(|e| DataFusionError::Configuration(e.to_string()))?)
            }
            other => {
                return Err(DataFusionError::Configuration(format!("unknown msgpack option {other:?}")));
            }
        };
    }
    o.validate()?;
    Ok(o)
}

impl FileFormatFactory for MsgpackFormatFactory {
    fn create(&self, _state: &dyn Session, format_options: &HashMap<String, String>) -> Result<Arc<dyn FileFormat>> {
        let options = apply_options(self.options.clone(), format_options)?;
        Ok(Arc::new(MsgpackFormat::new(options)))
    }

    fn default(&self) -> Arc<dyn FileFormat> {
        Arc::new(MsgpackFormat::new(self.options.clone()))
    }
}

impl GetExt for MsgpackFormatFactory {
    fn get_ext(&self) -> String {
        MSGPACK_EXTENSION.to_string()
    }
}

/// The MessagePack file format.
#[derive(Debug, Default)]
pub struct MsgpackFormat {
    options: Arc<MsgpackReadOptions>,
}

impl MsgpackFormat {
    /// A format with these options.
    pub fn new(options: MsgpackReadOptions) -> Self {
        MsgpackFormat { options: Arc::new(options) }
    }

    /// The options.
    pub fn options(&self) -> &MsgpackReadOptions {
        &self.options
    }

    /// Infers what every object holds (per file, through the cache) and merges them all,
    /// unlike DataFusion's listing inference, which looks at the first path only.
    pub async fn infer_table(&self, store: &Arc<dyn ObjectStore>, objects: &[ObjectMeta]) -> Result<TableInference> {
        let opts = self.options.infer_options();
        let mut files = Vec::with_capacity(objects.len());
        for meta in objects {
            let path = meta.location.to_string();
            let mtime = meta.last_modified.timestamp_nanos_opt().unwrap_or_default() as i128;
            let key = CacheKey::new(&path, meta.size, mtime, &opts);
            let fi = match cache_get(&key) {
                Some(hit) => hit,
                None => {
                    let input = read_object(store, meta, &self.options).await?;
                    let (sample, whole) = input.sample_bytes(&display_path(&path), &self.options)?;
                    let mut fi = infer_slice(&sample, &display_path(&path), &opts);
                    input.bytes.check_intact(&display_path(&path))?;
                    fi.complete &= whole;
                    fi.tag |= input.meta.as_ref().is_some_and(|m| m.tag.is_some());
                    for step in &input.steps {
                        fi.detection.evidence.push_str("; ");
                        fi.detection.evidence.push_str(step);
                    }
                    let fi = Arc::new(fi);
                    cache_put(key, Arc::clone(&fi));
                    fi
                }
            };
            // A sidecar is read with its chunk; listing it as an input would only confuse.
            if fi.records == 0 && crate::input::is_sidecar_name(meta.location.filename().unwrap_or_default()) {
                continue;
            }
            files.push((display_path(&path), fi));
        }
        Ok(TableInference::merge(files))
    }
}

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
    let got = store.get(&meta.location).await?;
    let bytes = match got.payload {
        GetResultPayload::File(_, path) => crate::source::file_bytes(&path, opts.mmap)?,
        GetResultPayload::Stream(_) => crate::source::FileBytes::in_memory(got.bytes().await?),
    };
    let path = display_path(meta.location.as_ref());
    let mut input = crate::input::prepare(bytes, &path, opts)?;
    let name = meta.location.filename().unwrap_or_default();
    if crate::input::is_chunk_name(name) && !input.bytes.bytes.is_empty() {
        let sidecar = object_store::path::Path::from(format!("{}.meta", meta.location));
        match store.get(&sidecar).await {
            Ok(got) => match crate::input::parse_meta(&got.bytes().await?) {
                Ok(m) => {
                    input.steps.push(match (&m.tag, m.records) {
                        (Some(t), Some(n)) => format!("tag {t:?} and {n} records per its .meta sidecar"),
                        (Some(t), None) => format!("tag {t:?} per its .meta sidecar"),
                        (None, _) => "a .meta sidecar without a tag".to_string(),
                    });
                    input.meta = Some(m);
                }
                Err(e) => input.notes.push(format!("{path}.meta: {e}; the chunk is read without it")),
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
        Arc::new(MsgpackSource::new(table_schema, Arc::clone(&self.options)))
    }
}
