//! Property tests: no panic on any bytes, chunked decoding equals whole decoding, projection
//! equals decode-then-project.

use crate::common::table;
use datafusion::arrow::array::RecordBatch;
use mpq::MsgpackReadOptions;
use mpq::generate::{Spec, to_vecs};
use mpq::reader::{decode_reader, decode_slice, infer_schema};
use proptest::prelude::*;
use std::sync::Arc;

fn decode_all(bytes: &[u8], opts: &MsgpackReadOptions) -> Vec<Result<RecordBatch, String>> {
    let Ok(schema) = infer_schema(bytes, opts) else { return vec![] };
    match decode_slice(bytes, schema, None, opts) {
        Ok(it) => it.map(|r| r.map_err(|e| e.to_string())).collect(),
        Err(e) => vec![Err(e.to_string())],
    }
}

/// A reader that hands out at most `step` bytes per read, as a slow pipe does.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A `Write` into a shared buffer (for the rejects lines of a scan).
#[derive(Clone, Default)]
struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every cut of a valid file, read whole and as a trickling stream: exactly the records that
/// end before the cut, plus one framing problem (kind `truncated` or `length_past_end`) at
/// the first record the cut goes through, unless the cut falls between records.
#[test]
fn every_truncation_point_keeps_the_records_before_it_and_reports_one_problem() {
    for events in [false, true] {
        let bytes = to_vecs(&Spec { records: 12, seed: 3, events, mixed: false, wide: false }).0;
        let layout = if events { mpq::framing::Layout::Events } else { mpq::framing::Layout::Records };
        let base = MsgpackReadOptions::default().layout(Some(layout)).batch_size(5);
        let schema = infer_schema(&bytes, &base).expect("schema");
        let ends: Vec<usize> =
            mpq::framing::Framer::new(&bytes, 0, layout, base.limits(), 0).map(|r| r.expect("valid").end).collect();
        assert_eq!(ends.len(), 12);
        for cut in 0..=bytes.len() {
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            let start = if complete == 0 { 0 } else { ends[complete - 1] };
            for stream in [false, true] {
                let rejects = Shared::default();
                let (opts, report) = (base.clone(), mpq::ScanReport::new());
                report.rejects_to(Box::new(rejects.clone()));
                let part = &bytes[..cut];
                let rows: usize = if stream {
                    let reader = Trickle { data: part, step: 7 };
                    decode_reader(reader, Arc::clone(&schema), None, &opts)
                        .expect("d")
                        .with_report(&report)
                        .map(|b| b.expect("kept").num_rows())
                        .sum()
                } else {
                    decode_slice(part, Arc::clone(&schema), None, &opts)
                        .expect("d")
                        .with_report(&report)
                        .map(|b| b.expect("kept").num_rows())
                        .sum()
                };
                let what = format!("events {events}, cut {cut}, stream {stream}");
                assert_eq!(rows, complete, "{what}");
                let lines = String::from_utf8(rejects.0.lock().expect("lock").clone()).expect("utf8");
                let problems: Vec<serde_json::Value> =
                    lines.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
                if cut == start {
                    assert!(problems.is_empty(), "{what}: {lines}");
                    continue;
                }
                assert_eq!(problems.len(), 1, "{what}: {lines}");
                let p = &problems[0];
                assert!(matches!(p["kind"].as_str(), Some("truncated" | "length_past_end")), "{what}: {p}");
                assert_eq!(p["record"], complete, "{what}: {p}");
                assert_eq!(p["record_offset"], start, "{what}: {p}");
                let offset = p["offset"].as_u64().expect("offset") as usize;
                assert!((start..=cut).contains(&offset), "{what}: {p}");
                assert_eq!(p["dropped_bytes"], serde_json::json!([start, cut]), "{what}: {p}");
            }
        }
    }
}

fn sample() -> Vec<u8> {
    to_vecs(&Spec { records: 60, seed: 5, events: false, mixed: false, wide: false }).0
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let opts = MsgpackReadOptions::default().with_record(true);
        let _ = decode_all(&bytes, &opts);
    }

    #[test]
    fn never_panics_on_mutated_records(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = sample();
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let opts = MsgpackReadOptions::default().with_record(true).infer_rows(20);
        let _ = decode_all(&bytes, &opts);
    }

    #[test]
    fn chunked_equals_whole(step in 1usize..300, batch in 1usize..50) {
        let bytes = sample();
        let opts = MsgpackReadOptions::default().batch_size(batch);
        let schema = infer_schema(&bytes, &opts).expect("schema");
        let whole: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let reader = Trickle { data: &bytes, step };
        let streamed: Vec<_> = decode_reader(reader, schema, None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        prop_assert_eq!(table(&whole), table(&streamed));
    }

    /// `batch_bytes` ends a batch once its records span that many bytes (a batch holds at
    /// least one record, and at most `batch_size`), from a slice and from a stream, and the
    /// rows are the same as in whole batches.
    #[test]
    fn batches_end_at_their_byte_bound(cap in 1usize..3000, batch in 1usize..50, mixed in any::<bool>()) {
        let bytes = to_vecs(&Spec { records: 60, seed: 5, events: false, mixed, wide: false }).0;
        let whole_opts = MsgpackReadOptions::default();
        let schema = infer_schema(&bytes, &whole_opts).expect("schema");
        let whole: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), None, &whole_opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let opts = MsgpackReadOptions::default().batch_size(batch).batch_bytes(cap);
        let ends: Vec<usize> = mpq::framing::Framer::new(&bytes, 0, mpq::framing::Layout::Records, opts.limits(), 0)
            .map(|r| r.expect("valid").end)
            .collect();
        let sliced: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let streamed: Vec<_> = decode_reader(Trickle { data: &bytes, step: 97 }, Arc::clone(&schema), None, &opts)
            .expect("d")
            .collect::<Result<_, _>>()
            .expect("ok");
        for batches in [&sliced, &streamed] {
            prop_assert_eq!(table(batches), table(&whole));
            let mut first = 0;
            for b in batches.iter() {
                let n = b.num_rows();
                prop_assert!(n >= 1 && n <= batch, "{} rows", n);
                // The records before the last one spanned less than the bound.
                let start = if first == 0 { 0 } else { ends[first - 1] };
                prop_assert!(n == 1 || ends[first + n - 2] - start < cap, "{} rows from record {}", n, first);
                // A batch of a slice ends early only at the bound (a stream's may end where
                // its buffer does).
                let last = first + n == ends.len();
                prop_assert!(!std::ptr::eq(batches, &sliced) || last || n == batch || ends[first + n - 1] - start >= cap);
                first += n;
            }
            prop_assert_eq!(first, ends.len());
        }
    }

    #[test]
    fn projection_equals_decode_then_project(mask in proptest::collection::vec(any::<bool>(), 20)) {
        let bytes = sample();
        let opts = MsgpackReadOptions::default().with_record(true);
        let schema = infer_schema(&bytes, &opts).expect("schema");
        let proj: Vec<usize> = (0..schema.fields().len()).filter(|i| mask.get(*i).copied().unwrap_or(false)).collect();
        let full: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let projected: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), Some(&proj), &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let then: Vec<_> = full.iter().map(|b| b.project(&proj).expect("project")).collect();
        prop_assert_eq!(projected.iter().map(|b| b.num_rows()).sum::<usize>(), 60);
        if !proj.is_empty() {
            prop_assert_eq!(table(&projected), table(&then));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A file cut into byte ranges at arbitrary points, each range decoded on its own (as the
    /// cores of a split scan do), yields every record exactly once, in order.
    #[test]
    fn split_ranges_read_every_record_once(
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 1..8),
        events in any::<bool>(),
        seed in 1u64..1000,
        with_record in any::<bool>(),
    ) {
        let bytes = to_vecs(&Spec { records: 2500, seed, events, mixed: false, wide: false }).0;
        let opts = MsgpackReadOptions::default().with_record(with_record);
        let schema = infer_schema(&bytes, &opts).expect("schema");
        let whole: Vec<_> =
            decode_slice(&bytes[..], Arc::clone(&schema), None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len())).collect();
        points.extend([0, bytes.len()]);
        points.sort_unstable();
        points.dedup();
        let mut parts = Vec::new();
        let mut counted = 0;
        for w in points.windows(2) {
            let it = decode_slice(&bytes[..], Arc::clone(&schema), None, &opts).expect("d").range(w[0]..w[1]);
            parts.extend(it.collect::<Result<Vec<_>, _>>().expect("ranges verify"));
            // No column: the count(*) path.
            let it = decode_slice(&bytes[..], Arc::clone(&schema), Some(&[]), &opts).expect("d").range(w[0]..w[1]);
            counted += it.map(|b| b.expect("ranges verify").num_rows()).sum::<usize>();
        }
        prop_assert_eq!(table(&whole), table(&parts));
        prop_assert_eq!(counted, 2500);
    }
}

/// Decodes `bytes` to a comparable text: the table, the error, and the scan's report.
fn outcome(
    bytes: &[u8],
    schema: &datafusion::arrow::datatypes::SchemaRef,
    proj: Option<&[usize]>,
    keep: &[usize],
    opts: &MsgpackReadOptions,
) -> String {
    let report = mpq::ScanReport::new();
    let batches: Result<Vec<_>, _> =
        decode_slice(bytes, Arc::clone(schema), proj, opts).expect("d").with_report(&report).collect();
    let text = match batches {
        Ok(b) => table(&b.iter().map(|b| b.project(keep).expect("project")).collect::<Vec<_>>()),
        Err(e) => e.to_string(),
    };
    format!("{text}\n{:?}", report.snapshot())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Records framed by decoding them (the fast path) give exactly what framing first and
    /// decoding after gives (the path `_record` takes), on damaged input too: the same rows,
    /// the same errors, the same report.
    #[test]
    fn decoding_without_framing_first_changes_nothing(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        events in any::<bool>(),
        depth in prop::sample::select(vec![2usize, 3, 4, 128]),
    ) {
        let mut bytes = to_vecs(&Spec { records: 60, seed: 9, events, mixed: false, wide: false }).0;
        let opts = MsgpackReadOptions::default().with_record(true).max_depth(depth).batch_size(7);
        let schema = infer_schema(&bytes, &MsgpackReadOptions::default().with_record(true)).expect("schema");
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let n = schema.fields().len();
        let all: Vec<usize> = (0..n - 1).collect();
        let framed = outcome(&bytes, &schema, None, &all, &opts);
        let fused = outcome(&bytes, &schema, Some(&all), &all, &opts);
        prop_assert_eq!(framed, fused);
    }
}

/// One event as its time bytes and record bytes.
type Event = (Vec<u8>, Vec<u8>);

/// The events of a generated event stream.
fn events() -> (Vec<u8>, Vec<Event>) {
    let stream = to_vecs(&Spec { records: 40, seed: 9, events: true, mixed: false, wide: false }).0;
    let limits = MsgpackReadOptions::default().limits();
    let parts = mpq::framing::Framer::new(&stream, 0, mpq::framing::Layout::Events, limits, 0)
        .map(|r| r.expect("framed"))
        .map(|r| (stream[r.time.expect("time")..r.body].to_vec(), stream[r.body..r.end].to_vec()))
        .collect();
    (stream, parts)
}

/// A forward capture of `events`: consecutive runs of `sizes` events, each run one entry in
/// `modes` (0 Message per event, 1 Forward, 2 PackedForward, 3 CompressedPackedForward).
fn capture(events: &[Event], runs: &[(usize, u8)]) -> Vec<u8> {
    use mpq_wire::write::{write_array_header, write_bin, write_map_header, write_str};
    let mut out = Vec::new();
    let mut at = 0;
    let mut runs = runs.iter().cycle();
    while at < events.len() {
        let &(size, mode) = runs.next().expect("cycle");
        let run = &events[at..(at + size.max(1)).min(events.len())];
        at += run.len();
        let mut stream = Vec::new();
        for (t, r) in run {
            write_array_header(&mut stream, 2);
            stream.extend(t);
            stream.extend(r);
        }
        match mode {
            0 => {
                for (t, r) in run {
                    write_array_header(&mut out, 3);
                    write_str(&mut out, b"tg");
                    out.extend(t);
                    out.extend(r);
                }
            }
            1 => {
                write_array_header(&mut out, 2);
                write_str(&mut out, b"tg");
                write_array_header(&mut out, run.len() as u32);
                out.extend(stream);
            }
            2 => {
                write_array_header(&mut out, 2);
                write_str(&mut out, b"tg");
                write_bin(&mut out, &stream);
            }
            _ => {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                gz.write_all(&stream).expect("gzip");
                write_array_header(&mut out, 3);
                write_str(&mut out, b"tg");
                write_bin(&mut out, &gz.finish().expect("gzip"));
                write_map_header(&mut out, 1);
                write_str(&mut out, b"compressed");
                write_str(&mut out, b"gzip");
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// However events are grouped into forward entries of whatever modes, the capture reads as
    /// the same rows as the event stream, plus the tag; in batches of any size.
    #[test]
    fn forward_captures_equal_their_event_stream(
        runs in proptest::collection::vec((1usize..12, 0u8..4), 1..6),
        batch in 1usize..20,
    ) {
        let (stream, parts) = events();
        let opts = MsgpackReadOptions::default().batch_size(batch);
        let raw = capture(&parts, &runs);
        let input = mpq::input::prepare(mpq::input::source::FileBytes::in_memory(raw.into()), "c", &opts).expect("prepare");
        let bytes = input.bytes.bytes.to_vec();
        let schema = infer_schema(&bytes, &opts).expect("schema");
        prop_assert_eq!(schema.field(1).name(), "tag");
        let without_tag: Vec<usize> = (0..schema.fields().len()).filter(|i| *i != 1).collect();
        let got: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), Some(&without_tag), &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let tags: Vec<_> = decode_slice(&bytes, Arc::clone(&schema), Some(&[1]), &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        let want_schema = infer_schema(&stream, &opts).expect("schema");
        let want: Vec<_> = decode_slice(&stream, want_schema, None, &opts).expect("d").collect::<Result<_, _>>().expect("ok");
        prop_assert_eq!(table(&got), table(&want));
        prop_assert_eq!(tags.iter().map(|b| b.column(0).len() - b.column(0).null_count()).sum::<usize>(), parts.len());
    }

    #[test]
    fn never_panics_on_mutated_forward_captures(
        runs in proptest::collection::vec((1usize..12, 0u8..3), 1..6),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let (_, parts) = events();
        let mut bytes = capture(&parts, &runs);
        for (i, b) in flips {
            let at = i.index(bytes.len());
            bytes[at] = b;
        }
        let opts = MsgpackReadOptions::default().with_record(true).infer_rows(20);
        let _ = decode_all(&bytes, &opts);
        let forced = opts.layout(Some(mpq::framing::Layout::Forward));
        let _ = decode_all(&bytes, &forced);
    }
}

/// The rows (sorted) and report counters of `sql` over `file`, with filters in the scan or not.
fn filtered(
    file: &std::path::Path,
    sql: &str,
    pushdown: bool,
    batch: usize,
    on_error: mpq::options::OnError,
) -> String {
    use mpq::SessionContextExt;
    let opts = MsgpackReadOptions::default().filter_pushdown(pushdown).on_error(on_error);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let (rows, report) = rt.block_on(async {
        let config = datafusion::prelude::SessionConfig::new().with_batch_size(batch).with_target_partitions(3);
        let ctx = datafusion::prelude::SessionContext::new_with_config(config);
        ctx.register_msgpack("t", file.to_str().expect("utf-8 path"), opts).await.expect("register");
        let rows = match ctx.sql(sql).await {
            Ok(df) => df.collect().await.map(|b| table(&b)).unwrap_or_else(|e| format!("error {e}")),
            Err(e) => format!("error {e}"),
        };
        (rows, ctx.msgpack_report())
    });
    let mut lines: Vec<&str> = rows.lines().collect();
    lines.sort_unstable();
    let r = report.snapshot();
    format!("{}\nrecords {} errors {} dropped {}", lines.join("\n"), r.records, r.record_errors, r.dropped_records)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// A filter applied in the scan (its columns decoded first, the others late or at once as
    /// the share that passes moves) gives the rows and counts a filter after the scan gives,
    /// over messy records with a damaged byte or two, for any threshold, projection, batch
    /// size and error policy.
    #[test]
    fn filters_in_the_scan_equal_filters_after_it(
        seed in 1u64..1000,
        threshold in 0i64..700,
        columns in proptest::sample::subsequence(
            vec!["service", "\"user\".name", "\"user\"", "tags", "payload", "attrs", "_extra", "ts", "code"], 1..5),
        batch in 1usize..300,
        damage in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
        policy in 0usize..3,
    ) {
        let mut bytes = to_vecs(&Spec { records: 1500, seed, events: false, mixed: false, wide: false }).0;
        let undamaged = damage.is_empty();
        for (at, b) in damage {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("f.msgpack");
        std::fs::write(&file, &bytes).expect("write");
        let on_error = [mpq::options::OnError::Null, mpq::options::OnError::Drop, mpq::options::OnError::Fail][policy];
        let sql = format!(
            "SELECT {} FROM t WHERE latency_ms < {threshold} OR (level = 'error' AND status >= 500)",
            columns.join(", ")
        );
        let with = filtered(&file, &sql, true, batch, on_error);
        let without = filtered(&file, &sql, false, batch, on_error);
        if undamaged {
            // A real answer, not the same error twice.
            prop_assert!(with.contains("records 1500 "), "{}", with);
        }
        prop_assert_eq!(with, without, "{}", sql);
    }
}
