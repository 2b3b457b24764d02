//! Struct columns: maps whose keys are the struct's field names (and the record decoder's
//! top-level map, whose pairs that do not fit are collected for `_extra`).

use super::column::{Column, RowCtx};
use crate::keys::KeyIndex;
use datafusion::arrow::array::NullBufferBuilder;
use datafusion::arrow::array::{ArrayRef, StructArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use mpq_wire::{Cursor, WireResult};
use std::sync::Arc;

/// A struct column: a map whose keys are the struct's field names. The record decoder uses
/// one too, for the top-level map, with some keys known but not projected (skipped) and with
/// pairs that do not fit collected for `_extra` instead of marking the row.
#[derive(Debug)]
pub struct StructCol {
    keys: KeyIndex,
    /// Key slot to child index; `None` for known keys that are skipped (not projected).
    slots: Vec<Option<usize>>,
    children: Vec<Column>,
    stamps: Vec<u32>,
    row: u32,
    nulls: NullBufferBuilder,
}

/// Byte ranges (key start, value end) of top-level pairs that go to `_extra`.
pub type ExtraPairs = Vec<(usize, usize)>;

impl StructCol {
    /// A struct decoder for these fields.
    pub fn new(fields: &Fields) -> Self {
        let names: Vec<&str> = fields.iter().map(|f| f.name().as_str()).collect();
        let children: Vec<Column> = fields.iter().map(|f| Column::new(f)).collect();
        Self::with_slots(&names, (0..names.len()).map(Some).collect(), children)
    }

    /// A decoder over `names` where `slots[i]` says which child decodes key `i` (`None`: skip).
    pub fn with_slots(names: &[&str], slots: Vec<Option<usize>>, children: Vec<Column>) -> Self {
        StructCol {
            keys: KeyIndex::new(names.iter().copied()),
            stamps: vec![0; children.len()],
            slots,
            children,
            row: 0,
            nulls: NullBufferBuilder::new(0),
        }
    }

    pub(super) fn push_null(&mut self) {
        for c in &mut self.children {
            c.push_null();
        }
        self.nulls.append_null();
    }

    pub(super) fn push_map(&mut self, cur: &mut Cursor<'_>, n: u32, ctx: &mut RowCtx) -> WireResult<bool> {
        self.push_pairs(cur, n, ctx, None)?;
        self.nulls.append_non_null();
        Ok(true)
    }

    /// Decodes the pairs of a map whose header (`n` pairs) was just read. With `extra`, a pair
    /// whose key is unknown or whose value does not fit is recorded there; without, the row is
    /// marked spilled.
    pub fn push_pairs(
        &mut self,
        cur: &mut Cursor<'_>,
        n: u32,
        ctx: &mut RowCtx,
        extra: Option<&mut ExtraPairs>,
    ) -> WireResult<()> {
        if ctx.careful { self.push_pairs_careful(cur, n, ctx, extra) } else { self.push_pairs_fast(cur, n, ctx, extra) }
    }

    /// Looks up the key at the cursor: `Ok(Some(slot))`, or `Ok(None)` for an unknown or
    /// non-string key (consumed either way).
    #[inline(always)]
    fn key_slot(&self, cur: &mut Cursor<'_>, hint: usize, ctx: &RowCtx) -> WireResult<Option<usize>> {
        match cur.read_str_bytes()? {
            Some(k) => Ok(self.keys.find(k, hint)),
            None => {
                cur.skip_value(ctx.depth_left)?;
                Ok(None)
            }
        }
    }

    /// One pass: each value is decoded where it stands. A duplicate key asks for a careful
    /// pass over the batch.
    fn push_pairs_fast(
        &mut self,
        cur: &mut Cursor<'_>,
        n: u32,
        ctx: &mut RowCtx,
        mut extra: Option<&mut ExtraPairs>,
    ) -> WireResult<()> {
        self.row = self.row.wrapping_add(1);
        let mut hint = 0;
        for _ in 0..n {
            let pair_start = cur.pos();
            let slot = self.key_slot(cur, hint, ctx)?;
            match slot.map(|s| (s, self.slots[s])) {
                Some((s, Some(i))) if self.stamps[i] != self.row => {
                    self.stamps[i] = self.row;
                    hint = s + 1;
                    let outer = std::mem::take(&mut ctx.spilled);
                    self.children[i].push(cur, ctx)?;
                    spill(ctx, outer, extra.as_deref_mut(), pair_start, cur.pos());
                }
                Some((_, Some(_))) => {
                    ctx.needs_careful = true;
                    cur.skip_value(ctx.depth_left)?;
                }
                Some((s, None)) => {
                    hint = s + 1;
                    cur.skip_value(ctx.depth_left)?;
                }
                None => {
                    cur.skip_value(ctx.depth_left)?;
                    unknown(ctx, extra.as_deref_mut(), pair_start, cur.pos());
                }
            }
        }
        for (i, c) in self.children.iter_mut().enumerate() {
            if self.stamps[i] != self.row {
                c.push_null();
            }
        }
        Ok(())
    }

    /// Two passes: find where each key's last value stands (duplicate keys: the last wins,
    /// as in Python's and Ruby's decoders), then decode in field order.
    fn push_pairs_careful(
        &mut self,
        cur: &mut Cursor<'_>,
        n: u32,
        ctx: &mut RowCtx,
        mut extra: Option<&mut ExtraPairs>,
    ) -> WireResult<()> {
        let mut at = vec![(usize::MAX, 0usize); self.children.len()];
        let first_extra = extra.as_ref().map_or(0, |e| e.len());
        for _ in 0..n {
            let pair_start = cur.pos();
            let slot = self.key_slot(cur, 0, ctx)?;
            let value_start = cur.pos();
            cur.skip_value(ctx.depth_left)?;
            match slot.map(|s| self.slots[s]) {
                Some(Some(i)) => {
                    if at[i].0 != usize::MAX {
                        ctx.duplicate_keys += 1;
                    }
                    at[i] = (value_start, pair_start);
                }
                Some(None) => {}
                None => unknown(ctx, extra.as_deref_mut(), pair_start, cur.pos()),
            }
        }
        for (c, (pos, pair_start)) in self.children.iter_mut().zip(at) {
            if pos == usize::MAX {
                c.push_null();
                continue;
            }
            let mut vc = Cursor::at(cur.buf(), pos);
            let outer = std::mem::take(&mut ctx.spilled);
            c.push(&mut vc, ctx)?;
            spill(ctx, outer, extra.as_deref_mut(), pair_start, vc.pos());
        }
        // Keep `_extra` pairs in the record's order, as the fast pass does.
        if let Some(e) = extra {
            e[first_extra..].sort_unstable();
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, field: &Field) -> Option<ArrayRef> {
        let DataType::Struct(fields) = field.data_type() else {
            return None;
        };
        let nulls = self.nulls.finish();
        let arrays = self.finish_children(fields.iter().map(|f| f.as_ref()))?;
        StructArray::try_new(fields.clone(), arrays, nulls).ok().map(|a| Arc::new(a) as ArrayRef)
    }

    /// Builds the children's arrays (one per field, in child order) and resets.
    pub fn finish_children<'f>(&mut self, fields: impl Iterator<Item = &'f Field>) -> Option<Vec<ArrayRef>> {
        self.row = 0;
        self.stamps.iter_mut().for_each(|s| *s = 0);
        self.nulls = NullBufferBuilder::new(0);
        // Finish (and so reset) every child even when one fails.
        let arrays: Vec<Option<ArrayRef>> = self.children.iter_mut().zip(fields).map(|(c, f)| c.finish(f)).collect();
        arrays.into_iter().collect()
    }
}

/// After a child value was pushed: a value that did not fit goes to `extra` as its whole
/// pair when there is an `extra`, and otherwise marks the enclosing row.
#[inline]
fn spill(ctx: &mut RowCtx, outer: bool, extra: Option<&mut ExtraPairs>, from: usize, to: usize) {
    match extra {
        Some(e) if ctx.spilled => {
            e.push((from, to));
            ctx.spilled = outer;
        }
        _ => ctx.spilled |= outer,
    }
}

/// An unknown key's pair goes to `extra`, or marks the row.
#[inline]
fn unknown(ctx: &mut RowCtx, extra: Option<&mut ExtraPairs>, from: usize, to: usize) {
    match extra {
        Some(e) => e.push((from, to)),
        None => ctx.spilled = true,
    }
}
