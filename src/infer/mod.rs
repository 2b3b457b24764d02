//! Schema inference: samples each input (the first records plus probes spread through it, or
//! every record), merges the lattices of *all* inputs, and resolves one Arrow schema with the
//! reserved columns (`time` for event layouts, `value`, `_extra`, `_record`). Results per file
//! of 1 MiB or more are cached by (path, size, mtime, options); smaller files are observed
//! straight into the merge (`TableInference::observe`).

pub mod lattice;
pub mod role;

use crate::framing::{DETECT_RECORDS, Detection, FrameLimits, Framer, Layout, detect_or};
use crate::options::MsgpackReadOptions;
use crate::variant::variant_field;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use lattice::{LatticeOptions, Node};
use mpq_wire::Cursor;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Column holding the event time in event layouts.
pub const TIME_COLUMN: &str = "time";
/// The tag of the forward layout and of buffer chunks with a `.meta` sidecar.
pub const TAG_COLUMN: &str = "tag";
/// The metadata of Fluent Bit records.
pub const METADATA_COLUMN: &str = "metadata";
/// The key of SequenceFile records.
pub const KEY_COLUMN: &str = "key";
/// Column holding non-map records.
pub const VALUE_COLUMN: &str = "value";
/// Variant column with the key/value pairs that did not fit the inferred columns.
pub const EXTRA_COLUMN: &str = "_extra";
/// Variant column with the whole record, on request.
pub const RECORD_COLUMN: &str = "_record";
/// The column of the raw bytes of records that had a record error (when asked for).
pub const CORRUPT_COLUMN: &str = "_corrupt_record";
pub use crate::options::Sample;
pub use role::{ROLE_KEY, Role, Roles};

/// What inference needs of the read options, and the schema they ask for.
impl MsgpackReadOptions {
    /// Inference options.
    pub fn infer_options(&self) -> InferOptions {
        InferOptions {
            sample: self.sample,
            lattice: LatticeOptions { max_struct_fields: self.max_struct_fields },
            limits: self.limits(),
            layout: self.layout,
            threads: self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        }
    }

    /// The table schema of what inference found, with the optional columns these options
    /// ask for (`_record`, `_corrupt_record`).
    pub fn schema_of(&self, t: &TableInference) -> Schema {
        let schema = t.schema(self.with_record);
        if !self.with_corrupt_record {
            return schema;
        }
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Role::Corrupt.mark(variant_field(CORRUPT_COLUMN)));
        Schema::new(fields)
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
    /// Threads that inference over every record may use on one input (it splits the input
    /// as a split scan does; the result is the same as on one thread).
    pub threads: usize,
    /// The layout of every input (`None`: detected).
    pub layout: Option<Layout>,
}

/// What inference saw in one input: its summary and the lattices it observed into.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileInference {
    /// Layout, evidence, counts and flags: what a table keeps once the lattices are merged.
    /// (Flattened: the stored form, `.infer` in the cache, has these fields at the top.)
    #[serde(flatten)]
    pub summary: FileSummary,
    /// The record bodies (maps) of records and events layouts.
    pub root: Node,
    /// The top-level values of the values layout.
    pub values: Node,
    /// Event times.
    pub time: Node,
}

/// Inputs at least this large are inferred on several threads when every record is read.
const PARALLEL_MIN_BYTES: usize = 16 << 20;

impl FileInference {
    fn empty(detection: Detection) -> Self {
        Self::observing_into(detection, Lattices::default())
    }

    /// An inference that has seen nothing yet and observes into `into`'s lattices.
    fn observing_into(detection: Detection, into: Lattices) -> Self {
        let Lattices { root, values, time } = into;
        let summary = FileSummary {
            tag: detection.layout.has_tag(),
            detection,
            records: 0,
            complete: false,
            not_maps: 0,
            problem: None,
            key: None,
        };
        FileInference { summary, root, values, time }
    }

    /// The lattices this inference observed into.
    fn into_lattices(self) -> Lattices {
        Lattices { root: self.root, values: self.values, time: self.time }
    }
}

/// The lattices an inference observes into (a [`FileInference`]'s), lent by a merge in
/// progress to infer an input straight into it ([`TableInference::observe`]).
#[derive(Debug, Default)]
pub(crate) struct Lattices {
    root: Node,
    values: Node,
    time: Node,
}

/// Infers what one input holds.
pub fn infer_slice(buf: &[u8], path: &str, opts: &InferOptions) -> FileInference {
    infer_slice_into(buf, path, opts, Lattices::default())
}

/// [`infer_slice`], observing into `into`'s lattices rather than new ones: its result's
/// lattices are `into`'s with this input's records observed after what they held.
pub(crate) fn infer_slice_into(buf: &[u8], path: &str, opts: &InferOptions, into: Lattices) -> FileInference {
    match infer_slice_undone_by(buf, path, opts, into, Undo::Here) {
        Ok(fi) => fi,
        Err(Spoiled) => unreachable!("inference that undoes its own chunks never leaves them spoiled"),
    }
}

/// [`infer_slice_into`], with what observing an unusual record spoils undone by `undo`: by
/// the caller, `Err(Spoiled)` says `into`'s lattices are lost (see [`RunInference`]).
fn infer_slice_undone_by(
    buf: &[u8],
    path: &str,
    opts: &InferOptions,
    into: Lattices,
    undo: Undo,
) -> Result<FileInference, Spoiled> {
    let mut fi = infer_records(buf, path, opts, into, undo)?;
    if fi.summary.detection.layout == Layout::SeqFile {
        let header = crate::framing::seqfile::SeqHeader::parse(buf);
        fi.summary.key = header.ok().and_then(|h| h.writables().ok()).map(|(k, _)| k);
    }
    Ok(fi)
}

/// Who undoes what observing records without framing them spoiled when one of them turns out
/// unusual (see [`observe_unframed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Undo {
    /// Observing itself: it walks a small rest first, or copies the lattices before each chunk.
    Here,
    /// The caller, which kept what it needs to (a copy from before several inputs): observing
    /// neither walks first nor copies, and an unusual record leaves the lattices [`Spoiled`].
    Caller,
}

/// The lattices lent to observe an input were spoiled by an unusual record, for the caller to
/// undo ([`Undo::Caller`]).
#[derive(Debug)]
struct Spoiled;

/// What the records of one input hold.
fn infer_records(
    buf: &[u8],
    path: &str,
    opts: &InferOptions,
    into: Lattices,
    undo: Undo,
) -> Result<FileInference, Spoiled> {
    let depth = opts.limits.max_depth;
    let head = match opts.sample {
        Sample::All => usize::MAX,
        Sample::Records { head, .. } => head,
    };
    let split = opts.sample == Sample::All && opts.threads > 1 && buf.len() >= PARALLEL_MIN_BYTES;
    let (mut fi, end) = match (opts.layout, split) {
        (None, false) => {
            let mut fi = FileInference::observing_into(assumed_records(), into);
            match head_of_maps(&mut fi, buf, path, opts, (head, (UNFRAMED_CHUNK, WALK_FIRST_BYTES)), undo)? {
                Some(end) => (fi, end),
                None => head_detected(buf, path, opts, head, (detect_or(buf, None, depth), fi.into_lattices())),
            }
        }
        _ => {
            let detection = detect_or(buf, opts.layout, depth);
            if let Some(forced) = opts.layout
                && let Err(msg) = crate::framing::check_forced(buf, forced, depth)
            {
                let mut fi = FileInference::observing_into(detection, into);
                fi.summary.problem = Some(format!("{path}: {msg}"));
                return Ok(fi);
            }
            if split && let Some(split) = infer_split(buf, path, opts, &detection) {
                // The ranges had lattices of their own: merged after what `into` held.
                let Lattices { mut root, mut values, mut time } = into;
                root.merge(&split.root);
                values.merge(&split.values);
                time.merge(&split.time);
                return Ok(FileInference { root, values, time, ..split });
            }
            head_detected(buf, path, opts, head, (detection, into))
        }
    };
    let layout = fi.summary.detection.layout;
    if end >= buf.len() || fi.summary.problem.is_some() {
        fi.summary.complete = fi.summary.problem.is_none();
        return Ok(fi);
    }
    if let Sample::Records { probes, probe_records, .. } = opts.sample {
        if !layout.splittable() {
            return Ok(fi);
        }
        let span = buf.len() - end;
        // Probes never overlap (nor the head), so no record is observed twice: in a file
        // little larger than the head they would, and count its records and keys twice.
        let mut reached = end;
        for k in 0..probes {
            let at = (end + span * k / probes.max(1)).max(reached);
            if let Some(start) = crate::framing::split::probe_boundary(buf, at, layout, opts.limits) {
                let mut f = Framer::new(buf, start, layout, opts.limits, 0);
                // A verified guess can still start at a nested map that ends its parent
                // record (the only way a misaligned run of maps can look right), so the
                // first record of a probe is not observed.
                let _ = f.next();
                reached = observe_run(&mut fi, &mut f, buf, (probe_records, usize::MAX), opts, path);
                fi.summary.problem = None; // a probe's errors are reported by the scan, not here
            }
        }
    }
    Ok(fi)
}

/// The first `head` records of an input of the layout `detection` found, observed into `into`:
/// the inference so far and the offset reached.
fn head_detected(
    buf: &[u8],
    path: &str,
    opts: &InferOptions,
    head: usize,
    (detection, into): (Detection, Lattices),
) -> (FileInference, usize) {
    let mut fi = FileInference::observing_into(detection, into);
    let mut framer = Framer::new(buf, 0, fi.summary.detection.layout, opts.limits, 0);
    let end = observe_run(&mut fi, &mut framer, buf, (head, usize::MAX), opts, path);
    (fi, end)
}

/// A plain stream of maps, as [`head_of_maps`] assumes before it knows (its evidence is
/// written once it does).
fn assumed_records() -> Detection {
    Detection { layout: Layout::Records, evidence: String::new() }
}

/// The head of an input that starts with a map, observed into `fi` (which has observed nothing
/// yet) as a plain stream of maps before its layout is detected: when its first
/// [`DETECT_RECORDS`] records (or all of them, if fewer) are maps that observing takes whole,
/// that is what detection would have concluded, with the same evidence, and detection's own
/// walk of them is saved (with thousands of small files, 5-9% of the time); the
/// offset reached. Otherwise `None`, and nothing was observed (the first chunk of records is
/// undone, see [`observe_unframed`]): the layout is for [`head_detected`] to detect. With
/// [`Undo::Caller`], an unusual record anywhere is `Err(Spoiled)` instead.
fn head_of_maps(
    fi: &mut FileInference,
    buf: &[u8],
    path: &str,
    opts: &InferOptions,
    (head, chunks): (usize, (usize, usize)),
    undo: Undo,
) -> Result<Option<usize>, Spoiled> {
    // What a chunk observed is undone when it meets an unusual record, so a chunk holding the
    // first records detection looks at leaves nothing observed when one of them is unusual.
    debug_assert!(chunks.0 >= DETECT_RECORDS);
    if head < DETECT_RECORDS || !buf.first().is_some_and(|b| mpq_wire::marker::is_map(*b)) {
        return Ok(None);
    }
    let (end, observed) = match observe_unframed(fi, buf, 0, (head, usize::MAX), opts, chunks, undo) {
        // Every record observed (to the end of the input or of the head): all maps.
        Unframed::Done(end) if fi.summary.records > 0 => (end, fi.summary.records as usize),
        Unframed::Unusual { at, observed } if observed >= DETECT_RECORDS => {
            (observe_framed_from(fi, buf, (at, observed, 0), (head, usize::MAX), opts, path), observed)
        }
        Unframed::Spoiled => return Err(Spoiled),
        // An unusual record among the first ones: undone, nothing observed.
        _ => return Ok(None),
    };
    let seen = observed.min(DETECT_RECORDS);
    fi.summary.detection =
        Detection { layout: Layout::Records, evidence: format!("{seen} of the first {seen} records are maps") };
    Ok(Some(end))
}

/// Every record of `buf`, read as a split scan reads it: one range per thread, each with its
/// own lattice, merged in order (fields keep their first-seen order, since a field new to a
/// later range was not in an earlier one). `None`, and the caller reads on one thread, when
/// the input cannot be split, a range does not end where the next starts, or a range other
/// than the last meets a framing error (one thread stops there; other ranges went on).
fn infer_split(buf: &[u8], path: &str, opts: &InferOptions, detection: &Detection) -> Option<FileInference> {
    let layout = detection.layout;
    let cuts = crate::framing::split::cut_points(buf, opts.threads, layout, opts.limits)?;
    let parts: Vec<(FileInference, usize)> = std::thread::scope(|s| {
        let runs: Vec<_> = cuts
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                s.spawn(move || {
                    let mut fi = FileInference::empty(detection.clone());
                    let mut framer = Framer::new(buf, from, layout, opts.limits, 0);
                    let end = observe_run(&mut fi, &mut framer, buf, (usize::MAX, to), opts, path);
                    (fi, end)
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join()).collect::<Result<_, _>>()
    })
    .ok()?;
    let last = parts.len() - 1;
    let mut fi = FileInference::empty(detection.clone());
    for (i, (part, end)) in parts.into_iter().enumerate() {
        if i < last && (part.summary.problem.is_some() || end != cuts[i + 1].max(cuts[i])) {
            return None;
        }
        fi.root.merge(&part.root);
        fi.values.merge(&part.values);
        fi.time.merge(&part.time);
        fi.summary.records += part.summary.records;
        fi.summary.not_maps += part.summary.not_maps;
        fi.summary.problem = part.summary.problem;
    }
    fi.summary.complete = fi.summary.problem.is_none();
    Some(fi)
}

/// Observes up to `n` records from the framer, and only records that start before `stop`;
/// returns the offset reached. Records of maps are framed by observing them (one walk each)
/// as long as nothing is unusual ([`observe_unframed`]); the framer takes over from there.
fn observe_run<'a>(
    fi: &mut FileInference,
    framer: &mut Framer<'a>,
    buf: &'a [u8],
    (n, stop): (usize, usize),
    opts: &InferOptions,
    path: &str,
) -> usize {
    if fi.summary.detection.layout == Layout::Records && framer.entry().is_none() {
        let from = framer.pos();
        return match observe_unframed(fi, buf, from, (n, stop), opts, (UNFRAMED_CHUNK, WALK_FIRST_BYTES), Undo::Here) {
            Unframed::Done(end) => end,
            Unframed::Unusual { at, observed } => {
                observe_framed_from(fi, buf, (at, observed, framer.records), (n, stop), opts, path)
            }
            Unframed::Spoiled => unreachable!("observing undoes its own chunks here"),
        };
    }
    observe_framed(fi, framer, buf, (n, stop), opts, path)
}

/// The rest of a run of `n` records that observing without a framer left at an unusual record
/// at `at`, after `observed` of them: a framer reads on from there, numbering its records after
/// `before` and those observed.
fn observe_framed_from(
    fi: &mut FileInference,
    buf: &[u8],
    (at, observed, before): (usize, usize, u64),
    (n, stop): (usize, usize),
    opts: &InferOptions,
    path: &str,
) -> usize {
    let mut framer = Framer::new(buf, at, Layout::Records, opts.limits, before + observed as u64);
    observe_framed(fi, &mut framer, buf, (n - observed, stop), opts, path)
}

/// Records observed between copies of what was observed before them: when a record is
/// unusual, the run goes back to the last copy and the framer reads on from there.
const UNFRAMED_CHUNK: usize = 1 << 16;

/// Bytes of input left at most for [`observe_unframed`] to walk them before observing them.
const WALK_FIRST_BYTES: usize = 2 << 10;

/// Whether the `records` records at `pos` (those that start before `stop`) are all maps that
/// observing takes whole: complete, within `depth` levels and `max_bytes` bytes.
fn usual(buf: &[u8], mut pos: usize, stop: usize, records: usize, depth: usize, max_bytes: usize) -> bool {
    for _ in 0..records {
        if pos >= stop || pos >= buf.len() {
            break;
        }
        let mut cur = Cursor::at(buf, pos);
        if !(mpq_wire::marker::is_map(buf[pos]) && cur.skip_value(depth).is_ok() && cur.pos() - pos <= max_bytes) {
            return false;
        }
        pos = cur.pos();
    }
    true
}

/// How far observing without a framer got.
enum Unframed {
    /// The run is over; the offset reached.
    Done(usize),
    /// A record at or after `at` is unusual: what was observed from `at` on is undone, and
    /// `observed` records (before `at`) were observed.
    Unusual { at: usize, observed: usize },
    /// A record is unusual, and what was observed is for the caller to undo ([`Undo::Caller`]).
    Spoiled,
}

/// Observes records of maps from `from`, each walked once, in chunks of `chunk` records: observing a map checks it is
/// complete and within the depth limit as framing does. Anything else (a value that is not
/// a map, damage, a record too large) is left to the framer, which reports it exactly; what
/// the chunk holding it had observed is undone first, so the result is what framing first
/// gives. With [`Undo::Caller`] nothing is walked first or copied, and anything unusual is
/// [`Unframed::Spoiled`].
fn observe_unframed(
    fi: &mut FileInference,
    buf: &[u8],
    from: usize,
    (n, stop): (usize, usize),
    opts: &InferOptions,
    (chunk, walk_first): (usize, usize),
    undo: Undo,
) -> Unframed {
    let (depth, max_bytes) = (opts.limits.max_depth, opts.limits.max_record_bytes);
    let (mut pos, mut observed) = (from, 0);
    loop {
        // The rest of a small input is walked first: when its records are usual, nothing
        // needs undoing, and walking a few KiB costs less than copying the lattices (which
        // does not get cheaper with the input: with many small files it was an eighth of
        // the time).
        let rest = stop.min(buf.len()).saturating_sub(pos);
        let here = undo == Undo::Here;
        let walked = here && rest <= walk_first && usual(buf, pos, stop, chunk.min(n - observed), depth, max_bytes);
        let saved = (here && !walked).then(|| (fi.root.clone(), fi.summary.records));
        let (chunk_at, chunk_observed) = (pos, observed);
        for _ in 0..chunk {
            if observed >= n || pos >= stop || pos >= buf.len() {
                return Unframed::Done(pos);
            }
            let mut cur = Cursor::at(buf, pos);
            let fits = mpq_wire::marker::is_map(buf[pos])
                && fi.root.observe(&mut cur, depth, &opts.lattice).is_ok()
                && cur.pos() - pos <= max_bytes;
            if !fits {
                if !here {
                    return Unframed::Spoiled;
                }
                // A walked chunk fits: observing fails exactly where skipping does.
                debug_assert!(saved.is_some(), "a walked chunk held an unusual record at {pos}");
                if let Some(saved) = saved {
                    (fi.root, fi.summary.records) = saved;
                }
                return Unframed::Unusual { at: chunk_at, observed: chunk_observed };
            }
            fi.summary.records += 1;
            observed += 1;
            pos = cur.pos();
        }
    }
}

/// Observes up to `n` records the framer frames (see [`observe_run`]).
fn observe_framed(
    fi: &mut FileInference,
    framer: &mut Framer<'_>,
    buf: &[u8],
    (n, stop): (usize, usize),
    opts: &InferOptions,
    path: &str,
) -> usize {
    let depth = opts.limits.max_depth;
    for _ in 0..n {
        if framer.pos() >= stop {
            break;
        }
        match framer.next() {
            None => break,
            Some(Err(e)) => {
                fi.summary.problem = Some(e.into_error(path, buf).to_string());
                break;
            }
            Some(Ok(rec)) => {
                fi.summary.records += 1;
                if let Some(t) = rec.time {
                    let _ = fi.time.observe(&mut Cursor::at(buf, t), depth, &opts.lattice);
                }
                let mut cur = Cursor::at(buf, rec.body);
                let is_map = cur.peek().is_some_and(mpq_wire::marker::is_map);
                let node = match fi.summary.detection.layout {
                    Layout::Values => &mut fi.values,
                    _ if !is_map => {
                        fi.summary.not_maps += 1;
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

/// A run of inputs inferred in order into one merge ([`TableInference::observe`]) without
/// copying its lattices before each input: observing records without framing them first
/// must be undone when one of them turns out unusual (see [`observe_unframed`]), and rather
/// than copy the run's lattices before every input (with thousands of small files, about 6%
/// of a query's profile), a copy is taken before every [`KEEP_INPUTS`] inputs (at most
/// [`KEEP_BYTES`] of them), whose bytes are kept (shared, not copied). An input that meets an
/// unusual record sends the lattices back to that copy; the inputs kept are observed again
/// and it is observed as [`infer_slice_into`] does, which undoes its own chunks, so the
/// result is what inferring every input that way concludes (a test checks it).
#[derive(Default)]
pub(crate) struct RunInference {
    merged: TableInference,
    /// The lattices (root, values, time) before the inputs in `since`.
    saved: Option<(Node, Option<Node>, Option<Node>)>,
    /// The inputs observed since `saved`: the bytes observed and the input's name.
    since: Vec<(bytes::Bytes, String)>,
    /// Their bytes together.
    since_bytes: usize,
}

/// Inputs observed at most between two copies of a [`RunInference`]'s lattices.
const KEEP_INPUTS: usize = 64;

/// Bytes of inputs kept at most between two copies of a [`RunInference`]'s lattices; a larger
/// input is observed undoing its own chunks.
const KEEP_BYTES: usize = 256 << 10;

impl RunInference {
    /// Infers `sample`, the bytes of the input named `path`, into the run's lattices (what
    /// [`TableInference::observe`] of [`infer_slice_into`] concludes). Its flags and entry are
    /// for the caller to add ([`RunInference::add_observed`]).
    pub(crate) fn observe(&mut self, sample: &bytes::Bytes, path: &str, opts: &InferOptions) -> FileInference {
        let careful = |merged: &mut TableInference, sample: &[u8], path: &str| {
            merged.observe(|into| infer_slice_into(sample, path, opts, into))
        };
        if sample.len() > KEEP_BYTES {
            self.forget();
            return careful(&mut self.merged, sample, path);
        }
        if self.saved.is_none() || self.since.len() >= KEEP_INPUTS || self.since_bytes + sample.len() > KEEP_BYTES {
            let m = &self.merged;
            self.saved = Some((m.root.clone(), m.values.clone(), m.time.clone()));
            self.since.clear();
            self.since_bytes = 0;
        }
        let mut spoiled = false;
        let fi = self.merged.observe(|into| {
            infer_slice_undone_by(sample, path, opts, into, Undo::Caller).unwrap_or_else(|Spoiled| {
                spoiled = true;
                FileInference::empty(assumed_records())
            })
        });
        if !spoiled {
            self.since.push((sample.clone(), path.to_string()));
            self.since_bytes += sample.len();
            return fi;
        }
        if let Some((root, values, time)) = self.saved.take() {
            (self.merged.root, self.merged.values, self.merged.time) = (root, values, time);
            for (kept, name) in std::mem::take(&mut self.since) {
                careful(&mut self.merged, &kept, &name);
            }
        }
        self.forget();
        careful(&mut self.merged, sample, path)
    }

    /// Adds an observed input's flags and its entry in [`TableInference::files`].
    pub(crate) fn add_observed(&mut self, name: String, fi: &FileInference) {
        self.merged.add_observed(name, fi);
    }

    /// Adds an input inferred into lattices of its own ([`TableInference::add`]) and its entry.
    pub(crate) fn add(&mut self, name: String, fi: &FileInference) {
        self.forget();
        self.merged.add_input(name, fi);
    }

    /// The run's merge in progress.
    pub(crate) fn into_merged(self) -> TableInference {
        self.merged
    }

    /// No copy to go back to: the next input observed takes one.
    fn forget(&mut self) {
        self.saved = None;
        self.since.clear();
        self.since_bytes = 0;
    }
}

/// What inference concluded for a whole table: per input and merged.
#[derive(Debug, Clone, Default)]
pub struct TableInference {
    /// Each input and what was seen in it ([`FileInference::summary`]: its lattices are merged
    /// into the fields below).
    pub files: Vec<(String, FileSummary)>,
    /// Merged record bodies.
    pub root: Node,
    /// Merged top-level values (values layout), if any input uses it.
    pub values: Option<Node>,
    /// Merged event times, if any input is an event stream.
    pub time: Option<Node>,
    /// Some input's records have a tag (the `tag` column).
    pub tag: bool,
    /// Some input is a Fluent Bit stream (the `metadata` column).
    pub metadata: bool,
    /// Some input is a SequenceFile: the type of the `key` column (Utf8 when every key is a
    /// `Text`, else Binary).
    pub key: Option<DataType>,
    /// Hive partition columns (text), from the directory names under a directory input.
    pub partitions: Vec<String>,
    /// Record keys that cannot be columns because the name is reserved, and so always go to
    /// `_extra` (for example a `time` key in an event stream), with what was seen.
    pub shadowed: Vec<(String, Node)>,
}

/// What inference saw in one input, without its lattices (which a table merges): what a
/// [`TableInference`] keeps per input, so that its memory does not grow with every input's
/// lattices. A summary is about a ninth of a [`FileInference`]'s size (three empty lattices are
/// 624 bytes): with 100,000 small files, keeping those empty lattices took a query's peak
/// from 254 to 336 MiB.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileSummary {
    /// Layout and evidence.
    pub detection: Detection,
    /// Records observed.
    pub records: u64,
    /// True when every record of the input was observed.
    pub complete: bool,
    /// Records whose body was not a map (records and events layouts).
    pub not_maps: u64,
    /// A framing error met while sampling, as text.
    pub problem: Option<String>,
    /// The input's records have a tag.
    pub tag: bool,
    /// How a SequenceFile's keys are serialized.
    pub key: Option<crate::framing::seqfile::Writable>,
}

impl TableInference {
    /// Merges per-input results.
    pub fn merge(files: Vec<(String, Arc<FileInference>)>) -> Self {
        let mut t = TableInference::default();
        for (name, f) in files {
            t.add_input(name, &f);
        }
        t.finish()
    }

    /// Adds what one input saw to a merge in progress (the input's entry in
    /// [`TableInference::files`] is the caller's to add); [`TableInference::finish`] ends it.
    pub fn add(&mut self, f: &FileInference) {
        self.root.merge(&f.root);
        let layout = f.summary.detection.layout;
        if layout == Layout::Values {
            self.values.get_or_insert_with(Default::default).merge(&f.values);
        }
        if layout.has_time() {
            self.time.get_or_insert_with(Default::default).merge(&f.time);
        }
        self.add_flags(f);
    }

    /// Infers one more input straight into this merge's lattices: `infer` observes into the
    /// lattices it is lent (see [`infer_slice_into`]) and its inference is returned without
    /// them, its flags for the caller to add ([`TableInference::add_flags`], once it has
    /// completed them) with its entry in [`TableInference::files`]. This concludes what
    /// [`TableInference::add`] of the input's own inference does (save that a map that
    /// becomes a dictionary here records the key count at that point, a lower bound, as the
    /// inference of one input does), without a lattice per input to build, merge and free:
    /// with thousands of small files that was a third of inference.
    pub(crate) fn observe(&mut self, infer: impl FnOnce(Lattices) -> FileInference) -> FileInference {
        let (had_values, had_time) = (self.values.is_some(), self.time.is_some());
        let into = Lattices {
            root: std::mem::take(&mut self.root),
            values: self.values.take().unwrap_or_default(),
            time: self.time.take().unwrap_or_default(),
        };
        let mut fi = infer(into);
        let layout = fi.summary.detection.layout;
        self.root = std::mem::take(&mut fi.root);
        let (values, time) = (std::mem::take(&mut fi.values), std::mem::take(&mut fi.time));
        // The values and time lattices exist once an input of their layout was seen.
        self.values = (had_values || layout == Layout::Values).then_some(values);
        self.time = (had_time || layout.has_time()).then_some(time);
        fi
    }

    /// [`TableInference::add`] of an input, and its entry in [`TableInference::files`].
    pub(crate) fn add_input(&mut self, name: String, f: &FileInference) {
        self.add(f);
        self.files.push((name, f.summary.clone()));
    }

    /// An input observed straight into this merge ([`TableInference::observe`]): its flags and
    /// its entry in [`TableInference::files`].
    pub(crate) fn add_observed(&mut self, name: String, f: &FileInference) {
        self.add_flags(f);
        self.files.push((name, f.summary.clone()));
    }

    /// Adds an input's flags (tag, metadata, SequenceFile key) to a merge in progress.
    pub(crate) fn add_flags(&mut self, f: &FileInference) {
        let layout = f.summary.detection.layout;
        self.tag |= f.summary.tag;
        self.metadata |= layout.has_metadata();
        if let Some(k) = f.summary.key {
            let ty = if k == crate::framing::seqfile::Writable::Text { DataType::Utf8 } else { DataType::Binary };
            self.add_key(ty);
        }
    }

    /// A SequenceFile key type seen: text while every key is, else bytes.
    fn add_key(&mut self, ty: DataType) {
        self.key = Some(match &self.key {
            Some(old) if *old != ty => DataType::Binary,
            _ => ty,
        });
    }

    /// Adds another merge in progress after this one: its inputs come after these (merges are
    /// associative, so merging runs of inputs and then the runs concludes what merging every
    /// input in order does).
    pub fn append(&mut self, o: TableInference) {
        self.root.merge(&o.root);
        if let Some(v) = &o.values {
            self.values.get_or_insert_with(Default::default).merge(v);
        }
        if let Some(t) = &o.time {
            self.time.get_or_insert_with(Default::default).merge(t);
        }
        self.tag |= o.tag;
        self.metadata |= o.metadata;
        if let Some(ty) = o.key {
            self.add_key(ty);
        }
        self.files.extend(o.files);
    }

    /// Ends a merge: record keys named like the table's own columns go to `_extra`.
    pub fn finish(self) -> Self {
        let mut t = self;
        let mut reserved = vec![EXTRA_COLUMN, RECORD_COLUMN, CORRUPT_COLUMN];
        if t.time.is_some() {
            reserved.push(TIME_COLUMN);
        }
        if t.tag {
            reserved.push(TAG_COLUMN);
        }
        if t.metadata {
            reserved.push(METADATA_COLUMN);
        }
        if t.key.is_some() {
            reserved.push(KEY_COLUMN);
        }
        if t.values.is_some() {
            reserved.push(VALUE_COLUMN);
        }
        t.reserve(&reserved);
        t
    }

    /// Applies the struct field bound to what the inputs saw together
    /// ([`Node::cap_fields`]).
    pub fn cap_fields(&mut self, max_struct_fields: usize) {
        self.root.cap_fields(max_struct_fields);
        if let Some(v) = self.values.as_mut() {
            v.cap_fields(max_struct_fields);
        }
    }

    /// Keeps record keys with these names out of the columns (they go to `_extra`): the
    /// names belong to other columns, such as Hive partition columns.
    pub fn reserve(&mut self, names: &[&str]) {
        for name in names {
            if let Some(n) = self.root.remove_field(name) {
                self.shadowed.push((name.to_string(), n));
            }
        }
    }

    /// Records observed across inputs.
    pub fn records(&self) -> u64 {
        self.files.iter().map(|(_, f)| f.records).sum()
    }

    /// Record maps observed (the denominator for missing-key counts).
    pub fn maps(&self) -> u64 {
        self.root.counts.map
    }

    /// The table's Arrow schema: `key` (SequenceFiles), `time` (event layouts), `tag` (forward layout, chunks with a
    /// sidecar), `metadata` (Fluent Bit), the record fields in first-seen
    /// order, `value` (values layout), `_extra`, and `_record` when asked for.
    pub fn schema(&self, with_record: bool) -> Schema {
        let mut fields = Vec::new();
        if let Some(ty) = &self.key {
            fields.push(Role::RowKey.mark(Field::new(KEY_COLUMN, ty.clone(), true)));
        }
        if self.time.is_some() {
            let f = Field::new(TIME_COLUMN, DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true);
            fields.push(Role::EventTime.mark(f));
        }
        if self.tag {
            fields.push(Role::Tag.mark(Field::new(TAG_COLUMN, DataType::Utf8, true)));
        }
        if self.metadata {
            fields.push(Role::Metadata.mark(variant_field(METADATA_COLUMN)));
        }
        if self.root.dict.is_some() {
            // Top-level keys too many for columns: the record itself is the one column.
            fields.push(Role::Record.mark(variant_field(RECORD_COLUMN)));
        } else {
            fields.extend(self.root.fields.iter().map(|(k, n)| n.field(k)));
        }
        if let Some(v) = &self.values {
            fields.push(Role::Value.mark(v.field(VALUE_COLUMN)));
        }
        if self.root.dict.is_none() {
            fields.push(Role::Extra.mark(variant_field(EXTRA_COLUMN)));
        }
        if with_record && self.root.dict.is_none() {
            fields.push(Role::Record.mark(variant_field(RECORD_COLUMN)));
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

/// Files smaller than this are not kept in the inference cache: inferring one again costs
/// less than a millisecond, while its entry (a lattice, whatever the file's size) costs as much
/// memory as a large file's. With 5,000 files of 20 records, keeping them all made a query 23%
/// slower and its peak 186 MiB instead of 115 MiB (and the cache was cleared as it filled).
pub const CACHE_MIN_BYTES: u64 = 1 << 20;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{Spec, to_vecs};

    /// A rendering of everything inference concluded, down the tree (not its lookup hints).
    fn render(n: &Node, out: &mut String, indent: usize) {
        out.push_str(&format!(
            "{:?} neg={} big={} present={} nonstr={}\n",
            n.counts, n.negative, n.beyond_f64, n.present, n.nonstr_keys
        ));
        for (k, f) in &n.fields {
            out.push_str(&format!("{}{k}: ", " ".repeat(indent)));
            render(f, out, indent + 2);
        }
        if let Some(e) = &n.elem {
            out.push_str(&format!("{}[]: ", " ".repeat(indent)));
            render(e, out, indent + 2);
        }
        if let Some(d) = &n.dict {
            out.push_str(&format!("{}{{}} ({} keys): ", " ".repeat(indent), n.dict_keys));
            render(d, out, indent + 2);
        }
    }

    /// A kept inference (`.infer` in the columnar cache) is stored with the summary's fields
    /// beside the lattices, as before the summary was its own type, and reads back whole.
    #[test]
    fn the_stored_form_keeps_the_summary_fields_at_its_top() {
        let opts = crate::options::MsgpackReadOptions::default().infer_options();
        let bytes = to_vecs(&Spec { records: 40, seed: 2, events: false, mixed: false, wide: false }).0;
        let fi = infer_slice(&bytes, "f", &opts);
        let value = serde_json::to_value(&fi).expect("serializes");
        let mut keys: Vec<&str> = value.as_object().expect("an object").keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        let stored =
            ["complete", "detection", "key", "not_maps", "problem", "records", "root", "tag", "time", "values"];
        assert_eq!(keys, stored);
        let back: FileInference = serde_json::from_value(value).expect("reads back");
        assert_eq!(back.summary, fi.summary);
        let (mut a, mut b) = (String::new(), String::new());
        render(&back.root, &mut a, 0);
        render(&fi.root, &mut b, 0);
        assert_eq!(a, b);
    }

    /// A compacted node (its key indexes freed) concludes the same as before when it is merged
    /// from, merged into, observed into or has a field removed: the indexes are rebuilt.
    #[test]
    fn compacted_nodes_merge_and_observe_as_before() {
        let opts = crate::options::MsgpackReadOptions::default().infer_options();
        let infer = |seed: u64, wide: bool| {
            let bytes = to_vecs(&Spec { records: 40, seed, events: false, mixed: false, wide }).0;
            infer_slice(&bytes, "f", &opts)
        };
        let (a, b, c) = (infer(1, false), infer(2, true), infer(3, false));
        let text = |n: &Node| {
            let mut out = String::new();
            render(n, &mut out, 0);
            out
        };
        let mut plain = Node::default();
        for n in [&a.root, &b.root, &c.root] {
            plain.merge(n);
        }
        let mut compacted = [a.root.clone(), b.root.clone(), c.root.clone()];
        compacted.iter_mut().for_each(Node::compact);
        // Merged from.
        let mut from = Node::default();
        compacted.iter().for_each(|n| from.merge(n));
        assert_eq!(text(&from), text(&plain));
        // Merged into, and its clones' children too.
        let mut into = compacted[0].clone();
        into.merge(&b.root);
        into.merge(&compacted[2]);
        assert_eq!(text(&into), text(&plain));
        // Observed into: the same records again.
        let bytes = to_vecs(&Spec { records: 40, seed: 2, events: false, mixed: false, wide: true }).0;
        let (mut again, mut fresh) = (infer(2, true), infer(2, true));
        again.root.compact();
        let more = |fi: &mut FileInference| {
            let mut cur = mpq_wire::Cursor::new(&bytes);
            while cur.remaining() > 0 {
                fi.root.observe(&mut cur, opts.limits.max_depth, &opts.lattice).expect("observe");
            }
        };
        more(&mut again);
        more(&mut fresh);
        assert_eq!(text(&again.root), text(&fresh.root));
        // A field removed.
        let name = plain.fields[1].0.clone();
        let mut removed = from.clone();
        removed.compact();
        assert!(removed.remove_field(&name).is_some());
        let mut want = plain.clone();
        want.remove_field(&name);
        assert_eq!(text(&removed), text(&want));
    }

    /// Merging runs of inputs as they are inferred (each run in order, then the runs in order)
    /// concludes what merging every input in order does, for every run length: the schema,
    /// the lattices and the flags, with events and records, wide and plain, a type conflict
    /// and a map that becomes a dictionary only once the inputs are merged.
    #[test]
    fn merging_runs_concludes_what_merging_every_input_does() {
        let opts = crate::options::MsgpackReadOptions::default().max_struct_fields(40);
        let infer_opts = opts.infer_options();
        let bytes: Vec<Vec<u8>> = (0..9u64)
            .map(|i| to_vecs(&Spec { records: 15, seed: i + 1, events: i % 3 == 1, mixed: i == 4, wide: i % 2 == 0 }).0)
            .collect();
        let inputs: Vec<(String, Arc<FileInference>)> = bytes
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let mut fi = infer_slice(b, "f", &infer_opts);
                fi.root.compact();
                (format!("f{i}"), Arc::new(fi))
            })
            .collect();
        let text = |t: &TableInference| {
            let mut out = String::new();
            render(&t.root, &mut out, 0);
            for n in t.values.iter().chain(&t.time) {
                render(n, &mut out, 0);
            }
            let files: Vec<_> = t.files.iter().map(|(n, f)| (n.clone(), f.records, f.detection.layout)).collect();
            format!(
                "{out}{:?} {} {} {:?} {:?}",
                t.shadowed.iter().map(|s| &s.0).collect::<Vec<_>>(),
                t.tag,
                t.metadata,
                t.key,
                files
            )
        };
        let mut whole = TableInference::merge(inputs.clone());
        whole.cap_fields(40);
        let dicts = |n: &Node| n.fields.iter().filter(|(_, f)| f.dict.is_some()).count();
        assert!(
            inputs.iter().all(|(_, f)| dicts(&f.root) == 0) && dicts(&whole.root) > 0,
            "a dictionary only once merged"
        );
        for run in 1..=inputs.len() {
            let mut all = TableInference::default();
            for chunk in inputs.chunks(run) {
                let mut part = TableInference::default();
                for (name, fi) in chunk {
                    part.add_input(name.clone(), fi);
                }
                all.append(part);
            }
            let mut t = all.finish();
            t.cap_fields(40);
            assert_eq!(text(&t), text(&whole), "runs of {run}");
            assert_eq!(opts.schema_of(&t), opts.schema_of(&whole), "runs of {run}");

            // Each run's inputs observed straight into the run's lattices instead.
            let mut all = TableInference::default();
            for (k, chunk) in bytes.chunks(run).enumerate() {
                let mut part = TableInference::default();
                for (j, b) in chunk.iter().enumerate() {
                    let fi = part.observe(|into| infer_slice_into(b, "f", &infer_opts, into));
                    part.add_observed(format!("f{}", k * run + j), &fi);
                }
                all.append(part);
            }
            let mut t = all.finish();
            t.cap_fields(40);
            // A dictionary made while observing records its key count then (a lower bound).
            let unbounded = |t: &TableInference| {
                let text = text(t);
                let mut out = String::new();
                for piece in text.split(" keys): ") {
                    out.push_str(piece.rsplit_once("{} (").map_or(piece, |(head, _)| head));
                    out.push('|');
                }
                out
            };
            assert_eq!(unbounded(&t), unbounded(&whole), "observed into runs of {run}");
            assert_eq!(opts.schema_of(&t), opts.schema_of(&whole), "observed into runs of {run}");
        }
    }

    /// Everything one way of observing concluded, as text.
    fn outcome(fi: &FileInference, end: usize) -> String {
        let mut out = String::new();
        render(&fi.root, &mut out, 0);
        format!(
            "{out}records {} not maps {} problem {:?} end {end}",
            fi.summary.records, fi.summary.not_maps, fi.summary.problem
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// Observing records without framing them first (in chunks, walked first or undone and
        /// handed to the framer at anything unusual) concludes exactly what framing and then
        /// observing does, on damaged inputs, at small depth and size limits, for runs cut by a
        /// record count or an offset.
        #[test]
        fn observing_without_framing_first_changes_nothing(
            seed in 1u64..500,
            damage in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 0..4),
            depth in proptest::sample::select(vec![1usize, 2, 3, 4, 128]),
            max_record_bytes in proptest::sample::select(vec![60usize, 200, 1 << 20]),
            chunk in 1usize..9,
            walk_first in proptest::sample::select(vec![0usize, 100, 2000, usize::MAX]),
            n in proptest::sample::select(vec![3usize, 40, usize::MAX]),
            stop_at in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let (mut buf, _) = to_vecs(&Spec { records: 60, seed, events: false, mixed: false, wide: false });
            for (at, b) in damage {
                let i = at.index(buf.len());
                buf[i] = b;
            }
            let stop = if n == usize::MAX { stop_at.index(buf.len() + 1) } else { usize::MAX };
            let limits = FrameLimits { max_depth: depth, max_record_bytes };
            let opts =
                InferOptions { sample: Sample::All, lattice: LatticeOptions::default(), limits, threads: 1, layout: None };
            let detection = detect_or(&buf, Some(Layout::Records), depth);
            let mut framed = FileInference::empty(detection.clone());
            let mut framer = Framer::new(&buf, 0, Layout::Records, limits, 0);
            let end = observe_framed(&mut framed, &mut framer, &buf, (n, stop), &opts, "f");
            let expected = outcome(&framed, end);
            // In chunks of a few records (so undoing a chunk is tested), walked first or not
            // (from the start, from near the end, never), then as `observe_run` does.
            let mut fused = FileInference::empty(detection.clone());
            let end = match observe_unframed(&mut fused, &buf, 0, (n, stop), &opts, (chunk, walk_first), Undo::Here) {
                Unframed::Done(end) => end,
                Unframed::Unusual { at, observed } => {
                    observe_framed_from(&mut fused, &buf, (at, observed, 0), (n, stop), &opts, "f")
                }
                Unframed::Spoiled => unreachable!("undone here"),
            };
            proptest::prop_assert_eq!(&outcome(&fused, end), &expected);
            let mut whole = FileInference::empty(detection);
            let mut framer = Framer::new(&buf, 0, Layout::Records, limits, 0);
            let end = observe_run(&mut whole, &mut framer, &buf, (n, stop), &opts, "f");
            proptest::prop_assert_eq!(&outcome(&whole, end), &expected);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, ..Default::default() })]

        /// Observing the head of an input that starts with a map before its layout is detected
        /// concludes what detecting it and then observing does (layout, evidence, lattices,
        /// counts, problem, offset reached), or observes nothing (its lattices as they were):
        /// on maps, events and mixed values, damaged, cut short or ending in zeros, at small
        /// depth and size limits and heads around the records detection looks at.
        #[test]
        fn observing_maps_before_detection_changes_nothing(
            seed in 1u64..500,
            // Mostly inputs of whole maps within the limits, which are observed before detection.
            shape in proptest::sample::select(vec![0usize, 0, 0, 1, 2]),
            records in proptest::sample::select(vec![1usize, 5, 15, 16, 17, 40]),
            damage in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 0..2),
            cut in proptest::option::weighted(0.25, proptest::prelude::any::<proptest::sample::Index>()),
            zeros in proptest::sample::select(vec![0usize, 0, 1, 64]),
            depth in proptest::sample::select(vec![1usize, 4, 128, 128]),
            max_record_bytes in proptest::sample::select(vec![60usize, 1 << 20, 1 << 20]),
            head in proptest::sample::select(vec![16usize, 20, usize::MAX]),
            chunk in proptest::sample::select(vec![16usize, 17, 33, UNFRAMED_CHUNK]),
            walk_first in proptest::sample::select(vec![0usize, 2000, usize::MAX]),
        ) {
            let spec = Spec { records, seed, events: shape == 1, mixed: shape == 2, wide: false };
            let (mut buf, _) = to_vecs(&spec);
            for (at, b) in damage {
                let i = at.index(buf.len());
                buf[i] = b;
            }
            if let Some(at) = cut {
                buf.truncate(at.index(buf.len() + 1));
            }
            buf.resize(buf.len() + zeros, 0);
            let limits = FrameLimits { max_depth: depth, max_record_bytes };
            let opts =
                InferOptions { sample: Sample::All, lattice: LatticeOptions::default(), limits, threads: 1, layout: None };
            let detected = (detect_or(&buf, None, depth), Lattices::default());
            let (expected, end) = head_detected(&buf, "f", &opts, head, detected);
            let expected = format!("{:?} {}", expected.summary.detection, outcome(&expected, end));
            let mut fi = FileInference::observing_into(assumed_records(), Lattices::default());
            match head_of_maps(&mut fi, &buf, "f", &opts, (head, (chunk, walk_first)), Undo::Here) {
                Ok(Some(end)) => {
                    proptest::prop_assert_eq!(format!("{:?} {}", fi.summary.detection, outcome(&fi, end)), expected.clone());
                }
                Ok(None) => {
                    let nothing = FileInference::observing_into(assumed_records(), Lattices::default());
                    proptest::prop_assert_eq!(outcome(&fi, 0), outcome(&nothing, 0));
                }
                Err(Spoiled) => proptest::prop_assert!(false, "spoiled although undone here"),
            }
            // Left to the caller to undo: the same, or spoiled exactly when a record of the head
            // is unusual (every map of an input that does not start with one is not observed).
            let mut fi = FileInference::observing_into(assumed_records(), Lattices::default());
            let usual_head = usual(&buf, 0, usize::MAX, head, depth, max_record_bytes);
            match head_of_maps(&mut fi, &buf, "f", &opts, (head, (chunk, walk_first)), Undo::Caller) {
                Ok(Some(end)) => {
                    proptest::prop_assert!(usual_head);
                    proptest::prop_assert_eq!(format!("{:?} {}", fi.summary.detection, outcome(&fi, end)), expected.clone());
                }
                Ok(None) => {
                    let nothing = FileInference::observing_into(assumed_records(), Lattices::default());
                    proptest::prop_assert_eq!(outcome(&fi, 0), outcome(&nothing, 0));
                    let starts_with_map = buf.first().is_some_and(|b| mpq_wire::marker::is_map(*b));
                    proptest::prop_assert!(!starts_with_map || head < DETECT_RECORDS || fi.summary.records == 0 && usual_head);
                }
                Err(Spoiled) => proptest::prop_assert!(!usual_head),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        /// A run of inputs inferred with copies of its lattices taken every few inputs
        /// ([`RunInference`]) concludes what inferring each input undoing its own chunks does:
        /// the merged lattices and each input's inference (layout, evidence, counts, problem),
        /// over usual, damaged and mixed inputs and events, more inputs and more bytes than are
        /// kept between copies, an input larger than that, a sample or every record.
        #[test]
        fn a_run_undone_from_copies_concludes_what_each_input_undone_does(
            inputs in proptest::collection::vec(
                (
                    1u64..500,
                    proptest::sample::select(vec![0usize, 0, 0, 0, 1, 2]),
                    proptest::sample::select(vec![1usize, 5, 20, 40]),
                    proptest::option::weighted(0.15, (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>())),
                ),
                1..140,
            ),
            big in proptest::option::weighted(0.3, proptest::prelude::any::<proptest::sample::Index>()),
            every in proptest::prelude::any::<bool>(),
        ) {
            let mut bufs: Vec<bytes::Bytes> = inputs
                .iter()
                .map(|&(seed, shape, records, damage)| {
                    let (mut buf, _) = to_vecs(&Spec { records, seed, events: shape == 1, mixed: shape == 2, wide: false });
                    if let Some((at, b)) = damage {
                        let i = at.index(buf.len());
                        buf[i] = b;
                    }
                    bytes::Bytes::from(buf)
                })
                .collect();
            if let Some(at) = big {
                let (buf, _) = to_vecs(&Spec { records: 1500, seed: 7, events: false, mixed: false, wide: false });
                proptest::prop_assert!(buf.len() > KEEP_BYTES);
                bufs.insert(at.index(bufs.len() + 1), bytes::Bytes::from(buf));
            }
            let mut opts = crate::options::MsgpackReadOptions::default().infer_options();
            if every {
                opts.sample = Sample::All;
                opts.threads = 1;
            }
            let each = |fi: &FileSummary| {
                format!("{:?} {} {} {:?} {} {:?}", fi.detection, fi.records, fi.not_maps, fi.problem, fi.complete, fi.tag)
            };
            let text = |t: &TableInference| {
                let mut out = String::new();
                render(&t.root, &mut out, 0);
                for n in t.values.iter().chain(&t.time) {
                    out.push_str("--\n");
                    render(n, &mut out, 0);
                }
                let files: Vec<_> = t.files.iter().map(|(n, f)| format!("{n}: {}", each(f))).collect();
                format!("{out}{} {} {:?}\n{}", t.tag, t.metadata, t.key, files.join("\n"))
            };
            let mut want = TableInference::default();
            let mut run = RunInference::default();
            for (i, buf) in bufs.iter().enumerate() {
                let name = format!("f{i}");
                let fi = want.observe(|into| infer_slice_into(buf, &name, &opts, into));
                want.add_observed(name.clone(), &fi);
                let got = run.observe(buf, &name, &opts);
                proptest::prop_assert_eq!(each(&got.summary), each(&fi.summary), "input {}", i);
                run.add_observed(name, &got);
            }
            proptest::prop_assert_eq!(text(&run.into_merged()), text(&want));
        }
    }

    /// Inference over every record on several threads concludes exactly what one thread does,
    /// for plain records and events, and with damage in the middle (which one thread stops at).
    #[test]
    fn split_inference_equals_one_thread() {
        let limits = FrameLimits { max_depth: 128, max_record_bytes: 64 << 20 };
        let one =
            InferOptions { sample: Sample::All, lattice: LatticeOptions::default(), limits, threads: 1, layout: None };
        for (events, damage) in [(false, false), (true, false), (false, true)] {
            let (mut buf, _) = to_vecs(&Spec { records: 12_000, seed: 4, events, mixed: false, wide: false });
            if damage {
                let at = buf.len() / 3;
                let start = crate::framing::split::find_boundary(&buf, at, Layout::Records, limits).expect("boundary");
                buf[start] = 0xc1;
            }
            let whole = infer_slice(&buf, "f", &one);
            for threads in [2, 3, 7] {
                let split = infer_split(&buf, "f", &InferOptions { threads, ..one }, &whole.summary.detection);
                if damage {
                    assert!(split.is_none(), "damage before the last range: one thread decides");
                    continue;
                }
                let split = split.expect("splits");
                let (mut a, mut b) = (String::new(), String::new());
                render(&whole.root, &mut a, 0);
                render(&split.root, &mut b, 0);
                render(&whole.time, &mut a, 0);
                render(&split.time, &mut b, 0);
                assert_eq!(a, b, "events={events} threads={threads}");
                assert_eq!(
                    (whole.summary.records, whole.summary.not_maps, whole.summary.complete),
                    (split.summary.records, split.summary.not_maps, split.summary.complete)
                );
            }
        }
    }
}
