//! List columns: arrays whose elements decode into one child column.

use super::column::{Column, RowCtx};
use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{ArrayRef, ListArray};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field};
use mpq_wire::{Cursor, WireResult};
use std::sync::Arc;

/// A list column.
#[derive(Debug)]
pub struct ListCol {
    offsets: Vec<i32>,
    nulls: NullBufferBuilder,
    child: Column,
    child_len: i32,
}

impl ListCol {
    /// A list decoder with this element field.
    pub fn new(elem: &Field) -> Self {
        ListCol { offsets: vec![0], nulls: NullBufferBuilder::new(0), child: Column::new(elem), child_len: 0 }
    }

    pub(super) fn push_null(&mut self) {
        self.offsets.push(self.child_len);
        self.nulls.append_null();
    }

    pub(super) fn push_array(&mut self, cur: &mut Cursor<'_>, n: u32, ctx: &mut RowCtx) -> WireResult<bool> {
        for _ in 0..n {
            self.child.push(cur, ctx)?;
        }
        self.child_len += n as i32;
        self.offsets.push(self.child_len);
        self.nulls.append_non_null();
        Ok(true)
    }

    pub(super) fn finish(&mut self, field: &Field) -> Option<ArrayRef> {
        let DataType::List(elem) = field.data_type() else {
            return None;
        };
        // Take every buffer before anything can fail, so a failed fast pass leaves the decoder
        // empty for the careful pass.
        let offsets = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(&mut self.offsets, vec![0])));
        let nulls = self.nulls.finish();
        self.child_len = 0;
        let values = self.child.finish(elem)?;
        ListArray::try_new(Arc::clone(elem), offsets, values, nulls).ok().map(|a| Arc::new(a) as ArrayRef)
    }
}
