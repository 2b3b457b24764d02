//! Deterministic messy test data, written by an encoder independent of the reader (`rmp`):
//! type conflicts, missing and late keys, nil, nested maps, arrays, both timestamp exts (all
//! three timestamp widths), big integers, bins, float32, dictionaries with many keys, and
//! shuffled key order. The same records can be written as NDJSON (the twin other engines read).
//! Used by `mpq generate`, the tests and the benches.

use mpq_wire::ext::rfc3339;
use rmp::encode as enc;
use serde_json::{Map, Value, json};
use std::io::{self, Write};

/// What to generate.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spec {
    /// Number of records.
    pub records: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Write `[EventTime, record]` events instead of plain maps.
    pub events: bool,
    /// Replace every second record by a value that is not a map (an array, a string or an
    /// integer), so the file has the values layout and one variant column `value`.
    pub mixed: bool,
    /// Add the fields of messier production logs ([`wide_fields`]): a wide sparse struct, a
    /// mostly-int variant, high-cardinality strings, a nested request struct, a list of labels.
    pub wide: bool,
}

/// xorshift64*: small, fast and deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const SERVICES: &[&str] = &["api", "web", "auth", "billing", "search", "mail", "queue", "cache"];
const LEVELS: &[&str] = &["info", "info", "info", "info", "info", "info", "warn", "warn", "error", "debug"];
const STATUS: &[i64] = &[200, 200, 200, 201, 204, 301, 400, 404, 500, 503];
const COUNTRIES: &[&str] = &["DE", "US", "JP", "BR", "IN", "FR", "NG", "Ünïcode"];
const TAGS: &[&str] = &["a", "b", "canary", "beta", "eu", "us", "retry", "slow"];

/// One value, as written to both encodings.
enum V {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F64(f64),
    F32(f32),
    Str(String),
    Bin(Vec<u8>),
    /// Timestamp ext -1 with (seconds, nanoseconds) in the given width (4, 8 or 12 bytes).
    Ts(i64, u32, u8),
    /// EventTime ext 0.
    EventTime(u32, u32),
    Arr(Vec<V>),
    Map(Vec<(String, V)>),
}

fn write_mp(w: &mut Vec<u8>, v: &V) -> io::Result<()> {
    let e = |e: rmp::encode::ValueWriteError| io::Error::other(e.to_string());
    match v {
        V::Nil => enc::write_nil(w)?,
        V::Bool(b) => enc::write_bool(w, *b)?,
        V::Int(i) => {
            enc::write_sint(w, *i).map_err(e)?;
        }
        V::UInt(u) => {
            enc::write_uint(w, *u).map_err(e)?;
        }
        V::F64(f) => enc::write_f64(w, *f).map_err(e)?,
        V::F32(f) => enc::write_f32(w, *f).map_err(e)?,
        V::Str(s) => enc::write_str(w, s).map_err(e)?,
        V::Bin(b) => enc::write_bin(w, b).map_err(e)?,
        V::Ts(secs, nanos, width) => match width {
            4 => {
                enc::write_ext_meta(w, 4, -1).map_err(e)?;
                w.extend_from_slice(&(*secs as u32).to_be_bytes());
            }
            8 => {
                enc::write_ext_meta(w, 8, -1).map_err(e)?;
                w.extend_from_slice(&(((*nanos as u64) << 34) | *secs as u64).to_be_bytes());
            }
            _ => {
                enc::write_ext_meta(w, 12, -1).map_err(e)?;
                w.extend_from_slice(&nanos.to_be_bytes());
                w.extend_from_slice(&secs.to_be_bytes());
            }
        },
        V::EventTime(s, n) => {
            enc::write_ext_meta(w, 8, 0).map_err(e)?;
            w.extend_from_slice(&s.to_be_bytes());
            w.extend_from_slice(&n.to_be_bytes());
        }
        V::Arr(xs) => {
            enc::write_array_len(w, xs.len() as u32).map_err(e)?;
            for x in xs {
                write_mp(w, x)?;
            }
        }
        V::Map(kv) => {
            enc::write_map_len(w, kv.len() as u32).map_err(e)?;
            for (k, x) in kv {
                enc::write_str(w, k).map_err(e)?;
                write_mp(w, x)?;
            }
        }
    }
    Ok(())
}

fn to_json(v: &V) -> Value {
    match v {
        V::Nil => Value::Null,
        V::Bool(b) => json!(b),
        V::Int(i) => json!(i),
        V::UInt(u) => json!(u),
        V::F64(f) => json!(f),
        V::F32(f) => json!(*f as f64),
        V::Str(s) => json!(s),
        V::Bin(b) => {
            let mut s = String::new();
            mpq_wire::json::base64_into(&mut s, b);
            json!(s)
        }
        V::Ts(s, n, _) => json!(rfc3339(s * 1_000_000_000 + *n as i64)),
        V::EventTime(s, n) => json!(rfc3339(*s as i64 * 1_000_000_000 + *n as i64)),
        V::Arr(xs) => Value::Array(xs.iter().map(to_json).collect()),
        V::Map(kv) => Value::Object(kv.iter().map(|(k, x)| (k.clone(), to_json(x))).collect::<Map<_, _>>()),
    }
}

/// The fields `--wide` adds, like the messy logs of issue 22: `request_id` and `user_agent`
/// (high-cardinality strings), `http` (a nested struct with a high-cardinality path and a
/// sometimes-present header map), `port` (an int in 85% of the records, a str in 10%, nil in
/// 5%: variant), `ctx` (a struct of 30 optional keys, each present in about 4% of the records),
/// `labels` (a list of strings from 500 values).
fn wide_fields(r: &mut Rng, kv: &mut Vec<(String, V)>) {
    let hex = |r: &mut Rng, n: usize| (0..n).map(|_| char::from(b"0123456789abcdef"[r.below(16) as usize])).collect();
    kv.push(("request_id".into(), V::Str(hex(r, 32))));
    let os = r.pick(&["Windows NT 10.0; Win64; x64", "Macintosh; Intel Mac OS X 10_15_7", "X11; Linux x86_64"]);
    let (a, b, c, d, e) = (500 + r.below(40), r.below(100), 90 + r.below(40), r.below(9999), r.below(300));
    let agent =
        format!("Mozilla/5.0 ({os}) AppleWebKit/{a}.{b} (KHTML, like Gecko) Chrome/{c}.0.{d}.{e} Safari/{a}.{b}");
    kv.push(("user_agent".into(), V::Str(agent)));
    let mut http = vec![
        ("method".to_string(), V::Str(r.pick(&["GET", "GET", "GET", "POST", "PUT", "DELETE"]).to_string())),
        ("path".to_string(), V::Str(format!("/api/v{}/items/{}", 1 + r.below(3), r.below(1_000_000)))),
        ("bytes".to_string(), V::Int(r.below(1 << 20) as i64)),
    ];
    if r.chance(50) {
        let trace: String = hex(r, 16);
        http.push(("headers".to_string(), V::Map(vec![("x-trace".to_string(), V::Str(trace))])));
    }
    kv.push(("http".into(), V::Map(http)));
    let port = match r.below(20) {
        0 => V::Nil,
        1 | 2 => V::Str(format!("{}/tcp", r.below(65536))),
        _ => V::Int(r.below(65536) as i64),
    };
    kv.push(("port".into(), port));
    let mut ctx = Vec::new();
    for k in 0..30u64 {
        if r.chance(4) {
            let v = match k % 3 {
                0 => V::Str(format!("v{}", r.below(1000))),
                1 => V::Int(r.below(10_000) as i64),
                _ => V::F64(r.below(100_000) as f64 / 100.0),
            };
            ctx.push((format!("c{k:02}"), v));
        }
    }
    kv.push(("ctx".into(), V::Map(ctx)));
    let labels = (0..r.below(7)).map(|_| V::Str(format!("label{}", r.below(500)))).collect();
    kv.push(("labels".into(), V::Arr(labels)));
}

fn record(r: &mut Rng, i: usize, n: usize, wide: bool) -> (V, (u32, u32)) {
    let secs = 1_700_000_000 + i as i64;
    let nanos = (r.below(1_000_000) * 1000) as u32;
    let width = [4u8, 8, 12][i % 3];
    let ts_nanos = if width == 4 { 0 } else { nanos };
    let mut kv: Vec<(String, V)> = Vec::new();
    let mut put = |k: &str, v: V| kv.push((k.to_string(), v));
    put("ts", V::Ts(secs, ts_nanos, width));
    put("service", V::Str(r.pick(SERVICES).to_string()));
    put("level", V::Str(r.pick(LEVELS).to_string()));
    put("status", V::Int(STATUS[r.below(STATUS.len() as u64) as usize]));
    let lat = match r.below(10) {
        0..=6 => V::F64((r.below(500_000) as f64) / 1000.0),
        7 | 8 => V::Int(r.below(900) as i64),
        _ => V::F32(r.below(2000) as f32 / 4.0),
    };
    put("latency_ms", lat);
    match r.below(20) {
        0 | 1 => {}
        2 => put("user", V::Nil),
        _ => {
            let mut u = vec![
                ("id".to_string(), V::Int(1 + r.below(100_000) as i64)),
                ("name".to_string(), V::Str(format!("user{}", r.below(5000)))),
            ];
            if r.chance(70) {
                let geo = vec![
                    ("country".to_string(), V::Str(r.pick(COUNTRIES).to_string())),
                    ("city".to_string(), V::Str(format!("city{}", r.below(50)))),
                ];
                u.push(("geo".to_string(), V::Map(geo)));
            }
            put("user", V::Map(u));
        }
    }
    if r.chance(90) {
        let k = r.below(5);
        put("tags", V::Arr((0..k).map(|_| V::Str(r.pick(TAGS).to_string())).collect()));
    }
    put("code", if r.chance(90) { V::Int(r.below(50) as i64) } else { V::Str(format!("E{}", r.below(100))) });
    put("big", if r.chance(5) { V::UInt(u64::MAX - r.below(1000)) } else { V::UInt(r.below(1 << 40)) });
    put("delta", if r.chance(2) { V::UInt((1u64 << 63) + r.below(1000)) } else { V::Int(r.below(2001) as i64 - 1000) });
    put("ratio", V::F32(r.below(1024) as f32 / 1024.0));
    put("flag", if r.chance(80) { V::Bool(r.chance(50)) } else { V::Nil });
    if r.chance(30) {
        let len = r.below(9) as usize;
        put("payload", V::Bin((0..len).map(|_| r.below(256) as u8).collect()));
    }
    if r.chance(50) {
        put("seen_at", V::EventTime(secs as u32 - 5, nanos));
    }
    let attrs = (0..1 + r.below(3)).map(|_| (format!("k{}", r.below(2000)), V::Int(r.below(100) as i64))).collect();
    put("attrs", V::Map(attrs));
    if r.chance(40) {
        put(
            "ids",
            V::Arr((0..r.below(4)).map(|_| if r.chance(10) { V::Nil } else { V::Int(r.below(1000) as i64) }).collect()),
        );
    }
    if r.below(500) == 0 {
        put("rare", V::Str(format!("rare{i}")));
    }
    if i * 10 >= n * 9 {
        put("late", V::Int(i as i64));
        // A key first seen late (not drawn from the generator, so earlier records stay as
        // they were): with a head-only inference sample it lands in `_extra`.
        if i.is_multiple_of(3) {
            put("retry", if i.is_multiple_of(2) { V::Int((i % 5) as i64) } else { V::Str(format!("{}", i % 5)) });
        }
    }
    if wide {
        wide_fields(r, &mut kv);
    }
    if r.chance(10) {
        // Key order varies between producers.
        kv.swap(1, 2);
    }
    (V::Map(kv), (secs as u32, nanos))
}

/// A top-level value that is not a map (for the values layout).
fn not_a_map(i: usize) -> V {
    match i / 2 % 3 {
        0 => V::Arr(vec![V::Str(format!("event{i}")), V::Int(i as i64)]),
        1 => V::Str(format!("plain log line {i}")),
        _ => V::Int(i as i64),
    }
}

/// Writes `spec.records` records as MessagePack to `mp` and, if given, as NDJSON to `ndjson`.
pub fn write(spec: &Spec, mp: &mut dyn Write, mut ndjson: Option<&mut dyn Write>) -> io::Result<()> {
    let mut r = Rng(spec.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut buf = Vec::with_capacity(1024);
    for i in 0..spec.records {
        let (mut rec, (s, n)) = record(&mut r, i, spec.records, spec.wide);
        if spec.mixed && i % 2 == 1 {
            rec = not_a_map(i);
        }
        buf.clear();
        if spec.events {
            enc::write_array_len(&mut buf, 2).map_err(|e| io::Error::other(e.to_string()))?;
            write_mp(&mut buf, &V::EventTime(s, n))?;
        }
        write_mp(&mut buf, &rec)?;
        mp.write_all(&buf)?;
        if let Some(w) = ndjson.as_deref_mut() {
            let mut j = to_json(&rec);
            if let (true, Value::Object(m)) = (spec.events, &mut j) {
                m.insert("time".into(), json!(rfc3339(s as i64 * 1_000_000_000 + n as i64)));
            }
            serde_json::to_writer(&mut *w, &j)?;
            w.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Generates `spec` into memory: (MessagePack bytes, NDJSON text).
pub fn to_vecs(spec: &Spec) -> (Vec<u8>, Vec<u8>) {
    let mut mp = Vec::new();
    let mut nd = Vec::new();
    // Writing to vectors cannot fail.
    let _ = write(spec, &mut mp, Some(&mut nd));
    (mp, nd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wide_shape_is_sparse_conflicting_and_high_cardinality() {
        let (_, nd) = to_vecs(&Spec { records: 3000, seed: 4, wide: true, ..Spec::default() });
        let rows: Vec<Value> = nd
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("json"))
            .collect();
        assert_eq!(rows.len(), 3000);
        let ids: std::collections::HashSet<&str> = rows.iter().map(|r| r["request_id"].as_str().expect("id")).collect();
        assert_eq!(ids.len(), 3000, "request ids are unique");
        let present = |k: &str| rows.iter().filter(|r| r["ctx"].get(k).is_some()).count();
        for k in ["c00", "c13", "c29"] {
            assert!((60..=180).contains(&present(k)), "{k} in about 4% of the records: {}", present(k));
        }
        let strs = rows.iter().filter(|r| r["port"].is_string()).count();
        let nils = rows.iter().filter(|r| r["port"].is_null()).count();
        assert!(strs > 150 && nils > 60 && strs + nils < 600, "port: {strs} str, {nils} nil");
        let (plain, _) = to_vecs(&Spec { records: 50, seed: 4, ..Spec::default() });
        let (wide, _) = to_vecs(&Spec { records: 50, seed: 4, wide: true, ..Spec::default() });
        assert!(wide.len() > plain.len() * 2, "about 460 bytes a record");
    }
}
