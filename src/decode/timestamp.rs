//! Timestamp columns: the timestamp extension (-1, 32/64/96-bit) and Fluentd's EventTime
//! (ext 0) as nanoseconds since the epoch, in a `Timestamp(Nanosecond, tz)` array.

use super::primitive::Prim;
use datafusion::arrow::array::{ArrayRef, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use mpq_wire::ext::ext_to_nanos;
use mpq_wire::{Cursor, Head, WireResult};
use std::sync::Arc;

/// Appends the time of the ext value whose header `head` was read; `false` when it is not a
/// time (another ext, an out-of-range time, not an ext).
#[inline]
pub(super) fn push(col: &mut Prim<i64>, cur: &mut Cursor<'_>, head: Head) -> WireResult<bool> {
    Ok(match head {
        Head::Ext(t, _) => match ext_to_nanos(t, cur.payload_of(head)?) {
            Ok(ns) => col.push(Some(ns)),
            Err(_) => false,
        },
        _ => false,
    })
}

/// The array of the times pushed so far, in the field's time zone.
pub(super) fn finish(col: &mut Prim<i64>, field: &Field) -> ArrayRef {
    let tz = match field.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, tz) => tz.clone(),
        _ => None,
    };
    Arc::new(TimestampNanosecondArray::new(col.values(), col.nulls()).with_timezone_opt(tz))
}
