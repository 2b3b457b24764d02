//! Hadoop SequenceFiles: the files Spark wrote (`testdata/seqfile/`, see
//! `testdata/make_seqfiles.py`) read as msgpack-python decoded their values, split at sync
//! markers, damaged and cut short under each framing policy, and files of the codecs and
//! classes Spark cannot write here, made by the test itself.

use crate::common::{mpq, root};
use mpq::MsgpackReadOptions;
use mpq::framing::seqfile::{write_text, write_vint};
use mpq::reader::{SliceBatches, infer_schema};
use serde_json::Value;

/// The rows of `sql` over the inputs, as NDJSON values; panics with stderr on failure.
fn rows(sql: &str, args: &[&str]) -> Vec<Value> {
    let out = mpq().args(["query", sql, "--format", "ndjson"]).args(args).output().expect("run");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8").lines().map(|l| serde_json::from_str(l).expect("json")).collect()
}

fn expected() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("testdata/seqfile/expected.json")).expect("expected.json");
    serde_json::from_str::<Value>(&text).expect("json").as_array().expect("array").clone()
}

const SPARK_FILES: [&str; 10] = [
    "plain_text_keys",
    "plain_bytes_keys",
    "record_deflate",
    "record_gzip",
    "record_snappy",
    "record_lz4",
    "block_deflate",
    "block_gzip",
    "block_snappy",
    "block_lz4",
];

fn base64(b: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |acc, (i, &x)| acc | u32::from(x) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[test]
fn every_file_spark_wrote_reads_as_msgpack_python_decodes_its_values() {
    let want = expected();
    for name in SPARK_FILES {
        let path = format!("testdata/seqfile/{name}.seq");
        let got = rows("SELECT * FROM t ORDER BY n", &[&path]);
        assert_eq!(got.len(), want.len(), "{name}");
        for (g, w) in got.iter().zip(&want) {
            let key = w["key"].as_str().expect("key");
            let key = if name == "plain_bytes_keys" { base64(key.as_bytes()) } else { key.to_string() };
            assert_eq!(g["key"], Value::String(key), "{name}");
            for (k, v) in g.as_object().expect("row").iter().filter(|(k, _)| *k != "key") {
                assert_eq!(v, w.get(k).unwrap_or(&Value::Null), "{name}: {k} of {w}");
            }
        }
    }
}

#[test]
fn schema_shows_both_classes_the_codec_and_the_metadata() {
    let out = mpq().args(["schema", "testdata/seqfile/plain_bytes_keys.seq"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("layout seqfile (a Hadoop SequenceFile, version 6, key class org.apache.hadoop.io.BytesWritable, value class org.apache.hadoop.io.BytesWritable"), "{text}");
    assert!(text.contains("  key: Binary"), "{text}");
    let out = mpq().args(["schema", "testdata/seqfile/block_snappy.seq"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("block-compressed with org.apache.hadoop.io.compress.SnappyCodec"), "{text}");
    assert!(text.contains("  key: Utf8"), "{text}");
}

/// The `key` column of a scan of `bytes` restricted to `range` (all of it without one).
fn keys(bytes: &[u8], range: Option<std::ops::Range<usize>>) -> Vec<String> {
    let opts = MsgpackReadOptions::default().batch_size(100);
    let schema = infer_schema(bytes, &opts).expect("schema");
    let mut scan = SliceBatches::new(bytes, "many.seq", &schema, None, &opts, None).expect("scan");
    if let Some(r) = range {
        scan = scan.range(r);
    }
    let mut out = Vec::new();
    for batch in scan {
        let batch = batch.expect("batch");
        let col = batch.column_by_name("key").expect("key");
        let col = col.as_any().downcast_ref::<datafusion::arrow::array::StringArray>().expect("utf8");
        out.extend(col.iter().map(|k| k.expect("key").to_string()));
    }
    out
}

#[test]
fn splitting_at_sync_markers_equals_a_whole_read() {
    let bytes = std::fs::read(root().join("testdata/seqfile/plain_many.seq")).expect("read");
    let whole = keys(&bytes, None);
    assert_eq!(whole.len(), 3000);
    for n in 1..=3 {
        let cuts: Vec<usize> = (0..=n).map(|k| bytes.len() * k / n).collect();
        let parts: Vec<Vec<String>> = cuts.windows(2).map(|w| keys(&bytes, Some(w[0]..w[1]))).collect();
        // Hadoop 3 writes a sync marker every 100 KiB: a range without one reads nothing.
        assert!(n < 3 || parts.iter().filter(|p| !p.is_empty()).count() == 2, "the 181 KiB file has one marker");
        assert!(parts.iter().all(|p| p.len() < 3000) || n == 1, "{n} ranges share the records");
        assert_eq!(parts.concat(), whole, "{n} ranges");
    }
    // The binary splits it too, with the same answer on 1, 2 and 3 cores.
    let sql = "SELECT count(*) AS n, count(DISTINCT key) AS k, sum(i) AS s FROM t";
    for threads in ["1", "2", "3"] {
        let got = rows(sql, &["testdata/seqfile/plain_many.seq", "--threads", threads, "--mmap", "always"]);
        assert_eq!(got, [serde_json::json!({"n": 3000, "k": 3000, "s": 4_498_500})], "{threads} threads");
    }
}

/// Runs a count over `bytes` written to a file under `policy`; the keys read (in file order)
/// and stderr, or `None` and stderr when mpq failed.
fn damaged(bytes: &[u8], policy: &str) -> (Option<Vec<String>>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("part-00000");
    std::fs::write(&p, bytes).expect("write");
    let out = mpq()
        .args(["query", "SELECT key FROM t", p.to_str().expect("path"), "--format", "csv", "--threads", "1"])
        .args(["--framing", policy])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(matches!(out.status.code(), Some(0 | 2)), "no crash: {err}");
    if !out.status.success() {
        return (None, err);
    }
    let keys = String::from_utf8_lossy(&out.stdout).lines().skip(1).map(str::to_string).collect();
    (Some(keys), err)
}

#[test]
fn damage_keeps_the_records_before_it_or_fails_under_each_policy() {
    let all: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
    for name in ["plain_text_keys", "record_gzip", "block_snappy", "block_deflate"] {
        let bytes = std::fs::read(root().join(format!("testdata/seqfile/{name}.seq"))).expect("read");
        for cut in [bytes.len() - 3, bytes.len() / 2, bytes.len() * 3 / 4] {
            let short = &bytes[..cut];
            let (kept, err) = damaged(short, "truncate");
            let kept = kept.unwrap_or_else(|| panic!("{name} cut at {cut}: truncate keeps what is before: {err}"));
            assert!(kept.len() < 60, "{name} cut at {cut}");
            assert_eq!(kept, all[..kept.len()], "{name}: a prefix of the records");
            assert!(err.contains("files truncated at a framing error"), "{name}: {err}");
            assert!(err.contains("part-00000: record"), "{name}: names file and record: {err}");
            let (failed, err) = damaged(short, "fail");
            assert!(failed.is_none(), "{name} cut at {cut} fails under fail");
            assert!(err.contains("part-00000: record") && err.contains("at byte"), "{name}: {err}");
        }
        // Bit flips anywhere after the header: no crash; what is read is a prefix or the same
        // records (a flip inside a value's text changes that value only).
        for at in (120..bytes.len()).step_by(bytes.len() / 23) {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5a;
            let (kept, _) = damaged(&flipped, "truncate");
            if let Some(kept) = kept {
                assert!(kept.len() <= 60, "{name} flipped at {at}");
            }
        }
    }
    // In an uncompressed file the error names the exact byte: a record cut short.
    let bytes = std::fs::read(root().join("testdata/seqfile/plain_text_keys.seq")).expect("read");
    let (_, err) = damaged(&bytes[..bytes.len() - 3], "fail");
    assert!(err.contains("framing error at byte"), "{err}");
}

/// A SequenceFile made here: `key_class`/`value_class`, compressed with zstd (`codec` names
/// the class) in blocks of 10 records when `block`, else record by record; plain without a
/// codec.
fn made(
    key_class: &str,
    value_class: &str,
    codec: Option<&str>,
    block: bool,
    records: &[(Vec<u8>, Vec<u8>)],
) -> Vec<u8> {
    let mut out = b"SEQ\x06".to_vec();
    write_text(&mut out, key_class.as_bytes());
    write_text(&mut out, value_class.as_bytes());
    out.extend_from_slice(&[u8::from(codec.is_some()), u8::from(block)]);
    if let Some(c) = codec {
        write_text(&mut out, c.as_bytes());
    }
    out.extend_from_slice(&0i32.to_be_bytes());
    let sync = *b"fedcba9876543210";
    out.extend_from_slice(&sync);
    let zstd = |b: &[u8]| zstd::encode_all(b, 3).expect("zstd");
    if block {
        // Blocks of 10 records, each after a sync marker (Hadoop's blocks are ~1 MB).
        for chunk in records.chunks(10) {
            out.extend_from_slice(&[0xff; 4]);
            out.extend_from_slice(&sync);
            write_vint(&mut out, chunk.len() as i64);
            let mut lens = [Vec::new(), Vec::new(), Vec::new(), Vec::new()];
            for (k, v) in chunk {
                write_vint(&mut lens[0], k.len() as i64);
                lens[1].extend_from_slice(k);
                write_vint(&mut lens[2], v.len() as i64);
                lens[3].extend_from_slice(v);
            }
            for buf in lens {
                let c = zstd(&buf);
                write_vint(&mut out, c.len() as i64);
                out.extend_from_slice(&c);
            }
        }
        return out;
    }
    for (k, v) in records {
        let v = if codec.is_some() { zstd(v) } else { v.clone() };
        out.extend_from_slice(&((k.len() + v.len()) as i32).to_be_bytes());
        out.extend_from_slice(&(k.len() as i32).to_be_bytes());
        out.extend_from_slice(k);
        out.extend_from_slice(&v);
    }
    out
}

const TEXT: &str = "org.apache.hadoop.io.Text";
const BYTES: &str = "org.apache.hadoop.io.BytesWritable";
const ZSTD: &str = "org.apache.hadoop.io.compress.ZStandardCodec";

/// Serialized as a Text (a vint length, then the bytes) or a BytesWritable (an i32 length).
fn ser(class: &str, b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if class == TEXT {
        write_vint(&mut out, b.len() as i64);
    } else {
        out.extend_from_slice(&(b.len() as i32).to_be_bytes());
    }
    out.extend_from_slice(b);
    out
}

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).expect("write");
    p.to_str().expect("path").to_string()
}

#[test]
fn zstd_text_values_and_classes_or_codecs_mpq_does_not_read() {
    let dir = tempfile::tempdir().expect("tmp");
    let record = |i: u8| vec![0x82, 0xa1, b'n', i, 0xa1, b's', 0xa1, b'a' + i];
    let recs: Vec<(Vec<u8>, Vec<u8>)> =
        (0..5u8).map(|i| (ser(TEXT, format!("k{i}").as_bytes()), ser(BYTES, &record(i)))).collect();
    let sql = "SELECT key, n, s FROM t ORDER BY n";
    let want: Vec<Value> = (0..5u8)
        .map(|i| serde_json::json!({"key": format!("k{i}"), "n": i, "s": ((b'a' + i) as char).to_string()}))
        .collect();
    for (name, block) in [("block_zstd", true), ("record_zstd", false)] {
        let p = write_temp(&dir, name, &made(TEXT, BYTES, Some(ZSTD), block, &recs));
        assert_eq!(rows(sql, &[&p]), want, "{name}");
    }
    // Text values: the value's bytes are the record.
    let text_values: Vec<(Vec<u8>, Vec<u8>)> =
        (0..5u8).map(|i| (ser(TEXT, format!("k{i}").as_bytes()), ser(TEXT, &record(i)))).collect();
    let p = write_temp(&dir, "text_values", &made(TEXT, TEXT, None, false, &text_values));
    assert_eq!(rows(sql, &[&p]), want);
    // A Text key that is not UTF-8 is a record error: NULL, reported.
    let mut bad = text_values.clone();
    bad[1].0 = ser(TEXT, b"\xff\xfe");
    let p = write_temp(&dir, "bad_key", &made(TEXT, TEXT, None, false, &bad));
    let out = mpq().args(["query", "SELECT count(key) AS k FROM t", &p, "--format", "csv"]).output().expect("run");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "k\n4\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected a UTF-8 Text key"));
    // Under the record policies: dropped, or the scan's error.
    let out =
        mpq().args(["query", "SELECT count(*) AS n FROM t", &p, "--format", "csv", "--on-error", "drop"]).output();
    assert_eq!(String::from_utf8_lossy(&out.expect("run").stdout), "n\n4\n");
    let out = mpq().args(["query", "SELECT count(*) FROM t", &p, "--on-error", "fail"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad_key")
            || String::from_utf8_lossy(&out.stderr).contains("Text key")
    );
    // Classes and codecs mpq does not read are named.
    let long_keys = made("org.apache.hadoop.io.LongWritable", BYTES, None, false, &[]);
    let p = write_temp(&dir, "long_keys", &long_keys);
    let out = mpq().args(["query", "SELECT count(*) FROM t", &p]).output().expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("key class is org.apache.hadoop.io.LongWritable"));
    let bzip2 = made(TEXT, BYTES, Some("org.apache.hadoop.io.compress.BZip2Codec"), true, &[]);
    let p = write_temp(&dir, "bzip2", &bzip2);
    let out = mpq().args(["schema", &p]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("compressed with org.apache.hadoop.io.compress.BZip2Codec; mpq reads DefaultCodec"), "{err}");
}

#[test]
fn standard_input_and_forced_layouts() {
    let bytes = std::fs::read(root().join("testdata/seqfile/plain_text_keys.seq")).expect("read");
    let out = mpq().args(["query", "SELECT count(*) FROM t", "-"]).write_stdin(bytes).output().expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>: a Hadoop SequenceFile is read from a file"));
    let out = mpq()
        .args(["query", "SELECT count(*) FROM t", "testdata/logs.msgpack", "--layout", "seqfile"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a SequenceFile header"));
    let got = rows("SELECT count(*) AS n FROM t", &["testdata/seqfile/block_gzip.seq", "--layout", "seqfile"]);
    assert_eq!(got, [serde_json::json!({"n": 60})]);
}

#[test]
fn compressed_files_split_at_sync_markers_and_skip_a_damaged_block_alike_on_any_number_of_cores() {
    let dir = tempfile::tempdir().expect("tmp");
    let recs: Vec<(Vec<u8>, Vec<u8>)> = (0..1000u32)
        .map(|i| {
            let mut v = vec![0x81, 0xa1, b'n', 0xcd];
            v.extend_from_slice(&(i as u16).to_be_bytes());
            (ser(TEXT, format!("k{i:04}").as_bytes()), ser(BYTES, &v))
        })
        .collect();
    let bytes = made(TEXT, BYTES, Some(ZSTD), true, &recs);
    let p = write_temp(&dir, "blocks", &bytes);
    let sql = "SELECT count(*) AS n, sum(n) AS s, min(key) AS lo, max(key) AS hi FROM t";
    let whole = serde_json::json!({"n": 1000, "s": 499_500, "lo": "k0000", "hi": "k0999"});
    // Split scans need files over the size DataFusion splits at; the library splits any size.
    for n in 1..=3usize {
        let opts = MsgpackReadOptions::default();
        let input = mpq::input::FileBytes::in_memory(bytes::Bytes::from(bytes.clone()));
        let cuts: Vec<usize> = (0..=n).map(|k| bytes.len() * k / n).collect();
        let mut keys = Vec::new();
        for w in cuts.windows(2) {
            let prepared = mpq::input::prepare(input.clone(), "blocks", &opts).expect("prepare");
            let (sample, _) = prepared.sample_bytes("blocks", &opts).expect("sample");
            let schema = infer_schema(&sample, &opts).expect("schema");
            let request = mpq::reader::scan::ScanRequest {
                path: "blocks",
                schema: &schema,
                projection: &[0],
                filter: None,
                range: Some(w[0]..w[1]),
                limit: None,
            };
            let report = mpq::ScanReport::new();
            for b in mpq::reader::scan::scan_input(prepared, request, &opts, &report).expect("scan") {
                let b = b.expect("batch");
                let col = b.column(0).as_any().downcast_ref::<datafusion::arrow::array::StringArray>().expect("utf8");
                keys.extend(col.iter().map(|k| k.expect("key").to_string()));
            }
        }
        let want: Vec<String> = (0..1000).map(|i| format!("k{i:04}")).collect();
        assert_eq!(keys, want, "{n} ranges");
    }
    assert_eq!(rows(sql, &[&p]), [whole]);
    // A damaged block (its compressed values overwritten) is left out, up to the next sync
    // marker: the same 990 records on 1 and 3 cores, and the damage reported at its offset.
    let mut broken = bytes.clone();
    let sync_at = |k: usize| {
        let needle: Vec<u8> = [&[0xffu8; 4][..], b"fedcba9876543210"].concat();
        bytes.windows(20).enumerate().filter(|(_, w)| *w == &needle[..]).nth(k).map(|(i, _)| i).expect("sync")
    };
    let (from, to) = (sync_at(40), sync_at(41));
    for b in &mut broken[to - 8..to] {
        *b ^= 0xff;
    }
    let p = write_temp(&dir, "broken", &broken);
    for threads in ["1", "3"] {
        let out = mpq()
            .args(["query", "SELECT count(*) AS n FROM t", &p, "--format", "csv", "--threads", threads])
            .output()
            .expect("run");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n990\n", "{threads} threads");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("at byte {from}")) && err.contains(&format!("{from}..{to}")), "{err}");
    }
    let out = mpq().args(["query", "SELECT count(*) FROM t", &p, "--framing", "fail"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("do not decompress"));
}
