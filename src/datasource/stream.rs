//! Tables over a byte stream read once (standard input, a pipe, a socket): the first records
//! are read ahead for inference, then the scan decodes the read-ahead bytes followed by the
//! rest of the stream, holding one batch at a time ([`crate::reader::ReaderBatches`]).
//! gzip and zstd streams are decompressed as they are read.

use crate::error::Error;
use crate::infer::{TableInference, infer_slice};
use crate::input::{Compression, expand_if_forward, read_ahead, read_full};
use crate::options::MsgpackReadOptions;
use crate::reader::decode_reader;
use crate::report::ScanReport;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStreamBuilder;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::prelude::SessionContext;
use std::io::Read;
use std::sync::{Arc, Mutex};

type Source = Box<dyn Read + Send>;

/// One stream, read by the first scan; a second scan is an error (the bytes are gone).
struct OnceStream {
    schema: SchemaRef,
    name: String,
    options: MsgpackReadOptions,
    report: ScanReport,
    source: Mutex<Option<Source>>,
}

impl std::fmt::Debug for OnceStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnceStream").field("name", &self.name).finish()
    }
}

impl PartitionStream for OnceStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let mut builder = RecordBatchReceiverStreamBuilder::new(Arc::clone(&self.schema), 2);
        let tx = builder.tx();
        let source = self.source.lock().ok().and_then(|mut s| s.take());
        let (schema, name, options) = (Arc::clone(&self.schema), self.name.clone(), self.options.clone());
        let report = self.report.clone();
        builder.spawn_blocking(move || {
            let Some(source) = source else {
                let msg = format!("{name} was read by an earlier scan; a stream can be scanned once");
                return Err(DataFusionError::External(Box::new(Error::Input(msg))));
            };
            for batch in decode_reader(source, schema, None, &options)?.named(&name).with_report(&report) {
                if tx.blocking_send(batch.map_err(DataFusionError::from)).is_err() {
                    break; // the query stopped reading (a LIMIT was reached)
                }
            }
            Ok(())
        });
        builder.build()
    }
}

/// Registers `reader` (named `name` in messages) as table `table`: infers the schema from the
/// first records (as many as the options' sample takes, at most
/// [`crate::input::READ_AHEAD_MAX`] read ahead), and
/// returns what inference saw. The table can be scanned once; its scan adds to the session's
/// report ([`super::SessionContextExt::msgpack_report`]).
pub fn register_stream(
    ctx: &SessionContext,
    table: &str,
    name: &str,
    reader: impl Read + Send + 'static,
    options: &MsgpackReadOptions,
) -> Result<TableInference> {
    options.validate()?;
    let mut reader: Source = Box::new(reader);
    let mut magic = [0u8; 4];
    let got = read_full(&mut *reader, &mut magic).map_err(|e| io(name, e))?;
    let head = magic[..got].to_vec();
    let mut reader: Source = Box::new(std::io::Cursor::new(head.clone()).chain(reader));
    if let Some(c) = Compression::of(&head) {
        reader = c.reader(reader).map_err(|e| io(name, e))?;
    }
    // A read error here comes back to the scan, which reports it (or fails, per the
    // framing policy) after the records before it.
    let (ahead, _) = read_ahead(&mut reader, options);
    crate::input::refuse_foreign(&ahead, name, options)?;
    if crate::framing::seqfile::reads_as_seqfile(&ahead, options.layout) {
        let msg =
            format!("{name}: a Hadoop SequenceFile is read from a file, not from a stream; save it to a file first");
        return Err(DataFusionError::External(Box::new(Error::Input(msg))));
    }
    // Inference sees compressed forward entries decompressed, as the scan will.
    let expanded = expand_if_forward(&ahead, options).and_then(|r| r.ok());
    let fi = infer_slice(expanded.as_deref().unwrap_or(&ahead), name, &options.infer_options());
    let inference = TableInference::merge(vec![(name.to_string(), Arc::new(fi))]);
    let schema: SchemaRef = Arc::new(options.schema_of(&inference));
    let source: Source = Box::new(std::io::Cursor::new(ahead).chain(reader));
    let stream = OnceStream {
        schema: Arc::clone(&schema),
        name: name.to_string(),
        options: options.clone(),
        report: super::SessionContextExt::msgpack_report(ctx),
        source: Mutex::new(Some(source)),
    };
    let table_provider = StreamingTable::try_new(schema, vec![Arc::new(stream)])?;
    ctx.register_table(table, Arc::new(table_provider))?;
    Ok(inference)
}

fn io(name: &str, source: std::io::Error) -> DataFusionError {
    DataFusionError::External(Box::new(Error::Io { path: name.to_string(), source }))
}
