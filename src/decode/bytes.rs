//! Variable-length columns: UTF-8 text (Utf8, from str values, checked in bulk at flush or
//! per value in careful mode), bytes (Binary, from bin and str values), and variant columns
//! (each value's own MessagePack bytes, see [`super::variant`]).

use super::column::RowCtx;
use datafusion::arrow::array::{ArrayRef, BinaryArray, NullBufferBuilder};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use mpq_wire::{Cursor, Head, WireResult};
use std::sync::Arc;

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

    /// What the column holds.
    pub fn kind(&self) -> BytesKind {
        self.kind
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

    /// Appends the value whose header `head` (at `start`) was read, when it fits the kind;
    /// `false` when it does not (nothing appended).
    #[inline]
    pub(super) fn push_value(
        &mut self,
        cur: &mut Cursor<'_>,
        head: Head,
        start: usize,
        ctx: &RowCtx,
    ) -> WireResult<bool> {
        match (self.kind, head) {
            (BytesKind::Variant, _) => super::variant::push(self, cur, start, ctx),
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
