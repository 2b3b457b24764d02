//! Variant columns: a value that fits no typed column is kept as its own MessagePack bytes
//! (marked `mpq.msgpack`), whatever its type, so nothing is lost.

use super::bytes::BytesCol;
use super::column::RowCtx;
use mpq_wire::{Cursor, WireResult};

/// Appends the whole value at `start` (whose header the cursor has read) as it is, leaving the
/// cursor after it; always fits.
#[inline]
pub(super) fn push(col: &mut BytesCol, cur: &mut Cursor<'_>, start: usize, ctx: &RowCtx) -> WireResult<bool> {
    *cur = Cursor::at(cur.buf(), start);
    let bytes = cur.value_bytes(ctx.depth_left)?;
    col.push_bytes(bytes);
    Ok(true)
}
