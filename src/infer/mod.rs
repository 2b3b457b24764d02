//! Schema inference: samples each input (the first records plus probes spread through it, or
//! every record), merges the lattices of *all* inputs, and resolves one Arrow schema with the
//! reserved columns (`time` for event layouts, `value`, `_extra`, `_record`). Results per file
//! are cached by (path, size, mtime, options).

pub mod lattice;

use crate::layout::{Detection, FrameLimits, Framer, Layout, detect};
use crate::variant::variant_field;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use lattice::{LatticeOptions, Node};
use mpq_wire::Cursor;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Column holding the event time in event layouts.
pub const TIME_COLUMN: &str = "time";
/// Column holding non-map records.
pub const VALUE_COLUMN: &str = "value";
/// Variant column with the key/value pairs that did not fit the inferred columns.
pub const EXTRA_COLUMN: &str = "_extra";
/// Variant column with the whole record, on request.
pub const RECORD_COLUMN: &str = "_record";
/// Field metadata key that marks the reserved columns (values: `event_time`, `value`,
/// `extra`, `record`); fields without it are record keys.
pub const ROLE_KEY: &str = "mpq.role";

fn with_role(f: Field, role: &str) -> Field {
    let mut md = f.metadata().clone();
    md.insert(ROLE_KEY.to_string(), role.to_string());
    f.with_metadata(md)
}

/// How much of each input inference reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sample {
    /// The first `head` records of each file, plus `probes` runs of `probe_records` records
    /// starting at record boundaries found at evenly spread offsets.
    Records {
        /// Leading records per file.
        head: usize,
        /// Probes per file.
        probes: usize,
        /// Records per probe.
        probe_records: usize,
    },
    /// Every record of every file.
    All,
}

impl Default for Sample {
    /// The documented default: 1000 leading records and 8 probes of 100 records per file.
    fn default() -> Self {
        Sample::Records { head: 1000, probes: 8, probe_records: 100 }
    }
}

/// Options for inference.
#[derive(Debug, Clone, Copy)]
pub struct InferOptions {
    /// How much to read.
    pub sample: Sample,
    /// Lattice thresholds.
    pub lattice: LatticeOptions,
    /// Framing limits.
    pub limits: FrameLimits,
}

/// What inference saw in one input.
#[derive(Debug, Clone)]
pub struct FileInference {
    /// Layout and evidence.
    pub detection: Detection,
    /// The record bodies (maps) of records and events layouts.
    pub root: Node,
    /// The top-level values of the values layout.
    pub values: Node,
    /// Event times.
    pub time: Node,
    /// Records observed.
    pub records: u64,
    /// True when every record of the input was observed.
    pub complete: bool,
    /// Records whose body was not a map (records and events layouts).
    pub not_maps: u64,
    /// A framing error met while sampling, as text.
    pub problem: Option<String>,
}

/// Infers what one input holds.
pub fn infer_slice(buf: &[u8], path: &str, opts: &InferOptions) -> FileInference {
    let depth = opts.limits.max_depth;
    let detection = detect(buf, depth);
    let mut fi = FileInference {
        detection,
        root: Node::default(),
        values: Node::default(),
        time: Node::default(),
        records: 0,
        complete: false,
        not_maps: 0,
        problem: None,
    };
    let layout = fi.detection.layout;
    let head = match opts.sample {
        Sample::All => usize::MAX,
        Sample::Records { head, .. } => head,
    };
    let mut framer = Framer::new(buf, 0, layout, opts.limits, 0);
    let end = observe_run(&mut fi, &mut framer, buf, head, opts, path);
    if end >= buf.len() || fi.problem.is_some() {
        fi.complete = fi.problem.is_none();
        return fi;
    }
    if let Sample::Records { probes, probe_records, .. } = opts.sample {
        if layout == Layout::Values {
            return fi;
        }
        let span = buf.len() - end;
        for k in 0..probes {
            let at = end + span * k / probes.max(1);
            if let Some(start) = crate::split::probe_boundary(buf, at, layout, opts.limits) {
                let mut f = Framer::new(buf, start, layout, opts.limits, 0);
                // A verified guess can still start at a nested map that ends its parent
                // record (the only way a misaligned run of maps can look right), so the
                // first record of a probe is not observed.
                let _ = f.next();
                observe_run(&mut fi, &mut f, buf, probe_records, opts, path);
                fi.problem = None; // a probe's errors are reported by the scan, not here
            }
        }
    }
    fi
}

/// Observes up to `n` records from the framer; returns the offset reached.
fn observe_run(
    fi: &mut FileInference,
    framer: &mut Framer<'_>,
    buf: &[u8],
    n: usize,
    opts: &InferOptions,
    path: &str,
) -> usize {
    let depth = opts.limits.max_depth;
    for _ in 0..n {
        match framer.next() {
            None => break,
            Some(Err(e)) => {
                fi.problem = Some(e.into_error(path, buf).to_string());
                break;
            }
            Some(Ok(rec)) => {
                fi.records += 1;
                if let Some(t) = rec.time {
                    let _ = fi.time.observe(&mut Cursor::at(buf, t), depth, &opts.lattice);
                }
                let mut cur = Cursor::at(buf, rec.body);
                let is_map = matches!(cur.peek(), Some(0x80..=0x8f | 0xde | 0xdf));
                let node = match fi.detection.layout {
                    Layout::Values => &mut fi.values,
                    _ if !is_map => {
                        fi.not_maps += 1;
                        continue;
                    }
                    _ => &mut fi.root,
                };
                // Framing checked the record is complete and within the depth limit.
                let _ = node.observe(&mut cur, depth, &opts.lattice);
            }
        }
    }
    framer.pos()
}

/// What inference concluded for a whole table: per input and merged.
#[derive(Debug, Clone, Default)]
pub struct TableInference {
    /// Each input and what was seen in it.
    pub files: Vec<(String, Arc<FileInference>)>,
    /// Merged record bodies.
    pub root: Node,
    /// Merged top-level values (values layout), if any input uses it.
    pub values: Option<Node>,
    /// Merged event times, if any input is an event stream.
    pub time: Option<Node>,
    /// Record keys that cannot be columns because the name is reserved, and so always go to
    /// `_extra` (for example a `time` key in an event stream), with what was seen.
    pub shadowed: Vec<(String, Node)>,
}

impl TableInference {
    /// Merges per-input results.
    pub fn merge(files: Vec<(String, Arc<FileInference>)>) -> Self {
        let mut t = TableInference::default();
        for (_, f) in &files {
            t.root.merge(&f.root);
            match f.detection.layout {
                Layout::Values => t.values.get_or_insert_with(Default::default).merge(&f.values),
                Layout::Events => t.time.get_or_insert_with(Default::default).merge(&f.time),
                Layout::Records => {}
            }
        }
        let mut reserved = vec![EXTRA_COLUMN, RECORD_COLUMN];
        if t.time.is_some() {
            reserved.push(TIME_COLUMN);
        }
        if t.values.is_some() {
            reserved.push(VALUE_COLUMN);
        }
        for name in reserved {
            if let Some(n) = t.root.remove_field(name) {
                t.shadowed.push((name.to_string(), n));
            }
        }
        t.files = files;
        t
    }

    /// Records observed across inputs.
    pub fn records(&self) -> u64 {
        self.files.iter().map(|(_, f)| f.records).sum()
    }

    /// Record maps observed (the denominator for missing-key counts).
    pub fn maps(&self) -> u64 {
        self.root.counts.map
    }

    /// The table's Arrow schema: `time` (event layouts), the record fields in first-seen
    /// order, `value` (values layout), `_extra`, and `_record` when asked for.
    pub fn schema(&self, with_record: bool) -> Schema {
        let mut fields = Vec::new();
        if self.time.is_some() {
            let f = Field::new(TIME_COLUMN, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true);
            fields.push(with_role(f, "event_time"));
        }
        if self.root.dict.is_some() {
            // Top-level keys too many for columns: the record itself is the one column.
            fields.push(with_role(variant_field(RECORD_COLUMN), "record"));
        } else {
            fields.extend(self.root.fields.iter().map(|(k, n)| n.field(k)));
        }
        if let Some(v) = &self.values {
            fields.push(with_role(v.field(VALUE_COLUMN), "value"));
        }
        if self.root.dict.is_none() {
            fields.push(with_role(variant_field(EXTRA_COLUMN), "extra"));
        }
        if with_record && self.root.dict.is_none() {
            fields.push(with_role(variant_field(RECORD_COLUMN), "record"));
        }
        Schema::new(fields)
    }
}

fn cache() -> &'static Mutex<HashMap<CacheKey, Arc<FileInference>>> {
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, Arc<FileInference>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Entries the cache holds at most; it is cleared when full.
const CACHE_ENTRIES: usize = 4096;

/// The key of the inference cache: (path, size, mtime in nanoseconds, options).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String, u64, i128, String);

impl CacheKey {
    /// The key of a file as listed (path, size, mtime) under these options.
    pub fn new(path: &str, size: u64, mtime: i128, opts: &InferOptions) -> Self {
        CacheKey(path.to_string(), size, mtime, format!("{:?}|{:?}|{:?}", opts.sample, opts.lattice, opts.limits))
    }
}

/// A cached inference for the key, if any; a file whose size or mtime changed misses.
pub fn cache_get(key: &CacheKey) -> Option<Arc<FileInference>> {
    cache().lock().ok().and_then(|c| c.get(key).cloned())
}

/// Keeps an inference for the key.
pub fn cache_put(key: CacheKey, fi: Arc<FileInference>) {
    if let Ok(mut c) = cache().lock() {
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(key, fi);
    }
}
