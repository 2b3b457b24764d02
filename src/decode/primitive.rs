//! Primitive columns: fixed-width values (Int64, UInt64, Decimal128, Float64, and the
//! nanoseconds of timestamps) and booleans, each with a validity bitmap.

use datafusion::arrow::array::{ArrayRef, BooleanArray, BooleanBufferBuilder, NullBufferBuilder};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use std::sync::Arc;

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
    /// Appends a value or NULL; always true (it fits).
    pub fn push(&mut self, v: Option<bool>) -> bool {
        self.values.append(v.unwrap_or(false));
        match v {
            Some(_) => self.nulls.append_non_null(),
            None => self.nulls.append_null(),
        }
        true
    }
    /// Builds the array of everything pushed so far and resets the column.
    pub fn finish(&mut self) -> ArrayRef {
        Arc::new(BooleanArray::new(self.values.finish(), self.nulls.finish()))
    }
}
