//! Map columns: `Map<Utf8, _>` for maps with very many distinct keys (dictionaries, not
//! records).

use super::bytes::{BytesCol, BytesKind};
use super::column::{Column, RowCtx};
use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{ArrayRef, MapArray, StructArray};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use mpq_wire::{Cursor, WireResult};
use std::sync::Arc;

/// A `Map<Utf8, _>` column, for maps with very many distinct keys.
#[derive(Debug)]
pub struct MapCol {
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
    keys: BytesCol,
    values: Column,
    entries: i32,
}

impl MapCol {
    /// A map decoder for this entries field.
    pub fn new(entries: &FieldRef) -> Self {
        let value = match entries.data_type() {
            DataType::Struct(f) if f.len() == 2 => Column::new(&f[1]),
            _ => Column::Null(0),
        };
        MapCol {
            offsets: vec![0],
            nulls: NullBufferBuilder::new(0),
            keys: BytesCol::new(BytesKind::Utf8),
            values: value,
            entries: 0,
        }
    }

    pub(super) fn push_null(&mut self) {
        self.offsets.push(self.entries);
        self.nulls.append_null();
    }

    pub(super) fn push_map(&mut self, cur: &mut Cursor<'_>, n: u32, ctx: &mut RowCtx) -> WireResult<bool> {
        for _ in 0..n {
            let key = cur.read_str_bytes()?;
            match key {
                Some(k) if !ctx.careful || simdutf8::basic::from_utf8(k).is_ok() => {
                    self.keys.push_bytes(k);
                    self.values.push(cur, ctx)?;
                    self.entries += 1;
                }
                Some(_) => {
                    ctx.spilled = true;
                    cur.skip_value(ctx.depth_left)?;
                }
                None => {
                    ctx.spilled = true;
                    cur.skip_value(ctx.depth_left)?;
                    cur.skip_value(ctx.depth_left)?;
                }
            }
        }
        self.offsets.push(self.entries);
        self.nulls.append_non_null();
        Ok(true)
    }

    pub(super) fn finish(&mut self, field: &Field) -> Option<ArrayRef> {
        let DataType::Map(entries, sorted) = field.data_type() else {
            return None;
        };
        let DataType::Struct(kv) = entries.data_type() else {
            return None;
        };
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(&mut self.offsets, vec![0])));
        let nulls = self.nulls.finish();
        self.entries = 0;
        let keys = self.keys.finish();
        let values = self.values.finish(&kv[1]);
        let entries_array = StructArray::try_new(kv.clone(), vec![keys?, values?], None).ok()?;
        MapArray::try_new(Arc::clone(entries), offsets, entries_array, nulls, *sorted)
            .ok()
            .map(|a| Arc::new(a) as ArrayRef)
    }
}
