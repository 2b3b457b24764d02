//! Column decoders: one per Arrow type family, chosen once from the schema (the decode plan).
//! Each consumes exactly one MessagePack value per row from a cursor and appends it to its own
//! buffers; arrays are built at flush. A value that does not fit the column appends NULL and
//! marks the row as spilled, so the caller keeps the original bytes in `_extra`.

use super::nested::{ListCol, MapCol, StructCol};
use crate::variant::is_variant;
use datafusion::arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Float64Array, Int64Array, NullArray,
    TimestampNanosecondArray, UInt64Array,
};
use datafusion::arrow::array::{BooleanBufferBuilder, NullBufferBuilder};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use mpq_wire::ext::ext_to_nanos;
use mpq_wire::{Cursor, Head, WireResult};
use std::sync::Arc;

/// Per-row decoding state shared by nested decoders.
#[derive(Debug, Default)]
pub struct RowCtx {
    /// Some value in the current top-level field did not fit its column.
    pub spilled: bool,
    /// Careful mode: validate UTF-8 per value and resolve duplicate keys last-wins.
    pub careful: bool,
    /// Fast mode met a duplicate key: the batch must be decoded again carefully.
    pub needs_careful: bool,
    /// Duplicate keys seen (careful mode).
    pub duplicate_keys: u64,
    /// Nesting left at the value being decoded: containers may nest this many levels more
    /// (the framing walk's count).
    pub depth_left: usize,
}

/// Enters a container at `at`: one level of nesting less for what it holds, as the framing
/// walk counts (so decoding refuses exactly what framing refuses).
#[inline]
fn descend(ctx: &mut RowCtx, at: usize) -> WireResult<()> {
    if ctx.depth_left == 0 {
        return Err(mpq_wire::WireError { offset: at, kind: mpq_wire::WireErrorKind::TooDeep { limit: 0 } });
    }
    ctx.depth_left -= 1;
    Ok(())
}

/// A column decoder.
#[derive(Debug)]
pub enum Column {
    /// Only nils were inferred.
    Null(usize),
    /// Booleans.
    Bool(BoolCol),
    /// Int64.
    Int(Prim<i64>),
    /// UInt64.
    UInt(Prim<u64>),
    /// Decimal128(20, 0).
    Decimal(Prim<i128>),
    /// Float64.
    Float(Prim<f64>),
    /// Timestamp(ns, UTC).
    Time(Prim<i64>),
    /// Utf8, Binary or variant bytes.
    Bytes(BytesCol),
    /// List.
    List(Box<ListCol>),
    /// Struct.
    Struct(Box<StructCol>),
    /// Map<Utf8, _>.
    Map(Box<MapCol>),
}

impl Column {
    /// The decoder for a field.
    pub fn new(field: &Field) -> Column {
        if is_variant(field) {
            return Column::Bytes(BytesCol::new(BytesKind::Variant));
        }
        match field.data_type() {
            DataType::Boolean => Column::Bool(BoolCol::default()),
            DataType::Int64 => Column::Int(Prim::default()),
            DataType::UInt64 => Column::UInt(Prim::default()),
            DataType::Decimal128(..) => Column::Decimal(Prim::default()),
            DataType::Float64 => Column::Float(Prim::default()),
            DataType::Timestamp(..) => Column::Time(Prim::default()),
            DataType::Utf8 => Column::Bytes(BytesCol::new(BytesKind::Utf8)),
            DataType::Binary => Column::Bytes(BytesCol::new(BytesKind::Binary)),
            DataType::List(f) => Column::List(Box::new(ListCol::new(f))),
            DataType::Struct(fs) => Column::Struct(Box::new(StructCol::new(fs))),
            DataType::Map(f, _) => Column::Map(Box::new(MapCol::new(f))),
            _ => Column::Null(0),
        }
    }

    /// Appends NULL.
    pub fn push_null(&mut self) {
        match self {
            Column::Null(n) => *n += 1,
            Column::Bool(c) => {
                c.push(None);
            }
            Column::Int(c) | Column::Time(c) => {
                c.push(None);
            }
            Column::UInt(c) => {
                c.push(None);
            }
            Column::Decimal(c) => {
                c.push(None);
            }
            Column::Float(c) => {
                c.push(None);
            }
            Column::Bytes(c) => c.push_null(),
            Column::List(c) => c.push_null(),
            Column::Struct(c) => c.push_null(),
            Column::Map(c) => c.push_null(),
        }
    }

    /// Decodes one value from the cursor (always consuming it whole).
    #[inline]
    pub fn push(&mut self, cur: &mut Cursor<'_>, ctx: &mut RowCtx) -> WireResult<()> {
        let start = cur.pos();
        let head = cur.read_head()?;
        if head == Head::Nil {
            self.push_null();
            return Ok(());
        }
        let fits = match self {
            Column::Null(_) => false,
            Column::Bool(c) => match head {
                Head::Bool(b) => c.push(Some(b)),
                _ => false,
            },
            Column::Int(c) => match head {
                Head::Int(v) => c.push(Some(v)),
                _ => false,
            },
            Column::UInt(c) => match head {
                Head::Int(v) if v >= 0 => c.push(Some(v as u64)),
                Head::UInt(v) => c.push(Some(v)),
                _ => false,
            },
            Column::Decimal(c) => match head {
                Head::Int(v) => c.push(Some(v as i128)),
                Head::UInt(v) => c.push(Some(v as i128)),
                _ => false,
            },
            Column::Float(c) => match head {
                Head::F64(v) => c.push(Some(v)),
                Head::F32(v) => c.push(Some(v as f64)),
                Head::Int(v) if (-(1i64 << 53)..=(1i64 << 53)).contains(&v) => c.push(Some(v as f64)),
                _ => false,
            },
            Column::Time(c) => match head {
                Head::Ext(t, _) => match ext_to_nanos(t, cur.payload_of(head)?) {
                    Ok(ns) => c.push(Some(ns)),
                    Err(_) => false,
                },
                _ => false,
            },
            Column::Bytes(c) => c.push_value(cur, head, start, ctx)?,
            Column::List(c) => match head {
                Head::Array(n) => {
                    descend(ctx, start)?;
                    let fits = c.push_array(cur, n, ctx);
                    ctx.depth_left += 1;
                    fits?
                }
                _ => false,
            },
            Column::Struct(c) => match head {
                Head::Map(n) => {
                    descend(ctx, start)?;
                    let fits = c.push_map(cur, n, ctx);
                    ctx.depth_left += 1;
                    fits?
                }
                _ => false,
            },
            Column::Map(c) => match head {
                Head::Map(n) => {
                    descend(ctx, start)?;
                    let fits = c.push_map(cur, n, ctx);
                    ctx.depth_left += 1;
                    fits?
                }
                _ => false,
            },
        };
        if !fits {
            // Rewind and skip the whole value: a misfit never half-consumes it.
            *cur = Cursor::at(cur.buf(), start);
            cur.skip_value(ctx.depth_left)?;
            self.push_null();
            ctx.spilled = true;
        }
        Ok(())
    }

    /// Builds the array of everything pushed so far and resets the decoder. `None` when a
    /// string column's bytes are not valid UTF-8 (fast mode only): decode again carefully.
    pub fn finish(&mut self, field: &Field) -> Option<ArrayRef> {
        Some(match self {
            Column::Null(n) => Arc::new(NullArray::new(std::mem::take(n))),
            Column::Bool(c) => c.finish(),
            Column::Int(c) => Arc::new(Int64Array::new(c.values(), c.nulls())),
            Column::UInt(c) => Arc::new(UInt64Array::new(c.values(), c.nulls())),
            Column::Decimal(c) => {
                Arc::new(Decimal128Array::new(c.values(), c.nulls()).with_precision_and_scale(20, 0).ok()?)
            }
            Column::Float(c) => Arc::new(Float64Array::new(c.values(), c.nulls())),
            Column::Time(c) => {
                let tz = match field.data_type() {
                    DataType::Timestamp(TimeUnit::Nanosecond, tz) => tz.clone(),
                    _ => None,
                };
                Arc::new(TimestampNanosecondArray::new(c.values(), c.nulls()).with_timezone_opt(tz))
            }
            Column::Bytes(c) => c.finish()?,
            Column::List(c) => c.finish(field)?,
            Column::Struct(c) => c.finish(field)?,
            Column::Map(c) => c.finish(field)?,
        })
    }
}

/// Primitive values with a validity bitmap.
#[derive(Debug)]
pub struct Prim<T> {
    values: Vec<T>,
    nulls: NullBufferBuilder,
}

impl<T> Default for Prim<T> {
    fn default() -> Self {
        Prim { values: Vec::new(), nulls: NullBufferBuilder::new(0) }
    }
}

impl<T: Default + Copy> Prim<T> {
    /// Appends a value or NULL; always true (it fits).
    #[inline]
    pub fn push(&mut self, v: Option<T>) -> bool {
        match v {
            Some(v) => {
                self.values.push(v);
                self.nulls.append_non_null();
            }
            None => {
                self.values.push(T::default());
                self.nulls.append_null();
            }
        }
        true
    }
    /// Takes the values pushed so far.
    pub fn values(&mut self) -> ScalarBuffer<T>
    where
        T: datafusion::arrow::datatypes::ArrowNativeType,
    {
        ScalarBuffer::from(std::mem::take(&mut self.values))
    }
    /// Takes the validity pushed so far.
    pub fn nulls(&mut self) -> Option<NullBuffer> {
        self.nulls.finish()
    }
}

/// Booleans with a validity bitmap.
#[derive(Debug)]
pub struct BoolCol {
    values: BooleanBufferBuilder,
    nulls: NullBufferBuilder,
}

impl Default for BoolCol {
    fn default() -> Self {
        BoolCol { values: BooleanBufferBuilder::new(0), nulls: NullBufferBuilder::new(0) }
    }
}

impl BoolCol {
    fn push(&mut self, v: Option<bool>) -> bool {
        self.values.append(v.unwrap_or(false));
        match v {
            Some(_) => self.nulls.append_non_null(),
            None => self.nulls.append_null(),
        }
        true
    }
    fn finish(&mut self) -> ArrayRef {
        Arc::new(BooleanArray::new(self.values.finish(), self.nulls.finish()))
    }
}

/// What a [`BytesCol`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytesKind {
    /// UTF-8 text from str values.
    Utf8,
    /// Bytes from bin and str values.
    Binary,
    /// Any value's original MessagePack bytes.
    Variant,
}

/// Variable-length bytes: offsets, data and validity.
#[derive(Debug)]
pub struct BytesCol {
    kind: BytesKind,
    offsets: Vec<i32>,
    data: Vec<u8>,
    nulls: NullBufferBuilder,
}

impl BytesCol {
    /// An empty column of this kind.
    pub fn new(kind: BytesKind) -> Self {
        BytesCol { kind, offsets: vec![0], data: Vec::new(), nulls: NullBufferBuilder::new(0) }
    }

    /// Appends NULL.
    pub fn push_null(&mut self) {
        self.offsets.push(self.data.len() as i32);
        self.nulls.append_null();
    }

    /// Appends bytes as they are.
    #[inline]
    pub fn push_bytes(&mut self, b: &[u8]) {
        self.data.extend_from_slice(b);
        self.offsets.push(self.data.len() as i32);
        self.nulls.append_non_null();
    }

    /// Starts a value to be written with [`BytesCol::data_mut`] and ended by
    /// [`BytesCol::end_value`].
    pub fn data_mut(&mut self) -> &mut Vec<u8> {
        &mut self.data
    }

    /// Ends a value written through [`BytesCol::data_mut`].
    pub fn end_value(&mut self) {
        self.offsets.push(self.data.len() as i32);
        self.nulls.append_non_null();
    }

    #[inline]
    fn push_value(&mut self, cur: &mut Cursor<'_>, head: Head, start: usize, ctx: &RowCtx) -> WireResult<bool> {
        match (self.kind, head) {
            (BytesKind::Variant, _) => {
                *cur = Cursor::at(cur.buf(), start);
                let bytes = cur.value_bytes(ctx.depth_left)?;
                self.push_bytes(bytes);
                Ok(true)
            }
            (BytesKind::Utf8, Head::Str(_)) => {
                let b = cur.payload_of(head)?;
                if ctx.careful && simdutf8::basic::from_utf8(b).is_err() {
                    return Ok(false);
                }
                self.push_bytes(b);
                Ok(true)
            }
            (BytesKind::Binary, Head::Str(_) | Head::Bin(_)) => {
                self.push_bytes(cur.payload_of(head)?);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Builds the array; `None` if UTF-8 validation in bulk fails.
    pub fn finish(&mut self) -> Option<ArrayRef> {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let data = std::mem::take(&mut self.data);
        let nulls = self.nulls.finish();
        if self.kind == BytesKind::Utf8 {
            return crate::sys::utf8_array(offsets, data, nulls).map(|a| Arc::new(a) as ArrayRef);
        }
        let offsets = OffsetBuffer::new(ScalarBuffer::from(offsets));
        Some(Arc::new(BinaryArray::new(offsets, data.into(), nulls)))
    }
}
