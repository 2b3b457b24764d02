//! What scans report, apart from their options: counters a scan adds to (records read, pairs
//! sent to `_extra` by key, duplicate keys, record errors and framing problems) and the
//! rejects sink every problem is written to. A [`ScanReport`] is live (shared counters, an open
//! writer), so it never sits inside [`crate::MsgpackReadOptions`], which are plain data: it is
//! handed to a scan beside them. The CLI prints it; library callers read it.

use crate::error::{Error, Result};
use crate::problem::{Action, Problem};
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// How many record-error messages are kept word for word.
pub const KEPT_MESSAGES: usize = 20;

/// Shared scan counters; clones share the same counters (and the same rejects file).
#[derive(Clone, Default)]
pub struct ScanReport {
    data: Arc<Mutex<ReportData>>,
    rejects: Arc<Mutex<Option<Rejects>>>,
    /// Files read from their source that the columnar cache may take (`mpq::cache::fill`).
    misses: Arc<Mutex<Vec<CacheMiss>>>,
}

/// Where problems are written, one JSON line each, and the first write error.
struct Rejects {
    out: Box<dyn Write + Send>,
    failed: Option<std::io::Error>,
}

impl std::fmt::Debug for ScanReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanReport").field("data", &self.snapshot()).finish_non_exhaustive()
    }
}

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportData {
    /// Records decoded.
    pub records: u64,
    /// Bytes those records span (their framing included): what a progress display counts.
    pub bytes: u64,
    /// Key/value pairs written to `_extra`, per top-level key.
    pub extra_keys: BTreeMap<String, u64>,
    /// Top-level values of the values layout that did not fit `value`.
    pub value_spills: u64,
    /// Duplicate keys met (the last one wins).
    pub duplicate_keys: u64,
    /// Record errors whose records were kept, the bad part NULL (`--on-error null`).
    pub record_errors: u64,
    /// Records left out for a record error (`--on-error drop`).
    pub dropped_records: u64,
    /// Problems of every kind met: what `--max-errors` bounds.
    pub problems: u64,
    /// The first [`KEPT_MESSAGES`] record-error messages.
    pub messages: Vec<String>,
    /// Framing problems: each message says what was dropped.
    pub framing: Vec<String>,
    /// Things worth a warning that lost nothing: a buffer chunk holding another number of
    /// records than its `.meta` sidecar says.
    pub notes: Vec<String>,
    /// Files read from the columnar cache rather than decoded.
    pub cached_files: u64,
}

impl ReportData {
    /// Pairs sent to `_extra` in all.
    pub fn extra_pairs(&self) -> u64 {
        self.extra_keys.values().sum::<u64>() + self.value_spills
    }

    /// True if anything was skipped, nulled or truncated.
    pub fn has_problems(&self) -> bool {
        self.problems > 0
    }
}

/// A file a scan read from its source that the columnar cache may take: the file, the
/// table's file schema and the read options (the cache's among them).
#[derive(Debug, Clone)]
pub struct CacheMiss {
    /// The local file.
    pub path: std::path::PathBuf,
    /// The table's file schema.
    pub schema: datafusion::arrow::datatypes::SchemaRef,
    /// The scan's options.
    pub options: crate::options::MsgpackReadOptions,
}

/// Adds counts by raw key to counts by key as text.
fn add_keys(to: &mut BTreeMap<String, u64>, keys: &BTreeMap<Vec<u8>, u64>) {
    for (k, n) in keys {
        *to.entry(String::from_utf8_lossy(k).into_owned()).or_default() += n;
    }
}

/// Counters of one batch, added to the report when the batch is complete.
#[derive(Debug, Default)]
pub struct BatchStats {
    pub(crate) extra_keys: BTreeMap<Vec<u8>, u64>,
    pub(crate) value_spills: u64,
    pub(crate) duplicate_keys: u64,
    /// Record problems, each with the batch row of its record.
    pub(crate) problems: Vec<(usize, Problem)>,
    /// The row being decoded.
    pub(crate) row: usize,
}

impl BatchStats {
    pub(crate) fn problem(&mut self, p: Problem) {
        self.problems.push((self.row, p));
    }

    pub(crate) fn extra_key(&mut self, key: &[u8]) {
        *self.extra_keys.entry(key.to_vec()).or_default() += 1;
    }
}

impl ScanReport {
    /// A fresh report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes every problem from now on to `out` as one JSON line ([`Problem::rejects_line`]).
    pub fn rejects_to(&self, out: Box<dyn Write + Send>) {
        if let Ok(mut r) = self.rejects.lock() {
            *r = Some(Rejects { out, failed: None });
        }
    }

    /// Flushes the rejects output; the first error writing it, if any.
    pub fn finish_rejects(&self) -> std::io::Result<()> {
        let Ok(mut r) = self.rejects.lock() else { return Ok(()) };
        match r.as_mut() {
            Some(r) => match r.failed.take() {
                Some(e) => Err(e),
                None => r.out.flush(),
            },
            None => Ok(()),
        }
    }

    /// Records and bytes decoded so far, without copying the rest (for progress displays).
    pub fn progress(&self) -> (u64, u64) {
        self.data.lock().map(|d| (d.records, d.bytes)).unwrap_or_default()
    }

    /// A copy of the counters now.
    pub fn snapshot(&self) -> ReportData {
        self.data.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// The counters now, leaving them at zero: what one statement of a longer session (a shell)
    /// met. `--max-errors` counts afresh from here.
    pub fn take(&self) -> ReportData {
        self.data.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or_default()
    }

    pub(crate) fn add_batch(&self, rows: usize, bytes: u64, s: &BatchStats) {
        if let Ok(mut d) = self.data.lock() {
            d.records += rows as u64;
            d.bytes += bytes;
            add_keys(&mut d.extra_keys, &s.extra_keys);
            d.value_spills += s.value_spills;
            d.duplicate_keys += s.duplicate_keys;
        }
    }

    /// Counts a problem and what was done about it, writes its rejects line, and keeps its
    /// message (`summary`, for a truncation, says what was kept and dropped). An error when
    /// the problem is one more than `max_errors` allows.
    pub(crate) fn problem(
        &self,
        p: &Problem,
        action: Action,
        summary: Option<String>,
        max_errors: Option<u64>,
    ) -> Result<()> {
        if let Ok(mut r) = self.rejects.lock()
            && let Some(r) = r.as_mut()
            && r.failed.is_none()
            && let Err(e) = writeln!(r.out, "{}", p.rejects_line(action))
        {
            r.failed = Some(e);
        }
        let Ok(mut d) = self.data.lock() else { return Ok(()) };
        d.problems += 1;
        match action {
            Action::Nulled | Action::Dropped => {
                if action == Action::Nulled {
                    d.record_errors += 1;
                } else {
                    d.dropped_records += 1;
                }
                if d.messages.len() < KEPT_MESSAGES {
                    d.messages.push(p.to_string());
                }
            }
            Action::Truncated { .. } => d.framing.push(summary.unwrap_or_else(|| p.to_string())),
            Action::Failed => {}
        }
        match max_errors {
            Some(m) if action != Action::Failed && d.problems > m => Err(Error::TooManyErrors(format!(
                "stopped after {} problems in the input, more than --max-errors {m} allows; the last: {p}",
                d.problems
            ))),
            _ => Ok(()),
        }
    }

    /// Reports a problem that stops the scan and returns the error it stops with.
    pub(crate) fn failed(&self, p: &Problem) -> Error {
        // A failed problem never exceeds --max-errors (no bound is passed), so this is Ok.
        let _ = self.problem(p, Action::Failed, None, None);
        p.error()
    }

    /// Adds a file read from the columnar cache: its records and bytes, as its scan counted
    /// them
    /// (or of its part that a byte range of it reads; `first` for the part that counts the file).
    pub(crate) fn add_cached(&self, records: u64, bytes: u64, first: bool) {
        if let Ok(mut d) = self.data.lock() {
            d.records += records;
            d.bytes += bytes;
            d.cached_files += first as u64;
        }
    }

    /// Adds pairs kept in `_extra`, by key.
    pub(crate) fn add_extra_keys(&self, keys: &BTreeMap<Vec<u8>, u64>) {
        if keys.is_empty() {
            return;
        }
        if let Ok(mut d) = self.data.lock() {
            add_keys(&mut d.extra_keys, keys);
        }
    }

    /// Notes a file read from its source that the columnar cache may take.
    pub(crate) fn cache_miss(&self, miss: CacheMiss) {
        if let Ok(mut m) = self.misses.lock() {
            m.push(miss);
        }
    }

    /// The files read from their source since the last call that the columnar cache may take
    /// (for `mpq::cache::fill`).
    pub fn take_cache_misses(&self) -> Vec<CacheMiss> {
        self.misses.lock().map(|mut m| std::mem::take(&mut *m)).unwrap_or_default()
    }

    /// Adds what other scans reported (a cluster's executors: see `datasource::counts`).
    pub fn add(&self, other: &ReportData) {
        let Ok(mut d) = self.data.lock() else { return };
        d.records += other.records;
        d.bytes += other.bytes;
        for (k, n) in &other.extra_keys {
            *d.extra_keys.entry(k.clone()).or_default() += n;
        }
        d.value_spills += other.value_spills;
        d.duplicate_keys += other.duplicate_keys;
        d.record_errors += other.record_errors;
        d.dropped_records += other.dropped_records;
        d.problems += other.problems;
        let room = KEPT_MESSAGES.saturating_sub(d.messages.len());
        d.messages.extend(other.messages.iter().take(room).cloned());
        d.framing.extend(other.framing.iter().cloned());
        d.notes.extend(other.notes.iter().cloned());
        d.cached_files += other.cached_files;
    }

    pub(crate) fn add_note(&self, message: String) {
        if let Ok(mut d) = self.data.lock() {
            d.notes.push(message);
        }
    }
}
