//! Counters a scan adds to: records read, pairs sent to `_extra` (by key), duplicate keys,
//! record errors and framing problems. The CLI prints them; library callers read them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// How many record-error messages are kept word for word.
pub const KEPT_MESSAGES: usize = 20;

/// Shared scan counters; clones share the same counters.
#[derive(Debug, Clone, Default)]
pub struct ScanReport(Arc<Mutex<ReportData>>);

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
    /// Record errors (record kept, the bad part NULL).
    pub record_errors: u64,
    /// The first [`KEPT_MESSAGES`] record-error messages.
    pub messages: Vec<String>,
    /// Framing problems: each message says what was dropped.
    pub framing: Vec<String>,
    /// Things worth a warning that lost nothing: a buffer chunk holding another number of
    /// records than its `.meta` sidecar says.
    pub notes: Vec<String>,
}

impl ReportData {
    /// Pairs sent to `_extra` in all.
    pub fn extra_pairs(&self) -> u64 {
        self.extra_keys.values().sum::<u64>() + self.value_spills
    }

    /// True if anything was skipped, nulled, truncated or spilled.
    pub fn has_problems(&self) -> bool {
        self.record_errors > 0 || !self.framing.is_empty()
    }
}

/// Counters of one batch, added to the report when the batch is complete.
#[derive(Debug, Default)]
pub struct BatchStats {
    pub(crate) extra_keys: BTreeMap<Vec<u8>, u64>,
    pub(crate) value_spills: u64,
    pub(crate) duplicate_keys: u64,
    pub(crate) record_errors: u64,
    pub(crate) messages: Vec<String>,
}

impl BatchStats {
    pub(crate) fn extra_key(&mut self, key: &[u8]) {
        *self.extra_keys.entry(key.to_vec()).or_default() += 1;
    }

    pub(crate) fn record_error(&mut self, message: String) {
        self.record_errors += 1;
        if self.messages.len() < KEPT_MESSAGES {
            self.messages.push(message);
        }
    }
}

impl ScanReport {
    /// A fresh report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records and bytes decoded so far, without copying the rest (for progress displays).
    pub fn progress(&self) -> (u64, u64) {
        self.0.lock().map(|d| (d.records, d.bytes)).unwrap_or_default()
    }

    /// A copy of the counters now.
    pub fn snapshot(&self) -> ReportData {
        self.0.lock().map(|d| d.clone()).unwrap_or_default()
    }

    pub(crate) fn add_batch(&self, rows: usize, bytes: u64, s: &BatchStats) {
        if let Ok(mut d) = self.0.lock() {
            d.records += rows as u64;
            d.bytes += bytes;
            for (k, n) in &s.extra_keys {
                *d.extra_keys.entry(String::from_utf8_lossy(k).into_owned()).or_default() += n;
            }
            d.value_spills += s.value_spills;
            d.duplicate_keys += s.duplicate_keys;
            d.record_errors += s.record_errors;
            let room = KEPT_MESSAGES.saturating_sub(d.messages.len());
            d.messages.extend(s.messages.iter().take(room).cloned());
        }
    }

    pub(crate) fn add_framing(&self, message: String) {
        if let Ok(mut d) = self.0.lock() {
            d.framing.push(message);
        }
    }

    pub(crate) fn add_note(&self, message: String) {
        if let Ok(mut d) = self.0.lock() {
            d.notes.push(message);
        }
    }
}
