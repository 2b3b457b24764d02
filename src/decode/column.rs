//! The column decoder: one per Arrow type family, chosen once from the schema (the decode
//! plan), dispatching to the family's own file ([`super::primitive`], [`super::bytes`],
//! [`super::timestamp`], [`super::list`], [`super::structs`], [`super::map`],
//! [`super::variant`]). Each consumes exactly one MessagePack value per row from a cursor and
//! appends it to its own buffers; arrays are built at flush. A value that does not fit the
//! column appends NULL and marks the row as spilled, so the caller keeps the original bytes in
//! `_extra`.

use super::bytes::{BytesCol, BytesKind};
use super::list::ListCol;
use super::map::MapCol;
use super::primitive::{BoolCol, Prim};
use super::structs::StructCol;
use crate::variant::is_variant;
use datafusion::arrow::array::{ArrayRef, Decimal128Array, Float64Array, Int64Array, NullArray, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field};
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
pub(super) fn descend(ctx: &mut RowCtx, at: usize) -> WireResult<()> {
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
            Column::Time(c) => super::timestamp::push(c, cur, head)?,
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
            Column::Time(c) => super::timestamp::finish(c, field),
            Column::Bytes(c) => c.finish()?,
            Column::List(c) => c.finish(field)?,
            Column::Struct(c) => c.finish(field)?,
            Column::Map(c) => c.finish(field)?,
        })
    }
}
