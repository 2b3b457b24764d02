//! What scans on a cluster's executors report, carried back to the client: each partition of
//! a scan keeps its own report and, as each of its files ends, sets named gauges (`mpq_*`) in the
//! scan's operator metrics to that report's totals. Ballista returns operator metrics with a job;
//! the client adds the gauges to its own report ([`crate::report::ScanReport::add_remote`]).
//! Problem lines stay on the executors (their stderr): only counts travel.

use crate::report::ReportData;
use datafusion::physical_plan::metrics::{ExecutionPlanMetricsSet, Gauge, MetricBuilder};
use std::collections::HashMap;
use std::sync::Mutex;

/// The prefix of every gauge this module sets.
pub const PREFIX: &str = "mpq_";
/// The prefix of the gauges of pairs kept in `_extra`, by key (`mpq_extra:KEY`).
pub const EXTRA_PREFIX: &str = "mpq_extra:";
/// Keys of `_extra` counted one by one per partition; the rest are counted under
/// [`EXTRA_OTHER`].
const MAX_EXTRA_KEYS: usize = 256;
/// The gauge of `_extra` pairs of the keys past [`MAX_EXTRA_KEYS`].
pub const EXTRA_OTHER: &str = "mpq_extra_other";

/// The named gauges of one partition of a scan.
pub(crate) struct Counts {
    metrics: ExecutionPlanMetricsSet,
    partition: usize,
    fixed: Vec<(&'static str, Gauge)>,
    extra: Mutex<HashMap<String, Gauge>>,
    other: Mutex<Option<Gauge>>,
}

/// The gauge of files truncated at a framing error.
const FRAMING: &str = "mpq_framing";
/// The gauge of warnings.
const NOTES: &str = "mpq_notes";

/// The plain counters of a report, by gauge name: the one list [`Counts::record`] writes and
/// [`report_data`] reads back.
fn counters(d: &mut ReportData) -> [(&'static str, &mut u64); 7] {
    [
        ("mpq_records", &mut d.records),
        ("mpq_bytes", &mut d.bytes),
        ("mpq_value_spills", &mut d.value_spills),
        ("mpq_duplicate_keys", &mut d.duplicate_keys),
        ("mpq_record_errors", &mut d.record_errors),
        ("mpq_dropped_records", &mut d.dropped_records),
        ("mpq_problems", &mut d.problems),
    ]
}

/// Every fixed gauge of a report and its value.
fn fixed_values(d: &ReportData) -> Vec<(&'static str, u64)> {
    let (framing, notes) = (d.framing.len() as u64, d.notes.len() as u64);
    let mut d = ReportData { messages: Vec::new(), framing: Vec::new(), notes: Vec::new(), ..d.clone() };
    let mut out: Vec<(&'static str, u64)> = counters(&mut d).into_iter().map(|(n, v)| (n, *v)).collect();
    out.extend([(FRAMING, framing), (NOTES, notes)]);
    out
}

impl Counts {
    /// The gauges of `partition` in `metrics`.
    pub(crate) fn new(metrics: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        let fixed = fixed_values(&ReportData::default())
            .into_iter()
            .map(|(name, _)| (name, MetricBuilder::new(metrics).gauge(name, partition)))
            .collect();
        Counts {
            metrics: metrics.clone(),
            partition,
            fixed,
            extra: Mutex::new(HashMap::new()),
            other: Mutex::new(None),
        }
    }

    /// Sets the gauges to the totals of `d` (the partition's report so far).
    pub(crate) fn record(&self, d: &ReportData) {
        for ((_, gauge), (_, value)) in self.fixed.iter().zip(fixed_values(d)) {
            gauge.set(value as usize);
        }
        let Ok(mut extra) = self.extra.lock() else { return };
        let mut other = 0;
        for (key, n) in &d.extra_keys {
            if !extra.contains_key(key) && extra.len() >= MAX_EXTRA_KEYS {
                other += n;
                continue;
            }
            let gauge = extra.entry(key.clone()).or_insert_with(|| {
                MetricBuilder::new(&self.metrics).gauge(format!("{EXTRA_PREFIX}{key}"), self.partition)
            });
            gauge.set(*n as usize);
        }
        if other > 0
            && let Ok(mut g) = self.other.lock()
        {
            g.get_or_insert_with(|| MetricBuilder::new(&self.metrics).gauge(EXTRA_OTHER, self.partition))
                .set(other as usize);
        }
    }
}

/// What the gauges `named` (name and value, summed over a job's partitions; other names are
/// left out) say the executors' scans met.
pub fn report_data<'a>(named: impl IntoIterator<Item = (&'a str, u64)>) -> ReportData {
    let mut d = ReportData::default();
    let on_cluster = |what: &str| format!("{what} on the cluster (the executor's stderr says where)");
    for (name, value) in named {
        if let Some((_, counter)) = counters(&mut d).into_iter().find(|(n, _)| *n == name) {
            *counter += value;
            continue;
        }
        match name {
            FRAMING => d.framing.extend((0..value).map(|_| on_cluster("a file truncated at a framing error"))),
            NOTES => d.notes.extend((0..value).map(|_| on_cluster("a warning"))),
            EXTRA_OTHER => *d.extra_keys.entry("(other keys)".to_string()).or_default() += value,
            _ => {
                if let Some(key) = name.strip_prefix(EXTRA_PREFIX) {
                    *d.extra_keys.entry(key.to_string()).or_default() += value;
                }
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::physical_plan::metrics::MetricValue;

    #[test]
    fn gauges_carry_a_report_and_come_back_as_one() {
        let metrics = ExecutionPlanMetricsSet::new();
        let mut d = ReportData { records: 10, bytes: 700, record_errors: 2, problems: 3, ..Default::default() };
        d.extra_keys.insert("a".into(), 4);
        d.framing.push("x".into());
        let (p0, p1) = (Counts::new(&metrics, 0), Counts::new(&metrics, 1));
        p0.record(&ReportData { records: 1, ..Default::default() });
        p0.record(&d); // a later file of the same partition: the totals so far
        p1.record(&d);
        let named: Vec<(String, u64)> = metrics
            .clone_inner()
            .iter()
            .filter_map(|m| match m.value() {
                MetricValue::Gauge { name, gauge } => Some((name.to_string(), gauge.value() as u64)),
                _ => None,
            })
            .collect();
        let back = report_data(named.iter().map(|(n, v)| (n.as_str(), *v)));
        assert_eq!((back.records, back.bytes, back.record_errors, back.problems), (20, 1400, 4, 6));
        assert_eq!(back.extra_keys.get("a"), Some(&8));
        assert_eq!(back.framing.len(), 2);
        assert_eq!(report_data([("other_metric", 5)]), ReportData::default());
    }
}
