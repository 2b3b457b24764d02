//! Tables over a byte stream read once (standard input, a pipe, a socket): the first records
//! are read ahead for inference, then the scan decodes the read-ahead bytes followed by the
//! rest of the stream, holding one batch at a time ([`crate::reader::ReaderBatches`]).
//! gzip and zstd streams are decompressed as they are read.

use crate::error::Error;
use crate::infer::{TableInference, infer_slice};
use crate::input::{Compression, expand_forward};
use crate::layout::{Framer, Layout, detect_or};
use crate::options::MsgpackReadOptions;
use crate::reader::decode_reader;
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

/// The most bytes read ahead for inference.
const READ_AHEAD_MAX: usize = 64 << 20;
/// Bytes read at a time while reading ahead.
const READ_AHEAD_STEP: usize = 1 << 20;

type Source = Box<dyn Read + Send>;

/// One stream, read by the first scan; a second scan is an error (the bytes are gone).
struct OnceStream {
    schema: SchemaRef,
    name: String,
    options: MsgpackReadOptions,
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
        builder.spawn_blocking(move || {
            let Some(source) = source else {
                let msg = format!("{name} was read by an earlier scan; a stream can be scanned once");
                return Err(DataFusionError::External(Box::new(Error::Input(msg))));
            };
            for batch in decode_reader(source, schema, None, &options)?.named(&name) {
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
/// first records (as many as the options' sample takes, at most 64 MiB read ahead), and
/// returns what inference saw. The table can be scanned once.
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
    let got = read_full(&mut reader, &mut magic).map_err(|e| io(name, e))?;
    let head = magic[..got].to_vec();
    let mut reader: Source = Box::new(std::io::Cursor::new(head.clone()).chain(reader));
    if let Some(c) = Compression::of(&head) {
        reader = c.reader(reader).map_err(|e| io(name, e))?;
    }
    let ahead = read_ahead(&mut reader, options).map_err(|e| io(name, e))?;
    // Inference sees compressed forward entries decompressed, as the scan will.
    let expanded = match detect_or(&ahead, options.layout, options.max_depth).layout {
        Layout::Forward => {
            expand_forward(&ahead, options.max_depth, options.max_decompressed_bytes).and_then(|r| r.ok())
        }
        _ => None,
    };
    let fi = infer_slice(expanded.as_deref().unwrap_or(&ahead), name, &options.infer_options());
    let inference = TableInference::merge(vec![(name.to_string(), Arc::new(fi))]);
    let schema: SchemaRef = Arc::new(inference.schema(options.with_record));
    let source: Source = Box::new(std::io::Cursor::new(ahead).chain(reader));
    let stream = OnceStream {
        schema: Arc::clone(&schema),
        name: name.to_string(),
        options: options.clone(),
        source: Mutex::new(Some(source)),
    };
    let table_provider = StreamingTable::try_new(schema, vec![Arc::new(stream)])?;
    ctx.register_table(table, Arc::new(table_provider))?;
    Ok(inference)
}

/// Reads until the sample's head of records is framed, the stream ends, or
/// [`READ_AHEAD_MAX`] bytes were read.
fn read_ahead(reader: &mut Source, options: &MsgpackReadOptions) -> std::io::Result<Vec<u8>> {
    let want = match options.sample {
        crate::infer::Sample::All => usize::MAX,
        crate::infer::Sample::Records { head, .. } => head,
    };
    let mut buf = Vec::new();
    // Framing goes on where it stopped: at the record the last read cut.
    let (mut pos, mut entry, mut framed) = (0, None, 0);
    loop {
        let old = buf.len();
        buf.resize(old + READ_AHEAD_STEP, 0);
        let n = read_full(reader, &mut buf[old..])?;
        buf.truncate(old + n);
        let layout = detect_or(&buf, options.layout, options.max_depth).layout;
        let mut framer = Framer::new(&buf, pos, layout, options.limits(), 0).resume(entry);
        while framed < want && framer.next().is_some_and(|r| r.is_ok()) {
            framed += 1;
            (pos, entry) = (framer.pos(), framer.entry());
        }
        if n == 0 || framed >= want || buf.len() >= READ_AHEAD_MAX {
            return Ok(buf);
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn io(name: &str, source: std::io::Error) -> DataFusionError {
    DataFusionError::External(Box::new(Error::Io { path: name.to_string(), source }))
}
