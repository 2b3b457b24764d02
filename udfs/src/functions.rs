//! The functions that read a MessagePack value, optionally at a path: `mp_get` and its typed
//! getters, `mp_to_json`, `mp_typeof`, `mp_len`, `mp_keys`, `mp_contains`, `mp_ext_type`,
//! `mp_ext_data`, `mp_get_array`. One implementation, [`ValueFn`], chosen by [`Kind`]; each
//! kind owns its output builder (a [`Sink`]) and its documentation.

use crate::args::{Sink, check_constant_path, coerce_value_and_paths, run};
use crate::convert;
use crate::docs;
use crate::path::{Seg, Unreadable, find, lookup, value_extent};
use crate::variant::variant_field;
use datafusion::arrow::array::{
    Array, ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Float64Builder, GenericByteBuilder, Int64Builder,
    ListBuilder, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{ByteArrayType, DataType, Field, FieldRef, TimeUnit};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use std::sync::{Arc, OnceLock};

/// What a [`ValueFn`] computes from the value it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `mp_get`: the value's MessagePack bytes, as a variant.
    Get,
    /// `mp_get_str`: a string's text.
    Str,
    /// `mp_get_text`: a string's text, a number's decimal text, JSON for anything else.
    Text,
    /// `mp_get_int`: Int64.
    Int,
    /// `mp_get_float`: Float64.
    Float,
    /// `mp_get_bool`: Boolean.
    Bool,
    /// `mp_get_bin`: a bin's (or string's) bytes.
    Bin,
    /// `mp_get_ts`: Timestamp(ns, UTC).
    Ts,
    /// `mp_get_json`: JSON text.
    Json,
    /// `mp_to_json`: JSON text (the same as `mp_get_json`, named for the whole value).
    ToJson,
    /// `mp_get_array`: a list of variants.
    Array,
    /// `mp_typeof`: the family name.
    TypeOf,
    /// `mp_len`: elements, pairs, characters or bytes.
    Len,
    /// `mp_keys`: a list of key texts.
    Keys,
    /// `mp_contains`: whether a key exists.
    Contains,
    /// `mp_ext_type`: an ext value's type number.
    ExtType,
    /// `mp_ext_data`: an ext value's data bytes.
    ExtData,
}

impl Kind {
    /// Every kind, in the order functions are listed.
    pub const ALL: [Kind; 17] = [
        Kind::Get,
        Kind::Str,
        Kind::Text,
        Kind::Int,
        Kind::Float,
        Kind::Bool,
        Kind::Bin,
        Kind::Ts,
        Kind::Json,
        Kind::Array,
        Kind::ToJson,
        Kind::TypeOf,
        Kind::Len,
        Kind::Keys,
        Kind::Contains,
        Kind::ExtType,
        Kind::ExtData,
    ];

    /// The SQL name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Get => "mp_get",
            Kind::Str => "mp_get_str",
            Kind::Text => "mp_get_text",
            Kind::Int => "mp_get_int",
            Kind::Float => "mp_get_float",
            Kind::Bool => "mp_get_bool",
            Kind::Bin => "mp_get_bin",
            Kind::Ts => "mp_get_ts",
            Kind::Json => "mp_get_json",
            Kind::ToJson => "mp_to_json",
            Kind::Array => "mp_get_array",
            Kind::TypeOf => "mp_typeof",
            Kind::Len => "mp_len",
            Kind::Keys => "mp_keys",
            Kind::Contains => "mp_contains",
            Kind::ExtType => "mp_ext_type",
            Kind::ExtData => "mp_ext_data",
        }
    }

    /// The output field (variant results carry the variant marker).
    pub fn output_field(self, name: &str) -> Field {
        let data_type = match self {
            Kind::Get => return variant_field(name),
            Kind::Str | Kind::Text | Kind::Json | Kind::ToJson | Kind::TypeOf => DataType::Utf8,
            Kind::Int | Kind::Len | Kind::ExtType => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Bool | Kind::Contains => DataType::Boolean,
            Kind::Bin | Kind::ExtData => DataType::Binary,
            Kind::Ts => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            Kind::Array => DataType::List(Arc::new(variant_field("item"))),
            Kind::Keys => DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        };
        Field::new(name, data_type, true)
    }

    fn min_paths(self) -> usize {
        if self == Kind::Contains { 1 } else { 0 }
    }
}

/// A SQL function that reads a MessagePack value at an optional path.
#[derive(Debug)]
pub struct ValueFn {
    kind: Kind,
    signature: Signature,
    doc: OnceLock<Documentation>,
}

impl ValueFn {
    /// The function of this kind.
    pub fn new(kind: Kind) -> Self {
        ValueFn { kind, signature: Signature::user_defined(Volatility::Immutable), doc: OnceLock::new() }
    }

    /// Its kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }
}

impl PartialEq for ValueFn {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind
    }
}

impl Eq for ValueFn {}

impl std::hash::Hash for ValueFn {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.kind.hash(state);
    }
}

impl ScalarUDFImpl for ValueFn {
    fn name(&self) -> &str {
        self.kind.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        coerce_value_and_paths(self.name(), args, self.kind.min_paths())
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(self.kind.output_field(self.name()).data_type().clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        for a in args.scalar_arguments.iter().skip(1) {
            check_constant_path(self.name(), *a)?;
        }
        Ok(Arc::new(self.kind.output_field(self.name())))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (a, n) = (&args.args, args.number_rows);
        let cap = if a.iter().all(|a| matches!(a, ColumnarValue::Scalar(_))) { 1 } else { n };
        match self.kind {
            Kind::Get => run(a, n, BytesSink(BinaryBuilder::with_capacity(cap, cap * 8), value_extent)),
            Kind::Bin => run(a, n, BytesSink(BinaryBuilder::with_capacity(cap, cap * 8), convert::as_bin)),
            Kind::ExtData => run(a, n, BytesSink(BinaryBuilder::with_capacity(cap, cap * 8), convert::ext_data)),
            Kind::Str => run(a, n, StrSink(StringBuilder::with_capacity(cap, cap * 8), convert::as_str)),
            Kind::TypeOf => run(a, n, StrSink(StringBuilder::with_capacity(cap, cap * 4), convert::type_name)),
            Kind::Text => run(a, n, TextSink::new(cap, convert::write_text)),
            Kind::Json | Kind::ToJson => run(a, n, TextSink::new(cap, convert::json_into)),
            Kind::Int => run(a, n, IntSink(Int64Builder::with_capacity(cap), convert::as_int)),
            Kind::Len => run(a, n, IntSink(Int64Builder::with_capacity(cap), convert::length)),
            Kind::ExtType => run(a, n, IntSink(Int64Builder::with_capacity(cap), convert::ext_type)),
            Kind::Float => run(a, n, FloatSink(Float64Builder::with_capacity(cap), convert::as_float)),
            Kind::Bool => run(a, n, BoolSink(BooleanBuilder::with_capacity(cap), convert::as_bool)),
            Kind::Contains => run(a, n, ContainsSink(BooleanBuilder::with_capacity(cap))),
            Kind::Ts => {
                let utc = TimestampNanosecondBuilder::with_capacity(cap).with_timezone("UTC");
                run(a, n, TsSink(utc, convert::as_nanos))
            }
            Kind::Array => run(
                a,
                n,
                ListSink {
                    list: ListBuilder::new(BinaryBuilder::new()).with_field(variant_item()),
                    fill: |v, items| convert::for_each_element(v, |e| items.append_value(e)),
                },
            ),
            Kind::Keys => run(
                a,
                n,
                ListSink {
                    list: ListBuilder::new(StringBuilder::new()),
                    fill: |v, items| convert::for_each_key(v, |k| items.append_value(k)),
                },
            ),
        }
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(self.doc.get_or_init(|| docs::value_fn(self.kind)))
    }
}

fn variant_item() -> FieldRef {
    Arc::new(variant_field("item"))
}

/// The value at the path, or `None` when the input is NULL or the path is missing.
#[inline]
fn found<'a>(value: Option<&'a [u8]>, path: &[Seg]) -> Option<&'a [u8]> {
    find(value?, path)
}

/// A sink that converts the value found with a function and appends the result.
macro_rules! converting_sink {
    ($name:ident, $builder:ty, $convert:ty) => {
        struct $name($builder, $convert);

        impl Sink for $name {
            #[inline]
            fn push(&mut self, value: Option<&[u8]>, path: &[Seg]) {
                self.0.append_option(found(value, path).and_then(self.1));
            }
            fn finish(mut self) -> ArrayRef {
                Arc::new(self.0.finish())
            }
        }
    };
}

converting_sink!(BytesSink, BinaryBuilder, for<'a> fn(&'a [u8]) -> Option<&'a [u8]>);
converting_sink!(StrSink, StringBuilder, for<'a> fn(&'a [u8]) -> Option<&'a str>);
converting_sink!(IntSink, Int64Builder, fn(&[u8]) -> Option<i64>);
converting_sink!(FloatSink, Float64Builder, fn(&[u8]) -> Option<f64>);
converting_sink!(BoolSink, BooleanBuilder, fn(&[u8]) -> Option<bool>);
converting_sink!(TsSink, TimestampNanosecondBuilder, fn(&[u8]) -> Option<i64>);

struct TextSink {
    out: StringBuilder,
    buf: String,
    f: fn(&[u8], &mut String) -> bool,
}

impl TextSink {
    fn new(cap: usize, f: fn(&[u8], &mut String) -> bool) -> Self {
        TextSink { out: StringBuilder::with_capacity(cap, cap * 16), buf: String::new(), f }
    }
}

impl Sink for TextSink {
    #[inline]
    fn push(&mut self, value: Option<&[u8]>, path: &[Seg]) {
        match found(value, path) {
            Some(v) if (self.f)(v, &mut self.buf) => self.out.append_value(&self.buf),
            _ => self.out.append_null(),
        }
    }
    fn finish(mut self) -> ArrayRef {
        Arc::new(self.out.finish())
    }
}

/// NULL for a NULL input or unreadable bytes; otherwise whether the parent holds the last key
/// (see [`convert::has_key`]).
struct ContainsSink(BooleanBuilder);

impl Sink for ContainsSink {
    #[inline]
    fn push(&mut self, value: Option<&[u8]>, path: &[Seg]) {
        let Some(v) = value else { return self.0.append_null() };
        let hit = match path.split_last() {
            Some((last, parent)) => match lookup(v, parent) {
                Ok(Some(p)) => convert::has_key(p, last),
                Ok(None) => Some(false),
                Err(Unreadable) => None,
            },
            None => Some(false),
        };
        self.0.append_option(hit);
    }
    fn finish(mut self) -> ArrayRef {
        Arc::new(self.0.finish())
    }
}

/// A list per row: `fill` appends the items of the value found (array elements, map keys) and
/// says whether it could read them all.
struct ListSink<T: ByteArrayType> {
    list: ListBuilder<GenericByteBuilder<T>>,
    fill: fn(&[u8], &mut GenericByteBuilder<T>) -> Option<()>,
}

impl<T: ByteArrayType> Sink for ListSink<T> {
    fn push(&mut self, value: Option<&[u8]>, path: &[Seg]) {
        match found(value, path).and_then(|v| (self.fill)(v, self.list.values())) {
            Some(()) => self.list.append(true),
            None => {
                // Drop any items appended before the value turned out unreadable.
                let keep = self.list.offsets_slice().last().copied().unwrap_or(0) as usize;
                truncate(self.list.values(), keep);
                self.list.append(false);
            }
        }
    }
    fn finish(mut self) -> ArrayRef {
        Arc::new(self.list.finish())
    }
}

/// Arrow builders cannot pop values, so a list whose source turns out unreadable half-way is
/// rebuilt without its partial elements (rare: only for corrupt input).
fn truncate<T: ByteArrayType>(b: &mut GenericByteBuilder<T>, keep: usize) {
    if b.len() > keep {
        let done = b.finish();
        for i in 0..keep {
            b.append_option(done.is_valid(i).then(|| done.value(i)));
        }
    }
}
