//! Property tests: the functions never panic on arbitrary bytes; constant and per-row paths
//! agree; the cast rewrite changes no result; JSON round-trips every value JSON can represent.

mod common;

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF};
use mpq_udfs::variant::variant_field;
use mpq_wire::write::*;
use proptest::prelude::*;
use std::sync::Arc;

/// A MessagePack value tree, for generating inputs.
#[derive(Debug, Clone)]
enum V {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    F64(f64),
    F32(f32),
    Str(String),
    Bin(Vec<u8>),
    Ts(i64, u32),
    Ext(i8, Vec<u8>),
    Arr(Vec<V>),
    Map(Vec<(V, V)>),
}

fn encode(v: &V, out: &mut Vec<u8>) {
    match v {
        V::Nil => write_nil(out),
        V::Bool(b) => write_bool(out, *b),
        V::Int(i) => write_int(out, *i),
        V::UInt(u) => write_uint(out, *u),
        V::F64(f) => write_f64(out, *f),
        V::F32(f) => write_f32(out, *f),
        V::Str(s) => write_str(out, s.as_bytes()),
        V::Bin(b) => write_bin(out, b),
        V::Ts(s, n) => write_timestamp(out, *s, *n),
        V::Ext(t, d) => write_ext(out, *t, d),
        V::Arr(xs) => {
            write_array_header(out, xs.len() as u32);
            xs.iter().for_each(|x| encode(x, out));
        }
        V::Map(kv) => {
            write_map_header(out, kv.len() as u32);
            for (k, x) in kv {
                encode(k, out);
                encode(x, out);
            }
        }
    }
}

fn bytes_of(v: &V) -> Vec<u8> {
    let mut out = Vec::new();
    encode(v, &mut out);
    out
}

const KEYS: &[&str] = &["a", "b", "user", "id", "k.1", "0", ""];

fn key() -> impl Strategy<Value = V> {
    prop_oneof![4 => prop::sample::select(KEYS).prop_map(|k| V::Str(k.to_string())), 1 => (0i64..3).prop_map(V::Int)]
}

/// Any value (non-string keys, every family).
fn any_value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Nil),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        (i64::MAX as u64..=u64::MAX).prop_map(V::UInt),
        any::<f64>().prop_map(V::F64),
        any::<f32>().prop_map(V::F32),
        "[a-z0-9ü. ]{0,12}".prop_map(V::Str),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(V::Bin),
        (-(1i64 << 35)..(1i64 << 35), 0u32..1_000_000_000).prop_map(|(s, n)| V::Ts(s, n)),
        (any::<i8>(), prop::collection::vec(any::<u8>(), 0..5)).prop_map(|(t, d)| V::Ext(t, d)),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(V::Arr),
            prop::collection::vec((key(), inner), 0..5).prop_map(V::Map),
        ]
    })
}

/// Values JSON can represent: nil, bool, integers, finite float64, strings, arrays, maps with
/// unique string keys.
fn json_value() -> impl Strategy<Value = V> {
    let leaf = prop_oneof![
        Just(V::Nil),
        any::<bool>().prop_map(V::Bool),
        any::<i64>().prop_map(V::Int),
        (i64::MAX as u64..=u64::MAX).prop_map(V::UInt),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(V::F64),
        ".{0,10}".prop_map(V::Str),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(V::Arr),
            prop::collection::btree_map("[a-z\"\\\\.]{0,4}", inner, 0..5)
                .prop_map(|m| V::Map(m.into_iter().map(|(k, v)| (V::Str(k), v)).collect())),
        ]
    })
}

fn path_text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(KEYS).prop_map(mpq_udfs::path::quote_key),
            (-2i64..3).prop_map(|i| format!("[{i}]")),
        ],
        1..4,
    )
    .prop_map(|segs| {
        let mut s = String::new();
        for seg in segs {
            if !s.is_empty() && !seg.starts_with('[') {
                s.push('.');
            }
            s.push_str(&seg);
        }
        s
    })
}

fn udf(name: &str) -> Arc<ScalarUDF> {
    mpq_udfs::all().into_iter().find(|f| f.name() == name).expect("function")
}

/// Calls a function the way DataFusion does.
fn invoke(f: &ScalarUDF, args: Vec<ColumnarValue>, rows: usize) -> datafusion::error::Result<ArrayRef> {
    let fields: Vec<_> = args
        .iter()
        .enumerate()
        .map(
            |(i, a)| {
                if i == 0 { Arc::new(variant_field("v")) } else { Arc::new(Field::new("p", a.data_type(), true)) }
            },
        )
        .collect();
    let scalars: Vec<Option<&ScalarValue>> = vec![None; fields.len()];
    let ret = f.return_field_from_args(ReturnFieldArgs { arg_fields: &fields, scalar_arguments: &scalars })?;
    let out = f.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields: fields,
        number_rows: rows,
        return_field: ret,
        config_options: Arc::new(ConfigOptions::default()),
    })?;
    out.to_array(rows)
}

const READERS: &[&str] = &[
    "mp_get",
    "mp_get_str",
    "mp_get_text",
    "mp_get_int",
    "mp_get_float",
    "mp_get_bool",
    "mp_get_bin",
    "mp_get_ts",
    "mp_get_json",
    "mp_get_array",
    "mp_to_json",
    "mp_typeof",
    "mp_len",
    "mp_keys",
    "mp_contains",
    "mp_ext_type",
    "mp_ext_data",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes (and cut-short or corrupted valid values) never make a function panic
    /// or fail; unreadable rows are NULL.
    #[test]
    fn never_panics_on_arbitrary_bytes(
        junk in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..8),
        valid in any_value(),
        cut in any::<prop::sample::Index>(),
        flip in any::<(prop::sample::Index, u8)>(),
        path in path_text(),
    ) {
        let good = bytes_of(&valid);
        let mut rows = junk;
        rows.push(good[..cut.index(good.len() + 1)].to_vec());
        let mut flipped = good.clone();
        let i = flip.0.index(flipped.len());
        flipped[i] ^= flip.1 | 1;
        rows.push(flipped);
        let n = rows.len();
        let col: ArrayRef = Arc::new(BinaryArray::from_iter_values(rows.iter()));
        for name in READERS {
            let f = udf(name);
            let with_path = vec![ColumnarValue::Array(col.clone()), ColumnarValue::Scalar(ScalarValue::Utf8(Some(path.clone())))];
            prop_assert!(invoke(&f, with_path, n).is_ok(), "{name}");
            if *name != "mp_contains" {
                prop_assert!(invoke(&f, vec![ColumnarValue::Array(col.clone())], n).is_ok(), "{name}");
            }
        }
        // JSON text that is not JSON is NULL too.
        let texts: ArrayRef = Arc::new(StringArray::from_iter_values(rows.iter().map(|r| String::from_utf8_lossy(r).into_owned())));
        let out = invoke(&udf("mp_from_json"), vec![ColumnarValue::Array(texts)], n);
        prop_assert!(out.is_ok());
    }

    /// A path given once for the batch and the same path given per row give the same column.
    #[test]
    fn constant_and_per_row_paths_agree(values in prop::collection::vec(any_value(), 1..12), path in path_text()) {
        let n = values.len();
        let col: ArrayRef = Arc::new(BinaryArray::from_iter_values(values.iter().map(bytes_of)));
        let per_row: ArrayRef = Arc::new(StringArray::from_iter_values(std::iter::repeat_n(path.as_str(), n)));
        for name in READERS {
            let f = udf(name);
            let constant = invoke(&f, vec![ColumnarValue::Array(col.clone()), ColumnarValue::Scalar(ScalarValue::Utf8(Some(path.clone())))], n).expect("constant");
            let rows = invoke(&f, vec![ColumnarValue::Array(col.clone()), ColumnarValue::Array(per_row.clone())], n).expect("per row");
            prop_assert_eq!(constant.to_data(), rows.to_data(), "{}", name);
            // And each row alone, as a scalar call, agrees with its row of the batch.
            for (i, v) in values.iter().enumerate() {
                let one = invoke(&f, vec![ColumnarValue::Scalar(ScalarValue::Binary(Some(bytes_of(v)))), ColumnarValue::Scalar(ScalarValue::Utf8(Some(path.clone())))], 1).expect("scalar");
                prop_assert_eq!(one.to_data(), constant.slice(i, 1).to_data(), "{} row {}", name, i);
            }
        }
    }

    /// mp_from_json(mp_to_json(v)) gives back v, byte for byte, for every value JSON can
    /// represent (written in smallest form, as encoders do by default).
    #[test]
    fn json_round_trips(v in json_value()) {
        let bytes = bytes_of(&v);
        let json = mpq_wire::json::to_json(&bytes, 128).expect("json");
        let mut back = Vec::new();
        prop_assert!(mpq_udfs::pack::from_json(&json, &mut back), "{}", json);
        prop_assert_eq!(back, bytes, "{}", json);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The cast rewrite gives what the getter over mp_get gives, for every target type.
    #[test]
    fn the_rewrite_changes_no_result(values in prop::collection::vec(any_value(), 1..16), path in path_text()) {
        let rows: Vec<(String, Option<Vec<u8>>)> = values.iter().enumerate().map(|(i, v)| (i.to_string(), Some(bytes_of(v)))).collect();
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        rt.block_on(async {
            let ctx = common::session();
            common::register_values(&ctx, &rows);
            let p = path.replace('\'', "''");
            for (cast, getter) in [
                (format!("CAST(mp_get(v, '{p}') AS BIGINT)"), format!("mp_get_int(mp_get(v, '{p}'))")),
                (format!("CAST(mp_get(v, '{p}') AS INT)"), format!("TRY_CAST(mp_get_int(mp_get(v, '{p}')) AS INT)")),
                (format!("CAST(mp_get(v, '{p}') AS DOUBLE)"), format!("mp_get_float(mp_get(v, '{p}'))")),
                (format!("CAST(mp_get(v, '{p}') AS VARCHAR)"), format!("mp_get_text(mp_get(v, '{p}'))")),
                (format!("CAST(mp_get(v, '{p}') AS BOOLEAN)"), format!("mp_get_bool(mp_get(v, '{p}'))")),
                (format!("CAST(mp_get(v, '{p}') AS TIMESTAMP)"), format!("TRY_CAST(mp_get_ts(mp_get(v, '{p}')) AS TIMESTAMP)")),
            ] {
                let a = common::cells(&ctx, &format!("SELECT {cast} FROM t ORDER BY name")).await;
                let b = common::cells(&ctx, &format!("SELECT {getter} FROM t ORDER BY name")).await;
                assert_eq!(a, b, "{cast}");
            }
        });
    }
}

#[test]
fn arbitrary_json_types_are_refused_at_planning() {
    // The value argument must be bytes; a JSON string column is a planning error, not NULLs.
    assert!(mpq_udfs::args::coerce_value_and_paths("mp_get", &[DataType::Utf8], 0).is_err());
    assert!(mpq_udfs::args::coerce_value_and_paths("mp_get", &[DataType::Binary, DataType::Float64], 0).is_err());
    let ok = mpq_udfs::args::coerce_value_and_paths(
        "mp_get",
        &[DataType::BinaryView, DataType::Int8, DataType::Utf8View],
        0,
    );
    assert_eq!(ok.expect("ok"), vec![DataType::BinaryView, DataType::Int64, DataType::Utf8]);
    assert!(BinaryArray::from_iter_values([[0u8]]).len() == 1);
}
